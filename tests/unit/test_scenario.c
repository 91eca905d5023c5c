/* test_scenario.c — scenario files are strict, and the calendar refuses a year it lacks:
 * a misspelt key (in the scenario, its expect, a keys entry) and a route no set_route of the
 * policy can produce are refused before the call runs, naming file:line; prompt_ms gives a
 * prompt's simulated length; a policy whose rules/calendar.lua has no entry for the current
 * year fails to build, naming the year; plain rule tests (*_test.lua) pass, fail with
 * file:line, stop when they run too long, and a failing one fails the reload's self-test.
 * Runs on the repository's scripts/ and rules/. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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

/* A rules/NAME_test.lua: each case passes or fails on its own, with the error's file:line. */
static void test_rule_tests(hl_policy *p, const hl_policy_src *src)
{
    char path[128], report[8192];
    snprintf(path, sizeof path, "%s/t_test.lua", dir);
    write_file(path,
        "local calendar = require 'calendar'\n"
        "return {\n"
        "  { name = 'passes', run = function() assert(calendar.hours and utf8.len('您好') == 2) end },\n"
        "  { name = 'fails', run = function() error('expected 1, got 2') end },\n"
        "  { name = 'loops', run = function() while true do end end },\n"
        "  { name = 'no run' },\n"
        "}\n");
    report[0] = 0;
    int ok = 0;
    int bad = hl_sim_run_file(p, src, path, report, sizeof report, &ok, NULL, false);
    char want[400];
    snprintf(want, sizeof want, "FAIL %s: fails: %s:4: expected 1, got 2", path, path);
    CHECK(ok == 1 && bad == 3, "one case passes, three fail (got %d, %d): %s", ok, bad, report);
    CHECK(strstr(report, want) != NULL, "a failing case names file:line and why: %s", report);
    CHECK(strstr(report, "loops: test case runs too long") != NULL, "a runaway case is stopped: %s", report);
    CHECK(strstr(report, "case 4 needs name") != NULL, "a case without run is refused: %s", report);
}

/* A policy whose rules/ hold a failing *_test.lua fails its self-test (a reload refuses it),
 * and the file is no module a script could require. */
static void test_rule_test_refuses_reload(void)
{
    char scripts[128], rules[128], path[160], err[4096], report[4096];
    snprintf(scripts, sizeof scripts, "%s/mini-scripts", dir);
    snprintf(rules, sizeof rules, "%s/mini-rules", dir);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' '%s'", scripts, rules);
    if (system(cmd) != 0) {
        CHECK(0, "could not make %s", scripts);
        return;
    }
    snprintf(path, sizeof path, "%s/main.lua", scripts);
    write_file(path, "assert(not pcall(require, 'limits_test'), 'a rule test is no module')\n"
                     "function main(call) call:hangup() end\n");
    snprintf(path, sizeof path, "%s/limits_test.lua", rules);
    write_file(path, "return { { name = 'broken rule', run = function() error('limit 3, rule says 4') end } }\n");
    hl_config cfg;
    hl_policy_src src;
    hl_policy *p = build(scripts, rules, &cfg, &src, err, sizeof err);
    CHECK(p != NULL, "the small policy builds (its test is no module): %s", err);
    if (!p)
        return;
    report[0] = 0;
    int passed = 0;
    int failed = hl_sim_selftest(p, &src, report, sizeof report, &passed);
    CHECK(failed == 1 && strstr(report, "broken rule") && strstr(report, "limit 3, rule says 4"),
          "the failing rule test fails the self-test: %d failed: %s", failed, report);
    hl_policy_unref(p);
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
        test_rule_tests(p, &src);
        hl_policy_unref(p);
    }
    test_rule_test_refuses_reload();
    test_calendar_year();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("note: could not remove %s\n", dir);
    return 0;
}
