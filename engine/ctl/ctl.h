/* ctl.h — the control socket: `hotline ctl` talks to a running engine through it.
 *
 * (Contract written by the lead, who calls it from app/loop.c; the ctl engineer owns the
 *  implementation and may add to this header, but keep these names and signatures.)
 *
 * A Unix domain socket DATA/hotline.sock (mode 0600, a stale one is removed at start),
 * served on the loop with uv_pipe_t.  Protocol: one JSON object per line each way.
 * Request {"cmd":"NAME", ...args}; response {"ok":true, ...} or {"ok":false,"error":"..."}.
 *
 * Commands are registered by whoever owns the state they need (the loop registers
 * status/calls/hangup/reload/version); ctl itself serves the commands that need only the
 * store (cdr, query) and `help`. */
#ifndef HL_CTL_H
#define HL_CTL_H
#include <jansson.h>
#include <uv.h>

struct hl_store;
typedef struct hl_ctl hl_ctl;
typedef struct hl_ctl_req hl_ctl_req;   /* one request in flight on one connection */

/* The value a handler returns to answer later with hl_ctl_reply(req, ...). */
#define HL_CTL_DEFERRED ((json_t *)-1)

/* A command handler: returns the response object (ownership passes to ctl; "ok":true is
 * added when missing), or NULL with a message in err (sent as {"ok":false,"error":err}),
 * or HL_CTL_DEFERRED and later calls hl_ctl_reply exactly once. */
typedef json_t *(*hl_ctl_handler)(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen);

hl_ctl *hl_ctl_new(uv_loop_t *uv, const char *sock_path, struct hl_store *store, char *err, int errlen);
void    hl_ctl_register(hl_ctl *ctl, const char *cmd, hl_ctl_handler fn, void *arg, const char *help);
/* Sends a deferred response (takes ownership of resp).  Safe after the client went away. */
void    hl_ctl_reply(hl_ctl_req *req, json_t *resp);
/* Closes the socket and every connection (a pending request stays valid; its late reply is discarded). */
void    hl_ctl_close(hl_ctl *ctl);

/* ---- additions by the ctl engineer (ctl_server.c / ctl_client.c) ----
 *
 * Requests are handled one at a time per connection, in order: while a deferred request
 * waits, later lines from the same client wait too (other clients are not held up).
 * A hl_ctl_req stays valid until hl_ctl_reply is called on it — also after its client went
 * away or hl_ctl_close: the reply is then just dropped and the req freed.  A deferred
 * request that is never answered leaves its client waiting until its own timeout. */

/* A deferred error answer: {"ok":false,"error":"<formatted>"}. */
void    hl_ctl_reply_error(hl_ctl_req *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The named queries of the policy now serving (hl_store_policy_activate's JSON; ctl takes
 * its own reference), which `query` runs; set again at every reload. */
void    hl_ctl_set_queries(hl_ctl *ctl, json_t *queries);
/* Optional: the clock for the :now of queries, so that times written follow
 * `hotline run --clock`.  Without it, the system clock. */
struct hl_clock;
void    hl_ctl_set_clock(hl_ctl *ctl, const struct hl_clock *clock);

/* A request line longer than this is refused and the connection closed: requests are a
 * command and a few arguments, or one CSV file of back-office records (`admin import`,
 * app/admin.h: at most 4 MiB of text, which JSON escaping may double). */
#define HL_CTL_MAX_LINE (10 * 1024 * 1024)

/* Where the socket lives under a data directory: DIR/hotline.sock. */
#define HL_CTL_SOCKET_NAME "hotline.sock"

/* One request/response exchange with a running engine (the client's core, also for tests
 * and tools).  Returns 0 with *response (a new reference), -2 when nothing listens at
 * sock_path (not running), -1 on any other failure; err says what. */
int     hl_ctl_request(const char *sock_path, json_t *request, json_t **response,
                       int timeout_ms, char *err, int errlen);

/* `hotline ctl [--data DIR] COMMAND [ARGS]` (the client side); argv[0] is the sub-command
 * name ("ctl").  Exit code: 0 ok, 1 {"ok":false} or a usage/transport error, 2 the engine
 * is not running. */
int     hl_ctl_main(int argc, char **argv);

#endif
