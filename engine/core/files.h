/* files.h — listing the files of a folder tree, and reading one whole, for the policy build
 * (every .lua of scripts/ and rules/) and the simulator (every .scenario.lua).  Runs at build
 * and in tools, never on the call path. */
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
#define HL_SOURCE_MAX_BYTES (4L * 1024 * 1024)  /* a policy or scenario source read whole */

/* The whole file, NUL-terminated (its length in *len); NULL when unreadable or over max_bytes.
 * The caller frees it. */
char *hl_file_read(const char *path, long max_bytes, size_t *len);

/* Free space for unprivileged writers on the disk that holds path, in MiB; -1 when it
 * cannot be told (path missing). */
long long hl_disk_free_mb(const char *path);
#endif
