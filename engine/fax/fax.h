/* fax.h — one T.30 fax session over audio (G.711 on the line), on spandsp's fax_state_t.
 *
 * hl_fax owns a spandsp audio fax terminal (V.17/V.29/V.27ter modems plus T.30, not T.38)
 * that either sends a TIFF-F document or receives one into a TIFF file.  It knows nothing
 * about RTP or calls: whoever carries the audio feeds each received frame to hl_fax_rx()
 * and takes each frame to send from hl_fax_tx(), 8 kHz linear PCM, in step (the media tick
 * gives 160 samples each way every 20 ms).  Time inside the session is counted in samples
 * received, so it runs as fast as it is fed (unit tests) or in real time (calls).
 *
 * The session ends once: T.30 phase E, or the time limit, or hl_fax_stop().  Then
 * on_done(arg, result) is called — from inside hl_fax_rx/hl_fax_tx/hl_fax_stop, so the
 * callback must not free the hl_fax; defer that (hl_fax_done() tells it ended).  After
 * the end hl_fax_tx() gives silence and hl_fax_rx() ignores its input. */
#ifndef HL_FAX_H
#define HL_FAX_H
#include <stdbool.h>
#include <stdint.h>

/* The T.30 identity a fax primitive asks for when its script names none: none of its own,
 * so the leg sends the engine's fax_ident (rules/engine.lua); "" there sends none. */
#define HL_FAX_DEFAULT_IDENT ""
/* A whole session of a few pages takes well under this; a stuck one is ended. */
#define HL_FAX_DEFAULT_MAX_MS (5 * 60 * 1000)
/* T.30 status code we report when our own limit or hl_fax_stop ends the session
 * (spandsp's codes are all >= 0). */
#define HL_FAX_STATUS_TIMEOUT  (-1)
#define HL_FAX_STATUS_STOPPED  (-2)

typedef struct hl_fax hl_fax;

typedef struct hl_fax_result {
    bool ok;                 /* the whole document went across (T30_ERR_OK) */
    bool sending;            /* this side sent (else received) */
    int  pages;              /* pages transferred (sent and confirmed, or received) */
    int  pages_in_file;      /* sending: pages in the document (-1 unknown) */
    int  status;             /* spandsp T30_ERR_* code, or HL_FAX_STATUS_* above */
    char reason[96];         /* t30_completion_code_to_str(status), or ours */
    char remote_ident[24];   /* the far end's TSI/CSI, "" if none */
    int  bit_rate;           /* last image bit rate, bps */
    bool ecm;                /* error correction mode was used */
    int  duration_ms;        /* audio time from start to end */
} hl_fax_result;

typedef void (*hl_fax_done_fn)(void *arg, const hl_fax_result *result);

typedef struct hl_fax_opts {
    const char *local_ident;   /* our TSI/CSI; NULL or "" = send none */
    const char *header_info;   /* text on top of each sent page, NULL = none */
    bool calling_party;        /* we play the caller's T.30 role (CNG, wait for DIS).  The
                                * usual choice: true to send, false to receive; the two
                                * ends of one session must differ. */
    bool no_ecm;               /* ECM (T.30 annex A) is on unless this is set */
    bool no_v17;               /* offer only V.29/V.27ter (9600 bps and less) */
    int  max_ms;               /* whole-session limit, 0 = HL_FAX_DEFAULT_MAX_MS */
    bool debug;                /* spandsp's T.30 log lines to the engine log (debug level) */
    hl_fax_done_fn on_done;
    void          *arg;
} hl_fax_opts;

/* Sends the document tiff_path (every page).  NULL with a message in err when the file is
 * missing or not a fax TIFF spandsp can send. */
hl_fax *hl_fax_new_send(const char *tiff_path, const hl_fax_opts *opts, char *err, int errlen);
/* Receives into tiff_out_path (created or replaced; missing folders above it are made). */
hl_fax *hl_fax_new_receive(const char *tiff_out_path, const hl_fax_opts *opts, char *err, int errlen);

/* Audio from the line, n samples of 8 kHz linear PCM.  Returns n. */
int  hl_fax_rx(hl_fax *f, const int16_t *samples, int n);
/* Audio to the line: always fills all n samples (silence when idle or ended).  Returns n. */
int  hl_fax_tx(hl_fax *f, int16_t *samples, int n);
/* Ends a session still running (the far end hung up, the call is going): on_done follows
 * with T.30's verdict — its status unchanged when only the final goodbye (DCN) was under
 * way, else T30_ERR_CALLDROPPED (HL_FAX_STATUS_STOPPED if T.30 never began).  No effect
 * once ended. */
void hl_fax_stop(hl_fax *f);
bool hl_fax_done(const hl_fax *f);
/* The result so far (pages count up during the session); final once hl_fax_done(). */
const hl_fax_result *hl_fax_get_result(const hl_fax *f);
void hl_fax_free(hl_fax *f);

/* Pages in a fax TIFF as spandsp reads it, or -1 (with err) when it cannot be sent. */
int  hl_fax_tiff_pages(const char *path, char *err, int errlen);

#endif
