/* test_reload.c — issue 10's reload pieces: the content hash a reload compares (equal to
 * the hash a build puts in the version, prompts included), the audit's diff (unified,
 * a/ b/ paths, bounded), who asked, and the log line's prefix (zone, syslog priority). */
#include "app/reload_audit.h"
#include "core/clock.h"
#include "core/log.h"
#include "lua/script.h"
#include "media/prompts.h"
#include "media/wav.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "unit.h"

static void put(const char *dir, const char *name, const char *text)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void rm_rf(const char *dir)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {}
}

static void write_wav(const char *path, int n)
{
    hl_wav_writer w;
    char err[100];
    int16_t s[400] = { 0 };
    for (int i = 0; i < 400; i++)
        s[i] = (int16_t)(i * 37);
    if (hl_wav_writer_open(&w, path, 1, err, sizeof err) == 0) {
        hl_wav_writer_write(&w, s, n < 400 ? n : 400);
        hl_wav_writer_close(&w);
    }
}

TEST_IMPL(reload_policy_hash)
{
    char dir[] = "/tmp/hl_test_reload_XXXXXX", scripts[300], rules[300], prompts[300], wav[400];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(scripts, sizeof scripts, "%s/scripts", dir);
    snprintf(rules, sizeof rules, "%s/rules", dir);
    snprintf(prompts, sizeof prompts, "%s/prompts", dir);
    mkdir(scripts, 0700);
    mkdir(rules, 0700);
    mkdir(prompts, 0700);
    put(scripts, "main.lua", "function main(call) call:hangup() end\n");
    put(rules, "limits.lua", "return { n = 1 }\n");
    snprintf(wav, sizeof wav, "%s/hello.wav", prompts);
    write_wav(wav, 400);

    hl_prompts *set = hl_prompts_scan(prompts, NULL, NULL, NULL, NULL);
    hl_policy_src src = { .scripts_dir = scripts, .rules_dir = rules, .prompt_set = set };
    char err[2048] = "";
    hl_policy *p = hl_policy_build(&src, err, sizeof err);
    CHECK(p != NULL, "builds: %s", err);
    char hex[16];
    snprintf(hex, sizeof hex, "-%08x", hl_policy_content_hash(p));
    CHECK(p && strstr(hl_policy_version(p), hex), "the version %s shows the content hash",
          p ? hl_policy_version(p) : "-");
    CHECK(hl_policy_hash_files(&src) == hl_policy_content_hash(p), "hashing the files = the build's hash");
    CHECK(hl_policy_prompts(p) == set, "the policy plays the set it was built with");
    hl_prompts_unref(set);   /* the policy keeps its own reference */
    CHECK(hl_prompts_get(hl_policy_prompts(p), "hello", err, sizeof err) != NULL, "its prompt is there");

    put(rules, "limits.lua", "return { n = 2 }\n");
    CHECK(hl_policy_hash_files(&src) != hl_policy_content_hash(p), "a rule edit changes the hash");
    put(rules, "limits.lua", "return { n = 1 }\n");
    CHECK(hl_policy_hash_files(&src) == hl_policy_content_hash(p), "an edit undone is unchanged again");
    char schema[400], sql[500];
    snprintf(schema, sizeof schema, "%s/schema", rules);
    mkdir(schema, 0700);
    put(schema, "001_t.sql", "CREATE TABLE t (x);\n");
    CHECK(hl_policy_hash_files(&src) != hl_policy_content_hash(p), "a schema file (not .lua) changes it too");
    snprintf(sql, sizeof sql, "%s/001_t.sql", schema);
    remove(sql);
    put(schema, "001_t.sql~", "editor backup\n");
    CHECK(hl_policy_hash_files(&src) == hl_policy_content_hash(p), "an editor's backup file does not");
    write_wav(wav, 300);
    hl_prompts *set2 = hl_prompts_scan(prompts, hl_policy_prompts(p), NULL, NULL, NULL);
    hl_policy_src src2 = src;
    src2.prompt_set = set2;
    CHECK(hl_policy_hash_files(&src2) != hl_policy_content_hash(p), "a changed WAV changes the hash");
    hl_prompts_unref(set2);
    hl_policy_unref(p);
    rm_rf(dir);
    return 0;
}

TEST_IMPL(reload_diff)
{
    char dir[] = "/tmp/hl_test_diff_XXXXXX", old[300], new[300], d[400];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(old, sizeof old, "%s/old", dir);
    snprintf(new, sizeof new, "%s/new", dir);
    const char *parts[] = { "scripts", "rules" };
    for (int i = 0; i < 2; i++) {
        mkdir(old, 0700), mkdir(new, 0700);
        snprintf(d, sizeof d, "%s/%s", old, parts[i]), mkdir(d, 0700), put(d, "x.lua", "a\nb\n");
        snprintf(d, sizeof d, "%s/%s", new, parts[i]), mkdir(d, 0700), put(d, "x.lua", "a\nb\n");
    }
    char why[300] = "";
    char *diff = hl_reload_diff(old, new, why, sizeof why);
    CHECK(diff && !*diff, "equal files: an empty diff (%s)", why);
    free(diff);

    snprintf(d, sizeof d, "%s/rules", new);
    put(d, "x.lua", "a\nc\n");
    put(d, "added.lua", "new\n");
    diff = hl_reload_diff(old, new, why, sizeof why);
    CHECK(diff && strstr(diff, "--- a/rules/x.lua") && strstr(diff, "+++ b/rules/x.lua") && strstr(diff, "\n-b\n") &&
          strstr(diff, "\n+c\n") && strstr(diff, "+++ b/rules/added.lua") && !strstr(diff, dir),
          "a unified diff with a/ and b/ paths: %s", diff ? diff : why);
    free(diff);

    char *big = malloc(3 * HL_RELOAD_DIFF_MAX);
    for (int i = 0; i < 3 * HL_RELOAD_DIFF_MAX - 1; i++)
        big[i] = i % 40 == 39 ? '\n' : 'x';
    big[3 * HL_RELOAD_DIFF_MAX - 1] = 0;
    put(d, "big.lua", big);
    free(big);
    diff = hl_reload_diff(old, new, why, sizeof why);
    CHECK(diff && strlen(diff) <= HL_RELOAD_DIFF_MAX + 160 && strstr(diff, "[diff cut at"),
          "a long diff is cut (%zu bytes)", diff ? strlen(diff) : 0);
    free(diff);
    rm_rf(dir);

    char who[64] = "";
    hl_reload_who_add(who, sizeof who, "file watch");
    hl_reload_who_add(who, sizeof who, "file watch");
    hl_reload_who_add(who, sizeof who, "SIGHUP");
    CHECK(!strcmp(who, "file watch, SIGHUP"), "askers joined once each: %s", who);
    hl_reload_who_ctl(0, who, sizeof who);
    CHECK(!strcmp(who, "ctl root (uid 0)"), "uid 0 is root: %s", who);
    return 0;
}

TEST_IMPL(reload_log_line)
{
    char line[200];
    /* 2026-11-30 07:28:35.265 UTC: the line must show that instant in the centre's zone
     * (core/clock.h's offset), with the offset written out */
    double wall = 1796023715.265;
    hl_log_format_prefix(line, sizeof line, HL_LOG_WARN, true, wall, "reload");
    struct tm tm = { 0 };
    int ms = -1, zh = -1, zm = -1, used = 0;
    char sign = 0;
    int got = sscanf(line, "<4>%4d-%2d-%2dT%2d:%2d:%2d.%3d%c%2d:%2d WARN  reload: %n", &tm.tm_year, &tm.tm_mon,
                     &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &sign, &zh, &zm, &used);
    CHECK(got == 10 && used == (int)strlen(line) && (sign == '+' || sign == '-'), "prefix shape: '%s'", line);
    long offset = (sign == '-' ? -1 : 1) * (zh * 3600L + zm * 60L);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    CHECK(offset == HL_CENTRE_UTC_OFFSET, "the offset written is the centre's: %s", line);
    CHECK(timegm(&tm) - offset == (time_t)wall && ms == 265, "the instant shown is the instant logged: %s", line);
    hl_log_format_prefix(line, sizeof line, HL_LOG_ERROR, true, wall, "x");
    CHECK(!strncmp(line, "<3>", 3), "error is <3>");
    hl_log_format_prefix(line, sizeof line, HL_LOG_INFO, true, wall, "x");
    CHECK(!strncmp(line, "<6>", 3), "info is <6>");
    hl_log_format_prefix(line, sizeof line, HL_LOG_DEBUG, false, wall, "x");
    CHECK(line[0] != '<' && strstr(line, " DEBUG x: "), "no prefix without journald: %s", line);

    struct stat st;
    char js[64];
    CHECK(fstat(2, &st) == 0, "fstat stderr");
    snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
    CHECK(hl_log_stderr_is_journal(js), "JOURNAL_STREAM naming stderr");
    snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino + 1);
    CHECK(!hl_log_stderr_is_journal(js), "JOURNAL_STREAM of another stream (inherited)");
    CHECK(!hl_log_stderr_is_journal(NULL) && !hl_log_stderr_is_journal("junk"), "unset or junk");
    return 0;
}
