/* call_api.c — the call layer's rows of the declared Lua API (lua/api.h): the call and leg
 * objects' methods, hl.store, hl.jobs and hl.http.  Each row says where the primitive may
 * be called, whether it waits, whether it needs the caller, and its options; call_lua.c
 * registers the rows behind one entry that checks the context, the primitives (prim_*.c)
 * read their options through them, and `hotline api` prints them for the docs check.
 * Defaults and bounds that are tunables name their rules/engine.lua setting (HL_API_CFG). */
#include "call/call_priv.h"
#include "fax/fax.h"
#include "http/http_client.h"

#define CALLER_ONLY (HL_CTX_CALLER | HL_CTX_HANDLER)   /* needs a caller: not in a job */
#define MAX_DIGITS 64           /* longest collect (an ID number is 18) */
#define WAIT_MAX_MS 3600000     /* a longer wait is a bug (collect's timeouts, sleep) */
#define DEFAULT_TIMEOUT_MS 5000 /* collect: first key (a menu's replay interval, SPEC 2.4) */
#define DEFAULT_INTERDIGIT_MS 3000 /* collect: between keys */
#define DIAL_TIMEOUT_MIN_MS 1000   /* a shorter ring cannot reach a phone */
#define DIAL_TIMEOUT_MAX_MS 600000 /* ten minutes of ringing is a mistake */
#define JOB_DEFAULT_ATTEMPTS 3  /* tries of a job unless enqueue says (fax servers' usual default) */
#define JOB_MAX_ATTEMPTS 20     /* more tries of one job is a retry storm, not persistence */
#define JOB_MAX_DELAY_MS (7 * 24 * 3600 * 1000L) /* a job queued further ahead is a mistake */
#define MENU_TIMEOUT_MS 5000    /* a menu waits this long for a key (SPEC 2.4: replay) */
#define MENU_MAX_FAILURES 3     /* SPEC 2.4: after 3 failures, the failure path */

static const hl_api_opt barge_opts[] = {
    HL_API_OPT("barge_in", HL_OPT_BOOL, .dflt = 0),
    HL_API_END,
};

/* say_*: barge_in as play; sensitive: the CDR lists "say:x", not the words read */
static const hl_api_opt say_opts[] = {
    HL_API_OPT("barge_in", HL_OPT_BOOL, .dflt = 0),
    HL_API_OPT("sensitive", HL_OPT_BOOL, .dflt = 0),
    HL_API_END,
};

static const hl_api_opt collect_opts[] = {
    HL_API_OPT("min", HL_OPT_INT, .dflt = 1, .lo = 0, .hi = MAX_DIGITS),
    HL_API_OPT("max", HL_OPT_INT, .dflt = 1, .lo = 1, .hi = MAX_DIGITS),
    HL_API_OPT("timeout", HL_OPT_INT, .dflt = DEFAULT_TIMEOUT_MS, .lo = 0, .hi = WAIT_MAX_MS),
    HL_API_OPT("interdigit", HL_OPT_INT, .dflt = DEFAULT_INTERDIGIT_MS, .lo = 0, .hi = WAIT_MAX_MS),
    HL_API_OPT("terminator", HL_OPT_STRING, .dflt_str = "#"),
    HL_API_OPT("prompt", HL_OPT_ITEMS),
    HL_API_OPT("barge_in", HL_OPT_BOOL, .dflt = 1),
    HL_API_OPT("sensitive", HL_OPT_BOOL, .dflt = 0),
    HL_API_END,
};

static const hl_api_opt record_opts[] = {
    HL_API_OPT("path", HL_OPT_STRING, .required = true),
    HL_API_OPT("max", HL_OPT_INT, .lo = 1, .dflt_cfg = HL_API_CFG(record_max_ms), .hi_cfg = HL_API_CFG(record_max_ms)),
    HL_API_OPT("silence", HL_OPT_INT, .dflt = 0, .lo = 0, .hi_cfg = HL_API_CFG(record_max_ms)),
    HL_API_OPT("stop_keys", HL_OPT_STRING, .dflt_str = "#"),
    HL_API_OPT("beep", HL_OPT_BOOL, .dflt = 1),
    HL_API_OPT("both_legs", HL_OPT_BOOL, .dflt = 0),
    HL_API_OPT("stereo", HL_OPT_BOOL, .dflt = 0),
    HL_API_END,
};

static const hl_api_opt dial_opts[] = {
    HL_API_OPT("timeout", HL_OPT_INT, .lo = DIAL_TIMEOUT_MIN_MS, .hi = DIAL_TIMEOUT_MAX_MS,
      .dflt_cfg = HL_API_CFG(ring_timeout_ms)),
    HL_API_OPT("from", HL_OPT_STRING),
    HL_API_OPT("purpose", HL_OPT_STRING, .dflt_str = "dial"),
    HL_API_END,
};

/* call:bridge (prim_bridge.c): the recording and what a hold sounds like */
static const hl_api_opt bridge_opts[] = {
    HL_API_OPT("record", HL_OPT_STRING),
    HL_API_OPT("stereo", HL_OPT_BOOL, .dflt = 0),
    HL_API_OPT("hold_music", HL_OPT_STRING),
    HL_API_OPT("reminder", HL_OPT_STRING, .dflt_str = "tone:beep"),
    HL_API_OPT("reminder_every", HL_OPT_INT, .dflt = 0, .lo = 0, .hi = WAIT_MAX_MS),
    HL_API_OPT("transfer", HL_OPT_STRING),
    HL_API_OPT("consult", HL_OPT_STRING),
    HL_API_END,
};

/* call:monitor (prim_monitor.c): a supervisor joins an agent's talk */
static const hl_api_opt monitor_opts[] = {
    HL_API_OPT("mode", HL_OPT_STRING, .dflt_str = "listen"),
    HL_API_OPT("keys", HL_OPT_STRING),
    HL_API_END,
};

/* call:consult (prim_consult.c): an attended transfer's consultation */
static const hl_api_opt consult_opts[] = {
    HL_API_OPT("complete", HL_OPT_STRING, .required = true),
    HL_API_OPT("cancel", HL_OPT_STRING, .required = true),
    HL_API_OPT("music", HL_OPT_STRING),
    HL_API_END,
};

/* call:queue (prim_queue.c): the waits and words are the policy's (rules/queues.lua) */
#define QUEUE_RING_MIN_MS 1000     /* a shorter ring cannot reach a phone */
static const hl_api_opt queue_opts[] = {
    HL_API_OPT("ring_timeout", HL_OPT_INT, .lo = QUEUE_RING_MIN_MS, .hi = DIAL_TIMEOUT_MAX_MS,
      .dflt_cfg = HL_API_CFG(ring_timeout_ms)),
    HL_API_OPT("max_wait", HL_OPT_INT, .dflt = 0, .lo = 0, .hi = WAIT_MAX_MS),
    HL_API_OPT("announce_every", HL_OPT_INT, .dflt = 0, .lo = 0, .hi = WAIT_MAX_MS),
    HL_API_OPT("music", HL_OPT_STRING),
    HL_API_OPT("announce_position", HL_OPT_TABLE),
    HL_API_OPT("announce_wait", HL_OPT_TABLE),
    HL_API_OPT("keys", HL_OPT_STRING, .dflt_str = ""),
    HL_API_OPT("if_empty", HL_OPT_BOOL, .dflt = 1),
    HL_API_OPT("owner", HL_OPT_STRING),
    HL_API_END,
};

#define FAX_COMMON_OPTS(calling_default)                                   \
    HL_API_OPT("leg", HL_OPT_LEG),                                                 \
    HL_API_OPT("ident", HL_OPT_STRING, .dflt_str = HL_FAX_DEFAULT_IDENT),          \
    HL_API_OPT("ecm", HL_OPT_BOOL, .dflt = 1),                                     \
    HL_API_OPT("calling", HL_OPT_BOOL, .dflt = calling_default),                   \
    HL_API_END

static const hl_api_opt fax_send_opts[] = {
    HL_API_OPT("file", HL_OPT_STRING, .required = true),
    FAX_COMMON_OPTS(1),
};

static const hl_api_opt fax_receive_opts[] = {
    HL_API_OPT("path", HL_OPT_STRING, .required = true),
    FAX_COMMON_OPTS(0),
};

static const hl_api_opt jobs_opts[] = {
    HL_API_OPT("max_attempts", HL_OPT_INT, .dflt = JOB_DEFAULT_ATTEMPTS, .lo = 1, .hi = JOB_MAX_ATTEMPTS),
    HL_API_OPT("delay_ms", HL_OPT_INT, .dflt = 0, .lo = 0, .hi = JOB_MAX_DELAY_MS),
    HL_API_END,
};

static const hl_api_opt http_opts[] = {
    HL_API_OPT("method", HL_OPT_STRING, .dflt_str = "GET"),
    HL_API_OPT("url", HL_OPT_STRING, .required = true),
    HL_API_OPT("headers", HL_OPT_TABLE),
    HL_API_OPT("body", HL_OPT_STRING),
    HL_API_OPT("timeout_ms", HL_OPT_INT, .lo = 1, .hi = HL_HTTP_TIMEOUT_MAX_MS, .dflt_cfg = HL_API_CFG(http_timeout_ms)),
    HL_API_END,
};

/* call:menu's definition (lua/lib.c reads its defaults from here); a menu may carry fields
 * of the policy's own, so unknown ones are not refused */
static const hl_api_opt menu_opts[] = {
    HL_API_OPT("name", HL_OPT_STRING, .required = true),
    HL_API_OPT("keys", HL_OPT_TABLE, .required = true),
    HL_API_OPT("prompt", HL_OPT_ANY),
    HL_API_OPT("timeout", HL_OPT_INT, .dflt = MENU_TIMEOUT_MS, .lo = 0, .hi = WAIT_MAX_MS),
    HL_API_OPT("max_failures", HL_OPT_INT, .dflt = MENU_MAX_FAILURES, .lo = 1, .hi = 100),
    HL_API_OPT("invalid_prompt", HL_OPT_ITEMS, .dflt_str = "invalid_choice"),
    HL_API_OPT("timeout_prompt", HL_OPT_ITEMS),
    HL_API_OPT("on_failure", HL_OPT_ANY),
    HL_API_OPT("barge_in", HL_OPT_BOOL, .dflt = 1),
    HL_API_OPT("back", HL_OPT_BOOL, .dflt = 1),
    HL_API_END,
};

const hl_api_prim hl_call_api[] = {
    /* the call object: caller-facing primitives */
    HL_API_PRIM("call:answer", prim_answer, CALLER_ONLY, .needs_caller = true),
    HL_API_PRIM("call:ring", prim_ring, CALLER_ONLY, .needs_caller = true),
    HL_API_PRIM("call:play", prim_play, CALLER_ONLY, .waits = true, .needs_caller = true, .opts_arg = 3, .opts = barge_opts),
    HL_API_PRIM("call:collect", prim_collect, CALLER_ONLY, .waits = true, .needs_caller = true, .opts_arg = 2,
      .opts = collect_opts),
    HL_API_PRIM("call:menu", NULL, CALLER_ONLY, .waits = true, .needs_caller = true, .opts_arg = 2, .opts = menu_opts,
      .open_opts = true),
    HL_API_PRIM("call:record", prim_record, CALLER_ONLY, .waits = true, .needs_caller = true, .opts_arg = 2,
      .opts = record_opts),
    HL_API_PRIM("call:say_digits", prim_say_digits, CALLER_ONLY, .waits = true, .needs_caller = true, .opts_arg = 3,
      .opts = say_opts),
    HL_API_PRIM("call:say_number", prim_say_number, CALLER_ONLY, .waits = true, .needs_caller = true, .opts_arg = 3,
      .opts = say_opts),
    HL_API_PRIM("call:say_amount", prim_say_amount, CALLER_ONLY, .waits = true, .needs_caller = true, .opts_arg = 3,
      .opts = say_opts),
    HL_API_PRIM("call:say_date", prim_say_date, CALLER_ONLY, .waits = true, .needs_caller = true, .opts_arg = 3,
      .opts = say_opts),
    HL_API_PRIM("call:sleep", prim_sleep, HL_CTX_CALL, .waits = true),
    /* other parties */
    HL_API_PRIM("call:dial", prim_dial, HL_CTX_CALL, .waits = true, .needs_caller = true, .opts_arg = 3, .opts = dial_opts),
    HL_API_PRIM("call:queue", prim_queue, CALLER_ONLY, .waits = true, .needs_caller = true, .opts_arg = 3,
      .opts = queue_opts),
    HL_API_PRIM("call:agent_state", prim_agent_state, CALLER_ONLY, .needs_caller = true),
    HL_API_PRIM("call:agent_info", prim_agent_info, CALLER_ONLY),
    HL_API_PRIM("call:monitor", prim_monitor, CALLER_ONLY, .waits = true, .needs_caller = true, .opts_arg = 3,
      .opts = monitor_opts),
    HL_API_PRIM("call:consult", prim_consult, CALLER_ONLY, .waits = true, .needs_caller = true, .opts_arg = 4,
      .opts = consult_opts),
    HL_API_PRIM("call:bridge", prim_bridge, CALLER_ONLY, .waits = true, .needs_caller = true, .opts_arg = 3,
      .opts = bridge_opts),
    HL_API_PRIM("call:transfer", NULL, CALLER_ONLY, .waits = true, .needs_caller = true, .opts_arg = 3, .opts = dial_opts),
    HL_API_PRIM("call:_refer", prim_refer, CALLER_ONLY, .waits = true, .needs_caller = true, .internal = true,
                .serves = "transfer"),
    HL_API_PRIM("call:fax_send", prim_fax_send, HL_CTX_CALL, .waits = true, .needs_caller = true, .opts_arg = 2,
      .opts = fax_send_opts),
    HL_API_PRIM("call:fax_receive", prim_fax_receive, HL_CTX_CALL, .waits = true, .needs_caller = true, .opts_arg = 2,
      .opts = fax_receive_opts),
    /* the call's record and end */
    HL_API_PRIM("call:hangup", prim_hangup, HL_CTX_CALL),
    HL_API_PRIM("call:on_hangup", prim_on_hangup, HL_CTX_CALL),
    HL_API_PRIM("call:set_route", prim_set_route, HL_CTX_CALL),
    HL_API_PRIM("call:_visit", prim_visit, HL_CTX_CALL, .internal = true),
    HL_API_PRIM("leg:hangup", prim_leg_hangup, HL_CTX_CALL),
    /* the hl module's primitives that need a call */
    HL_API_PRIM("hl.store.query", prim_store_query, HL_CTX_CALL, .waits = true),
    HL_API_PRIM("hl.jobs.enqueue", prim_jobs_enqueue, HL_CTX_CALL, .waits = true, .opts_arg = 3, .opts = jobs_opts),
    HL_API_PRIM("hl.http.request", prim_http_request, HL_CTX_CALL, .waits = true, .opts_arg = 1, .opts = http_opts),
    HL_API_PRIM("hl.pin_hash", prim_pin_hash, HL_CTX_CALL, .waits = true),
    HL_API_PRIM("hl.pin_verify", prim_pin_verify, HL_CTX_CALL, .waits = true),
    HL_API_END,
};
