/* recordings.c — the start-up walk of the recordings folder: every *.wav left unfinished by
 * a crash gets RIFF and data sizes that match its length (the recorder keeps them current
 * every second, so at most the last second was unaccounted) and is reported (its path under
 * the folder and its length) so that the policy can finish what it kept about it (a
 * message's row); and the folder, its folders and files lose any mode looser than private
 * (0750 / 0640, core/files.h: callers' voices readable by anyone on the machine), each with
 * a log line. */
#include "media/media.h"
#include "media/wav.h"
#include "core/files.h"
#include "core/log.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPAIR_MAX_DEPTH 6      /* recordings/YYYY/MM/DD/... is deep enough */

static void tighten(const char *path, unsigned want)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    unsigned was = st.st_mode & 07777;
    int rc = hl_tighten_mode(path, want);
    if (rc > 0)
        hl_warn("media", "%s was mode %04o: tightened to %04o (recordings are private)", path, was, was & want);
    else if (rc < 0)
        hl_warn("media", "%s is mode %04o and cannot be made private: %s", path, was, strerror(errno));
}

typedef struct repair_ctx {
    size_t            root_len;     /* strlen of the recordings folder: paths are reported under it */
    hl_repaired_fn    fn;
    void             *arg;
} repair_ctx;

/* Its length in ms, as hl_wav_load reads it (8 kHz frames). */
static int duration_ms(const char *path)
{
    int16_t *pcm = NULL;
    int n = 0;
    char err[128];
    if (hl_wav_load(path, &pcm, &n, err, sizeof err) != 0)
        return 0;
    free(pcm);
    return (int)((long long)n * 1000 / HL_WAV_RATE);
}

static int repair_dir(const repair_ctx *cx, const char *dir, int depth)
{
    tighten(dir, HL_PRIVATE_DIR_MODE);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int fixed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue;
        struct stat st;
        if (lstat(path, &st))
            continue;
        if (S_ISDIR(st.st_mode) && depth < REPAIR_MAX_DEPTH) {
            fixed += repair_dir(cx, path, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            tighten(path, HL_PRIVATE_FILE_MODE);
            size_t n = strlen(e->d_name);
            if (n > 4 && !strcmp(e->d_name + n - 4, ".wav")) {
                int rc = hl_wav_repair(path);
                if (rc > 0) {
                    hl_info("media", "repaired unfinished recording %s", path);
                    fixed++;
                    if (cx->fn)
                        cx->fn(cx->arg, path + cx->root_len + 1, duration_ms(path));
                } else if (rc < 0) {
                    hl_warn("media", "recording %s is not a WAV file we can repair", path);
                }
            }
        }
    }
    closedir(d);
    return fixed;
}

int hl_media_repair_recordings(const char *dir, hl_repaired_fn fn, void *arg)
{
    repair_ctx cx = { dir ? strlen(dir) : 0, fn, arg };
    return dir ? repair_dir(&cx, dir, 0) : 0;
}
