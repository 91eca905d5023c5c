/* tones.c — renders the named tones of tones.h to 8 kHz PCM. */
#include "media/tones.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TONE_RATE       8000
#define TONE_AMPLITUDE  8000    /* about -12 dBFS: loud enough, never clips after G.711 */
#define TONE_RAMP_MS    5       /* fade in/out so on/off edges do not click */
#define NOTE_MS         300     /* hold music: length of one note */
#define NOTE_GAP_MS     30      /* ... and the silence that separates notes */

typedef struct tone_def {
    const char *name;
    double      freq;           /* 0: the melody */
    int         on_ms, off_ms;  /* one cadence */
} tone_def;

static const tone_def tones[] = {
    { "beep",     1000, 200,  0 },
    { "dial",      450, 1000, 0 },
    { "ringback",  450, 1000, 4000 },
    { "busy",      450, 350,  350 },
    { "hold",        0, 0,    0 },
};

/* Jasmine Flower (茉莉花), first phrase, in Hz; 0 is a rest. */
static const double melody[] = {
    329.6, 329.6, 392.0, 440.0, 523.3, 523.3, 440.0, 392.0,
    392.0, 440.0, 392.0, 0,     329.6, 392.0, 440.0, 392.0,
};
#define MELODY_NOTES ((int)(sizeof melody / sizeof melody[0]))

static const tone_def *find(const char *name)
{
    for (size_t i = 0; name && i < sizeof tones / sizeof tones[0]; i++)
        if (!strcmp(tones[i].name, name))
            return &tones[i];
    return NULL;
}

int hl_tone_ms(const char *name)
{
    const tone_def *t = find(name);
    if (!t)
        return -1;
    return t->freq > 0 ? t->on_ms + t->off_ms : MELODY_NOTES * NOTE_MS;
}

/* One sine burst of ms milliseconds at out, with a soft edge. */
static void render_burst(int16_t *out, int ms, double freq, double amp)
{
    int n = ms * TONE_RATE / 1000, ramp = TONE_RAMP_MS * TONE_RATE / 1000;
    for (int i = 0; i < n; i++) {
        double env = 1.0;
        if (i < ramp)
            env = (double)i / ramp;
        else if (n - i < ramp)
            env = (double)(n - i) / ramp;
        double ph = 2 * M_PI * freq * i / TONE_RATE;
        /* A little second harmonic makes the melody sound less like a test tone. */
        double v = freq > 0 ? sin(ph) + (amp < TONE_AMPLITUDE ? 0.3 * sin(2 * ph) : 0) : 0;
        out[i] = (int16_t)lrint(v * amp * env);
    }
}

int hl_tone_render(const char *name, int16_t **samples, int *n)
{
    const tone_def *t = find(name);
    *samples = NULL;
    *n = 0;
    if (!t)
        return -1;
    int total = hl_tone_ms(name) * TONE_RATE / 1000;
    int16_t *s = calloc((size_t)total, sizeof *s);
    if (!s)
        return -1;
    if (t->freq > 0) {
        render_burst(s, t->on_ms, t->freq, TONE_AMPLITUDE);
    } else {
        int per = NOTE_MS * TONE_RATE / 1000;
        for (int k = 0; k < MELODY_NOTES; k++)
            render_burst(s + k * per, NOTE_MS - NOTE_GAP_MS, melody[k], TONE_AMPLITUDE * 0.6);
    }
    *samples = s;
    *n = total;
    return 0;
}
