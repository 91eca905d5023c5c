/* test_prompts.c — prompt names (evil ones refused), loading and caching, tones, silence
 * items and their durations. */
#include "media/prompts.h"
#include "media/tones.h"
#include "media/wav.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "unit.h"

static void write_wav(const char *path, int nsamples)
{
    hl_wav_writer w;
    char err[100];
    int16_t *s = calloc((size_t)nsamples, 2);
    for (int i = 0; i < nsamples; i++)
        s[i] = (int16_t)(i % 100 * 100);
    if (hl_wav_writer_open(&w, path, 1, err, sizeof err) == 0) {
        hl_wav_writer_write(&w, s, nsamples);
        hl_wav_writer_close(&w);
    }
    free(s);
}

TEST_IMPL(prompts)
{
    const char *good[] = { "welcome", "menu/main", "topics/pension_age", "digit_0", "a.b-c_d",
                           "x/y/z", "v2.0" };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        CHECK(hl_prompt_name_valid(good[i]), "valid: %s", good[i]);
    char longname[HL_PROMPT_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    const char *evil[] = { "", "..", "../etc/passwd", "a/../b", "a/..", "/etc/passwd", "a//b",
                           "a/", "/", "A", "Welcome", "a b", "a\\b", "a\nb", "a%2e", "~root",
                           ".hidden", "a/.b", "./a", "a/./b", "ä", "a;b", "a:b", "tone:beep",
                           "x\x01", longname, NULL };
    for (size_t i = 0; i < sizeof evil / sizeof *evil; i++)
        CHECK(!hl_prompt_name_valid(evil[i]), "invalid: %s", evil[i] ? evil[i] : "NULL");
    longname[HL_PROMPT_NAME_MAX] = 0;
    CHECK(hl_prompt_name_valid(longname), "name of the maximum length is valid");

    char dir[] = "/tmp/hl_test_prompts_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[300];
    snprintf(path, sizeof path, "%s/welcome.wav", dir);
    write_wav(path, 8000);                  /* 1 s */
    snprintf(path, sizeof path, "%s/menu", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/menu/main.wav", dir);
    write_wav(path, 4000);
    snprintf(path, sizeof path, "%s/broken.wav", dir);
    FILE *f = fopen(path, "wb");
    fputs("RIFF\x10\0\0\0WAVEjunk", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/secret.wav", dir);   /* outside the prompt folder */

    hl_prompts *p = hl_prompts_new(dir);
    char err[200];
    const hl_prompt *a = hl_prompts_get(p, "welcome", err, sizeof err);
    CHECK(a && a->nsamples == 8000 && a->samples[5] == 500, "welcome loaded: %s", err);
    CHECK(hl_prompts_get(p, "welcome", err, sizeof err) == a, "cached: same pointer");
    const hl_prompt *m = hl_prompts_get(p, "menu/main", err, sizeof err);
    CHECK(m && m->nsamples == 4000, "sub-folder prompt");
    CHECK(!hl_prompts_get(p, "missing", err, sizeof err) && strstr(err, "missing"), "missing: %s", err);
    CHECK(!hl_prompts_get(p, "broken", err, sizeof err), "broken refused: %s", err);
    CHECK(!hl_prompts_get(p, "../welcome", err, sizeof err) && strstr(err, "not a valid name"),
          "evil get refused: %s", err);
    CHECK(hl_prompts_item_ms(p, "welcome") == 1000, "welcome 1000 ms");
    CHECK(hl_prompts_item_ms(p, "menu/main") == 500, "menu/main 500 ms");
    CHECK(hl_prompts_item_ms(p, "silence:500") == 500, "silence:500");
    CHECK(hl_prompts_item_ms(p, "silence:0") == -1, "silence:0 refused");
    CHECK(hl_prompts_item_ms(p, "silence:-5") == -1, "silence:-5 refused");
    CHECK(hl_prompts_item_ms(p, "silence:5x") == -1, "silence:5x refused");
    CHECK(hl_prompts_item_ms(p, "silence:") == -1, "silence: refused");
    CHECK(hl_prompts_item_ms(p, "silence:99999999999999999999") == -1, "huge silence refused");
    CHECK(hl_prompts_item_ms(p, "tone:beep") == 200, "tone:beep 200 ms");
    CHECK(hl_prompts_item_ms(p, "tone:ringback") == 5000, "tone:ringback 5000 ms");
    CHECK(hl_prompts_item_ms(p, "tone:busy") == 700, "tone:busy 700 ms");
    CHECK(hl_prompts_item_ms(p, "tone:hold") > 3000, "tone:hold");
    CHECK(hl_prompts_item_ms(p, "tone:nope") == -1, "unknown tone");
    CHECK(hl_prompts_item_ms(p, "tone:") == -1, "empty tone");
    CHECK(hl_prompts_item_ms(p, "nope") == -1, "unknown prompt");
    hl_prompt_item it;
    CHECK(hl_prompts_resolve(p, "tone:beep", &it, err, sizeof err) == 0 && it.samples && it.nsamples == 1600,
          "beep resolves");
    const int16_t *beep = it.samples;
    hl_prompts_resolve(p, "tone:beep", &it, err, sizeof err);
    CHECK(it.samples == beep, "tone cached");
    /* beep energy: a 1 kHz tone crosses zero about 2000 times a second */
    int cross = 0;
    for (int i = 1; i < it.nsamples; i++)
        cross += (it.samples[i - 1] < 0) != (it.samples[i] < 0);
    CHECK(cross > 380 && cross < 420, "beep is 1 kHz (%d crossings in 200 ms)", cross);
    CHECK(hl_prompts_resolve(p, "silence:20", &it, err, sizeof err) == 0 && !it.samples && it.nsamples == 160,
          "silence item");
    int count;
    long bytes;
    hl_prompts_usage(p, &count, &bytes);
    CHECK(count == 6, "6 cached (2 prompts and the 4 tones asked for), got %d", count);
    hl_prompts_free(p);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
    return 0;
}

/* Issue 10: snapshots.  A scan reads every WAV; the next scan shares the audio and hash of
 * files whose size and mtime did not change and reads the rest; a snapshot's audio stays
 * whole while later snapshots come and go; the hash follows the content, not the mtime. */
static void skipped_note(void *arg, const char *name, const char *why) { (*(int *)arg)++; }

static void set_mtime(const char *path, long sec)
{
    struct timespec t[2] = { { sec, 0 }, { sec, 0 } };
    utimensat(AT_FDCWD, path, t, 0);
}

TEST_IMPL(prompts_snapshot)
{
    char dir[] = "/tmp/hl_test_snap_XXXXXX", a[300], b[300], c[300], junk[300], sub[300];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(a, sizeof a, "%s/a.wav", dir);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    mkdir(sub, 0700);
    snprintf(b, sizeof b, "%s/sub/b.wav", dir);
    snprintf(c, sizeof c, "%s/c.wav", dir);
    snprintf(junk, sizeof junk, "%s/junk.wav", dir);
    write_wav(a, 1000);
    write_wav(b, 500);
    FILE *f = fopen(junk, "wb");
    fputs("not a wav", f);
    fclose(f);
    set_mtime(a, 1000);

    int skipped = 0;
    hl_prompts_scan_stats st;
    hl_prompts *s1 = hl_prompts_scan(dir, NULL, &st, skipped_note, &skipped);
    CHECK(s1 && hl_prompts_count(s1) == 2 && st.read == 2 && st.reused == 0 && st.skipped == 1 && skipped == 1,
          "first scan: 2 read, the junk left out (count %d read %d skipped %d)", hl_prompts_count(s1), st.read,
          st.skipped);
    char err[300];
    const hl_prompt *pa1 = hl_prompts_get(s1, "a", err, sizeof err);
    CHECK(pa1 && pa1->nsamples == 1000, "a in the snapshot");
    CHECK(hl_prompts_get(s1, "sub/b", err, sizeof err) != NULL, "sub/b in the snapshot");
    CHECK(!hl_prompts_get(s1, "c", err, sizeof err) && strstr(err, "reload"), "c missing: %s", err);
    write_wav(c, 300);                               /* a new file is not in s1 ... */
    CHECK(!hl_prompts_get(s1, "c", err, sizeof err), "a snapshot never changes its names");
    CHECK(hl_prompts_item_ms(s1, "tone:beep") == 200, "tones still render into a snapshot");

    remove(c);
    hl_prompts *s2 = hl_prompts_scan(dir, s1, &st, NULL, NULL);
    CHECK(st.reused == 2 && st.read == 0, "nothing changed: all reused (read %d)", st.read);
    CHECK(hl_prompts_hash(s2) == hl_prompts_hash(s1), "same content, same hash");
    CHECK(hl_prompts_get(s2, "a", err, sizeof err)->samples == pa1->samples, "unchanged audio is shared");

    write_wav(a, 1200);                              /* changed */
    write_wav(c, 300);                               /* new */
    remove(b);                                       /* removed */
    hl_prompts *s3 = hl_prompts_scan(dir, s2, &st, NULL, NULL);
    CHECK(hl_prompts_count(s3) == 2 && st.read == 2 && st.reused == 0, "changed and new read (read %d reused %d)",
          st.read, st.reused);
    CHECK(hl_prompts_hash(s3) != hl_prompts_hash(s2), "a change changes the hash");
    CHECK(!hl_prompts_get(s3, "sub/b", err, sizeof err), "a removed WAV is gone");
    CHECK(hl_prompts_get(s3, "a", err, sizeof err)->nsamples == 1200, "the changed audio is the new");
    hl_prompts_unref(s1);
    CHECK(hl_prompts_get(s2, "a", err, sizeof err)->nsamples == 1000 && pa1->samples[999] == (int16_t)(999 % 100 * 100),
          "the older snapshot keeps its audio");
    hl_prompts_unref(s2);

    set_mtime(a, 2000);                              /* touched, same bytes */
    hl_prompts *s4 = hl_prompts_scan(dir, s3, &st, NULL, NULL);
    CHECK(st.read == 1 && hl_prompts_hash(s4) == hl_prompts_hash(s3), "a touched file is read again, same hash");
    hl_prompts_unref(s3);
    hl_prompts_unref(s4);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
    return 0;
}
