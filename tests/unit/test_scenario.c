/* test_scenario.c — scenario files are strict, and the calendar refuses a year it lacks:
 * a misspelt key (in the scenario, its expect, a keys entry) and a route no set_route of the
 * policy can produce are refused before the call runs, naming file:line; prompt_ms gives a
 * prompt's simulated length; a policy whose rules/calendar.lua has no entry for the current
 * year fails to build, naming the year; a rule's table tests (NAME_test.lua) report each
 * case, with the path of the first difference; a rule change (rules/attendance.lua's late-arrival
 * limit from 3 to 4) passes the tests and changes what the rule computes, and a change that
 * breaks a tested rule fails the reload's self-test.  Runs on the repository's scripts/ and rules/. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <lauxlib.h>
#include <lua.h>
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "lua/script.h"
#include "call/call.h"
#include "sim/sim.h"

#include "unit.h"


static char dir[] = "/tmp/hl-test-scenario-XXXXXX";

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); exit(2); }
    fputs(text, f);
    fclose(f);
}

static hl_policy *build(const char *scripts, const char *rules, hl_config *cfg, hl_policy_src *src,
                        char *err, int errlen)
{
    hl_config_defaults(cfg);
    *src = (hl_policy_src){ .scripts_dir = scripts, .rules_dir = rules, .cfg = cfg,
                            .open_api = hl_call_lua_open };
    return hl_policy_build(src, err, errlen);
}

/* Runs the scenario text as a file of the repository's policy; returns the failures. */
static int run_text(hl_policy *p, const hl_policy_src *src, const char *text, char *report, int len)
{
    char path[128];
    snprintf(path, sizeof path, "%s/t.scenario.lua", dir);
    write_file(path, text);
    report[0] = 0;
    int ok = 0;
    return hl_sim_run_file(p, src, path, report, len, &ok, NULL, false);
}

/* Runs text; true when nbad scenarios fail and the report says "FILE:line: what". */
static bool refused(hl_policy *p, const hl_policy_src *src, const char *text, int nbad, int line,
                    const char *what, char *report, int len)
{
    char want[256];
    snprintf(want, sizeof want, "%s/t.scenario.lua:%d: %s", dir, line, what);
    return run_text(p, src, text, report, len) == nbad && strstr(report, want) != NULL;
}

static void test_strict(hl_policy *p, const hl_policy_src *src)
{
    char report[8192];
    const char *misspelt_expect =
        "return {\n"
        "  { name = 'misspelt expect key', keys = { '0' },\n"
        "    expect = { rout = 'queue:province.general' } },\n"
        "}\n";
    CHECK(refused(p, src, misspelt_expect, 1, 3, "unknown key 'rout' in expect", report, sizeof report),
          "a misspelt expect key is refused with file:line: %s", report);
    const char *misspelt_scenario =
        "return {\n"
        "  { name = 'misspelt scenario key',\n"
        "    kyes = { '0' } },\n"
        "  { name = 'misspelt keys entry', keys = { { key = '0', aftr = 10 } } },\n"
        "}\n";
    CHECK(refused(p, src, misspelt_scenario, 2, 3, "unknown key 'kyes' in the scenario", report, sizeof report),
          "a misspelt scenario key is refused with file:line: %s", report);
    CHECK(refused(p, src, misspelt_scenario, 2, 4, "unknown key 'aftr' in keys[", report, sizeof report),
          "a misspelt key of a keys entry is refused: %s", report);
    const char *unknown_route =
        "return {\n"
        "  { name = 'a route no set_route gives', keys = { '0' },\n"
        "    expect = {\n"
        "      route = 'queu:province.general' } },\n"
        "}\n";
    CHECK(refused(p, src, unknown_route, 1, 4, "expect.route 'queu:province.general' is no route", report,
                  sizeof report),
          "an unknown route is refused with file:line: %s", report);

    /* a prefix the policy builds ("queue:" .. name), a literal, the engine's own: accepted */
    int bad = run_text(p, src,
        "return {\n"
        "  { name = 'prefix', keys = { '0' }, caller = 'anonymous',\n"
        "    expect = { route = 'queue:province.general' } },\n"
        "  { name = 'literal', keys = { { hangup = true } }, expect = { route = 'hangup', cdr = { route = 'hangup' } } },\n"
        "}\n", report, sizeof report);
    CHECK(bad == 0, "routes the policy sets pass: %s", report);
}

/* prompt_ms: a hang-up timed to the welcome's measured length ends the call at its end. */
static void test_prompt_ms(hl_policy *p, const hl_policy_src *src)
{
    char report[8192];
    int bad = run_text(p, src,
        "local ms = prompt_ms('welcome_1', { 'province_name', 'welcome_2' })\n"
        "assert(math.type(ms) == 'integer' and ms > 0, 'prompt_ms gives whole ms')\n"
        "assert(prompt_ms('silence:250') == 250 and prompt_ms() == 0, 'silences and nothing')\n"
        "return { { name = 'hang up as the welcome ends', hangup_at = ms - 1,\n"
        "           expect = { ended = 'caller', not_prompts = { 'main_menu', 'hours_info' } } } }\n",
        report, sizeof report);
    CHECK(bad == 0, "prompt_ms times a hang-up into the welcome: %s", report);
}

/* rules/calendar.lua without this year's entry: the policy does not build, naming the year. */
static void test_calendar_year(void)
{
    time_t now = time(NULL) + HL_CENTRE_UTC_OFFSET;
    struct tm tm;
    gmtime_r(&now, &tm);
    int year = tm.tm_year + 1900;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp -r scripts rules '%s'/ && sed -i 's/^  \\[%d\\] = {/  [1900] = {/' '%s/rules/calendar.lua' "
             "&& ! grep -q '\\[%d\\] = {' '%s/rules/calendar.lua'", dir, year, dir, year, dir);
    if (system(cmd) != 0) {
        CHECK(0, "could not copy the policy and drop %d from rules/calendar.lua", year);
        return;
    }
    char scripts[128], rules[128], err[4096], want[64];
    snprintf(scripts, sizeof scripts, "%s/scripts", dir);
    snprintf(rules, sizeof rules, "%s/rules", dir);
    hl_config cfg;
    hl_policy_src src;
    hl_policy *p = build(scripts, rules, &cfg, &src, err, sizeof err);
    snprintf(want, sizeof want, "no entry for %d", year);
    CHECK(!p && strstr(err, "rules/calendar.lua") && strstr(err, want),
          "a calendar without %d is refused, naming the year: %s", year, p ? "(built)" : err);
    if (p)
        hl_policy_unref(p);
}

static void collect_line(void *arg, bool ok, const char *text)
{
    size_t n = strlen(arg);
    snprintf((char *)arg + n, 8192 - n, "%s\n", text);
}

/* A table test module beside the repository's rules: passes, a deep difference, a missing
 * want, an expected error. */
static void test_table_tests(void)
{
    char cmd[1024], rules[160], scripts[160], path[200], err[4096];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/tt' && cp -r scripts rules '%s/tt/'", dir, dir);
    if (system(cmd) != 0) {
        CHECK(0, "could not copy the policy to %s/tt", dir);
        return;
    }
    snprintf(scripts, sizeof scripts, "%s/tt/scripts", dir);
    snprintf(rules, sizeof rules, "%s/tt/rules", dir);
    snprintf(path, sizeof path, "%s/t_test.lua", rules);
    write_file(path,
        "local calendar = require 'calendar'\n"
        "return {\n"
        "  { name = 'equal', got = { 1, { a = 2 } }, want = { 1, { a = 2 } } },\n"
        "  { name = 'a rule', run = function() return calendar.summer.from end, want = { month = 5, day = 1 } },\n"
        "  { name = 'differs', got = { x = { 1, 3 } }, want = { x = { 1, 2 } } },\n"
        "  { name = 'no want', got = 1, wnat = 1 },\n"
        "  { name = 'raises', run = function() error('bad input') end, error = 'bad input' },\n"
        "}\n");
    hl_config cfg;
    hl_policy_src src;
    hl_policy *p = build(scripts, rules, &cfg, &src, err, sizeof err);
    CHECK(p != NULL, "the policy with a table test builds: %s", err);
    if (!p)
        return;
    static char report[8192];
    report[0] = 0;
    int passed = 0;
    int failed = hl_policy_run_tests(p, "t_test", "rules/t_test.lua", collect_line, report, &passed);
    CHECK(passed == 3 && failed == 2, "3 cases pass, 2 fail (got %d, %d): %s", passed, failed, report);
    CHECK(strstr(report, "FAIL rules/t_test.lua: differs: x[2]: got 3, want 2") != NULL,
          "a difference names its path and both values: %s", report);
    CHECK(strstr(report, "FAIL rules/t_test.lua: no want: the case has neither want nor error") != NULL,
          "a case without want fails: %s", report);
    hl_policy_unref(p);
}

/* The policy in DIR/NAME with rules/attendance.lua edited by the sed expression; NULL (and a
 * failed check) if it does not build. */
static hl_policy *edited_policy(const char *name, const char *sed, hl_config *cfg, hl_policy_src *src,
                                char *scripts, char *rules, size_t len)
{
    char cmd[1024], err[4096];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/%s' && cp -r scripts rules '%s/%s/' && sed -i '%s' '%s/%s/rules/attendance.lua'",
             dir, name, dir, name, sed, dir, name);
    if (system(cmd) != 0) {
        CHECK(0, "could not copy and edit the policy: %s", cmd);
        return NULL;
    }
    snprintf(scripts, len, "%s/%s/scripts", dir, name);
    snprintf(rules, len, "%s/%s/rules", dir, name);
    hl_policy *p = build(scripts, rules, cfg, src, err, sizeof err);
    CHECK(p != NULL, "the edited policy (%s) builds: %s", sed, err);
    return p;
}

/* What the policy's attendance rule makes of 3 late arrivals (3 minutes) in a month: the
 * days of absence, or -1. */
static double three_lates(hl_policy *p)
{
    lua_State *L = hl_policy_lua(p);
    int top = lua_gettop(L);
    double v = -1;
    if (luaL_loadstring(L, "return require('attendance').month_penalties{ late_count = 3, late_minutes = 3, "
                           "early_minutes = 0 }.late") == LUA_OK && lua_pcall(L, 0, 1, 0) == LUA_OK)
        v = lua_tonumber(L, -1);
    lua_settop(L, top);
    return v;
}

static void test_rule_change(hl_policy *current)
{
    char scripts[160], rules[160];
    static char report[16384];
    hl_config cfg;
    hl_policy_src src;
    double before = three_lates(current);
    CHECK(before == 0.5, "with the book's limit (3), the 3rd late arrival is half a day's absence: %g", before);
    hl_policy *p = edited_policy("limit4", "s/lateness = { count = 3,/lateness = { count = 4,/", &cfg, &src,
                                 scripts, rules, sizeof scripts);
    if (p) {
        report[0] = 0;
        int passed = 0, failed = hl_policy_run_tests(p, "attendance_test", "rules/attendance_test.lua",
                                                     collect_line, report, &passed);
        CHECK(failed == 0 && passed > 0, "the limit raised to 4: the tests follow the rule (%d passed): %s",
              passed, report);
        CHECK(three_lates(p) == 0, "the limit raised to 4: 3 late arrivals are no absence (%g)", three_lates(p));
        hl_policy_unref(p);
    }
    p = edited_policy("broken", "s/t.late_count >= late.count/t.late_count > late.count/", &cfg, &src,
                      scripts, rules, sizeof scripts);
    if (p) {
        report[0] = 0;
        int passed = 0, failed = hl_sim_selftest(p, &src, report, sizeof report, &passed);
        CHECK(failed > 0 && strstr(report, "/rules/attendance_test.lua: 第二章 一(八)3: the 3rd late arrival") != NULL,
              "a rule that no longer does what its tests say fails the reload's self-test: %d failed:\n%s", failed, report);
        hl_policy_unref(p);
    }
}

TEST_IMPL(scenario)
{
    hl_log_set_level(HL_LOG_ERROR);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    hl_config cfg;
    hl_policy_src src;
    char err[4096];
    hl_policy *p = build("scripts", "rules", &cfg, &src, err, sizeof err);
    CHECK(p != NULL, "the repository's policy builds: %s", err);
    if (p) {
        src.prompts_dir = access("build/prompts", F_OK) == 0 ? "build/prompts" : NULL;
        test_strict(p, &src);
        test_prompt_ms(p, &src);
        test_rule_change(p);
        hl_policy_unref(p);
    }
    test_calendar_year();
    test_table_tests();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("note: could not remove %s\n", dir);
    return 0;
}
