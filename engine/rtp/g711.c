/* g711.c — G.711 frame conversion over spandsp (see g711.h).
 *
 * Frame encoding goes through tables built once from spandsp's coders: every endpoint
 * encodes a frame per tick, and a table costs one load per sample instead of a branchy
 * segment search.  Both coders ignore the two low bits of a magnitude (u-law codes 14 bits,
 * A-law 13), so per sign a table indexed by magnitude >> 2 is exact — with the magnitude
 * each coder uses for negative samples: -s for u-law, -s-1 for A-law (test_g711 checks all
 * 65536 inputs).  The tables are written once under pthread_once and only read afterwards. */
#include "rtp/g711.h"
#include <pthread.h>
#include <stdbool.h>
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>

uint8_t hl_g711_encode1(int pt, int16_t sample)
{
    return pt == HL_G711_PT_PCMA ? linear_to_alaw(sample) : linear_to_ulaw(sample);
}

int16_t hl_g711_decode1(int pt, uint8_t code)
{
    return pt == HL_G711_PT_PCMA ? alaw_to_linear(code) : ulaw_to_linear(code);
}

#define ENC_TABLE ((1 << 13) + 1)  /* magnitudes 0..32768, >> 2 */

typedef struct enc_tables {
    uint8_t ulaw[2][ENC_TABLE];     /* [negative][magnitude >> 2] */
    uint8_t alaw[2][ENC_TABLE];
} enc_tables;

static enc_tables enc;
static pthread_once_t enc_once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    for (int i = 0; i < ENC_TABLE; i++) {
        enc.ulaw[0][i] = linear_to_ulaw(4 * i);
        enc.ulaw[1][i] = linear_to_ulaw(-(4 * i + 1));  /* any magnitude of the group */
        enc.alaw[0][i] = linear_to_alaw(4 * i);
        enc.alaw[1][i] = linear_to_alaw(-(4 * i) - 1);
    }
}

void hl_g711_encode(int pt, const int16_t *in, uint8_t *out, size_t n)
{
    pthread_once(&enc_once, build_tables);
    if (pt == HL_G711_PT_PCMA) {
        for (size_t i = 0; i < n; i++) {
            int s = in[i], neg = s < 0;
            out[i] = enc.alaw[neg][(neg ? -s - 1 : s) >> 2];
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            int s = in[i], neg = s < 0;
            out[i] = enc.ulaw[neg][(neg ? -s : s) >> 2];
        }
    }
}

void hl_g711_decode(int pt, const uint8_t *in, int16_t *out, size_t n)
{
    if (pt == HL_G711_PT_PCMA)
        for (size_t i = 0; i < n; i++)
            out[i] = alaw_to_linear(in[i]);
    else
        for (size_t i = 0; i < n; i++)
            out[i] = ulaw_to_linear(in[i]);
}

uint8_t hl_g711_silence(int pt)
{
    return hl_g711_encode1(pt, 0);
}
