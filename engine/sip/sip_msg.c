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

long hl_sipmsg_content_length(const char *hdr, size_t hdrlen)
{
    raw_line lines[MSG_MAX_LINES];
    int n = split_lines(hdr, hdrlen, lines, MSG_MAX_LINES);
    if (n < 0)
        return -2;
    for (int i = 1; i < n; i++) {
        const char *v;
        size_t vlen, nl = header_name(&lines[i], &v, &vlen);
        if (nl && name_is(&lines[i], nl, "Content-Length", "l"))
            return parse_cl(v, vlen);
    }
    return -1;
}

#define WHY(...) do { snprintf(why, whylen, __VA_ARGS__); return -1; } while (0)

static int check_start_line(const raw_line *l, char *method, size_t mcap, char *why, size_t whylen)
{
    method[0] = 0;
    if (l->len >= 8 && memcmp(l->p, "SIP/2.0 ", 8) == 0) {
        if (l->len < 12 || !isdigit((unsigned char)l->p[8]) || !isdigit((unsigned char)l->p[9]) ||
            !isdigit((unsigned char)l->p[10]) || l->p[11] != ' ' || l->p[8] < '1' || l->p[8] > '6')
            WHY("bad status line");
        return 0;
    }
    size_t i = 0;
    while (i < l->len && is_token_char(l->p[i]))
        i++;
    if (i == 0 || i >= l->len || l->p[i] != ' ')
        WHY("bad request line: no method");
    if (i >= mcap)
        WHY("bad request line: method too long");
    memcpy(method, l->p, i);
    method[i] = 0;
    size_t u = ++i;
    while (i < l->len && l->p[i] != ' ')
        i++;
    if (i == u || i >= l->len)
        WHY("bad request line: no Request-URI");
    if (!memchr(l->p + u, ':', i - u))
        WHY("bad request line: Request-URI has no scheme");
    if (l->len - i - 1 != 7 || memcmp(l->p + i + 1, "SIP/2.0", 7) != 0)
        WHY("bad request line: not SIP/2.0");
    return 0;
}

int hl_sipmsg_check(const char *buf, size_t len, size_t max_message, size_t *msg_len,
                    char *why, size_t whylen)
{
    *msg_len = len;
    if (len > max_message)
        WHY("message larger than %zu bytes", max_message);
    size_t body = find_body(buf, len);
    if (body == 0)
        WHY("no blank line after the headers");
    for (size_t i = 0; i < body; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == 0 || (c < 0x20 && c != '\r' && c != '\n' && c != '\t') || c == 0x7f)
            WHY("control byte 0x%02x in headers", c);
    }
    raw_line lines[MSG_MAX_LINES];
    int n = split_lines(buf, body, lines, MSG_MAX_LINES);
    if (n < 0)
        WHY("more than %d header lines", MSG_MAX_LINES);
    if (n < 1)
        WHY("empty message");
    char method[32];
    if (check_start_line(&lines[0], method, sizeof method, why, whylen) < 0)
        return -1;
    bool via = false, from = false, to = false, cid = false, cseq = false;
    long cl = -1;
    for (int i = 1; i < n; i++) {
        const raw_line *l = &lines[i];
        if (l->p[0] == ' ' || l->p[0] == '\t')
            continue; /* folded continuation */
        const char *v;
        size_t vlen, nl = header_name(l, &v, &vlen);
        if (!nl)
            WHY("header line %d is not 'Name: value'", i + 1);
        if (name_is(l, nl, "Via", "v")) via = true;
        else if (name_is(l, nl, "From", "f")) from = vlen > 0;
        else if (name_is(l, nl, "To", "t")) to = vlen > 0;
        else if (name_is(l, nl, "Call-ID", "i")) cid = vlen > 0;
        else if (name_is(l, nl, "CSeq", NULL)) {
            size_t k = 0;
            while (k < vlen && isdigit((unsigned char)v[k]))
                k++;
            if (k == 0 || k > 10 || k >= vlen || (v[k] != ' ' && v[k] != '\t'))
                WHY("bad CSeq");
            while (k < vlen && (v[k] == ' ' || v[k] == '\t'))
                k++;
            size_t mlen = vlen - k;
            while (mlen > 0 && (v[k + mlen - 1] == ' ' || v[k + mlen - 1] == '\t'))
                mlen--;
            if (mlen == 0)
                WHY("bad CSeq: no method");
            if (method[0] && (strlen(method) != mlen || memcmp(method, v + k, mlen) != 0) &&
                !(strcmp(method, "ACK") == 0 && mlen == 6 && memcmp(v + k, "INVITE", 6) == 0))
                WHY("CSeq method does not match the request");
            cseq = true;
        } else if (name_is(l, nl, "Content-Length", "l")) {
            cl = parse_cl(v, vlen);
            if (cl == -2)
                WHY("bad Content-Length");
        } else if (name_is(l, nl, "Max-Forwards", NULL)) {
            /* RFC 3261 20.22: 1*DIGIT; libosip2 keeps any text, and atoi("lots") is 0 */
            if (hl_sipmsg_max_forwards_value(v, vlen) < 0)
                WHY("bad Max-Forwards: not a number");
        }
    }
    if (!via) WHY("missing Via");
    if (!from) WHY("missing From");
    if (!to) WHY("missing To");
    if (!cid) WHY("missing Call-ID");
    if (!cseq) WHY("missing CSeq");
    if (cl >= 0) {
        if ((size_t)cl > len - body)
            WHY("Content-Length %ld larger than the body (%zu)", cl, len - body);
        *msg_len = body + (size_t)cl;
    }
    return 0;
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
    if (!nvia || !from || !to || !cid || !cseq)
        return -1;
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
    COPY_LINE(from);
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
    COPY_LINE(cid);
    COPY_LINE(cseq);
    k = snprintf(out + o, outlen - o, "Server: %s\r\nWarning: 399 hotline \"%s\"\r\nContent-Length: 0\r\n\r\n",
                 ua, warning);
    if (k < 0 || (size_t)k >= outlen - o)
        return -1;
    return (int)(o + (size_t)k);
}
