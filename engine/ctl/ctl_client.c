/* ctl_client.c — `hotline ctl`: turns a command line into one JSON request, sends it to
 * the running engine over DATA/hotline.sock, and prints the answer as text (aligned tables
 * for lists) or, with --json, as the engine's JSON.  Plain blocking sockets: the client
 * has nothing else to do while it waits. */
#include "ctl/ctl.h"
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* reload builds and self-tests a new policy before it answers: allow it minutes, not
 * seconds.  --timeout changes it. */
#define HL_CTL_CLIENT_TIMEOUT_S 120
/* Largest response accepted (cdr --last 1000 with full CDRs is a few MB). */
#define HL_CTL_MAX_RESPONSE (64 * 1024 * 1024)
/* Columns wider than this are cut in tables (the JSON has everything). */
#define HL_CTL_CELL_MAX 48

/* ---- transport -------------------------------------------------------------------- */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Reads up to the first newline; returns a malloc'd line or NULL with err. */
static char *read_line(int fd, int timeout_ms, char *err, int errlen)
{
    size_t len = 0, cap = 8192;
    char *buf = malloc(cap);
    long long deadline = now_ms() + timeout_ms;
    while (buf) {
        char *nl = len ? memchr(buf, '\n', len) : NULL;
        if (nl) {
            *nl = 0;
            return buf;
        }
        long long left = deadline - now_ms();
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int pr = left > 0 ? poll(&pfd, 1, (int)left) : 0;
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0) {
            snprintf(err, errlen, "no answer from hotline within %d s", timeout_ms / 1000);
            break;
        }
        if (len + 4096 > cap) {
            if (cap >= HL_CTL_MAX_RESPONSE) {
                snprintf(err, errlen, "response too large");
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        ssize_t k = recv(fd, buf + len, cap - len - 1, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            snprintf(err, errlen, "hotline closed the connection without an answer");
            break;
        }
        len += (size_t)k;
    }
    if (!buf)
        snprintf(err, errlen, "out of memory");
    free(buf);
    return NULL;
}

int hl_ctl_request(const char *sock_path, json_t *request, json_t **response, int timeout_ms,
                   char *err, int errlen)
{
    *response = NULL;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(sock_path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "socket path too long: %s", sock_path);
        return -1;
    }
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(fd);
        if (e == ENOENT) {
            snprintf(err, errlen, "hotline is not running (no socket at %s)", sock_path);
            return -2;
        }
        if (e == ECONNREFUSED) {
            snprintf(err, errlen, "hotline is not running (socket at %s does not answer)",
                     sock_path);
            return -2;
        }
        snprintf(err, errlen, "cannot connect to %s: %s", sock_path, strerror(e));
        return -1;
    }
    char *text = json_dumps(request, JSON_COMPACT);
    int rc = -1;
    if (!text) {
        snprintf(err, errlen, "request could not be encoded");
    } else if (send_all(fd, text, strlen(text)) < 0 || send_all(fd, "\n", 1) < 0) {
        snprintf(err, errlen, "sending to %s: %s", sock_path, strerror(errno));
    } else {
        char *line = read_line(fd, timeout_ms, err, errlen);
        if (line) {
            json_error_t jerr;
            *response = json_loads(line, 0, &jerr);
            if (*response)
                rc = 0;
            else
                snprintf(err, errlen, "bad answer from hotline: %s", jerr.text);
            free(line);
        }
    }
    free(text);
    close(fd);
    return rc;
}

/* ---- text output ------------------------------------------------------------------ */

/* Display width of UTF-8 text (code points; CJK counted as one, close enough for ids). */
static int text_width(const char *s)
{
    int w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

static void cell(json_t *v, char *out, size_t size)
{
    if (!v || json_is_null(v))
        snprintf(out, size, "-");
    else if (json_is_string(v))
        snprintf(out, size, "%s", json_string_value(v)[0] ? json_string_value(v) : "-");
    else if (json_is_integer(v))
        snprintf(out, size, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(out, size, "%.3f", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(out, size, "%s", json_is_true(v) ? "yes" : "no");
    else {
        char *t = json_dumps(v, JSON_COMPACT);
        snprintf(out, size, "%s", t ? t : "?");
        free(t);
    }
    /* cut on a character boundary */
    size_t n = strlen(out), keep = 0;
    int w = 0;
    for (size_t i = 0; i < n; i++) {
        if (((unsigned char)out[i] & 0xC0) != 0x80) {
            if (w == HL_CTL_CELL_MAX) {
                snprintf(out + keep, size - keep, "~");
                return;
            }
            w++;
        }
        keep = i + 1;
    }
}

typedef struct table {
    int    ncols, nrows;
    char **cells;           /* (nrows + 1) x ncols, row 0 = headers */
} table;

static void table_init(table *t, int ncols, int nrows)
{
    t->ncols = ncols;
    t->nrows = nrows;
    t->cells = calloc((size_t)(nrows + 1) * ncols, sizeof *t->cells);
}

static void table_set(table *t, int row, int col, const char *text)
{
    if (t->cells)
        t->cells[row * t->ncols + col] = strdup(text);
}

static void table_print(table *t)
{
    if (!t->cells)
        return;
    int *w = calloc(t->ncols, sizeof *w);
    for (int r = 0; r <= t->nrows; r++)
        for (int c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            int k = s ? text_width(s) : 0;
            if (w && k > w[c])
                w[c] = k;
        }
    for (int r = 0; r <= t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            s = s ? s : "";
            if (c == t->ncols - 1)
                printf("%s", s);
            else
                printf("%s%*s  ", s, w ? w[c] - text_width(s) : 0, "");
        }
        printf("\n");
    }
    for (int i = 0; i < (t->nrows + 1) * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(w);
}

/* Any array of objects: one column per key, in the order the first object has them. */
static void print_generic_table(json_t *list)
{
    json_t *first = json_array_get(list, 0);
    int ncols = (int)json_object_size(first);
    if (!ncols)
        return;
    table t;
    table_init(&t, ncols, (int)json_array_size(list));
    const char *key;
    json_t *v;
    int c = 0;
    json_object_foreach(first, key, v) {
        char head[64];
        snprintf(head, sizeof head, "%s", key);
        for (char *p = head; *p; p++)
            *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        table_set(&t, 0, c, head);
        size_t i;
        json_t *row;
        json_array_foreach(list, i, row) {
            char buf[256];
            cell(json_object_get(row, key), buf, sizeof buf);
            table_set(&t, (int)i + 1, c, buf);
        }
        c++;
    }
    table_print(&t);
}

static void print_value(const char *key, json_t *v, int indent)
{
    char buf[256];
    if (json_is_object(v)) {
        printf("%*s%s:\n", indent, "", key);
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
            print_value(k, x, indent + 2);
    } else if (json_is_array(v) && json_is_object(json_array_get(v, 0))) {
        printf("%*s%s:\n", indent, "", key);
        print_generic_table(v);
    } else if (json_is_array(v) && json_array_size(v) == 0) {
        printf("%*s%s: (none)\n", indent, "", key);
    } else {
        cell(v, buf, sizeof buf);
        printf("%*s%s: %s\n", indent, "", key, buf);
    }
}

static void print_generic(json_t *resp)
{
    const char *key;
    json_t *v;
    json_object_foreach(resp, key, v)
        if (strcmp(key, "ok"))
            print_value(key, v, 0);
}

/* "2026-07-01T15:59:00+08:00" -> "2026-07-01 15:59:00" */
static void short_time(json_t *iso, char *out, size_t size)
{
    const char *s = json_string_value(iso);
    if (!s || strlen(s) < 19) {
        snprintf(out, size, "-");
        return;
    }
    snprintf(out, size, "%.10s %.8s", s, s + 11);
}

static void seconds_between(json_t *from, json_t *to, char *out, size_t size)
{
    if (!json_is_number(from) || !json_is_number(to))
        snprintf(out, size, "-");
    else
        snprintf(out, size, "%.1fs", json_number_value(to) - json_number_value(from));
}

static void print_cdrs(json_t *list)
{
    if (!json_array_size(list)) {
        printf("no CDRs\n");
        return;
    }
    static const char *const heads[] = { "START", "CALL", "LEG", "CALLER", "CALLED", "DUR",
                                         "WAIT", "HANGUP", "ROUTE", "DTMF", "VERSION" };
    enum { NC = sizeof heads / sizeof heads[0] };
    table t;
    table_init(&t, NC, (int)json_array_size(list));
    for (int c = 0; c < NC; c++)
        table_set(&t, 0, c, heads[c]);
    size_t i;
    json_t *r;
    json_array_foreach(list, i, r) {
        char b[NC][256];
        short_time(json_object_get(r, "start"), b[0], sizeof b[0]);
        cell(json_object_get(r, "call_id"), b[1], sizeof b[1]);
        cell(json_object_get(r, "leg_index"), b[2], sizeof b[2]);
        cell(json_object_get(r, "caller"), b[3], sizeof b[3]);
        cell(json_object_get(r, "called"), b[4], sizeof b[4]);
        seconds_between(json_object_get(r, "start_epoch"), json_object_get(r, "end_epoch"), b[5],
                        sizeof b[5]);
        seconds_between(json_object_get(r, "start_epoch"), json_object_get(r, "answer_epoch"),
                        b[6], sizeof b[6]);
        snprintf(b[7], sizeof b[7], "%.100s/%.100s",
                 json_string_value(json_object_get(r, "hangup_side")) ?: "-",
                 json_string_value(json_object_get(r, "hangup_cause")) ?: "-");
        cell(json_object_get(r, "route"), b[8], sizeof b[8]);
        cell(json_object_get(r, "dtmf"), b[9], sizeof b[9]);
        cell(json_object_get(r, "script_version"), b[10], sizeof b[10]);
        for (int c = 0; c < NC; c++)
            table_set(&t, (int)i + 1, c, b[c]);
    }
    table_print(&t);
}

/* query: the policy's queries, or the rows one returned */
static void print_query(json_t *resp)
{
    json_t *list = json_object_get(resp, "queries");
    if (list) {
        if (!json_array_size(list))
            printf("this policy declares no queries (rules/queries.lua)\n");
        size_t i;
        json_t *q;
        json_array_foreach(list, i, q)
            printf("  %s %s\n      %s%s\n", json_string_value(json_object_get(q, "name")) ?: "?",
                   json_string_value(json_object_get(q, "args")) ?: "",
                   json_string_value(json_object_get(q, "description")) ?: "",
                   json_is_true(json_object_get(q, "writes")) ? " (writes)" : "");
        return;
    }
    json_t *rows = json_object_get(resp, "rows");
    if (json_array_size(rows))
        print_generic_table(rows);
    else
        printf("no rows\n");
}

static void print_help_list(json_t *list)
{
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c)
        printf("  %-10s %s\n", json_string_value(json_object_get(c, "cmd")) ?: "?",
               json_string_value(json_object_get(c, "help")) ?: "");
}

static void print_human(const char *cmd, json_t *resp)
{
    if (!strcmp(cmd, "cdr"))
        print_cdrs(json_object_get(resp, "cdrs"));
    else if (!strcmp(cmd, "query"))
        print_query(resp);
    else if (!strcmp(cmd, "calls") && json_is_array(json_object_get(resp, "calls"))) {
        json_t *calls = json_object_get(resp, "calls");
        if (json_array_size(calls))
            print_generic_table(calls);
        else
            printf("no calls in progress\n");
    } else if (!strcmp(cmd, "help") && json_is_array(json_object_get(resp, "commands")))
        print_help_list(json_object_get(resp, "commands"));
    else if (!strcmp(cmd, "hangup"))
        printf("hung up %s\n", json_string_value(json_object_get(resp, "id")) ?: "");
    else
        print_generic(resp);
}

/* ---- command line ----------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: hotline ctl [--data DIR] [--socket PATH] [--timeout SEC] [--json] COMMAND [ARGS]\n"
        "\n"
        "Talks to the running engine through DIR/" HL_CTL_SOCKET_NAME ".\n"
        "\n"
        "commands:\n"
        "  status                      engine status: version, policy, calls, RTP lateness, RTP dropped\n"
        "  calls                       calls in progress\n"
        "  hangup ID                   end a call (IDs from `calls`)\n"
        "  reload                      build and self-test scripts and rules, then swap them in\n"
        "  version                     engine and policy versions\n"
        "  cdr [--last N] [--call ID]  newest CDRs, newest last (default 20, at most 1000)\n"
        "  query                       the named queries the policy declares (rules/queries.lua)\n"
        "  query NAME [ARG...]         run one: its rows (a report) or what it changed\n"
        "  admin                       the kinds of back-office record and their fields (rules/backoffice.lua)\n"
        "  admin KIND FIELD=VALUE ...  enter one record (leave, approve, correction, complaint, review ...)\n"
        "  admin import KIND FILE.csv  enter a file's records: all of them, or none (the line and why)\n"
        "  agent add NUMBER --centre CODE [--name N] [--skills LIST] [--role agent|leader|supervisor]\n"
        "                              a new agent; the password is read from standard input\n"
        "  agent list | agents         agents with their registered phones and expiry\n"
        "  agent set NUMBER [--name N] [--skills LIST] [--role R] [--centre CODE]\n"
        "  agent password NUMBER       a new password, from standard input\n"
        "  agent remove NUMBER | agent unlock NUMBER\n"
        "  help                        the commands the running engine serves\n"
        "\n"
        "options:\n"
        "  --data DIR     data directory (default $HOTLINE_DATA, else ./data)\n"
        "  --socket PATH  the control socket itself (default DIR/" HL_CTL_SOCKET_NAME ")\n"
        "  --timeout SEC  how long to wait for an answer (default %d)\n"
        "  --json         print the engine's JSON answer instead of text\n"
        "\n"
        "exit status: 0 ok, 1 the engine answered with an error (or bad usage), 2 not running\n",
        HL_CTL_CLIENT_TIMEOUT_S);
}

typedef struct opts {
    const char *data, *sock;
    int timeout_s;
    bool json;
} opts;

static int usage_error(const char *fmt, const char *a)
{
    fprintf(stderr, "hotline ctl: ");
    fprintf(stderr, fmt, a);
    fprintf(stderr, "\n(see hotline ctl --help)\n");
    return 1;
}

static bool parse_count(const char *s, json_int_t *out)
{
    char *end = NULL;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (!s || !*s || *end || v < 1)
        return false;
    *out = v;
    return true;
}

/* `agent add` and `agent password`: the password is the first line of standard input, so it
 * is never in argv (ps) or a shell history; it travels in the request's "password" only. */
static int read_password(json_t *req)
{
    char line[512];
    if (!fgets(line, sizeof line, stdin)) {
        usage_error("%s", "the password is read from standard input (one line)");
        return -1;
    }
    line[strcspn(line, "\r\n")] = 0;
    json_t *pw = json_string(line);
    memset(line, 0, sizeof line);
    if (!pw) {
        usage_error("%s", "the password is not valid UTF-8");
        return -1;
    }
    json_object_set_new(req, "password", pw);
    return 0;
}

/* Largest CSV file `admin import` sends (the engine refuses larger: app/admin.h). */
#define HL_CTL_CSV_MAX (4 * 1024 * 1024)

/* `admin`: who enters the records ($USER, kept as created_by), and for `admin import KIND
 * FILE` the file's text in "csv" (read here: the engine may not be able to open the file). */
static int admin_request(json_t *req, json_t *pos)
{
    const char *user = getenv("USER");
    json_object_set_new(req, "by", json_string(user && *user ? user : "ctl"));
    const char *first = json_string_value(json_array_get(pos, 0));
    if (!first || strcmp(first, "import") != 0)
        return 0;
    const char *file = json_string_value(json_array_get(pos, 2));
    if (json_array_size(pos) != 3) {
        usage_error("%s", "usage: hotline ctl admin import KIND FILE.csv");
        return -1;
    }
    FILE *f = fopen(file, "rb");
    char *buf = f ? malloc(HL_CTL_CSV_MAX + 1) : NULL;
    size_t n = buf ? fread(buf, 1, HL_CTL_CSV_MAX + 1, f) : 0;
    int rc = -1;
    if (!f)
        usage_error("cannot read %s", file);
    else if (!buf)
        usage_error("%s", "out of memory");
    else if (n > HL_CTL_CSV_MAX)
        usage_error("%s is over 4 MiB: split it", file);
    else if (memchr(buf, 0, n))
        usage_error("%s has a NUL byte: not a CSV text file", file);
    else {
        json_t *text = json_stringn(buf, n);
        if (!text)
            usage_error("%s is not UTF-8 text", file);
        else
            json_object_set_new(req, "csv", text), rc = 0;
    }
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

/* Builds the request for cmd from its arguments; NULL after printing a usage error. */
static json_t *build_request(const char *cmd, int argc, char **argv, opts *o)
{
    json_t *req = json_pack("{s:s}", "cmd", cmd);
    json_t *args = json_array();
    json_t *pos = json_array(); /* positional arguments */
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        json_int_t n;
        if (!strcmp(a, "--json")) {
            o->json = true;
        } else if (!strcmp(a, "--last") && !strcmp(cmd, "cdr")) {
            if (!parse_count(next, &n)) {
                usage_error("--last needs a positive number, not '%s'", next ? next : "");
                goto fail;
            }
            json_object_set_new(req, "last", json_integer(n));
            i++;
        } else if (!strcmp(a, "--call") && !strcmp(cmd, "cdr") && next) {
            json_object_set_new(req, "call_id", json_string(next));
            i++;
        } else {
            json_t *s = json_string(a);
            if (!s) {
                usage_error("argument is not valid UTF-8: %s", a);
                goto fail;
            }
            json_array_append(pos, s);
            json_array_append_new(args, s);
        }
    }
    size_t np = json_array_size(pos);
    if (!strcmp(cmd, "hangup")) {
        if (np != 1) {
            usage_error("%s", "hangup needs one call id: hotline ctl hangup ID");
            goto fail;
        }
        json_object_set(req, "id", json_array_get(pos, 0));
    } else if (np && (!strcmp(cmd, "status") || !strcmp(cmd, "calls") || !strcmp(cmd, "reload") ||
                      !strcmp(cmd, "version") || !strcmp(cmd, "cdr") ||
                      !strcmp(cmd, "help"))) {
        usage_error("unexpected argument '%s'", json_string_value(json_array_get(pos, 0)));
        goto fail;
    }
    if (!strcmp(cmd, "admin") && admin_request(req, pos) != 0)
        goto fail;
    if (!strcmp(cmd, "agent") && np >= 2 &&
        (!strcmp(json_string_value(json_array_get(pos, 0)), "add") ||
         !strcmp(json_string_value(json_array_get(pos, 0)), "password")) &&
        read_password(req) != 0)
        goto fail;
    /* every request also carries its raw arguments, for commands this client does not know */
    json_object_set_new(req, "args", args);
    json_decref(pos);
    return req;
fail:
    json_decref(args);
    json_decref(pos);
    json_decref(req);
    return NULL;
}

int hl_ctl_main(int argc, char **argv)
{
    opts o = { .data = getenv("HOTLINE_DATA"), .timeout_s = HL_CTL_CLIENT_TIMEOUT_S };
    if (!o.data || !*o.data)
        o.data = "data";
    int i = 1;
    if (i < argc && !strcmp(argv[i], "ctl")) /* called with the program's full argv */
        i++;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            o.json = true;
        } else if (!strcmp(a, "--data") && next) {
            o.data = next;
            i++;
        } else if (!strcmp(a, "--socket") && next) {
            o.sock = next;
            i++;
        } else if (!strcmp(a, "--timeout") && next && atoi(next) > 0) {
            o.timeout_s = atoi(next);
            i++;
        } else {
            return usage_error("unknown option or missing value: %s", a);
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 1;
    }
    const char *cmd = argv[i++];
    json_t *req = build_request(cmd, argc - i, argv + i, &o);
    if (!req)
        return 1;
    char path[1024];
    if (o.sock)
        snprintf(path, sizeof path, "%s", o.sock);
    else
        snprintf(path, sizeof path, "%s/%s", o.data, HL_CTL_SOCKET_NAME);
    json_t *resp = NULL;
    char err[1200];
    int rc = hl_ctl_request(path, req, &resp, o.timeout_s * 1000, err, sizeof err);
    json_decref(req);
    if (rc < 0) {
        fprintf(stderr, "%s\n", err);
        return rc == -2 ? 2 : 1;
    }
    bool ok = json_is_true(json_object_get(resp, "ok"));
    if (o.json) {
        char *t = json_dumps(resp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", t ? t : "{}");
        free(t);
    }
    if (!ok) {
        const char *e = json_string_value(json_object_get(resp, "error"));
        fprintf(stderr, "hotline ctl %s: %s\n", cmd, e ? e : "failed (no reason given)");
    } else if (!o.json) {
        print_human(cmd, resp);
    }
    json_decref(resp);
    return ok ? 0 : 1;
}
