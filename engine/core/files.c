/* files.c — folder-tree listing, whole-file reads, private folders and modes (see files.h). */
#include "core/files.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

bool hl_str_ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

static void strv_push(hl_strv *s, const char *str)
{
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 32;
        char **v = realloc(s->v, cap * sizeof *v);
        if (!v)
            abort(); /* a file list at build time: nothing sane to do without memory */
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = strdup(str);
}

/* suffix NULL: the folders themselves (as "dir/rel") instead of files. */
static void collect(const char *dir, const char *rel, const char *suffix, int depth,
                    int max_depth, bool with_dir, hl_strv *out)
{
    char path[2048];
    snprintf(path, sizeof path, "%s%s%s", dir, rel[0] ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[1024], full[3200];
        snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", dir, sub);
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < max_depth) {
            if (!suffix)
                strv_push(out, full);
            collect(dir, sub, suffix, depth + 1, max_depth, with_dir, out);
        } else if (suffix && S_ISREG(st.st_mode) && hl_str_ends_with(e->d_name, suffix)) {
            strv_push(out, with_dir ? full : sub);
        }
    }
    closedir(d);
}

void hl_files_collect(const char *dir, const char *suffix, int max_depth, bool with_dir, hl_strv *out)
{
    if (suffix)
        collect(dir, "", suffix, 0, max_depth, with_dir, out);
}

void hl_dirs_collect(const char *dir, int max_depth, hl_strv *out)
{
    strv_push(out, dir);
    collect(dir, "", NULL, 0, max_depth, true, out);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void hl_strv_sort(hl_strv *s)
{
    if (s->n > 1)
        qsort(s->v, s->n, sizeof *s->v, cmp_str);
}

void hl_strv_free(hl_strv *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

char *hl_file_read(const char *path, long max_bytes, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && st.st_size <= max_bytes && (buf = malloc(st.st_size + 1))) {
        *len = fread(buf, 1, st.st_size, f);
        buf[*len] = 0;
    }
    fclose(f);
    return buf;
}

void hl_make_private_parents(const char *path)
{
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return;
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(dir, HL_PRIVATE_DIR_MODE) == 0)
            chmod(dir, HL_PRIVATE_DIR_MODE);     /* the umask may have taken group read */
        else if (errno != EEXIST)
            return;
        *p = '/';
    }
}

int hl_tighten_mode(const char *path, unsigned want)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return -1;
    if (!(st.st_mode & 07777 & ~want))
        return 0;
    return chmod(path, st.st_mode & 07777 & want) == 0 ? 1 : -1;
}

long long hl_disk_free_mb(const char *path)
{
    struct statvfs v;
    if (statvfs(path, &v) != 0)
        return -1;
    return (long long)((unsigned long long)v.f_bavail * v.f_frsize / (1024 * 1024));
}
