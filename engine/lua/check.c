/* check.c — the engine's static checks of a policy, run on every build (reload and
 * `hotline test-rules`):
 *
 * 1. Prompts: every prompt name written as a literal string where a prompt is expected
 *    (prompt = "x", prompt_out = ..., invalid_prompt = {...}, play("x"), play{"a","b"}, any
 *    field ending in _prompt) must exist as PROMPTS/NAME.wav or as an entry of the prompt
 *    texts, so a typo is refused at reload, not heard by a caller.
 * 2. The policy's own checks (issue 6): conventions of one centre's flows (e.g. the
 *    menus' `offers`, scripts/ivr/check.lua) are not the engine's.  A policy that wants
 *    them declares a global check_sources(files) in scripts/main.lua; the build calls it
 *    with every module's source and refuses the policy on any problem it returns.
 *
 * A small Lua tokenizer: comments, short and long strings, names and single characters,
 * with line numbers.  Names built at run time (say_number, variables) are not checked. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <lauxlib.h>
#include "lua/policy_priv.h"
#include "lua/script.h"
#include "media/prompts.h"

typedef enum { T_END, T_NAME, T_STRING, T_CHAR } tok_kind;

typedef struct tok {
    tok_kind kind;
    char     text[160];     /* name or string contents (truncated) */
    char     ch;
    int      line;
} tok;

typedef struct lexer {
    const char *s, *end;
    int line;
} lexer;

/* Length of a long bracket opener "[==[" at s (0 if none); level in *lvl. */
static int long_open(const char *s, const char *end, int *lvl)
{
    if (s >= end || *s != '[')
        return 0;
    const char *p = s + 1;
    while (p < end && *p == '=')
        p++;
    if (p >= end || *p != '[')
        return 0;
    *lvl = (int)(p - s - 1);
    return (int)(p - s + 1);
}

static void skip_long(lexer *x, int lvl, char *out, int outlen)
{
    int n = 0;
    while (x->s < x->end) {
        if (*x->s == ']') {
            const char *p = x->s + 1;
            int k = 0;
            while (p < x->end && *p == '=')
                p++, k++;
            if (k == lvl && p < x->end && *p == ']') {
                x->s = p + 1;
                break;
            }
        }
        if (*x->s == '\n')
            x->line++;
        if (out && n < outlen - 1)
            out[n++] = *x->s;
        x->s++;
    }
    if (out)
        out[n] = 0;
}

static void next(lexer *x, tok *t)
{
    for (;;) {
        while (x->s < x->end && isspace((unsigned char)*x->s)) {
            if (*x->s == '\n')
                x->line++;
            x->s++;
        }
        if (x->s + 1 < x->end && x->s[0] == '-' && x->s[1] == '-') {
            x->s += 2;
            int lvl, n = long_open(x->s, x->end, &lvl);
            if (n) {
                x->s += n;
                skip_long(x, lvl, NULL, 0);
            } else {
                while (x->s < x->end && *x->s != '\n')
                    x->s++;
            }
            continue;
        }
        break;
    }
    t->line = x->line;
    t->text[0] = 0;
    if (x->s >= x->end) {
        t->kind = T_END;
        return;
    }
    char c = *x->s;
    int lvl, n = long_open(x->s, x->end, &lvl);
    if (n) {
        x->s += n;
        t->kind = T_STRING;
        skip_long(x, lvl, t->text, sizeof t->text);
        return;
    }
    if (c == '"' || c == '\'') {
        x->s++;
        int k = 0;
        while (x->s < x->end && *x->s != c && *x->s != '\n') {
            if (*x->s == '\\' && x->s + 1 < x->end)
                x->s++; /* an escape makes the name unusual anyway; keep the char */
            if (k < (int)sizeof t->text - 1)
                t->text[k++] = *x->s;
            x->s++;
        }
        t->text[k] = 0;
        if (x->s < x->end)
            x->s++;
        t->kind = T_STRING;
        return;
    }
    if (isalpha((unsigned char)c) || c == '_') {
        int k = 0;
        while (x->s < x->end && (isalnum((unsigned char)*x->s) || *x->s == '_')) {
            if (k < (int)sizeof t->text - 1)
                t->text[k++] = *x->s;
            x->s++;
        }
        t->text[k] = 0;
        t->kind = T_NAME;
        return;
    }
    t->kind = T_CHAR;
    t->ch = c;
    x->s++;
}

static bool is_trigger(const char *name)
{
    size_t n = strlen(name);
    return !strcmp(name, "prompt") || !strcmp(name, "prompt_out") || !strcmp(name, "play") ||
           (n > 7 && !strcmp(name + n - 7, "_prompt"));
}

typedef struct checker {
    const char *chunk, *prompts_dir, *texts;
    struct hl_prompts *set;    /* the version's prompts (NULL: look at the folder) */
    char *err;
    int errlen, problems;
} checker;

static void check_name(checker *c, const char *name, int line)
{
    if (!strncmp(name, "tone:", 5) || !strncmp(name, "silence:", 8))
        return;
    char msg[1600];
    msg[0] = 0;
    if (!hl_prompt_name_valid(name)) {
        snprintf(msg, sizeof msg, "%s:%d: '%.100s' is not a valid prompt name\n", c->chunk, line, name);
    } else {
        char path[1200], key[200];
        snprintf(path, sizeof path, "%s/%s.wav", c->prompts_dir, name);
        snprintf(key, sizeof key, "\n%s\n", name);
        struct stat st;
        bool wav = c->set ? hl_prompts_get(c->set, name, NULL, 0) != NULL : stat(path, &st) == 0;
        if (!wav && !(c->texts && strstr(c->texts, key)))
            snprintf(msg, sizeof msg, "%s:%d: prompt '%s' does not exist (no %s and no entry in "
                     "the prompt texts)\n", c->chunk, line, name, path);
    }
    if (!msg[0])
        return;
    c->problems++;
    int used = (int)strlen(c->err);
    if (used < c->errlen - 1)
        snprintf(c->err + used, c->errlen - used, "%s", msg);
}

/* After a '{': checks the strings at depth 1 that are list items (not after '='). */
static void check_table(checker *c, lexer *x)
{
    int depth = 1;
    bool after_eq = false;
    tok t;
    while (depth > 0) {
        next(x, &t);
        if (t.kind == T_END)
            return;
        if (t.kind == T_CHAR && (t.ch == '{' || t.ch == '('))
            depth++;
        else if (t.kind == T_CHAR && (t.ch == '}' || t.ch == ')'))
            depth--;
        else if (t.kind == T_STRING && depth == 1 && !after_eq)
            check_name(c, t.text, t.line);
        after_eq = t.kind == T_CHAR && t.ch == '=';
    }
}

int hl_check_prompts(const char *chunk, const char *src, size_t len, const char *prompts_dir,
                     struct hl_prompts *set, const char *texts, char *err, int errlen)
{
    checker c = { chunk, prompts_dir, texts, set, err, errlen, 0 };
    lexer x = { src, src + len, 1 };
    tok t;
    for (next(&x, &t); t.kind != T_END;) {
        if (t.kind != T_NAME || !is_trigger(t.text)) {
            next(&x, &t);
            continue;
        }
        bool is_play = !strcmp(t.text, "play");
        next(&x, &t);
        if (!is_play) { /* field: prompt = ... ; anything else is not a use */
            if (t.kind != T_CHAR || t.ch != '=')
                continue;
            next(&x, &t);
            /* "==" is a comparison, not a field */
            if (t.kind == T_CHAR && t.ch == '=')
                continue;
        } else if (t.kind == T_CHAR && t.ch == '(') {
            next(&x, &t);
        }
        if (t.kind == T_STRING) {
            check_name(&c, t.text, t.line);
        } else if (t.kind == T_CHAR && t.ch == '{') {
            check_table(&c, &x);
        } else {
            continue;
        }
        next(&x, &t);
    }
    return c.problems;
}

/* ---- for the scenario runner (sim.c): the routes a policy sets, where a field is written ---- */

#define ROUTE_ARG_TOKENS 64

static bool is_name(const tok *t, const char *name) { return t->kind == T_NAME && !strcmp(t->text, name); }
static bool is_char(const tok *t, char ch) { return t->kind == T_CHAR && t->ch == ch; }

/* One value set_route may receive, tokens [a, b) at depth 0 of its argument: a literal alone
 * is a whole route ("account"), a literal then `..` a prefix ("queue:" .. name -> "queue:*").
 * Anything else (a variable, a call) cannot be known: returns false. */
static bool route_value(const tok *v, int a, int b, char *out, size_t size)
{
    if (a >= b || v[a].kind != T_STRING)
        return false;
    bool prefix = a + 2 < b && is_char(&v[a + 1], '.') && is_char(&v[a + 2], '.');
    if (!prefix && b - a != 1)
        return false;
    char word[sizeof v[a].text + 3], padded[4096];
    snprintf(word, sizeof word, " %s%s ", v[a].text, prefix ? "*" : "");
    snprintf(padded, sizeof padded, " %s ", out);
    size_t n = strlen(out);
    if (!strstr(padded, word))
        snprintf(out + n, size - n, "%s%s", n ? " " : "", word + 1);
    n = strlen(out);
    if (n && out[n - 1] == ' ')
        out[n - 1] = 0;
    return true;
}

/* set_route's argument, read up to its closing parenthesis: `a and "x" or "y" .. z` gives
 * the value after the last `and` of each `or` alternative. */
static bool route_arg(lexer *x, char *out, size_t size)
{
    tok v[ROUTE_ARG_TOKENS];
    int n = 0, depth = 0;
    for (;;) {
        tok t;
        next(x, &t);
        if (t.kind == T_END)
            return false;
        if (t.kind == T_CHAR && strchr("({[", t.ch))
            depth++;
        if (t.kind == T_CHAR && strchr(")}]", t.ch) && depth-- == 0)
            break;
        if (depth > 0 || (t.kind == T_CHAR && strchr(")}]", t.ch)))
            t = (tok){ .kind = T_NAME, .text = "(expr)", .line = t.line };
        if (n == ROUTE_ARG_TOKENS)
            return false;
        v[n++] = t;
    }
    bool known = true;
    for (int a = 0, i = 0; i <= n; i++) {
        if (i < n && is_name(&v[i], "and"))
            a = i + 1;
        if (i == n || is_name(&v[i], "or")) {
            known = route_value(v, a, i, out, size) && known;
            a = i + 1;
        }
    }
    return known;
}

int hl_check_routes(const char *src, size_t len, char *out, size_t outlen, int *unknown_line)
{
    lexer x = { src, src + len, 1 };
    tok t;
    int unknown = 0;
    for (next(&x, &t); t.kind != T_END; next(&x, &t)) {
        if (!is_name(&t, "set_route"))
            continue;
        int line = t.line;
        next(&x, &t);
        bool known = t.kind == T_STRING ? route_value(&t, 0, 1, out, outlen)
                   : is_char(&t, '(') && route_arg(&x, out, outlen);
        if (!known && unknown++ == 0 && unknown_line)
            *unknown_line = line;
    }
    return unknown;
}

int hl_check_field_line(const char *src, size_t len, const char *text, bool string_literal, int from_line)
{
    lexer x = { src, src + len, 1 };
    tok t, ahead;
    next(&x, &t);
    while (t.kind != T_END) {
        next(&x, &ahead);
        bool hit = string_literal ? t.kind == T_STRING && !strcmp(t.text, text)
                                  : is_name(&t, text) && is_char(&ahead, '=') && !(x.s < x.end && *x.s == '=');
        if (hit && t.line >= from_line)
            return t.line;
        t = ahead;
    }
    return 0;
}

/* ---- 2. the policy's own checks: the check_sources hook (issue 6) ---------------------- */

static void append(char *err, int errlen, const char *text)
{
    int used = (int)strlen(err);
    if (used < errlen - 1)
        snprintf(err + used, errlen - used, "%s\n", text);
}

int hl_check_policy_sources(hl_policy *p, int sources, char *err, int errlen)
{
    lua_State *L = p->L;
    int top = lua_gettop(L);
    sources = lua_absindex(L, sources);
    int t = lua_getglobal(L, "check_sources");
    if (t == LUA_TNIL) {
        lua_settop(L, top);
        return 0; /* the policy declares no checks of its own */
    }
    if (t != LUA_TFUNCTION) {
        append(err, errlen, "scripts/main.lua: check_sources must be a function(files)");
        lua_settop(L, top);
        return 1;
    }
    lua_newtable(L); /* files: "scripts/x.lua" -> source, from module -> {chunk=, src=} */
    int files = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, sources)) {
        lua_getfield(L, -1, "chunk");
        lua_getfield(L, -2, "src");
        lua_setfield(L, files, lua_tostring(L, -2) + 1); /* the chunk name without its '@' */
        lua_pop(L, 2);
    }
    hl_lua_run run = { .mem_limit = HL_BUILD_MEMORY,
                       .instr_limit = (long)p->cfg.script_instructions * HL_BUILD_INSTR_FACTOR };
    int problems = 0;
    if (hl_lua_pcall_budget(p, L, &run, 1, 1) != LUA_OK) {
        append(err, errlen, lua_tostring(L, -1) ? lua_tostring(L, -1) : "check_sources failed");
        problems = 1;
    } else if (lua_istable(L, -1)) {
        for (lua_Integer i = 1; lua_rawgeti(L, -1, i) != LUA_TNIL; i++, lua_pop(L, 1)) {
            append(err, errlen, lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                : "check_sources: a problem that is not a string");
            problems++;
        }
    } else if (!lua_isnil(L, -1)) {
        append(err, errlen, "scripts/main.lua: check_sources must return a list of problems (strings)");
        problems = 1;
    }
    lua_settop(L, top);
    return problems;
}
