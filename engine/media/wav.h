/* wav.h — WAV files: a careful RIFF reader (never trusts a size field), a writer for
 * recordings whose header is kept current while it records, and repair of files left
 * unfinished by a crash.
 *
 * Prompts may be PCM16, G.711 u-law (format 7) or A-law (format 6), 8 kHz, mono (stereo is
 * mixed down); they are decoded to 8 kHz linear PCM.  Recordings are PCM16 8 kHz, mono or
 * stereo. */
#ifndef HL_WAV_H
#define HL_WAV_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Largest WAV file we load (a prompt): about 70 minutes of 8 kHz PCM16. */
#define HL_WAV_MAX_BYTES (64u * 1024 * 1024)
#define HL_WAV_HEADER_BYTES 44      /* what the writer produces: RIFF, fmt (16), data */
#define HL_WAV_RATE 8000

enum { HL_WAV_FMT_PCM = 1, HL_WAV_FMT_ALAW = 6, HL_WAV_FMT_ULAW = 7, HL_WAV_FMT_EXT = 0xFFFE };

typedef struct hl_wav_info {
    int    format;        /* HL_WAV_FMT_PCM, _ALAW or _ULAW (extensible resolved) */
    int    channels, rate, bits, block_align;
    size_t data_off;      /* offset of the first sample byte in the buffer */
    size_t data_len;      /* bytes of samples actually present (whole frames) */
} hl_wav_info;

/* Parses a WAV image held in memory.  0, or -1 with the reason in err. */
int hl_wav_parse(const uint8_t *buf, size_t len, hl_wav_info *info, char *err, int errlen);
/* Parses and decodes to 8 kHz mono linear PCM (malloc'd; *n samples, may be 0). */
int hl_wav_decode(const uint8_t *buf, size_t len, int16_t **samples, int *n,
                  char *err, int errlen);
/* Reads a file and decodes it as above. */
int hl_wav_load(const char *path, int16_t **samples, int *n, char *err, int errlen);

typedef struct hl_wav_writer {
    FILE    *f;
    int      channels;
    uint32_t data_bytes;
} hl_wav_writer;

int  hl_wav_writer_open(hl_wav_writer *w, const char *path, int channels, char *err, int errlen);
/* frames: interleaved samples, nframes per channel.  0 or -1 (disk error). */
int  hl_wav_writer_write(hl_wav_writer *w, const int16_t *frames, int nframes);
/* Writes the current sizes into the header and flushes, so a crash loses at most what came
 * since.  0 or -1. */
int  hl_wav_writer_sync(hl_wav_writer *w);
int  hl_wav_writer_close(hl_wav_writer *w);

/* Fixes the RIFF and data sizes of a file from its length.  1 repaired, 0 already right,
 * -1 not a WAV file we can repair. */
int  hl_wav_repair(const char *path);

#endif
