/* sim.c — the simulated caller (sim.h): an hl_call_env on a fake clock, simulated legs
 * (hl_leg_ops without SIP or audio), and the scenario runner.
 *
 * Time: nothing sleeps.  The driver moves the fake clock to the next timer deadline and
 * fires it; a playlist "plays" for the sum of its items' durations (from the WAVs when the
 * prompt library has them, else a default), keys arrive when the scenario says, dialled
 * legs answer or fail as the scenario says.  A scenario file is sandboxed Lua data (it may
 * require modules of rules/, to take its expectations from them). */
#include "sim/sim.h"
#include <dirent.h>
#include <stdarg.h>
#include <getopt.h>
#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "acd/acd.h"
#include "call/acd_policy.h"
#include "call/call.h"
#include "core/clock.h"
#include "core/files.h"
#include "core/log.h"
#include "core/timer.h"
#include "fax/fax.h"
#include "media/prompts.h"
#include "media/tones.h"
#include "store/store.h"
#include "call/dial_guard.h"
#include "http/http_client.h"
#include "lua/bounded.h"

#define DEFAULT_PROMPT_MS 1500      /* a prompt with no WAV "plays" this long (the check flags it) */
#define DEFAULT_KEY_AFTER_MS 1000   /* SPEC: a key is pressed 1 s after input is awaited */
#define DEFAULT_KEY_GAP_MS 300      /* between the keys of one entry ("1234#") */
#define DEFAULT_ANSWER_MS 2000      /* a dialled leg that answers, answers after this */
#define REFER_NOTIFY_MS 500         /* a REFER's outcome arrives after this */
#define FAX_SETUP_MS 12000          /* a simulated fax: T.30 phases A, B and E, as on loopback */
#define FAX_PAGE_MS 6000            /* ... plus this per page (a half-A4 fine page at 14400 bps) */
#define MAX_CALL_MS (2 * 3600 * 1000) /* a simulated call longer than this is runaway */
#define MAX_STEPS 200000            /* timer firings per call, likewise */
#define SCENARIO_DIR_DEPTH 4         /* folders searched below scripts/ and rules/ for scenarios */
#define MAX_ENTRIES 64
#define SCENARIO_INSTRUCTIONS 10000000 /* a scenario file is data: this is plenty */
#define TABLE_TEST_SUFFIX "_test.lua" /* plain table tests of a rule (lua/rule_tests.c) */
#define DEFAULT_CALLER "10000"
#define DEFAULT_TIME "2026-01-14T10:00:00"  /* a winter Wednesday morning */

typedef struct sim sim;

typedef struct sim_leg {
    hl_leg   leg;
    sim     *s;
    hl_timer t_play, t_record, t_answer, t_end, t_refer;
    int      rec_ms;
    char     rec_reason[16];
    int      hangup_after;   /* outbound: the callee hangs up this long after answering (0 = never) */
    int      refer_code;
    hl_timer t_fax;
    hl_fax_result fax;       /* the simulated session's result, FAX_DONE points here */
    double   last_voice;     /* wall time of the party's last key: its only "speech" here */
} sim_leg;

#define MAX_SIM_AGENTS 16           /* agents of one scenario */

/* A simulated agent (scenario agents = { {number=, centre=, skills=, ...} }): an account and
 * a registered phone that answers (or not) as its fields say, like a dialled leg. */
typedef struct sim_agent {
    char     number[32];
    int      ready_at;        /* ms: becomes ready then (-1: at the start, as state says) */
    hl_timer t_ready;
    struct sim *s;
} sim_agent;

typedef enum { E_KEYS, E_SILENCE, E_HANGUP } entry_kind;

typedef struct key_entry {
    entry_kind kind;
    char       keys[65];
    int        after_ms, gap_ms, at_ms;   /* at_ms >= 0: from the start of the call instead */
    hl_timer   t;
    sim       *s;
    int        pos;
} key_entry;

struct sim {
    hl_clock   clock;
    hl_timers  timers;
    hl_config  cfg;
    hl_call_env env;
    hl_policy *policy;
    hl_prompts *prompts;
    hl_store  *store;
    hl_call   *call;
    bool       ended;
    FILE      *out;             /* transcript, or NULL */
    lua_State *S;               /* the scenario's state; the scenario table at index scen */
    int        scen;
    key_entry  entries[MAX_ENTRIES];
    int        nentries, next_entry, last_epoch;
    bool       in_flight;
    char       heard[8192], dialled[1024], missing[1024];
    char       problems[2048];  /* what went wrong in the run itself */
    int        rec_ms;
    char       rec_reason[16];
    int        disk_free_mb;    /* scenario record = { disk_free_mb = N }; -1: not said (never full) */
    int        refer_code;
    int        fax_pages, fax_status;   /* scenario fax = { pages = N, status = T30 code } */
    hl_timer   t_hangup;
    long long  jobs_before;     /* highest jobs.id before the call: expect.jobs sees the newer ones */
    hl_acd    *acd;             /* the scenario's ACD when it has agents */
    sim_agent  agents[MAX_SIM_AGENTS];
    int        nagents;
};

/* ---- transcript ------------------------------------------------------------------------ */

static void say(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(sim *s, const char *fmt, ...)
{
    if (!s->out)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(s->out, "  [%7.3f] ", hl_clock_now_ms(&s->clock) / 1000.0);
    vfprintf(s->out, fmt, ap);
    fputc('\n', s->out);
    va_end(ap);
}

static void add_word(char *list, size_t size, const char *w)
{
    size_t n = strlen(list);
    if (n + strlen(w) + 2 < size)
        snprintf(list + n, size - n, "%s%s", n ? " " : "", w);
}

/* ---- simulated legs ---------------------------------------------------------------------- */

static void emit(sim_leg *l, hl_leg_event ev) { hl_call_on_leg_event(l->leg.call, &l->leg, &ev); }

/* How long a playlist item "plays" here: its WAV, a silence or a tone; -1 for a prompt with
 * no WAV (then played as DEFAULT_PROMPT_MS). */
static int known_item_ms(hl_prompts *prompts, const char *item)
{
    int ms = prompts ? hl_prompts_item_ms(prompts, item) : -1;
    if (ms >= 0)
        return ms;
    if (!strncmp(item, "silence:", 8))
        return atoi(item + 8);
    if (!strncmp(item, "tone:", 5)) {
        int t = hl_tone_ms(item + 5);
        return t > 0 ? t : DEFAULT_PROMPT_MS;
    }
    return -1;
}

static int item_ms(sim *s, const char *item)
{
    int ms = known_item_ms(s->prompts, item);
    if (ms >= 0)
        return ms;
    char key[128];
    snprintf(key, sizeof key, " %s ", item);
    char padded[sizeof s->missing + 2];
    snprintf(padded, sizeof padded, " %s ", s->missing);
    if (!strstr(padded, key))
        add_word(s->missing, sizeof s->missing, item);
    return DEFAULT_PROMPT_MS;
}

static void play_done(hl_timer *t)
{
    emit(t->data, (hl_leg_event){ .type = HL_LEG_EV_PLAY_DONE });
}

static int op_play(hl_leg *leg, struct hl_prompts *set, const char *const *items, int n)
{
    sim_leg *l = (sim_leg *)leg;
    sim *s = l->s;
    long ms = 0;
    char line[1024] = "";
    for (int i = 0; i < n; i++) {
        ms += item_ms(s, items[i]);
        add_word(line, sizeof line, items[i]);
        if (strncmp(items[i], "silence:", 8) != 0)
            add_word(s->heard, sizeof s->heard, items[i]);
    }
    say(s, "play %s (%.1f s)", line, ms / 1000.0);
    hl_timer_start(&s->timers, &l->t_play, ms, play_done, l);
    return 0;
}

static void op_play_stop(hl_leg *leg)
{
    sim_leg *l = (sim_leg *)leg;
    if (hl_timer_active(&l->t_play))
        say(l->s, "play stopped");
    hl_timer_stop(&l->s->timers, &l->t_play);
}

static void record_done(hl_timer *t)
{
    sim_leg *l = t->data;
    say(l->s, "recording ends: %s after %.1f s", l->rec_reason, l->rec_ms / 1000.0);
    emit(l, (hl_leg_event){ .type = HL_LEG_EV_RECORD_DONE, .reason = l->rec_reason,
                            .duration_ms = l->rec_ms });
}

static int op_record_start(hl_leg *leg, const hl_record_opts *o)
{
    sim_leg *l = (sim_leg *)leg;
    sim *s = l->s;
    int ms = s->rec_ms > 0 ? s->rec_ms : o->max_ms;
    const char *why = s->rec_reason[0] ? s->rec_reason : "silence";
    if (o->max_ms > 0 && ms >= o->max_ms) {
        ms = o->max_ms;
        why = "max";
    }
    if (o->both_legs && o->max_ms == 0 && o->silence_ms == 0) {
        say(s, "record %s (both parties, until the bridge ends)", o->path);
        return 0;                        /* a call's recording: it ends with the bridge */
    }
    l->rec_ms = ms;
    snprintf(l->rec_reason, sizeof l->rec_reason, "%s", why);
    say(s, "record %s (max %.1f s)", o->path, o->max_ms / 1000.0);
    hl_timer_start(&s->timers, &l->t_record, ms, record_done, l);
    return 0;
}

static void op_record_stop(hl_leg *leg)
{
    sim_leg *l = (sim_leg *)leg;
    if (hl_timer_active(&l->t_record))
        say(l->s, "recording stopped");
    hl_timer_stop(&l->s->timers, &l->t_record);
}

static void leg_end(sim_leg *l, const char *side, const char *cause)
{
    l->leg.state = HL_LEG_ENDED;
    l->leg.end = hl_clock_wall(&l->s->clock);
    snprintf(l->leg.hangup_side, sizeof l->leg.hangup_side, "%s", side);
    snprintf(l->leg.hangup_cause, sizeof l->leg.hangup_cause, "%s", cause);
    hl_timer_stop(&l->s->timers, &l->t_play);
    hl_timer_stop(&l->s->timers, &l->t_record);
    hl_timer_stop(&l->s->timers, &l->t_answer);
    hl_timer_stop(&l->s->timers, &l->t_end);
    hl_timer_stop(&l->s->timers, &l->t_refer);
    hl_timer_stop(&l->s->timers, &l->t_fax);
}

static int op_ring(hl_leg *leg)
{
    say(((sim_leg *)leg)->s, "ringing");
    leg->state = HL_LEG_RINGING;
    return 0;
}

static void answered(hl_timer *t)
{
    sim_leg *l = t->data;
    l->leg.state = HL_LEG_ANSWERED;
    if (!l->leg.answer)
        l->leg.answer = hl_clock_wall(&l->s->clock);
    if (l->leg.dir == HL_LEG_OUTBOUND)
        say(l->s, "%s answers", l->leg.remote_uri);
    emit(l, (hl_leg_event){ .type = HL_LEG_EV_ANSWERED });
}

static int op_answer(hl_leg *leg)
{
    sim_leg *l = (sim_leg *)leg;
    if (leg->state == HL_LEG_ENDED)
        return -1;
    say(l->s, "answer");
    leg->answer = hl_clock_wall(&l->s->clock);
    hl_timer_start(&l->s->timers, &l->t_answer, 0, answered, l);
    return 0;
}

static void op_hangup(hl_leg *leg, int code, const char *reason)
{
    sim_leg *l = (sim_leg *)leg;
    if (leg->state == HL_LEG_ENDED)
        return;
    say(l->s, "engine hangs up %s (%s)", leg->dir == HL_LEG_INBOUND ? "the caller" : leg->remote_uri,
        reason ? reason : "");
    leg_end(l, "engine", reason ? reason : "script");
}

static int op_send_dtmf(hl_leg *leg, char digit, int duration_ms)
{
    say(((sim_leg *)leg)->s, "send key %c", digit);
    return 0;
}

static int op_bridge(hl_leg *a, hl_leg *b)
{
    say(((sim_leg *)a)->s, "bridge caller <-> %s", b->remote_uri);
    return 0;
}

static void op_unbridge(hl_leg *leg) { say(((sim_leg *)leg)->s, "unbridge"); }

static const hl_leg_ops sim_ops;

/* A leg as the transcript names it: the caller's number, or the dialled URI. */
static const char *leg_name(const hl_leg *leg)
{
    return leg->dir == HL_LEG_INBOUND ? leg->from_user : leg->remote_uri;
}

static bool monitorable(const hl_leg *leg)
{
    return leg && leg->ops == &sim_ops && leg->state != HL_LEG_ENDED;
}

/* No audio here: the transcript says who hears whom, from the real legs' table
 * (media/monitor.h), one line per change ("monitor whisper: 8001 hears 8002 + 10000; ..."),
 * with the same refusals as the real leg (app/leg_sip.c). */
static int op_monitor(hl_leg *sup, hl_leg *agent, hl_leg *caller, hl_monitor_mode mode)
{
    sim *s = ((sim_leg *)sup)->s;
    if (mode == HL_MONITOR_STOP) {
        say(s, "monitor stop: %s hears nobody; nobody hears %s", leg_name(sup), leg_name(sup));
        return 0;
    }
    if (!monitorable(sup) || !monitorable(agent) || !monitorable(caller)) {
        say(s, "monitor refused: a leg is missing or ended; %s hears nobody", leg_name(sup));
        return -1;
    }
    const hl_leg *party[HL_PARTIES] = { sup, agent, caller };
    char line[512];
    int n = snprintf(line, sizeof line, "monitor %s:", hl_monitor_name(mode));
    for (int who = 0; who < HL_PARTIES && n < (int)sizeof line; who++) {
        n += snprintf(line + n, sizeof line - (size_t)n, "%s %s hears", who ? ";" : "", leg_name(party[who]));
        for (int src = 0, k = 0; src < HL_PARTIES && n < (int)sizeof line; src++)
            if (hl_monitor_hears(mode, who, src))
                n += snprintf(line + n, sizeof line - (size_t)n, "%s %s", k++ ? " +" : "", leg_name(party[src]));
    }
    say(s, "%s", line);
    return 0;
}

static double op_last_voice(hl_leg *leg) { return ((sim_leg *)leg)->last_voice; }
static int op_hold(hl_leg *leg, bool on) { return 0; }

static void refer_notify(hl_timer *t)
{
    sim_leg *l = t->data;
    say(l->s, "REFER outcome %d", l->refer_code);
    emit(l, (hl_leg_event){ .type = HL_LEG_EV_TRANSFERRED, .code = l->refer_code });
}

static int op_transfer(hl_leg *leg, const char *uri)
{
    sim_leg *l = (sim_leg *)leg;
    /* the same gate as the real leg (app/leg_sip.c): the dial rule "transfer" */
    hl_dial_opts o = { .purpose = "transfer", .caller = leg->from_user };
    if (hl_dial_guard_check(&l->s->env, leg->call ? hl_call_id(leg->call) : "sim", uri, &o)) {
        say(l->s, "REFER to %s refused by the dial rules", uri);
        return -1;
    }
    say(l->s, "REFER to %s", uri);
    add_word(l->s->dialled, sizeof l->s->dialled, uri);
    if (l->s->refer_code < 0)
        return -1;
    l->refer_code = l->s->refer_code ? l->s->refer_code : 200;
    hl_timer_start(&l->s->timers, &l->t_refer, REFER_NOTIFY_MS, refer_notify, l);
    return 0;
}

static void op_stats(hl_leg *leg, hl_cdr *cdr) { snprintf(cdr->codec, sizeof cdr->codec, "PCMA"); }

static void fax_done(hl_timer *t)
{
    sim_leg *l = t->data;
    say(l->s, "fax ends: %s, %d page(s)", l->fax.reason, l->fax.pages);
    emit(l, (hl_leg_event){ .type = HL_LEG_EV_FAX_DONE, .code = l->fax.status,
                            .reason = l->fax.reason, .fax = &l->fax });
}

/* A fax "takes" FAX_SETUP_MS + FAX_PAGE_MS a page.  Sending checks the document as the
 * real leg does (and counts its pages); receiving gets the scenario's fax.pages (1). */
static int op_fax_start(hl_leg *leg, const hl_leg_fax_opts *o)
{
    sim_leg *l = (sim_leg *)leg;
    sim *s = l->s;
    if (hl_timer_active(&l->t_fax) || leg->state == HL_LEG_ENDED)
        return -1;
    char err[256];
    int pages = o->send ? hl_fax_tiff_pages(o->path, err, sizeof err) : s->fax_pages;
    if (pages < 0) {
        say(s, "fax send %s refused: %s", o->path, err);
        return -1;
    }
    memset(&l->fax, 0, sizeof l->fax);
    l->fax.sending = o->send;
    l->fax.pages_in_file = o->send ? pages : -1;
    l->fax.status = s->fax_status;
    l->fax.ok = s->fax_status == 0;
    l->fax.pages = l->fax.ok ? pages : 0;
    snprintf(l->fax.reason, sizeof l->fax.reason, "%s", l->fax.ok ? "OK" : "simulated failure");
    snprintf(l->fax.remote_ident, sizeof l->fax.remote_ident, "SIM");
    l->fax.duration_ms = FAX_SETUP_MS + FAX_PAGE_MS * pages;
    say(s, "fax %s %s (%d page(s), %.1f s)", o->send ? "send" : "receive into", o->path, pages,
        l->fax.duration_ms / 1000.0);
    hl_timer_start(&s->timers, &l->t_fax, (uint64_t)l->fax.duration_ms, fax_done, l);
    return 0;
}

static void op_fax_stop(hl_leg *leg)
{
    sim_leg *l = (sim_leg *)leg;
    if (!hl_timer_active(&l->t_fax))
        return;
    say(l->s, "fax stopped");
    l->fax.ok = false;
    l->fax.pages = 0;
    l->fax.status = HL_FAX_STATUS_STOPPED;
    snprintf(l->fax.reason, sizeof l->fax.reason, "stopped (call ended)");
    hl_timer_start(&l->s->timers, &l->t_fax, 0, fax_done, l);
}

static void op_destroy(hl_leg *leg)
{
    sim_leg *l = (sim_leg *)leg;
    leg_end(l, leg->hangup_side[0] ? leg->hangup_side : "engine", leg->hangup_cause);
    free(l);
}

static const hl_leg_ops sim_ops = {
    .ring = op_ring, .answer = op_answer, .hangup = op_hangup, .play = op_play,
    .play_stop = op_play_stop, .record_start = op_record_start, .record_stop = op_record_stop,
    .send_dtmf = op_send_dtmf, .bridge = op_bridge, .unbridge = op_unbridge, .hold = op_hold,
    .transfer = op_transfer, .stats = op_stats, .fax_start = op_fax_start,
    .fax_stop = op_fax_stop, .monitor = op_monitor, .last_voice = op_last_voice,
    .destroy = op_destroy,
};

static sim_leg *sim_leg_new(sim *s, hl_leg_dir dir)
{
    sim_leg *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->s = s;
    l->leg.ops = &sim_ops;
    l->leg.impl = l;
    l->leg.dir = dir;
    l->leg.start = hl_clock_wall(&s->clock);
    return l;
}

/* ---- dialled legs ------------------------------------------------------------------------ */

static void callee_gone(hl_timer *t)
{
    sim_leg *l = t->data;
    say(l->s, "%s hangs up", l->leg.remote_uri);
    leg_end(l, "callee", "bye");
    emit(l, (hl_leg_event){ .type = HL_LEG_EV_HANGUP, .reason = "bye" });
}

static void dial_failed(hl_timer *t)
{
    sim_leg *l = t->data;
    int code = l->refer_code; /* reused: the failure code */
    say(l->s, "%s fails: %d", l->leg.remote_uri, code);
    char cause[16];
    snprintf(cause, sizeof cause, "%d", code);
    leg_end(l, "callee", cause);
    emit(l, (hl_leg_event){ .type = HL_LEG_EV_FAILED, .code = code, .reason = l->leg.hangup_cause });
    emit(l, (hl_leg_event){ .type = HL_LEG_EV_HANGUP, .code = code, .reason = l->leg.hangup_cause });
}

static int spec_int(lua_State *S, int t, const char *k, int dflt)
{
    lua_getfield(S, t, k);
    int v = lua_isinteger(S, -1) ? (int)lua_tointeger(S, -1) : dflt;
    lua_pop(S, 1);
    return v;
}

static bool spec_bool(lua_State *S, int t, const char *k)
{
    lua_getfield(S, t, k);
    bool v = lua_toboolean(S, -1);
    lua_pop(S, 1);
    return v;
}

/* What a dialled leg (or a simulated agent's phone) does, from its spec table at S's index
 * spec (0: none, it never answers): fail = code [after], answer_after [hangup_after]. */
static void schedule_callee(sim *s, sim_leg *l, int spec, int timeout)
{
    lua_State *S = s->S;
    const char *uri = l->leg.remote_uri;
    bool have = spec != 0 && !spec_bool(S, spec, "no_answer");
    if (have && spec_int(S, spec, "fail", 0) > 0) {
        l->refer_code = spec_int(S, spec, "fail", 0);
        say(s, "dial %s (will fail %d)", uri, l->refer_code);
        hl_timer_start(&s->timers, &l->t_answer, spec_int(S, spec, "after", 500), dial_failed, l);
    } else if (have) {
        int after = spec_int(S, spec, "answer_after", DEFAULT_ANSWER_MS);
        l->hangup_after = spec_int(S, spec, "hangup_after", 0);
        say(s, "dial %s (will answer after %.1f s)", uri, after / 1000.0);
        if (after < timeout)
            hl_timer_start(&s->timers, &l->t_answer, after, answered, l);
        else {
            l->refer_code = 408;
            hl_timer_start(&s->timers, &l->t_answer, timeout, dial_failed, l);
        }
        if (l->hangup_after > 0 && after < timeout)
            hl_timer_start(&s->timers, &l->t_end, after + l->hangup_after, callee_gone, l);
    } else {
        say(s, "dial %s (no answer in the scenario)", uri);
        l->refer_code = 408;
        hl_timer_start(&s->timers, &l->t_answer, timeout, dial_failed, l);
    }
}

/* Answered / failed / never answers, per the scenario's dial = { [uri] = {...}, default = {...} }. */
static hl_leg *sim_dial(hl_call_env *env, hl_call *call, const char *uri, const hl_dial_opts *o)
{
    sim *s = env->owner;
    if (hl_dial_guard_check(env, hl_call_id(call), uri, o) != 0) {  /* as app/leg_sip.c */
        say(s, "dial %s refused by the dial rules", uri);
        return NULL;
    }
    sim_leg *l = sim_leg_new(s, HL_LEG_OUTBOUND);
    if (!l)
        return NULL;
    l->leg.call = call;
    snprintf(l->leg.remote_uri, sizeof l->leg.remote_uri, "%s", uri);
    snprintf(l->leg.from_user, sizeof l->leg.from_user, "%s", o && o->from_user ? o->from_user : s->cfg.sip_from_user);
    snprintf(l->leg.to_user, sizeof l->leg.to_user, "%.*s", (int)strcspn(uri + 4, "@;>"), uri + 4);
    snprintf(l->leg.sip_call_id, sizeof l->leg.sip_call_id, "sim-out-%s", uri + 4);
    add_word(s->dialled, sizeof s->dialled, uri);
    lua_State *S = s->S;
    lua_getfield(S, s->scen, "dial");
    bool have = false;
    if (lua_istable(S, -1)) {
        if (lua_getfield(S, -1, uri) != LUA_TTABLE) {
            lua_pop(S, 1);
            lua_getfield(S, -1, "default");
        }
        have = lua_istable(S, -1);
    }
    int timeout = o && o->timeout_ms > 0 ? o->timeout_ms : s->cfg.ring_timeout_ms;
    schedule_callee(s, l, have ? lua_gettop(S) : 0, timeout);
    lua_settop(S, s->scen);
    return &l->leg;
}

static void problem(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- simulated agents -------------------------------------------------------------------------
 * agents = { { number = "1001", centre = "0431", skills = "general:5", role = "agent",
 *              state = "ready" | "not-ready" | "logged-out", ready_at = MS,
 *              answer_after = MS, hangup_after = MS, fail = CODE, after = MS, no_answer = true } }
 * Each is an account with a registered phone in the scenario's own ACD; the policy's queues
 * and strategy (acd_queues, acd_choose) decide as they would on the engine.  Its phone is
 * rung as "agent:NUMBER" (expect.dialled lists them in ringing order). */

static int sim_choose(void *arg, const hl_acd_choice *in, int *chosen, int max, char *err, int errlen)
{
    sim *s = arg;
    return hl_acd_policy_choose(s->policy, &s->cfg, &s->clock, in, chosen, max, err, errlen);
}

static void sim_acd_event(void *arg, const char *kind, json_t *event)
{
    sim *s = arg;
    if (strcmp(kind, "agent") != 0)
        return;
    const char *reason = json_string_value(json_object_get(event, "reason"));
    say(s, "agent %s: %s -> %s%s%s", json_string_value(json_object_get(event, "agent")) ?: "?",
        json_string_value(json_object_get(event, "prev")) ?: "?",
        json_string_value(json_object_get(event, "state")) ?: "?",
        reason && *reason ? " " : "", reason && *reason ? reason : "");
}

/* Pushes the scenario's spec table of agent number (nil when none); returns its index. */
static int agent_spec(sim *s, const char *number)
{
    lua_State *S = s->S;
    lua_getfield(S, s->scen, "agents");
    int list = lua_gettop(S);
    if (lua_istable(S, list))
        for (lua_Integer i = 1; lua_geti(S, list, i) == LUA_TTABLE; i++) {
            lua_getfield(S, -1, "number");
            bool it = lua_isstring(S, -1) && !strcmp(lua_tostring(S, -1), number);
            lua_pop(S, 1);
            if (it) {
                lua_remove(S, list);
                return lua_gettop(S);
            }
            lua_pop(S, 1);
        }
    lua_settop(S, list - 1);
    lua_pushnil(S);
    return 0;
}

static hl_leg *sim_dial_agent(hl_call_env *env, hl_call *call, const char *agent, const hl_dial_agent_opts *o)
{
    sim *s = env->owner;
    sim_leg *l = sim_leg_new(s, HL_LEG_OUTBOUND);
    if (!l)
        return NULL;
    l->leg.call = call;
    snprintf(l->leg.remote_uri, sizeof l->leg.remote_uri, "agent:%s", agent);
    snprintf(l->leg.from_user, sizeof l->leg.from_user, "%s", o->from_user ? o->from_user : "");
    snprintf(l->leg.to_user, sizeof l->leg.to_user, "%s", agent);
    snprintf(l->leg.sip_call_id, sizeof l->leg.sip_call_id, "sim-agent-%s", agent);
    add_word(s->dialled, sizeof s->dialled, l->leg.remote_uri);
    int spec = agent_spec(s, agent);
    schedule_callee(s, l, spec, o->timeout_ms > 0 ? o->timeout_ms : s->cfg.ring_timeout_ms);
    lua_settop(s->S, s->scen);
    return &l->leg;
}

static void agent_ready(hl_timer *t)
{
    sim_agent *a = t->data;
    char err[160];
    if (hl_acd_agent_set(a->s->acd, a->number, HL_AGENT_READY, "", "scenario", err, sizeof err) != 0)
        problem(a->s, "agent %s: %s", a->number, err);
}

static void agent_from_spec(sim *s, lua_State *S, int t)
{
    char number[32], centre[64], skills[256], role[16], state[16];
    const char *k[] = { "number", "centre", "skills", "role", "state" };
    char *out[] = { number, centre, skills, role, state };
    size_t len[] = { sizeof number, sizeof centre, sizeof skills, sizeof role, sizeof state };
    const char *dflt[] = { "", "", "general", "agent", "ready" };
    for (int i = 0; i < 5; i++) {
        lua_getfield(S, t, k[i]);
        snprintf(out[i], len[i], "%s", lua_isstring(S, -1) ? lua_tostring(S, -1) : dflt[i]);
        lua_pop(S, 1);
    }
    if (!number[0] || s->nagents == MAX_SIM_AGENTS) {
        problem(s, "agents: each needs a number (at most %d agents)", MAX_SIM_AGENTS);
        return;
    }
    sim_agent *a = &s->agents[s->nagents++];
    snprintf(a->number, sizeof a->number, "%s", number);
    a->s = s;
    a->ready_at = spec_int(S, t, "ready_at", -1);
    hl_acd_agent_upsert(s->acd, number, number, centre, skills, role);
    hl_acd_agent_registered(s->acd, number, strcmp(state, "unregistered") != 0);
    int want = hl_agent_state_parse(state);
    char err[160];
    if (a->ready_at >= 0)
        hl_timer_start(&s->timers, &a->t_ready, (uint64_t)a->ready_at, agent_ready, a);
    else if (want == HL_AGENT_READY || want == HL_AGENT_NOT_READY)
        if (hl_acd_agent_set(s->acd, number, want, want == HL_AGENT_NOT_READY ? "scenario" : "", "scenario",
                             err, sizeof err) != 0)
            problem(s, "agent %s: %s", number, err);
}

/* The scenario's ACD, with its agents (none when it names none: queues are then empty). */
static void start_agents(sim *s)
{
    lua_State *S = s->S;
    lua_getfield(S, s->scen, "agents");
    int list = lua_gettop(S);
    hl_acd_cfg cfg = { .reserve_ms = s->cfg.acd_reserve_ms, .ring_guard_ms = s->cfg.acd_ring_guard_ms,
                       .log_size = s->cfg.acd_log_size };
    s->acd = hl_acd_new(&s->clock, &s->timers, &cfg);
    char err[512];
    if (!s->acd || hl_acd_policy_queues(s->policy, s->acd, &s->cfg, &s->clock, err, sizeof err) != 0) {
        problem(s, "agents: %s", s->acd ? err : "out of memory");
        lua_settop(S, list - 1);
        return;
    }
    hl_acd_set_strategy(s->acd, sim_choose, s);
    hl_acd_set_event_sink(s->acd, sim_acd_event, s);
    s->env.acd = s->acd;
    s->env.dial_agent = sim_dial_agent;
    for (lua_Integer i = 1; lua_istable(S, list) && lua_geti(S, list, i) == LUA_TTABLE; i++) {
        agent_from_spec(s, S, lua_gettop(S));
        lua_pop(S, 1);
    }
    lua_settop(S, list - 1);
}

/* ---- the caller ---------------------------------------------------------------------------- */

static hl_policy *sim_policy(hl_call_env *env) { return ((sim *)env->owner)->policy; }

static void sim_call_ended(hl_call_env *env, hl_call *call)
{
    sim *s = env->owner;
    s->ended = true;
    say(s, "call ended");
}

static void caller_hangs_up(sim *s)
{
    hl_leg *leg = hl_call_leg(s->call, 0);
    if (!leg || leg->state == HL_LEG_ENDED || hl_call_is_originated(s->call))
        return; /* a job's leg 0 is the engine's own placeholder, not a simulated caller */
    say(s, "caller hangs up");
    leg_end((sim_leg *)leg, "caller", "bye");
    emit((sim_leg *)leg, (hl_leg_event){ .type = HL_LEG_EV_HANGUP, .reason = "bye" });
}

static void hangup_timer(hl_timer *t) { caller_hangs_up(t->data); }

static void entry_step(hl_timer *t)
{
    key_entry *e = t->data;
    sim *s = e->s;
    if (!s->call || s->ended)
        return;
    if (e->kind == E_HANGUP) {
        s->in_flight = false;
        caller_hangs_up(s);
        return;
    }
    hl_leg *leg = hl_call_leg(s->call, 0);
    char k = e->keys[e->pos++];
    if (leg && leg->state != HL_LEG_ENDED) {
        say(s, "caller presses %c", k);
        ((sim_leg *)leg)->last_voice = hl_clock_wall(&s->clock);
        emit((sim_leg *)leg, (hl_leg_event){ .type = HL_LEG_EV_DTMF, .digit = k,
                                             .dtmf_source = HL_DTMF_SIM, .duration_ms = 100 });
    }
    if (e->keys[e->pos] && !s->ended) {
        hl_timer_start(&s->timers, &e->t, e->gap_ms, entry_step, e);
    } else if (e->at_ms < 0) {
        s->in_flight = false;
        s->last_epoch = s->call ? hl_call_input_epoch(s->call) : 0;
    }
}

/* When the call newly awaits input, the next entry of `keys` begins. */
static void check_input(sim *s)
{
    if (!s->call || s->ended || s->in_flight || !hl_call_awaiting_input(s->call))
        return;
    int ep = hl_call_input_epoch(s->call);
    while (ep > s->last_epoch && s->next_entry < s->nentries) {
        key_entry *e = &s->entries[s->next_entry++];
        if (e->at_ms >= 0)
            continue; /* timed from the start, already scheduled */
        s->last_epoch = ep;
        if (e->kind == E_SILENCE) {
            say(s, "caller stays silent");
            return;
        }
        s->in_flight = true;
        hl_timer_start(&s->timers, &e->t, e->after_ms, entry_step, e);
        return;
    }
}

/* ---- scenario files -------------------------------------------------------------------- */

static void scen_hook(lua_State *L, lua_Debug *ar)
{
    luaL_error(L, "scenario runs too long (it should be plain data)");
}

/* require(name) in a scenario file: rules/NAME.lua (a.b -> a/b.lua), run once per scenario
 * file in the scenario's own sandbox, so that a scenario can take its expectations from the
 * rule it tests (the centres' addresses) instead of a copy an admin must keep in step.
 * Upvalue 1: the rules directory; upvalue 2: the modules loaded so far. */
static int scen_require(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    if (!hl_lua_module_name_valid(name))
        return luaL_error(L, "require: '%s' is not a module name (letters, digits, _ and dots; "
                             "scenario files may require modules of rules/ only)", name);
    lua_settop(L, 1);
    if (lua_getfield(L, lua_upvalueindex(2), name) != LUA_TNIL)
        return 1;
    lua_pop(L, 1);
    char path[1200];
    int n = snprintf(path, sizeof path, "%s/", lua_tostring(L, lua_upvalueindex(1)));
    for (const char *c = name; *c && n < (int)sizeof path - 5; c++)
        path[n++] = *c == '.' ? '/' : *c;
    snprintf(path + n, sizeof path - n, ".lua");
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return luaL_error(L, "require: module '%s' not found in %s (scenario files may require "
                             "modules of rules/ only)", name, lua_tostring(L, lua_upvalueindex(1)));
    if (luaL_loadfilex(L, path, "t") != LUA_OK)
        return lua_error(L);
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, lua_upvalueindex(2), name);
    return 1;
}

/* prompt_ms(item, ...) in a scenario file: how long these playlist items (names, or lists of
 * names) play in the simulator, in ms — from the prompt library's WAVs, so a scenario that
 * times a hang-up into a prompt follows the recording an admin puts in its place.
 * Upvalue 1: the prompt library (lightuserdata, may be NULL). */
static int scen_prompt_ms(lua_State *L)
{
    hl_prompts *prompts = lua_touserdata(L, lua_upvalueindex(1));
    lua_Integer total = 0;
    for (int i = 1; i <= lua_gettop(L); i++) {
        bool list = lua_istable(L, i);
        int n = list ? (int)luaL_len(L, i) : 1;
        for (int k = 1; k <= n; k++) {
            if (list)
                lua_geti(L, i, k);
            else
                lua_pushvalue(L, i);
            const char *item = lua_tostring(L, -1);
            if (!item)
                return luaL_error(L, "prompt_ms: argument %d must be a prompt name or a list of them", i);
            int ms = known_item_ms(prompts, item);
            total += ms >= 0 ? ms : DEFAULT_PROMPT_MS;
            lua_pop(L, 1);
        }
    }
    lua_pushinteger(L, total);
    return 1;
}

static lua_State *scenario_state(const char *rules_dir, hl_prompts *prompts)
{
    lua_State *S = luaL_newstate();
    if (!S)
        return NULL;
    luaL_requiref(S, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(S, LUA_STRLIBNAME, luaopen_string, 1);
    luaL_requiref(S, LUA_TABLIBNAME, luaopen_table, 1);
    luaL_requiref(S, LUA_MATHLIBNAME, luaopen_math, 1);
    lua_pop(S, 4);
    /* a scenario file is part of the policy a reload tests: no matcher or finalizer that
     * could hold the reload worker from inside C (lua/bounded.h) */
    lua_getglobal(S, "string");
    hl_pattern_open(S, -1);
    lua_pop(S, 1);
    hl_metatable_open(S);
    static const char *const gone[] = { "dofile", "loadfile", "load", "collectgarbage", NULL };
    for (int i = 0; gone[i]; i++) {
        lua_pushnil(S);
        lua_setglobal(S, gone[i]);
    }
    lua_pushstring(S, rules_dir);
    lua_newtable(S);
    lua_pushcclosure(S, scen_require, 2);
    lua_setglobal(S, "require");
    lua_pushlightuserdata(S, prompts);
    lua_pushcclosure(S, scen_prompt_ms, 1);
    lua_setglobal(S, "prompt_ms");
    lua_sethook(S, scen_hook, LUA_MASKCOUNT, SCENARIO_INSTRUCTIONS);
    return S;
}

/* Appends "; " and a formatted item to a list of findings, dropping what does not fit. */
static void append_finding(char *buf, size_t size, const char *fmt, va_list ap)
{
    size_t n = strlen(buf);
    if (n + 4 >= size)
        return;
    if (n)
        n += snprintf(buf + n, size - n, "; ");
    vsnprintf(buf + n, size - n, fmt, ap);
}

static void problem(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(sim *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    append_finding(s->problems, sizeof s->problems, fmt, ap);
    va_end(ap);
}

/* keys = { "1", "1234#", {key="0", after=2000, gap=200}, {silence=true}, {hangup=true, after=500},
 *          {at=3000, key="5"} } */
static void parse_entries(sim *s)
{
    lua_State *S = s->S;
    lua_getfield(S, s->scen, "keys");
    if (lua_isstring(S, -1)) { /* keys = "1" */
        lua_createtable(S, 1, 0);
        lua_insert(S, -2);
        lua_rawseti(S, -2, 1);
    }
    int n = lua_istable(S, -1) ? (int)luaL_len(S, -1) : 0;
    for (int i = 1; i <= n && s->nentries < MAX_ENTRIES; i++) {
        key_entry *e = &s->entries[s->nentries];
        memset(e, 0, sizeof *e);
        e->s = s;
        e->after_ms = DEFAULT_KEY_AFTER_MS;
        e->gap_ms = DEFAULT_KEY_GAP_MS;
        e->at_ms = -1;
        lua_geti(S, -1, i);
        const char *keys = NULL;
        if (lua_type(S, -1) == LUA_TSTRING) {
            keys = lua_tostring(S, -1);
        } else if (lua_istable(S, -1)) {
            int t = lua_gettop(S);
            e->after_ms = spec_int(S, t, "after", e->after_ms);
            e->gap_ms = spec_int(S, t, "gap", e->gap_ms);
            e->at_ms = spec_int(S, t, "at", -1);
            lua_getfield(S, t, "silence");
            if (lua_toboolean(S, -1))
                e->kind = E_SILENCE;
            lua_getfield(S, t, "hangup");
            if (lua_toboolean(S, -1))
                e->kind = E_HANGUP;
            lua_getfield(S, t, "key");
            keys = lua_tostring(S, -1);
            lua_pop(S, 3);
        }
        if (e->kind == E_KEYS) {
            if (!keys || !*keys || strlen(keys) >= sizeof e->keys ||
                strspn(keys, "0123456789*#ABCD") != strlen(keys)) {
                problem(s, "keys[%d] must be keys from 0-9 * # (or {silence=true}, {hangup=true})", i);
                lua_pop(S, 1);
                continue;
            }
            snprintf(e->keys, sizeof e->keys, "%s", keys);
        }
        lua_pop(S, 1);
        s->nentries++;
        if (e->at_ms >= 0)
            hl_timer_start(&s->timers, &e->t, e->at_ms, entry_step, e);
    }
    lua_pop(S, 1);
}

static const char *scen_str(sim *s, const char *k, const char *dflt, char *buf, size_t len)
{
    lua_getfield(s->S, s->scen, k);
    const char *v = lua_isstring(s->S, -1) ? lua_tostring(s->S, -1) : dflt;
    snprintf(buf, len, "%s", v);
    lua_pop(s->S, 1);
    return buf;
}

/* store = { {"INSERT INTO ... VALUES (?, ?)", 1, "x"}, ... } run before the call. */
static void seed_store(sim *s)
{
    lua_State *S = s->S;
    lua_getfield(S, s->scen, "store");
    int n = lua_istable(S, -1) ? (int)luaL_len(S, -1) : 0;
    for (int i = 1; i <= n; i++) {
        lua_geti(S, -1, i);
        if (!lua_istable(S, -1) || !s->store) {
            problem(s, s->store ? "store[%d] must be {sql, params...}" : "store[%d]: no store", i);
            lua_pop(S, 1);
            continue;
        }
        lua_geti(S, -1, 1);
        const char *sql = lua_tostring(S, -1);
        json_t *params = json_array();
        int m = (int)luaL_len(S, -2);
        for (int j = 2; j <= m; j++) {
            lua_geti(S, -2 - (j - 2), j);
            if (lua_isinteger(S, -1))
                json_array_append_new(params, json_integer(lua_tointeger(S, -1)));
            else if (lua_type(S, -1) == LUA_TNUMBER)
                json_array_append_new(params, json_real(lua_tonumber(S, -1)));
            else if (lua_isstring(S, -1))
                json_array_append_new(params, json_string(lua_tostring(S, -1)));
            else
                json_array_append_new(params, json_null());
        }
        char err[256] = "";
        json_t *rows = sql ? hl_store_exec_sync(s->store, sql, params, err, sizeof err) : NULL;
        if (!rows)
            problem(s, "store[%d]: %s", i, sql ? err : "missing SQL");
        json_decref(rows);
        json_decref(params);
        lua_settop(S, s->scen + 1);
    }
    lua_settop(S, s->scen);
}

/* ---- expectations ------------------------------------------------------------------------ */

typedef struct cdr_field {
    const char *name;
    size_t      off;
    int         kind;  /* 0 string, 1 double */
} cdr_field;

#define F(n, k) { #n, offsetof(hl_cdr, n), k }
static const cdr_field cdr_fields[] = {
    F(call_id, 0), F(leg_id, 0), F(direction, 0), F(caller, 0), F(called, 0), F(hangup_side, 0),
    F(hangup_cause, 0), F(dtmf, 0), F(prompts, 0), F(menus, 0), F(route, 0), F(script_version, 0),
    F(recording, 0), F(codec, 0), F(vars, 0), F(start, 1), F(answer, 1), F(end, 1),
    F(agent, 0), F(queue, 0), F(queue_outcome, 0), F(hangup_first, 0),
};
#undef F

typedef struct verdict {
    char text[2048];
} verdict;

static void differ(verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void differ(verdict *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    append_finding(v->text, sizeof v->text, fmt, ap);
    va_end(ap);
}

/* Is every word of the Lua list at idx found in order in list (space-separated)? */
static void expect_subsequence(sim *s, verdict *v, int idx, const char *list, const char *what)
{
    lua_State *S = s->S;
    int n = (int)luaL_len(S, idx);
    const char *p = list;
    for (int i = 1; i <= n; i++) {
        lua_geti(S, idx, i);
        const char *w = lua_tostring(S, -1);
        lua_pop(S, 1);
        if (!w)
            continue;
        const char *found = NULL;
        size_t wl = strlen(w);
        for (const char *q = p; (q = strstr(q, w)); q++) {
            if ((q == list || q[-1] == ' ') && (q[wl] == ' ' || q[wl] == 0)) {
                found = q;
                break;
            }
        }
        if (!found) {
            differ(v, "%s: expected '%s' (item %d) %s; got: %s", what, w, i,
                   i > 1 ? "after the ones before it" : "", list[0] ? list : "(none)");
            return;
        }
        p = found + wl;
    }
}

static void expect_absent(sim *s, verdict *v, int idx, const char *list, const char *what)
{
    lua_State *S = s->S;
    int n = (int)luaL_len(S, idx);
    char padded[9000];
    snprintf(padded, sizeof padded, " %s ", list);
    for (int i = 1; i <= n; i++) {
        lua_geti(S, idx, i);
        const char *w = lua_tostring(S, -1);
        char key[200];
        snprintf(key, sizeof key, " %s ", w ? w : "");
        if (w && strstr(padded, key))
            differ(v, "%s: '%s' was heard but must not be", what, w);
        lua_pop(S, 1);
    }
}

static void expect_cdr_field(verdict *v, const hl_cdr *cdr, const char *k, lua_State *S, int idx)
{
    for (size_t i = 0; i < sizeof cdr_fields / sizeof cdr_fields[0]; i++) {
        const cdr_field *f = &cdr_fields[i];
        if (strcmp(f->name, k) != 0)
            continue;
        if (f->kind == 0) {
            const char *got = (const char *)cdr + f->off;
            if (lua_isboolean(S, idx)) {             /* true: set at all; false: empty */
                if (lua_toboolean(S, idx) != (got[0] != 0))
                    differ(v, "cdr.%s: expected %s, got \"%s\"", k,
                           lua_toboolean(S, idx) ? "a value" : "nothing", got);
            } else if (lua_istable(S, idx)) {        /* { match = "lua pattern" } */
                lua_getfield(S, idx, "match");
                const char *pat = lua_tostring(S, -1);
                bool ok = false;
                if (pat) {
                    lua_getglobal(S, "string");
                    lua_getfield(S, -1, "find");
                    lua_pushstring(S, got);
                    lua_pushstring(S, pat);
                    ok = lua_pcall(S, 2, 1, 0) == LUA_OK && !lua_isnil(S, -1);
                    lua_pop(S, 2);
                }
                if (!ok)
                    differ(v, "cdr.%s: expected a match of \"%s\", got \"%s\"", k, pat ? pat : "?", got);
                lua_pop(S, 1);
            } else {
                const char *want = lua_tostring(S, idx);
                if (!want || strcmp(want, got) != 0)
                    differ(v, "cdr.%s: expected \"%s\", got \"%s\"", k, want ? want : "?", got);
            }
        } else {
            double got = *(const double *)((const char *)cdr + f->off);
            if (lua_isboolean(S, idx)) {
                if (lua_toboolean(S, idx) != (got > 0))
                    differ(v, "cdr.%s: expected %s, got %s", k, lua_toboolean(S, idx) ? "set" : "unset",
                           got > 0 ? "set" : "unset");
            } else if (lua_tonumber(S, idx) != got) {
                differ(v, "cdr.%s: expected %.3f, got %.3f", k, lua_tonumber(S, idx), got);
            }
        }
        return;
    }
    differ(v, "cdr.%s: no such CDR field", k);
}

static void expect_vars(sim *s, verdict *v, int idx, const hl_cdr *cdr)
{
    lua_State *S = s->S;
    json_t *o = json_loads(cdr->vars[0] ? cdr->vars : "{}", 0, NULL);
    lua_pushnil(S);
    while (lua_next(S, idx)) {
        const char *k = lua_tostring(S, -2);
        json_t *got = o ? json_object_get(o, k) : NULL;
        char gs[256] = "(unset)";
        if (json_is_string(got))
            snprintf(gs, sizeof gs, "%s", json_string_value(got));
        else if (json_is_integer(got))
            snprintf(gs, sizeof gs, "%lld", (long long)json_integer_value(got));
        else if (json_is_real(got))
            snprintf(gs, sizeof gs, "%.14g", json_real_value(got));
        else if (json_is_boolean(got))
            snprintf(gs, sizeof gs, "%s", json_is_true(got) ? "true" : "false");
        char ws[256];
        if (lua_isboolean(S, -1))
            snprintf(ws, sizeof ws, "%s", lua_toboolean(S, -1) ? "true" : "false");
        else if (lua_isinteger(S, -1))
            snprintf(ws, sizeof ws, "%lld", (long long)lua_tointeger(S, -1));
        else if (lua_type(S, -1) == LUA_TNUMBER)
            snprintf(ws, sizeof ws, "%.14g", lua_tonumber(S, -1));
        else
            snprintf(ws, sizeof ws, "%s", lua_tostring(S, -1) ? lua_tostring(S, -1) : "?");
        if (strcmp(gs, ws) != 0)
            differ(v, "vars.%s: expected %s, got %s", k ? k : "?", ws, gs);
        lua_pop(S, 1);
    }
    json_decref(o);
}

/* Highest jobs.id in the scenario's store (0 when none, or no store). */
static long long jobs_max_id(sim *s)
{
    if (!s->store)
        return 0;
    char err[256];
    json_t *rows = hl_store_exec_sync(s->store, "SELECT COALESCE(MAX(id), 0) AS n FROM jobs", NULL, err, sizeof err);
    long long n = (long long)json_integer_value(json_object_get(json_array_get(rows, 0), "n"));
    json_decref(rows);
    return n;
}

/* Does the JSON value got equal the scenario's Lua value at idx (tables: every key of the
 * expected table, recursively; other keys of got are allowed)? */
static bool json_matches(lua_State *S, int idx, json_t *got, int depth)
{
    idx = lua_absindex(S, idx);
    switch (lua_type(S, idx)) {
    case LUA_TSTRING:
        if (json_is_string(got))
            return !strcmp(json_string_value(got), lua_tostring(S, idx));
        if (json_is_integer(got)) { /* a number typed as a string in one place, a number in the other */
            char b[32];
            snprintf(b, sizeof b, "%lld", (long long)json_integer_value(got));
            return !strcmp(b, lua_tostring(S, idx));
        }
        return false;
    case LUA_TNUMBER: return json_is_number(got) && json_number_value(got) == lua_tonumber(S, idx);
    case LUA_TBOOLEAN: return json_is_boolean(got) && json_is_true(got) == lua_toboolean(S, idx);
    case LUA_TTABLE: break;
    default: return false;
    }
    if (depth > 8 || !(json_is_object(got) || json_is_array(got)))
        return false;
    bool ok = true;
    lua_pushnil(S);
    while (ok && lua_next(S, idx)) {
        json_t *g = lua_type(S, -2) == LUA_TNUMBER ? json_array_get(got, (size_t)lua_tointeger(S, -2) - 1)
                                                   : json_object_get(got, lua_tostring(S, -2));
        ok = g && json_matches(S, -1, g, depth + 1);
        lua_pop(S, 1);
    }
    if (!ok)
        lua_pop(S, 1);
    return ok;
}

/* expect.jobs = { {kind = "fax", args = {to = "..."}}, ... }: exactly these jobs, in this
 * order, were queued by the call (hl.jobs.enqueue); args are compared key by key. */
static void expect_jobs(sim *s, verdict *v, int idx)
{
    lua_State *S = s->S;
    if (!s->store) {
        differ(v, "jobs: the simulation has no store");
        return;
    }
    char err[256];
    json_t *params = json_pack("[I]", (json_int_t)s->jobs_before);
    json_t *rows = hl_store_exec_sync(s->store, "SELECT kind, args, max_attempts, next_at, created "
                                      "FROM jobs WHERE id > ? ORDER BY id", params, err, sizeof err);
    json_decref(params);
    if (!rows) {
        differ(v, "jobs: %s", err);
        return;
    }
    int want = (int)luaL_len(S, idx), got = (int)json_array_size(rows);
    char kinds[512] = "";
    for (int i = 0; i < got; i++)
        add_word(kinds, sizeof kinds, json_string_value(json_object_get(json_array_get(rows, i), "kind")));
    if (want != got)
        differ(v, "jobs: expected %d queued, got %d (%s)", want, got, got ? kinds : "none");
    for (int i = 1; i <= want && i <= got; i++) {
        json_t *row = json_array_get(rows, i - 1);
        lua_geti(S, idx, i);
        int e = lua_gettop(S);
        lua_getfield(S, e, "kind");
        const char *kind = json_string_value(json_object_get(row, "kind"));
        if (lua_isstring(S, -1) && strcmp(lua_tostring(S, -1), kind ? kind : ""))
            differ(v, "jobs[%d].kind: expected %s, got %s", i, lua_tostring(S, -1), kind ? kind : "?");
        lua_getfield(S, e, "args");
        json_t *args = json_loads(json_string_value(json_object_get(row, "args")), 0, NULL);
        if (!lua_isnil(S, -1) && !json_matches(S, -1, args, 0)) {
            char *t = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);
            differ(v, "jobs[%d].args: expected other values, got %s", i, t ? t : "?");
            free(t);
        }
        json_decref(args);
        lua_getfield(S, e, "max_attempts");
        if (lua_isinteger(S, -1) && lua_tointeger(S, -1) != json_integer_value(json_object_get(row, "max_attempts")))
            differ(v, "jobs[%d].max_attempts: expected %lld, got %lld", i, (long long)lua_tointeger(S, -1),
                   (long long)json_integer_value(json_object_get(row, "max_attempts")));
        lua_settop(S, e - 1);
    }
    json_decref(rows);
}

/* A job scenario: expect.job = "done" | "failed", expect.job_error = "lua pattern". */
static void expect_job_outcome(sim *s, verdict *v, int e)
{
    lua_State *S = s->S;
    const char *why = "";
    int oc = hl_call_outcome(s->call, &why);
    const char *got = oc > 0 ? "done" : oc < 0 ? "failed" : "running";
    if (lua_getfield(S, e, "job") == LUA_TSTRING && strcmp(lua_tostring(S, -1), got))
        differ(v, "job: expected %s, got %s%s%s", lua_tostring(S, -1), got, why[0] ? ": " : "", why);
    lua_pop(S, 1);
    if (lua_getfield(S, e, "job_error") == LUA_TSTRING) {
        lua_getglobal(S, "string");
        lua_getfield(S, -1, "find");
        lua_pushstring(S, why);
        lua_pushvalue(S, -4);
        bool ok = lua_pcall(S, 2, 1, 0) == LUA_OK && !lua_isnil(S, -1);
        lua_pop(S, 2);
        if (!ok)
            differ(v, "job_error: expected a match of \"%s\", got \"%s\"", lua_tostring(S, -1), why);
    }
    lua_pop(S, 1);
}

/* expect.agent_states = { ["1001"] = "not-ready", ... } after the call. */
static void expect_agent_states(sim *s, verdict *v, int t)
{
    lua_State *S = s->S;
    lua_pushnil(S);
    while (lua_next(S, t)) {
        hl_acd_agent_info in;
        const char *n = lua_tostring(S, -2), *want = lua_tostring(S, -1);
        if (!s->acd || !n || hl_acd_agent_get(s->acd, n, &in) != 0)
            differ(v, "agent_states: no agent %s", n ? n : "?");
        else if (!want || strcmp(want, hl_agent_state_name(in.state)) != 0)
            differ(v, "agent_states: %s expected %s, got %s", n, want ? want : "?", hl_agent_state_name(in.state));
        lua_pop(S, 1);
    }
}

static void check_expect(sim *s, verdict *v)
{
    lua_State *S = s->S;
    const hl_cdr *cdr = hl_call_cdr(s->call, 0);
    if (lua_getfield(S, s->scen, "expect") != LUA_TTABLE) {
        lua_pop(S, 1);
        return;
    }
    int e = lua_gettop(S);
    if (lua_getfield(S, e, "prompts") == LUA_TTABLE)
        expect_subsequence(s, v, lua_gettop(S), s->heard, "prompts");
    if (lua_getfield(S, e, "not_prompts") == LUA_TTABLE)
        expect_absent(s, v, lua_gettop(S), s->heard, "not_prompts");
    if (lua_getfield(S, e, "menus") == LUA_TTABLE)
        expect_subsequence(s, v, lua_gettop(S), cdr->menus, "menus");
    if (lua_getfield(S, e, "dialled") == LUA_TTABLE)
        expect_subsequence(s, v, lua_gettop(S), s->dialled, "dialled");
    lua_settop(S, e);
    static const char *const direct[][2] = { { "route", "route" }, { "ended", "hangup_side" },
                                             { "hangup_cause", "hangup_cause" }, { "dtmf", "dtmf" },
                                             { "recording", "recording" } };
    for (size_t i = 0; i < sizeof direct / sizeof direct[0]; i++) {
        if (lua_getfield(S, e, direct[i][0]) != LUA_TNIL)
            expect_cdr_field(v, cdr, direct[i][1], S, lua_gettop(S));
        lua_pop(S, 1);
    }
    if (lua_getfield(S, e, "answered") != LUA_TNIL)
        expect_cdr_field(v, cdr, "answer", S, lua_gettop(S));
    lua_pop(S, 1);
    if (lua_getfield(S, e, "fallback") != LUA_TNIL && lua_toboolean(S, -1) != hl_call_fell_back(s->call))
        differ(v, "fallback: expected %s, got %s", lua_toboolean(S, -1) ? "the fallback path" : "no fallback",
               hl_call_fell_back(s->call) ? "the fallback path" : "no fallback");
    lua_pop(S, 1);
    if (lua_getfield(S, e, "vars") == LUA_TTABLE)
        expect_vars(s, v, lua_gettop(S), cdr);
    lua_pop(S, 1);
    if (lua_getfield(S, e, "jobs") == LUA_TTABLE)
        expect_jobs(s, v, lua_gettop(S));
    lua_pop(S, 1);
    if (lua_getfield(S, e, "agent_states") == LUA_TTABLE)
        expect_agent_states(s, v, lua_gettop(S));
    lua_pop(S, 1);
    if (hl_call_is_originated(s->call))
        expect_job_outcome(s, v, e);
    if (lua_getfield(S, e, "cdr") == LUA_TTABLE) {
        int t = lua_gettop(S);
        lua_pushnil(S);
        while (lua_next(S, t)) {
            if (lua_type(S, -2) == LUA_TSTRING)
                expect_cdr_field(v, cdr, lua_tostring(S, -2), S, lua_gettop(S));
            lua_pop(S, 1);
        }
    }
    if (lua_getfield(S, e, "duration_max") != LUA_TNIL) {
        double d = cdr->end - cdr->start;
        if (d > lua_tonumber(S, -1))
            differ(v, "duration: %.1f s is over duration_max %.1f s", d, lua_tonumber(S, -1));
    }
    lua_settop(S, e - 1);
}

/* ---- running one scenario ------------------------------------------------------------------ */

/* The recordings' free space a scenario says (record = { disk_free_mb = N }), to test a
 * full disk (call:record's nil, "disk_full"); -1 when it says none. */
static long long sim_recordings_free_mb(hl_call_env *env)
{
    return ((sim *)env->owner)->disk_free_mb;
}

static void sim_init(sim *s, hl_policy *p, const hl_policy_src *src, double start)
{
    memset(s, 0, sizeof *s);
    hl_clock_init_fake(&s->clock, start);
    hl_timers_init(&s->timers, &s->clock);
    if (src->cfg)
        s->cfg = *src->cfg;
    else
        hl_config_defaults(&s->cfg);
    s->policy = p;
    s->env = (hl_call_env){ .clock = &s->clock, .timers = &s->timers, .cfg = &s->cfg,
                            .current_policy = sim_policy, .dial = sim_dial,
                            .call_ended = sim_call_ended, .recordings_dir = "recordings", .owner = s,
                            .recordings_free_mb = sim_recordings_free_mb };
    s->disk_free_mb = -1;
    /* each scenario counts its own placed calls (in memory): scenarios are independent */
    s->env.dial_guard = hl_dial_guard_new(NULL, &s->clock);
}

/* job = { kind = "fax", args = {...}, attempt = 1, max_attempts = 3 }: the engine runs
 * job_<kind>(call, args, job) as it would for a queued job, once (one attempt). */
#define SCEN_JSON_DEPTH 8   /* nesting of tables in a scenario's job args, as in hl.jobs.enqueue */

static hl_call *new_job_call(sim *s)
{
    lua_State *S = s->S;
    int t = lua_gettop(S);
    lua_getfield(S, t, "kind");
    const char *kind = lua_tostring(S, -1);
    if (!kind || !*kind || strlen(kind) > 32 || strspn(kind, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(kind)) {
        problem(s, "job.kind must be 1-32 of a-z 0-9 _ (the function is job_<kind>)");
        return NULL;
    }
    char fn[64];
    snprintf(fn, sizeof fn, "job_%s", kind);
    lua_getfield(S, t, "args");
    char why[160] = "";
    json_t *args = lua_isnil(S, -1) ? json_object() : hl_lua_to_json(S, -1, SCEN_JSON_DEPTH, why, sizeof why);
    if (!json_is_object(args)) {
        json_decref(args);
        problem(s, "job.args must be a table of names to strings, numbers, booleans or tables%s%s",
                why[0] ? ": " : "", why);
        return NULL;
    }
    int attempt = spec_int(S, t, "attempt", 1), max = spec_int(S, t, "max_attempts", 3);
    json_t *info = json_pack("{s:i,s:s,s:i,s:i}", "id", 0, "kind", kind, "attempt", attempt, "max_attempts", max);
    hl_call *c = hl_call_new_originate(&s->env, fn, args, info, "sim-job");
    say(s, "job %s attempt %d of %d", fn, attempt, max);
    json_decref(args);
    json_decref(info);
    return c;
}

/* The simulated caller's leg and call, its keys and its hang-up time. */
static bool start_caller(sim *s)
{
    char caller[128], called[128];
    scen_str(s, "caller", DEFAULT_CALLER, caller, sizeof caller);
    scen_str(s, "called", s->cfg.sip_from_user, called, sizeof called); /* our own number */
    sim_leg *l = sim_leg_new(s, HL_LEG_INBOUND);
    if (!l) {
        problem(s, "cannot create the call");
        return false;
    }
    snprintf(l->leg.from_user, sizeof l->leg.from_user, "%s", caller);
    snprintf(l->leg.to_user, sizeof l->leg.to_user, "%s", called);
    snprintf(l->leg.sip_call_id, sizeof l->leg.sip_call_id, "sim-%.70s", caller);
    snprintf(l->leg.remote_uri, sizeof l->leg.remote_uri, "sip:%s@sim", caller);
    s->call = hl_call_new_inbound(&s->env, &l->leg);
    if (!s->call) {
        free(l);
        problem(s, "cannot create the call");
        return false;
    }
    parse_entries(s);
    int hang = spec_int(s->S, s->scen, "hangup_at", -1);
    if (hang >= 0)
        hl_timer_start(&s->timers, &s->t_hangup, hang, hangup_timer, s);
    say(s, "call from %s to %s", caller, called);
    return true;
}

static void run_call(sim *s)
{
    lua_getfield(s->S, s->scen, "job");
    if (lua_istable(s->S, -1)) {
        s->call = new_job_call(s);
        lua_settop(s->S, s->scen);
        if (!s->call) {
            if (!s->problems[0])
                problem(s, "cannot create the job's call");
            return;
        }
    } else {
        lua_settop(s->S, s->scen);
        if (!start_caller(s))
            return;
    }
    hl_call_start(s->call);
    for (int steps = 0; !s->ended; steps++) {
        check_input(s);
        uint64_t due = hl_timers_next_due(&s->timers);
        if (due == UINT64_MAX || due > MAX_CALL_MS || steps > MAX_STEPS) {
            problem(s, due == UINT64_MAX ? "the call waits for nothing (no timer, no input)"
                                         : "the call is still going after %d s of simulated time",
                    MAX_CALL_MS / 1000);
            hl_call_terminate(s->call, "sim-stuck");
            break;
        }
        if (due > s->clock.now_ms)
            s->clock.now_ms = due;
        hl_timers_run_due(&s->timers, s->clock.now_ms);
    }
}

static void sim_cleanup(sim *s)
{
    for (int i = 0; i < s->nentries; i++)
        hl_timer_stop(&s->timers, &s->entries[i].t);
    hl_timer_stop(&s->timers, &s->t_hangup);
    if (s->call)
        hl_call_free(s->call);
    s->call = NULL;
    for (int i = 0; i < s->nagents; i++)
        hl_timer_stop(&s->timers, &s->agents[i].t_ready);
    hl_acd_free(s->acd);                /* after the call: its waiter has left */
    s->acd = NULL;
    hl_http_close(s->env.http);
    s->env.http = NULL;
    hl_dial_guard_free(s->env.dial_guard);
    s->env.dial_guard = NULL;
    hl_timers_free(&s->timers);
}

typedef struct run_ctx {
    hl_policy *p;
    const hl_policy_src *src;
    char *report;
    int reportlen, passed, failed;
    FILE *out;
    bool transcript;
    hl_prompts *prompts;
    hl_store *store;
    char routes[4096];          /* what the policy's set_route calls can set (hl_check_routes) */
    int  routes_unknown;        /* set_route calls whose route cannot be known: no route check */
} run_ctx;

static void report_line(run_ctx *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report_line(run_ctx *r, const char *fmt, ...)
{
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (r->out) {
        fprintf(r->out, "%s\n", line);
        fflush(r->out);
    }
    if (r->report) {
        /* passes fill half the report at most: the failures, which a reload shows, are kept */
        size_t n = strlen(r->report);
        bool pass = !strncmp(line, "ok ", 3);
        if ((int)n < (pass ? r->reportlen / 2 : r->reportlen - 1))
            snprintf(r->report + n, r->reportlen - n, "%s\n", line);
    }
}

static void run_one(run_ctx *r, lua_State *S, int scen, const char *file, const char *name)
{
    char when[64];
    lua_getfield(S, scen, "time");
    snprintf(when, sizeof when, "%s", lua_isstring(S, -1) ? lua_tostring(S, -1) : DEFAULT_TIME);
    lua_pop(S, 1);
    double start = hl_clock_parse_iso(when);
    sim *s = calloc(1, sizeof *s);
    if (!s)
        return;
    sim_init(s, r->p, r->src, start < 0 ? hl_clock_parse_iso(DEFAULT_TIME) : start);
    s->S = S;
    s->scen = scen;
    s->prompts = r->prompts;
    s->store = s->env.store = r->store;
    s->env.prompts = r->prompts;
    s->out = r->transcript ? r->out : NULL;
    if (start < 0)
        problem(s, "time '%s' is not ISO 8601 (2026-01-14T16:59:00)", when);
    lua_getfield(S, scen, "record");
    if (lua_istable(S, -1)) {
        s->rec_ms = spec_int(S, -1, "duration", 0);
        s->disk_free_mb = spec_int(S, -1, "disk_free_mb", -1);
        lua_getfield(S, -1, "reason");
        snprintf(s->rec_reason, sizeof s->rec_reason, "%s", lua_isstring(S, -1) ? lua_tostring(S, -1) : "");
        lua_pop(S, 1);
    }
    lua_pop(S, 1);
    lua_getfield(S, scen, "fax");
    s->fax_pages = lua_istable(S, -1) ? spec_int(S, -1, "pages", 1) : 1;
    s->fax_status = lua_istable(S, -1) ? spec_int(S, -1, "status", 0) : 0;
    lua_pop(S, 1);
    lua_getfield(S, scen, "transfer");
    s->refer_code = lua_isboolean(S, -1) && !lua_toboolean(S, -1) ? -1 : lua_isinteger(S, -1) ? (int)lua_tointeger(S, -1) : 0;
    lua_pop(S, 1);
    start_agents(s);
    lua_getfield(S, scen, "http");  /* hl.http.request's answers: no network (http/http_canned.c) */
    char herr[512];
    if (!(s->env.http = hl_http_canned_from_lua(&s->timers, s->out, S, -1, herr, sizeof herr)))
        problem(s, "%s", herr);
    lua_pop(S, 1);
    if (r->transcript && r->out)
        fprintf(r->out, "scenario %s: %s (%s)\n", file, name, when);
    seed_store(s);
    s->jobs_before = jobs_max_id(s);
    run_call(s);
    verdict v = { "" };
    if (s->problems[0])
        differ(&v, "%s", s->problems);
    if (s->call && hl_call_ended(s->call))
        check_expect(s, &v);
    if (v.text[0]) {
        r->failed++;
        report_line(r, "FAIL %s: %s: %s", file, name, v.text);
        if (!r->transcript)
            report_line(r, "     heard: %s", s->heard[0] ? s->heard : "(nothing)");
    } else {
        r->passed++;
        report_line(r, "ok   %s: %s", file, name);
    }
    if (s->missing[0] && r->prompts)
        report_line(r, "     note: no WAV for %s (played as %.1f s each)", s->missing, DEFAULT_PROMPT_MS / 1000.0);
    lua_settop(S, scen);
    sim_cleanup(s);
    free(s);
}


/* ---- strictness: a scenario's keys, and the routes it may expect --------------------------
 * A misspelt key (expect = { rout = "x" }) would otherwise be ignored and the scenario pass
 * without checking anything; a route no set_route of the policy can produce would fail at
 * every run without saying why.  Both are refused before the call runs, naming file:line. */

static const char *const SCENARIO_KEYS[] = { "name", "time", "caller", "called", "keys", "hangup_at",
                                             "dial", "record", "transfer", "fax", "store", "http",
                                             "job", "agents", "expect", NULL };
static const char *const EXPECT_KEYS[] = { "prompts", "not_prompts", "menus", "dialled", "route", "ended",
                                           "hangup_cause", "dtmf", "recording", "answered", "fallback",
                                           "vars", "jobs", "job", "job_error", "cdr", "duration_max",
                                           "agent_states", NULL };
static const char *const ENTRY_KEYS[] = { "key", "after", "gap", "at", "silence", "hangup", NULL };
static const char *const DIAL_KEYS[] = { "answer_after", "hangup_after", "fail", "after", NULL };
static const char *const AGENT_KEYS[] = { "number", "centre", "skills", "role", "state", "ready_at", "answer_after",
                                          "hangup_after", "fail", "after", "no_answer", NULL };
static const char *const RECORD_KEYS[] = { "duration", "reason", "disk_free_mb", NULL };
static const char *const FAX_KEYS[] = { "pages", "status", NULL };
static const char *const JOB_KEYS[] = { "kind", "args", "attempt", "max_attempts", NULL };
static const char *const EXPECT_JOB_KEYS[] = { "kind", "args", "max_attempts", NULL };
/* Routes the engine writes itself (call.c): a failed script with no route, a job's outcome. */
static const char *const ENGINE_ROUTES[] = { "fallback", "job:done", "job:failed", NULL };

/* The scenario file's text, to say on which line a key or a value is written. */
typedef struct scen_src {
    const char *path;
    char       *text;
    size_t      len;
    const char *name;   /* the scenario's: its keys are searched from the line of this literal */
} scen_src;

static int written_at(const scen_src *f, const char *text, bool string_literal)
{
    if (!f->text)
        return 0;
    int from = hl_check_field_line(f->text, f->len, f->name, true, 1);
    int line = from ? hl_check_field_line(f->text, f->len, text, string_literal, from) : 0;
    return line ? line : hl_check_field_line(f->text, f->len, text, string_literal, 1);
}

static void strict_error(const scen_src *f, int line, char *bad, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void strict_error(const scen_src *f, int line, char *bad, size_t size, const char *fmt, ...)
{
    char where[1200], what[1024];
    snprintf(where, sizeof where, line ? "%s:%d: " : "%s: ", f->path, line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    size_t n = strlen(bad);
    snprintf(bad + n, size - n, "%s%s%s", n ? "; " : "", where, what);
}

static bool in_list(const char *const *list, const char *k)
{
    for (int i = 0; list[i]; i++)
        if (!strcmp(list[i], k))
            return true;
    return false;
}

static bool cdr_field_known(const char *k)
{
    for (size_t i = 0; i < sizeof cdr_fields / sizeof cdr_fields[0]; i++)
        if (!strcmp(cdr_fields[i].name, k))
            return true;
    return false;
}

/* Every key of the table at t must be in known (or, known == NULL, a CDR field). */
static void check_keys(lua_State *S, int t, const char *const *known, const char *what,
                       const scen_src *f, char *bad, size_t size)
{
    if (!lua_istable(S, t))
        return;
    lua_pushnil(S);
    while (lua_next(S, t)) {
        lua_pop(S, 1);
        const char *k = lua_type(S, -1) == LUA_TSTRING ? lua_tostring(S, -1) : NULL;
        if (k && (known ? in_list(known, k) : cdr_field_known(k)))
            continue;
        char shown[128];
        snprintf(shown, sizeof shown, "%s", k ? k : luaL_tolstring(S, -1, NULL));
        if (!k)
            lua_pop(S, 1);
        int line = k ? written_at(f, k, false) : 0;
        if (!line && k)
            line = written_at(f, k, true);   /* ["key"] = ... */
        char list[512] = "";
        for (int i = 0; known && known[i]; i++)
            add_word(list, sizeof list, known[i]);
        strict_error(f, line, bad, size, "unknown key '%s' in %s (known: %s)", shown, what,
                     known ? list : "the CDR's fields");
    }
}

/* check_keys on field k of the table at t (when it is a table), and on each of its items
 * when each_item. */
static void check_field_keys(lua_State *S, int t, const char *k, const char *const *known, bool each_item,
                             const scen_src *f, char *bad, size_t size)
{
    int ft = lua_getfield(S, t, k);
    int v = lua_gettop(S);
    if (ft == LUA_TTABLE && !each_item)
        check_keys(S, v, known, k, f, bad, size);
    if (ft == LUA_TTABLE && each_item) {
        lua_pushnil(S);
        while (lua_next(S, v)) {
            char what[160];
            if (lua_type(S, -2) == LUA_TSTRING)
                snprintf(what, sizeof what, "%s[\"%s\"]", k, lua_tostring(S, -2));
            else
                snprintf(what, sizeof what, "%s[%lld]", k, (long long)lua_tointeger(S, -2));
            if (lua_istable(S, -1))
                check_keys(S, lua_gettop(S), known, what, f, bad, size);
            lua_pop(S, 1);
        }
    }
    lua_settop(S, v - 1);
}

/* Can the policy produce route r?  A literal set_route, a literal prefix, or the engine's own. */
static bool route_possible(const run_ctx *r, const char *route)
{
    if (!route[0] || r->routes_unknown || in_list(ENGINE_ROUTES, route))
        return true;
    char copy[sizeof r->routes];
    snprintf(copy, sizeof copy, "%s", r->routes);
    for (char *save, *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        size_t n = strlen(w);
        if (n && w[n - 1] == '*' ? strlen(route) > n - 1 && !strncmp(route, w, n - 1) : !strcmp(route, w))
            return true;
    }
    return false;
}

static void check_route(const run_ctx *r, lua_State *S, int t, const char *what, const scen_src *f,
                        char *bad, size_t size)
{
    if (lua_getfield(S, t, "route") == LUA_TSTRING && !route_possible(r, lua_tostring(S, -1))) {
        const char *route = lua_tostring(S, -1);
        int line = written_at(f, route, true);
        strict_error(f, line ? line : written_at(f, "route", false), bad, size,
                     "%s.route '%s' is no route the policy can set (its set_route calls give: %s; "
                     "the engine's own: fallback job:done job:failed)", what, route,
                     r->routes[0] ? r->routes : "none");
    }
    lua_pop(S, 1);
}

/* Everything wrong with the scenario table at scen, appended to bad ("" when it is sound). */
static void check_scenario(const run_ctx *r, lua_State *S, int scen, const scen_src *f, char *bad, size_t size)
{
    check_keys(S, scen, SCENARIO_KEYS, "the scenario", f, bad, size);
    check_field_keys(S, scen, "keys", ENTRY_KEYS, true, f, bad, size);
    check_field_keys(S, scen, "dial", DIAL_KEYS, true, f, bad, size);
    check_field_keys(S, scen, "agents", AGENT_KEYS, true, f, bad, size);
    check_field_keys(S, scen, "record", RECORD_KEYS, false, f, bad, size);
    check_field_keys(S, scen, "fax", FAX_KEYS, false, f, bad, size);
    check_field_keys(S, scen, "job", JOB_KEYS, false, f, bad, size);
    if (lua_getfield(S, scen, "expect") == LUA_TTABLE) {
        int e = lua_gettop(S);
        check_keys(S, e, EXPECT_KEYS, "expect", f, bad, size);
        check_field_keys(S, e, "jobs", EXPECT_JOB_KEYS, true, f, bad, size);
        check_field_keys(S, e, "cdr", NULL, false, f, bad, size);
        check_route(r, S, e, "expect", f, bad, size);
        if (lua_getfield(S, e, "cdr") == LUA_TTABLE)
            check_route(r, S, lua_gettop(S), "expect.cdr", f, bad, size);
        lua_pop(S, 1);
    }
    lua_settop(S, scen);
}

/* The routes every set_route of the policy's sources (scripts/ and rules/, not scenarios) can set. */
static void scan_routes(run_ctx *r)
{
    const char *dirs[] = { r->src->scripts_dir ? r->src->scripts_dir : "scripts",
                           r->src->rules_dir ? r->src->rules_dir : "rules" };
    for (int d = 0; d < 2; d++) {
        hl_strv files = { 0 };
        hl_files_collect(dirs[d], ".lua", SCENARIO_DIR_DEPTH, true, &files);
        for (int i = 0; i < files.n; i++) {
            size_t len = 0;
            char *text = hl_str_ends_with(files.v[i], ".scenario.lua") ? NULL
                       : hl_file_read(files.v[i], HL_SOURCE_MAX_BYTES, &len);
            int line = 0;
            if (text && hl_check_routes(text, len, r->routes, sizeof r->routes, &line) > 0)
                r->routes_unknown++;
            free(text);
        }
        hl_strv_free(&files);
    }
}

static const char *file_base(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

static void make_store(run_ctx *r, char *dir, size_t len)
{
    snprintf(dir, len, "%s/hotline-sim-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) {
        dir[0] = 0;
        return;
    }
    char err[1024];
    r->store = hl_store_open(NULL, dir, err, sizeof err);
    if (!r->store) {
        hl_warn("sim", "no store for the simulation: %s", err);
        return;
    }
    /* issue 6: the policy's own tables, and a check of its queries, as activation does */
    json_t *queries = NULL;
    if (hl_store_policy_activate(r->store, r->src->rules_dir ? r->src->rules_dir : "rules", &queries,
                                 err, sizeof err) != 0) {
        r->failed++;
        report_line(r, "FAIL the policy's store: %s", err);
    }
    json_decref(queries);
}

static void drop_store(run_ctx *r, const char *dir)
{
    if (r->store)
        hl_store_close(r->store);
    r->store = NULL;
    if (!dir[0])
        return;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[1600];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static void run_file(run_ctx *r, const char *path)
{
    lua_State *S = scenario_state(r->src->rules_dir ? r->src->rules_dir : "rules", r->prompts);
    if (!S)
        return;
    const char *shown = path;
    if (luaL_loadfilex(S, path, "t") != LUA_OK || lua_pcall(S, 0, 1, 0) != LUA_OK) {
        r->failed++;
        report_line(r, "FAIL %s: %s", shown, lua_tostring(S, -1));
        lua_close(S);
        return;
    }
    lua_sethook(S, NULL, 0, 0);
    if (!lua_istable(S, -1)) {
        r->failed++;
        report_line(r, "FAIL %s: must return a scenario table (or a list of them)", shown);
        lua_close(S);
        return;
    }
    scen_src f = { .path = shown };
    f.text = hl_file_read(path, HL_SOURCE_MAX_BYTES, &f.len);
    char dir[1024];
    make_store(r, dir, sizeof dir);
    int top = lua_gettop(S);
    bool list = lua_geti(S, top, 1) == LUA_TTABLE;
    lua_pop(S, 1);
    int n = list ? (int)luaL_len(S, top) : 1;
    for (int i = 1; i <= n; i++) {
        if (list)
            lua_geti(S, top, i);
        else
            lua_pushvalue(S, top);
        int scen = lua_gettop(S);
        char name[256];
        lua_getfield(S, scen, "name");
        if (lua_isstring(S, -1))
            snprintf(name, sizeof name, "%s", lua_tostring(S, -1));
        else
            snprintf(name, sizeof name, "%s#%d", file_base(path), i);
        lua_pop(S, 1);
        char bad[2048] = "";
        f.name = name;
        if (lua_istable(S, scen))
            check_scenario(r, S, scen, &f, bad, sizeof bad);
        if (!lua_istable(S, scen)) {
            r->failed++;
            report_line(r, "FAIL %s: item %d is not a scenario table", shown, i);
        } else if (bad[0]) {
            r->failed++;
            report_line(r, "FAIL %s: %s: %s", shown, name, bad);
        } else {
            run_one(r, S, scen, shown, name);
        }
        lua_settop(S, top);
    }
    drop_store(r, dir);
    free(f.text);
    lua_close(S);
}

static int run_paths(run_ctx *r, char **paths, int n)
{
    if (r->src->prompt_set) {   /* a reload's self-test: the version's own prompts, no disk */
        r->prompts = r->src->prompt_set;
        hl_prompts_ref(r->prompts);
    } else if (r->src->prompts_dir) {
        r->prompts = hl_prompts_new(r->src->prompts_dir);
    }
    scan_routes(r);
    for (int i = 0; i < n; i++)
        run_file(r, paths[i]);
    if (r->prompts)
        hl_prompts_free(r->prompts);
    return r->failed;
}

static void test_line(void *arg, bool ok, const char *text) { report_line(arg, "%s", text); }

/* The table tests (lua/rule_tests.c): every DIR/NAME_test.lua of scripts/ and rules/, run in
 * the built snapshot as module NAME_test ('/' -> '.'). */
static void run_table_tests(run_ctx *r, const char *dir)
{
    hl_strv files = { 0 };
    hl_files_collect(dir, TABLE_TEST_SUFFIX, SCENARIO_DIR_DEPTH, false, &files);
    hl_strv_sort(&files);
    for (int i = 0; i < files.n; i++) {
        char module[512], shown[1200];
        snprintf(module, sizeof module, "%.*s", (int)(strlen(files.v[i]) - 4), files.v[i]);
        for (char *c = module; *c; c++)
            if (*c == '/')
                *c = '.';
        snprintf(shown, sizeof shown, "%s/%s", dir, files.v[i]);
        r->failed += hl_policy_run_tests(r->p, module, shown, test_line, r, &r->passed);
    }
    hl_strv_free(&files);
}

int hl_sim_run_all(hl_policy *p, const hl_policy_src *src, char *report, int reportlen, int *passed, FILE *out)
{
    run_ctx r = { .p = p, .src = src, .report = report, .reportlen = reportlen, .out = out };
    hl_strv files = { 0 };
    hl_files_collect(src->scripts_dir ? src->scripts_dir : "scripts", ".scenario.lua",
                     SCENARIO_DIR_DEPTH, true, &files);
    hl_files_collect(src->rules_dir ? src->rules_dir : "rules", ".scenario.lua",
                     SCENARIO_DIR_DEPTH, true, &files);
    hl_strv_sort(&files);
    run_paths(&r, files.v, files.n);
    hl_strv_free(&files);
    run_table_tests(&r, src->scripts_dir ? src->scripts_dir : "scripts");
    run_table_tests(&r, src->rules_dir ? src->rules_dir : "rules");
    if (passed)
        *passed = r.passed;
    return r.failed;
}

int hl_sim_selftest(hl_policy *p, const hl_policy_src *src, char *report, int reportlen, int *passed)
{
    hl_policy_deadline_arm(p, true);
    int failed = hl_sim_run_all(p, src, report, reportlen, passed, NULL);
    hl_policy_deadline_arm(p, false);
    if (hl_policy_deadline_hit(p) && reportlen > 0) { /* first: a long report cannot hide it */
        char line[240];
        int n = snprintf(line, sizeof line, "FAIL time limit: build and self-test ran over "
                         "reload_timeout_ms (%d ms, rules/engine.lua); the scenarios still "
                         "running were stopped\n", hl_policy_reload_timeout_ms(p));
        size_t used = strlen(report), room = (size_t)reportlen - 1;
        if ((size_t)n < room) {
            size_t keep = used < room - n ? used : room - n;
            memmove(report + n, report, keep);
            report[n + keep] = 0;
            memcpy(report, line, n);
        }
        failed++;
    }
    return failed;
}

int hl_sim_run_file(hl_policy *p, const hl_policy_src *src, const char *path, char *report, int reportlen,
                    int *passed, FILE *out, bool transcript)
{
    run_ctx r = { .p = p, .src = src, .report = report, .reportlen = reportlen, .out = out,
                  .transcript = transcript };
    char *v[1] = { (char *)path };
    run_paths(&r, v, 1);
    if (passed)
        *passed = r.passed;
    return r.failed;
}

/* ---- commands ------------------------------------------------------------------------------ */

typedef struct cli {
    const char *scripts, *rules, *prompts;
    bool quiet;
    int first;
} cli;

static int parse_cli(int argc, char **argv, cli *c, void (*usage)(FILE *))
{
    static const struct option opts[] = {
        { "scripts", required_argument, 0, 's' }, { "rules", required_argument, 0, 'r' },
        { "prompts", required_argument, 0, 'p' }, { "quiet", no_argument, 0, 'q' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    *c = (cli){ "scripts", "rules", NULL, false, 0 };
    optind = 1;
    int o;
    while ((o = getopt_long(argc, argv, "s:r:p:qh", opts, NULL)) != -1) {
        switch (o) {
        case 's': c->scripts = optarg; break;
        case 'r': c->rules = optarg; break;
        case 'p': c->prompts = optarg; break;
        case 'q': c->quiet = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    c->first = optind;
    return -1;
}

static void usage_sim(FILE *f)
{
    fprintf(f,
        "usage: hotline sim [--scripts DIR] [--rules DIR] [--prompts DIR] [--quiet] SCENARIO...\n"
        "\n"
        "Runs scenario files (Lua data: who calls, when, which keys, what must happen) against\n"
        "the scripts and rules with a simulated caller on a fake clock: no SIP, no audio. Each\n"
        "step of each call is printed (play, keys, record, dial, hangup), then ok or FAIL with\n"
        "exactly what differed. The format is in docs/lua-api.md (\"Scenario files\").\n"
        "\n"
        "options:\n"
        "  --scripts DIR   call scripts (default scripts)\n"
        "  --rules DIR     rules (default rules)\n"
        "  --prompts DIR   prompt WAVs: real durations and the static prompt check\n"
        "                  (default: none; prompts then play 1.5 s each)\n"
        "  -q, --quiet     no step-by-step transcript\n"
        "  -h, --help      this text\n"
        "\n"
        "exit status: 0 all passed, 1 a scenario failed, 2 the scripts do not build\n");
}

static void usage_test(FILE *f)
{
    fprintf(f,
        "usage: hotline test-rules [--scripts DIR] [--rules DIR] [--prompts DIR]\n"
        "\n"
        "Builds the scripts and rules as a reload would (syntax, main(call), rules/engine.lua,\n"
        "prompt names used in menus and plays exist), then runs every *.scenario.lua under the\n"
        "scripts and rules folders with the simulated caller, and every *_test.lua there (a\n"
        "list of { name, got or run, want or error } cases, run in the built policy). One\n"
        "line per check, then \"N passed, M failed\".\n"
        "\n"
        "options:\n"
        "  --scripts DIR   call scripts (default scripts)\n"
        "  --rules DIR     rules (default rules)\n"
        "  --prompts DIR   prompt WAVs (default build/prompts when it exists; without it the\n"
        "                  prompt check is skipped)\n"
        "  -h, --help      this text\n"
        "\n"
        "exit status: 0 all passed, 1 otherwise\n");
}

static hl_policy *build(const cli *c, hl_config *cfg, hl_policy_src *src, char *err, int errlen)
{
    hl_config_defaults(cfg);
    char rules_file[1100];
    snprintf(rules_file, sizeof rules_file, "%s/engine.lua", c->rules);
    struct stat st;
    if (stat(rules_file, &st) == 0 && hl_config_load_rules(cfg, c->rules, err, errlen) != 0)
        return NULL;
    *src = (hl_policy_src){ .scripts_dir = c->scripts, .rules_dir = c->rules, .prompts_dir = c->prompts,
                            .cfg = cfg, .open_api = hl_call_lua_open };
    return hl_policy_build(src, err, errlen);
}

/* The commands print their own results; the engine's per-call log lines would bury them. */
static void quiet_log(void)
{
    if (hl_log_get_level() == HL_LOG_INFO)
        hl_log_set_level(HL_LOG_WARN);
}

int hl_test_rules_main(int argc, char **argv)
{
    cli c;
    int rc = parse_cli(argc, argv, &c, usage_test);
    if (rc >= 0)
        return rc;
    quiet_log();
    struct stat st;
    if (!c.prompts && stat("build/prompts", &st) == 0 && S_ISDIR(st.st_mode))
        c.prompts = "build/prompts";
    hl_config cfg;
    hl_policy_src src;
    static char err[16384];
    err[0] = 0;
    hl_policy *p = build(&c, &cfg, &src, err, sizeof err);
    if (!p) {
        printf("FAIL build and static checks:\n%s\n0 passed, 1 failed\n", err);
        return 1;
    }
    printf("ok   build and static checks (policy %s%s)\n", hl_policy_version(p),
           c.prompts ? "" : "; prompt check skipped: no --prompts");
    int passed = 0;
    int failed = hl_sim_run_all(p, &src, NULL, 0, &passed, stdout);
    printf("%d passed, %d failed\n", passed + 1, failed);
    hl_policy_unref(p);
    return failed ? 1 : 0;
}

int hl_sim_main(int argc, char **argv)
{
    cli c;
    int rc = parse_cli(argc, argv, &c, usage_sim);
    if (rc >= 0)
        return rc;
    if (c.first >= argc) {
        usage_sim(stderr);
        return 2;
    }
    quiet_log();
    hl_config cfg;
    hl_policy_src src;
    static char err[16384];
    err[0] = 0;
    hl_policy *p = build(&c, &cfg, &src, err, sizeof err);
    if (!p) {
        fprintf(stderr, "the scripts do not build:\n%s", err);
        return 2;
    }
    int passed = 0, failed = 0;
    for (int i = c.first; i < argc; i++) {
        int ok = 0;
        failed += hl_sim_run_file(p, &src, argv[i], NULL, 0, &ok, stdout, !c.quiet);
        passed += ok;
    }
    printf("%d passed, %d failed\n", passed, failed);
    hl_policy_unref(p);
    return failed ? 1 : 0;
}
