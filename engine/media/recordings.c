/* recordings.c — start-up repair of recordings left unfinished by a crash: every *.wav
 * under the recordings folder gets RIFF and data sizes that match its length (the
 * recorder keeps them current every second, so at most the last second was unaccounted). */
#include "media/media.h"
#include "media/wav.h"
#include "core/log.h"
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define REPAIR_MAX_DEPTH 6      /* recordings/YYYY/MM/DD/... is deep enough */

static int repair_dir(const char *dir, int depth)
{
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
