/* test_g711.c — G.711 conversion against reference values of the ITU-T G.711 tables
 * (16-bit scaled: u-law peaks at 8031*4 = 32124, A-law at 4032*8 = 32256) and the code ->
 * linear -> code identity that bridging and recording rely on. */
#include "rtp/g711.h"
#include <stdio.h>

#include "unit.h"

TEST_IMPL(g711)
{
    const int U = HL_G711_PT_PCMU, A = HL_G711_PT_PCMA;
    /* u-law */
    CHECK(hl_g711_decode1(U, 0xFF) == 0, "ulaw 0xFF -> 0");
    CHECK(hl_g711_decode1(U, 0x7F) == 0, "ulaw 0x7F -> 0 (negative zero)");
    CHECK(hl_g711_decode1(U, 0x80) == 32124, "ulaw 0x80 -> 32124, got %d", hl_g711_decode1(U, 0x80));
    CHECK(hl_g711_decode1(U, 0x00) == -32124, "ulaw 0x00 -> -32124");
    CHECK(hl_g711_decode1(U, 0xFE) == 8, "ulaw 0xFE -> 8, got %d", hl_g711_decode1(U, 0xFE));
    CHECK(hl_g711_decode1(U, 0xF0) == 120, "ulaw 0xF0 -> 120, got %d", hl_g711_decode1(U, 0xF0));
    CHECK(hl_g711_encode1(U, 0) == 0xFF, "0 -> ulaw 0xFF");
    CHECK(hl_g711_encode1(U, 32767) == 0x80, "32767 -> ulaw 0x80");
    CHECK(hl_g711_encode1(U, -32768) == 0x00, "-32768 -> ulaw 0x00");
    CHECK(hl_g711_encode1(U, 8) == 0xFE, "8 -> ulaw 0xFE");
    CHECK(hl_g711_silence(U) == 0xFF, "ulaw silence");
    /* A-law (even bits inverted: 0xD5 is the smallest positive step) */
    CHECK(hl_g711_decode1(A, 0xD5) == 8, "alaw 0xD5 -> 8, got %d", hl_g711_decode1(A, 0xD5));
    CHECK(hl_g711_decode1(A, 0x55) == -8, "alaw 0x55 -> -8");
    CHECK(hl_g711_decode1(A, 0xAA) == 32256, "alaw 0xAA -> 32256, got %d", hl_g711_decode1(A, 0xAA));
    CHECK(hl_g711_decode1(A, 0x2A) == -32256, "alaw 0x2A -> -32256");
    CHECK(hl_g711_encode1(A, 0) == 0xD5, "0 -> alaw 0xD5");
    CHECK(hl_g711_encode1(A, 32767) == 0xAA, "32767 -> alaw 0xAA");
    CHECK(hl_g711_encode1(A, -32768) == 0x2A, "-32768 -> alaw 0x2A");
    CHECK(hl_g711_silence(A) == 0xD5, "alaw silence");
    /* the frame encoder's tables agree with the reference coder on every 16-bit sample */
    int umis = 0, amis = 0;
    for (int v = -32768; v <= 32767; v++) {
        int16_t x = (int16_t)v;
        uint8_t u, a;
        hl_g711_encode(U, &x, &u, 1);
        hl_g711_encode(A, &x, &a, 1);
        umis += u != hl_g711_encode1(U, x);
        amis += a != hl_g711_encode1(A, x);
    }
    CHECK(umis == 0, "table u-law encode differs on %d samples", umis);
    CHECK(amis == 0, "table A-law encode differs on %d samples", amis);
    /* identity after the first encode: code -> linear -> code */
    int bad_u = 0, bad_a = 0;
    for (int c = 0; c < 256; c++) {
        if (c != 0x7F && hl_g711_encode1(U, hl_g711_decode1(U, (uint8_t)c)) != c)
            bad_u++;
        if (hl_g711_encode1(A, hl_g711_decode1(A, (uint8_t)c)) != c)
            bad_a++;
    }
    CHECK(bad_u == 0, "ulaw round trip: %d codes differ", bad_u);
    CHECK(bad_a == 0, "alaw round trip: %d codes differ", bad_a);
    /* monotonic encoding over the whole linear range */
    int prev = hl_g711_decode1(U, hl_g711_encode1(U, -32768)), nonmono = 0;
    for (int v = -32768; v <= 32767; v += 7) {
        int d = hl_g711_decode1(U, hl_g711_encode1(U, v));
        if (d < prev)
            nonmono++;
        prev = d;
    }
    CHECK(nonmono == 0, "ulaw not monotonic in %d places", nonmono);
    /* frame helpers equal the per-sample ones */
    int16_t lin[160], back[160];
    uint8_t enc[160];
    for (int i = 0; i < 160; i++)
        lin[i] = (int16_t)(i * 409 - 32000);
    hl_g711_encode(A, lin, enc, 160);
    hl_g711_decode(A, enc, back, 160);
    int diff = 0;
    for (int i = 0; i < 160; i++)
        diff += enc[i] != hl_g711_encode1(A, lin[i]) || back[i] != hl_g711_decode1(A, enc[i]);
    CHECK(diff == 0, "frame helpers differ in %d samples", diff);
    return 0;
}
