/* reload_audit.c — who asked for a reload, by name, and the diff it brought (see
 * reload_audit.h).  The diff is diffutils' own `diff -ruN`, spawned (posix_spawn: no copy of
 * the engine's heap) from the reload worker; its paths are rewritten to a/ and b/. */
#define _GNU_SOURCE   /* pipe2 */
#include "app/reload_audit.h"
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <pwd.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* What is read of one diff's raw output before it is cut (paths are rewritten after, so
 * the raw text may be a little longer than what is kept). */
#define RAW_READ_MAX (2 * HL_RELOAD_DIFF_MAX)

void hl_reload_who_add(char *who, size_t wholen, const char *asker)
{
    size_t used = strlen(who);
    if (strstr(who, asker))
        return;   /* the watcher firing twice for one edit is one asker */
    snprintf(who + used, wholen > used ? wholen - used : 0, "%s%s", used ? ", " : "", asker);
}

void hl_reload_who_ctl(unsigned uid, char *out, size_t outlen)
{
    struct passwd pw, *found = NULL;
    char buf[1024];
    if (getpwuid_r((uid_t)uid, &pw, buf, sizeof buf, &found) == 0 && found)
        snprintf(out, outlen, "ctl %s (uid %u)", found->pw_name, uid);
    else
        snprintf(out, outlen, "ctl uid %u", uid);
}

typedef struct text {
    char  *s;
    size_t len, cap, total;   /* total: bytes produced, kept or not */
} text;

static void text_add(text *t, const char *s, size_t n, size_t max)
{
    t->total += n;
    if (t->len >= max)
        return;
    if (n > max - t->len)
        n = max - t->len;
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        char *p = realloc(t->s, cap);
        if (!p)
            return;
        t->s = p;
        t->cap = cap;
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = 0;
}

/* Runs `diff -ruN old new`; its output into raw.  0 (equal or different), -1 with why. */
static int run_diff(const char *old, const char *new, text *raw, char *why, size_t whylen)
{
    int fds[2];   /* close-on-exec: no other child of the engine keeps diff's pipe open */
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(why, whylen, "pipe: %s", strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);   /* dup2 clears close-on-exec */
    char *argv[] = { "diff", "-ruN", "--", (char *)old, (char *)new, NULL };
    pid_t pid;
    int rc = posix_spawnp(&pid, "diff", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        snprintf(why, whylen, "cannot run diff (diffutils): %s", strerror(rc));
        return -1;
    }
    char buf[8192];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        text_add(raw, buf, (size_t)n, RAW_READ_MAX);   /* read to the end: diff must finish */
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) > 1) {
        snprintf(why, whylen, "diff %s %s failed (status %d)", old, new, status);
        return -1;
    }
    return 0;
}

/* Copies raw into out, header paths rewritten: old_root/ -> a/, new_root/ -> b/. */
static void rewrite_paths(const text *raw, const char *old_root, const char *new_root, text *out)
{
    size_t lo = strlen(old_root), ln = strlen(new_root);
    for (size_t i = 0; raw->s && i < raw->len;) {
        const char *line = raw->s + i;
        size_t n = strcspn(line, "\n");
        bool header = !strncmp(line, "diff ", 5) || !strncmp(line, "--- ", 4) || !strncmp(line, "+++ ", 4);
        for (size_t k = 0; k < n;) {
            if (header && !strncmp(line + k, old_root, lo) && line[k + lo] == '/') {
                text_add(out, "a", 1, HL_RELOAD_DIFF_MAX);
                k += lo;
            } else if (header && !strncmp(line + k, new_root, ln) && line[k + ln] == '/') {
                text_add(out, "b", 1, HL_RELOAD_DIFF_MAX);
                k += ln;
            } else {
                text_add(out, line + k, 1, HL_RELOAD_DIFF_MAX);
                k++;
            }
        }
        text_add(out, "\n", 1, HL_RELOAD_DIFF_MAX);
        i += n + (line[n] == '\n');
    }
}

char *hl_reload_diff(const char *old_root, const char *new_root, char *why, size_t whylen)
{
    static const char *const parts[] = { "scripts", "rules" };
    text out = { 0 };
    size_t raw_total = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        char a[4096], b[4096];
        snprintf(a, sizeof a, "%s/%s", old_root, parts[i]);
        snprintf(b, sizeof b, "%s/%s", new_root, parts[i]);
        text raw = { 0 };
        int rc = run_diff(a, b, &raw, why, whylen);
        if (rc == 0)
            rewrite_paths(&raw, old_root, new_root, &out);
        raw_total += raw.total;
        free(raw.s);
        if (rc != 0) {
            free(out.s);
            return NULL;
        }
    }
    if (out.total > HL_RELOAD_DIFF_MAX || raw_total > RAW_READ_MAX) {
        char note[160];
        snprintf(note, sizeof note, "\n[diff cut at %d bytes; %zu bytes in all]\n", HL_RELOAD_DIFF_MAX,
                 raw_total);
        out.len = out.len > strlen(note) ? out.len - strlen(note) : 0;
        text_add(&out, note, strlen(note), HL_RELOAD_DIFF_MAX + sizeof note);
    }
    return out.s ? out.s : strdup("");
}
