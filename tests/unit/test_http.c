/* test_http.c — hl.http.request from both ends:
 *   1. the URL and allow-list check (hl_http_url_check): schemes, hosts, ports, userinfo tricks;
 *   2. the real libcurl client on a libuv loop against a small HTTP server in this process
 *      (127.0.0.1, a free port): an answer with headers, POST with a body, the body cap, a
 *      timeout, a redirect not followed, a refused connection, cancel at close;
 *   3. the Lua primitive in the simulator (scripts in a temporary folder, canned answers):
 *      allowed host answered, disallowed host refused, timeout, body cap, bad arguments. */
#define _GNU_SOURCE /* strcasestr */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>
#include "call/call.h"
#include "core/clock.h"
#include "core/timer.h"
#include "http/http_client.h"
#include "lua/script.h"
#include "sim/sim.h"

#include "unit.h"

/* ---- 1. URL checks -------------------------------------------------------------------------- */

static int url_ok(const char *method, const char *url, char *err)
{
    static const char *const allow[] = { "backend.example", "127.0.0.1:8099", "[::1]:8080", "API.Example" };
    char what[320];
    return hl_http_url_check(method, url, allow, 4, what, sizeof what, err, 512);
}

static void test_url_check(void)
{
    char err[512];
    CHECK(url_ok("GET", "http://backend.example/api", err) == 0, "allowed host: %s", err);
    CHECK(url_ok("POST", "https://backend.example:8443/x", err) == 0, "any port when none listed: %s", err);
    CHECK(url_ok("GET", "http://127.0.0.1:8099/", err) == 0, "host:port: %s", err);
    CHECK(url_ok("GET", "http://api.example/", err) == 0, "host names ignore case: %s", err);
    CHECK(url_ok("GET", "http://[::1]:8080/", err) == 0, "IPv6 with port: %s", err);
    CHECK(url_ok("GET", "http://127.0.0.1:8100/", err) != 0 && strstr(err, "http_allow"), "other port refused");
    CHECK(url_ok("GET", "http://127.0.0.1/", err) != 0, "default port 80 is not 8099");
    CHECK(url_ok("GET", "http://evil.example/", err) != 0 && strstr(err, "evil.example"), "other host refused: %s", err);
    CHECK(url_ok("GET", "http://backend.example@evil.example/", err) != 0, "userinfo trick refused");
    CHECK(url_ok("GET", "http://backend.example.evil.example/", err) != 0, "suffix trick refused");
    CHECK(url_ok("GET", "file:///etc/passwd", err) != 0 && strstr(err, "http://"), "file: refused: %s", err);
    CHECK(url_ok("GET", "ftp://backend.example/", err) != 0, "ftp refused");
    CHECK(url_ok("GET", "gopher://backend.example/", err) != 0, "gopher refused");
    CHECK(url_ok("GET", "backend.example/api", err) != 0, "no scheme refused");
    CHECK(url_ok("PUT", "http://backend.example/", err) != 0 && strstr(err, "GET"), "PUT refused");
    CHECK(url_ok("GET", "", err) != 0, "empty URL refused");
    CHECK(hl_http_url_check("GET", "http://backend.example/", NULL, 0, NULL, 0, err, sizeof err) != 0,
          "an empty allow list allows nothing");
}

/* ---- 2. the real client against a server in this process ------------------------------------- */

typedef struct conn {
    uv_tcp_t tcp;
    char     buf[65536];
    size_t   len;
    bool     answered;
} conn;

static uv_loop_t *loop;
static uv_tcp_t server;
static int server_port;
static int slow_requests;   /* /slow requests seen: never answered */
static char last_body[256];

static void conn_closed(uv_handle_t *h) { free(h->data); }
static void written(uv_write_t *w, int status)
{
    uv_close((uv_handle_t *)w->handle, conn_closed);
    free(w->data);
    free(w);
}

static void respond(conn *c, const char *fmt, ...)
{
    va_list ap;
    char *out = malloc(70000);
    va_start(ap, fmt);
    int n = vsnprintf(out, 70000, fmt, ap);
    va_end(ap);
    uv_write_t *w = malloc(sizeof *w);
    w->data = out;
    uv_buf_t b = uv_buf_init(out, (unsigned)n);
    uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, written);
    c->answered = true;
}

static void handle(conn *c)
{
    char *end = strstr(c->buf, "\r\n\r\n");
    if (!end || c->answered)
        return;
    const char *cl = strcasestr(c->buf, "Content-Length:");
    size_t want = cl && cl < end ? (size_t)atoi(cl + 15) : 0;
    size_t have = c->len - (size_t)(end + 4 - c->buf);
    if (have < want)
        return;
    if (!strncmp(c->buf, "GET /ok ", 8)) {
        respond(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Two: a\r\nX-Two: b\r\n"
                   "Content-Length: 8\r\nConnection: close\r\n\r\n{\"a\": 1}");
    } else if (!strncmp(c->buf, "POST /echo ", 11)) {
        snprintf(last_body, sizeof last_body, "%.*s", (int)want, end + 4);
        respond(c, "HTTP/1.1 201 Created\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%.*s",
                want, (int)want, end + 4);
    } else if (!strncmp(c->buf, "GET /big ", 9)) {
        static char big[5001];
        memset(big, 'x', 5000);
        respond(c, "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n%s", big);
    } else if (!strncmp(c->buf, "GET /bigchunked ", 16)) {
        static char big[3001];
        memset(big, 'y', 3000);
        respond(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                   "bb8\r\n%s\r\n0\r\n\r\n", big);
    } else if (!strncmp(c->buf, "GET /redirect ", 14)) {
        respond(c, "HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\nContent-Length: 0\r\n"
                   "Connection: close\r\n\r\n");
    } else if (!strncmp(c->buf, "GET /slow ", 10)) {
        slow_requests++; /* never answered */
    } else {
        respond(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    conn *c = h->data;
    *b = uv_buf_init(c->buf + c->len, (unsigned)(sizeof c->buf - 1 - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    conn *c = s->data;
    if (n < 0) {
        if (!uv_is_closing((uv_handle_t *)s))
            uv_close((uv_handle_t *)s, conn_closed);
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = 0;
    handle(c);
}

static void on_conn(uv_stream_t *srv, int status)
{
    conn *c = calloc(1, sizeof *c);
    uv_tcp_init(loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(srv, (uv_stream_t *)&c->tcp) == 0)
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    else
        uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

typedef struct outcome {
    bool    done;
    json_t *result;
    char    err[1024];
} outcome;

static void on_done(void *arg, json_t *result, const char *err)
{
    outcome *o = arg;
    o->done = true;
    o->result = result ? json_incref(result) : NULL;
    snprintf(o->err, sizeof o->err, "%s", err ? err : "");
}

static const char *const ALLOW[] = { "127.0.0.1" };

/* Runs one request to completion (or until max_ms of loop time). */
static outcome run(hl_http *h, const char *method, const char *path, const char *body, int timeout_ms)
{
    outcome o = { 0 };
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", server_port, path);
    hl_http_opts opts = { .method = method, .url = url, .timeout_ms = timeout_ms, .max_body = 1024,
                          .allow = ALLOW, .nallow = 1, .body = body, .body_len = body ? strlen(body) : 0 };
    if (body) {
        opts.headers[0] = "Content-Type: application/json";
        opts.nheaders = 1;
    }
    char err[512];
    if (!hl_http_request(h, &opts, on_done, &o, err, sizeof err)) {
        snprintf(o.err, sizeof o.err, "refused: %s", err);
        o.done = true;
        return o;
    }
    CHECK(!o.done, "done is never called from inside hl_http_request");
    uint64_t start = uv_now(loop);
    while (!o.done && uv_now(loop) - start < 10000)
        uv_run(loop, UV_RUN_ONCE);
    return o;
}

/* ---- a call terminated while its script waits on a request ------------------------------------ */

typedef struct tworld {
    hl_clock    clock;
    hl_timers   timers;
    uv_timer_t  driver;
    hl_config   cfg;
    hl_call_env env;
    hl_policy  *policy;
    hl_call    *ended;      /* set by call_ended */
} tworld;

static hl_policy *tw_policy(hl_call_env *env) { return ((tworld *)env->owner)->policy; }
static void tw_ended(hl_call_env *env, hl_call *call) { ((tworld *)env->owner)->ended = call; }

static void tw_fire(uv_timer_t *t)
{
    tworld *w = t->data;
    hl_timers_run_due(&w->timers, uv_now(loop));
}

static void tw_changed(hl_timers *ts, void *arg)
{
    tworld *w = arg;
    uint64_t due = hl_timers_next_due(ts), now = uv_now(loop);
    if (due == UINT64_MAX)
        uv_timer_stop(&w->driver);
    else
        uv_timer_start(&w->driver, tw_fire, due > now ? due - now : 0, 0);
}

static void write_file(const char *dir, const char *name, const char *text);

/* A job call whose script waits on GET /slow (never answered, 10 s timeout) is terminated: the
 * call ends at once, the request is cancelled (not left to time out), and the script never
 * sees an answer. */
static void test_terminate_mid_request(hl_http *h)
{
    char dir[] = "/tmp/hl-test-http-call-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp");
        return;
    }
    char scripts[600], rules[600], script[512];
    snprintf(scripts, sizeof scripts, "%s/scripts", dir);
    snprintf(rules, sizeof rules, "%s/rules", dir);
    mkdir(scripts, 0700);
    mkdir(rules, 0700);
    snprintf(script, sizeof script,
             "function main(call) call:hangup() end\n"
             "function job_fetch(call)\n"
             "  local r, err = hl.http.request{ url = 'http://127.0.0.1:%d/slow', timeout_ms = 10000 }\n"
             "  call:set_route(r and 'answered' or 'error: ' .. err)\n"
             "end\n", server_port);
    write_file(scripts, "main.lua", script);

    tworld w;
    memset(&w, 0, sizeof w);
    hl_clock_init_real(&w.clock, loop, -1);
    hl_timers_init(&w.timers, &w.clock);
    uv_timer_init(loop, &w.driver);
    w.driver.data = &w;
    w.timers.on_change = tw_changed;
    w.timers.on_change_arg = &w;
    hl_config_defaults(&w.cfg);
    snprintf(w.cfg.http_allow[0], sizeof w.cfg.http_allow[0], "127.0.0.1");
    w.cfg.http_allow_n = 1;
    char err[4096] = "";
    hl_policy_src src = { .scripts_dir = scripts, .rules_dir = rules, .cfg = &w.cfg, .open_api = hl_call_lua_open };
    w.policy = hl_policy_build(&src, err, sizeof err);
    CHECK(w.policy != NULL, "policy builds: %s", err);
    w.env = (hl_call_env){ .clock = &w.clock, .timers = &w.timers, .cfg = &w.cfg, .http = h,
                           .current_policy = tw_policy, .call_ended = tw_ended,
                           .recordings_dir = dir, .owner = &w };
    hl_call *c = w.policy ? hl_call_new_originate(&w.env, "job_fetch", NULL, NULL, "http-1") : NULL;
    CHECK(c != NULL, "call created");
    if (c) {
        int seen = slow_requests;
        hl_call_start(c);
        uint64_t start = uv_now(loop);
        while (slow_requests == seen && !w.ended && uv_now(loop) - start < 5000)
            uv_run(loop, UV_RUN_ONCE);
        CHECK(slow_requests == seen + 1 && !w.ended, "the script waits on the request");
        CHECK(hl_http_pending(h) == 1, "one request in flight, %d", hl_http_pending(h));
        hl_call_terminate(c, "shutdown");
        for (int i = 0; i < 10 && !w.ended; i++)
            uv_run(loop, UV_RUN_NOWAIT);
        CHECK(w.ended == c, "the call ended at once, not when the request would time out");
        CHECK(hl_http_pending(h) == 0, "the request was cancelled, %d still in flight",
              hl_http_pending(h));
        const char *why = NULL;
        CHECK(hl_call_outcome(c, &why) == -1 && why && strstr(why, "terminated"),
              "outcome: %s", why ? why : "(none)");
        const hl_cdr *cdr = hl_call_cdr(c, 0);
        CHECK(cdr && !strstr(cdr->route, "answered") && !strstr(cdr->route, "error"),
              "the script never saw an answer: route '%s'", cdr ? cdr->route : "?");
        hl_call_free(c);
    }
    hl_timers_free(&w.timers);
    uv_close((uv_handle_t *)&w.driver, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    if (w.policy)
        hl_policy_unref(w.policy);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("note: could not remove %s\n", dir);
}

static const char *field_s(json_t *r, const char *k)
{
    return json_string_value(json_object_get(r, k));
}

static void test_real_client(void)
{
    loop = uv_default_loop();
    uv_tcp_init(loop, &server);
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    CHECK(uv_tcp_bind(&server, (const struct sockaddr *)&a, 0) == 0, "bind");
    CHECK(uv_listen((uv_stream_t *)&server, 16, on_conn) == 0, "listen");
    struct sockaddr_in got;
    int len = sizeof got;
    uv_tcp_getsockname(&server, (struct sockaddr *)&got, &len);
    server_port = ntohs(got.sin_port);

    char err[256];
    hl_http *h = hl_http_new(loop, err, sizeof err);
    CHECK(h != NULL, "hl_http_new: %s", err);
    if (!h)
        return;

    uint64_t t0 = uv_now(loop);
    outcome o = run(h, "GET", "/ok", NULL, 2000);
    CHECK(o.result != NULL, "GET /ok answered: %s", o.err);
    if (o.result) {
        CHECK(json_integer_value(json_object_get(o.result, "status")) == 200, "status 200");
        CHECK(field_s(o.result, "body") && !strcmp(field_s(o.result, "body"), "{\"a\": 1}"), "body");
        json_t *hd = json_object_get(o.result, "headers");
        CHECK(field_s(hd, "content-type") && !strcmp(field_s(hd, "content-type"), "application/json"),
              "headers by lower-case name");
        CHECK(field_s(hd, "x-two") && !strcmp(field_s(hd, "x-two"), "a, b"), "repeated headers joined: %s",
              field_s(hd, "x-two") ? field_s(hd, "x-two") : "(none)");
    }
    printf("GET /ok on loopback: %llu ms\n", (unsigned long long)(uv_now(loop) - t0));
    json_decref(o.result);

    o = run(h, "POST", "/echo", "{\"id\":\"x\"}", 2000);
    CHECK(o.result && json_integer_value(json_object_get(o.result, "status")) == 201, "POST answered: %s", o.err);
    CHECK(!strcmp(last_body, "{\"id\":\"x\"}"), "the server got the body: %s", last_body);
    CHECK(o.result && !strcmp(field_s(o.result, "body"), "{\"id\":\"x\"}"), "echoed body");
    json_decref(o.result);

    o = run(h, "GET", "/big", NULL, 2000);
    CHECK(!o.result && strstr(o.err, "over 1024 bytes"), "Content-Length over the cap fails: %s", o.err);
    o = run(h, "GET", "/bigchunked", NULL, 2000);
    CHECK(!o.result && strstr(o.err, "over 1024 bytes"), "a chunked body over the cap fails: %s", o.err);

    t0 = uv_now(loop);
    o = run(h, "GET", "/slow", NULL, 300);
    uint64_t took = uv_now(loop) - t0;
    CHECK(!o.result && strstr(o.err, "no answer within 300 ms"), "timeout: %s", o.err);
    CHECK(took >= 280 && took < 2000, "the timeout took %llu ms", (unsigned long long)took);
    CHECK(slow_requests == 1, "the slow request reached the server");

    o = run(h, "GET", "/redirect", NULL, 2000);
    CHECK(o.result && json_integer_value(json_object_get(o.result, "status")) == 302,
          "a redirect is the answer, not followed: %s", o.err);
    CHECK(o.result && field_s(json_object_get(o.result, "headers"), "location"), "location header given");
    json_decref(o.result);

    o = run(h, "GET", "/nothing", NULL, 2000);
    CHECK(o.result && json_integer_value(json_object_get(o.result, "status")) == 404, "404 is an answer");
    json_decref(o.result);

    /* a port with nothing listening: the server's port + 1 is most likely free; the error
     * names host and port, never the path */
    outcome r = { 0 };
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/secret-path-220102198503151237", server_port + 1);
    hl_http_opts opts = { .method = "GET", .url = url, .timeout_ms = 2000, .max_body = 1024,
                          .allow = ALLOW, .nallow = 1 };
    CHECK(hl_http_request(h, &opts, on_done, &r, err, sizeof err) != NULL, "started");
    while (!r.done)
        uv_run(loop, UV_RUN_ONCE);
    CHECK(!r.result && r.err[0], "connection refused is an error: %s", r.err);
    CHECK(!strstr(r.err, "secret-path"), "the error does not show the path: %s", r.err);

    /* refused at once: nothing is sent and done is never called */
    opts.url = "http://10.1.2.3/";
    CHECK(hl_http_request(h, &opts, on_done, &r, err, sizeof err) == NULL && strstr(err, "http_allow"),
          "a host not allowed is refused at once: %s", err);
    opts.url = "file:///etc/passwd";
    CHECK(hl_http_request(h, &opts, on_done, &r, err, sizeof err) == NULL, "file: refused at once");
    opts.url = url;
    opts.body = "x";
    opts.body_len = 1;
    CHECK(hl_http_request(h, &opts, on_done, &r, err, sizeof err) == NULL, "GET with a body refused");

    test_terminate_mid_request(h);

    /* close with a request in flight: it fails with "cancelled" */
    outcome c = { 0 };
    snprintf(url, sizeof url, "http://127.0.0.1:%d/slow", server_port);
    opts = (hl_http_opts){ .method = "GET", .url = url, .timeout_ms = 5000, .max_body = 1024,
                           .allow = ALLOW, .nallow = 1 };
    CHECK(hl_http_request(h, &opts, on_done, &c, err, sizeof err) != NULL, "started");
    for (int i = 0; i < 20 && slow_requests < 3; i++)
        uv_run(loop, UV_RUN_NOWAIT), usleep(5000);
    CHECK(hl_http_pending(h) == 1, "one request in flight");
    hl_http_close(h);
    CHECK(c.done && !c.result && strstr(c.err, "cancelled"), "close cancels: %s", c.err);
    uv_close((uv_handle_t *)&server, NULL);
    uv_run(loop, UV_RUN_DEFAULT); /* every handle closes: the loop ends */
    CHECK(uv_loop_close(loop) == 0, "no handle left open");
}

/* ---- 3. the Lua primitive in the simulator --------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
    char p[1024]; /* dir is up to 600 bytes (test_sim) */
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static const char MAIN_LUA[] =
    "function main(call)\n"
    "  call:answer()\n"
    "  local url = call.called == 'evil' and 'http://evil.example/x' or 'http://backend.example/api'\n"
    "  if call.called == 'file' then url = 'file:///etc/passwd' end\n"
    "  local req = { url = url, method = 'POST', body = '{}', headers = { ['Content-Type'] = 'application/json' } }\n"
    "  if call.called == 'typo' then req.timeout = 5 end\n"
    "  if call.called == 'crlf' then req.headers = { ['X-A'] = 'a\\r\\nX-B: b' } end\n"
    "  local r, err = hl.http.request(req)\n"
    "  if r then call:set_route('status:' .. r.status .. ':' .. (#r.body > 16 and #r.body or r.body) .. ':' .. tostring(r.headers['x-n']))\n"
    "  elseif err:find('no answer within 2000 ms', 1, true) then call:set_route('timeout')\n"
    "  elseif err:find('over 1024 bytes', 1, true) then call:set_route('toobig')\n"
    "  elseif err:find('refused', 1, true) then call:set_route('down')\n"
    "  elseif err:find('http table', 1, true) then call:set_route('unlisted')\n"
    "  else call:set_route('other') end\n"
    "end\n";

static const char SCEN_LUA[] =
    "local K = 'POST http://backend.example/api'\n"
    "return {\n"
    "  { name = 'allowed host answered', http = { [K] = { status = 200, body = 'ok', headers = { ['X-N'] = '7' } } },\n"
    "    expect = { route = 'status:200:ok:7' } },\n"
    "  { name = 'answers in order', http = { [K] = { { status = 500, body = 'a' }, { status = 201, body = 'b' } } },\n"
    "    expect = { route = 'status:500:a:nil' } },\n"
    "  { name = 'timeout', http = { [K] = { delay_ms = 2500, body = 'late' } }, expect = { route = 'timeout' } },\n"
    "  { name = 'just in time', http = { [K] = { delay_ms = 1900, body = 'x' } }, expect = { route = 'status:200:x:nil', duration_max = 3 } },\n"
    "  { name = 'body cap', http = { [K] = { body = string.rep('x', 1025) } }, expect = { route = 'toobig' } },\n"
    "  { name = 'body at the cap', http = { [K] = { body = string.rep('x', 1024) } }, expect = { route = 'status:200:1024:nil' } },\n"
    "  { name = 'network failure', http = { [K] = { error = 'connection refused' } }, expect = { route = 'down' } },\n"
    "  { name = 'not in the table', expect = { route = 'unlisted' } },\n"
    "  { name = 'disallowed host refused', called = 'evil', http = { ['POST http://evil.example/x'] = { body = 'x' } },\n"
    "    expect = { fallback = true } },\n"
    "  { name = 'file scheme refused', called = 'file', expect = { fallback = true } },\n"
    "  { name = 'unknown field refused', called = 'typo', http = { [K] = { body = 'x' } }, expect = { fallback = true } },\n"
    "  { name = 'header injection refused', called = 'crlf', http = { [K] = { body = 'x' } }, expect = { fallback = true } },\n"
    "}\n";

static void test_sim(void)
{
    char dir[] = "/tmp/hl-test-http-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp");
        return;
    }
    char scripts[600], rules[600];
    snprintf(scripts, sizeof scripts, "%s/scripts", dir);
    snprintf(rules, sizeof rules, "%s/rules", dir);
    mkdir(scripts, 0700);
    mkdir(rules, 0700);
    write_file(scripts, "main.lua", MAIN_LUA);
    write_file(scripts, "http.scenario.lua", SCEN_LUA);
    write_file(rules, "engine.lua", "return { http_allow = { 'backend.example' }, http_timeout_ms = 2000, "
                                    "http_max_body = 1024 }\n");
    hl_config cfg;
    hl_config_defaults(&cfg);
    char err[4096];
    CHECK(hl_config_load_rules(&cfg, rules, err, sizeof err) == 0, "engine.lua: %s", err);
    CHECK(cfg.http_allow_n == 1 && !strcmp(cfg.http_allow[0], "backend.example"), "http_allow read");
    CHECK(cfg.http_timeout_ms == 2000 && cfg.http_max_body == 1024, "http tunables read");
    hl_policy_src src = { .scripts_dir = scripts, .rules_dir = rules, .cfg = &cfg, .open_api = hl_call_lua_open };
    hl_policy *p = hl_policy_build(&src, err, sizeof err);
    CHECK(p != NULL, "policy builds: %s", err);
    if (p) {
        char report[8192] = "";
        int ok = 0;
        char path[700];
        snprintf(path, sizeof path, "%s/http.scenario.lua", scripts);
        int bad = hl_sim_run_file(p, &src, path, report, sizeof report, &ok, NULL, false);
        CHECK(bad == 0 && ok == 12, "scenarios: %d passed, %d failed:\n%s", ok, bad, report);
        hl_policy_unref(p);
    }
    /* a bad http_allow is refused with the key named */
    write_file(rules, "engine.lua", "return { http_allow = { 'a b' } }\n");
    hl_config_defaults(&cfg);
    CHECK(hl_config_load_rules(&cfg, rules, err, sizeof err) != 0 && strstr(err, "http_allow"),
          "bad http_allow refused: %s", err);
    write_file(rules, "engine.lua", "return { http_allow = 'x' }\n");
    CHECK(hl_config_load_rules(&cfg, rules, err, sizeof err) != 0, "http_allow must be a list");
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("note: could not remove %s\n", dir);
}

TEST_IMPL(http_url_check)   { test_url_check();   return 0; }
TEST_IMPL(http_real_client) { test_real_client(); return 0; }
TEST_IMPL(http_sim)         { test_sim();         return 0; }
