/* prompts.c — the prompt library: name validation, loading, decoding and caching of
 * prompts and rendered tones (see prompts.h).  Two kinds of library: a lazy one (loads a
 * prompt on first use; a missing or corrupt prompt is not cached, so a file added later is
 * found), and a snapshot (hl_prompts_scan: every WAV of the folder loaded at once, hashed,
 * and fixed for the snapshot's life: what a policy version plays). */
#include "media/prompts.h"
#include "core/files.h"
#include "media/tones.h"
#include "media/wav.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PROMPT_BUCKETS 256      /* a hotline has a few hundred prompts */
#define TONE_PREFIX    "tone:"
#define SILENCE_PREFIX "silence:"

typedef struct entry {
    struct entry *next;
    hl_prompt     p;
    char          key[];       /* the prompt name, or "tone:NAME" */
} entry;

/* One prompt's decoded audio, shared by the snapshots whose file did not change between
 * them.  Snapshots are built on the reload worker while the loop frees older ones: the
 * count is atomic. */
typedef struct audio {
    int      refs;
    int16_t *samples;
    int      n;
} audio;

/* One WAV of a snapshot, as scanned: what the next scan compares (size, mtime) to know
 * whether it must read the file again. */
typedef struct pfile {
    char     *name;            /* "topics/pension_age" */
    long long size, mtime_ns;
    uint32_t  hash;            /* FNV-1a of the file's bytes */
    audio    *a;
    hl_prompt pr;              /* what hl_prompts_get hands out */
} pfile;

struct hl_prompts {
    char   dir[512];
    int    refs;               /* atomic: see audio */
    bool   snapshot;
    pfile *files;              /* snapshot: sorted by name, never changed after the scan */
    int    nfiles;
    uint32_t hash;             /* snapshot: over every file's name and hash */
    entry *buckets[PROMPT_BUCKETS]; /* lazy prompts, and tones (rendered on first use) */
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
    p->refs = 1;
    return p;
}

static void audio_unref(audio *a)
{
    if (a && __atomic_sub_fetch(&a->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        free(a->samples);
        free(a);
    }
}

void hl_prompts_ref(hl_prompts *p)
{
    if (p)
        __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
}

void hl_prompts_free(hl_prompts *p) { hl_prompts_unref(p); }

void hl_prompts_unref(hl_prompts *p)
{
    if (!p || __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    for (int i = 0; i < p->nfiles; i++) {
        free(p->files[i].name);
        audio_unref(p->files[i].a);
    }
    free(p->files);
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

static int by_name(const void *a, const void *b)
{
    return strcmp(((const pfile *)a)->name, ((const pfile *)b)->name);
}

static const hl_prompt *snapshot_get(hl_prompts *p, const char *name, char *err, int errlen)
{
    pfile key = { .name = (char *)name };
    pfile *f = p->files ? bsearch(&key, p->files, p->nfiles, sizeof *f, by_name) : NULL;
    if (f)
        return &f->pr;
    if (err && errlen > 0)
        snprintf(err, errlen, "prompt '%s': no %s/%s.wav in this policy version (add it, then reload)",
                 name, p->dir, name);
    return NULL;
}

const hl_prompt *hl_prompts_get(hl_prompts *p, const char *name, char *err, int errlen)
{
    if (!p || !hl_prompt_name_valid(name)) {
        fail(err, errlen, "prompt '%.160s' is not a valid name", name ? name : "(null)");
        return NULL;
    }
    if (p->snapshot)
        return snapshot_get(p, name, err, errlen);
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
    for (int i = 0; p && i < p->nfiles; i++) {
        (*count)++;
        *bytes += (long)p->files[i].a->n * 2;
    }
}

/* ---- snapshots ------------------------------------------------------------------------ */

static uint32_t fnv1a(uint32_t h, const void *data, size_t n)
{
    const unsigned char *s = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 16777619u;
    return h;
}

/* The previous snapshot's entry for name when the file still has its size and mtime. */
static const pfile *unchanged_in(const hl_prompts *prev, const char *name, const struct stat *st)
{
    if (!prev || !prev->files)
        return NULL;
    pfile key = { .name = (char *)name };
    const pfile *f = bsearch(&key, prev->files, prev->nfiles, sizeof *f, by_name);
    long long mtime = (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    return f && f->size == (long long)st->st_size && f->mtime_ns == mtime ? f : NULL;
}

/* Reads, hashes and decodes one WAV into f; 0, or -1 with why. */
static int load_file(pfile *f, const char *path, char *why, int whylen)
{
    size_t len;
    uint8_t *buf = (uint8_t *)hl_file_read(path, HL_PROMPT_FILE_MAX, &len);
    if (!buf) {
        snprintf(why, whylen, "cannot read (or over %d MB)", HL_PROMPT_FILE_MAX >> 20);
        return -1;
    }
    f->hash = fnv1a(2166136261u, buf, len);
    audio *a = calloc(1, sizeof *a);
    int rc = a ? hl_wav_decode(buf, len, &a->samples, &a->n, why, whylen) : -1;
    free(buf);
    if (rc) {
        free(a);
        return -1;
    }
    a->refs = 1;
    f->a = a;
    return 0;
}

/* Fills f for DIR/NAME.wav: shares prev's audio when unchanged, else loads it. */
static int scan_one(hl_prompts *p, const hl_prompts *prev, pfile *f, const char *name,
                    hl_prompts_scan_stats *stats, char *why, int whylen)
{
    char path[sizeof p->dir + HL_PROMPT_NAME_MAX + 8];
    snprintf(path, sizeof path, "%s/%.*s.wav", p->dir, HL_PROMPT_NAME_MAX, name);
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(why, whylen, "vanished during the scan");
        return -1;
    }
    f->size = (long long)st.st_size;
    f->mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    const pfile *old = unchanged_in(prev, name, &st);
    if (old) {
        f->hash = old->hash;
        f->a = old->a;
        __atomic_add_fetch(&f->a->refs, 1, __ATOMIC_RELAXED);
        stats->reused++;
    } else {
        if (load_file(f, path, why, whylen))
            return -1;
        stats->read++;
    }
    f->name = strdup(name);
    f->pr = (hl_prompt){ .name = f->name, .samples = f->a->samples, .nsamples = f->a->n };
    return 0;
}

hl_prompts *hl_prompts_scan(const char *dir, const hl_prompts *prev, hl_prompts_scan_stats *stats,
                            hl_prompt_skip_fn skipped, void *arg)
{
    hl_prompts_scan_stats dummy;
    if (!stats)
        stats = &dummy;
    memset(stats, 0, sizeof *stats);
    hl_prompts *p = hl_prompts_new(dir);
    if (!p)
        return NULL;
    p->snapshot = true;
    p->hash = 2166136261u;
    hl_strv list = { 0 };
    hl_files_collect(p->dir, ".wav", HL_PROMPT_MAX_DEPTH, false, &list);
    hl_strv_sort(&list);   /* the hash must not depend on directory order */
    p->files = calloc(list.n ? list.n : 1, sizeof *p->files);
    for (int i = 0; p->files && i < list.n; i++) {
        char name[HL_PROMPT_NAME_MAX + 8], why[200];
        snprintf(name, sizeof name, "%.*s", (int)strlen(list.v[i]) - 4, list.v[i]);
        if (!hl_prompt_name_valid(name))
            continue;   /* no script can name it */
        pfile *f = &p->files[p->nfiles];
        if (scan_one(p, prev, f, name, stats, why, sizeof why)) {
            stats->skipped++;
            if (skipped)
                skipped(arg, name, why);
            continue;
        }
        p->hash = fnv1a(p->hash, f->name, strlen(f->name) + 1);
        p->hash = fnv1a(p->hash, &f->hash, sizeof f->hash);
        p->nfiles++;
    }
    hl_strv_free(&list);
    if (!p->files) {
        hl_prompts_unref(p);
        return NULL;
    }
    /* sorted by the collation of the .wav paths; bsearch needs the names' own order */
    qsort(p->files, p->nfiles, sizeof *p->files, by_name);
    return p;
}

uint32_t hl_prompts_hash(const hl_prompts *p) { return p ? p->hash : 0; }

int hl_prompts_count(const hl_prompts *p) { return p ? p->nfiles : 0; }

const char *hl_prompts_dir(const hl_prompts *p) { return p ? p->dir : ""; }
