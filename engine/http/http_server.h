/* http_server.h — the engine's own HTTP server on `--http` (issue 10): h2o on the engine's
 * libuv loop, serving what the application registers: pages (GET PATH answered at once
 * with a body, e.g. /metrics) and streams (GET PATH kept open, written to as things
 * happen, e.g. /events as server-sent events).
 *
 * Every request must come from an allowed address (prefixes, hl_http_server_access) or
 * carry "Authorization: Bearer TOKEN"; anything else gets 403.  The token is compared in
 * constant time and never logged.
 *
 * A stream never holds the loop up: what its client has not taken yet waits in a buffer
 * of at most max_pending bytes; past that, the stream is cut off, its last words being
 * the given reason. */
#ifndef HL_HTTP_SERVER_H
#define HL_HTTP_SERVER_H
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

typedef struct hl_http_server hl_http_server;
typedef struct hl_http_stream hl_http_stream;

/* A page: returns the body (malloc'd; the server frees it) and sets *len, or NULL for 500.
 * query: the text after '?' ("" when none). */
typedef char *(*hl_http_page_fn)(void *arg, const char *query, size_t *len);
/* A stream is asked for: true to take it (the application keeps s and writes to it with
 * hl_http_stream_send until closed() tells it the stream is gone: the client left, or it
 * was cut off; what it writes here goes first), or false with err to refuse it (400,
 * err as the body; closed() is not called). */
typedef bool (*hl_http_stream_open_fn)(void *arg, hl_http_stream *s, const char *query,
                                       char *err, int errlen);
typedef void (*hl_http_stream_closed_fn)(void *arg, hl_http_stream *s);

/* Listens on addr:port; NULL with err when it cannot. */
hl_http_server *hl_http_server_new(uv_loop_t *uv, const char *addr, int port, char *err, int errlen);
/* Who may ask: allow is addresses or prefixes ("127.0.0.1 ::1 10.0.0.0/8"), space-separated;
 * token "" = none.  Set again when the settings change; bad entries are skipped, reported in err. */
int  hl_http_server_access(hl_http_server *srv, const char *allow, const char *token, char *err, int errlen);
void hl_http_server_page(hl_http_server *srv, const char *path, const char *content_type,
                         hl_http_page_fn fn, void *arg);
void hl_http_server_stream(hl_http_server *srv, const char *path, const char *content_type,
                           hl_http_stream_open_fn open, hl_http_stream_closed_fn closed, void *arg);
/* The port it listens on (the one the system chose for port 0). */
int  hl_http_server_port(const hl_http_server *srv);

/* Queues data for the stream's client.  Returns false when more than max_pending bytes
 * would wait (data when nothing waits always goes): the stream is then cut off (cut_reason is its last data) and closed() follows. */
bool hl_http_stream_send(hl_http_stream *s, const char *data, size_t len, size_t max_pending,
                         const char *cut_reason);

/* Ends the stream with last as its final data; closed() follows. */
void hl_http_stream_end(hl_http_stream *s, const char *last);

/* A connection's handle h2o owns and closes itself: a loop closing every handle at
 * shutdown must leave these to it (hl_http_server_close has them end). */
bool hl_http_server_owns(const hl_http_server *srv, const uv_handle_t *h);

/* Stops listening and ends every stream (closed() is called for each). */
void hl_http_server_close(hl_http_server *srv);

#endif
