/* test_conffile.c — the engine's config file reader (core/conffile.c): `name = value` lines
 * with comments and blanks, a wrong line reported with the file and line, and folders
 * relative to the file's own folder. */
#include "core/conffile.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

typedef struct seen {
    char names[8][32], values[8][128];
    int  n;
    const char *refuse;   /* a name the callback refuses */
} seen;

static int collect(void *arg, const char *name, const char *value, char *err, int errlen)
{
    seen *s = arg;
    if (s->refuse && !strcmp(name, s->refuse)) {
        snprintf(err, errlen, "no %s here", name);
        return -1;
    }
    if (s->n < 8) {
        snprintf(s->names[s->n], sizeof s->names[0], "%s", name);
        snprintf(s->values[s->n], sizeof s->values[0], "%s", value);
        s->n++;
    }
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        printf("  (cannot write %s)\n", path);
}

TEST_IMPL(conffile)
{
    char dir[] = "/tmp/hl-unit-conffile.XXXXXX", path[64], err[512];
    if (!mkdtemp(dir))
        FAIL("mkdtemp");
    snprintf(path, sizeof path, "%s/hotline.conf", dir);

    write_file(path, "# a comment\n\n  sip = 127.0.0.1:5060   # where\nrules=rules\n"
                     "data = /var/lib/x y\n");
    seen s = { .n = 0 };
    CHECK(hl_conffile_read(path, collect, &s, err, sizeof err) == 0, "read: %s", err);
    CHECK(s.n == 3, "%d settings", s.n);
    CHECK(!strcmp(s.names[0], "sip") && !strcmp(s.values[0], "127.0.0.1:5060"),
          "'%s' = '%s'", s.names[0], s.values[0]);
    CHECK(!strcmp(s.names[1], "rules") && !strcmp(s.values[1], "rules"));
    CHECK(!strcmp(s.values[2], "/var/lib/x y"), "spaces inside a value stay: '%s'", s.values[2]);

    char want[128];
    s = (seen){ .refuse = "rules" };
    CHECK(hl_conffile_read(path, collect, &s, err, sizeof err) == -1);
    snprintf(want, sizeof want, "%s:4: no rules here", path);
    CHECK(!strcmp(err, want), "the callback's refusal with file and line: '%s'", err);

    write_file(path, "sip = 1.2.3.4:5060\njust words\n");
    s = (seen){ .n = 0 };
    CHECK(hl_conffile_read(path, collect, &s, err, sizeof err) == -1);
    snprintf(want, sizeof want, "%s:2: ", path);
    CHECK(!strncmp(err, want, strlen(want)) && strstr(err, "name = value"), "'%s'", err);

    write_file(path, "data =\n");
    CHECK(hl_conffile_read(path, collect, &s, err, sizeof err) == -1 && strstr(err, ":1:"), "'%s'", err);
    unlink(path);
    CHECK(hl_conffile_read(path, collect, &s, err, sizeof err) == -1 && strstr(err, "cannot read"),
          "'%s'", err);
    rmdir(dir);

    char out[256];
    CHECK(hl_conffile_path("/etc/hotline/hotline.conf", "rules", out, sizeof out) == 0 &&
          !strcmp(out, "/etc/hotline/rules"), "'%s'", out);
    CHECK(hl_conffile_path("/etc/hotline/hotline.conf", "/var/lib/hotline", out, sizeof out) == 0 &&
          !strcmp(out, "/var/lib/hotline"), "'%s'", out);
    CHECK(hl_conffile_path("hotline.conf", "rules", out, sizeof out) == 0 && !strcmp(out, "rules"),
          "a file in the current folder: '%s'", out);
    CHECK(hl_conffile_path("/hotline.conf", "rules", out, sizeof out) == 0 && !strcmp(out, "/rules"),
          "'%s'", out);
    CHECK(hl_conffile_path("/etc/hotline/hotline.conf", "rules", out, 8) == -1, "too long for out");
    return 0;
}
