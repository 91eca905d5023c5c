/* test_ctl.c — the control socket: a uv loop serving hl_ctl (with a store) in a thread,
 * clients talking to it from the main thread: sync and deferred replies, ordering on one
 * connection, bad JSON, unknown commands, the store-backed cdr and query commands,
 * the socket's mode and stale-socket handling, and hl_ctl_main's output and exit codes. */
#include "ctl/ctl.h"
#include "store/store.h"
#include "core/log.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "unit.h"

static char dir[64], sock[100];

/* ---- the server thread ---- */

typedef struct server {
    uv_loop_t   loop;
    uv_async_t  stop;
    hl_ctl     *ctl;
    hl_store   *store;
    pthread_t   thread;
    pthread_mutex_t mu;
    pthread_cond_t  ready_cond;
    int         ready;     /* 1 up, -1 failed */
    char        err[256];
} server;

typedef struct slow_req {
    uv_timer_t  timer;
    hl_ctl_req *req;
} slow_req;

static void slow_closed(uv_handle_t *h) { free(h->data); }

static void slow_fire(uv_timer_t *t)
{
    slow_req *s = t->data;
    hl_ctl_reply(s->req, json_pack("{s:b}", "slow", 1));
    uv_close((uv_handle_t *)&s->timer, slow_closed);
}

static json_t *h_slow(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    server *sv = arg;
    slow_req *s = calloc(1, sizeof *s);
    s->req = req;
    uv_timer_init(&sv->loop, &s->timer);
    s->timer.data = s;
    uv_timer_start(&s->timer, slow_fire, 150, 0);
    return HL_CTL_DEFERRED;
}

static json_t *h_echo(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    json_t *r = json_deep_copy(request);
    json_object_del(r, "cmd");
    return r; /* "ok":true added by ctl */
}

static json_t *h_fail(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    snprintf(err, errlen, "it failed on purpose");
    return NULL;
}

static json_t *h_status(void *arg, hl_ctl_req *req, json_t *request, char *err, int errlen)
{
    return json_pack("{s:s,s:i,s:{s:f}}", "version", "test", "calls", 0, "rtp", "p99", 1.5);
}

static void on_stop(uv_async_t *a)
{
    server *sv = a->data;
    hl_ctl_close(sv->ctl);
    hl_store_close(sv->store);
    uv_close((uv_handle_t *)&sv->stop, NULL);
}

static void *server_main(void *arg)
{
    server *sv = arg;
    uv_loop_init(&sv->loop);
    sv->store = hl_store_open(&sv->loop, dir, sv->err, sizeof sv->err);
    sv->ctl = sv->store ? hl_ctl_new(&sv->loop, sock, sv->store, sv->err, sizeof sv->err) : NULL;
    /* the shipped policy's tables and queries (rules/schema/, rules/queries.lua: run from the
     * repository's root, as make does) */
    json_t *queries = NULL;
    if (sv->ctl && hl_store_policy_activate(sv->store, "rules", &queries, sv->err, sizeof sv->err) != 0) {
        hl_ctl_close(sv->ctl);
        sv->ctl = NULL;
    }
    if (sv->ctl) {
        hl_ctl_set_queries(sv->ctl, queries);
        json_decref(queries);
        hl_ctl_register(sv->ctl, "slow", h_slow, sv, "answers after 150 ms");
        hl_ctl_register(sv->ctl, "echo", h_echo, sv, "echoes the request");
        hl_ctl_register(sv->ctl, "fail", h_fail, sv, "always fails");
        hl_ctl_register(sv->ctl, "status", h_status, sv, "status");
        uv_async_init(&sv->loop, &sv->stop, on_stop);
        sv->stop.data = sv;
    }
    pthread_mutex_lock(&sv->mu);
    sv->ready = sv->ctl ? 1 : -1;
    pthread_cond_signal(&sv->ready_cond);
    pthread_mutex_unlock(&sv->mu);
    if (sv->ctl)
        uv_run(&sv->loop, UV_RUN_DEFAULT);
    else if (sv->store)
        hl_store_close(sv->store);
    uv_run(&sv->loop, UV_RUN_DEFAULT);
    uv_loop_close(&sv->loop);
    return NULL;
}

static int server_start(server *sv)
{
    memset(sv, 0, sizeof *sv);
    pthread_mutex_init(&sv->mu, NULL);
    pthread_cond_init(&sv->ready_cond, NULL);
    pthread_create(&sv->thread, NULL, server_main, sv);
    pthread_mutex_lock(&sv->mu);
    while (!sv->ready)
        pthread_cond_wait(&sv->ready_cond, &sv->mu);
    pthread_mutex_unlock(&sv->mu);
    if (sv->ready < 0) {
        pthread_join(sv->thread, NULL);
        return -1;
    }
    return 0;
}

static void server_stop(server *sv)
{
    uv_async_send(&sv->stop);
    pthread_join(sv->thread, NULL);
}

/* ---- client helpers ---- */

static json_t *ask(json_t *req_stolen)
{
    json_t *resp = NULL;
    char err[256];
    int rc = hl_ctl_request(sock, req_stolen, &resp, 5000, err, sizeof err);
    json_decref(req_stolen);
    if (rc < 0)
        printf("  (request failed: %s)\n", err);
    return resp;
}

static const char *err_of(json_t *r)
{
    const char *e = json_string_value(json_object_get(r, "error"));
    return e ? e : "";
}

static int raw_connect(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads n lines (blocking, with a socket timeout). */
static int raw_lines(int fd, char *buf, size_t size, int n)
{
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t len = 0;
    int lines = 0;
    while (lines < n && len + 1 < size) {
        ssize_t k = recv(fd, buf + len, size - len - 1, 0);
        if (k <= 0)
            break;
        for (ssize_t i = 0; i < k; i++)
            lines += buf[len + i] == '\n';
        len += (size_t)k;
    }
    buf[len] = 0;
    return lines;
}

/* Runs hl_ctl_main with stdout captured into out. */
static int run_main(char *out, size_t size, int argc, char **argv)
{
    char path[300];
    snprintf(path, sizeof path, "%s/stdout.txt", dir);
    fflush(stdout);
    int saved = dup(1), saved_err = dup(2);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    dup2(fd, 2);
    close(fd);
    int rc = hl_ctl_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved, 1);
    dup2(saved_err, 2);
    close(saved);
    close(saved_err);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(out, 1, size - 1, f) : 0;
    out[n] = 0;
    if (f)
        fclose(f);
    return rc;
}

/* ---- tests ---- */

static void test_protocol(void)
{
    json_t *r = ask(json_pack("{s:s,s:i}", "cmd", "echo", "x", 7));
    CHECK(r && json_is_true(json_object_get(r, "ok")) && json_integer_value(json_object_get(r, "x")) == 7,
          "echo");
    json_decref(r);
    r = ask(json_pack("{s:s}", "cmd", "slow"));
    CHECK(r && json_is_true(json_object_get(r, "ok")) && json_is_true(json_object_get(r, "slow")),
          "deferred reply");
    json_decref(r);
    r = ask(json_pack("{s:s}", "cmd", "fail"));
    CHECK(r && json_is_false(json_object_get(r, "ok")) && !strcmp(err_of(r), "it failed on purpose"),
          "handler error: %s", err_of(r));
    json_decref(r);
    r = ask(json_pack("{s:s}", "cmd", "nosuch"));
    CHECK(r && json_is_false(json_object_get(r, "ok")) && strstr(err_of(r), "unknown command 'nosuch'"),
          "unknown command: %s", err_of(r));
    json_decref(r);
    r = ask(json_pack("{s:s}", "cmd", "help"));
    CHECK(r && json_array_size(json_object_get(r, "commands")) >= 7, "help lists commands");
    json_decref(r);

    /* one connection: bad JSON, a non-object, a deferred request followed by a quick one
     * (answers stay in order), blank lines ignored */
    int fd = raw_connect();
    CHECK(fd >= 0, "raw connect");
    if (fd < 0)
        return;
    const char *script = "{nope\n[1,2]\n\n{\"cmd\":\"slow\"}\n{\"cmd\":\"echo\",\"n\":2}\r\n{\"cmd\":3}\n";
    CHECK(send(fd, script, strlen(script), 0) == (ssize_t)strlen(script), "send");
    char buf[4096];
    int n = raw_lines(fd, buf, sizeof buf, 5);
    CHECK(n == 5, "5 answers, got %d: %s", n, buf);
    char *lines[5] = { 0 };
    char *save = NULL;
    int k = 0;
    for (char *l = strtok_r(buf, "\n", &save); l && k < 5; l = strtok_r(NULL, "\n", &save))
        lines[k++] = l;
    CHECK(lines[0] && strstr(lines[0], "\"ok\":false") && strstr(lines[0], "bad JSON"), "bad JSON: %s", lines[0]);
    CHECK(lines[1] && strstr(lines[1], "\"ok\":false") && strstr(lines[1], "cmd"), "non-object: %s", lines[1]);
    CHECK(lines[2] && strstr(lines[2], "\"slow\":true"), "slow first: %s", lines[2]);
    CHECK(lines[3] && strstr(lines[3], "\"n\":2"), "then echo: %s", lines[3]);
    CHECK(lines[4] && strstr(lines[4], "\"ok\":false"), "cmd not a string: %s", lines[4]);
    close(fd);

    /* a client that leaves before its deferred answer: the server carries on */
    fd = raw_connect();
    const char *slow = "{\"cmd\":\"slow\"}\n";
    CHECK(send(fd, slow, strlen(slow), 0) > 0, "send slow");
    close(fd);
    usleep(300 * 1000);
    r = ask(json_pack("{s:s}", "cmd", "echo"));
    CHECK(r && json_is_true(json_object_get(r, "ok")), "server alive after an abandoned request");
    json_decref(r);

    /* a last request without a newline, then EOF (shutdown of the write side) */
    fd = raw_connect();
    const char *nonl = "{\"cmd\":\"echo\",\"z\":1}";
    CHECK(send(fd, nonl, strlen(nonl), 0) > 0, "send no newline");
    shutdown(fd, SHUT_WR);
    n = raw_lines(fd, buf, sizeof buf, 1);
    CHECK(n == 1 && strstr(buf, "\"z\":1"), "answered at EOF: %s", buf);
    close(fd);

    /* an endless line is refused */
    fd = raw_connect();
    size_t endless = HL_CTL_MAX_LINE + 200 * 1024;
    char *big = malloc(endless);
    memset(big, 'a', endless);
    ssize_t sent = send(fd, big, endless, MSG_NOSIGNAL);
    (void)sent;
    n = raw_lines(fd, buf, sizeof buf, 1);
    CHECK(n == 1 && strstr(buf, "too long"), "long line refused: %s", buf);
    free(big);
    close(fd);

    /* many requests queued behind a slow one (more than the server buffers): all answered,
     * in order */
    fd = raw_connect();
    enum { NQ = 3000 };
    size_t cap = 64 + NQ * 40, len = 0;
    char *many = malloc(cap);
    len += snprintf(many + len, cap - len, "{\"cmd\":\"slow\"}\n");
    for (int i = 0; i < NQ; i++)
        len += snprintf(many + len, cap - len, "{\"cmd\":\"echo\",\"i\":%d}\n", i);
    CHECK(send(fd, many, len, 0) == (ssize_t)len, "send %zu bytes", len);
    char *ans = malloc(NQ * 64);
    n = raw_lines(fd, ans, NQ * 64, NQ + 1);
    char last[64];
    snprintf(last, sizeof last, "\"i\":%d,", NQ - 1);
    CHECK(n == NQ + 1 && strstr(ans, "\"slow\":true") == ans + 1 && strstr(ans, last),
          "%d queued requests: %d answers", NQ + 1, n);
    free(many);
    free(ans);
    close(fd);

    struct stat st;
    CHECK(stat(sock, &st) == 0 && (st.st_mode & 0777) == 0600, "socket mode 0600: %o",
          st.st_mode & 0777);
}

static void test_store_commands(server *sv)
{
    char err[256];
    for (int i = 0; i < 3; i++) {
        hl_cdr c;
        memset(&c, 0, sizeof c);
        snprintf(c.call_id, sizeof c.call_id, "c%d", i);
        snprintf(c.caller, sizeof c.caller, "1390000000%d", i);
        strcpy(c.called, "12333");
        c.start = 1782892740 + i * 60; /* 2026-07-01T15:59:00+08:00 */
        c.answer = c.start + 1;
        c.end = c.start + 30;
        strcpy(c.hangup_side, "caller");
        strcpy(c.hangup_cause, "bye");
        strcpy(c.prompts, "welcome goodbye");
        strcpy(c.route, "hangup");
        json_t *p = hl_cdr_params(&c);
        json_t *r = hl_store_exec_sync(sv->store, HL_CDR_INSERT_SQL, p, err, sizeof err);
        CHECK(r != NULL, "insert cdr: %s", err);
        json_decref(r);
        json_decref(p);
    }
    json_t *r = ask(json_pack("{s:s,s:i}", "cmd", "cdr", "last", 2));
    json_t *cdrs = json_object_get(r, "cdrs");
    CHECK(json_array_size(cdrs) == 2, "cdr --last 2: %s", err_of(r));
    CHECK(!strcmp(json_string_value(json_object_get(json_array_get(cdrs, 1), "call_id")) ?: "", "c2"),
          "newest last");
    CHECK(!strcmp(json_string_value(json_object_get(json_array_get(cdrs, 0), "start")) ?: "",
                  "2026-07-01T16:00:00+08:00"), "ISO start");
    CHECK(json_array_size(json_object_get(json_array_get(cdrs, 0), "prompts")) == 2, "prompts array");
    json_decref(r);
    r = ask(json_pack("{s:s,s:i}", "cmd", "cdr", "last", 0));
    CHECK(r && json_is_false(json_object_get(r, "ok")) && strstr(err_of(r), "last"), "bad --last");
    json_decref(r);
    r = ask(json_pack("{s:s,s:s}", "cmd", "cdr", "call_id", "c0"));
    CHECK(json_array_size(json_object_get(r, "cdrs")) == 1, "cdr --call");
    json_decref(r);

    /* query: the named queries of rules/queries.lua, over the table of rules/schema/ */
    json_t *x = hl_store_exec_sync(sv->store,
        "INSERT INTO messages(caller, called, created, duration_ms, path) VALUES "
        "('13900000001', '12333', 1782892740, 12500, 'messages/1.wav'), "
        "('13900000002', '12333', 1782892800, 3000, 'messages/2.wav')", NULL, err, sizeof err);
    CHECK(x != NULL, "insert messages: %s", err);
    json_decref(x);
    r = ask(json_pack("{s:s}", "cmd", "query"));
    json_t *list = json_object_get(r, "queries");
    bool listed = false;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *q = json_array_get(list, i);
        if (!strcmp(json_string_value(json_object_get(q, "name")) ?: "", "message_handled"))
            listed = json_is_true(json_object_get(q, "writes")) &&
                     !strcmp(json_string_value(json_object_get(q, "args")) ?: "", "id [by=ctl]");
    }
    CHECK(listed, "query lists message_handled, its args and that it writes: %s", err_of(r));
    json_decref(r);
    r = ask(json_pack("{s:s,s:[s]}", "cmd", "query", "args", "messages"));
    json_t *rows = json_object_get(r, "rows");
    CHECK(json_array_size(rows) == 2, "query messages: %s", err_of(r));
    json_int_t id = json_integer_value(json_object_get(json_array_get(rows, 0), "id"));
    CHECK(!strcmp(json_string_value(json_object_get(json_array_get(rows, 0), "created")) ?: "",
                  "2026-07-01 15:59:00"), "created in the centre's time, as the query says");
    json_decref(r);
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    r = ask(json_pack("{s:s,s:[s,s,s]}", "cmd", "query", "args", "message_handled", idtext, "alice"));
    rows = json_object_get(r, "rows");
    CHECK(r && json_is_true(json_object_get(r, "ok")) &&
          !strcmp(json_string_value(json_object_get(json_array_get(rows, 0), "state")) ?: "", "handled") &&
          !strcmp(json_string_value(json_object_get(json_array_get(rows, 0), "handled_by")) ?: "", "alice"),
          "message handled: %s", err_of(r));
    json_decref(r);
    r = ask(json_pack("{s:s,s:[s,s,s]}", "cmd", "query", "args", "message_handled", idtext, "bob"));
    CHECK(r && !strcmp(json_string_value(json_object_get(json_array_get(json_object_get(r, "rows"), 0),
                                                          "handled_by")) ?: "", "alice"),
          "handled twice keeps the first");
    json_decref(r);
    r = ask(json_pack("{s:s,s:[s,s]}", "cmd", "query", "args", "message_handled", "999"));
    CHECK(r && json_is_true(json_object_get(r, "ok")) && json_array_size(json_object_get(r, "rows")) == 0,
          "an unknown id changes nothing: %s", err_of(r));
    json_decref(r);
    r = ask(json_pack("{s:s,s:[s]}", "cmd", "query", "args", "message_handled"));
    CHECK(r && json_is_false(json_object_get(r, "ok")) && strstr(err_of(r), "usage: hotline ctl query "
          "message_handled id [by=ctl] (an argument is missing)"), "a missing argument: %s", err_of(r));
    json_decref(r);
    r = ask(json_pack("{s:s,s:[s,s,s,s]}", "cmd", "query", "args", "message_handled", "1", "x", "y"));
    CHECK(r && json_is_false(json_object_get(r, "ok")) && strstr(err_of(r), "too many"), "too many: %s",
          err_of(r));
    json_decref(r);
    r = ask(json_pack("{s:s,s:[s]}", "cmd", "query", "args", "no_such"));
    CHECK(r && json_is_false(json_object_get(r, "ok")) && strstr(err_of(r), "no query 'no_such'"),
          "unknown query: %s", err_of(r));
    json_decref(r);
    r = ask(json_pack("{s:s,s:[s,s]}", "cmd", "query", "args", "messages", "new"));
    CHECK(json_array_size(json_object_get(r, "rows")) == 1, "query messages new: %s", err_of(r));
    json_decref(r);
    /* issue 8: an agent's day; its number keeps its leading zero (text, not 8001) */
    x = hl_store_exec_sync(sv->store,
        "INSERT INTO agent_events(time, agent, state) VALUES (1782864000, '08001', 'ready'),"
        " (1782864001, '8001', 'ready')", NULL, err, sizeof err);
    CHECK(x != NULL, "insert agent events: %s", err);
    json_decref(x);
    r = ask(json_pack("{s:s,s:[s,s,s]}", "cmd", "query", "args", "agent_day", "08001", "2026-07-01"));
    rows = json_object_get(r, "rows");
    CHECK(json_array_size(rows) == 1 &&
          !strcmp(json_string_value(json_object_get(json_array_get(rows, 0), "at")) ?: "", "08:00:00"),
          "query agent_day 08001: %s", err_of(r));
    json_decref(r);
}

static void test_main(void)
{
    char out[8192];
    char *a1[] = { "ctl", "--data", dir, "cdr", "--last", "3", NULL };
    int rc = run_main(out, sizeof out, 6, a1);
    CHECK(rc == 0 && strstr(out, "START") && strstr(out, "2026-07-01 16:01:00") && strstr(out, "caller/bye"),
          "cdr table (rc %d):\n%s", rc, out);
    char *a2[] = { "ctl", "--data", dir, "--json", "status", NULL };
    rc = run_main(out, sizeof out, 5, a2);
    CHECK(rc == 0 && strstr(out, "\"version\": \"test\""), "status --json (rc %d): %s", rc, out);
    char *a3[] = { "ctl", "--data", dir, "status", NULL };
    rc = run_main(out, sizeof out, 4, a3);
    CHECK(rc == 0 && strstr(out, "version: test") && strstr(out, "p99: 1.500"), "status text: %s", out);
    char *a4[] = { "ctl", "--data", dir, "fail", NULL };
    rc = run_main(out, sizeof out, 4, a4);
    CHECK(rc == 1 && strstr(out, "it failed on purpose"), "error exit 1 (rc %d): %s", rc, out);
    char *a5[] = { "ctl", "--data", "/nonexistent-hotline", "status", NULL };
    rc = run_main(out, sizeof out, 4, a5);
    CHECK(rc == 2 && strstr(out, "hotline is not running (no socket at /nonexistent-hotline/hotline.sock)"),
          "not running exit 2 (rc %d): %s", rc, out);
    char *a6[] = { "ctl", "--data", dir, "query", "messages", NULL };
    rc = run_main(out, sizeof out, 5, a6);
    CHECK(rc == 0 && strstr(out, "CREATED") && strstr(out, "alice") && strstr(out, "12500"),
          "query messages table: %s", out);
    char *a7[] = { "ctl", "--data", dir, "query", NULL };
    rc = run_main(out, sizeof out, 4, a7);
    CHECK(rc == 0 && strstr(out, "message_handled id [by=ctl]") && strstr(out, "(writes)"),
          "query list: %s", out);
    char *a8[] = { "ctl", "--help", NULL };
    rc = run_main(out, sizeof out, 2, a8);
    CHECK(rc == 0 && strstr(out, "cdr [--last N]") && strstr(out, "query NAME [ARG...]"), "--help");
    char *a9[] = { "ctl", "--data", dir, "query", "message_handled", "2", NULL };
    rc = run_main(out, sizeof out, 6, a9);
    CHECK(rc == 0 && strstr(out, "handled"), "message handled via main: %s", out);
}

static void test_socket_file(server *sv)
{
    char err[256];
    uv_loop_t loop;
    uv_loop_init(&loop);
    /* live engine: refused */
    hl_ctl *c = hl_ctl_new(&loop, sock, NULL, err, sizeof err);
    CHECK(!c && strstr(err, "another hotline is running"), "second server refused: %s", err);
    server_stop(sv);
    struct stat st;
    CHECK(stat(sock, &st) < 0, "socket removed at close");
    /* stale socket: removed */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
    CHECK(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "make stale socket");
    close(fd);
    c = hl_ctl_new(&loop, sock, NULL, err, sizeof err);
    CHECK(c != NULL, "stale socket replaced: %s", err);
    if (c)
        hl_ctl_close(c);
    uv_run(&loop, UV_RUN_DEFAULT);
    /* a regular file is not ours to delete */
    fd = open(sock, O_WRONLY | O_CREAT, 0600);
    close(fd);
    c = hl_ctl_new(&loop, sock, NULL, err, sizeof err);
    CHECK(!c && strstr(err, "not a socket"), "regular file kept: %s", err);
    unlink(sock);
    char longp[400];
    memset(longp, 'x', sizeof longp - 1);
    longp[sizeof longp - 1] = 0;
    c = hl_ctl_new(&loop, longp, NULL, err, sizeof err);
    CHECK(!c && strstr(err, "too long"), "long path: %s", err);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0, "loop closes");
}

TEST_IMPL(ctl)
{
    hl_log_set_level(HL_LOG_WARN);
    snprintf(dir, sizeof dir, "/tmp/hl-test-ctl-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(sock, sizeof sock, "%s/hotline.sock", dir);
    server sv;
    if (server_start(&sv) < 0) {
        printf("server did not start: %s\n", sv.err);
        return 1;
    }
    test_protocol();
    test_store_commands(&sv);
    test_main();
    test_socket_file(&sv); /* stops the server */
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("could not remove %s\n", dir);
    return 0;
}
