/* wav.c — RIFF/WAVE reading, writing and repair (see wav.h).
 *
 * Every size read from a file is checked against the bytes really there: a data chunk that
 * claims more than the file holds (an unfinished recording, 0xFFFFFFFF from a streaming
 * writer) is cut to what is present; chunk walks stop at the end of the buffer. */
#include "media/wav.h"
#include "rtp/g711.h"
#include "core/files.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static int fail(char *err, int errlen, const char *msg)
{
    if (err && errlen > 0)
        snprintf(err, errlen, "%s", msg);
    return -1;
}

static int parse_fmt(const uint8_t *p, size_t size, hl_wav_info *info, char *err, int errlen)
{
    if (size < 16)
        return fail(err, errlen, "fmt chunk too short");
    info->format = rd16(p);
    info->channels = rd16(p + 2);
    info->rate = (int)rd32(p + 4);
    info->block_align = rd16(p + 12);
    info->bits = rd16(p + 14);
    if (info->format == HL_WAV_FMT_EXT) {
        if (size < 40)
            return fail(err, errlen, "extensible fmt chunk too short");
        info->format = rd16(p + 24);        /* first two bytes of the sub-format GUID */
    }
    if (info->channels < 1 || info->channels > 2)
        return fail(err, errlen, "only mono or stereo WAV is supported");
    if (info->rate != HL_WAV_RATE)
        return fail(err, errlen, "sample rate is not 8000 Hz");
    int want_bits = info->format == HL_WAV_FMT_PCM ? 16 :
                    (info->format == HL_WAV_FMT_ULAW || info->format == HL_WAV_FMT_ALAW) ? 8 : 0;
    if (!want_bits)
        return fail(err, errlen, "WAV encoding is not PCM16, u-law or A-law");
    if (info->bits != want_bits)
        return fail(err, errlen, "unsupported bits per sample");
    /* Derive block_align rather than trust it. */
    info->block_align = info->channels * want_bits / 8;
    return 0;
}

int hl_wav_parse(const uint8_t *buf, size_t len, hl_wav_info *info, char *err, int errlen)
{
    memset(info, 0, sizeof *info);
    if (!buf || len < 12 || memcmp(buf, "RIFF", 4) || memcmp(buf + 8, "WAVE", 4))
        return fail(err, errlen, "not a RIFF/WAVE file");
    bool have_fmt = false;
    size_t off = 12;
    while (off + 8 <= len) {
        const uint8_t *ck = buf + off;
        size_t size = rd32(ck + 4);
        size_t avail = len - off - 8;
        if (!memcmp(ck, "fmt ", 4)) {
            if (size > avail)
                return fail(err, errlen, "fmt chunk truncated");
            if (parse_fmt(ck + 8, size, info, err, errlen))
                return -1;
            have_fmt = true;
        } else if (!memcmp(ck, "data", 4)) {
            if (!have_fmt)
                return fail(err, errlen, "data chunk before fmt chunk");
            size_t n = size < avail ? size : avail;  /* unfinished files claim too much */
            info->data_off = off + 8;
            info->data_len = n - n % (size_t)info->block_align;
            return 0;
        }
        if (size > avail)
            break;
        off += 8 + size + (size & 1);                 /* chunks are padded to even sizes */
    }
    return fail(err, errlen, have_fmt ? "no data chunk" : "no fmt chunk");
}

int hl_wav_decode(const uint8_t *buf, size_t len, int16_t **samples, int *n,
                  char *err, int errlen)
{
    hl_wav_info wi;
    *samples = NULL;
    *n = 0;
    if (hl_wav_parse(buf, len, &wi, err, errlen))
        return -1;
    size_t frames = wi.data_len / (size_t)wi.block_align;
    int16_t *out = malloc((frames ? frames : 1) * sizeof *out);
    if (!out)
        return fail(err, errlen, "out of memory");
    const uint8_t *d = buf + wi.data_off;
    int pt = wi.format == HL_WAV_FMT_ALAW ? HL_G711_PT_PCMA : HL_G711_PT_PCMU;
    for (size_t i = 0; i < frames; i++) {
        int sum = 0;
        for (int c = 0; c < wi.channels; c++) {
            if (wi.format == HL_WAV_FMT_PCM)
                sum += (int16_t)rd16(d + (i * wi.channels + c) * 2);
            else
                sum += hl_g711_decode1(pt, d[i * wi.channels + c]);
        }
        out[i] = (int16_t)(sum / wi.channels);
    }
    *samples = out;
    *n = (int)frames;
    return 0;
}

int hl_wav_load(const char *path, int16_t **samples, int *n, char *err, int errlen)
{
    *samples = NULL;
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, errlen, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || st.st_size > (off_t)HL_WAV_MAX_BYTES) {
        fclose(f);
        return fail(err, errlen, "not a regular file of acceptable size");
    }
    size_t len = (size_t)st.st_size;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        fclose(f);
        return fail(err, errlen, "out of memory");
    }
    size_t got = fread(buf, 1, len, f);
    fclose(f);
    int rc = hl_wav_decode(buf, got, samples, n, err, errlen);
    free(buf);
    return rc;
}

static void make_header(uint8_t h[HL_WAV_HEADER_BYTES], int channels, uint32_t data_bytes)
{
    memcpy(h, "RIFF", 4);
    wr32(h + 4, 36 + data_bytes);
    memcpy(h + 8, "WAVEfmt ", 8);
    wr32(h + 16, 16);
    wr16(h + 20, HL_WAV_FMT_PCM);
    wr16(h + 22, (uint16_t)channels);
    wr32(h + 24, HL_WAV_RATE);
    wr32(h + 28, HL_WAV_RATE * 2u * channels);
    wr16(h + 32, (uint16_t)(2 * channels));
    wr16(h + 34, 16);
    memcpy(h + 36, "data", 4);
    wr32(h + 40, data_bytes);
}

int hl_wav_writer_open(hl_wav_writer *w, const char *path, int channels, char *err, int errlen)
{
    memset(w, 0, sizeof *w);
    if (channels < 1 || channels > 2)
        return fail(err, errlen, "recordings are mono or stereo");
    /* a recording is the caller's: HL_PRIVATE_FILE_MODE whatever the umask or a file there */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, HL_PRIVATE_FILE_MODE);
    if (fd < 0 || fchmod(fd, HL_PRIVATE_FILE_MODE) != 0 || !(w->f = fdopen(fd, "wb"))) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return fail(err, errlen, strerror(e));
    }
    w->channels = channels;
    uint8_t h[HL_WAV_HEADER_BYTES];
    make_header(h, channels, 0);
    if (fwrite(h, 1, sizeof h, w->f) != sizeof h) {
        fclose(w->f);
        w->f = NULL;
        return fail(err, errlen, "cannot write WAV header");
    }
    return 0;
}

int hl_wav_writer_write(hl_wav_writer *w, const int16_t *frames, int nframes)
{
    if (!w->f || nframes <= 0)
        return w->f ? 0 : -1;
    uint8_t buf[512];
    size_t total = (size_t)nframes * w->channels, done = 0;
    while (done < total) {
        size_t k = 0;
        for (; k < sizeof buf / 2 && done < total; k++, done++)
            wr16(buf + 2 * k, (uint16_t)frames[done]);
        if (fwrite(buf, 2, k, w->f) != k)
            return -1;
    }
    w->data_bytes += (uint32_t)(total * 2);
    return 0;
}

int hl_wav_writer_sync(hl_wav_writer *w)
{
    if (!w->f)
        return -1;
    uint8_t h[HL_WAV_HEADER_BYTES];
    make_header(h, w->channels, w->data_bytes);
    long pos = ftell(w->f);
    int rc = 0;
    if (fseek(w->f, 0, SEEK_SET) || fwrite(h, 1, sizeof h, w->f) != sizeof h)
        rc = -1;
    if (pos >= 0 && fseek(w->f, pos, SEEK_SET))
        rc = -1;
    if (fflush(w->f))
        rc = -1;
    return rc;
}

int hl_wav_writer_close(hl_wav_writer *w)
{
    if (!w->f)
        return -1;
    int rc = hl_wav_writer_sync(w);
    if (fclose(w->f))
        rc = -1;
    w->f = NULL;
    return rc;
}

/* Reads the header area and finds where the data chunk's header starts. */
static long find_data_chunk(FILE *f, uint8_t *buf, size_t cap, size_t *got, int *block_align)
{
    *got = fread(buf, 1, cap, f);
    hl_wav_info wi;
    if (hl_wav_parse(buf, *got, &wi, NULL, 0))
        return -1;
    *block_align = wi.block_align;
    return (long)wi.data_off - 8;
}

int hl_wav_repair(const char *path)
{
    FILE *f = fopen(path, "r+b");
    if (!f)
        return -1;
    uint8_t buf[4096];
    size_t got;
    int align = 1;
    struct stat st;
    long data_hdr = find_data_chunk(f, buf, sizeof buf, &got, &align);
    if (data_hdr < 0 || fstat(fileno(f), &st) || st.st_size > (off_t)UINT32_MAX) {
        fclose(f);
        return -1;
    }
    uint64_t data_len = (uint64_t)st.st_size - (uint64_t)data_hdr - 8;
    data_len -= data_len % (uint64_t)align;
    uint32_t riff = (uint32_t)(data_hdr + 8 + data_len - 8);
    int rc = 0;
    if (rd32(buf + 4) != riff || rd32(buf + data_hdr + 4) != (uint32_t)data_len) {
        uint8_t v[4];
        wr32(v, riff);
        rc = fseek(f, 4, SEEK_SET) || fwrite(v, 1, 4, f) != 4 ? -1 : 1;
        wr32(v, (uint32_t)data_len);
        if (rc == 1 && (fseek(f, data_hdr + 4, SEEK_SET) || fwrite(v, 1, 4, f) != 4))
            rc = -1;
    }
    if (fflush(f))
        rc = -1;
    /* A half-written last sample frame would shift channels: cut it. */
    if (rc >= 0 && (uint64_t)st.st_size != (uint64_t)data_hdr + 8 + data_len) {
        if (ftruncate(fileno(f), (off_t)(data_hdr + 8 + data_len)))
            rc = -1;
        else
            rc = 1;
    }
    fclose(f);
    return rc;
}
