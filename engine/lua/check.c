/* check.c — the static checks run on every source file when a policy is built (reload and
 * `hotline test-rules`):
 *
 * 1. Prompts: every prompt name written as a literal string where a prompt is expected
 *    (prompt = "x", prompt_out = ..., invalid_prompt = {...}, play("x"), play{"a","b"}, any
 *    field ending in _prompt) must exist as PROMPTS/NAME.wav or as an entry of the prompt
 *    texts, so a typo is refused at reload, not heard by a caller.
 * 2. Menus (declarative keys): a menu literal — a table constructor with a literal
 *    `name = "..."` and a `keys = ...` field — must say which keys its prompt offers:
 *    `offers = "1234590"` (and `offers_out = "1234"` for out of hours).  When offers and the
 *    keys table are literal, every key offered must have a branch (`["5"] = ...`) and every
 *    branch must be offered: a key "handled in no branch" or a branch no caller is told of
 *    is refused.  A menu literal assigned to a local (`local m = {...}` or
 *    `local m = menu.define{...}`) that the file never mentions again is unreachable.
 *    Checks that need every file at once (reachability through modules, out-of-hours keys
 *    against rules/ivr.lua) are the flow's own lint (scripts/ivr/menu.lua), run when
 *    scripts/main.lua loads.
 *
 * A small Lua tokenizer: comments, short and long strings, names and single characters,
 * with line numbers.  Names built at run time (say_number, variables) are not checked. */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
    char *err;
    int errlen, problems;
} checker;

static void report(checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(checker *c, const char *fmt, ...)
{
    c->problems++;
    int used = (int)strlen(c->err);
    if (used >= c->errlen - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + used, c->errlen - used, fmt, ap);
    va_end(ap);
}

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
        if (stat(path, &st) != 0 && !(c->texts && strstr(c->texts, key)))
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

/* ---- 2. menus: offers against keys, and unreachable menu literals ----------------------- */

/* Keys a menu can name: 0-9 * # (and A-D of RFC 4733). */
#define MENU_KEYS 24
/* Menu literals assigned to locals, per file, checked for a later use. */
#define MAX_MENU_LOCALS 128

typedef struct menu_lit {
    char name[96];
    int  line;
    bool has_name, has_keys, keys_literal, offers_set, offers_literal;
    char keys[MENU_KEYS + 1];        /* literal keys with a branch */
    char offers[MENU_KEYS * 2 + 1];  /* offers .. offers_out */
} menu_lit;

typedef struct menu_local {
    char var[64], menu[96];
    int  line;
} menu_local;

typedef struct menu_scan {
    checker   *c;
    menu_local locals[MAX_MENU_LOCALS];
    int        nlocals;
} menu_scan;

/* Block nesting of Lua keywords, so that `x = 1` inside a function body is not taken for
 * a field of the table around it: function/if/do open a block (while and for open theirs
 * with do), end closes it; repeat ... until likewise. */
static int block_delta(const tok *t)
{
    if (t->kind != T_NAME)
        return 0;
    if (!strcmp(t->text, "function") || !strcmp(t->text, "if") || !strcmp(t->text, "do") ||
        !strcmp(t->text, "repeat"))
        return 1;
    if (!strcmp(t->text, "end") || !strcmp(t->text, "until"))
        return -1;
    return 0;
}

static bool is_char(const tok *t, char ch) { return t->kind == T_CHAR && t->ch == ch; }

static void add_keys(char *set, size_t size, const char *keys)
{
    for (const char *k = keys; *k; k++) {
        size_t n = strlen(set);
        if (!strchr(set, *k) && n + 1 < size) {
            set[n] = *k;
            set[n + 1] = 0;
        }
    }
}

static bool scan_table(menu_scan *ms, lexer *x, int line, menu_lit *out);

/* A field value that is one string literal (not followed by ".." or a call): copied to
 * val; returns false for any other expression (whose tokens are left to the caller). */
static bool literal_value(lexer *x, tok *t, char *val, size_t size)
{
    if (t->kind != T_STRING)
        return false;
    lexer peek = *x;
    tok n;
    next(&peek, &n);
    if (is_char(&n, '.') || is_char(&n, '(') || is_char(&n, ':') || is_char(&n, '['))
        return false;
    size_t len = strlen(t->text);
    if (len >= size)
        len = size - 1;
    memcpy(val, t->text, len);
    val[len] = 0;
    return true;
}

/* After `keys = {`: the literal keys (["1"] = ...) into m->keys; nested tables (sub-menus)
 * are scanned as tables of their own. */
static void scan_keys(menu_scan *ms, lexer *x, menu_lit *m)
{
    int blocks = 0;
    tok t;
    for (;;) {
        next(x, &t);
        if (t.kind == T_END)
            return;
        blocks += block_delta(&t);
        if (blocks < 0)
            blocks = 0;
        if (is_char(&t, '{')) {
            scan_table(ms, x, t.line, NULL);
        } else if (is_char(&t, '}') && blocks == 0) {
            return;
        } else if (is_char(&t, '[') && blocks == 0) {
            tok k, close;
            next(x, &k);
            if (k.kind == T_STRING && strlen(k.text) == 1) {
                next(x, &close);
                if (is_char(&close, ']'))
                    add_keys(m->keys, sizeof m->keys, k.text);
                else
                    m->keys_literal = false;
            } else {
                m->keys_literal = false;
                if (is_char(&k, '{'))
                    scan_table(ms, x, k.line, NULL);
            }
        }
    }
}

static void judge_menu(menu_scan *ms, const menu_lit *m)
{
    checker *c = ms->c;
    if (!m->offers_set) {
        report(c, "%s:%d: menu '%s' does not say which keys its prompt offers (add offers = \"...\", "
               "and offers_out for out of hours)\n", c->chunk, m->line, m->name);
        return;
    }
    if (!m->offers_literal || !m->keys_literal)
        return;
    for (const char *k = m->offers; *k; k++)
        if (!strchr(m->keys, *k))
            report(c, "%s:%d: menu '%s' offers key %c but no branch handles it (keys has no [\"%c\"])\n",
                   c->chunk, m->line, m->name, *k, *k);
    for (const char *k = m->keys; *k; k++)
        if (!strchr(m->offers, *k))
            report(c, "%s:%d: menu '%s' handles key %c but its prompt never offers it (add it to offers)\n",
                   c->chunk, m->line, m->name, *k);
}

/* After a '{': scans the table constructor up to its '}'.  Returns true when it is a menu
 * literal (its name in out, when out is given). */
static bool scan_table(menu_scan *ms, lexer *x, int line, menu_lit *out)
{
    menu_lit m;
    memset(&m, 0, sizeof m);
    m.line = line;
    m.keys_literal = true;
    m.offers_literal = true;
    int blocks = 0;
    tok t;
    for (next(x, &t); t.kind != T_END; next(x, &t)) {
        blocks += block_delta(&t);
        if (blocks < 0)
            blocks = 0;
        if (is_char(&t, '{')) {
            scan_table(ms, x, t.line, NULL);
            continue;
        }
        if (is_char(&t, '}') && blocks == 0)
            break;
        if (t.kind != T_NAME || blocks > 0)
            continue;
        lexer peek = *x;
        tok eq, after;
        next(&peek, &eq);
        next(&peek, &after);
        if (!is_char(&eq, '=') || is_char(&after, '='))
            continue; /* not a field (or a comparison) */
        char field[32];
        snprintf(field, sizeof field, "%.31s", t.text);
        next(x, &eq);
        next(x, &t);
        char val[MENU_KEYS * 2 + 1];
        if (!strcmp(field, "name")) {
            if (literal_value(x, &t, m.name, sizeof m.name))
                m.has_name = true;
        } else if (!strcmp(field, "offers") || !strcmp(field, "offers_out")) {
            m.offers_set = true;
            if (literal_value(x, &t, val, sizeof val))
                add_keys(m.offers, sizeof m.offers, val);
            else
                m.offers_literal = false;
        } else if (!strcmp(field, "keys")) {
            m.has_keys = true;
            if (is_char(&t, '{'))
                scan_keys(ms, x, &m);
            else
                m.keys_literal = false;
            continue;
        }
        /* the value's first token may open a table or a block */
        if (is_char(&t, '{'))
            scan_table(ms, x, t.line, NULL);
        else
            blocks += block_delta(&t);
    }
    bool is_menu = m.has_name && m.has_keys;
    if (is_menu) {
        judge_menu(ms, &m);
        if (out)
            *out = m;
    }
    return is_menu;
}

static int count_name(const char *src, size_t len, const char *name)
{
    lexer x = { src, src + len, 1 };
    tok t;
    int n = 0;
    for (next(&x, &t); t.kind != T_END; next(&x, &t))
        if (t.kind == T_NAME && !strcmp(t.text, name))
            n++;
    return n;
}

static int check_menus(checker *c, const char *src, size_t len)
{
    size_t cl = strlen(c->chunk);
    if (cl > 13 && !strcmp(c->chunk + cl - 13, ".scenario.lua"))
        return 0; /* scenarios are data whose `keys` are what a caller types */
    menu_scan *ms = calloc(1, sizeof *ms);
    if (!ms)
        return 0;
    int before = c->problems;
    ms->c = c;
    lexer x = { src, src + len, 1 };
    tok t;
    char pending[64] = "";   /* `local NAME =` just seen (and still the value's start) */
    int state = 0;           /* 0 nothing, 1 after local, 2 after local NAME, 3 after '=' */
    for (next(&x, &t); t.kind != T_END; next(&x, &t)) {
        if (is_char(&t, '{')) {
            menu_lit m;
            memset(&m, 0, sizeof m);
            if (scan_table(ms, &x, t.line, &m) && state == 3 && ms->nlocals < MAX_MENU_LOCALS) {
                menu_local *l = &ms->locals[ms->nlocals++];
                snprintf(l->var, sizeof l->var, "%s", pending);
                snprintf(l->menu, sizeof l->menu, "%s", m.name);
                l->line = m.line;
            }
            state = 0;
            continue;
        }
        if (t.kind == T_NAME && !strcmp(t.text, "local")) {
            state = 1;
        } else if (state == 1 && t.kind == T_NAME) {
            snprintf(pending, sizeof pending, "%.63s", t.text);
            state = 2;
        } else if (state == 2 && is_char(&t, '=')) {
            state = 3;
        } else if (state == 3 && (t.kind == T_NAME || is_char(&t, '.') || is_char(&t, '('))) {
            /* local m = menu.define{ ... } / menu.define({ ... }): still the value */
        } else {
            state = 0;
        }
    }
    for (int i = 0; i < ms->nlocals; i++)
        if (count_name(src, len, ms->locals[i].var) <= 1)
            report(c, "%s:%d: menu '%s' (local %s) is never used in this file: no key or "
                   "function leads to it (unreachable)\n", c->chunk, ms->locals[i].line,
                   ms->locals[i].menu, ms->locals[i].var);
    free(ms);
    return c->problems - before;
}

int hl_check_prompts(const char *chunk, const char *src, size_t len, const char *prompts_dir,
                     const char *texts, char *err, int errlen)
{
    checker c = { chunk, prompts_dir, texts, err, errlen, 0 };
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
    c.problems += check_menus(&c, src, len);
    return c.problems;
}

/* ---- for the scenario runner (sim.c): the routes a policy sets, where a field is written ---- */

#define ROUTE_ARG_TOKENS 64

static bool is_name(const tok *t, const char *name) { return t->kind == T_NAME && !strcmp(t->text, name); }

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
