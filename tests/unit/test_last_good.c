/* test_last_good.c — the last policy that passed, kept in the data directory (issue 7:
 * app/last_good.c): a staged copy becomes it only when the files did not change meanwhile;
 * a newer one replaces it whole; copies a crash left half made are swept; found again with
 * its version. */
#include "app/last_good.h"
#include "core/files.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

static char root[256], data[300], scripts[300], rules[300];

static void put(const char *dir, const char *rel, const char *text)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        printf("  (cannot write %s)\n", path);
}

static char *read_in(const char *dir, const char *rel)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    size_t n;
    return hl_file_read(path, 4096, &n);
}

static int copies(void)
{
    hl_strv v = { 0 };
    char d[400];
    snprintf(d, sizeof d, "%s/last-good.d", data);
    hl_dirs_collect(d, 1, &v);
    int n = v.n - 1;
    hl_strv_free(&v);
    return n;
}

static bool found_holds(const char *rel_in_rules, const char *text, char *version, int vlen)
{
    char s[1200], r[1200];
    double saved = 0;
    if (!hl_last_good_find(data, s, r, sizeof s, version, vlen, &saved))
        return false;
    char *got = read_in(r, rel_in_rules);
    bool ok = got && !strcmp(got, text) && saved > 0;
    free(got);
    return ok;
}

TEST_IMPL(last_good)
{
    snprintf(root, sizeof root, "/tmp/hl-test-last-good-XXXXXX");
    if (!mkdtemp(root))
        return 1;
    snprintf(data, sizeof data, "%s/data", root);
    snprintf(scripts, sizeof scripts, "%s/scripts", root);
    snprintf(rules, sizeof rules, "%s/rules", root);
    mkdir(data, 0750);
    mkdir(scripts, 0750);
    mkdir(rules, 0750);
    char sub[400];
    snprintf(sub, sizeof sub, "%s/schema", rules);
    mkdir(sub, 0750);
    put(scripts, "main.lua", "function main(call) end\n");
    put(rules, "ivr.lua", "return { v = 1 }\n");
    put(rules, "schema/001_t.sql", "CREATE TABLE t (a);\n");

    char err[512] = "", version[128] = "";
    double saved;
    char s[1200], r[1200];
    CHECK(!hl_last_good_find(data, s, r, sizeof s, version, sizeof version, &saved), "none at first");

    hl_last_good_stage st = { "" };
    CHECK(hl_last_good_stage_copy(&st, data, scripts, rules, err, sizeof err) == 0, "stage: %s", err);
    CHECK(hl_last_good_commit(&st, data, scripts, rules, "v1-aaaa", err, sizeof err) == 0, "commit: %s", err);
    CHECK(found_holds("ivr.lua", "return { v = 1 }\n", version, sizeof version) && !strcmp(version, "v1-aaaa"),
          "found with its files and version (%s)", version);
    char *deep = NULL;
    if (hl_last_good_find(data, s, r, sizeof s, version, sizeof version, &saved))
        deep = read_in(r, "schema/001_t.sql");
    CHECK(deep && !strcmp(deep, "CREATE TABLE t (a);\n"), "folders below rules/ are kept too");
    free(deep);

    /* a file saved while the build ran: not kept, the older one stays */
    CHECK(hl_last_good_stage_copy(&st, data, scripts, rules, err, sizeof err) == 0, "stage 2: %s", err);
    put(rules, "ivr.lua", "return { v = 2 }\n");
    CHECK(hl_last_good_commit(&st, data, scripts, rules, "v2-bbbb", err, sizeof err) == 1, "changed meanwhile: 1");
    CHECK(found_holds("ivr.lua", "return { v = 1 }\n", version, sizeof version) && !strcmp(version, "v1-aaaa"),
          "the older one stays (%s)", version);
    CHECK(copies() == 1, "the unkept copy is gone: %d", copies());

    /* a newer one replaces it whole; the old copy goes */
    CHECK(hl_last_good_stage_copy(&st, data, scripts, rules, err, sizeof err) == 0, "stage 3: %s", err);
    CHECK(hl_last_good_commit(&st, data, scripts, rules, "v3-cccc", err, sizeof err) == 0, "commit 3: %s", err);
    CHECK(found_holds("ivr.lua", "return { v = 2 }\n", version, sizeof version) && !strcmp(version, "v3-cccc"),
          "the newer one (%s)", version);
    CHECK(copies() == 1, "one copy on disk: %d", copies());

    /* a failed build: the staged copy is discarded; a crash mid-stage leaves one: swept */
    CHECK(hl_last_good_stage_copy(&st, data, scripts, rules, err, sizeof err) == 0, "stage 4: %s", err);
    hl_last_good_discard(&st);
    CHECK(copies() == 1, "discarded: %d", copies());
    CHECK(hl_last_good_stage_copy(&st, data, scripts, rules, err, sizeof err) == 0, "stage 5: %s", err);
    CHECK(copies() == 2, "a half-made copy: %d", copies());
    hl_last_good_sweep(data);
    CHECK(copies() == 1 && found_holds("ivr.lua", "return { v = 2 }\n", version, sizeof version),
          "swept, the kept one intact: %d", copies());

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0)
        printf("could not remove %s\n", root);
    return 0;
}
