/* files.h — listing the files of a folder tree, and reading one whole, for the policy build
 * (every .lua of scripts/ and rules/) and the simulator (every .scenario.lua): at build and
 * in tools, never on the call path.  And the modes of private folders and files (recordings). */
#ifndef HL_FILES_H
#define HL_FILES_H
#include <stdbool.h>
#include <stddef.h>

typedef struct hl_strv {
    char **v;
    int    n, cap;
} hl_strv;

/* Appends the regular files under dir whose names end in suffix, going at most max_depth
 * folders down and skipping names that start with '.': as paths relative to dir, or as
 * "dir/rel" when with_dir.  Unsorted: call hl_strv_sort when order matters. */
void hl_files_collect(const char *dir, const char *suffix, int max_depth, bool with_dir, hl_strv *out);
/* Appends dir and every folder below it, at most max_depth down ("dir/a", "dir/a/b"), skipping
 * names that start with '.'. */
void hl_dirs_collect(const char *dir, int max_depth, hl_strv *out);
void hl_strv_sort(hl_strv *s);
void hl_strv_free(hl_strv *s);
bool hl_str_ends_with(const char *s, const char *suffix);
/* Callers' data (recordings, received faxes) is private to the engine's user and group,
 * whatever the umask (issue 7): folders 0750, files 0640. */
#define HL_PRIVATE_DIR_MODE  0750
#define HL_PRIVATE_FILE_MODE 0640
/* Creates the folders above path that do not exist yet, each HL_PRIVATE_DIR_MODE (set with
 * chmod: mkdir's mode passes through the umask).  Errors show at the open that follows. */
void hl_make_private_parents(const char *path);
/* Takes away what path's mode grants beyond want (a folder or file made looser before);
 * 1 when it did, 0 when there was nothing to take, -1 when it could not. */
int  hl_tighten_mode(const char *path, unsigned want);

#define HL_SOURCE_MAX_BYTES (4L * 1024 * 1024)  /* a policy or scenario source read whole */

/* The whole file, NUL-terminated (its length in *len); NULL when unreadable or over max_bytes.
 * The caller frees it. */
char *hl_file_read(const char *path, long max_bytes, size_t *len);

/* Free space for unprivileged writers on the disk that holds path, in MiB; -1 when it
 * cannot be told (path missing). */
long long hl_disk_free_mb(const char *path);
#endif
