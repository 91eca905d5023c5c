/* prompts.h — the prompt library: names to 8 kHz 16-bit audio, loaded once and shared.
 *
 * A prompt name is [a-z0-9_.-]+ with optional sub-folders ("topics/pension_age"); anything
 * with "..", a leading "/", or other characters is refused, so no name leaves the folder.
 * The file is DIR/NAME.wav (PCM16, PCMU or PCMA, 8 kHz mono).  Audio is decoded to linear
 * PCM on first use and cached for the life of the library.  One library per loop. */
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

hl_prompts *hl_prompts_new(const char *dir);
void        hl_prompts_free(hl_prompts *p);
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

#endif
