/* sdp.c — the SDP subset of sdp.h: a strict, bounded parser for one audio stream, the
 * writer for our own endpoint, and G.711 offer/answer (RFC 3264).
 *
 * The parser never reads past len, never writes past its fixed-size fields, and refuses
 * bytes that cannot appear in SDP (control characters, NUL), so it is safe on arbitrary
 * input (tests/fuzz/fuzz_sdp.c). */
#include "sip/sdp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SDP_MAX_LINE 1024   /* longer lines are not SDP we can use (RFC 4566 has no limit) */
#define SDP_MAX_PORT 65535
#define SDP_MAX_PT_NUM 127  /* RTP payload types are 7 bits */
#define SDP_TE_DEFAULT_PT 101
#define SDP_MAX_PTIME 1000  /* ms; anything larger is nonsense */

typedef struct sdp_cursor {
    const char *p, *end;
} sdp_cursor;

static void set_err(char *err, int errlen, const char *msg)
{
    if (err && errlen > 0)
        snprintf(err, (size_t)errlen, "%s", msg);
}

/* Next line (without CR LF) into line[]; 1 = got one, 0 = end, -1 = bad bytes / too long. */
static int next_line(sdp_cursor *c, char *line, int cap)
{
    if (c->p >= c->end)
        return 0;
    int n = 0;
    while (c->p < c->end && *c->p != '\n') {
        unsigned char ch = (unsigned char)*c->p++;
        if (ch == '\r')
            continue;
        if (ch < 0x20 && ch != '\t')
            return -1;
        if (n >= cap - 1)
            return -1;
        line[n++] = (char)ch;
    }
    if (c->p < c->end)
        c->p++; /* the \n */
    line[n] = 0;
    return 1;
}

/* Reads a decimal number of at most 19 digits; returns pointer after it or NULL. */
static const char *read_num(const char *s, unsigned long long *v)
{
    if (*s < '0' || *s > '9')
        return NULL;
    unsigned long long x = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9') {
        if (++digits > 19)
            return NULL;
        x = x * 10 + (unsigned)(*s - '0');
        s++;
    }
    *v = x;
    return s;
}

static bool addr_char_ok(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           ch == '.' || ch == ':' || ch == '-' || ch == '_';
}

/* "IN IP4 1.2.3.4" (c= value; TTL/count suffixes refused for unicast use) */
static int parse_conn(const char *v, char *addr, int cap, bool *ipv6)
{
    if (strncmp(v, "IN ", 3) != 0)
        return -1;
    v += 3;
    if (strncmp(v, "IP4 ", 4) == 0)
        *ipv6 = false;
    else if (strncmp(v, "IP6 ", 4) == 0)
        *ipv6 = true;
    else
        return -1;
    v += 4;
    int n = 0;
    while (v[n] && v[n] != ' ' && v[n] != '/') {
        if (!addr_char_ok(v[n]) || n >= cap - 1)
            return -1;
        n++;
    }
    if (n == 0)
        return -1;
    memcpy(addr, v, (size_t)n);
    addr[n] = 0;
    return 0;
}

static int parse_dir(const char *a, hl_sdp_dir *dir)
{
    if (strcmp(a, "sendrecv") == 0) *dir = HL_SDP_SENDRECV;
    else if (strcmp(a, "sendonly") == 0) *dir = HL_SDP_SENDONLY;
    else if (strcmp(a, "recvonly") == 0) *dir = HL_SDP_RECVONLY;
    else if (strcmp(a, "inactive") == 0) *dir = HL_SDP_INACTIVE;
    else return 0;
    return 1;
}

/* "audio 4000 RTP/AVP 0 8 101" */
static int parse_media(const char *v, hl_sdp *out)
{
    unsigned long long port;
    if (strncmp(v, "audio ", 6) != 0)
        return -1;
    v = read_num(v + 6, &port);
    if (!v || port > SDP_MAX_PORT)
        return -1;
    if (*v == '/') { /* port/count: accept, ignore the count */
        unsigned long long cnt;
        v = read_num(v + 1, &cnt);
        if (!v)
            return -1;
    }
    if (*v != ' ')
        return -1;
    v++;
    if (strncmp(v, "RTP/AVP", 7) != 0 && strncmp(v, "RTP/SAVP", 8) != 0)
        return -1;
    bool secure = strncmp(v, "RTP/SAVP", 8) == 0;
    v += secure ? 8 : 7;
    out->port = (int)port;
    out->npts = 0;
    if (secure)
        out->port = 0; /* we do not do SRTP: treat the stream as unusable */
    while (*v == ' ') {
        unsigned long long pt;
        v = read_num(v + 1, &pt);
        if (!v || pt > SDP_MAX_PT_NUM)
            return -1;
        if (out->npts < HL_SDP_MAX_PT)
            out->pts[out->npts++] = (int)pt;
    }
    if (*v != 0 || out->npts == 0)
        return -1;
    return 0;
}

/* a=rtpmap:PT telephone-event/8000 — only telephone-event matters to us; 0 and 8 are static. */
static void parse_rtpmap(const char *v, hl_sdp *out)
{
    unsigned long long pt;
    const char *s = read_num(v, &pt);
    if (!s || *s != ' ' || pt > SDP_MAX_PT_NUM)
        return;
    s++;
    if (strncasecmp(s, "telephone-event/8000", 20) == 0 && out->te_pt < 0)
        out->te_pt = (int)pt;
}

int hl_sdp_parse(const char *body, int len, hl_sdp *out, char *err, int errlen)
{
    memset(out, 0, sizeof *out);
    out->te_pt = -1;
    out->dir = HL_SDP_SENDRECV;
    if (!body || len <= 0) {
        set_err(err, errlen, "empty SDP");
        return -1;
    }
    sdp_cursor c = { body, body + len };
    char line[SDP_MAX_LINE];
    char sess_addr[64] = "", media_addr[64] = "";
    bool sess_v6 = false, media_v6 = false;
    bool have_v = false, have_o = false, in_audio = false, audio_done = false, seen_m = false;
    hl_sdp_dir sess_dir = HL_SDP_SENDRECV, media_dir = HL_SDP_SENDRECV;
    bool have_media_dir = false;
    int lineno = 0, r;
    while ((r = next_line(&c, line, sizeof line)) == 1) {
        lineno++;
        if (line[0] == 0)
            continue; /* tolerate a trailing empty line */
        if (line[0] < 'a' || line[0] > 'z' || line[1] != '=') {
            set_err(err, errlen, "SDP line is not 'x=value'");
            return -1;
        }
        if (!have_v) {
            if (line[0] != 'v' || strcmp(line + 2, "0") != 0) {
                set_err(err, errlen, "SDP does not start with v=0");
                return -1;
            }
            have_v = true;
            continue;
        }
        const char *v = line + 2;
        switch (line[0]) {
        case 'o': {
            if (seen_m)
                break;
            /* o=user sess-id sess-version IN IP4 addr */
            const char *s = strchr(v, ' ');
            unsigned long long id, ver;
            if (!s || !(s = read_num(s + 1, &id)) || *s != ' ' || !(s = read_num(s + 1, &ver))) {
                set_err(err, errlen, "bad o= line");
                return -1;
            }
            out->sess_id = id;
            out->sess_version = ver;
            have_o = true;
            break;
        }
        case 'c':
            if (in_audio) {
                if (parse_conn(v, media_addr, sizeof media_addr, &media_v6) < 0) {
                    set_err(err, errlen, "bad media c= line");
                    return -1;
                }
            } else if (!seen_m) {
                if (parse_conn(v, sess_addr, sizeof sess_addr, &sess_v6) < 0) {
                    set_err(err, errlen, "bad session c= line");
                    return -1;
                }
            }
            break;
        case 'm':
            seen_m = true;
            if (in_audio)
                audio_done = true;
            in_audio = false;
            if (!audio_done && strncmp(v, "audio ", 6) == 0) {
                if (parse_media(v, out) < 0) {
                    set_err(err, errlen, "bad m=audio line");
                    return -1;
                }
                in_audio = true;
            }
            break;
        case 'a':
            if (in_audio || !seen_m) {
                hl_sdp_dir d;
                if (parse_dir(v, &d)) {
                    if (in_audio) { media_dir = d; have_media_dir = true; }
                    else sess_dir = d;
                } else if (in_audio && strncmp(v, "rtpmap:", 7) == 0) {
                    parse_rtpmap(v + 7, out);
                } else if (in_audio && strncmp(v, "ptime:", 6) == 0) {
                    unsigned long long pt;
                    if (read_num(v + 6, &pt) && pt > 0 && pt <= SDP_MAX_PTIME)
                        out->ptime = (int)pt;
                }
            }
            break;
        default:
            break; /* s=, t=, b=, k=, ...: not needed */
        }
    }
    if (r < 0) {
        set_err(err, errlen, "SDP has control bytes or a line over 1024 bytes");
        return -1;
    }
    if (!have_v || !have_o) {
        set_err(err, errlen, have_v ? "SDP has no o= line" : "SDP has no v= line");
        return -1;
    }
    if (out->npts == 0) {
        set_err(err, errlen, "SDP has no m=audio stream");
        return -1;
    }
    if (media_addr[0]) {
        memcpy(out->addr, media_addr, sizeof out->addr);
        out->ipv6 = media_v6;
    } else if (sess_addr[0]) {
        memcpy(out->addr, sess_addr, sizeof out->addr);
        out->ipv6 = sess_v6;
    } else {
        set_err(err, errlen, "SDP has no c= line for the audio stream");
        return -1;
    }
    out->dir = have_media_dir ? media_dir : sess_dir;
    /* te_pt must be one of the offered payloads to count */
    if (out->te_pt >= 0) {
        bool listed = false;
        for (int i = 0; i < out->npts; i++)
            listed |= out->pts[i] == out->te_pt;
        if (!listed)
            out->te_pt = -1;
    }
    return 0;
}

static const char *dir_name(hl_sdp_dir d)
{
    switch (d) {
    case HL_SDP_SENDONLY: return "sendonly";
    case HL_SDP_RECVONLY: return "recvonly";
    case HL_SDP_INACTIVE: return "inactive";
    default: return "sendrecv";
    }
}

/* snprintf into out at *n, tracking overflow */
#define APPEND(...) do { \
        if (*n >= 0) { \
            int k_ = snprintf(out + *n, (size_t)(outlen - *n), __VA_ARGS__); \
            *n = (k_ < 0 || k_ >= outlen - *n) ? -1 : *n + k_; \
        } } while (0)

static void write_media(const hl_sdp *l, char *out, int outlen, int *n)
{
    APPEND("m=audio %d RTP/AVP", l->port);
    for (int i = 0; i < l->npts; i++)
        APPEND(" %d", l->pts[i]);
    APPEND("\r\n");
    for (int i = 0; i < l->npts; i++) {
        if (l->pts[i] == 0)
            APPEND("a=rtpmap:0 PCMU/8000\r\n");
        else if (l->pts[i] == 8)
            APPEND("a=rtpmap:8 PCMA/8000\r\n");
        else if (l->pts[i] == l->te_pt)
            APPEND("a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-15\r\n", l->te_pt, l->te_pt);
    }
    if (l->ptime > 0)
        APPEND("a=ptime:%d\r\n", l->ptime);
    APPEND("a=%s\r\n", dir_name(l->dir));
}

int hl_sdp_write(const hl_sdp *l, char *out, int outlen)
{
    if (!out || outlen <= 0)
        return -1;
    const char *ipv = l->ipv6 ? "IP6" : "IP4";
    int nn = 0, *n = &nn;
    APPEND("v=0\r\no=hotline %llu %llu IN %s %s\r\ns=hotline\r\nc=IN %s %s\r\nt=0 0\r\n",
           l->sess_id, l->sess_version, ipv, l->addr, ipv, l->addr);
    write_media(l, out, outlen, n);
    return nn;
}

hl_sdp_dir hl_sdp_dir_mirror(hl_sdp_dir remote)
{
    switch (remote) {
    case HL_SDP_SENDONLY: return HL_SDP_RECVONLY;
    case HL_SDP_RECVONLY: return HL_SDP_SENDONLY;
    case HL_SDP_INACTIVE: return HL_SDP_INACTIVE;
    default: return HL_SDP_SENDRECV;
    }
}

static bool has_pt(const hl_sdp *s, int pt)
{
    for (int i = 0; i < s->npts; i++)
        if (s->pts[i] == pt)
            return true;
    return false;
}

int hl_sdp_negotiate(const hl_sdp *offer, const hl_sdp *local, hl_sdp *answer)
{
    hl_sdp a = *local;
    a.npts = 0;
    a.te_pt = -1;
    if (offer->port == 0)
        return -1;
    for (int i = 0; i < offer->npts && a.npts == 0; i++) {
        int pt = offer->pts[i];
        if ((pt == 0 || pt == 8) && (local->npts == 0 || has_pt(local, pt)))
            a.pts[a.npts++] = pt;
    }
    if (a.npts == 0)
        return -1;
    if (offer->te_pt >= 0 && (local->npts == 0 || local->te_pt >= 0)) {
        a.te_pt = offer->te_pt;
        a.pts[a.npts++] = offer->te_pt;
    }
    a.ptime = offer->ptime ? offer->ptime : local->ptime;
    /* our own hold (sendonly/inactive) survives their offer; otherwise mirror theirs */
    hl_sdp_dir want = hl_sdp_dir_mirror(offer->dir);
    if (local->dir == HL_SDP_INACTIVE || want == HL_SDP_INACTIVE)
        a.dir = HL_SDP_INACTIVE;
    else if (local->dir == HL_SDP_SENDONLY)
        a.dir = want == HL_SDP_SENDONLY || want == HL_SDP_SENDRECV ? HL_SDP_SENDONLY : HL_SDP_INACTIVE;
    else if (local->dir == HL_SDP_RECVONLY)
        a.dir = want == HL_SDP_RECVONLY || want == HL_SDP_SENDRECV ? HL_SDP_RECVONLY : HL_SDP_INACTIVE;
    else
        a.dir = want;
    *answer = a;
    return 0;
}

int hl_sdp_answer(const hl_sdp *offer, const char *local_addr, int local_port, hl_sdp *answer)
{
    hl_sdp local;
    memset(&local, 0, sizeof local);
    snprintf(local.addr, sizeof local.addr, "%s", local_addr);
    local.ipv6 = strchr(local_addr, ':') != NULL;
    local.port = local_port;
    local.te_pt = -1;
    local.dir = HL_SDP_SENDRECV;
    local.sess_id = (unsigned long long)time(NULL);
    local.sess_version = 1;
    return hl_sdp_negotiate(offer, &local, answer);
}

void hl_sdp_offer(const char *local_addr, int local_port, hl_sdp *offer)
{
    memset(offer, 0, sizeof *offer);
    snprintf(offer->addr, sizeof offer->addr, "%s", local_addr);
    offer->ipv6 = strchr(local_addr, ':') != NULL;
    offer->port = local_port;
    offer->pts[0] = 0;
    offer->pts[1] = 8;
    offer->pts[2] = SDP_TE_DEFAULT_PT;
    offer->npts = 3;
    offer->te_pt = SDP_TE_DEFAULT_PT;
    offer->ptime = 20;
    offer->dir = HL_SDP_SENDRECV;
    offer->sess_id = (unsigned long long)time(NULL);
    offer->sess_version = 1;
}

bool hl_sdp_same_media(const hl_sdp *a, const hl_sdp *b)
{
    if (strcmp(a->addr, b->addr) != 0 || a->port != b->port || a->npts != b->npts ||
        a->te_pt != b->te_pt || a->ptime != b->ptime || a->dir != b->dir)
        return false;
    return memcmp(a->pts, b->pts, sizeof a->pts[0] * (size_t)a->npts) == 0;
}
