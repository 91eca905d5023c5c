/* recordings.c — the start-up walk of the recordings folder: every *.wav left unfinished by
 * a crash gets RIFF and data sizes that match its length (the recorder keeps them current
 * every second, so at most the last second was unaccounted), and the folder, its folders
 * and files lose any mode looser than private (0750 / 0640, core/files.h; issue 7: callers'
 * voices readable by anyone on the machine), each with a log line. */
#include "media/media.h"
#include "media/wav.h"
#include "core/files.h"
#include "core/log.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
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

static int repair_dir(const char *dir, int depth)
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
            fixed += repair_dir(path, depth + 1);
        } else if (S_ISREG(st.st_mode)) {
            tighten(path, HL_PRIVATE_FILE_MODE);
            size_t n = strlen(e->d_name);
            if (n > 4 && !strcmp(e->d_name + n - 4, ".wav")) {
                int rc = hl_wav_repair(path);
                if (rc > 0) {
                    hl_info("media", "repaired unfinished recording %s", path);
                    fixed++;
                } else if (rc < 0) {
                    hl_warn("media", "recording %s is not a WAV file we can repair", path);
                }
            }
        }
    }
    closedir(d);
    return fixed;
}

int hl_media_repair_recordings(const char *dir)
{
    return dir ? repair_dir(dir, 0) : 0;
}
