/* http_client.c — hl_http (http_client.h): the URL and allow-list check, the libcurl multi
 * client driven by libuv (a uv_poll_t per socket, one uv_timer_t for curl's timeout), and
 * the canned client of the simulator.  A request's life: checked, started, finished once
 * (answer, error or cancel), its done callback called after it left the client's list. */
#include "http/http_client.h"
#include <ctype.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/clock.h"
#include "core/log.h"
#include "version.h"

#define RESP_HEADERS_MAX 16384  /* bytes of response headers kept: an API answer has < 1 KiB */
#define WHAT_LEN 320            /* "POST https://host:port" */

typedef struct canned_entry {
    char                *key;       /* "METHOD URL" */
    hl_http_canned      *answers;   /* copies: body, error and headers owned here */
    int                  n, used;
    struct canned_entry *next;
} canned_entry;

typedef struct sock_ctx {
    uv_poll_t        poll;
    curl_socket_t    fd;
    hl_http         *h;
    struct sock_ctx *prev, *next;
} sock_ctx;

struct hl_http {
    uv_loop_t    *uv;           /* NULL: the canned client */
    CURLM        *multi;
    uv_timer_t    timer;        /* curl's timeout */
    sock_ctx     *socks;        /* poll handles open */
    int           open_handles; /* uv handles not closed yet: the client is freed at 0 */
    bool          closing;
    hl_http_req  *reqs;         /* in flight */
    int           pending;
    /* canned */
    hl_timers    *timers;
    FILE         *out;
    canned_entry *canned;
};

struct hl_http_req {
    hl_http         *h;
    hl_http_req     *prev, *next;
    hl_http_done_fn  done;
    void            *arg;
    char             what[WHAT_LEN];
    int              timeout_ms;
    size_t           max_body;
    /* real */
    CURL            *easy;
    CURLU           *cu;
    struct curl_slist *hdrs;
    char            *buf;
    size_t           len, cap;
    json_t          *headers;
    size_t           header_bytes;
    bool             too_big;
    char             errbuf[CURL_ERROR_SIZE];
    /* canned */
    hl_timer         t;
    const hl_http_canned *answer;   /* NULL: no entry for the request */
    bool             timed_out;
    char             key[HL_HTTP_URL_MAX + 8];
};

/* ---- the URL and the allow list ----------------------------------------------------------- */

/* Does entry ("host", "host:port", "[v6]" or "[v6]:port") allow host and port? */
static bool allow_match(const char *entry, const char *host, long port)
{
    const char *end, *colon = NULL;
    if (entry[0] == '[') {
        end = strchr(entry, ']');
        if (!end)
            return false;
        end++;
        if (*end == ':')
            colon = end;
        else if (*end)
            return false;
    } else {
        colon = strchr(entry, ':');
        end = colon ? colon : entry + strlen(entry);
    }
    size_t n = (size_t)(end - entry);
    if (n == 0 || strlen(host) != n || strncasecmp(entry, host, n))
        return false;
    if (!colon)
        return true;
    char *stop;
    long p = strtol(colon + 1, &stop, 10);
    return *stop == 0 && p == port;
}

static int url_parse(const char *method, const char *url, const char *const *allow, int nallow,
                     CURLU **out, char *what, size_t whatlen, char *err, size_t errlen)
{
    if (!method || (strcmp(method, "GET") && strcmp(method, "POST"))) {
        snprintf(err, errlen, "method must be \"GET\" or \"POST\"");
        return -1;
    }
    if (!url || !*url) {
        snprintf(err, errlen, "url is missing");
        return -1;
    }
    if (strlen(url) > HL_HTTP_URL_MAX) {
        snprintf(err, errlen, "url is longer than %d characters", HL_HTTP_URL_MAX);
        return -1;
    }
    CURLU *u = curl_url();
    if (!u) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = -1;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        snprintf(err, errlen, "url is not a valid absolute URL (%s)", curl_url_strerror(uc));
        goto out;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
        snprintf(err, errlen, "only http:// and https:// URLs are allowed, not %s://",
                 scheme ? scheme : "?");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0]) {
        snprintf(err, errlen, "url has no host");
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    long portn = port ? strtol(port, NULL, 10) : 0;
    if (what)
        snprintf(what, whatlen, "%s %s://%s:%ld", method, scheme, host, portn);
    bool ok = false;
    for (int i = 0; i < nallow && !ok; i++)
        ok = allow[i] && allow_match(allow[i], host, portn);
    if (!ok) {
        snprintf(err, errlen, "host %s (port %ld) is not in http_allow of rules/engine.lua: "
                              "scripts may reach only the hosts listed there", host, portn);
        goto out;
    }
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    if (rc == 0 && out)
        *out = u;
    else
        curl_url_cleanup(u);
    return rc;
}

int hl_http_url_check(const char *method, const char *url, const char *const *allow, int nallow,
                      char *what, size_t whatlen, char *err, size_t errlen)
{
    return url_parse(method, url, allow, nallow, NULL, what, whatlen, err, errlen);
}

/* ---- requests: common ------------------------------------------------------------------------ */

static void req_link(hl_http *h, hl_http_req *q)
{
    q->h = h;
    q->next = h->reqs;
    if (h->reqs)
        h->reqs->prev = q;
    h->reqs = q;
    h->pending++;
}

static void req_unlink(hl_http_req *q)
{
    hl_http *h = q->h;
    if (q->prev)
        q->prev->next = q->next;
    else
        h->reqs = q->next;
    if (q->next)
        q->next->prev = q->prev;
    q->prev = q->next = NULL;
    h->pending--;
}

static void req_free(hl_http_req *q)
{
    if (q->easy) {
        if (q->h && q->h->multi)
            curl_multi_remove_handle(q->h->multi, q->easy);
        curl_easy_cleanup(q->easy);
    }
    curl_slist_free_all(q->hdrs);
    curl_url_cleanup(q->cu);
    json_decref(q->headers);
    free(q->buf);
    free(q);
}

static json_t *make_result(long status, const char *body, size_t len, json_t *headers)
{
    json_t *r = json_object();
    json_object_set_new(r, "status", json_integer(status));
    /* any bytes: Lua strings are byte strings; push_json reads the length */
    json_object_set_new(r, "body", json_stringn_nocheck(body ? body : "", body ? len : 0));
    json_object_set_new(r, "headers", headers ? json_incref(headers) : json_object());
    return r;
}

/* The one way a request ends: out of the list, curl released, then done (which may start
 * new requests or close the client), then freed. */
static void req_finish(hl_http_req *q, json_t *result, const char *why)
{
    char err[WHAT_LEN + 400];
    if (!result)
        snprintf(err, sizeof err, "%s: %s", q->what, why ? why : "failed");
    req_unlink(q);
    if (q->easy) {
        curl_multi_remove_handle(q->h->multi, q->easy);
        curl_easy_cleanup(q->easy);
        q->easy = NULL;
    }
    hl_debug("http", "%s -> %s", q->what, result ? "answered" : err);
    if (q->done)
        q->done(q->arg, result, result ? NULL : err);
    json_decref(result);
    req_free(q);
}

void hl_http_req_set_arg(hl_http_req *q, void *arg) { q->arg = arg; }

int hl_http_cancel_arg(hl_http *h, const void *arg)
{
    int n = 0;
    hl_http_req *q = h ? h->reqs : NULL;
    while (q) {
        hl_http_req *next = q->next;
        if (q->arg == arg) {
            if (h->timers)
                hl_timer_stop(h->timers, &q->t);
            req_unlink(q);
            hl_debug("http", "%s -> cancelled by its owner", q->what);
            req_free(q); /* takes the easy handle off the multi: curl drops the connection */
            n++;
        }
        q = next;
    }
    return n;
}
int hl_http_pending(const hl_http *h) { return h ? h->pending : 0; }

/* ---- the real client: libcurl multi on libuv ------------------------------------------------- */

static void check_multi_info(hl_http *h)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        hl_http_req *q = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&q);
        CURLcode rc = m->data.result;
        if (!q)
            continue;
        char why[CURL_ERROR_SIZE + 96];
        json_t *result = NULL;
        if (rc == CURLE_OK) {
            long status = 0;
            curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &status);
            result = make_result(status, q->buf, q->len, q->headers);
        } else if (q->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
            snprintf(why, sizeof why, "the response body is over %zu bytes (http_max_body of "
                                      "rules/engine.lua)", q->max_body);
        } else if (rc == CURLE_OPERATION_TIMEDOUT) {
            snprintf(why, sizeof why, "no answer within %d ms", q->timeout_ms);
        } else {
            snprintf(why, sizeof why, "%s", q->errbuf[0] ? q->errbuf : curl_easy_strerror(rc));
        }
        req_finish(q, result, why);
    }
}

static void handle_closed(uv_handle_t *hd)
{
    hl_http *h = hd->data;
    if (hd != (uv_handle_t *)&h->timer)
        free(hd); /* a sock_ctx: its poll handle is its first member */
    if (--h->open_handles == 0 && h->closing) {
        free(h);
        curl_global_cleanup();
    }
}

static void sock_close(hl_http *h, sock_ctx *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        h->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, handle_closed);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    sock_ctx *s = (sock_ctx *)p;
    hl_http *h = s->h;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(h->multi, s->fd, flags, &running);
    check_multi_info(h);
}

static int on_socket(CURL *e, curl_socket_t fd, int action, void *userp, void *socketp)
{
    hl_http *h = userp;
    sock_ctx *s = socketp;
    if (action == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(h->multi, fd, NULL);
            sock_close(h, s);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || uv_poll_init_socket(h->uv, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->fd = fd;
        s->h = h;
        s->poll.data = h;
        s->next = h->socks;
        if (h->socks)
            h->socks->prev = s;
        h->socks = s;
        h->open_handles++;
        curl_multi_assign(h->multi, fd, s);
    }
    int ev = 0;
    if (action & CURL_POLL_IN)
        ev |= UV_READABLE;
    if (action & CURL_POLL_OUT)
        ev |= UV_WRITABLE;
    uv_poll_start(&s->poll, ev, on_poll);
    return 0;
}

static void on_timeout(uv_timer_t *t)
{
    hl_http *h = t->data;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_multi_info(h);
}

/* curl asks for a wake-up in timeout_ms (-1: none).  Never acts from inside the callback:
 * even 0 goes through the loop, as curl requires. */
static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
    hl_http *h = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&h->timer);
    else
        uv_timer_start(&h->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

hl_http *hl_http_new(uv_loop_t *uv, char *err, size_t errlen)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "libcurl did not start");
        return NULL;
    }
    hl_http *h = calloc(1, sizeof *h);
    if (!h || !(h->multi = curl_multi_init())) {
        free(h);
        curl_global_cleanup();
        snprintf(err, errlen, "libcurl: out of memory");
        return NULL;
    }
    h->uv = uv;
    uv_timer_init(uv, &h->timer);
    h->timer.data = h;
    h->open_handles = 1;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return h;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    hl_http_req *q = arg;
    size_t n = size * nmemb;
    if (q->len + n > q->max_body) {
        q->too_big = true;
        return 0; /* curl ends the transfer with CURLE_WRITE_ERROR */
    }
    if (q->len + n > q->cap) {
        size_t cap = q->cap ? q->cap : 4096;
        while (cap < q->len + n)
            cap *= 2;
        char *b = realloc(q->buf, cap);
        if (!b)
            return 0;
        q->buf = b;
        q->cap = cap;
    }
    memcpy(q->buf + q->len, data, n);
    q->len += n;
    return n;
}

/* One header line of the answer: "Name: value\r\n", or a status line that starts a new set
 * (after a 100 Continue).  Names are kept in lower case; repeated ones joined with ", ". */
static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    hl_http_req *q = arg;
    size_t n = size * nmemb;
    if (n >= 5 && !strncmp(data, "HTTP/", 5)) {
        json_object_clear(q->headers);
        q->header_bytes = 0;
        return n;
    }
    q->header_bytes += n;
    if (q->header_bytes > RESP_HEADERS_MAX)
        return n; /* kept what fits; the rest is dropped, not an error */
    const char *colon = memchr(data, ':', n);
    if (!colon || colon == data)
        return n;
    char name[128];
    size_t nl = (size_t)(colon - data);
    if (nl >= sizeof name)
        return n;
    for (size_t i = 0; i < nl; i++)
        name[i] = (char)tolower((unsigned char)data[i]);
    name[nl] = 0;
    const char *v = colon + 1, *end = data + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    json_t *old = json_object_get(q->headers, name);
    if (old) {
        size_t ol = json_string_length(old), vl = (size_t)(end - v);
        char *joined = malloc(ol + vl + 3);
        if (joined) {
            memcpy(joined, json_string_value(old), ol);
            memcpy(joined + ol, ", ", 2);
            memcpy(joined + ol + 2, v, vl);
            json_object_set_new_nocheck(q->headers, name, json_stringn_nocheck(joined, ol + vl + 2));
            free(joined);
        }
    } else {
        json_object_set_new_nocheck(q->headers, name, json_stringn_nocheck(v, (size_t)(end - v)));
    }
    return n;
}

static int real_start(hl_http *h, hl_http_req *q, const hl_http_opts *o, char *err, size_t errlen)
{
    CURL *e = q->easy = curl_easy_init();
    q->headers = json_object();
    if (!e || !q->headers) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    curl_easy_setopt(e, CURLOPT_CURLU, q->cu);
    curl_easy_setopt(e, CURLOPT_PRIVATE, q);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, q->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);     /* a redirect could leave the allow list */
    curl_easy_setopt(e, CURLOPT_PROXY, "");              /* no proxy from the environment */
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, q);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, q);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "hotline/" HL_VERSION);
    for (int i = 0; i < o->nheaders; i++) {
        struct curl_slist *l = curl_slist_append(q->hdrs, o->headers[i]);
        if (!l) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        q->hdrs = l;
    }
    if (!strcmp(o->method, "POST")) {
        /* no "Expect: 100-continue" round trip (curl would wait up to 1 s for it) */
        struct curl_slist *l = curl_slist_append(q->hdrs, "Expect:");
        if (l)
            q->hdrs = l;
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, o->body ? o->body : "");
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, q->hdrs);
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        snprintf(err, errlen, "libcurl refused the request");
        return -1;
    }
    return 0;
}

/* ---- the canned client ------------------------------------------------------------------------ */

hl_http *hl_http_new_canned(hl_timers *timers, FILE *out)
{
    hl_http *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->timers = timers;
    h->out = out;
    return h;
}

int hl_http_canned_add(hl_http *h, const char *key, const hl_http_canned *a)
{
    canned_entry *e = h->canned;
    while (e && strcmp(e->key, key))
        e = e->next;
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e || !(e->key = strdup(key))) {
            free(e);
            return -1;
        }
        e->next = h->canned;
        h->canned = e;
    }
    hl_http_canned *v = realloc(e->answers, (e->n + 1) * sizeof *v);
    if (!v)
        return -1;
    e->answers = v;
    hl_http_canned *c = &v[e->n];
    *c = *a;
    char *body = malloc(a->body_len + 1);
    if (!body)
        return -1;
    if (a->body_len)
        memcpy(body, a->body, a->body_len);
    body[a->body_len] = 0;
    c->body = body;
    c->error = a->error ? strdup(a->error) : NULL;
    c->headers = a->headers ? json_deep_copy(a->headers) : NULL;
    e->n++;
    return 0;
}

static void canned_say(hl_http_req *q, const char *outcome)
{
    if (q->h->out)
        fprintf(q->h->out, "  [%7.3f] http %s -> %s\n",
                hl_clock_now_ms(q->h->timers->clock) / 1000.0, q->key, outcome);
}

static void canned_fire(hl_timer *t)
{
    hl_http_req *q = t->data;
    const hl_http_canned *a = q->answer;
    char why[WHAT_LEN + HL_HTTP_URL_MAX + 100];
    if (!a)
        snprintf(why, sizeof why, "no answer for \"%s\" in the scenario's http table "
                                  "(the simulator reaches no network)", q->key);
    else if (q->timed_out)
        snprintf(why, sizeof why, "no answer within %d ms", q->timeout_ms);
    else if (a->error)
        snprintf(why, sizeof why, "%s", a->error);
    else if (a->body_len > q->max_body)
        snprintf(why, sizeof why, "the response body is over %zu bytes (http_max_body of "
                                  "rules/engine.lua)", q->max_body);
    else {
        char st[48];
        snprintf(st, sizeof st, "%d (%zu bytes)", a->status, a->body_len);
        canned_say(q, st);
        json_t *hd = a->headers ? json_deep_copy(a->headers) : NULL;
        req_finish(q, make_result(a->status, a->body, a->body_len, hd), NULL);
        json_decref(hd);
        return;
    }
    canned_say(q, a ? "error" : "error: not in the scenario's http table");
    req_finish(q, NULL, why);
}

static int canned_start(hl_http *h, hl_http_req *q, const hl_http_opts *o)
{
    snprintf(q->key, sizeof q->key, "%s %s", o->method, o->url);
    canned_entry *e = h->canned;
    while (e && strcmp(e->key, q->key))
        e = e->next;
    int delay = 0;
    if (e && e->n > 0) {
        q->answer = &e->answers[e->used < e->n ? e->used : e->n - 1];
        e->used++;
        delay = q->answer->delay_ms;
        if (delay >= o->timeout_ms) {
            q->timed_out = true;
            delay = o->timeout_ms;
        }
    }
    hl_timer_start(h->timers, &q->t, (uint64_t)delay, canned_fire, q);
    return 0;
}

/* ---- requests ---------------------------------------------------------------------------------- */

hl_http_req *hl_http_request(hl_http *h, const hl_http_opts *o, hl_http_done_fn done, void *arg,
                             char *err, size_t errlen)
{
    if (!h || h->closing) {
        snprintf(err, errlen, "the HTTP client is stopped");
        return NULL;
    }
    if (o->timeout_ms < 1 || o->timeout_ms > HL_HTTP_TIMEOUT_MAX_MS) {
        snprintf(err, errlen, "timeout_ms must be from 1 to %d", HL_HTTP_TIMEOUT_MAX_MS);
        return NULL;
    }
    if (o->nheaders < 0 || o->nheaders > HL_HTTP_MAX_HEADERS) {
        snprintf(err, errlen, "at most %d headers", HL_HTTP_MAX_HEADERS);
        return NULL;
    }
    if (o->body_len && strcmp(o->method ? o->method : "", "POST")) {
        snprintf(err, errlen, "a body goes with POST only");
        return NULL;
    }
    hl_http_req *q = calloc(1, sizeof *q);
    if (!q) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (url_parse(o->method, o->url, o->allow, o->nallow, &q->cu, q->what, sizeof q->what,
                  err, errlen) != 0) {
        free(q);
        return NULL;
    }
    q->done = done;
    q->arg = arg;
    q->timeout_ms = o->timeout_ms;
    q->max_body = o->max_body;
    int rc = h->uv ? real_start(h, q, o, err, errlen) : canned_start(h, q, o);
    if (rc != 0) {
        req_free(q);
        return NULL;
    }
    req_link(h, q);
    return q;
}

void hl_http_close(hl_http *h)
{
    if (!h || h->closing)
        return;
    h->closing = true;
    while (h->reqs) {
        hl_http_req *q = h->reqs;
        if (h->timers)
            hl_timer_stop(h->timers, &q->t);
        req_finish(q, NULL, "cancelled (the engine is stopping)");
    }
    if (!h->uv) {
        while (h->canned) {
            canned_entry *e = h->canned;
            h->canned = e->next;
            for (int i = 0; i < e->n; i++) {
                free((char *)e->answers[i].body);
                free((char *)e->answers[i].error);
                json_decref(e->answers[i].headers);
            }
            free(e->answers);
            free(e->key);
            free(e);
        }
        free(h);
        return;
    }
    /* curl closes its cached connections here (their sockets come back as POLL_REMOVE) */
    curl_multi_cleanup(h->multi);
    h->multi = NULL;
    while (h->socks)
        sock_close(h, h->socks);
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, handle_closed);
}
