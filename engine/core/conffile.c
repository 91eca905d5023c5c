/* conffile.c — reads the engine's `name = value` config file (see conffile.h). */
#include "core/conffile.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* A config file is a screenful; a longer line is a mistake (a binary file, a lost newline). */
#define CONF_LINE_MAX 1024

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

int hl_conffile_read(const char *path, hl_conffile_fn fn, void *arg, char *err, int errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read the config file (%m)", path);
        return -1;
    }
    char line[CONF_LINE_MAX + 2], why[512];
    int rc = 0;
    for (int no = 1; rc == 0 && fgets(line, sizeof line, f); no++) {
        size_t len = strlen(line);
        if (len > CONF_LINE_MAX && line[len - 1] != '\n') {
            snprintf(err, errlen, "%s:%d: line longer than %d bytes", path, no, CONF_LINE_MAX);
            rc = -1;
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected `name = value`, got '%s'", path, no, s);
            rc = -1;
            break;
        }
        *eq = 0;
        char *name = trim(s), *value = trim(eq + 1);
        if (!*name || !*value) {
            snprintf(err, errlen, "%s:%d: expected `name = value` with both given", path, no);
            rc = -1;
        } else if (fn(arg, name, value, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s:%d: %s", path, no, why);
            rc = -1;
        }
    }
    fclose(f);
    return rc;
}

int hl_conffile_path(const char *conf_path, const char *value, char *out, size_t outlen)
{
    int n;
    const char *slash = strrchr(conf_path, '/');
    if (value[0] == '/')
        n = snprintf(out, outlen, "%s", value);
    else if (!slash)
        n = snprintf(out, outlen, "%s", value);
    else
        n = snprintf(out, outlen, "%.*s/%s", (int)(slash - conf_path), conf_path, value);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
