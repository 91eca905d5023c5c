/* pattern.c — string.find, match, gmatch and gsub for scripts, with every step of the
 * matcher charged to the instruction budget (see bounded.h).
 *
 * Lua's own matcher backtracks in C, where the count hook never fires: a '-' or '*' item
 * retries the rest of the pattern at every length, so each such item multiplies the work by
 * the subject's length ('.-.-b' on 64 KiB: hours).  This matcher implements the same pattern
 * language (Lua 5.4 reference manual §6.4.1: classes, sets, the four repetitions, captures,
 * position captures, back-references, %b, %f, anchors), with the same results and error
 * messages — tests/unit/test_sandbox.c compares it with the real string library — and counts
 * its steps: one per pattern item tried, per character a repetition or %b scans, and per 16
 * bytes compared.  In a policy snapshot the steps are charged to the running script's
 * hl_lua_run as instructions (STEP_COST each), so a pattern spends the same budget as a
 * loop and is stopped the same way (a yield out of the script, which pcall cannot catch);
 * in any other state (a scenario file's) one call may take HL_PATTERN_FREE_STEPS steps. */
#include <ctype.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdbool.h>
#include <string.h>
#include "lua/bounded.h"
#include "lua/policy_priv.h"

#define MAX_CAPTURES 32       /* Lua's LUA_MAXCAPTURES: captures one pattern may make */
#define MAX_DEPTH 200         /* Lua's MAXCCALLS for the matcher: nesting of the recursion */
#define STEP_BATCH 1000       /* steps counted locally before they are charged (as the hook) */
#define BYTES_PER_STEP 16     /* a compare of this many bytes counts as one step */
/* Instructions one step is charged as: a step takes about twice a VM instruction's time
 * (measured: 5e6 steps of '.-.-b' 123 ms, 5e6 instructions of a loop 70 ms), so a budget
 * bounds the time a script holds the loop whichever way it spends it. */
#define STEP_COST 2
#define CAP_UNFINISHED (-1)
#define CAP_POSITION (-2)
#define ESC '%'
#define SPECIALS "^$*+?.([%-"

typedef struct matcher {
    lua_State  *L;
    const char *subject, *subject_end, *pattern_end;
    int         depth;            /* recursion left before "pattern too complex" */
    int         level;            /* captures opened so far */
    struct {
        const char *at;
        ptrdiff_t   len;          /* CAP_UNFINISHED, CAP_POSITION or a length */
    } cap[MAX_CAPTURES];
    bool        charged;          /* a policy snapshot with a script running: steps go to its run */
    long        steps;            /* counted since the last charge */
    long        free_left;        /* otherwise: steps this call may still take */
    bool        stopped;          /* over budget: unwind and stop the script */
} matcher;

/* ---- the step counter ------------------------------------------------------------------ */

static bool in_policy_with_run(lua_State *L)
{
    void *ud;
    return lua_getallocf(L, &ud) == hl_lua_alloc && ((hl_policy *)ud)->run;
}

static void flush_steps(matcher *m)
{
    if (m->charged)
        m->stopped = hl_lua_charge(m->L, m->steps * STEP_COST) || m->stopped;
    else if ((m->free_left -= m->steps) < 0)
        m->stopped = true;
    m->steps = 0;
}

/* Counts n steps; true when the matcher must give up (it then unwinds without a result). */
static bool step(matcher *m, long n)
{
    m->steps += n;
    if (m->steps >= STEP_BATCH)
        flush_steps(m);
    return m->stopped;
}

/* What a call does when its matcher gave up: stop the script like the count hook does, or
 * (outside a running script) raise an error naming the limit. */
static int give_up(matcher *m, const char *fn)
{
    if (m->charged)
        return hl_lua_stop(m->L);
    return luaL_error(m->L, "string.%s: pattern needs more than %d steps (backtracking on a "
                            "long subject)", fn, (int)HL_PATTERN_FREE_STEPS);
}

static void matcher_init(matcher *m, lua_State *L, const char *s, size_t ls, const char *p, size_t lp)
{
    m->L = L;
    m->subject = s;
    m->subject_end = s + ls;
    m->pattern_end = p + lp;
    m->depth = MAX_DEPTH;
    m->level = 0;
    m->charged = in_policy_with_run(L);
    m->steps = 0;
    m->free_left = HL_PATTERN_FREE_STEPS;
    m->stopped = false;
}

/* ---- single characters ----------------------------------------------------------------- */

/* Does c belong to class %cl (a letter names a class, its capital the complement; any other
 * character stands for itself)? */
static bool in_class(int c, int cl)
{
    bool r;
    switch (tolower(cl)) {
    case 'a': r = isalpha(c); break;
    case 'c': r = iscntrl(c); break;
    case 'd': r = isdigit(c); break;
    case 'g': r = isgraph(c); break;
    case 'l': r = islower(c); break;
    case 'p': r = ispunct(c); break;
    case 's': r = isspace(c); break;
    case 'u': r = isupper(c); break;
    case 'w': r = isalnum(c); break;
    case 'x': r = isxdigit(c); break;
    case 'z': r = c == 0; break; /* deprecated in Lua, still accepted */
    default: return cl == c;
    }
    return islower(cl) ? r : !r;
}

/* Does c belong to the set [...] that starts at open ('[') and ends at close (']')? */
static bool in_set(int c, const char *open, const char *close)
{
    const char *p = open + 1;
    bool want = true;
    if (*p == '^') {
        want = false;
        p++;
    }
    for (; p < close; p++) {
        if (*p == ESC) {
            p++;
            if (in_class(c, (unsigned char)*p))
                return want;
        } else if (p[1] == '-' && p + 2 < close) {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
                return want;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return want;
        }
    }
    return !want;
}

/* The end of the single-character class that starts at p (a character, '.', %x or [set]). */
static const char *class_end(matcher *m, const char *p)
{
    if (*p == ESC) {
        if (p + 1 >= m->pattern_end)
            luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 2;
    }
    if (*p != '[')
        return p + 1;
    p++;
    if (*p == '^')
        p++;
    do { /* the first character of a set may be ']' itself */
        if (p >= m->pattern_end)
            luaL_error(m->L, "malformed pattern (missing ']')");
        if (*p++ == ESC && p < m->pattern_end)
            p++;
    } while (*p != ']');
    return p + 1;
}

/* Does the subject character at s match the class p..end? (never past the subject's end) */
static bool class_matches(const matcher *m, const char *s, const char *p, const char *end)
{
    if (s >= m->subject_end)
        return false;
    int c = (unsigned char)*s;
    switch (*p) {
    case '.': return true;
    case ESC: return in_class(c, (unsigned char)p[1]);
    case '[': return in_set(c, p, end - 1);
    default: return (unsigned char)*p == c;
    }
}

/* ---- the matcher ----------------------------------------------------------------------- */

static const char *match(matcher *m, const char *s, const char *p);

/* %bxy at p (pointing at x): a balanced run from x to its y. */
static const char *balanced(matcher *m, const char *s, const char *p)
{
    if (p >= m->pattern_end - 1)
        luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= m->subject_end || *s != *p)
        return NULL;
    int open = *p, close = p[1], depth = 1;
    while (++s < m->subject_end) {
        if (step(m, 1))
            return NULL;
        if (*s == close) {
            if (--depth == 0)
                return s + 1;
        } else if (*s == open) {
            depth++;
        }
    }
    return NULL;
}

/* item* (and item+ after its first character): the longest run first, then shorter. */
static const char *longest_first(matcher *m, const char *s, const char *p, const char *ep)
{
    ptrdiff_t n = 0;
    while (class_matches(m, s + n, p, ep)) {
        n++;
        if (step(m, 1))
            return NULL;
    }
    for (; n >= 0 && !m->stopped; n--) {
        const char *r = match(m, s + n, ep + 1);
        if (r)
            return r;
    }
    return NULL;
}

/* item-: the shortest run first, then one more at a time. */
static const char *shortest_first(matcher *m, const char *s, const char *p, const char *ep)
{
    for (;;) {
        const char *r = match(m, s, ep + 1);
        if (r)
            return r;
        if (m->stopped || !class_matches(m, s, p, ep))
            return NULL;
        s++;
    }
}

static const char *open_capture(matcher *m, const char *s, const char *p, ptrdiff_t what)
{
    if (m->level >= MAX_CAPTURES)
        luaL_error(m->L, "too many captures");
    m->cap[m->level].at = s;
    m->cap[m->level].len = what;
    m->level++;
    const char *r = match(m, s, p);
    if (!r)
        m->level--;
    return r;
}

static const char *close_capture(matcher *m, const char *s, const char *p)
{
    int l = m->level - 1;
    while (l >= 0 && m->cap[l].len != CAP_UNFINISHED)
        l--;
    if (l < 0)
        luaL_error(m->L, "invalid pattern capture");
    m->cap[l].len = s - m->cap[l].at;
    const char *r = match(m, s, p);
    if (!r)
        m->cap[l].len = CAP_UNFINISHED;
    return r;
}

/* The capture number of digit d ('1'..'9') as an index, if it is closed. */
static int closed_capture(matcher *m, int d)
{
    int l = d - '1';
    if (l < 0 || l >= m->level || m->cap[l].len == CAP_UNFINISHED)
        return luaL_error(m->L, "invalid capture index %%%d", l + 1);
    return l;
}

/* %1..%9: the text of an earlier capture again (a position capture never matches). */
static const char *back_reference(matcher *m, const char *s, int d)
{
    int l = closed_capture(m, d);
    size_t len = (size_t)m->cap[l].len;
    if ((size_t)(m->subject_end - s) < len)
        return NULL;
    if (step(m, 1 + (long)(len / BYTES_PER_STEP)))
        return NULL;
    return memcmp(m->cap[l].at, s, len) == 0 ? s + len : NULL;
}

/* %f[set]: the position between a character not in set and one in it (the subject's ends
 * count as '\0'). */
static bool at_frontier(matcher *m, const char *s, const char *set, const char *end)
{
    int before = s == m->subject ? 0 : (unsigned char)s[-1];
    int after = s < m->subject_end ? (unsigned char)*s : 0;
    return !in_set(before, set, end - 1) && in_set(after, set, end - 1);
}

/* Matches pattern p against the subject from s; the end of the match, or NULL. */
static const char *match(matcher *m, const char *s, const char *p)
{
    if (m->depth-- == 0)
        luaL_error(m->L, "pattern too complex");
    while (s && p < m->pattern_end) {
        if (step(m, 1)) {
            s = NULL;
            break;
        }
        const char *ep;
        switch (*p) {
        case '(':
            s = p[1] == ')' ? open_capture(m, s, p + 2, CAP_POSITION) : open_capture(m, s, p + 1, CAP_UNFINISHED);
            goto done;
        case ')':
            s = close_capture(m, s, p + 1);
            goto done;
        case '$':
            if (p + 1 == m->pattern_end) {
                s = s == m->subject_end ? s : NULL;
                goto done;
            }
            break; /* a '$' inside the pattern is an ordinary character */
        case ESC:
            if (p[1] == 'b') {
                s = balanced(m, s, p + 2);
                p += 4;
                continue;
            }
            if (p[1] == 'f') {
                p += 2;
                if (*p != '[')
                    luaL_error(m->L, "missing '[' after '%%f' in pattern");
                ep = class_end(m, p);
                s = at_frontier(m, s, p, ep) ? s : NULL;
                p = ep;
                continue;
            }
            if (isdigit((unsigned char)p[1])) {
                s = back_reference(m, s, (unsigned char)p[1]);
                p += 2;
                continue;
            }
            break;
        }
        /* a single-character class, perhaps followed by a repetition */
        ep = class_end(m, p);
        if (!class_matches(m, s, p, ep)) {
            if (*ep == '*' || *ep == '?' || *ep == '-') { /* zero repetitions will do */
                p = ep + 1;
                continue;
            }
            s = NULL;
            goto done;
        }
        switch (*ep) {
        case '?': {
            const char *r = match(m, s + 1, ep + 1);
            if (r || m->stopped) {
                s = r;
                goto done;
            }
            p = ep + 1;
            continue;
        }
        case '+':
            s = longest_first(m, s + 1, p, ep);
            goto done;
        case '*':
            s = longest_first(m, s, p, ep);
            goto done;
        case '-':
            s = shortest_first(m, s, p, ep);
            goto done;
        default:
            s++;
            p = ep;
            continue;
        }
    }
done:
    m->depth++;
    return m->stopped ? NULL : s;
}

/* ---- captures to Lua values ------------------------------------------------------------ */

/* Capture i as text (its length; *at its start) or, for a position capture, pushes the
 * position and returns CAP_POSITION.  With no captures, capture 0 is the whole match s..e. */
static ptrdiff_t capture_text(matcher *m, int i, const char *s, const char *e, const char **at)
{
    if (i >= m->level) {
        if (i != 0)
            luaL_error(m->L, "invalid capture index %%%d", i + 1);
        *at = s;
        return e - s;
    }
    *at = m->cap[i].at;
    if (m->cap[i].len == CAP_UNFINISHED)
        luaL_error(m->L, "unfinished capture");
    else if (m->cap[i].len == CAP_POSITION)
        lua_pushinteger(m->L, (m->cap[i].at - m->subject) + 1);
    return m->cap[i].len;
}

static void push_capture(matcher *m, int i, const char *s, const char *e)
{
    const char *at;
    ptrdiff_t len = capture_text(m, i, s, e, &at);
    if (len != CAP_POSITION)
        lua_pushlstring(m->L, at, (size_t)len);
}

/* Pushes every capture (or the whole match s..e when there are none and s is given). */
static int push_captures(matcher *m, const char *s, const char *e)
{
    int n = m->level == 0 && s ? 1 : m->level;
    luaL_checkstack(m->L, n, "too many captures");
    for (int i = 0; i < n; i++)
        push_capture(m, i, s, e);
    return n;
}

/* ---- the library functions ------------------------------------------------------------- */

/* Argument 1 as the subject, refused over script_pattern_max in a policy snapshot. */
static const char *subject_arg(lua_State *L, const char *fn, size_t *len)
{
    const char *s = luaL_checklstring(L, 1, len);
    void *ud;
    if (lua_getallocf(L, &ud) != hl_lua_alloc)
        return s;
    size_t max = (size_t)((hl_policy *)ud)->cfg.script_pattern_max;
    if (*len > max)
        luaL_error(L, "string.%s: subject of %I bytes is over the limit of %I bytes "
                      "(script_pattern_max of rules/engine.lua)", fn, (lua_Integer)*len, (lua_Integer)max);
    return s;
}

/* A start position (1-based, negative from the end) as an offset clipped to [0, len]. */
static size_t start_offset(lua_Integer pos, size_t len)
{
    if (pos > 0)
        return (size_t)pos - 1;
    if (pos == 0 || pos < -(lua_Integer)len)
        return 0;
    return len + (size_t)pos;
}

static bool has_specials(const char *p, size_t lp)
{
    for (size_t i = 0; i < lp; i++)
        if (p[i] && strchr(SPECIALS, p[i]))
            return true;
    return false;
}

/* A plain search for p in s (memchr for its first byte, then a compare), charged too. */
static const char *find_plain(matcher *m, const char *s, size_t ls, const char *p, size_t lp)
{
    if (lp == 0)
        return s;
    if (lp > ls)
        return NULL;
    const char *last = s + (ls - lp);
    while (s <= last && (s = memchr(s, *p, (size_t)(last - s) + 1))) {
        if (step(m, 1 + (long)(lp / BYTES_PER_STEP)))
            return NULL;
        if (memcmp(s + 1, p + 1, lp - 1) == 0)
            return s;
        s++;
    }
    return NULL;
}

static int find_or_match(lua_State *L, bool find)
{
    const char *fn = find ? "find" : "match";
    size_t ls, lp;
    const char *s = subject_arg(L, fn, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_offset(luaL_optinteger(L, 3, 1), ls);
    if (init > ls) { /* starts after the subject's end: nothing to find */
        luaL_pushfail(L);
        return 1;
    }
    matcher m;
    if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
        matcher_init(&m, L, s, ls, p, lp);
        const char *at = find_plain(&m, s + init, ls - init, p, lp);
        flush_steps(&m);
        if (m.stopped)
            return give_up(&m, fn);
        if (!at) {
            luaL_pushfail(L);
            return 1;
        }
        lua_pushinteger(L, (at - s) + 1);
        lua_pushinteger(L, (at - s) + (lua_Integer)lp);
        return 2;
    }
    bool anchored = lp > 0 && *p == '^';
    if (anchored)
        p++, lp--;
    matcher_init(&m, L, s, ls, p, lp);
    const char *from = s + init;
    do {
        m.level = 0;
        const char *e = match(&m, from, p);
        if (m.stopped)
            return give_up(&m, fn);
        if (e) {
            flush_steps(&m);
            if (!find)
                return push_captures(&m, from, e);
            lua_pushinteger(L, (from - s) + 1);
            lua_pushinteger(L, e - s);
            return push_captures(&m, NULL, NULL) + 2;
        }
    } while (from++ < m.subject_end && !anchored);
    flush_steps(&m);
    if (m.stopped)
        return give_up(&m, fn);
    luaL_pushfail(L);
    return 1;
}

static int l_find(lua_State *L) { return find_or_match(L, true); }
static int l_match(lua_State *L) { return find_or_match(L, false); }

/* gmatch's iterator state (a userdata upvalue; the subject and pattern are upvalues too, so
 * they outlive every call of the iterator). */
typedef struct gmatch_state {
    const char *from, *last_end;
    const char *pattern;
    matcher     m;
} gmatch_state;

static int gmatch_next(lua_State *L)
{
    gmatch_state *g = lua_touserdata(L, lua_upvalueindex(3));
    matcher *m = &g->m;
    m->L = L; /* the iterator may run on another coroutine than the one that made it */
    m->depth = MAX_DEPTH; /* an error in an earlier call may have left it short */
    m->charged = in_policy_with_run(L);
    m->free_left = HL_PATTERN_FREE_STEPS;
    m->steps = 0;
    m->stopped = false;
    for (const char *from = g->from; from <= m->subject_end; from++) {
        m->level = 0;
        const char *e = match(m, from, g->pattern);
        if (m->stopped)
            return give_up(m, "gmatch");
        if (e && e != g->last_end) {
            g->from = g->last_end = e;
            flush_steps(m);
            return push_captures(m, from, e);
        }
    }
    flush_steps(m);
    if (m->stopped)
        return give_up(m, "gmatch");
    g->from = m->subject_end + 1;
    return 0;
}

static int l_gmatch(lua_State *L)
{
    size_t ls, lp;
    const char *s = subject_arg(L, "gmatch", &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_offset(luaL_optinteger(L, 3, 1), ls);
    if (init > ls)
        init = ls + 1;
    lua_settop(L, 2);
    gmatch_state *g = lua_newuserdatauv(L, sizeof *g, 0);
    matcher_init(&g->m, L, s, ls, p, lp);
    g->from = s + init;
    g->pattern = p;
    g->last_end = NULL;
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

/* Adds the replacement string (argument 3) for the match s..e, with %0-%9 and %%. */
static void add_template(matcher *m, luaL_Buffer *b, const char *s, const char *e)
{
    size_t l;
    const char *t = lua_tolstring(m->L, 3, &l);
    const char *esc;
    while ((esc = memchr(t, ESC, l))) {
        luaL_addlstring(b, t, (size_t)(esc - t));
        esc++;
        if (*esc == ESC) {
            luaL_addchar(b, ESC);
        } else if (*esc == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (isdigit((unsigned char)*esc)) {
            const char *at;
            ptrdiff_t len = capture_text(m, *esc - '1', s, e, &at);
            if (len == CAP_POSITION)
                luaL_addvalue(b);
            else
                luaL_addlstring(b, at, (size_t)len);
        } else {
            luaL_error(m->L, "invalid use of '%c' in replacement string", ESC);
        }
        l -= (size_t)(esc + 1 - t);
        t = esc + 1;
    }
    luaL_addlstring(b, t, l);
}

/* Adds the replacement for the match s..e; false when the subject's text was kept (a
 * function or table gave nil or false). */
static bool add_replacement(matcher *m, luaL_Buffer *b, const char *s, const char *e, int how)
{
    lua_State *L = m->L;
    if (how == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = push_captures(m, s, e);
        lua_call(L, n, 1);
    } else if (how == LUA_TTABLE) {
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
    } else {
        add_template(m, b, s, e);
        return true;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return false;
    }
    if (!lua_isstring(L, -1))
        return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return true;
}

static int l_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *src = subject_arg(L, "gsub", &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int how = lua_type(L, 3);
    lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    luaL_argexpected(L, how == LUA_TNUMBER || how == LUA_TSTRING || how == LUA_TFUNCTION ||
                     how == LUA_TTABLE, 3, "string/function/table");
    bool anchored = lp > 0 && *p == '^';
    if (anchored)
        p++, lp--;
    matcher m;
    matcher_init(&m, L, src, ls, p, lp);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    const char *last_end = NULL;
    lua_Integer n = 0;
    bool changed = false;
    while (n < max) {
        m.level = 0;
        const char *e = match(&m, src, p);
        if (m.stopped)
            return give_up(&m, "gsub");
        if (e && e != last_end) {
            n++;
            changed = add_replacement(&m, &b, src, e, how) || changed;
            src = last_end = e;
        } else if (src < m.subject_end) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchored)
            break;
    }
    flush_steps(&m);
    if (m.stopped)
        return give_up(&m, "gsub");
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, src, (size_t)(m.subject_end - src));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

void hl_pattern_open(lua_State *L, int strtab)
{
    static const luaL_Reg funcs[] = {
        { "find", l_find }, { "match", l_match }, { "gmatch", l_gmatch }, { "gsub", l_gsub },
        { NULL, NULL },
    };
    strtab = lua_absindex(L, strtab);
    for (const luaL_Reg *f = funcs; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, strtab, f->name);
    }
}
