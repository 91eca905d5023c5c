/* g711.h — G.711 PCMU/PCMA conversion of 8 kHz frames, on spandsp's reference coders.
 *
 * Thin loops over spandsp's inline linear_to_ulaw / ulaw_to_linear / linear_to_alaw /
 * alaw_to_linear (ITU-T G.711), so every part of the engine codes audio the same way. */
#ifndef HL_G711_H
#define HL_G711_H
#include <stddef.h>
#include <stdint.h>

/* RTP payload types of the two codecs (RFC 3551); the same numbers as hl_codec. */
#define HL_G711_PT_PCMU 0
#define HL_G711_PT_PCMA 8

uint8_t hl_g711_encode1(int pt, int16_t sample);
int16_t hl_g711_decode1(int pt, uint8_t code);
void    hl_g711_encode(int pt, const int16_t *in, uint8_t *out, size_t n);
void    hl_g711_decode(int pt, const uint8_t *in, int16_t *out, size_t n);
/* The code of digital silence for the codec (0xFF for PCMU, 0xD5 for PCMA). */
uint8_t hl_g711_silence(int pt);

#endif
