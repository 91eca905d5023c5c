/* cdr_file.c — the rolling CSV file (cdr_file.h).  The file stays open between CDRs and is
 * reopened when the day or the folder changes.  A line is one write() of a few hundred
 * bytes to the page cache (as the log's): no disk wait on the loop. */
#include "app/cdr_file.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/store.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct hl_cdr_file {
    const hl_config *cfg;
    char             data_dir[PATH_MAX];
    char             path[PATH_MAX + 300];  /* the file open now */
    int              fd;
    bool             warned;               /* one warning per failing path, not one per call */
};

hl_cdr_file *hl_cdr_file_new(const hl_config *live_cfg, const char *data_dir)
{
    hl_cdr_file *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->cfg = live_cfg;
    f->fd = -1;
    snprintf(f->data_dir, sizeof f->data_dir, "%s", data_dir);
    return f;
}

/* DIR/cdr-YYYY-MM-DD.csv for a leg that ended at wall time t. */
static void path_for(const hl_cdr_file *f, double t, char *out, size_t size)
{
    char day[40];
    hl_clock_format_iso(t, day, sizeof day);   /* "2026-11-30T..." in the centre's zone */
    const char *dir = f->cfg->cdr_csv_dir;
    if (dir[0] == '/')
        snprintf(out, size, "%s/cdr-%.10s.csv", dir, day);
    else
        snprintf(out, size, "%s/%s/cdr-%.10s.csv", f->data_dir, dir, day);
}

static int open_file(hl_cdr_file *f, const char *path)
{
    if (f->fd >= 0)
        close(f->fd);
    snprintf(f->path, sizeof f->path, "%s", path);
    char dir[sizeof f->path];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = 0;
    mkdir(dir, 0750);   /* one level: the folder itself; its parent is the site's */
    f->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (f->fd < 0)
        return -1;
    struct stat st;
    if (fstat(f->fd, &st) == 0 && st.st_size == 0) {
        char *head = hl_cdr_csv_header();
        if (write(f->fd, head, strlen(head)) < 0)
            hl_warn("cdr", "%s: %s", path, strerror(errno));
        free(head);
    }
    return 0;
}

void hl_cdr_file_write(hl_cdr_file *f, const hl_cdr *cdr)
{
    if (!f || !f->cfg->cdr_csv_dir[0])
        return;
    char path[sizeof f->path];
    path_for(f, cdr->end > 0 ? cdr->end : cdr->start, path, sizeof path);
    if ((f->fd < 0 || strcmp(path, f->path)) && open_file(f, path) != 0) {
        if (!f->warned)
            hl_warn("cdr", "cannot write the CDR file %s: %s (cdr_csv_dir)", path, strerror(errno));
        f->warned = true;
        f->path[0] = 0;
        return;
    }
    f->warned = false;
    char *line = hl_cdr_csv_row(cdr);
    if (write(f->fd, line, strlen(line)) < 0)
        hl_warn("cdr", "%s: %s", f->path, strerror(errno));
    free(line);
}

void hl_cdr_file_free(hl_cdr_file *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    free(f);
}
