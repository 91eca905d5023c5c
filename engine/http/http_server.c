/* http_server.c — the `--http` server (http_server.h): h2o's libuv flavour on the engine's
 * loop (Debian's libh2o is built on libuv), one handler at "/" that checks who asks, then
 * dispatches on the path to a registered page or stream.
 *
 * A stream's data is handed to h2o one batch at a time (h2o_send needs it to stay valid
 * until h2o asks for more with proceed); what comes meanwhile is queued, up to the
 * caller's bound, then the stream is cut off. */
#include "http/http_server.h"
#include "core/buf.h"
#include "core/trunks.h"   /* hl_cidr: the prefixes rules/trunks.lua uses too */
#include "core/log.h"
#include <h2o.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_MAX_ROUTES 8
#define HTTP_MAX_ALLOW 32          /* as many as http_metrics_allow's 255 bytes can name */
#define HTTP_TOKEN_MAX 256
#define HTTP_BACKLOG 64
/* The kernel's send buffer of a connection: what a stalled /events reader can hold there
 * comes on top of the stream's own bound, so keep it to about the same (Linux would grow
 * it to megabytes); a /metrics page fits many times over. */
#define HTTP_SNDBUF (64 * 1024)

typedef struct route {
    char                     path[64];
    char                     content_type[64];
    hl_http_page_fn          page;
    hl_http_stream_open_fn   open;
    hl_http_stream_closed_fn closed;
    void                    *arg;
} route;

typedef struct root_handler {
    h2o_handler_t          super;
    struct hl_http_server *srv;
} root_handler;

struct hl_http_stream {
    h2o_generator_t gen;           /* first: h2o hands it back to proceed/stop */
    h2o_req_t      *req;
    hl_http_server *srv;
    const route    *route;
    char           *sending;       /* with h2o until proceed */
    bool            in_flight;     /* h2o_send called, proceed not yet */
    bool            started;       /* the response began: data may go to h2o */
    hl_buf          queued;
    bool            attached;      /* the application still writes to it */
    bool            finishing;     /* cut off: queued is its last batch */
    hl_http_stream *prev, *next;
};

/* An accepted connection's handle, known to us so that shutdown can end it through h2o. */
typedef struct tracked_conn {
    uv_tcp_t             tcp;      /* first: h2o's close callback hands it back */
    hl_http_server      *srv;
    struct tracked_conn *prev, *next;
} tracked_conn;

struct hl_http_server {
    uv_loop_t        *uv;
    uv_tcp_t          listener;
    h2o_globalconf_t  config;
    h2o_context_t     ctx;
    h2o_accept_ctx_t  accept_ctx;
    route             routes[HTTP_MAX_ROUTES];
    int               nroutes;
    hl_cidr           allow[HTTP_MAX_ALLOW];
    int               nallow;
    char              token[HTTP_TOKEN_MAX];
    hl_http_stream   *streams;
    tracked_conn     *conns;
    int               port;
};

/* ---- who may ask ------------------------------------------------------------------ */

static bool peer_ip16(h2o_req_t *req, uint8_t ip[16])
{
    struct sockaddr_storage ss;
    if (!req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss))
        return false;
    if (ss.ss_family == AF_INET) {
        static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        memcpy(ip, v4mapped, 12);
        memcpy(ip + 12, &((struct sockaddr_in *)&ss)->sin_addr, 4);
        return true;
    }
    if (ss.ss_family == AF_INET6) {
        memcpy(ip, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
        return true;
    }
    return false;
}

/* Equal strings, in a time that does not depend on where they differ. */
static bool same_secret(const char *a, size_t alen, const char *b, size_t blen)
{
    unsigned char diff = alen != blen;
    for (size_t i = 0; i < alen && i < blen; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

static bool bearer_ok(hl_http_server *srv, h2o_req_t *req)
{
    if (!srv->token[0])
        return false;
    ssize_t at = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (at < 0)
        return false;
    h2o_iovec_t v = req->headers.entries[at].value;
    static const char scheme[] = "Bearer ";
    if (v.len <= sizeof scheme - 1 || strncasecmp(v.base, scheme, sizeof scheme - 1))
        return false;
    return same_secret(v.base + sizeof scheme - 1, v.len - (sizeof scheme - 1), srv->token,
                       strlen(srv->token));
}

static bool allowed(hl_http_server *srv, h2o_req_t *req)
{
    uint8_t ip[16];
    if (peer_ip16(req, ip))
        for (int i = 0; i < srv->nallow; i++)
            if (hl_cidr_contains(&srv->allow[i], ip))
                return true;
    return bearer_ok(srv, req);
}

int hl_http_server_access(hl_http_server *srv, const char *allow, const char *token, char *err, int errlen)
{
    int bad = 0;
    err[0] = 0;
    srv->nallow = 0;
    char word[64];
    for (const char *p = allow; *p;) {
        p += strspn(p, " ");
        size_t n = strcspn(p, " ");
        if (!n)
            break;
        snprintf(word, sizeof word, "%.*s", (int)(n < sizeof word ? n : sizeof word - 1), p);
        if (srv->nallow < HTTP_MAX_ALLOW && hl_cidr_parse(word, &srv->allow[srv->nallow]) == 0)
            srv->nallow++;
        else if (!bad++)
            snprintf(err, errlen, "not an address or prefix: %s", word);
        p += n;
    }
    snprintf(srv->token, sizeof srv->token, "%s", token ? token : "");
    return bad ? -1 : 0;
}

/* ---- streams ---------------------------------------------------------------------- */

static void stream_unlink(hl_http_stream *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else if (s->srv->streams == s)
        s->srv->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
}

/* The application lets go of s (it is told once). */
static void stream_detach(hl_http_stream *s)
{
    if (!s->attached)
        return;
    s->attached = false;
    stream_unlink(s);
    if (s->route->closed)
        s->route->closed(s->route->arg, s);
}

static void stream_free(hl_http_stream *s)
{
    free(s->sending);
    free(s->queued.s);
    free(s);
}

/* Hands the queue to h2o when it is free to take it. */
static void stream_flush(hl_http_stream *s)
{
    if (!s->started || s->in_flight || !s->req || (!s->queued.len && !s->finishing))
        return;
    h2o_iovec_t buf = h2o_iovec_init(s->queued.s, s->queued.len);
    if (s->finishing) { /* the last batch lives in the request's pool: h2o frees it */
        char *last = h2o_mem_alloc_pool(&s->req->pool, s->queued.len ? s->queued.len : 1);
        memcpy(last, s->queued.s, s->queued.len);
        buf.base = last;
        h2o_req_t *req = s->req;
        s->req = NULL;
        stream_free(s);
        h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
        return;
    }
    s->sending = hl_buf_take(&s->queued);
    s->in_flight = true;
    h2o_send(s->req, &buf, 1, H2O_SEND_STATE_IN_PROGRESS);
}

static void stream_proceed(h2o_generator_t *g, h2o_req_t *req)
{
    hl_http_stream *s = (hl_http_stream *)g;
    free(s->sending);
    s->sending = NULL;
    s->in_flight = false;
    stream_flush(s);
}

/* The client went away (or the connection closed): h2o is done with s. */
static void stream_stop(h2o_generator_t *g, h2o_req_t *req)
{
    hl_http_stream *s = (hl_http_stream *)g;
    s->req = NULL;
    stream_detach(s);
    stream_free(s);
}

bool hl_http_stream_send(hl_http_stream *s, const char *data, size_t len, size_t max_pending,
                         const char *cut_reason)
{
    if (!s->attached)
        return false;
    if (s->queued.len && s->queued.len + len > max_pending) {   /* one event alone always goes */
        hl_http_stream_end(s, cut_reason);   /* what it missed is lost anyway; the reason is not */
        return false;
    }
    hl_buf_add(&s->queued, data, len);
    stream_flush(s);
    return true;
}

void hl_http_stream_end(hl_http_stream *s, const char *last)
{
    if (!s->attached)
        return;
    s->queued.len = 0;
    hl_buf_add(&s->queued, last, strlen(last));
    s->finishing = true;
    stream_detach(s);
    stream_flush(s);
}

static void stream_open(hl_http_server *srv, const route *r, h2o_req_t *req, const char *query)
{
    hl_http_stream *s = calloc(1, sizeof *s);
    if (!s) {
        h2o_send_error_503(req, "Service Unavailable", "out of memory\n", 0);
        return;
    }
    s->gen = (h2o_generator_t){ stream_proceed, stream_stop };
    s->req = req;
    s->srv = srv;
    s->route = r;
    s->attached = true;
    s->next = srv->streams;
    if (srv->streams)
        srv->streams->prev = s;
    srv->streams = s;
    char err[256] = "";
    if (!r->open(r->arg, s, query, err, sizeof err)) {   /* refused: nothing was sent yet */
        stream_unlink(s);
        stream_free(s);
        size_t n = strlen(err);
        char *body = h2o_mem_alloc_pool(&req->pool, n + 2);
        snprintf(body, n + 2, "%s\n", err);
        h2o_send_error_400(req, "Bad Request", body, 0);
        return;
    }
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, r->content_type,
                   strlen(r->content_type));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-cache"));
    h2o_start_response(req, &s->gen);
    s->started = true;
    if (s->queued.len) {
        stream_flush(s);
    } else {
        s->in_flight = true;
        h2o_send(req, NULL, 0, H2O_SEND_STATE_IN_PROGRESS);   /* the headers, now */
    }
}

/* ---- requests --------------------------------------------------------------------- */

static void send_page(const route *r, h2o_req_t *req, const char *query)
{
    size_t len = 0;
    char *body = r->page(r->arg, query, &len);
    if (!body) {
        h2o_send_error_500(req, "Internal Server Error", "the page could not be made\n", 0);
        return;
    }
    char *copy = h2o_mem_alloc_pool(&req->pool, len ? len : 1);
    memcpy(copy, body, len);
    free(body);
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, r->content_type,
                   strlen(r->content_type));
    h2o_send_inline(req, copy, len);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    hl_http_server *srv = ((root_handler *)self)->srv;
    if (!allowed(srv, req)) {
        h2o_send_error_403(req, "Forbidden",
                           "not from an address in http_metrics_allow, and no valid bearer token\n", 0);
        return 0;
    }
    size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    char query[512] = "";
    if (req->query_at != SIZE_MAX)
        snprintf(query, sizeof query, "%.*s", (int)(req->path.len - req->query_at - 1),
                 req->path.base + req->query_at + 1);
    for (int i = 0; i < srv->nroutes; i++) {
        const route *r = &srv->routes[i];
        if (strlen(r->path) != plen || memcmp(r->path, req->path.base, plen))
            continue;
        if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"))) {
            h2o_send_error_405(req, "Method Not Allowed", "GET only\n", 0);
            return 0;
        }
        if (r->page)
            send_page(r, req, query);
        else
            stream_open(srv, r, req, query);
        return 0;
    }
    h2o_send_error_404(req, "Not Found", "no such page (try /metrics or /events)\n", 0);
    return 0;
}

/* h2o closed a connection (its socket's close callback). */
static void conn_closed(uv_handle_t *h)
{
    tracked_conn *c = (tracked_conn *)h;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
}

static void on_accept(uv_stream_t *listener, int status)
{
    hl_http_server *srv = listener->data;
    if (status != 0)
        return;
    tracked_conn *c = h2o_mem_alloc(sizeof *c);
    uv_tcp_init(listener->loop, &c->tcp);
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
        return;
    }
    c->srv = srv;
    c->prev = NULL;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    int sndbuf = HTTP_SNDBUF;
    uv_send_buffer_size((uv_handle_t *)&c->tcp, &sndbuf);
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)&c->tcp, conn_closed);
    h2o_accept(&srv->accept_ctx, sock);
}

bool hl_http_server_owns(const hl_http_server *srv, const uv_handle_t *h)
{
    for (const tracked_conn *c = srv ? srv->conns : NULL; c; c = c->next)
        if ((const uv_handle_t *)&c->tcp == h)
            return true;
    return false;
}

/* ---- set-up ----------------------------------------------------------------------- */

static int bind_listener(hl_http_server *srv, const char *addr, int port, char *err, int errlen)
{
    struct sockaddr_storage ss;
    int rc = strchr(addr, ':') ? uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&ss)
                               : uv_ip4_addr(addr, port, (struct sockaddr_in *)&ss);
    if (rc == 0)
        rc = uv_tcp_bind(&srv->listener, (struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&srv->listener, HTTP_BACKLOG, on_accept);
    if (rc != 0) {
        snprintf(err, errlen, "cannot listen for HTTP on %s:%d: %s", addr, port, uv_strerror(rc));
        return -1;
    }
    int len = sizeof ss;
    uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&ss, &len);
    srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

hl_http_server *hl_http_server_new(uv_loop_t *uv, const char *addr, int port, char *err, int errlen)
{
    hl_http_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    srv->uv = uv;
    h2o_config_init(&srv->config);
    h2o_hostconf_t *host = h2o_config_register_host(&srv->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    root_handler *h = (root_handler *)h2o_create_handler(path, sizeof *h);
    h->super.on_req = on_req;
    h->srv = srv;
    h2o_context_init(&srv->ctx, uv, &srv->config);
    srv->accept_ctx.ctx = &srv->ctx;
    srv->accept_ctx.hosts = srv->config.hosts;
    uv_tcp_init(uv, &srv->listener);
    srv->listener.data = srv;
    if (bind_listener(srv, addr, port, err, errlen) != 0) {
        uv_close((uv_handle_t *)&srv->listener, NULL);
        return NULL;   /* h2o's context stays with the loop: the engine does not start */
    }
    return srv;
}

static route *add_route(hl_http_server *srv, const char *path, const char *content_type)
{
    if (srv->nroutes == HTTP_MAX_ROUTES)
        return NULL;
    route *r = &srv->routes[srv->nroutes++];
    memset(r, 0, sizeof *r);
    snprintf(r->path, sizeof r->path, "%s", path);
    snprintf(r->content_type, sizeof r->content_type, "%s", content_type);
    return r;
}

void hl_http_server_page(hl_http_server *srv, const char *path, const char *content_type,
                         hl_http_page_fn fn, void *arg)
{
    route *r = add_route(srv, path, content_type);
    if (r) {
        r->page = fn;
        r->arg = arg;
    }
}

void hl_http_server_stream(hl_http_server *srv, const char *path, const char *content_type,
                           hl_http_stream_open_fn open, hl_http_stream_closed_fn closed, void *arg)
{
    route *r = add_route(srv, path, content_type);
    if (r) {
        r->open = open;
        r->closed = closed;
        r->arg = arg;
    }
}

int hl_http_server_port(const hl_http_server *srv) { return srv->port; }

/* At shutdown: no new connections; every stream ends now, and every connection is shut at
 * the socket: h2o sees the error or the end on its next read or write and closes the
 * connection itself, once (closing its handle under it would make h2o close it twice). */
void hl_http_server_close(hl_http_server *srv)
{
    if (!srv)
        return;
    while (srv->streams)
        hl_http_stream_end(srv->streams, "");
    uv_close((uv_handle_t *)&srv->listener, NULL);
    for (tracked_conn *c = srv->conns; c; c = c->next) {
        uv_os_fd_t fd;
        if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
            shutdown(fd, SHUT_RDWR);
    }
}
