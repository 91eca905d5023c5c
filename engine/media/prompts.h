/* prompts.h — the prompt library: names to 8 kHz 16-bit audio, loaded once and shared.
 *
 * A prompt name is [a-z0-9_.-]+ with optional sub-folders ("topics/pension_age"); anything
 * with "..", a leading "/", or other characters is refused, so no name leaves the folder.
 * The file is DIR/NAME.wav (PCM16, PCMU or PCMA, 8 kHz mono).  Audio is decoded to linear
 * PCM on first use and cached for the life of the library.
 *
 * A snapshot (hl_prompts_scan) holds every WAV of the folder, loaded at once: it is the
 * prompt set of one policy version (lua/script.h), reference-counted like the policy, so a
 * call keeps hearing the audio of the version it started on after a reload.  Its names
 * never change after the scan (a prompt not in it is missing, even if the file appears
 * later); tones are still rendered into it on first use, on the loop thread. */
#ifndef HL_PROMPTS_H
#define HL_PROMPTS_H
#include <stdbool.h>
#include <stdint.h>

typedef struct hl_prompts hl_prompts;

typedef struct hl_prompt {
    const char    *name;
    const int16_t *samples;   /* 8 kHz mono linear PCM */
    int            nsamples;
} hl_prompt;

hl_prompts *hl_prompts_new(const char *dir);      /* lazy; one reference */
void        hl_prompts_free(hl_prompts *p);      /* = hl_prompts_unref */
bool        hl_prompt_name_valid(const char *name);
/* Loads (or finds) a prompt; NULL when the name is invalid or the file missing/corrupt,
 * with the reason in err. */
const hl_prompt *hl_prompts_get(hl_prompts *p, const char *name, char *err, int errlen);
/* Duration in ms of a playlist item: a prompt, "silence:MS" or "tone:NAME"; -1 if unknown. */
int         hl_prompts_item_ms(hl_prompts *p, const char *item);

/* --- additions by the media engineer (used by media.c; others may use them too) --- */

/* Longest prompt name accepted (bytes, without the ".wav"). */
#define HL_PROMPT_NAME_MAX 128
/* Longest "silence:MS" item: ten minutes, far beyond any sensible pause. */
#define HL_SILENCE_MAX_MS 600000

/* A playlist item resolved to audio: a prompt or a tone (samples owned by the library,
 * valid for its life), or silence (samples NULL, nsamples zeros). */
typedef struct hl_prompt_item {
    const int16_t *samples;
    int            nsamples;
} hl_prompt_item;

/* Resolves "NAME", "tone:NAME" or "silence:MS".  0, or -1 with the reason in err. */
int         hl_prompts_resolve(hl_prompts *p, const char *item, hl_prompt_item *out,
                               char *err, int errlen);
/* How many prompts and tones are cached, and their bytes of audio (for status). */
void        hl_prompts_usage(const hl_prompts *p, int *count, long *bytes);

/* --- snapshots (issue 10: prompts are part of the policy) --- */

/* Sub-folders of the prompts folder are read this deep ("topics/pension_age" = 2). */
#define HL_PROMPT_MAX_DEPTH 4
/* A WAV larger than this is refused (ten minutes of 16-bit 8 kHz is 9.6 MB). */
#define HL_PROMPT_FILE_MAX (64 << 20)

typedef struct hl_prompts_scan_stats {
    int reused;    /* same size and mtime as in prev: its audio and hash shared, not read */
    int read;      /* read, hashed and decoded */
    int skipped;   /* unreadable or not a WAV (reported through skipped()) */
} hl_prompts_scan_stats;
typedef void (*hl_prompt_skip_fn)(void *arg, const char *name, const char *why);

/* Every DIR/ **.wav (valid names only) as a snapshot with one reference.  A file whose size
 * and mtime equal its entry in prev (may be NULL) shares that entry's audio and hash; any
 * other is read, hashed (FNV-1a of its bytes) and decoded.  Safe on a worker thread while the
 * loop uses prev (prev's file list is never changed; the caller holds a reference to it). */
hl_prompts *hl_prompts_scan(const char *dir, const hl_prompts *prev, hl_prompts_scan_stats *stats,
                            hl_prompt_skip_fn skipped, void *arg);
void        hl_prompts_ref(hl_prompts *p);
void        hl_prompts_unref(hl_prompts *p);
/* A snapshot's content hash over its names and files' bytes (0 for NULL), and its count. */
uint32_t    hl_prompts_hash(const hl_prompts *p);
int         hl_prompts_count(const hl_prompts *p);
const char *hl_prompts_dir(const hl_prompts *p);

#endif
