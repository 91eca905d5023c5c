/* prompts.c — the prompt library: name validation, loading, decoding and caching of
 * prompts and rendered tones (see prompts.h).  A missing or corrupt prompt is not cached,
 * so a file added later is found without a restart. */
#include "media/prompts.h"
#include "media/tones.h"
#include "media/wav.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROMPT_BUCKETS 256      /* a hotline has a few hundred prompts */
#define TONE_PREFIX    "tone:"
#define SILENCE_PREFIX "silence:"

typedef struct entry {
    struct entry *next;
    hl_prompt     p;
    char          key[];       /* the prompt name, or "tone:NAME" */
} entry;

struct hl_prompts {
    char   dir[512];
    entry *buckets[PROMPT_BUCKETS];
    int    count;
    long   bytes;
};

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;               /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % PROMPT_BUCKETS;
}

static int fail(char *err, int errlen, const char *fmt, const char *arg)
{
    if (err && errlen > 0)
        snprintf(err, errlen, fmt, arg);
    return -1;
}

hl_prompts *hl_prompts_new(const char *dir)
{
    hl_prompts *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    snprintf(p->dir, sizeof p->dir, "%s", dir ? dir : ".");
    return p;
}

void hl_prompts_free(hl_prompts *p)
{
    if (!p)
        return;
    for (int i = 0; i < PROMPT_BUCKETS; i++) {
        entry *e = p->buckets[i];
        while (e) {
            entry *next = e->next;
            free((void *)e->p.samples);
            free(e);
            e = next;
        }
    }
    free(p);
}

/* [a-z0-9_.-] in components separated by single '/'; no component may start with '.'
 * (so no "..", ".", or hidden files), no leading or trailing '/'. */
bool hl_prompt_name_valid(const char *name)
{
    if (!name || !*name)
        return false;
    size_t len = strlen(name);
    if (len > HL_PROMPT_NAME_MAX)
        return false;
    bool comp_start = true;
    for (const char *c = name; *c; c++) {
        if (*c == '/') {
            if (comp_start)
                return false;               /* leading '/' or "//" */
            comp_start = true;
            continue;
        }
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
                  *c == '_' || *c == '-' || *c == '.';
        if (!ok || (comp_start && *c == '.'))
            return false;
        comp_start = false;
    }
    return !comp_start;                     /* no trailing '/' */
}

static entry *lookup(hl_prompts *p, const char *key)
{
    for (entry *e = p->buckets[hash(key)]; e; e = e->next)
        if (!strcmp(e->key, key))
            return e;
    return NULL;
}

static entry *insert(hl_prompts *p, const char *key, int16_t *samples, int n)
{
    size_t klen = strlen(key);
    entry *e = malloc(sizeof *e + klen + 1);
    if (!e)
        return NULL;
    memcpy(e->key, key, klen + 1);
    e->p.name = e->key;
    e->p.samples = samples;
    e->p.nsamples = n;
    unsigned h = hash(key);
    e->next = p->buckets[h];
    p->buckets[h] = e;
    p->count++;
    p->bytes += (long)n * 2;
    return e;
}

const hl_prompt *hl_prompts_get(hl_prompts *p, const char *name, char *err, int errlen)
{
    if (!p || !hl_prompt_name_valid(name)) {
        fail(err, errlen, "prompt '%.160s' is not a valid name", name ? name : "(null)");
        return NULL;
    }
    entry *e = lookup(p, name);
    if (e)
        return &e->p;
    char path[sizeof p->dir + HL_PROMPT_NAME_MAX + 8], why[160];
    snprintf(path, sizeof path, "%s/%s.wav", p->dir, name);
    int16_t *s;
    int n;
    if (hl_wav_load(path, &s, &n, why, sizeof why)) {
        if (err && errlen > 0)
            snprintf(err, errlen, "prompt '%s': %s", name, why);
        return NULL;
    }
    e = insert(p, name, s, n);
    if (!e) {
        free(s);
        fail(err, errlen, "prompt '%s': out of memory", name);
        return NULL;
    }
    return &e->p;
}

static const hl_prompt *get_tone(hl_prompts *p, const char *item, char *err, int errlen)
{
    entry *e = lookup(p, item);
    if (e)
        return &e->p;
    int16_t *s;
    int n;
    if (hl_tone_render(item + strlen(TONE_PREFIX), &s, &n)) {
        fail(err, errlen, "unknown tone '%.64s'", item + strlen(TONE_PREFIX));
        return NULL;
    }
    e = insert(p, item, s, n);
    if (!e) {
        free(s);
        fail(err, errlen, "%s: out of memory", item);
        return NULL;
    }
    return &e->p;
}

/* "silence:MS" with MS a plain decimal in 1..HL_SILENCE_MAX_MS; -1 otherwise. */
static int silence_ms(const char *arg)
{
    long ms = 0;
    if (!*arg)
        return -1;
    for (const char *c = arg; *c; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        ms = ms * 10 + (*c - '0');
        if (ms > HL_SILENCE_MAX_MS)
            return -1;
    }
    return ms > 0 ? (int)ms : -1;
}

int hl_prompts_resolve(hl_prompts *p, const char *item, hl_prompt_item *out,
                       char *err, int errlen)
{
    memset(out, 0, sizeof *out);
    if (!p || !item)
        return fail(err, errlen, "%s", "empty playlist item");
    const hl_prompt *pr;
    if (!strncmp(item, SILENCE_PREFIX, strlen(SILENCE_PREFIX))) {
        int ms = silence_ms(item + strlen(SILENCE_PREFIX));
        if (ms < 0)
            return fail(err, errlen, "'%.64s' is not a valid silence (silence:MS)", item);
        out->nsamples = ms * (HL_WAV_RATE / 1000);
        return 0;
    }
    if (!strncmp(item, TONE_PREFIX, strlen(TONE_PREFIX)))
        pr = get_tone(p, item, err, errlen);
    else
        pr = hl_prompts_get(p, item, err, errlen);
    if (!pr)
        return -1;
    out->samples = pr->samples;
    out->nsamples = pr->nsamples;
    return 0;
}

int hl_prompts_item_ms(hl_prompts *p, const char *item)
{
    hl_prompt_item it;
    if (hl_prompts_resolve(p, item, &it, NULL, 0))
        return -1;
    return (int)((long)it.nsamples * 1000 / HL_WAV_RATE);
}

void hl_prompts_usage(const hl_prompts *p, int *count, long *bytes)
{
    *count = p ? p->count : 0;
    *bytes = p ? p->bytes : 0;
}
