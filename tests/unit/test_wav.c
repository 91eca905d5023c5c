/* test_wav.c — the RIFF reader on good, odd and hostile files (G.711 and PCM16, extra
 * chunks, odd chunk sizes, sizes that lie, truncation at every byte), the writer with its
 * periodic header sync, and repair of unfinished recordings. */
#include "media/wav.h"
#include "media/media.h"
#include "rtp/g711.h"
#include "core/files.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

static void w16(uint8_t *p, int v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void w32(uint8_t *p, uint32_t v) { w16(p, (int)(v & 0xffff)); w16(p + 2, (int)(v >> 16)); }

/* Builds a WAV image: header, optional LIST chunk of odd size, data. */
static size_t build(uint8_t *b, int fmt, int ch, int rate, int bits, const void *data,
                    uint32_t dlen, uint32_t claimed, bool list)
{
    size_t o = 12;
    memcpy(b, "RIFF", 4);
    memcpy(b + 8, "WAVE", 4);
    memcpy(b + o, "fmt ", 4); w32(b + o + 4, 16);
    w16(b + o + 8, fmt); w16(b + o + 10, ch); w32(b + o + 12, (uint32_t)rate);
    w32(b + o + 16, (uint32_t)(rate * ch * bits / 8)); w16(b + o + 20, ch * bits / 8); w16(b + o + 22, bits);
    o += 24;
    if (list) {
        memcpy(b + o, "LIST", 4); w32(b + o + 4, 5); memcpy(b + o + 8, "abcde", 5); b[o + 13] = 0;
        o += 14;                            /* 5 bytes + 1 pad */
    }
    memcpy(b + o, "data", 4); w32(b + o + 4, claimed);
    memcpy(b + o + 8, data, dlen);
    o += 8 + dlen;
    w32(b + 4, (uint32_t)(o - 8));
    return o;
}

/* What hl_media_repair_recordings reported (issue 7: the policy finishes its rows). */
typedef struct repaired_seen {
    char rel[300];
    int  ms, calls;
} repaired_seen;

static void on_repaired(void *arg, const char *rel, int ms)
{
    repaired_seen *s = arg;
    snprintf(s->rel, sizeof s->rel, "%s", rel);
    s->ms = ms;
    s->calls++;
}

TEST_IMPL(wav)
{
    static uint8_t buf[8192];
    int16_t pcm[100];
    for (int i = 0; i < 100; i++)
        pcm[i] = (int16_t)(i * 300 - 15000);
    uint8_t le[200];
    for (int i = 0; i < 100; i++)
        w16(le + 2 * i, pcm[i]);
    int16_t *s;
    int n;
    char err[128];

    size_t len = build(buf, 1, 1, 8000, 16, le, 200, 200, true);
    CHECK(hl_wav_decode(buf, len, &s, &n, err, sizeof err) == 0 && n == 100 && !memcmp(s, pcm, 200),
          "pcm16 with odd LIST chunk: %s", err);
    free(s);

    /* a data size that claims more than the file holds, and 0xFFFFFFFF */
    len = build(buf, 1, 1, 8000, 16, le, 200, 100000, false);
    CHECK(hl_wav_decode(buf, len, &s, &n, err, sizeof err) == 0 && n == 100, "oversized data clamps");
    free(s);
    len = build(buf, 1, 1, 8000, 16, le, 200, 0xFFFFFFFFu, false);
    CHECK(hl_wav_decode(buf, len, &s, &n, err, sizeof err) == 0 && n == 100, "0xFFFFFFFF data clamps");
    free(s);
    /* odd byte count: half a sample is dropped */
    len = build(buf, 1, 1, 8000, 16, le, 199, 199, false);
    CHECK(hl_wav_decode(buf, len, &s, &n, err, sizeof err) == 0 && n == 99, "half sample dropped, n=%d", n);
    free(s);

    /* u-law and A-law */
    uint8_t ul[100], al[100];
    hl_g711_encode(HL_G711_PT_PCMU, pcm, ul, 100);
    hl_g711_encode(HL_G711_PT_PCMA, pcm, al, 100);
    len = build(buf, 7, 1, 8000, 8, ul, 100, 100, false);
    CHECK(hl_wav_decode(buf, len, &s, &n, err, sizeof err) == 0 && n == 100 &&
          s[7] == hl_g711_decode1(HL_G711_PT_PCMU, ul[7]), "u-law wav: %s", err);
    free(s);
    len = build(buf, 6, 1, 8000, 8, al, 100, 100, false);
    CHECK(hl_wav_decode(buf, len, &s, &n, err, sizeof err) == 0 && n == 100 &&
          s[9] == hl_g711_decode1(HL_G711_PT_PCMA, al[9]), "A-law wav: %s", err);
    free(s);
    /* stereo is mixed down */
    int16_t st[4] = { 100, 300, -100, -300 };
    uint8_t stle[8];
    for (int i = 0; i < 4; i++)
        w16(stle + 2 * i, st[i]);
    len = build(buf, 1, 2, 8000, 16, stle, 8, 8, false);
    CHECK(hl_wav_decode(buf, len, &s, &n, err, sizeof err) == 0 && n == 2 && s[0] == 200 && s[1] == -200,
          "stereo mixdown");
    free(s);

    /* refused */
    len = build(buf, 1, 1, 16000, 16, le, 200, 200, false);
    CHECK(hl_wav_decode(buf, len, &s, &n, err, sizeof err) == -1 && strstr(err, "8000"), "16 kHz refused");
    len = build(buf, 3, 1, 8000, 32, le, 200, 200, false);
    CHECK(hl_wav_decode(buf, len, &s, &n, err, sizeof err) == -1, "float refused");
    len = build(buf, 1, 1, 8000, 8, le, 200, 200, false);
    CHECK(hl_wav_decode(buf, len, &s, &n, err, sizeof err) == -1, "8-bit PCM refused");
    len = build(buf, 1, 0, 8000, 16, le, 200, 200, false);
    CHECK(hl_wav_decode(buf, len, &s, &n, err, sizeof err) == -1, "0 channels refused");
    CHECK(hl_wav_decode((const uint8_t *)"RIFX....WAVE", 12, &s, &n, err, sizeof err) == -1, "RIFX refused");
    CHECK(hl_wav_decode(NULL, 0, &s, &n, err, sizeof err) == -1, "NULL refused");

    /* truncation at every length never crashes, and never reads beyond len */
    len = build(buf, 1, 1, 8000, 16, le, 200, 200, true);
    int ok = 0;
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, buf, cut);
        if (hl_wav_decode(copy, cut, &s, &n, err, sizeof err) == 0) {
            ok++;
            free(s);
        }
        free(copy);
    }
    CHECK(ok > 0 && ok < (int)len, "truncations: %d of %zu parse", ok, len);
    /* a chunk size that points far beyond the end */
    len = build(buf, 1, 1, 8000, 16, le, 200, 200, true);
    w32(buf + 12 + 24 + 4, 0xFFFFFFF0u);
    CHECK(hl_wav_decode(buf, len, &s, &n, err, sizeof err) == -1, "huge LIST chunk: no data found");

    /* writer + sync + close, then load */
    char path[] = "/tmp/hl_test_wav_XXXXXX";
    CHECK(mkdtemp(path) != NULL, "mkdtemp");
    char f1[300];
    snprintf(f1, sizeof f1, "%s/rec.wav", path);
    hl_wav_writer w;
    CHECK(hl_wav_writer_open(&w, f1, 1, err, sizeof err) == 0, "writer open: %s", err);
    CHECK(hl_wav_writer_write(&w, pcm, 100) == 0, "write");
    CHECK(hl_wav_writer_sync(&w) == 0, "sync");
    CHECK(hl_wav_load(f1, &s, &n, err, sizeof err) == 0 && n == 100 && !memcmp(s, pcm, 200),
          "synced file loads while open (n=%d)", n);
    free(s);
    CHECK(hl_wav_writer_write(&w, pcm, 50) == 0 && hl_wav_writer_close(&w) == 0, "close");
    CHECK(hl_wav_load(f1, &s, &n, err, sizeof err) == 0 && n == 150, "closed file has 150 samples");
    free(s);
    /* stereo writer */
    char f2[300];
    snprintf(f2, sizeof f2, "%s/st.wav", path);
    CHECK(hl_wav_writer_open(&w, f2, 2, err, sizeof err) == 0 && hl_wav_writer_write(&w, st, 2) == 0 &&
          hl_wav_writer_close(&w) == 0, "stereo writer");
    CHECK(hl_wav_load(f2, &s, &n, err, sizeof err) == 0 && n == 2, "stereo loads");
    free(s);

    /* repair: a recording "crashed" after writing samples without updating sizes */
    char f3[300];
    snprintf(f3, sizeof f3, "%s/crash.wav", path);
    CHECK(hl_wav_writer_open(&w, f3, 1, err, sizeof err) == 0, "open crash file");
    hl_wav_writer_write(&w, pcm, 100);
    fflush(w.f);
    FILE *raw = w.f;                        /* simulate the crash: no sync, no close */
    uint8_t odd = 1;
    fwrite(&odd, 1, 1, raw);                /* and half a sample at the end */
    fclose(raw);
    CHECK(hl_wav_repair(f3) == 1, "repair fixes it");
    CHECK(hl_wav_repair(f3) == 0, "second repair: nothing to do");
    CHECK(hl_wav_load(f3, &s, &n, err, sizeof err) == 0 && n == 100, "repaired loads 100 samples, n=%d", n);
    free(s);
    struct stat sb;
    CHECK(stat(f3, &sb) == 0 && sb.st_size == HL_WAV_HEADER_BYTES + 200, "odd byte cut");
    uint8_t hdr[44];
    raw = fopen(f3, "rb");
    CHECK(raw && fread(hdr, 1, 44, raw) == 44, "read header");
    if (raw)
        fclose(raw);
    CHECK(hdr[4] == 236 && hdr[40] == 200, "RIFF 236 / data 200 sizes");
    /* the folder walk */
    char sub[300], f4[400];
    snprintf(sub, sizeof sub, "%s/2026", path);
    mkdir(sub, 0700);
    snprintf(f4, sizeof f4, "%s/x.wav", sub);
    hl_wav_writer_open(&w, f4, 1, err, sizeof err);
    hl_wav_writer_write(&w, pcm, 10);
    fflush(w.f);
    fclose(w.f);
    char junk[300];
    snprintf(junk, sizeof junk, "%s/junk.wav", path);
    raw = fopen(junk, "wb");
    fputs("not a wav", raw);
    fclose(raw);
    repaired_seen seen = { "", -1, 0 };
    CHECK(hl_media_repair_recordings(path, on_repaired, &seen) == 1,
          "repair_recordings repaired one (in a sub-folder)");
    CHECK(seen.calls == 1 && !strcmp(seen.rel, "2026/x.wav") && seen.ms == 10 * 1000 / HL_WAV_RATE,
          "reported under the folder with its length: %s %d ms", seen.rel, seen.ms);
    CHECK(hl_media_repair_recordings("/nonexistent/dir", NULL, NULL) == 0, "missing dir: 0");
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", path);
    if (system(cmd)) {}

    return 0;
}

/* ---- recordings are private whatever the umask or what was there (issue 7) ---- */

static unsigned mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0xFFFF;
}

TEST_IMPL(wav_private)
{
    mode_t old_umask = umask(0);            /* the loosest umask: modes are set, not inherited */
    char root[] = "/tmp/hl_test_private_XXXXXX";
    CHECK(mkdtemp(root) != NULL, "mkdtemp");
    char path[400], dir[400], err[128];
    snprintf(path, sizeof path, "%s/rec/messages/2026/a.wav", root);
    hl_make_private_parents(path);
    snprintf(dir, sizeof dir, "%s/rec/messages/2026", root);
    CHECK(mode_of(dir) == HL_PRIVATE_DIR_MODE, "a new folder is %04o, not %04o", mode_of(dir),
          HL_PRIVATE_DIR_MODE);
    hl_wav_writer w;
    CHECK(hl_wav_writer_open(&w, path, 1, err, sizeof err) == 0 && hl_wav_writer_close(&w) == 0, "writer: %s", err);
    CHECK(mode_of(path) == HL_PRIVATE_FILE_MODE, "a new recording is %04o, not %04o", mode_of(path),
          HL_PRIVATE_FILE_MODE);
    /* a recording written over a world-readable file left there is private too */
    chmod(path, 0666);
    CHECK(hl_wav_writer_open(&w, path, 1, err, sizeof err) == 0 && hl_wav_writer_close(&w) == 0, "rewrite: %s", err);
    CHECK(mode_of(path) == HL_PRIVATE_FILE_MODE, "a recording over a 0666 file is %04o", mode_of(path));

    /* looser folders and files from before are tightened by the start-up walk; tighter
     * ones are left alone */
    char rec[400], tight[400];
    snprintf(rec, sizeof rec, "%s/rec", root);
    snprintf(tight, sizeof tight, "%s/rec/messages/b.wav", root);
    FILE *f = fopen(tight, "wb");
    fclose(f);
    chmod(tight, 0600);
    chmod(rec, 0777);
    chmod(dir, 0755);
    chmod(path, 0644);
    hl_media_repair_recordings(rec, NULL, NULL);
    CHECK(mode_of(rec) == HL_PRIVATE_DIR_MODE, "the recordings folder was 0777: now %04o", mode_of(rec));
    CHECK(mode_of(dir) == HL_PRIVATE_DIR_MODE, "a folder was 0755: now %04o", mode_of(dir));
    CHECK(mode_of(path) == HL_PRIVATE_FILE_MODE, "a recording was 0644: now %04o", mode_of(path));
    CHECK(mode_of(tight) == 0600, "a 0600 file stays 0600, not %04o", mode_of(tight));
    CHECK(hl_tighten_mode(path, HL_PRIVATE_FILE_MODE) == 0, "nothing left to tighten");
    CHECK(hl_tighten_mode("/nonexistent/x", HL_PRIVATE_FILE_MODE) == -1, "a missing file: -1");

    umask(old_umask);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd)) {}
    return 0;
}
