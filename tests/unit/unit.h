/* unit.h — what a unit test file needs from the harness: CHECK and FAIL, which count into the
 * running test's tally, and TEST_IMPL, which names a test.  tests/unit/test-list.h lists every
 * test; tests/unit/runner.c runs them (each in its own process) and sums the tallies. */
#ifndef HL_UNIT_H
#define HL_UNIT_H

#include <stdio.h>

/* The checks of the test now running.  The runner keeps it in memory shared with the test's
 * process, so the counts reach the runner even when the test crashes or hangs. */
typedef struct unit_tally {
    int passed, failed;
} unit_tally;

extern unit_tally *unit_tally_now;

/* Counts one failed check and prints "FAIL file:line: " and the message (printf-style), or
 * the condition's text when the check has no message. */
void unit_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* CHECK(cond) or CHECK(cond, "format", args...): the message is formatted only on failure.
 * The message must start with a string literal; "" before it makes the message optional. */
#define CHECK(cond, ...) do { \
    if (cond) unit_tally_now->passed++; \
    else unit_fail(__FILE__, __LINE__, #cond, "" __VA_ARGS__); \
} while (0)

/* A failed check without a condition, e.g. from a callback that must not run. */
#define FAIL(...) unit_fail(__FILE__, __LINE__, "", __VA_ARGS__)

/* An empty message is CHECK(cond) without one, not a mistake. */
#pragma GCC diagnostic ignored "-Wformat-zero-length"

/* Runs a command-line entry point (such as hl_test_rules_main) and adds the "N passed,
 * M failed" of the last such line it prints to this test's tally; its output is passed on.
 * Returns 0 once the counts are added (its failures are failed checks), else its exit
 * status, or 1 (a missing line is also one failed check). */
int unit_run_counted(int (*entry)(int, char **), int argc, char **argv);

/* Runs test in a fresh directory /tmp/hl-test-NAME-XXXXXX (its path written into dir,
 * len bytes), removed after it. */
#include <stddef.h>
void unit_in_temp_dir(char *dir, size_t len, const char *name, void (*test)(void));

/* One statement on a test's store, synchronously: its rows, or NULL with the error printed. */
#include <jansson.h>
struct hl_store;
json_t *unit_query(struct hl_store *s, const char *sql, json_t *params);

/* A test: returns 0, or non-zero when it could not run to its end (a set-up failed); its
 * failed checks make it fail without that.  Each test runs in a fresh process. */
#define TEST_IMPL(name) int unit_test_##name(void)

/* Every test of test-list.h is declared here, so a test file that defines a test missing
 * from the list fails to compile (-Werror=missing-declarations, see the Makefile). */
#define UNIT_TEST(name) TEST_IMPL(name);
#include "test-list.h"
#undef UNIT_TEST

#endif
