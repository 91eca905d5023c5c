/* test_config.c — the table of tunables (core/config.c) and rules/engine.lua read against it:
 * defaults inside their ranges, unknown names and out-of-range values refused with file and
 * line, a name taken out going back to its default, restart-only values kept and reported,
 * folders relative to the rules folder, the shipped engine.lua files accepted, and the
 * admin guide's list equal to the table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/config.h"

#include "unit.h"

static char dir[] = "/tmp/hl-test-config-XXXXXX";

static void write_rules(const char *text)
{
    char path[600];
    snprintf(path, sizeof path, "%s/engine.lua", dir);
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); exit(2); }
    fputs(text, f);
    fclose(f);
}

/* Loads text as engine.lua over cfg; returns the loader's result, message in err. */
static int load(hl_config *cfg, const char *text, char *err, int errlen)
{
    write_rules(text);
    err[0] = 0;
    return hl_config_load_rules(cfg, dir, err, errlen);
}

static void test_table(void)
{
    int n;
    const hl_tunable *t = hl_config_tunables(&n);
    hl_config cfg;
    hl_config_defaults(&cfg);
    CHECK(n > 20, "the table holds every tunable (%d)", n);
    for (int i = 0; i < n; i++) {
        CHECK(t[i].what && strlen(t[i].what) > 20 && t[i].unit && *t[i].unit, "%s: unit and description", t[i].name);
        CHECK(hl_config_tunable(t[i].name) == &t[i], "%s: found by name, once", t[i].name);
        if (t[i].type != HL_TUNE_INT)
            continue;
        CHECK(t[i].def >= t[i].min && t[i].def <= t[i].max, "%s: default %lld in %lld-%lld",
              t[i].name, t[i].def, t[i].min, t[i].max);
        CHECK(*(int *)((char *)&cfg + t[i].offset) == t[i].def, "%s: hl_config_defaults gives the table's default",
              t[i].name);
    }
    CHECK(hl_config_tunable("no_such_setting") == NULL, "unknown names are not found");
}

static void test_refused_with_line(void)
{
    hl_config cfg;
    char err[2048];
    hl_config_defaults(&cfg);
    const hl_tunable *t = hl_config_tunable("rtp_timeout_ms");
    char text[512], want[700];

    /* out of range, both ends: the error names the file, the line and the range */
    snprintf(text, sizeof text, "return {\n  max_calls = 10,\n  rtp_timeout_ms = %lld,\n}\n", t->max + 1);
    CHECK(load(&cfg, text, err, sizeof err) != 0, "rtp_timeout_ms above its range refused");
    snprintf(want, sizeof want, "%s/engine.lua:3: rtp_timeout_ms must be a whole number from %lld to %lld",
             dir, t->min, t->max);
    CHECK(strstr(err, want) != NULL, "error names file:line and range: %s", err);
    CHECK(cfg.max_calls == (int)hl_config_tunable("max_calls")->def, "a refused file changes nothing");
    snprintf(text, sizeof text, "return { rtp_timeout_ms = %lld }\n", t->min - 1);
    CHECK(load(&cfg, text, err, sizeof err) != 0 && strstr(err, "engine.lua:1: rtp_timeout_ms"),
          "below its range refused with its line: %s", err);

    /* wrong types */
    CHECK(load(&cfg, "return {\n\n  silence_level = '300',\n}\n", err, sizeof err) != 0 &&
          strstr(err, "engine.lua:3: silence_level"), "a string for a number refused: %s", err);
    CHECK(load(&cfg, "return { ring_timeout_ms = 1500.5 }\n", err, sizeof err) != 0,
          "a fraction refused: %s", err);
    CHECK(load(&cfg, "return { fax_dir = 5 }\n", err, sizeof err) != 0 && strstr(err, "fax_dir"),
          "a number for a folder refused: %s", err);

    /* unknown names: a misspelling is not silently ignored */
    CHECK(load(&cfg, "return {\n  -- rtp_timout_ms = 1 is a comment\n  max_calls = 10,\n  rtp_timout_ms = 3000,\n}\n",
               err, sizeof err) != 0, "an unknown name refused");
    CHECK(strstr(err, "engine.lua:4: unknown setting 'rtp_timout_ms'") != NULL,
          "the unknown name's line, not the comment's: %s", err);
    CHECK(load(&cfg, "return { 1, 2 }\n", err, sizeof err) != 0, "a list instead of settings refused");

    /* settings that hold only together */
    CHECK(load(&cfg, "return { rtp_timeout_ms = 30000, rtp_hold_timeout_ms = 20000 }\n", err, sizeof err) != 0 &&
          strstr(err, "rtp_hold_timeout_ms"), "hold timeout shorter than the timeout refused: %s", err);
    CHECK(load(&cfg, "return { rtp_port_lo = 30000, rtp_port_hi = 30002 }\n", err, sizeof err) != 0,
          "a port range without two pairs refused: %s", err);
}

static void test_reload_semantics(void)
{
    hl_config start, next;
    char err[2048], names[256];
    hl_config_defaults(&start);
    start.rtp_port_lo = 40000;      /* as --rtp-ports gives them */
    start.rtp_port_hi = 40100;
    CHECK(load(&start, "return { rtp_timeout_ms = 3000, max_calls = 7 }\n", err, sizeof err) == 0, "load: %s", err);
    CHECK(start.rtp_timeout_ms == 3000 && start.max_calls == 7, "values read");
    CHECK(start.rtp_port_lo == 40000, "the command line's port range stays where engine.lua sets none");

    /* a name taken out goes back to its default; a restart-only change is only reported */
    next = start;
    CHECK(load(&next, "return { rtp_timeout_ms = 4000, rtp_port_lo = 40010 }\n", err, sizeof err) == 0, "reload: %s", err);
    CHECK(next.max_calls == (int)hl_config_tunable("max_calls")->def, "max_calls taken out: back to its default");
    CHECK(hl_config_changed(&start, &next, HL_APPLY_RESTART, names, sizeof names) == 1 &&
          !strcmp(names, "rtp_port_lo"), "restart-only change named: %s", names);
    CHECK(hl_config_changed(&start, &next, HL_APPLY_NEXT_CALL, names, sizeof names) == 1 &&
          !strcmp(names, "rtp_timeout_ms"), "next-call change named: %s", names);
    CHECK(hl_config_changed(&start, &next, HL_APPLY_NEXT_USE, names, sizeof names) == 1 &&
          !strcmp(names, "max_calls"), "next-use change named: %s", names);
    hl_config_copy(&next, &start, HL_APPLY_RESTART);
    CHECK(next.rtp_port_lo == 40000 && next.rtp_timeout_ms == 4000, "restart-only value kept, live one taken");
    CHECK(hl_config_tunable("rtp_port_lo")->apply == HL_APPLY_RESTART &&
          hl_config_tunable("rtp_timeout_ms")->apply == HL_APPLY_NEXT_CALL, "the table says which is which");
}

static void test_folders(void)
{
    hl_config cfg;
    char err[2048], want[700];
    hl_config_defaults(&cfg);
    CHECK(load(&cfg, "return { fax_dir = '../docs/fax' }\n", err, sizeof err) == 0, "load: %s", err);
    snprintf(want, sizeof want, "%s/../docs/fax", dir);
    CHECK(!strcmp(cfg.fax_dir, want), "a relative folder is below the rules folder: %s", cfg.fax_dir);
    CHECK(load(&cfg, "return { fax_dir = '/srv/fax' }\n", err, sizeof err) == 0 && !strcmp(cfg.fax_dir, "/srv/fax"),
          "an absolute folder stays: %s", cfg.fax_dir);
    CHECK(load(&cfg, "return {}\n", err, sizeof err) == 0, "load: %s", err);
    snprintf(want, sizeof want, "%s/%s", dir, hl_config_tunable("fax_dir")->def_text);
    CHECK(!strcmp(cfg.fax_dir, want), "the default folder is below the rules folder too: %s", cfg.fax_dir);
}

/* The engine.lua files in the tree are accepted as they are. */
static void test_shipped_files(void)
{
    static const char *const dirs[] = { "rules", "bench/rules", "tests/e2e/rules", "tests/e2e/rules-timeout",
                                        "tests/e2e/fax/queue-rules" };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        hl_config cfg;
        char err[2048];
        hl_config_defaults(&cfg);
        CHECK(hl_config_load_rules(&cfg, dirs[i], err, sizeof err) == 0, "%s/engine.lua: %s", dirs[i], err);
        if (strcmp(dirs[i], "rules") && strcmp(dirs[i], "tests/e2e/fax/queue-rules"))
            continue;
        CHECK(access(cfg.fax_dir, F_OK) == 0 || access("build/fax", F_OK) != 0,
              "%s: fax_dir %s is the build's documents folder", dirs[i], cfg.fax_dir);
    }
}

/* docs/admin-guide.md lists the table as `hotline config --markdown` prints it. */
static void test_docs_list_the_table(void)
{
    char *gen = NULL;
    size_t genlen = 0;
    FILE *m = open_memstream(&gen, &genlen);
    hl_config_print(m, NULL, true);
    fclose(m);
    FILE *f = fopen("docs/admin-guide.md", "r");
    CHECK(f != NULL, "docs/admin-guide.md readable (run from the repository root)");
    if (!f) {
        free(gen);
        return;
    }
    char doc[65536] = "", line[4096];
    int inside = 0;
    size_t used = 0;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "<!-- tunables:end"))
            inside = 0;
        if (inside && used + strlen(line) < sizeof doc)
            used += (size_t)snprintf(doc + used, sizeof doc - used, "%s", line);
        if (strstr(line, "<!-- tunables:begin"))
            inside = 1;
    }
    fclose(f);
    CHECK(used > 0 && !strcmp(doc, gen),
          "docs/admin-guide.md's list differs from the table: regenerate it with "
          "`build/hotline config --markdown` between the tunables:begin/end markers");
    free(gen);
}

TEST_IMPL(config)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    test_table();
    test_refused_with_line();
    test_reload_semantics();
    test_folders();
    test_shipped_files();
    test_docs_list_the_table();
    char path[600];
    snprintf(path, sizeof path, "%s/engine.lua", dir);
    remove(path);
    rmdir(dir);
    return 0;
}
