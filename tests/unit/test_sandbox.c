/* test_sandbox.c — the script sandbox: budgets stop runaway scripts, the refused parts of
 * the standard library say so clearly, a failed script's call takes the fallback path and
 * the next call runs normally, build errors name file and line. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "core/config.h"
#include "call/call.h"
#include "core/log.h"
#include "lua/bounded.h"
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
    /* 4 KiB a step: the memory cap is reached in a few thousand steps, long before the
     * instruction budget or the CPU check could stop it, however loaded the machine is. */
    expect_stopped(p, "local t = {} for i = 1, 1e8 do t[i] = ('x'):rep(4096) .. i end", "memory cap");
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
    /* a subject over script_pattern_max (default 65536 bytes) is refused, naming the
     * function and the limit (the matcher's steps are budgeted too: test_pattern_budget) */
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
    write_file("rules/engine.lua", "local n = 0\nwhile true do n = n + 1 end\n");
    CHECK(hl_config_load_rules(&cfg, rdir, err, sizeof err) != 0 && strstr(err, "engine.lua:2: runs too long"),
          "a loop in engine.lua is stopped: %s", err);
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

/* ---- the bounded pattern matcher (engine/lua/pattern.c) and the finalizer refusal ------ */

/* A policy whose main() only hangs up, to run code on (NULL, after a failed CHECK, if the
 * build fails). */
static hl_policy *build_hangup_only(hl_config *cfg, hl_policy_src *src)
{
    char err[4096];
    write_file("scripts/main.lua", "function main(call) call:hangup() end\n");
    hl_policy *p = build(NULL, err, sizeof err, cfg, src);
    CHECK(p != NULL, "build: %s", err);
    return p;
}

/* Runs every case through string.find/match/gmatch/gsub and returns one line per case:
 * the results (strings %q-quoted) or the error.  Run in a plain state it gives the real
 * string library's answers, in a policy snapshot the bounded matcher's. */
static const char PATTERN_CASES[] =
    "local Z = '\\0'\n"
    "local cases = {\n"
    "  {'find', 'hello world', 'o w'}, {'find', 'hello world', 'o', 6}, {'find', 'hello', 'l+'},\n"
    "  {'find', 'hello', '^h'}, {'find', 'hello', '^e'}, {'find', 'hello', 'o$'},\n"
    "  {'find', 'hel$lo', 'l$l'}, {'find', '', ''}, {'find', 'abc', '', 10}, {'find', 'abc', '', 4},\n"
    "  {'find', 'abc', 'b', -1}, {'find', 'abc', 'b', -10}, {'find', 'abc', 'c', 0},\n"
    "  {'find', 'a.b', '.', 1, true}, {'find', 'a+b', '+', 1, true}, {'find', 'a+b', '+'},\n"
    "  {'find', 'a' .. Z .. 'b', Z}, {'find', 'a' .. Z .. 'b', '%z'}, {'find', 'x' .. Z .. '.y', Z .. '.'},\n"
    "  {'find', 12345, 34}, {'find', 'aaab', 'a-b'}, {'find', 'aaa', 'a-b'}, {'find', 'abc', '.-c'},\n"
    "  {'find', '  x1_Y ', '%s*(%w+)'}, {'find', 'x=10, y=20', '(%a)=(%d+)', 3},\n"
    "  {'find', 'THE (quick) fox', '%((%a+)%)'}, {'find', 'hello', '()ll()'},\n"
    "  {'match', 'key = value', '^(%w+)%s*=%s*(%w+)$'}, {'match', 'f(a(b)c)d', '%b()'},\n"
    "  {'match', 'THE (quick) fox', '%f[%a]%a+', 5}, {'match', 'THE quick', '%f[%l]%a+'},\n"
    "  {'match', 'abcabc', '(abc)%1'}, {'match', 'abcabd', '(abc)%1'}, {'match', '[x]', '[%[]'},\n"
    "  {'match', 'a]b', '[]]'}, {'match', 'a-b', '[a-]+'}, {'match', 'b-a', '[^a-]+'},\n"
    "  {'match', '0x1F', '%x+', 3}, {'match', 'caf\\195\\169!', '[\\128-\\255]+'},\n"
    "  {'match', 'x9', '[^%d]'}, {'match', 'abc', 'a?b'}, {'match', 'bc', 'a?b'},\n"
    "  {'match', 'hello', 'l*'}, {'match', 'hello', 'x*'}, {'match', 'hello', 'h-'},\n"
    "  {'match', 'ab12', '%D+'}, {'match', 'tab\\tx', '%c'}, {'match', 'a.b', '%.(.)'},\n"
    "  {'match', 'Hello', '%u%l*'}, {'match', 'hello-there', '[%a-]+'}, {'match', 'a,b', '%p'},\n"
    "  {'match', ' abc ', '%g+'}, {'match', '123', '^%d+$'}, {'match', '1a', '^%d+$'},\n"
    "  {'match', 'id 110101199003077777', '%d+'}, {'match', 'AbC', '%U+'}, {'match', 'x  y', '%S+$'},\n"
    "  {'match', 'end', 'd$'}, {'match', 'a$b', 'a$b'}, {'match', 'abc', '(a)(b)(c)'},\n"
    "  {'match', 'abc', '((a)(b))'}, {'match', 'abc', '()b()'}, {'match', 'aXb', 'a%Wb'},\n"
    "  {'match', 'THE END', '%f[%z]'}, {'match', '((x))', '%b()', 2}, {'match', 'a' .. Z .. 'b', '[%z]'},\n"
    "  {'match', 'a', '%'}, {'match', 'a', '[a'}, {'match', 'a', '[^'}, {'match', 'a', '(a'},\n"
    "  {'match', 'a', 'a)'}, {'match', 'a', '%b'}, {'match', 'a', '%ba'}, {'match', 'a', '%f'},\n"
    "  {'match', 'a', '%fa'}, {'match', 'a', '%1'}, {'match', 'a', '(a%1)'}, {'match', 'a', '(()'},\n"
    "  {'match', ('a'):rep(40), ('(a)'):rep(33)}, {'match', ('a'):rep(250), ('a?'):rep(250)},\n"
    "  {'match', 'aaa', '()%1'},\n"
    "  {'gmatch', 'one two  three', '%a+'}, {'gmatch', 'k1=v1, k2=v2', '(%w+)=(%w+)'},\n"
    "  {'gmatch', 'abc', ''}, {'gmatch', 'abc', '()'}, {'gmatch', 'a,b,,c', '([^,]*)'},\n"
    "  {'gmatch', 'abcabc', 'b', 3}, {'gmatch', 'abc', 'x*'}, {'gmatch', 'abc', '.', -2},\n"
    "  {'gsub', 'hello world', 'o', '0'}, {'gsub', 'hello world', '(o)', '[%1]'},\n"
    "  {'gsub', 'hello', '', '-'}, {'gsub', 'abc', '%w', '%0%0'}, {'gsub', 'abc', 'b', '%%'},\n"
    "  {'gsub', 'hello world', '%w+', {hello = 'HI'}}, {'gsub', 'hello world', '%w+', string.upper},\n"
    "  {'gsub', 'hello', 'l', 'L', 1}, {'gsub', 'abc', '^a', 'X'}, {'gsub', 'abc', '^b', 'X'},\n"
    "  {'gsub', 'abc', 'b', function() return false end}, {'gsub', 'abc', 'b', '%2'},\n"
    "  {'gsub', 'abc', 'b', '%x'}, {'gsub', 'abc', 'b', function() return {} end},\n"
    "  {'gsub', 'a,b,,c', '[^,]*', 'x'}, {'gsub', 'abc', '()', '%1'}, {'gsub', 'x', 'x', 5},\n"
    "  {'gsub', 'abc', 'b', true}, {'gsub', 'abc', '(b)', {b = 7}}, {'gsub', 'a b', '%s*', '_'},\n"
    "  {'gsub', 'abc', '.', {a = 1, b = true}},\n"
    "}\n"
    "local function show(...)\n"
    "  local out = {}\n"
    "  for i = 1, select('#', ...) do\n"
    "    local v = select(i, ...)\n"
    "    out[#out + 1] = type(v) == 'string' and string.format('%q', v) or tostring(v)\n"
    "  end\n"
    "  return table.concat(out, ',')\n"
    "end\n"
    "local function run(c)\n"
    "  if c[1] == 'gmatch' then\n"
    "    local all = {}\n"
    "    for a, b in string.gmatch(c[2], c[3], c[4]) do all[#all + 1] = show(a, b) end\n"
    "    return table.concat(all, ';')\n"
    "  end\n"
    "  return show(string[c[1]](c[2], c[3], c[4], c[5]))\n"
    "end\n"
    "local lines = {}\n"
    "for i, c in ipairs(cases) do\n"
    "  local ok, r = pcall(run, c)\n"
    "  lines[i] = i .. ' ' .. c[1] .. ': ' .. (ok and r or ('error ' .. tostring(r)))\n"
    "end\n"
    "return table.concat(lines, '\\n')\n";

static void test_pattern_same_as_lua(void)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    char want[16384] = "";
    if (luaL_loadbufferx(L, PATTERN_CASES, strlen(PATTERN_CASES), "=test", "t") != LUA_OK ||
        lua_pcall(L, 0, 1, 0) != LUA_OK)
        CHECK(0, "the real string library on the cases: %s", lua_tostring(L, -1));
    else
        snprintf(want, sizeof want, "%s", lua_tostring(L, -1));
    lua_close(L);

    write_file("scripts/sandbox.scenario.lua", "return {}\n");
    hl_config cfg;
    hl_policy_src src;
    hl_policy *p = build_hangup_only(&cfg, &src);
    if (!p)
        return;
    static char got[16384];
    int rc = run_code(p, PATTERN_CASES, got, sizeof got);
    CHECK(rc == 0, "the bounded matcher on the cases: rc %d %s", rc, got);
    /* first differing line, for a readable failure */
    const char *a = want, *b = got;
    int line = 1;
    while (*a && *a == *b) {
        if (*a == '\n')
            line++;
        a++, b++;
    }
    CHECK(!strcmp(want, got) && strlen(want) > 1000, "case line %d differs: real '%.120s' / bounded '%.120s'",
          line, a, b);
    hl_policy_unref(p);
}

static double elapsed_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* CPU seconds this process used since t0 (CLOCK_PROCESS_CPUTIME_ID): what a runaway script
 * costs the loop, whatever else the machine is doing meanwhile. */
static double cpu_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    return (t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The patterns that held the loop for seconds to hours, and loops of C-side copies, now
 * spend the instruction budget and are stopped like a loop (also inside pcall, also where a
 * yield is impossible). */
static void test_pattern_budget(void)
{
    hl_config cfg;
    hl_policy_src src;
    hl_policy *p = build_hangup_only(&cfg, &src);
    if (!p)
        return;
    static const char *const hostile[] = {
        "return ('a'):rep(65536):find('a-b')",
        "return ('a'):rep(65536):find('.-.-b')",
        "return ('a'):rep(65536):match('(.*)%1b')",
        "return ('a'):rep(65536):gsub('a-b', 'x')",
        "for w in ('a'):rep(65536):gmatch('.-.-b') do end",
        "return ('(('):rep(30000):find('%b()')",
        "return ('a'):rep(65536):find(('a'):rep(32768) .. 'b', 1, true)",
        "while true do pcall(string.find, ('a'):rep(65536), '.-.-b') end",
        "table.sort({3, 2, 1}, function(a, b) ('a'):rep(65536):find('.-b') return a < b end)",
        "return coroutine.wrap(function() return ('a'):rep(65536):find('.-.-b') end)()",
        /* C work paid where it allocates (each of these was seconds to minutes before) */
        "while true do local s = ('x'):rep(100000) end",
        "local s = ('x'):rep(100000) while true do local t = s:upper() end",
        "local s = ('x=1 '):rep(25000) while true do load(s) end",
        "local s = ('x=1 '):rep(25000) while true do pcall(load, s) end",
        NULL,
    };
    for (int i = 0; hostile[i]; i++) {
        struct timespec t0;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
        expect_stopped(p, hostile[i], "instruction budget");
        double secs = cpu_since(&t0);
        CHECK(secs < 1.0, "%s: stopped after %.3f s of CPU", hostile[i], secs);
    }
    /* C work that allocates nothing: scans paid for by length, comparisons inside one VM
     * instruction stopped by the CPU time of the step */
    static const char *const scans[][2] = {
        { "local s = ('x'):rep(500000) while true do local n = utf8.len(s) end", "instruction budget" },
        { "local a = ('x'):rep(200000) local t = {} for i = 1, 20000 do t[i] = a end table.sort(t)",
          "instruction budget" },
        { "local s, t = ('x'):rep(300000), ('x'):rep(299999) .. 'x' while true do local b = s == t end",
          "CPU time of 40 ms exceeded" },
        { "local s, t = ('x'):rep(300000), ('x'):rep(299999) .. 'y' while true do local b = s < t end",
          "CPU time of 40 ms exceeded" },
    };
    for (size_t i = 0; i < sizeof scans / sizeof scans[0]; i++) {
        struct timespec t0;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
        expect_stopped(p, scans[i][0], scans[i][1]);
        CHECK(cpu_since(&t0) < 1.0, "%s: stopped after %.3f s of CPU", scans[i][0], cpu_since(&t0));
    }
    expect_ok(p, "local t = { 3, 1, 2 } table.sort(t) return table.concat(t, ',')", "1,2,3");
    expect_ok(p, "local t = { 'b', 'c', 'a' } table.sort(t, function(a, b) return a > b end) "
                 "return table.concat(t)", "cba");
    expect_refused(p, "table.sort({ 1, 'x' })", "attempt to compare");
    expect_ok(p, "return utf8.len('h\\195\\169llo') .. ' ' .. utf8.codepoint('\\195\\169') .. ' ' .. "
                 "utf8.offset('h\\195\\169llo', 3)", "5 233 4");
    /* an honest search of a long subject stays well within the budget */
    expect_ok(p, "return tostring(select(2, ('ab'):rep(30000):gsub('a(b)', '%1')))", "30000");
    hl_policy_unref(p);

    /* outside a policy snapshot (a scenario file's state) one call has a fixed step cap */
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_getglobal(L, "string");
    hl_pattern_open(L, -1);
    lua_pop(L, 1);
    const char *code = "return ('a'):rep(65536):find('.-.-b')";
    int st = luaL_loadstring(L, code) == LUA_OK ? lua_pcall(L, 0, 1, 0) : -1;
    CHECK(st == LUA_ERRRUN && strstr(lua_tostring(L, -1), "string.find: pattern needs more than"),
          "a scenario state's pathological find: %s", lua_tostring(L, -1));
    lua_close(L);
}

/* __gc is refused (Lua runs finalizers with hooks off); __close and __mode stay. */
static void test_finalizers(void)
{
    char err[4096];
    hl_config cfg;
    hl_policy_src src;
    hl_policy *p = build_hangup_only(&cfg, &src);
    if (!p)
        return;
    expect_refused(p, "setmetatable({}, { __gc = function() while true do end end })",
                   "test:1: setmetatable: a __gc metamethod (finalizer) is refused");
    expect_refused(p, "local mt = { __gc = true }\nsetmetatable({}, mt)", "test:2: setmetatable: a __gc");
    expect_ok(p, "local mt = {} local t = setmetatable({}, mt) mt.__gc = function() while true do end end "
                 "t = nil collectgarbage('count') local x = {} for i = 1, 10000 do x[i] = {} end return 'ok'",
              "ok");
    expect_ok(p, "local t = setmetatable({}, { __mode = 'k' }) return 'ok'", "ok");
    expect_ok(p, "local n = 0 do local x <close> = setmetatable({}, { __close = function() n = n + 1 end }) end "
                 "return tostring(n)", "1");
    expect_stopped(p, "do local x <close> = setmetatable({}, { __close = function() while true do end end }) end",
                   "instruction budget");
    expect_refused(p, "setmetatable(setmetatable({}, { __metatable = 'locked' }), {})",
                   "cannot change a protected metatable");
    hl_policy_unref(p);

    /* in a rules file, the build is refused with the file and line */
    write_file("rules/final.lua", "local M = {}\nsetmetatable(M, { __gc = function() while true do end end })\nreturn M\n");
    write_file("scripts/main.lua", "local final = require('final')\nfunction main(call) call:hangup() end\n");
    p = build(NULL, err, sizeof err, &cfg, &src);
    CHECK(!p && strstr(err, "rules/final.lua:2: setmetatable: a __gc"), "a rules file's __gc: %s", err);
    /* a loop of copies at a rules file's top level: stopped where it allocates, named */
    write_file("rules/final.lua", "local M = {}\nwhile true do M.x = ('x'):rep(1000000) end\nreturn M\n");
    p = build(NULL, err, sizeof err, &cfg, &src);
    CHECK(!p && strstr(err, "rules/final.lua:2: instruction budget"), "a rules file's copy loop: %s", err);
    /* a pathological pattern at a rules file's top level spends the build's budget */
    write_file("rules/final.lua", "local M = {}\nM.x = ('a'):rep(65536):find('.-.-b')\nreturn M\n");
    p = build(NULL, err, sizeof err, &cfg, &src);
    CHECK(!p && strstr(err, "rules/final.lua:2: instruction budget"), "a rules file's pattern: %s", err);
    remove(strcat(strcpy(err, root), "/rules/final.lua"));
}

/* A policy whose scenarios run on and on (each resume within its budget) is stopped at
 * reload_timeout_ms and refused, naming the limit. */
static void test_reload_time_limit(void)
{
    write_file("scripts/main.lua",
               "function main(call)\n"
               "  call:answer()\n"
               "  while true do\n"
               "    local x = 0\n"
               "    for i = 1, 100000 do x = x + i end\n"
               "    call:sleep(10)\n"
               "  end\n"
               "end\n");
    write_file("scripts/sandbox.scenario.lua", "return { { name = 'runs on', caller = 'x', expect = {} } }\n");
    char err[4096];
    hl_config cfg;
    hl_policy_src src;
    hl_policy_unref(build(NULL, err, sizeof err, &cfg, &src)); /* for cfg and src */
    cfg.reload_timeout_ms = 1000; /* the policy's own setting, as rules/engine.lua gives it */
    hl_policy *p = hl_policy_build(&src, err, sizeof err);
    CHECK(p != NULL, "build: %s", err);
    if (!p)
        return;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char report[8192] = "";
    int ok = 0;
    int bad = hl_sim_selftest(p, &src, report, sizeof report, &ok);
    double secs = elapsed_since(&t0);
    CHECK(bad > 0 && strstr(report, "reload_timeout_ms (1000 ms"), "over the time limit: %d failed:\n%s", bad, report);
    CHECK(secs < 3.0, "the self-test was stopped after %.2f s (limit 1 s)", secs);
    hl_policy_unref(p);

    /* a scenario file's own state: the same bounded matcher and no finalizers */
    write_file("scripts/main.lua", "function main(call) call:hangup() end\n");
    static const struct { const char *code, *needle; } hostile[] = {
        { "local x = ('a'):rep(65536):find('.-.-b')\nreturn {}\n", "string.find: pattern needs more than" },
        { "setmetatable({}, { __gc = function() while true do end end })\nreturn {}\n",
          "sandbox.scenario.lua:1: setmetatable: a __gc" },
        { "while true do end\n", "scenario runs too long" },
    };
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        write_file("scripts/sandbox.scenario.lua", hostile[i].code);
        p = hl_policy_build(&src, err, sizeof err);
        CHECK(p != NULL, "build: %s", err);
        if (!p)
            continue;
        report[0] = 0;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
        bad = hl_sim_selftest(p, &src, report, sizeof report, &ok);
        CHECK(bad == 1 && strstr(report, hostile[i].needle) && cpu_since(&t0) < 1.0,
              "hostile scenario file %zu: %d failed in %.2f s of CPU: %s", i, bad, cpu_since(&t0), report);
        hl_policy_unref(p);
    }
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
    test_pattern_same_as_lua();
    test_pattern_budget();
    test_finalizers();
    test_reload_time_limit();
    test_build_errors();
    test_policy_checks();
    test_pin_hash();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        printf("note: could not remove %s\n", root);
    return 0;
}
