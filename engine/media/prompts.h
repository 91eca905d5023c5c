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

#endif
