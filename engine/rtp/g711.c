/* g711.c — G.711 frame conversion over spandsp (see g711.h). */
#include "rtp/g711.h"
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

void hl_g711_encode(int pt, const int16_t *in, uint8_t *out, size_t n)
{
    if (pt == HL_G711_PT_PCMA)
        for (size_t i = 0; i < n; i++)
            out[i] = linear_to_alaw(in[i]);
    else
        for (size_t i = 0; i < n; i++)
            out[i] = linear_to_ulaw(in[i]);
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
