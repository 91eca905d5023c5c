/* test_sandbox.c — the script sandbox: budgets stop runaway scripts, the refused parts of
 * the standard library say so clearly, a failed script's call takes the fallback path and
 * the next call runs normally, build errors name file and line. */
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/config.h"
#include "call/call.h"
#include "core/log.h"
#include "lua/script.h"
#include "sim/sim.h"

#include "unit.h"

static char root[256];

static void write_file(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); exit(2); }
    fputs(text, f);
    fclose(f);
}

static hl_policy *build(const char *prompts, char *err, int errlen, hl_config *cfg, hl_policy_src *src)
{
    static char sdir[300], rdir[300];
    snprintf(sdir, sizeof sdir, "%s/scripts", root);
    snprintf(rdir, sizeof rdir, "%s/rules", root);
    hl_config_defaults(cfg);
    cfg->script_instructions = 1000000;
    cfg->script_memory_kb = 1024;
    *src = (hl_policy_src){ .scripts_dir = sdir, .rules_dir = rdir, .prompts_dir = prompts, .cfg = cfg,
                           .open_api = hl_call_lua_open };
    return hl_policy_build(src, err, errlen);
}

/* Runs code on a fresh coroutine of p: 0 ok, 1 error (msg), 2 stopped by a budget (msg). */
static int run_code(hl_policy *p, const char *code, char *msg, size_t len)
{
    lua_State *L = hl_policy_lua(p);
    lua_State *co = lua_newthread(L);
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    hl_lua_run run = { .mem_limit = 1 << 20, .instr_limit = 1000000 };
    msg[0] = 0;
    int rc;
    if (luaL_loadbufferx(co, code, strlen(code), "=test", "t") != LUA_OK) {
        snprintf(msg, len, "%s", lua_tostring(co, -1));
        rc = 1;
    } else {
        int nres = 0;
        int st = hl_policy_resume(p, co, &run, 0, &nres);
        if (run.killed) {
            snprintf(msg, len, "%s", run.why);
            rc = 2;
        } else if (st != LUA_OK) {
            snprintf(msg, len, "%s", lua_tostring(co, -1) ? lua_tostring(co, -1) : "(non-string error)");
            rc = 1;
        } else {
            snprintf(msg, len, "%s", nres > 0 && lua_tostring(co, -1) ? lua_tostring(co, -1) : "");
            rc = 0;
        }
    }
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    return rc;
}

static void expect_refused(hl_policy *p, const char *code, const char *needle)
{
    char msg[512];
    int rc = run_code(p, code, msg, sizeof msg);
    CHECK(rc == 1 && strstr(msg, needle), "%s: expected an error with '%s', got rc %d '%s'", code, needle, rc, msg);
}

static void expect_stopped(hl_policy *p, const char *code, const char *needle)
{
    char msg[512];
    int rc = run_code(p, code, msg, sizeof msg);
    CHECK(rc == 2 && strstr(msg, needle), "%s: expected a stop with '%s', got rc %d '%s'", code, needle, rc, msg);
}

static void expect_ok(hl_policy *p, const char *code, const char *result)
{
    char msg[512];
    int rc = run_code(p, code, msg, sizeof msg);
    CHECK(rc == 0 && !strcmp(msg, result), "%s: expected '%s', got rc %d '%s'", code, result, rc, msg);
}

static const char MAIN[] =
    "function main(call)\n"
    "  call:answer()\n"
    "  if call.caller == 'loop' then while true do end end\n"
    "  if call.caller == 'pcall' then while true do pcall(function() while true do end end) end end\n"
    "  if call.caller == 'eat' then local t = {} for i = 1, 1e9 do t[i] = { i } end end\n"
    "  if call.caller == 'err' then local x = nil; return x.field end\n"
    "  if call.caller == 'global' then leaked = 1 end\n"
    "  if call.caller == 'hangup-loop' then call:on_hangup(function() while true do end end) end\n"
    "  if call.caller == 'store' then\n"
    "    local rows = hl.store.query('SELECT ? + 1 AS n', 41)\n"
    "    call.vars.n = rows[1].n\n"
    "    local none, err = hl.store.query('SELECT * FROM no_such_table')\n"
    "    call.vars.err = none == nil and err:find('no_such_table', 1, true) ~= nil\n"
    "  end\n"
    "  call:play('welcome')\n"
    "  call:set_route('ok')\n"
    "  call:hangup()\n"
    "end\n";

static const char SCENARIOS[] =
    "local function bad(who) return { name = who .. ' takes the fallback', caller = who,\n"
    "  expect = { fallback = true, prompts = { 'sorry' }, not_prompts = { 'welcome' },\n"
    "             route = 'fallback', hangup_cause = 'fallback', ended = 'engine' } } end\n"
    "return { bad('loop'), bad('pcall'), bad('eat'), bad('err'), bad('global'),\n"
    "  { name = 'the next call is normal', caller = 'fine',\n"
    "    expect = { fallback = false, prompts = { 'welcome' }, route = 'ok' } },\n"
    "  { name = 'store queries answer', caller = 'store', expect = { vars = { n = 42, err = true } } },\n"
    "  { name = 'a looping on_hangup is stopped', caller = 'hangup-loop', hangup_at = 100,\n"
    "    expect = { ended = 'caller' } },\n"
    "}\n";

static void test_calls(void)
{
    write_file("scripts/main.lua", MAIN);
    write_file("scripts/sandbox.scenario.lua", SCENARIOS);
    char err[4096];
    hl_config cfg;
    hl_policy_src src;
    hl_policy *p = build(NULL, err, sizeof err, &cfg, &src);
    CHECK(p != NULL, "build: %s", err);
    if (!p)
        return;

    expect_stopped(p, "while true do end", "instruction budget");
    expect_stopped(p, "while true do pcall(function() while true do end end) end", "instruction budget");
    expect_stopped(p, "local t = {} for i = 1, 1e8 do t[i] = ('x'):rep(64) .. i end", "memory cap");
    expect_refused(p, "io.open('/etc/passwd')", "io is not available");
    expect_refused(p, "os.execute('true')", "os.execute is not available");
    expect_refused(p, "os.exit(1)", "os.exit is not available");
    expect_refused(p, "os.getenv('HOME')", "os.getenv is not available");
    expect_refused(p, "dofile('/etc/passwd')", "dofile is not available");
    expect_refused(p, "loadfile('/etc/passwd')", "loadfile is not available");
    expect_refused(p, "debug.getinfo(1)", "debug is not available");
    expect_refused(p, "load('\\27Lua\\84\\0', 'x', 'b')", "only text chunks");
    expect_refused(p, "load('\\27Lua\\84\\0')", "binary");
    expect_refused(p, "string.dump(print)", "string.dump (bytecode) is not available");
    expect_refused(p, "require('../x')", "is not a module name");
    expect_refused(p, "require('/etc/passwd')", "is not a module name");
    expect_refused(p, "require('nosuch')", "not found in scripts/ or rules/");
    expect_refused(p, "string.rep('x', 1e10)", "over the script memory cap");
    expect_refused(p, "string.rep('', 1e12)", "over the script memory cap");
    expect_refused(p, "leaked = 1", "attempt to set global 'leaked'");
    expect_refused(p, "string.upper = nil", "read-only");
    expect_refused(p, "rawset(_G, 'x', 1)", "attempt to call a nil value");
    expect_refused(p, "collectgarbage('stop')", "only \"count\"");
    expect_refused(p, "hl.store.query('select 1')", "only from a call's own script");
    expect_ok(p, "return hl.date('%Y-%m-%d %H:%M', 0)", "1970-01-01 08:00");
    expect_ok(p, "return tostring(os.time{year=2026, month=1, day=14, hour=16, min=59})", "1768381140");
    expect_ok(p, "return hl.date('*t', 1768381140).hour .. ''", "16");
    expect_ok(p, "return tostring(load('return 1 + 1')())", "2");
    expect_ok(p, "local t = {} for i = 1, 1000 do t[i] = i end return tostring(#t)", "1000");
    expect_ok(p, "return string.format('%5.1f|%s', 3.14159, 'x')", "  3.1|x");
    /* pattern functions run in C, outside the budget: a subject over script_pattern_max
     * (default 65536 bytes) is refused, naming the function and the limit.  (The patterns
     * here are cheap on purpose: a backtracking one such as 'a-a-a-a-a-b' on this subject
     * would run for hours if the cap ever broke, instead of failing the check.) */
    expect_refused(p, "local s = ('a'):rep(65537) return tostring(s:find('b'))",
                   "string.find: subject of 65537 bytes is over the limit of 65536 bytes (script_pattern_max");
    expect_refused(p, "return string.match(('a'):rep(70000), 'b')", "string.match: subject of 70000");
    expect_refused(p, "for w in ('a '):rep(40000):gmatch('%a+') do end", "string.gmatch: subject of 80000");
    expect_refused(p, "return (('x'):rep(100000):gsub('x', 'y'))", "string.gsub: subject of 100000");
    expect_ok(p, "return tostring(#(('x'):rep(65536):gsub('x', 'y')))", "65536");
    expect_ok(p, "return tostring(select(2, ('a'):rep(65536):find('a+')))", "65536");
    expect_ok(p, "return string.match('id 110101199003077777', '%d+')", "110101199003077777");
    expect_ok(p, "local n = 0 for w in ('a b c'):gmatch('%a') do n = n + 1 end return tostring(n)", "3");
    expect_ok(p, "return tostring(string.find(12345, 34))", "3");
    expect_refused(p, "return string.find(nil, 'x')", "bad argument #1");

    char report[8192] = "";
    int ok = 0;
    int bad = hl_sim_run_all(p, &src, report, sizeof report, &ok, NULL);
    CHECK(bad == 0 && ok == 8, "scenarios: %d passed, %d failed:\n%s", ok, bad, report);
    hl_policy_unref(p);
}

/* script_pattern_max comes from rules/engine.lua */
static void test_pattern_max_rule(void)
{
    write_file("scripts/main.lua", "function main(call) call:hangup() end\n");
    write_file("rules/engine.lua", "return { script_pattern_max = 2048 }\n");
    char err[4096], rdir[300];
    hl_config cfg;
    hl_config_defaults(&cfg);
    snprintf(rdir, sizeof rdir, "%s/rules", root);
    CHECK(hl_config_load_rules(&cfg, rdir, err, sizeof err) == 0 && cfg.script_pattern_max == 2048,
          "script_pattern_max read: %s", err);
    char sdir[300];
    snprintf(sdir, sizeof sdir, "%s/scripts", root);
    hl_policy_src src = { .scripts_dir = sdir, .rules_dir = rdir, .cfg = &cfg, .open_api = hl_call_lua_open };
    hl_policy *p = hl_policy_build(&src, err, sizeof err);
    CHECK(p != NULL, "build: %s", err);
    if (p) {
        expect_refused(p, "return (('x'):rep(2049):find('y'))", "over the limit of 2048 bytes");
        expect_ok(p, "return tostring(('x'):rep(2048):find('x$'))", "2048");
        hl_policy_unref(p);
    }
    write_file("rules/engine.lua", "return { script_pattern_max = 10 }\n");
    hl_config_defaults(&cfg);
    CHECK(hl_config_load_rules(&cfg, rdir, err, sizeof err) != 0 && strstr(err, "script_pattern_max"),
          "a tiny script_pattern_max is refused: %s", err);
    remove(strcat(rdir, "/engine.lua"));
}

/* Writes scenarios as scripts/sandbox.scenario.lua, builds the policy of scripts/main.lua
 * and runs them: all `want` must pass. */
static void run_scenarios(const char *what, const char *scenarios, int want)
{
    write_file("scripts/sandbox.scenario.lua", scenarios);
    char err[4096];
    hl_config cfg;
    hl_policy_src src;
    hl_policy *p = build(NULL, err, sizeof err, &cfg, &src);
    CHECK(p != NULL, "%s: build: %s", what, err);
    if (!p)
        return;
    char report[8192] = "";
    int ok = 0;
    int bad = hl_sim_run_all(p, &src, report, sizeof report, &ok, NULL);
    CHECK(bad == 0 && ok == want, "%s scenarios: %d passed, %d failed:\n%s", what, ok, bad, report);
    hl_policy_unref(p);
}

static void test_fallback_function(void)
{
    write_file("scripts/main.lua",
               "function main(call) call:answer() error('broken on purpose') end\n"
               "function fallback(call, err)\n"
               "  call.vars.err_seen = err:find('broken on purpose', 1, true) ~= nil\n"
               "  if call.caller == 'twice' then while true do end end\n"
               "  call:set_route('fallback:agent')\n"
               "  call:play('goodbye')\n"
               "end\n");
    run_scenarios("fallback",
                  "return { { name = 'the policy fallback runs', caller = 'once',\n"
                  "  expect = { fallback = true, route = 'fallback:agent', prompts = { 'goodbye' },\n"
                  "             not_prompts = { 'sorry' }, vars = { err_seen = true } } },\n"
                  "{ name = 'a failing fallback ends in the apology', caller = 'twice',\n"
                  "  expect = { fallback = true, prompts = { 'sorry' }, hangup_cause = 'fallback' } } }\n", 2);
}

static void test_build_errors(void)
{
    char err[4096];
    hl_config cfg;
    hl_policy_src src;
    write_file("scripts/main.lua", "function main(call)\n  call:answer(\nend\n");
    hl_policy *p = build(NULL, err, sizeof err, &cfg, &src);
    CHECK(!p && strstr(err, "scripts/main.lua:3:"), "syntax error should name main.lua:3, got: %s", err);

    write_file("scripts/main.lua", "local x = 1\n");
    p = build(NULL, err, sizeof err, &cfg, &src);
    CHECK(!p && strstr(err, "must define a global function main"), "missing main: %s", err);

    char prompts[300];
    snprintf(prompts, sizeof prompts, "%s/prompts", root);
    write_file("prompts/known.wav", "not really a wav, only its existence counts");
    write_file("scripts/main.lua",
               "local m = { name = 'm', prompt = 'known',\n"
               "  invalid_prompt = 'no_such_prompt', keys = {} }\n"
               "function main(call)\n"
               "  call:play{ 'known', 'tone:beep', 'silence:200' }\n"
               "  call:play('Bad Name')\n"
               "end\n");
    write_file("scripts/sandbox.scenario.lua", "return {}\n");
    p = build(prompts, err, sizeof err, &cfg, &src);
    CHECK(!p && strstr(err, "scripts/main.lua:2: prompt 'no_such_prompt' does not exist"),
          "missing prompt should be named with its line, got: %s", err);
    CHECK(strstr(err, "scripts/main.lua:5: 'Bad Name' is not a valid prompt name"), "bad name: %s", err);
    CHECK(!strstr(err, "'known'"), "an existing prompt was flagged: %s", err);
}

/* issue 6: hl.pin_hash / hl.pin_verify (engine/call/call_pwhash.c) in a simulated call: a
 * hash carries the Argon2id parameters of the config, verifies its own secret only, and a
 * string that is no hash matches nothing. */
static void test_pin_hash(void)
{
    write_file("scripts/main.lua",
               "function main(call)\n"
               "  local h = hl.pin_hash('220102198503151237:123456')\n"
               "  call.vars.params = h:match('^%$argon2id%$v=19%$(m=%d+,t=%d+,p=1)%$')\n"
               "  call.vars.right = hl.pin_verify(h, '220102198503151237:123456')\n"
               "  call.vars.wrong = hl.pin_verify(h, '220102198503151237:123457')\n"
               "  call.vars.junk = hl.pin_verify('bc174b5f', '220102198503151237:123456')\n"
               "  call.vars.salted = h ~= hl.pin_hash('220102198503151237:123456')\n"
               "end\n");
    hl_config cfg;
    hl_config_defaults(&cfg); /* what build() gives the policy */
    char scen[600];
    snprintf(scen, sizeof scen,
             "return { { name = 'pin hash', expect = { vars = { params = 'm=%d,t=%d,p=1', right = true,\n"
             "  wrong = false, junk = false, salted = true } } } }\n", cfg.pin_hash_mem_kb, cfg.pin_hash_ops);
    run_scenarios("pin hash", scen, 1);
    write_file("scripts/sandbox.scenario.lua", "return {}\n");
}

/* issue 6: a centre's conventions are its policy's, not the engine's.  The engine builds
 * the call:menu example of docs/lua-api.md (no `offers`); a policy that declares
 * check_sources (the 12333 one: scripts/ivr/check.lua) refuses it, naming file and line. */
static void test_policy_checks(void)
{
    char err[4096], prompts[300];
    hl_config cfg;
    hl_policy_src src;
    snprintf(prompts, sizeof prompts, "%s/prompts", root);
    write_file("prompts/known.wav", "not really a wav, only its existence counts");
    static const char menu_main[] =
        "function main(call)\n"
        "  call:menu{ name = 'm', prompt = 'known', keys = { ['1'] = 'one' } }\n"
        "end\n";
    write_file("scripts/main.lua", menu_main);
    hl_policy *p = build(prompts, err, sizeof err, &cfg, &src);
    CHECK(p != NULL, "a menu without offers is the policy's business, not the engine's: %s", err);
    hl_policy_unref(p);

    char text[sizeof menu_main + 200];
    snprintf(text, sizeof text, "%scheck_sources = function(files) return { 'scripts/main.lua:1: nope' } end\n",
             menu_main);
    write_file("scripts/main.lua", text);
    p = build(prompts, err, sizeof err, &cfg, &src);
    CHECK(!p && strstr(err, "scripts/main.lua:1: nope"), "check_sources' problems refuse the build: %s", err);

    FILE *f = fopen("scripts/ivr/check.lua", "r");   /* the 12333 flows' own check */
    static char module[32768];
    size_t n = f ? fread(module, 1, sizeof module - 1, f) : 0;
    if (f)
        fclose(f);
    module[n] = 0;
    CHECK(n > 0, "scripts/ivr/check.lua not found (run from the repository root)");
    char d[400];
    snprintf(d, sizeof d, "%s/scripts/ivr", root);
    mkdir(d, 0755);
    write_file("scripts/ivr/check.lua", module);
    snprintf(text, sizeof text, "%scheck_sources = require('ivr.check').sources\n", menu_main);
    write_file("scripts/main.lua", text);
    p = build(prompts, err, sizeof err, &cfg, &src);
    CHECK(!p && strstr(err, "scripts/main.lua:2: menu 'm' does not say which keys its prompt offers"),
          "the 12333 check names the menu without offers: %s", err);
    snprintf(text, sizeof text, "%s", menu_main);
    char *keys = strstr(text, "keys =");
    static const char offers[] = "offers = '12', ";
    memmove(keys + strlen(offers), keys, strlen(keys) + 1);
    memcpy(keys, offers, strlen(offers));
    strcat(text, "check_sources = require('ivr.check').sources\n");
    write_file("scripts/main.lua", text);
    p = build(prompts, err, sizeof err, &cfg, &src);
    CHECK(!p && strstr(err, "scripts/main.lua:2: menu 'm' offers key 2 but no branch handles it"),
          "offers and keys disagree: %s", err);
}

TEST_IMPL(sandbox)
{
    hl_log_set_level(HL_LOG_ERROR); /* the script errors are expected; keep them visible */
    snprintf(root, sizeof root, "/tmp/hl-sandbox-XXXXXX");
    if (!mkdtemp(root))
        return 2;
    char d[400];
    snprintf(d, sizeof d, "%s/scripts", root); mkdir(d, 0755);
    snprintf(d, sizeof d, "%s/rules", root); mkdir(d, 0755);
    snprintf(d, sizeof d, "%s/prompts", root); mkdir(d, 0755);
    test_calls();
    test_pattern_max_rule();
    test_fallback_function();
    test_build_errors();
    test_policy_checks();
    test_pin_hash();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        printf("note: could not remove %s\n", root);
    return 0;
}
