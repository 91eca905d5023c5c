// sources: engine/media/wav.c engine/rtp/g711.c
/* fuzz_wav.c — libFuzzer target: the WAV (RIFF) reader on a memory buffer.
 *
 * The input is one file image, copied to a buffer of exactly its size so ASan sees any read
 * past the end.  hl_wav_parse must either fail with a terminated message or describe sample
 * bytes inside the buffer (whole frames, a supported format, mono or stereo, 8 kHz); then
 * hl_wav_decode must agree with it on the number of samples.  No crash, leak or undefined
 * behaviour (ASan, UBSan). */
#include "media/wav.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ERR_LEN 128     /* as the prompt loader gives */

static void check_info(const hl_wav_info *wi, size_t len)
{
    if (wi->channels < 1 || wi->channels > 2 || wi->rate != HL_WAV_RATE)
        abort();
    if (wi->format != HL_WAV_FMT_PCM && wi->format != HL_WAV_FMT_ULAW &&
        wi->format != HL_WAV_FMT_ALAW)
        abort();
    if (wi->block_align != wi->channels * (wi->format == HL_WAV_FMT_PCM ? 2 : 1))
        abort();
    if (wi->data_off > len || wi->data_len > len - wi->data_off)
        abort();
    if (wi->data_len % (size_t)wi->block_align)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    char err[ERR_LEN];
    hl_wav_info wi;
    memset(err, 'x', sizeof err);
    int rc = hl_wav_parse(buf, size, &wi, err, sizeof err);
    if (rc == 0)
        check_info(&wi, size);
    else if (rc != -1 || !memchr(err, 0, sizeof err))
        abort();
    int16_t *samples = NULL;
    int n = -1;
    int rc2 = hl_wav_decode(buf, size, &samples, &n, err, sizeof err);
    if (rc2 != rc)
        abort();
    if (rc2 == 0 && (n < 0 || (size_t)n != wi.data_len / (size_t)wi.block_align || !samples))
        abort();
    if (rc2 != 0 && (samples || n != 0))
        abort();
    free(samples);
    free(buf);
    return 0;
}
