/* http_client.h — the engine's HTTP client, behind hl.http.request (call/prim_http.c).
 *
 * One hl_http per loop.  The real one (hl_http_new) runs libcurl's multi interface on the
 * loop: a uv_poll_t per socket curl asks about and one uv_timer_t for curl's timeout, so no
 * request ever blocks the loop (DNS runs on curl's resolver thread).  The canned one
 * (hl_http_new_canned, for the simulator) answers from a table on an hl_timers fake clock:
 * no network at all.  Both enforce the same rules before anything is sent:
 *   - only http:// and https:// URLs; redirects are never followed (a 3xx is the answer);
 *   - the URL's host must be on the allow list (rules/engine.lua http_allow): scripts cannot
 *     be made to reach other hosts (SSRF, toll fraud through a PBX's web API);
 *   - a response body over max_body fails the request; the whole request has a timeout.
 * Errors name the method and scheme://host:port, never the path or the body (they may
 * carry an ID number). */
#ifndef HL_HTTP_CLIENT_H
#define HL_HTTP_CLIENT_H
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <uv.h>
#include "core/timer.h"

#define HL_HTTP_MAX_HEADERS 32    /* request headers one request may set: an API needs 2-3 */
#define HL_HTTP_URL_MAX 2048      /* longest URL accepted (the common de-facto limit) */
#define HL_HTTP_TIMEOUT_MAX_MS 60000 /* a script may not wait longer than this for one answer */

typedef struct hl_http hl_http;
typedef struct hl_http_req hl_http_req;

typedef struct hl_http_opts {
    const char *method;                 /* "GET" or "POST" */
    const char *url;                    /* http://host[:port]/path or https://... */
    const char *headers[HL_HTTP_MAX_HEADERS]; /* "Name: value" lines (checked by the caller) */
    int         nheaders;
    const char *body;                   /* POST only; may hold any bytes */
    size_t      body_len;
    int         timeout_ms;             /* the whole request, 1..HL_HTTP_TIMEOUT_MAX_MS */
    size_t      max_body;               /* a longer response body fails the request */
    const char *const *allow;           /* hosts it may reach: "host" or "host:port" */
    int         nallow;
} hl_http_opts;

/* The outcome of one request: result is {status = int, body = string (any bytes), headers =
 * {lower-case name = value}} (borrowed: valid during the call), or NULL with err saying what
 * failed (connect, DNS, timeout, body too large, cancelled). */
typedef void (*hl_http_done_fn)(void *arg, json_t *result, const char *err);

/* The real client on uv; NULL with err on failure (curl could not start). */
hl_http *hl_http_new(uv_loop_t *uv, char *err, size_t errlen);
/* The simulator's client: answers from hl_http_canned_add entries on timers' clock; a step
 * of the transcript goes to out (may be NULL). */
hl_http *hl_http_new_canned(hl_timers *timers, FILE *out);

typedef struct hl_http_canned {
    int         status;        /* 100..599 */
    const char *body;          /* copied */
    size_t      body_len;
    json_t     *headers;       /* {name = value}, borrowed (copied) or NULL */
    int         delay_ms;      /* the answer comes this long after the request */
    const char *error;         /* non-NULL: the request fails with this (a network failure) */
} hl_http_canned;
/* Adds an answer for key "METHOD URL" (exactly as the script passes them).  Several answers
 * for one key are given in order, the last one again for every later request.  0 or -1. */
int hl_http_canned_add(hl_http *h, const char *key, const hl_http_canned *answer);
/* Reads a scenario's http = { ["GET http://h/p"] = {status=, body=, headers=, delay_ms=,
 * error=} or a list of those } at idx of S into a new canned client.  NULL with err naming
 * the entry that is wrong. */
struct lua_State;
hl_http *hl_http_canned_from_lua(hl_timers *timers, FILE *out, struct lua_State *S, int idx,
                                 char *err, size_t errlen);

/* Checks and starts a request; done is called later, from the loop (never from inside this
 * call), exactly once unless the request is cancelled.  NULL with err when the request is
 * refused at once (bad method or URL, a scheme other than http/https, a host not allowed,
 * too many headers): nothing is sent then and done is never called. */
hl_http_req *hl_http_request(hl_http *h, const hl_http_opts *o, hl_http_done_fn done, void *arg,
                             char *err, size_t errlen);
/* Sets the arg done gets (for owners that learn it only after the request started). */
void hl_http_req_set_arg(hl_http_req *q, void *arg);
/* Cancels every request in flight whose done arg is arg: each ends at once (its connection
 * is dropped) and its done is never called — for an owner that no longer wants the answer,
 * e.g. a call terminated while its script waits.  Returns how many it cancelled. */
int  hl_http_cancel_arg(hl_http *h, const void *arg);
/* Requests in flight (for tests and status). */
int  hl_http_pending(const hl_http *h);
/* Ends the client: every request in flight fails with "cancelled" (done is called), then
 * the client is freed (the real one once libuv has closed its handles: run the loop). */
void hl_http_close(hl_http *h);

/* Is url's host on the allow list?  0, or -1 with the reason in err (also a URL that is not
 * http/https).  what gets "METHOD scheme://host:port" when not NULL. */
int  hl_http_url_check(const char *method, const char *url, const char *const *allow, int nallow,
                       char *what, size_t whatlen, char *err, size_t errlen);

#endif
