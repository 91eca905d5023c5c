/* call_priv.h — the inside of a call, shared by the files of engine/call/ only: the call's
 * struct, the one set of wait operations every waiting primitive implements (model:
 * OpenResty's ngx_http_lua_sleep.c: a context check, the start, the timer or event that
 * resumes, the cleanup), and the helpers call.c offers them.
 *
 * A waiting primitive (prim_*.c) checks its arguments (the context was checked by the
 * API's entry, call_lua.c, from its row in call_api.c), starts the work through
 * hl_leg_ops, arms c->t_wait where a time limit applies, sets c->w.ops to its operations
 * and yields.  The call (call.c) hands it every leg event and timer while it waits; the
 * primitive pushes its results on c->co and calls call_complete, which resumes the script.
 * Adding a primitive: one prim_NAME.c with its hl_wait_ops and Lua function, one row in
 * call_api.c, one section in docs/lua-api.md. */
#ifndef HL_CALL_PRIV_H
#define HL_CALL_PRIV_H
#include <jansson.h>
#include <lua.h>
#include <stdalign.h>
#include "call/call.h"
#include "core/log.h"
#include "lua/api.h"
#include "lua/script.h"

#define MAX_LEGS 8             /* caller + dialled legs; transfers need a few, more is a runaway */
#define TYPEAHEAD_MAX 32       /* keys kept for the next collect; a flood drops the oldest */
#define MAX_ITEMS 64           /* items in one playlist */
#define ITEM_LEN 96            /* longest playlist item (prompt names are far shorter) */
#define PENDING_EVENTS 16      /* events a leg may raise from inside one op */
#define WAIT_PRIV_MAX 1280     /* bytes of a waiting primitive's own state (record, fax: ~900) */

/* Calls of the simulator (self-tests at every reload) log at debug level: the engine's log
 * keeps its real calls; `hotline sim` prints its own transcript. */
#define CALL_INFO(c, ...) do { if ((c)->env->clock->fake) hl_debug("call", __VA_ARGS__); \
                               else hl_info("call", __VA_ARGS__); } while (0)

typedef enum { PH_NEW, PH_MAIN, PH_HANDLER, PH_FALLBACK, PH_SORRY, PH_DONE } call_phase;

/* What a waiting primitive does while the script waits on it.  Every member may be NULL. */
typedef struct hl_wait_ops {
    const char *name;                     /* `ctl calls` "waiting" */
    /* A leg event (leg 0's DTMF, PLAY_DONE, RECORD_DONE, TRANSFERRED; any leg's ANSWERED,
     * FAILED, FAX_DONE; a dialled leg's HANGUP).  For DTMF: true when the key is taken,
     * false to keep it for the next collect (type-ahead). */
    bool (*on_event)(hl_call *c, int leg, const hl_leg_event *ev);
    void (*on_timer)(hl_call *c);         /* c->t_wait or c->t_digit fired */
    void (*cancel)(hl_call *c);           /* the script is dropped: stop the work */
    bool (*awaits_input)(const hl_call *c); /* the caller is expected to type (the simulator) */
    bool takes_refer;                     /* it answers a party's REFER (else it is declined) */
    /* A transfer asked from outside (ctl): kind "blind", "attended", "complete", "cancel";
     * NULL when done, else why not.  Called inside call_enter/call_leave. */
    const char *(*on_request)(hl_call *c, const char *kind, const char *target);
} hl_wait_ops;

typedef struct wait_state {
    const hl_wait_ops *ops;               /* NULL: not waiting */
    int       leg;                        /* the leg waited on (dial, bridge, fax) */
    alignas(max_align_t) unsigned char priv[WAIT_PRIV_MAX]; /* the primitive's own state */
} wait_state;

/* A primitive's own state in c->w.priv: WAIT_STATE(c, collect_state) */
#define WAIT_STATE(c, type) ((type *)(void *)(c)->w.priv)
#define WAIT_STATE_FITS(type) _Static_assert(sizeof(type) <= WAIT_PRIV_MAX, #type " fits wait_state")

typedef struct pending_ev {
    int          leg;
    hl_leg_event ev;
    char         reason[48];
} pending_ev;

typedef struct store_req store_req;

struct hl_call {
    hl_call_env *env;
    hl_policy   *policy;
    char         id[64];
    hl_leg      *legs[MAX_LEGS];
    bool         done[MAX_LEGS];      /* the call considers this leg ended */
    bool         answer_told[MAX_LEGS];  /* issue 10: its call_answer event was published */
    hl_cdr       cdrs[MAX_LEGS];
    int          nlegs;
    /* script */
    call_phase   phase;
    lua_State   *co;
    int          co_ref, ud_ref, co_gen;
    hl_lua_run   run;
    bool         in_resume, caller_gone, fallback;
    /* waiting */
    wait_state   w;
    hl_timer     t_wait, t_digit, t_handler;
    const char  *items[MAX_ITEMS];
    char         item_buf[MAX_ITEMS][ITEM_LEN];
    int          nitems;
    char         keys[TYPEAHEAD_MAX];
    short        keypos[TYPEAHEAD_MAX];   /* where each buffered key stands in the CDR dtmf */
    int          last_key_pos;            /* CDR dtmf position of the key being handled */
    char         late_term;               /* a collect filled up: its terminator, if it comes */
    uint64_t     late_term_until;         /*   within the inter-digit time, belongs to it */
    int          nkeys;
    bool         sensitive_flow;          /* from a sensitive collect to the next other input */
    int          input_epoch;
    pending_ev   pending[PENDING_EVENTS];
    int          npending;
    store_req   *store_reqs;              /* outside waits (prim_store.c) */
    int          store_pending;
    /* ending */
    int          depth;
    bool         should_end, notified;
    double       start;
    /* engine-originated (a job): entry function, its arguments, and how it ended */
    bool         originated;
    bool         dial_refused;
    bool         route_changed;         /* set_route since the last hl_call_route_changed() */          /* a dial rule (rules/trunks.lua) refused one of its dials */
    char         entry_fn[64];
    json_t      *args, *job;
    int          outcome;               /* 0 not yet, 1 done, -1 failed */
    char         outcome_err[256];
    hl_call_end_fn on_end;
    void        *on_end_arg;
};

typedef struct call_ud { hl_call *c; } call_ud;
typedef struct leg_ud { int index; } leg_ud;   /* its user value is the call's userdata */

/* ---- call.c: the state machine's services to the primitives ---- */
uint64_t call_now_ms(hl_call *c);
double   call_now_wall(hl_call *c);
bool     call_leg_up(hl_call *c, int i);
int      call_add_leg(hl_call *c, hl_leg *leg);
void     call_hangup_leg(hl_call *c, int i, int code, const char *cause);
void     call_hangup_all(hl_call *c, const char *cause);
void     call_enter(hl_call *c);
void     call_leave(hl_call *c);               /* the last statement of an entry point */
void     call_try_end(hl_call *c);
/* Ends the wait: nres results are on c->co's stack; resumes the script. */
void     call_complete(hl_call *c, int nres);
/* Starts the wait: the primitive's ops, and c->t_wait in ms (CALL_NO_TIMER: none); the
 * primitive then yields. */
#define CALL_NO_TIMER (-1)
void     call_wait(hl_call *c, const hl_wait_ops *ops, int64_t ms);
void     call_wait_timer(hl_timer *t);         /* hl_timer callback: ops->on_timer */
void     call_mark_awaiting(hl_call *c);       /* the caller is now expected to type */
char     call_pop_key(hl_call *c);             /* the oldest typed-ahead key */
void     call_push_key(lua_State *L, char k);
/* A wait for keys begins (a collect, a barge-in playlist).  A sensitive one starts a
 * sensitive flow; another one ends it and drops the keys typed ahead during it. */
void     call_input_begins(hl_call *c, bool sensitive);
/* A sensitive collect ended: the keys still typed ahead are masked in the CDR. */
void     call_mask_typeahead(hl_call *c);

/* ---- call_cdr.c ---- */
/* issue 10: an event to env->event (taken: fields, a json_t object; call_id is added). */
void     call_emit(hl_call *c, const char *kind, void *fields);
void     call_finalize_cdrs(hl_call *c);          /* at the end: every leg's CDR complete */
/* The caller's wait in a queue: its name, length and outcome into the caller's CDR. */
/* A hold by leg i's party that lasted len ms up to now, with reminders played, ended by the
 * party taking the call back or by the call ending on hold (store/cdr.h: hold_log). */
void     call_note_hold(hl_call *c, int i, uint64_t len, int reminders);
void     hl_call_note_queue(hl_call *c, const char *queue, int64_t waited_ms, const char *outcome);

/* ---- call_lua.c: the call and leg objects ---- */
hl_call *call_arg(lua_State *L);               /* the call object at argument 1 */
hl_call *call_running(lua_State *L);           /* the call whose own script runs in L, or NULL */
void     call_push_ud(hl_call *c, lua_State *L);
void     call_push_new_ud(hl_call *c, lua_State *L);
void     call_push_leg(hl_call *c, lua_State *L, int i);
int      call_leg_index_of(lua_State *L, hl_call *c, int idx);
/* The options of the running primitive's row (api.h), read against the call's config. */
void     call_read_opts(lua_State *L, const char *prim, hl_api_val *out);

/* ---- prim_play.c: playlists (play, say_*, and the prompts of collect and record) ---- */
void     call_parse_items(lua_State *L, hl_call *c, int idx, const char *what);
void     call_add_item(lua_State *L, hl_call *c, const char *s, const char *what);
int      call_start_play(hl_call *c);          /* plays c->items on leg 0; CDR prompts */
/* Plays items on leg (one of c's) from the prompt set of c's policy version: a reload
 * never changes the audio of a call in progress.  -1 when the leg cannot play. */
int      call_leg_play(hl_call *c, hl_leg *leg, const char *const *items, int n);
/* The same, with the CDR's prompt list showing `shown` once instead of the items. */
int      call_start_play_as(hl_call *c, const char *shown);
extern const hl_wait_ops hl_wait_play;

/* ---- prim_record.c ---- */
/* A name under a folder the engine owns: letters, digits, _ - . /, no "..", not absolute. */
bool     call_rel_path_valid(const char *s);
/* Below record_min_free_mb where recordings go: logged, and a recording is refused. */
bool     call_disk_too_full(hl_call *c, const char *rel);

/* ---- prim_collect.c ---- */
/* A full collect's terminator, typed right after it: true when k is it (and is dropped). */
bool     call_late_terminator(hl_call *c, char k);

/* ---- prim_store.c: hl.store.query and the outside waits ---- */
void     call_push_json(lua_State *L, json_t *v, int depth);
int      call_store_submit(lua_State *L, hl_call *c, const char *sql, json_t *params, bool want_id);
void     call_abandon_outside_waits(hl_call *c);
void     call_forget_outside_waits(hl_call *c);  /* the call is freed; answers find no call */
/* For prim_http.c: the env of the call whose script runs in L; an outside wait of that
 * script (the primitive then yields), and its answer (from the loop, never from inside the
 * primitive: the script gets result as a Lua value, or nil, err when result is NULL). */
hl_call_env *call_script_env(lua_State *L);
void    *call_async_begin(lua_State *L, const char *what);
void     call_async_done(void *wait, json_t *result, const char *err);

/* One word: printable, no blanks, 1..max bytes (routes, causes, dial purposes). */
bool     call_word_valid(const char *s, size_t max);
/* On whose behalf the call places a leg (the dial rules' cap per caller and day): its
 * caller, or for a job the caller of the call that queued it (jobs.caller); "" none. */
const char *call_dial_caller(hl_call *c);

/* ---- the primitives' Lua functions (rows of call_api.c) ---- */
int prim_answer(lua_State *L);
int prim_ring(lua_State *L);
int prim_hangup(lua_State *L);
int prim_on_hangup(lua_State *L);
int prim_set_route(lua_State *L);
int prim_visit(lua_State *L);
int prim_leg_hangup(lua_State *L);
int prim_play(lua_State *L);
int prim_say_digits(lua_State *L);
int prim_say_number(lua_State *L);
int prim_say_amount(lua_State *L);
int prim_say_date(lua_State *L);
int prim_collect(lua_State *L);
int prim_record(lua_State *L);
int prim_sleep(lua_State *L);
int prim_dial(lua_State *L);
int prim_bridge(lua_State *L);
int prim_queue(lua_State *L);
int prim_agent_state(lua_State *L);
int prim_agent_info(lua_State *L);
int prim_monitor(lua_State *L);
int prim_ring_agent(lua_State *L);
int prim_consult(lua_State *L);
int prim_refer(lua_State *L);
int prim_fax_send(lua_State *L);
int prim_fax_receive(lua_State *L);
int prim_store_query(lua_State *L);
int prim_jobs_enqueue(lua_State *L);
int prim_http_request(lua_State *L);
int prim_pin_hash(lua_State *L);
/* prim_pwhash.c: DATA/pin_pepper into key (made the first time); 0, or -1 with err. */
int call_pin_pepper(const char *data_dir, unsigned char key[32], char *err, int errlen);
/* What the pool does for hl.pin_hash / pin_verify, at once (tests): keyed when data_dir is
 * not "". */
bool call_pin_hash_now(const char *data_dir, const char *secret, unsigned long long ops, size_t mem,
                       char *hash, size_t hashlen);
bool call_pin_verify_now(const char *data_dir, const char *hash, const char *secret);
int prim_pin_verify(lua_State *L);

extern const hl_api_prim hl_call_api[];

#endif
