/* runner.c — the unit-test runner (build/tests/unit-test): runs the tests of test-list.h, all
 * or those named, each in a child process of its own so that a crash or a hang fails that
 * test alone, with a time limit; prints one line per test, a failed test's output, and last
 * "unit: N passed, M failed": N counts checks that passed, M checks that failed plus tests
 * that failed without a failed check (crashed, timed out, set-up failed).
 *   unit-test [-v] [--no-fork] [--timeout SECONDS] [NAME|PATTERN...]    unit-test --list */
#include "unit.h"
#include "store/store.h"
#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A test that runs longer has hung: the slowest today (store, sipmsg_max_forwards) take 2-3 s;
 * --timeout raises it for slow builds (valgrind, sanitizers). */
#define DEFAULT_TIMEOUT_S 60

typedef struct unit_entry {
    const char *name;
    int (*fn)(void);
} unit_entry;

static const unit_entry tests[] = {
#define UNIT_TEST(name) { #name, unit_test_##name },
#include "test-list.h"
#undef UNIT_TEST
};
#define NTESTS ((int)(sizeof tests / sizeof *tests))

unit_tally *unit_tally_now;

typedef struct options {
    bool verbose, no_fork, list;
    int timeout_s;
    char **patterns;
    int npatterns;
} options;

/* How one test ended, besides its checks. */
typedef struct outcome {
    bool broken;        /* crashed, timed out, or returned non-zero */
    char why[128];
} outcome;

void unit_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    unit_tally_now->failed++;
    printf("FAIL %s:%d: ", file, line);
    if (*fmt) {
        va_list ap;
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
    } else {
        fputs(cond, stdout);
    }
    putchar('\n');
}

int unit_run_counted(int (*entry)(int, char **), int argc, char **argv)
{
    FILE *cap = tmpfile();
    if (!cap) {
        FAIL("%s: no temporary file for its output: %s", argv[0], strerror(errno));
        return 1;
    }
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(fileno(cap), STDOUT_FILENO);
    int rc = entry(argc, argv);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    rewind(cap);
    char line[4096];
    int passed = -1, failed = -1;
    while (fgets(line, sizeof line, cap)) {
        fputs(line, stdout);
        int p, f;
        if (sscanf(line, "%d passed, %d failed", &p, &f) == 2)
            passed = p, failed = f;
    }
    fclose(cap);
    if (passed < 0) {
        FAIL("%s printed no \"N passed, M failed\" line (exit status %d)", argv[0], rc);
        return rc ? rc : 1;
    }
    unit_tally_now->passed += passed;
    unit_tally_now->failed += failed;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void describe_status(int status, int timeout_s, outcome *o)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return;
    o->broken = true;
    if (WIFEXITED(status))
        snprintf(o->why, sizeof o->why, "returned %d (could not run to its end)", WEXITSTATUS(status));
    else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        snprintf(o->why, sizeof o->why, "timed out after %d s", timeout_s);
    else if (WIFSIGNALED(status))
        snprintf(o->why, sizeof o->why, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
}

/* Runs t in a child whose stdout and stderr go to out; the tally is shared memory. */
static void run_in_child(const unit_entry *t, FILE *out, int timeout_s, outcome *o)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        o->broken = true;
        snprintf(o->why, sizeof o->why, "fork: %s", strerror(errno));
        return;
    }
    if (pid == 0) {
        dup2(fileno(out), STDOUT_FILENO);
        dup2(fileno(out), STDERR_FILENO);
        alarm((unsigned)timeout_s);
        int rc = t->fn();
        exit(rc ? 1 : 0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            o->broken = true;
            snprintf(o->why, sizeof o->why, "waitpid: %s", strerror(errno));
            return;
        }
    }
    describe_status(status, timeout_s, o);
}

static void copy_output(FILE *out, const char *name)
{
    rewind(out);
    char buf[4096];
    size_t n;
    printf("---- output of %s\n", name);
    while ((n = fread(buf, 1, sizeof buf, out)) > 0)
        fwrite(buf, 1, n, stdout);
    printf("---- end of %s\n", name);
}

/* Runs one test, prints its line; returns true when it passed. */
static bool run_one(const unit_entry *t, const options *op, int *passed, int *failed)
{
    *unit_tally_now = (unit_tally){ 0, 0 };
    outcome o = { false, "" };
    double t0 = now_s();
    if (op->no_fork) {
        int rc = t->fn();
        if (rc) {
            o.broken = true;
            snprintf(o.why, sizeof o.why, "returned %d (could not run to its end)", rc);
        }
    } else {
        FILE *out = tmpfile();
        if (!out) {
            perror("unit-test: tmpfile");
            exit(2);
        }
        run_in_child(t, out, op->timeout_s, &o);
        if (op->verbose || o.broken || unit_tally_now->failed)
            copy_output(out, t->name);
        fclose(out);
    }
    unit_tally u = *unit_tally_now;
    bool ok = !o.broken && u.failed == 0;
    printf("%-4s %-28s %4d checks, %d failed  %5.2f s%s%s\n", ok ? "ok" : "FAIL", t->name,
           u.passed + u.failed, u.failed, now_s() - t0, o.broken ? "  " : "", o.why);
    fflush(stdout);
    *passed += u.passed;
    *failed += u.failed + (o.broken && u.failed == 0);
    return ok;
}

static bool selected(const unit_entry *t, const options *op)
{
    if (op->npatterns == 0)
        return true;
    for (int i = 0; i < op->npatterns; i++)
        if (fnmatch(op->patterns[i], t->name, 0) == 0)
            return true;
    return false;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: unit-test [-v] [--no-fork] [--timeout SECONDS] [NAME|PATTERN...]\n"
        "       unit-test --list\n"
        "Runs the unit tests (all, or those whose name matches a NAME or shell PATTERN such as\n"
        "'sdp_*'), each in its own process unless --no-fork (for a debugger), with a time limit\n"
        "(default %d s).  -v shows every test's output, not only a failed one's.  Prints one line\n"
        "per test, then \"unit: N passed, M failed\": N checks passed, M checks failed plus\n"
        "tests that failed without a failed check.  Exit status: 0 all passed, 1 a test failed,\n"
        "2 bad usage or a NAME that matches no test.\n", DEFAULT_TIMEOUT_S);
}

static int parse_args(int argc, char **argv, options *op)
{
    *op = (options){ .timeout_s = DEFAULT_TIMEOUT_S };
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
            op->verbose = true;
        } else if (!strcmp(argv[i], "--no-fork")) {
            op->no_fork = true;
        } else if (!strcmp(argv[i], "--list")) {
            op->list = true;
        } else if (!strcmp(argv[i], "--timeout") && i + 1 < argc && atoi(argv[i + 1]) > 0) {
            op->timeout_s = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "unit-test: unknown option %s\n", argv[i]);
            usage(stderr);
            return -1;
        }
    }
    op->patterns = argv + i;
    op->npatterns = argc - i;
    for (int p = 0; p < op->npatterns; p++) {
        bool any = false;
        for (int t = 0; t < NTESTS && !any; t++)
            any = fnmatch(op->patterns[p], tests[t].name, 0) == 0;
        if (!any) {
            fprintf(stderr, "unit-test: no test matches '%s' (unit-test --list shows them)\n",
                    op->patterns[p]);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);   /* before any output; a test's crash loses no finished line */
    options op;
    if (parse_args(argc, argv, &op))
        return 2;
    if (op.list) {
        for (int t = 0; t < NTESTS; t++)
            if (selected(&tests[t], &op))
                printf("%s\n", tests[t].name);
        return 0;
    }
    unit_tally_now = mmap(NULL, sizeof *unit_tally_now, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (unit_tally_now == MAP_FAILED) {
        perror("unit-test: mmap");
        return 2;
    }
    int passed = 0, failed = 0, run = 0, broken = 0;
    char failing[4096] = "";
    for (int t = 0; t < NTESTS; t++) {
        if (!selected(&tests[t], &op))
            continue;
        run++;
        if (!run_one(&tests[t], &op, &passed, &failed)) {
            broken++;
            size_t len = strlen(failing);
            snprintf(failing + len, sizeof failing - len, " %s", tests[t].name);
        }
    }
    if (broken)
        printf("unit: failing:%s\n", failing);
    printf("unit: %d passed, %d failed (checks; %d of %d tests failed)\n", passed, failed, broken, run);
    return broken ? 1 : 0;
}

void unit_in_temp_dir(char *dir, size_t len, const char *name, void (*test)(void))
{
    snprintf(dir, len, "/tmp/hl-test-%s-XXXXXX", name);
    if (!mkdtemp(dir)) {
        FAIL("mkdtemp: %s", dir);
        return;
    }
    test();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("could not remove %s\n", dir);
}

json_t *unit_query(struct hl_store *s, const char *sql, json_t *params)
{
    char err[256] = "";
    json_t *r = hl_store_exec_sync(s, sql, params, err, sizeof err);
    if (!r)
        printf("  (query failed: %s: %s)\n", sql, err);
    return r;
}
