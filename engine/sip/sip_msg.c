/* sip_msg.c — checks on the raw bytes of a SIP message before libosip2 parses it, and the
 * error response built from raw text when libosip2 cannot be trusted with the message.
 *
 * libosip2 accepts much that RFC 3261 refuses (a missing CSeq, binary bytes in headers, a
 * Content-Length that lies).  Everything here is bounded by len and never writes past
 * outlen, so it is safe on arbitrary bytes (tests/fuzz/fuzz_sip.c). */
#include "sip/sip_int.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MSG_MAX_LINES 256   /* more header lines than this is abuse, not SIP */

typedef struct raw_line {
    const char *p;
    size_t len;
} raw_line;

bool hl_sipmsg_is_response(const char *buf, size_t len)
{
    return len >= 8 && memcmp(buf, "SIP/2.0 ", 8) == 0;
}

/* Finds the blank line; returns the offset of the body, or 0 when there is none. */
static size_t find_body(const char *buf, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (buf[i + 1] == '\n')
            return i + 2;
        if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* Splits the header block into lines (without CR LF). Returns count or -1. */
static int split_lines(const char *buf, size_t hdrlen, raw_line *lines, int cap)
{
    int n = 0;
    size_t i = 0;
    while (i < hdrlen) {
        size_t s = i;
        while (i < hdrlen && buf[i] != '\n')
            i++;
        size_t e = i;
        if (e > s && buf[e - 1] == '\r')
            e--;
        if (i < hdrlen)
            i++;
        if (e == s)
            break; /* the blank line */
        if (n >= cap)
            return -1;
        lines[n].p = buf + s;
        lines[n].len = e - s;
        n++;
    }
    return n;
}

static bool is_token_char(char c)
{
    return isalnum((unsigned char)c) || strchr("-.!%*_+`'~", c) != NULL;
}

/* Header name of a line, or 0 length if the line is not "name: value". */
static size_t header_name(const raw_line *l, const char **value, size_t *vlen)
{
    size_t i = 0;
    while (i < l->len && is_token_char(l->p[i]))
        i++;
    size_t nlen = i;
    while (i < l->len && (l->p[i] == ' ' || l->p[i] == '\t'))
        i++;
    if (nlen == 0 || i >= l->len || l->p[i] != ':')
        return 0;
    i++;
    while (i < l->len && (l->p[i] == ' ' || l->p[i] == '\t'))
        i++;
    *value = l->p + i;
    *vlen = l->len - i;
    return nlen;
}

static bool name_is(const raw_line *l, size_t nlen, const char *full, const char *compact)
{
    return (strlen(full) == nlen && strncasecmp(l->p, full, nlen) == 0) ||
           (compact && nlen == 1 && tolower((unsigned char)l->p[0]) == compact[0]);
}

static long parse_cl(const char *v, size_t vlen)
{
    size_t i = 0;
    long x = 0;
    if (vlen == 0)
        return -2;
    while (i < vlen && isdigit((unsigned char)v[i])) {
        if (x > 100000000L)
            return -2;
        x = x * 10 + (v[i] - '0');
        i++;
    }
    while (i < vlen && (v[i] == ' ' || v[i] == '\t'))
        i++;
    return (i == 0 || i != vlen) ? -2 : x;
}

long hl_sipmsg_max_forwards_value(const char *v, size_t vlen)
{
    size_t i = 0;
    long x = 0;
    while (i < vlen && isdigit((unsigned char)v[i])) {
        if (i >= HL_SIP_MAX_FORWARDS_DIGITS)
            return -1;
        x = x * 10 + (v[i] - '0');
        i++;
    }
    size_t digits = i;
    while (i < vlen && (v[i] == ' ' || v[i] == '\t'))
        i++;
    return (digits == 0 || i != vlen) ? -1 : x;
}

/* Longest unfolded value of a header we parse (CSeq, Content-Length, Max-Forwards) or only
 * test for presence (From, To, Call-ID); more is cut, which such a value never needs. */
#define MSG_VALUE_MAX 256

static bool is_fold(const raw_line *l) { return l->len > 0 && (l->p[0] == ' ' || l->p[0] == '\t'); }

/* The value of the header on lines[i] joined with its continuation lines (RFC 3261 7.3.1:
 * a header may be folded onto lines that start with SP or HT, RFC 4475 3.1.1.1), each
 * fold as one space, leading and trailing blanks dropped.  Returns its length in out. */
static size_t unfolded_value(const raw_line *lines, int n, int i, const char *v, size_t vlen,
                             char *out)
{
    size_t o = 0;
    for (;;) {
        while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        if (vlen > 0 && o > 0 && o < MSG_VALUE_MAX - 1)
            out[o++] = ' ';
        size_t take = vlen < MSG_VALUE_MAX - 1 - o ? vlen : MSG_VALUE_MAX - 1 - o;
        memcpy(out + o, v, take);
        o += take;
        if (++i >= n || !is_fold(&lines[i]))
            break;
        v = lines[i].p;
        vlen = lines[i].len;
        while (vlen > 0 && (*v == ' ' || *v == '\t'))
            v++, vlen--;
    }
    out[o] = 0;
    return o;
}

long hl_sipmsg_content_length(const char *hdr, size_t hdrlen)
{
    raw_line lines[MSG_MAX_LINES];
    int n = split_lines(hdr, hdrlen, lines, MSG_MAX_LINES);
    if (n < 0)
        return -2;
    long cl = -1;
    for (int i = 1; i < n; i++) {
        const char *v;
        size_t vlen, nl = header_name(&lines[i], &v, &vlen);
        if (!nl || !name_is(&lines[i], nl, "Content-Length", "l"))
            continue;
        char val[MSG_VALUE_MAX];
        long x = parse_cl(val, unfolded_value(lines, n, i, v, vlen, val));
        if (x == -2 || (cl >= 0 && x != cl))
            return -2;
        cl = x;
    }
    return cl;
}

hl_method_class hl_sipmsg_method_class(const char *m, size_t len)
{
    static const char *const ok[] = { "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "NOTIFY",
                                      "REFER" };
    /* known SIP methods we do not take (yet); REGISTER is taken before this when the
     * application registers agents (sip.h on_register) */
    static const char *const no[] = { "REGISTER", "SUBSCRIBE", "PUBLISH", "MESSAGE", "PRACK",
                                      "UPDATE" };
    /* methods are case-sensitive (RFC 3261 7.1): "invite" is a method we do not know */
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strlen(ok[i]) == len && memcmp(m, ok[i], len) == 0)
            return HL_METHOD_SUPPORTED;
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (strlen(no[i]) == len && memcmp(m, no[i], len) == 0)
            return HL_METHOD_NOT_ALLOWED;
    return HL_METHOD_UNKNOWN;
}

/* Fills the fault and returns -1 from the calling check. */
#define FAULT(c, rp, ...) do { f->code = (c); snprintf(f->reason, sizeof f->reason, "%s", rp); \
        snprintf(f->why, sizeof f->why, __VA_ARGS__); return -1; } while (0)
#define BAD(...) FAULT(400, "Bad Request", __VA_ARGS__)

/* The request's method is returned as a pointer into the line (no length limit: a long
 * token is a method we do not know, answered 501 like any other). */
static int check_start_line(const raw_line *l, const char **method, size_t *mlen,
                            hl_sipmsg_fault *f)
{
    *method = NULL;
    *mlen = 0;
    if (l->len >= 8 && memcmp(l->p, "SIP/2.0 ", 8) == 0) {
        if (l->len < 12 || !isdigit((unsigned char)l->p[8]) || !isdigit((unsigned char)l->p[9]) ||
            !isdigit((unsigned char)l->p[10]) || l->p[11] != ' ' || l->p[8] < '1' || l->p[8] > '6')
            BAD("bad status line");
        return 0;
    }
    size_t i = 0;
    while (i < l->len && is_token_char(l->p[i]))
        i++;
    if (i == 0 || i >= l->len || l->p[i] != ' ')
        BAD("bad request line: no method");
    *method = l->p;
    *mlen = i;
    size_t u = ++i;
    while (i < l->len && l->p[i] != ' ')
        i++;
    if (i == u || i >= l->len)
        BAD("bad request line: no Request-URI");
    if (!memchr(l->p + u, ':', i - u))
        BAD("bad request line: Request-URI has no scheme");
    const char *ver = l->p + i + 1;
    size_t vlen = l->len - i - 1;
    if (vlen == 7 && memcmp(ver, "SIP/2.0", 7) == 0)
        return 0;
    /* another version, well-formed (RFC 4475 3.1.2.16): 505 (RFC 3261 21.5.6) */
    size_t d = 4, major = 0, minor = 0;
    while (d < vlen && isdigit((unsigned char)ver[d]))
        d++, major++;
    if (d < vlen && ver[d] == '.')
        while (++d < vlen && isdigit((unsigned char)ver[d]))
            minor++;
    if (vlen > 4 && memcmp(ver, "SIP/", 4) == 0 && major && minor && d == vlen)
        FAULT(505, "Version Not Supported", "%.*s: only SIP/2.0 is spoken here",
              (int)(vlen > 16 ? 16 : vlen), ver);
    BAD("bad request line: not SIP/2.0");
}

/* The headers a request or response must carry exactly once (RFC 3261 8.1.1, 7.3.1: none
 * of them is a list), and the Content-Length that must not be given twice either. */
typedef struct seen_headers {
    int via, from, to, cid, cseq, cl;
    char cseq_method[MSG_VALUE_MAX];
    size_t cseq_mlen;
    long cl_value;
} seen_headers;

/* "CSeq: 1*10DIGIT LWS Method": the method is kept for the start-line comparison. */
static int check_cseq(const char *v, size_t vlen, seen_headers *h, hl_sipmsg_fault *f)
{
    size_t k = 0;
    while (k < vlen && isdigit((unsigned char)v[k]))
        k++;
    if (k == 0 || k > 10 || k >= vlen || (v[k] != ' ' && v[k] != '\t'))
        BAD("bad CSeq");
    while (k < vlen && (v[k] == ' ' || v[k] == '\t'))
        k++;
    size_t mlen = vlen - k;
    while (mlen > 0 && (v[k + mlen - 1] == ' ' || v[k + mlen - 1] == '\t'))
        mlen--;
    if (mlen == 0)
        BAD("bad CSeq: no method");
    memcpy(h->cseq_method, v + k, mlen); /* v is the caller's buffer */
    h->cseq_mlen = mlen;
    return 0;
}

/* The header on lines[i] (with its continuation lines). */
static int check_header(const raw_line *lines, int n, int i, seen_headers *h, hl_sipmsg_fault *f)
{
    const raw_line *l = &lines[i];
    const char *rv;
    size_t rvlen, nl = header_name(l, &rv, &rvlen);
    if (!nl)
        BAD("header line %d is not 'Name: value'", i + 1);
    char v[MSG_VALUE_MAX];
    size_t vlen = unfolded_value(lines, n, i, rv, rvlen, v);
    if (name_is(l, nl, "Via", "v")) {
        h->via++;
    } else if (name_is(l, nl, "From", "f")) {
        if (h->from++) FAULT(400, "Duplicate From", "From given twice");
        if (!vlen) h->from = 0;
    } else if (name_is(l, nl, "To", "t")) {
        if (h->to++) FAULT(400, "Duplicate To", "To given twice");
        if (!vlen) h->to = 0;
    } else if (name_is(l, nl, "Call-ID", "i")) {
        if (h->cid++) FAULT(400, "Duplicate Call-ID", "Call-ID given twice");
        if (!vlen) h->cid = 0;
    } else if (name_is(l, nl, "CSeq", NULL)) {
        if (h->cseq++) FAULT(400, "Duplicate CSeq", "CSeq given twice");
        return check_cseq(v, vlen, h, f);
    } else if (name_is(l, nl, "Content-Length", "l")) {
        long cl = parse_cl(v, vlen);
        if (cl == -2)
            BAD("bad Content-Length");
        if (h->cl++ && cl != h->cl_value)
            FAULT(400, "Conflicting Content-Length",
                  "two different Content-Length values (%ld and %ld)", h->cl_value, cl);
        if (h->cl > 1)
            FAULT(400, "Duplicate Content-Length", "Content-Length given twice");
        h->cl_value = cl;
    } else if (name_is(l, nl, "Max-Forwards", NULL)) {
        /* RFC 3261 20.22: 1*DIGIT; libosip2 keeps any text, and atoi("lots") is 0 */
        if (hl_sipmsg_max_forwards_value(v, vlen) < 0)
            BAD("bad Max-Forwards: not a number");
    }
    return 0;
}

/* After the headers: what must be there (RFC 3261 8.1.1; 400 naming it, RFC 4475 3.3.1),
 * then the method (RFC 3261 8.2.1: 501 for one we do not know, also when its CSeq differs,
 * RFC 4475 3.1.2.18), then CSeq against the start line (400, RFC 4475 3.1.2.17). */
static int check_request_semantics(const char *method, size_t mlen, const seen_headers *h,
                                   hl_sipmsg_fault *f)
{
    if (!h->via) FAULT(400, "Missing Via", "missing Via");
    if (!h->from) FAULT(400, "Missing From", "missing From");
    if (!h->to) FAULT(400, "Missing To", "missing To");
    if (!h->cid) FAULT(400, "Missing Call-ID", "missing Call-ID");
    if (!h->cseq) FAULT(400, "Missing CSeq", "missing CSeq");
    if (!method)
        return 0; /* a response */
    if (hl_sipmsg_method_class(method, mlen) == HL_METHOD_UNKNOWN)
        FAULT(501, "Not Implemented", "unknown method %.*s", (int)(mlen > 40 ? 40 : mlen), method);
    bool ack_of_invite = mlen == 3 && memcmp(method, "ACK", 3) == 0 && h->cseq_mlen == 6 &&
                         memcmp(h->cseq_method, "INVITE", 6) == 0; /* some UAs send it */
    if ((h->cseq_mlen != mlen || memcmp(h->cseq_method, method, mlen) != 0) && !ack_of_invite)
        FAULT(400, "CSeq Method Mismatch", "CSeq method %.*s does not match the request's %.*s",
              (int)(h->cseq_mlen > 20 ? 20 : h->cseq_mlen), h->cseq_method, (int)mlen, method);
    return 0;
}

int hl_sipmsg_check(const char *buf, size_t len, size_t max_message, size_t *msg_len,
                    hl_sipmsg_fault *f)
{
    *msg_len = len;
    if (len > max_message)
        BAD("message larger than %zu bytes", max_message);
    size_t body = find_body(buf, len);
    if (body == 0)
        BAD("no blank line after the headers");
    for (size_t i = 0; i < body; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == 0 || (c < 0x20 && c != '\r' && c != '\n' && c != '\t') || c == 0x7f)
            BAD("control byte 0x%02x in headers", c);
    }
    raw_line lines[MSG_MAX_LINES];
    int n = split_lines(buf, body, lines, MSG_MAX_LINES);
    if (n < 0)
        BAD("more than %d header lines", MSG_MAX_LINES);
    if (n < 1)
        BAD("empty message");
    const char *method;
    size_t mlen;
    if (check_start_line(&lines[0], &method, &mlen, f) < 0)
        return -1;
    seen_headers h;
    memset(&h, 0, sizeof h);
    for (int i = 1; i < n; i++) {
        if (is_fold(&lines[i]))
            continue; /* a continuation: checked with its header */
        if (check_header(lines, n, i, &h, f) < 0)
            return -1;
    }
    if (check_request_semantics(method, mlen, &h, f) < 0)
        return -1;
    if (h.cl) {
        if ((size_t)h.cl_value > len - body)
            BAD("Content-Length %ld larger than the body (%zu)", h.cl_value, len - body);
        *msg_len = body + (size_t)h.cl_value;
    }
    return 0;
}

void hl_sipmsg_warn_text(const char *text, char *out, size_t outlen)
{
    size_t n = 0;
    for (const char *c = text ? text : ""; *c && n + 1 < outlen; c++)
        out[n++] = *c == '"' || *c == '\\' || (unsigned char)*c < 0x20 ? '\'' : *c;
    if (outlen)
        out[n] = 0;
}

/* True when the value is safe to copy into a response line. */
static bool printable(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return false;
    return true;
}

int hl_sipmsg_raw_response(const char *buf, size_t len, int code, const char *reason,
                           const char *warning, const char *ua, char *out, size_t outlen)
{
    size_t body = find_body(buf, len);
    size_t hdrlen = body ? body : len;
    raw_line lines[MSG_MAX_LINES];
    int n = split_lines(buf, hdrlen, lines, MSG_MAX_LINES);
    if (n < 2 || hl_sipmsg_is_response(buf, len))
        return -1;
    const raw_line *from = NULL, *to = NULL, *cid = NULL, *cseq = NULL;
    int nvia = 0;
    for (int i = 1; i < n; i++) {
        const char *v;
        size_t vlen, nl = header_name(&lines[i], &v, &vlen);
        if (!nl || vlen == 0 || !printable(lines[i].p, lines[i].len))
            continue;
        if (name_is(&lines[i], nl, "Via", "v")) nvia++;
        else if (!from && name_is(&lines[i], nl, "From", "f")) from = &lines[i];
        else if (!to && name_is(&lines[i], nl, "To", "t")) to = &lines[i];
        else if (!cid && name_is(&lines[i], nl, "Call-ID", "i")) cid = &lines[i];
        else if (!cseq && name_is(&lines[i], nl, "CSeq", NULL)) cseq = &lines[i];
    }
    if (!nvia)
        return -1; /* no way to send it back (RFC 3261 18.2.2) */
    size_t o = 0;
    int k = snprintf(out, outlen, "SIP/2.0 %d %s\r\n", code, reason);
    if (k < 0 || (size_t)k >= outlen)
        return -1;
    o = (size_t)k;
#define COPY_LINE(l) do { \
        if (o + (l)->len + 2 >= outlen) return -1; \
        memcpy(out + o, (l)->p, (l)->len); o += (l)->len; \
        out[o++] = '\r'; out[o++] = '\n'; } while (0)
    for (int i = 1; i < n; i++) {
        const char *v;
        size_t vlen, nl = header_name(&lines[i], &v, &vlen);
        if (nl && vlen && name_is(&lines[i], nl, "Via", "v") && printable(lines[i].p, lines[i].len))
            COPY_LINE(&lines[i]);
    }
    /* a request missing one of these still gets its 400 naming it (RFC 4475 3.3.1): the
     * answer carries what there is */
    if (from)
        COPY_LINE(from);
    if (to) {
        COPY_LINE(to);
        bool tagged = false;
        for (size_t i = 0; i + 4 < to->len; i++)
            tagged |= strncasecmp(to->p + i, ";tag=", 5) == 0;
        if (!tagged) {
            o -= 2; /* reopen the To line to add our tag */
            if (o + 16 >= outlen)
                return -1;
            memcpy(out + o, ";tag=hl-err\r\n", 13);
            o += 13;
        }
    }
    if (cid)
        COPY_LINE(cid);
    if (cseq)
        COPY_LINE(cseq);
    char wt[200];
    hl_sipmsg_warn_text(warning, wt, sizeof wt);
    k = snprintf(out + o, outlen - o, "Server: %s\r\nWarning: 399 hotline \"%s\"\r\n%s%s%s"
                 "Content-Length: 0\r\n\r\n", ua, wt,
                 code == 405 || code == 501 ? "Allow: " : "",
                 code == 405 || code == 501 ? HL_SIP_ALLOW : "",
                 code == 405 || code == 501 ? "\r\n" : "");
    if (k < 0 || (size_t)k >= outlen - o)
        return -1;
    return (int)(o + (size_t)k);
}
