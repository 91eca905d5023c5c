/* last_good.c — keeping the last policy that passed its tests in the data directory and
 * finding it again (see last_good.h).  Plain files and rename(): nothing here runs on the
 * loop's thread while calls are served. */
#define _XOPEN_SOURCE 700
#include "app/last_good.h"
#include "core/files.h"
#include "lua/script.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LINK_NAME "last-good"
#define COPIES_DIR "last-good.d"
/* nftw's open descriptors while removing a copy: the tree is HL_POLICY_MAX_DEPTH deep */
#define RM_FDS 16

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void rm_tree(const char *dir)
{
    if (dir && *dir)
        nftw(dir, rm_one, RM_FDS, FTW_DEPTH | FTW_PHYS);
}

/* Makes every folder of path's parent, as mkdir -p. */
static int mkdirs_for(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0750) && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

/* Writes data to path and syncs it: the copy must be on disk before the link points at it. */
static int write_synced(const char *path, const char *data, size_t len)
{
    if (mkdirs_for(path) != 0)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    int rc = fsync(fd);
    return close(fd) || rc ? -1 : 0;
}

/* Every file of src (as the policy build reads it, a few levels deeper for safety) into dst. */
static int copy_tree(const char *src, const char *dst, char *err, int errlen)
{
    hl_strv files = { 0 };
    hl_files_collect(src, "", HL_POLICY_MAX_DEPTH + 2, false, &files);
    int rc = 0;
    for (int i = 0; rc == 0 && i < files.n; i++) {
        char from[PATH_MAX], to[PATH_MAX];
        snprintf(from, sizeof from, "%s/%s", src, files.v[i]);
        snprintf(to, sizeof to, "%s/%s", dst, files.v[i]);
        size_t len = 0;
        char *data = hl_file_read(from, HL_SOURCE_MAX_BYTES * 4, &len);
        if (!data || write_synced(to, data, len) != 0) {
            snprintf(err, errlen, "last good policy: cannot copy %s: %s", from, strerror(errno));
            rc = -1;
        }
        free(data);
    }
    hl_strv_free(&files);
    return rc;
}

/* Do the files of a and b (trees) have the same names and bytes? */
static bool same_tree(const char *a, const char *b)
{
    hl_strv fa = { 0 }, fb = { 0 };
    hl_files_collect(a, "", HL_POLICY_MAX_DEPTH + 2, false, &fa);
    hl_files_collect(b, "", HL_POLICY_MAX_DEPTH + 2, false, &fb);
    hl_strv_sort(&fa);
    hl_strv_sort(&fb);
    bool same = fa.n == fb.n;
    for (int i = 0; same && i < fa.n; i++) {
        char pa[PATH_MAX], pb[PATH_MAX];
        snprintf(pa, sizeof pa, "%s/%s", a, fa.v[i]);
        snprintf(pb, sizeof pb, "%s/%s", b, fb.v[i]);
        size_t la = 0, lb = 0;
        char *da = strcmp(fa.v[i], fb.v[i]) ? NULL : hl_file_read(pa, HL_SOURCE_MAX_BYTES * 4, &la);
        char *db = da ? hl_file_read(pb, HL_SOURCE_MAX_BYTES * 4, &lb) : NULL;
        same = da && db && la == lb && memcmp(da, db, la) == 0;
        free(da);
        free(db);
    }
    hl_strv_free(&fa);
    hl_strv_free(&fb);
    return same;
}

int hl_last_good_stage_copy(hl_last_good_stage *st, const char *data_dir, const char *scripts_dir,
                            const char *rules_dir, char *err, int errlen)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(st->dir, sizeof st->dir, "%s/" COPIES_DIR "/stage-%d-%lld%09ld", data_dir, (int)getpid(),
             (long long)ts.tv_sec, ts.tv_nsec);
    char to[PATH_MAX];
    snprintf(to, sizeof to, "%s/scripts", st->dir);
    int rc = copy_tree(scripts_dir, to, err, errlen);
    snprintf(to, sizeof to, "%s/rules", st->dir);
    if (rc == 0)
        rc = copy_tree(rules_dir, to, err, errlen);
    if (rc != 0)
        hl_last_good_discard(st);
    return rc;
}

void hl_last_good_discard(hl_last_good_stage *st)
{
    rm_tree(st->dir);
    st->dir[0] = 0;
}

int hl_last_good_commit(hl_last_good_stage *st, const char *data_dir, const char *scripts_dir,
                        const char *rules_dir, const char *version, char *err, int errlen)
{
    if (!st->dir[0]) {
        snprintf(err, errlen, "last good policy: nothing staged");
        return -1;
    }
    char a[PATH_MAX], b[PATH_MAX];
    snprintf(a, sizeof a, "%s/scripts", st->dir);
    snprintf(b, sizeof b, "%s/rules", st->dir);
    if (!same_tree(scripts_dir, a) || !same_tree(rules_dir, b)) {
        hl_last_good_discard(st);
        return 1;
    }
    char stamp[160];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int n = snprintf(stamp, sizeof stamp, "%s %lld\n", version, (long long)ts.tv_sec);
    snprintf(a, sizeof a, "%s/VERSION", st->dir);
    char link_path[PATH_MAX], tmp_link[PATH_MAX], old[PATH_MAX] = "";
    snprintf(link_path, sizeof link_path, "%s/" LINK_NAME, data_dir);
    snprintf(tmp_link, sizeof tmp_link, "%s/" LINK_NAME ".new", data_dir);
    /* the link is relative: a data directory that is moved keeps its last good policy */
    const char *target = st->dir + strlen(data_dir) + 1;
    ssize_t ol = readlink(link_path, old, sizeof old - 1);
    old[ol > 0 ? ol : 0] = 0;
    unlink(tmp_link);
    if (write_synced(a, stamp, (size_t)n) != 0 || symlink(target, tmp_link) != 0 ||
        rename(tmp_link, link_path) != 0) {
        snprintf(err, errlen, "last good policy: cannot keep %s: %s", st->dir, strerror(errno));
        unlink(tmp_link);
        hl_last_good_discard(st);
        return -1;
    }
    int dfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* the rename, durable */
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    if (old[0] && strcmp(old, target) != 0) {
        char old_dir[PATH_MAX];
        snprintf(old_dir, sizeof old_dir, "%s/%s", data_dir, old);
        rm_tree(old_dir);
    }
    st->dir[0] = 0;
    return 0;
}

bool hl_last_good_find(const char *data_dir, char *scripts_dir, char *rules_dir, int dirlen,
                       char *version, int versionlen, double *saved)
{
    char base[PATH_MAX], vpath[PATH_MAX + 16];
    snprintf(base, sizeof base, "%s/" LINK_NAME, data_dir);
    snprintf(vpath, sizeof vpath, "%s/VERSION", base);
    size_t len = 0;
    char *v = hl_file_read(vpath, 4096, &len);
    if (!v)
        return false;
    char ver[128] = "";
    long long when = 0;
    bool ok = sscanf(v, "%127s %lld", ver, &when) >= 1;
    free(v);
    if (!ok)
        return false;
    snprintf(version, versionlen, "%s", ver);
    *saved = (double)when;
    snprintf(scripts_dir, dirlen, "%s/scripts", base);
    snprintf(rules_dir, dirlen, "%s/rules", base);
    return true;
}

void hl_last_good_sweep(const char *data_dir)
{
    char link_path[PATH_MAX], target[PATH_MAX] = "", copies[PATH_MAX];
    snprintf(link_path, sizeof link_path, "%s/" LINK_NAME, data_dir);
    snprintf(copies, sizeof copies, "%s/" COPIES_DIR, data_dir);
    ssize_t n = readlink(link_path, target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    const char *keep = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
    hl_strv dirs = { 0 };
    hl_dirs_collect(copies, 1, &dirs);
    /* hl_dirs_collect lists copies itself first, then its folders as "copies/name" */
    for (int i = 1; i < dirs.n; i++) {
        const char *name = strrchr(dirs.v[i], '/') + 1;
        if (strcmp(name, keep) != 0)
            rm_tree(dirs.v[i]);
    }
    hl_strv_free(&dirs);
}
