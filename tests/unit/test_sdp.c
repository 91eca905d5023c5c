/* test_sdp.c — unit tests of engine/sip/sdp.c: parsing (codecs, telephone-event, ptime,
 * directions, session vs media c=), refusal of malformed SDP, answer selection, and
 * write + re-parse round trips. */
#include "sip/sdp.h"
#include <stdio.h>
#include <string.h>

#include "unit.h"

static int parse(const char *s, hl_sdp *out, char *err)
{
    return hl_sdp_parse(s, (int)strlen(s), out, err, 128);
}

static const char *OFFER =
    "v=0\r\n"
    "o=alice 2890844526 2890844527 IN IP4 10.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 10.0.0.1\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 8 0 96\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:96 telephone-event/8000\r\n"
    "a=fmtp:96 0-15\r\n"
    "a=ptime:30\r\n";

static void test_parse_basic(void)
{
    hl_sdp s;
    char err[128];
    CHECK(parse(OFFER, &s, err) == 0);
    CHECK(strcmp(s.addr, "10.0.0.1") == 0);
    CHECK(s.port == 49170);
    CHECK(s.npts == 3 && s.pts[0] == 8 && s.pts[1] == 0 && s.pts[2] == 96);
    CHECK(s.te_pt == 96);
    CHECK(s.ptime == 30);
    CHECK(s.dir == HL_SDP_SENDRECV);
    CHECK(!s.ipv6);
    CHECK(s.sess_id == 2890844526ULL && s.sess_version == 2890844527ULL);
}

static void test_directions(void)
{
    const char *dirs[] = { "sendonly", "recvonly", "inactive", "sendrecv" };
    hl_sdp_dir want[] = { HL_SDP_SENDONLY, HL_SDP_RECVONLY, HL_SDP_INACTIVE, HL_SDP_SENDRECV };
    for (int i = 0; i < 4; i++) {
        char buf[512];
        hl_sdp s;
        char err[128];
        snprintf(buf, sizeof buf, "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nc=IN IP4 1.2.3.4\nt=0 0\n"
                                  "m=audio 4000 RTP/AVP 0\na=%s\n", dirs[i]);
        CHECK(parse(buf, &s, err) == 0 && s.dir == want[i]);
        /* session-level attribute, media-level wins over it */
        snprintf(buf, sizeof buf, "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nc=IN IP4 1.2.3.4\nt=0 0\n"
                                  "a=%s\nm=audio 4000 RTP/AVP 0\n", dirs[i]);
        CHECK(parse(buf, &s, err) == 0 && s.dir == want[i]);
    }
    hl_sdp s;
    char err[128];
    CHECK(parse("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nc=IN IP4 1.2.3.4\nt=0 0\na=inactive\n"
                "m=audio 4000 RTP/AVP 0\na=sendonly\n", &s, err) == 0 && s.dir == HL_SDP_SENDONLY);
    CHECK(hl_sdp_dir_mirror(HL_SDP_SENDONLY) == HL_SDP_RECVONLY);
    CHECK(hl_sdp_dir_mirror(HL_SDP_INACTIVE) == HL_SDP_INACTIVE);
}

static void test_connection(void)
{
    hl_sdp s;
    char err[128];
    /* media-level c= wins */
    CHECK(parse("v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nc=IN IP4 1.1.1.1\r\nt=0 0\r\n"
                "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 2.2.2.2\r\n", &s, err) == 0);
    CHECK(strcmp(s.addr, "2.2.2.2") == 0);
    /* only media-level */
    CHECK(parse("v=0\no=- 1 1 IN IP4 1.1.1.1\ns=-\nt=0 0\nm=audio 4000 RTP/AVP 0\n"
                "c=IN IP6 ::1\n", &s, err) == 0);
    CHECK(strcmp(s.addr, "::1") == 0 && s.ipv6);
    /* second audio stream and video ignored */
    CHECK(parse("v=0\no=- 1 1 IN IP4 1.1.1.1\ns=-\nc=IN IP4 1.1.1.1\nt=0 0\n"
                "m=video 5000 RTP/AVP 31\nm=audio 4000 RTP/AVP 8\nm=audio 6000 RTP/AVP 0\n",
                &s, err) == 0);
    CHECK(s.port == 4000 && s.npts == 1 && s.pts[0] == 8);
    /* port 0: rejected stream parses, cannot be answered */
    CHECK(parse("v=0\no=- 1 1 IN IP4 1.1.1.1\ns=-\nc=IN IP4 1.1.1.1\nt=0 0\n"
                "m=audio 0 RTP/AVP 0\n", &s, err) == 0 && s.port == 0);
    hl_sdp a;
    CHECK(hl_sdp_answer(&s, "127.0.0.1", 4000, &a) < 0);
}

static void test_rejects(void)
{
    const char *bad[] = {
        "",
        "hello",
        "o=- 1 1 IN IP4 1.1.1.1\nv=0\n",                                  /* v= not first */
        "v=1\no=- 1 1 IN IP4 1.1.1.1\nc=IN IP4 1.1.1.1\nm=audio 4000 RTP/AVP 0\n",
        "v=0\nc=IN IP4 1.1.1.1\nm=audio 4000 RTP/AVP 0\n",               /* no o= */
        "v=0\no=- 1 1 IN IP4 1.1.1.1\nm=audio 4000 RTP/AVP 0\n",         /* no c= */
        "v=0\no=- 1 1 IN IP4 1.1.1.1\nc=IN IP4 1.1.1.1\n",               /* no m=audio */
        "v=0\no=- 1 1 IN IP4 1.1.1.1\nc=IN IP4 1.1.1.1\nm=audio 70000 RTP/AVP 0\n",
        "v=0\no=- 1 1 IN IP4 1.1.1.1\nc=IN IP4 1.1.1.1\nm=audio 4000 RTP/AVP 200\n",
        "v=0\no=- 1 1 IN IP4 1.1.1.1\nc=IN IP4 1.1.1.1\nm=audio 4000 RTP/AVP\n",
        "v=0\no=- 1 1 IN IP4 1.1.1.1\nc=IN IP4 1.1.1.1\nm=audio x RTP/AVP 0\n",
        "v=0\no=- 1 1 IN IP4 1.1.1.1\nc=IN IP9 1.1.1.1\nm=audio 4000 RTP/AVP 0\n",
        "v=0\no=- 1 1 IN IP4 1.1.1.1\nc=IN IP4 1.1\x01.1.1\nm=audio 4000 RTP/AVP 0\n",
        "v=0\no=- 1 1 IN IP4 1.1.1.1\nc=IN IP4 1.1.1.1\nbogus line\nm=audio 4000 RTP/AVP 0\n",
        "v=0\no=- x 1 IN IP4 1.1.1.1\nc=IN IP4 1.1.1.1\nm=audio 4000 RTP/AVP 0\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hl_sdp s;
        char err[128] = "";
        int rc = parse(bad[i], &s, err);
        CHECK(rc == -1 && err[0]);
        if (rc != -1)
            printf("  case %zu parsed\n", i);
    }
    /* an embedded NUL inside len */
    hl_sdp s;
    char err[128];
    const char nul[] = "v=0\no=- 1 1 IN IP4 1.1.1.1\nc=IN IP4 1.1.1.1\nm=audio 4000 RTP/AVP 0\0\n";
    CHECK(hl_sdp_parse(nul, (int)sizeof nul - 1, &s, err, sizeof err) == -1);
    /* a line over the limit */
    char big[3000];
    memset(big, 'a', sizeof big);
    memcpy(big, "v=0\na=", 6);
    CHECK(hl_sdp_parse(big, (int)sizeof big, &s, err, sizeof err) == -1);
    /* len shorter than the text: only len bytes are read */
    CHECK(hl_sdp_parse(OFFER, 20, &s, err, sizeof err) == -1);
}

static void test_answer(void)
{
    hl_sdp off, ans;
    char err[128];
    CHECK(parse(OFFER, &off, err) == 0);
    CHECK(hl_sdp_answer(&off, "127.0.0.1", 20000, &ans) == 0);
    CHECK(ans.npts == 2 && ans.pts[0] == 8 && ans.pts[1] == 96 && ans.te_pt == 96);
    CHECK(ans.port == 20000 && strcmp(ans.addr, "127.0.0.1") == 0);
    CHECK(ans.dir == HL_SDP_SENDRECV);
    /* PCMU first */
    CHECK(parse("v=0\no=- 1 1 IN IP4 1.1.1.1\nc=IN IP4 1.1.1.1\nm=audio 4000 RTP/AVP 18 0 8\n"
                "a=sendonly\n", &off, err) == 0);
    CHECK(hl_sdp_answer(&off, "127.0.0.1", 20000, &ans) == 0);
    CHECK(ans.npts == 1 && ans.pts[0] == 0 && ans.te_pt == -1 && ans.dir == HL_SDP_RECVONLY);
    /* nothing common */
    CHECK(parse("v=0\no=- 1 1 IN IP4 1.1.1.1\nc=IN IP4 1.1.1.1\nm=audio 4000 RTP/AVP 18 9\n",
                &off, err) == 0);
    CHECK(hl_sdp_answer(&off, "127.0.0.1", 20000, &ans) == -1);
    /* negotiate against a local endpoint that only does PCMA, while we hold */
    hl_sdp local;
    hl_sdp_offer("127.0.0.1", 30000, &local);
    local.npts = 1;
    local.pts[0] = 8;
    local.te_pt = -1;
    local.dir = HL_SDP_SENDONLY;
    CHECK(parse(OFFER, &off, err) == 0);
    off.pts[0] = 0; off.pts[1] = 8; /* offer order PCMU, PCMA */
    CHECK(hl_sdp_negotiate(&off, &local, &ans) == 0);
    CHECK(ans.npts == 1 && ans.pts[0] == 8 && ans.te_pt == -1 && ans.dir == HL_SDP_SENDONLY);
    off.dir = HL_SDP_INACTIVE;
    CHECK(hl_sdp_negotiate(&off, &local, &ans) == 0 && ans.dir == HL_SDP_INACTIVE);
}

static void test_roundtrip(void)
{
    hl_sdp o, back;
    char buf[1024], err[128];
    hl_sdp_offer("192.168.1.20", 30000, &o);
    o.dir = HL_SDP_SENDONLY;
    int n = hl_sdp_write(&o, buf, sizeof buf);
    CHECK(n > 0);
    CHECK(hl_sdp_parse(buf, n, &back, err, sizeof err) == 0);
    CHECK(hl_sdp_same_media(&o, &back));
    CHECK(back.sess_id == o.sess_id && back.sess_version == o.sess_version);
    CHECK(back.te_pt == 101 && back.ptime == 20 && back.dir == HL_SDP_SENDONLY);
    /* IPv6 */
    hl_sdp_offer("::1", 30002, &o);
    n = hl_sdp_write(&o, buf, sizeof buf);
    CHECK(n > 0 && strstr(buf, "c=IN IP6 ::1") != NULL);
    CHECK(hl_sdp_parse(buf, n, &back, err, sizeof err) == 0 && back.ipv6);
    /* too small a buffer */
    CHECK(hl_sdp_write(&o, buf, 40) == -1);
}

TEST_IMPL(sdp_parse_basic) { test_parse_basic(); return 0; }
TEST_IMPL(sdp_directions)  { test_directions();  return 0; }
TEST_IMPL(sdp_connection)  { test_connection();  return 0; }
TEST_IMPL(sdp_rejects)     { test_rejects();     return 0; }
TEST_IMPL(sdp_answer)      { test_answer();      return 0; }
TEST_IMPL(sdp_roundtrip)   { test_roundtrip();   return 0; }
