/* test_http_server.c — who may read the --http pages (http/http_server.c): an address in
 * an allowed prefix, else only the bearer token; 404 for a page nobody registered, 405 for
 * anything but GET.  A client thread asks; the engine's side runs on a libuv loop here. */
#include "http/http_server.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"

typedef struct client {
    int        port;
    const char *method, *path, *token;
    int        status;
    uv_async_t done;
} client;

static char *page(void *arg, const char *query, size_t *len)
{
    *len = 3;
    return strdup("ok\n");
}

/* One request, blocking; the status code or -1. */
static int ask(int port, const char *method, const char *path, const char *token)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    char req[512], resp[512] = "";
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n%s%s%s\r\n",
                     method, path, token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "");
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    ssize_t got = read(fd, resp, sizeof resp - 1);
    close(fd);
    int status = -1;
    if (got > 0)
        sscanf(resp, "HTTP/1.%*d %d", &status);
    return status;
}

static void *client_main(void *arg)
{
    client *c = arg;
    c->status = ask(c->port, c->method, c->path, c->token);
    uv_async_send(&c->done);
    return NULL;
}

static void client_done(uv_async_t *a) { uv_stop(a->loop); }

/* Runs one request against srv while the loop serves it. */
static int request(uv_loop_t *uv, int port, const char *method, const char *path, const char *token)
{
    client c = { .port = port, .method = method, .path = path, .token = token, .status = -1 };
    uv_async_init(uv, &c.done, client_done);
    pthread_t t;
    pthread_create(&t, NULL, client_main, &c);
    uv_run(uv, UV_RUN_DEFAULT);
    pthread_join(t, NULL);
    uv_close((uv_handle_t *)&c.done, NULL);
    uv_run(uv, UV_RUN_NOWAIT);
    return c.status;
}

TEST_IMPL(http_server_access)
{
    uv_loop_t uv;
    uv_loop_init(&uv);
    char err[256];
    hl_http_server *srv = hl_http_server_new(&uv, "127.0.0.1", 0, err, sizeof err);
    CHECK(srv != NULL, "listens: %s", err);
    if (!srv)
        return 1;
    hl_http_server_page(srv, "/metrics", "text/plain", page, NULL);
    int port = hl_http_server_port(srv);

    CHECK(hl_http_server_access(srv, "127.0.0.0/8", "", err, sizeof err) == 0, "%s", err);
    CHECK(request(&uv, port, "GET", "/metrics", NULL) == 200, "loopback in 127.0.0.0/8");
    CHECK(request(&uv, port, "GET", "/nope", NULL) == 404, "an unknown page");
    CHECK(request(&uv, port, "POST", "/metrics", NULL) == 405, "POST");

    CHECK(hl_http_server_access(srv, "10.0.0.0/8 ::1", "s3cret", err, sizeof err) == 0, "%s", err);
    CHECK(request(&uv, port, "GET", "/metrics", NULL) == 403, "not in 10.0.0.0/8 nor ::1");
    CHECK(request(&uv, port, "GET", "/metrics", "wrong") == 403, "a wrong token");
    CHECK(request(&uv, port, "GET", "/metrics", "s3cre") == 403, "a token's prefix");
    CHECK(request(&uv, port, "GET", "/metrics", "s3cret") == 200, "the token");

    CHECK(hl_http_server_access(srv, "::ffff:127.0.0.1", "", err, sizeof err) == 0, "%s", err);
    CHECK(request(&uv, port, "GET", "/metrics", NULL) == 200, "IPv4 as ::ffff:127.0.0.1");
    CHECK(hl_http_server_access(srv, "127.0.0.1/33 nonsense", "", err, sizeof err) == -1,
          "a bad prefix is reported");
    CHECK(strstr(err, "127.0.0.1/33") != NULL, "err names it: %s", err);
    CHECK(request(&uv, port, "GET", "/metrics", NULL) == 403, "bad entries allow nobody");
    hl_http_server_close(srv);
    uv_run(&uv, UV_RUN_NOWAIT);
    return 0;
}
