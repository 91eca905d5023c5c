/* ctl_server.c — the control socket's server side (ctl.h): the Unix socket on the loop,
 * connections, line framing, the command table, immediate and deferred replies.
 * The commands ctl serves itself (help, cdr, query) are in ctl_cmds.c. */
#include "ctl/ctl.h"
#include "ctl/ctl_int.h"
#include "core/log.h"
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Connections served at once; more are closed at accept (ctl is for a few admins and
 * scripts, not a crowd). */
#define HL_CTL_MAX_CONNS 64
#define HL_CTL_BACKLOG 16

typedef struct ctl_conn {
    uv_pipe_t        pipe;
    hl_ctl          *ctl;
    struct ctl_conn *prev, *next;
    char            *buf;
    size_t           len, cap;
    hl_ctl_req      *busy;       /* request being handled (deferred) */
    int              writes;     /* uv_write in flight */
    bool             eof;        /* the client finished sending */
    bool             in_process; /* inside process_lines: no re-entry */
    bool             closing;
    bool             paused;     /* reading stopped while a deferred request waits */
} ctl_conn;

struct hl_ctl_req {
    ctl_conn *conn;              /* NULL once the connection is gone */
};

typedef struct write_req {
    uv_write_t req;
    ctl_conn  *conn;
    char      *data;
} write_req;

/* ---- life cycle of the ctl object ------------------------------------------------- */

static void ctl_unref(hl_ctl *ctl)
{
    if (--ctl->handles > 0)
        return;
    for (int i = 0; i < ctl->ncmds; i++) {
        free(ctl->cmds[i].name);
        free(ctl->cmds[i].help);
    }
    free(ctl->cmds);
    json_decref(ctl->queries);
    free(ctl);
}

static void on_conn_closed(uv_handle_t *h)
{
    ctl_conn *c = h->data;
    hl_ctl *ctl = c->ctl;
    free(c->buf);
    free(c);
    ctl_unref(ctl);
}

static void conn_close(ctl_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    if (c->busy)
        c->busy->conn = NULL; /* its reply will be dropped */
    c->busy = NULL;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->ctl->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->ctl->nconns--;
    uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

/* Closes once the client is done, nothing is pending and everything was written. */
static void conn_maybe_finish(ctl_conn *c)
{
    if (!c->closing && c->eof && !c->busy && c->writes == 0)
        conn_close(c);
}

/* ---- writing ---------------------------------------------------------------------- */

static void on_written(uv_write_t *w, int status)
{
    write_req *wr = (write_req *)w;
    ctl_conn *c = wr->conn;
    free(wr->data);
    free(wr);
    c->writes--;
    if (status < 0 && !c->closing) { /* the client went away */
        conn_close(c);
        return;
    }
    conn_maybe_finish(c);
}

/* Sends one response line; takes resp. */
static void conn_send(ctl_conn *c, json_t *resp)
{
    if (json_is_object(resp) && !json_object_get(resp, "ok"))
        json_object_set_new(resp, "ok", json_true());
    char *text = json_dumps(resp, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(resp);
    if (!text)
        text = strdup("{\"ok\":false,\"error\":\"response could not be encoded\"}");
    write_req *wr = malloc(sizeof *wr);
    size_t n = text ? strlen(text) : 0;
    char *line = text ? realloc(text, n + 2) : NULL;
    if (!wr || !line) {
        free(wr);
        free(line ? line : text);
        hl_error("ctl", "out of memory answering a request");
        conn_close(c);
        return;
    }
    line[n] = '\n';
    line[n + 1] = 0;
    wr->conn = c;
    wr->data = line;
    uv_buf_t buf = uv_buf_init(line, (unsigned)(n + 1));
    if (uv_write(&wr->req, (uv_stream_t *)&c->pipe, &buf, 1, on_written) < 0) {
        free(line);
        free(wr);
        conn_close(c);
        return;
    }
    c->writes++;
}

static json_t *error_json(const char *msg)
{
    return json_pack("{s:b,s:s}", "ok", 0, "error", msg && msg[0] ? msg : "command failed");
}

/* ---- requests --------------------------------------------------------------------- */

static void process_lines(ctl_conn *c);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

void hl_ctl_reply(hl_ctl_req *req, json_t *resp)
{
    if (!req) {
        json_decref(resp);
        return;
    }
    ctl_conn *c = req->conn;
    free(req);
    if (!c) { /* client or ctl gone */
        json_decref(resp);
        return;
    }
    c->busy = NULL;
    conn_send(c, resp ? resp : error_json("empty response"));
    if (!c->closing && !c->in_process) {
        process_lines(c);
        if (c->paused && !c->busy && !c->closing) {
            c->paused = false;
            uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
        }
        conn_maybe_finish(c);
    }
}

void hl_ctl_reply_error(hl_ctl_req *req, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hl_ctl_reply(req, error_json(msg));
}

static const ctl_cmd *find_cmd(hl_ctl *ctl, const char *name)
{
    for (int i = 0; i < ctl->ncmds; i++)
        if (!strcmp(ctl->cmds[i].name, name))
            return &ctl->cmds[i];
    return NULL;
}

static void handle_line(ctl_conn *c, const char *line, size_t len)
{
    json_error_t jerr;
    json_t *request = json_loadb(line, len, 0, &jerr);
    char err[1024] = "";
    if (!request) {
        snprintf(err, sizeof err, "bad JSON: %s (column %d)", jerr.text, jerr.column);
        conn_send(c, error_json(err));
        return;
    }
    const char *name = json_string_value(json_object_get(request, "cmd"));
    if (!json_is_object(request) || !name) {
        conn_send(c, error_json("a request is a JSON object with a \"cmd\" string"));
        json_decref(request);
        return;
    }
    const ctl_cmd *cmd = find_cmd(c->ctl, name);
    if (!cmd) {
        snprintf(err, sizeof err, "unknown command '%.64s' (try help)", name);
        conn_send(c, error_json(err));
        json_decref(request);
        return;
    }
    hl_ctl_req *req = malloc(sizeof *req);
    if (!req) {
        conn_send(c, error_json("out of memory"));
        json_decref(request);
        return;
    }
    req->conn = c;
    c->busy = req;
    json_t *resp = cmd->fn(cmd->arg, req, request, err, sizeof err);
    json_decref(request);
    if (resp == HL_CTL_DEFERRED)
        return; /* c->busy holds further lines until hl_ctl_reply */
    hl_ctl_reply(req, resp ? resp : error_json(err));
}

/* Handles complete lines while no request is pending. */
static void process_lines(ctl_conn *c)
{
    c->in_process = true;
    size_t off = 0;
    while (!c->busy && !c->closing) {
        char *nl = memchr(c->buf + off, '\n', c->len - off);
        if (!nl)
            break;
        size_t n = (size_t)(nl - (c->buf + off));
        size_t end = n;
        if (end && c->buf[off + end - 1] == '\r')
            end--;
        size_t start = 0;
        while (start < end && (c->buf[off + start] == ' ' || c->buf[off + start] == '\t'))
            start++;
        if (end > start)
            handle_line(c, c->buf + off + start, end - start);
        off += n + 1;
    }
    if (!c->closing && off) {
        memmove(c->buf, c->buf + off, c->len - off);
        c->len -= off;
    }
    c->in_process = false;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    ctl_conn *c = h->data;
    size_t want = 4096;
    if (c->cap - c->len < want) {
        size_t cap = c->cap ? c->cap * 2 : 8192;
        while (cap - c->len < want)
            cap *= 2;
        char *nb = realloc(c->buf, cap);
        if (!nb) {
            *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS */
            return;
        }
        c->buf = nb;
        c->cap = cap;
    }
    *buf = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    ctl_conn *c = s->data;
    if (n < 0) {
        uv_read_stop(s);
        if (n != UV_EOF) {
            conn_close(c);
            return;
        }
        c->eof = true;
        if (c->len && !c->busy) { /* a last line without its newline still counts */
            if (c->len == c->cap) {
                char *nb = realloc(c->buf, c->cap + 1);
                if (!nb) {
                    conn_close(c);
                    return;
                }
                c->buf = nb;
                c->cap++;
            }
            c->buf[c->len++] = '\n';
        }
        process_lines(c);
        conn_maybe_finish(c);
        return;
    }
    c->len += (size_t)n;
    process_lines(c);
    if (!c->closing && c->busy && c->len > HL_CTL_MAX_LINE) {
        /* a client racing ahead of a slow answer: let the socket buffer hold the rest */
        uv_read_stop(s);
        c->paused = true;
        return;
    }
    if (!c->closing && !memchr(c->buf, '\n', c->len) && c->len > HL_CTL_MAX_LINE) {
        c->len = 0;
        conn_send(c, error_json("request line too long"));
        uv_read_stop(s);
        c->eof = true; /* close once the error is written */
        conn_maybe_finish(c);
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    hl_ctl *ctl = server->data;
    if (status < 0 || ctl->closing)
        return;
    ctl_conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    uv_pipe_init(ctl->uv, &c->pipe, 0);
    c->pipe.data = c;
    c->ctl = ctl;
    ctl->handles++;
    c->next = ctl->conns;
    if (ctl->conns)
        ctl->conns->prev = c;
    ctl->conns = c;
    ctl->nconns++;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0 || ctl->nconns > HL_CTL_MAX_CONNS) {
        if (ctl->nconns > HL_CTL_MAX_CONNS)
            hl_warn("ctl", "too many control connections; refusing one");
        conn_close(c);
        return;
    }
    uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

/* ---- public ----------------------------------------------------------------------- */

void hl_ctl_register(hl_ctl *ctl, const char *cmd, hl_ctl_handler fn, void *arg,
                     const char *help)
{
    if (!ctl || !cmd || !fn)
        return;
    for (int i = 0; i < ctl->ncmds; i++) {
        if (!strcmp(ctl->cmds[i].name, cmd)) { /* re-registering replaces */
            free(ctl->cmds[i].help);
            ctl->cmds[i] = (ctl_cmd){ ctl->cmds[i].name, fn, arg, strdup(help ? help : "") };
            return;
        }
    }
    if (ctl->ncmds == ctl->capcmds) {
        int cap = ctl->capcmds ? ctl->capcmds * 2 : 16;
        ctl_cmd *n = realloc(ctl->cmds, cap * sizeof *n);
        if (!n)
            return;
        ctl->cmds = n;
        ctl->capcmds = cap;
    }
    ctl->cmds[ctl->ncmds++] = (ctl_cmd){ strdup(cmd), fn, arg, strdup(help ? help : "") };
}

void hl_ctl_set_clock(hl_ctl *ctl, const struct hl_clock *clock)
{
    if (ctl)
        ctl->clock = clock;
}

static void on_server_closed(uv_handle_t *h)
{
    ctl_unref(h->data);
}

/* A socket file left by an engine that died is removed; a live engine's is not touched,
 * and neither is anything that is not a socket. */
static int clear_stale(const char *path, char *err, int errlen)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : (snprintf(err, errlen, "ctl: %s: %s", path, strerror(errno)), -1);
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "ctl: %s exists and is not a socket; not removing it", path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int live = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close(fd);
    if (live) {
        snprintf(err, errlen, "ctl: another hotline is running (%s answers)", path);
        return -1;
    }
    if (unlink(path) < 0) {
        snprintf(err, errlen, "ctl: cannot remove stale %s: %s", path, strerror(errno));
        return -1;
    }
    hl_info("ctl", "removed stale socket %s", path);
    return 0;
}

hl_ctl *hl_ctl_new(uv_loop_t *uv, const char *sock_path, struct hl_store *store, char *err,
                   int errlen)
{
    struct sockaddr_un sa;
    if (!sock_path || strlen(sock_path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "ctl: socket path too long (at most %d bytes): %s",
                 (int)sizeof sa.sun_path - 1, sock_path ? sock_path : "(none)");
        return NULL;
    }
    if (clear_stale(sock_path, err, errlen) < 0)
        return NULL;
    hl_ctl *ctl = calloc(1, sizeof *ctl);
    if (!ctl) {
        snprintf(err, errlen, "ctl: out of memory");
        return NULL;
    }
    ctl->uv = uv;
    ctl->store = store;
    snprintf(ctl->path, sizeof ctl->path, "%s", sock_path);
    /* A client that disconnects before its answer must not kill the engine with SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    uv_pipe_init(uv, &ctl->server, 0);
    ctl->server.data = ctl;
    ctl->handles = 1;
    /* Created 0600 from the start (umask), not chmod-ed after: no window where others
     * could connect. */
    mode_t old = umask(0177);
    int rc = uv_pipe_bind(&ctl->server, sock_path);
    umask(old);
    bool bound = rc == 0;
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&ctl->server, HL_CTL_BACKLOG, on_connection);
    if (rc < 0) {
        snprintf(err, errlen, "ctl: cannot listen on %s: %s", sock_path, uv_strerror(rc));
        if (bound)
            unlink(sock_path);
        ctl->closing = true;
        uv_close((uv_handle_t *)&ctl->server, on_server_closed); /* frees ctl */
        return NULL;
    }
    chmod(sock_path, 0600);
    hl_ctl_register_builtins(ctl);
    hl_info("ctl", "listening on %s", sock_path);
    return ctl;
}

void hl_ctl_close(hl_ctl *ctl)
{
    if (!ctl || ctl->closing)
        return;
    ctl->closing = true;
    while (ctl->conns)
        conn_close(ctl->conns);
    uv_close((uv_handle_t *)&ctl->server, on_server_closed);
    unlink(ctl->path);
}
