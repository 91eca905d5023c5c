/* media.h — the media of real call legs: RTP (oRTP) sessions driven by one 20 ms tick.
 *
 * hl_media_pool belongs to one loop: it owns the RTP port range, the drift-free 20 ms tick
 * (deadlines computed from a start time, so lateness never accumulates) and every active
 * endpoint.  On each tick, for every endpoint it: drains received RTP (only what the
 * endpoint's source latch takes, see latch.h: decode, RFC 4733 events, jitter/loss
 * stats), feeds the recorder and silence
 * detector, and sends one 20 ms frame (bridged peer audio, else playlist, else silence).
 *
 * hl_media is one leg's endpoint.  Events go to the callbacks given at creation, always from
 * the tick, never from inside a call into this API.  Destroy with hl_media_close(): it stops
 * everything and frees asynchronously after libuv has closed the socket handles. */
/* Behaviour details (media engineer):
 *  - hl_media_play replaces a list still playing without any event for the old one;
 *    hl_media_play_stop with nothing playing raises nothing.
 *  - A held endpoint sends nothing (keys queued by hl_media_send_dtmf wait), but its
 *    playlist still advances so on_play_done comes on time.
 *  - Frame priority: a key being sent (RFC 4733, in place of audio), else the bridged
 *    peer's frame of this tick (bytes passed through when both use one codec), else the
 *    playlist, else silence.
 *  - Every key goes to on_dtmf, also during a recording (its stop keys are the call
 *    layer's, so the CDR is the same whichever way a key came).  Silence stops a
 *    recording after silence_ms below the level once speech was heard, or after
 *    silence_ms + 3 s when nothing above the level came at all.  hl_media_close finishes
 *    the file without calling on_record_done (the call layer reports "hangup").
 *  - hl_media_send_dtmf: -1 without a telephone-event type from SDP or for a non-key;
 *    duration_ms <= 0 takes cfg->dtmf_duration_ms; keys queue (16) with 60 ms between.
 *  - hl_media_pool_free must not be called from a media callback; the pool's memory is
 *    released when libuv closes its timer (run the loop once more).
 *  - on_rtp_timeout fires once per silence; packets arriving again re-arm it.  The
 *    timeouts are the pool's at hl_media_new (hl_media_pool_set_live changes later ones).
 *  - hl_rtp_stats.late_samples: ticks of this endpoint's life that ran over 10 ms late.
 *  - A tick that starts a whole tick or more after its deadline is run as the latest tick
 *    due: the missed ones are skipped (hl_media_pool_skipped), never sent in a burst.
 *  - Received RTP/RTCP is taken only as the endpoint's latch says (latch.h): nothing before
 *    hl_media_set_remote, then the SDP's address and port, or one symmetric move to the
 *    address hl_media_set_signalling named; what we send follows the latch.  Dropped
 *    packets count in hl_rtp_stats.dropped and hl_media_pool_dropped, never towards the RTP
 *    timeout, DTMF, recordings or oRTP's statistics.
 *  - Hearing (hl_media_hear): besides its bridged peer, an endpoint may hear up to
 *    HL_MEDIA_HEAR_MAX other endpoints (a supervisor's listen, whisper, barge).  What it
 *    sends is then the sum, as 16-bit linear clipped to the sample range, of the frames of
 *    this tick of every source that received one (peer included); a single source with a
 *    frame is passed through as today (bytes when its codec is ours, else transcoded).
 *    The tick receives every source before the endpoint that hears it sends, each endpoint
 *    once a tick, so no frame is mixed twice or lost.  The lists hold endpoints only (no
 *    call state): hearing is one-way and independent of the bridge (hl_media_unbridge
 *    leaves it); hl_media_close of either side removes the reference (back-references).
 *  - A both-legs recording holds what its endpoint's party says and hears: the mono file
 *    is the party plus every source it hears (peer and, say, a barging supervisor) mixed
 *    and clipped; stereo keeps the party on the left and puts what it hears on the right.
 *    A whisper its party does not hear is not in it.
 *  - hl_rtp_stats.last_voice_ms: the engine time (uv_hrtime in ms, the clock of uv_now) of
 *    the last received frame whose mean |sample| reached the pool's silence_level; 0 when
 *    none came.  Scoring reads it: who hung up first, how long after the other last spoke. */
#ifndef HL_MEDIA_H
#define HL_MEDIA_H
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>
#include "media/latch.h"
#include "media/monitor.h"
#include "media/record.h"
#include "media/prompts.h"

typedef struct hl_media_pool hl_media_pool;
typedef struct hl_media hl_media;

typedef enum { HL_CODEC_PCMU = 0, HL_CODEC_PCMA = 8 } hl_codec;

typedef struct hl_media_callbacks {
    void (*on_dtmf)(void *arg, char digit, int duration_ms);
    void (*on_play_done)(void *arg, bool interrupted);
    void (*on_record_done)(void *arg, const char *reason, int duration_ms);
    void (*on_rtp_timeout)(void *arg);      /* no RTP for the configured time */
} hl_media_callbacks;

typedef struct hl_media_pool_cfg {
    const char *bind_addr;     /* "127.0.0.1" */
    int port_lo, port_hi;      /* even ports in [lo, hi) are RTP, +1 RTCP */
    int rtp_timeout_ms, rtp_hold_timeout_ms;
    int silence_level;
    int dtmf_duration_ms;
    hl_latch_rules latch;      /* which received RTP a call takes (latch.h) */
} hl_media_pool_cfg;

typedef struct hl_rtp_stats {
    uint64_t sent, received, lost;
    double   jitter_ms;
    /* send lateness of the tick, for `make bench` (µs) */
    uint64_t late_samples;
    uint64_t dropped[HL_RTP_DROP_REASONS];  /* received but not the call's (latch.h) */
    uint64_t last_voice_ms;                 /* engine time of the last voiced frame (0 none) */
} hl_rtp_stats;

hl_media_pool *hl_media_pool_new(uv_loop_t *uv, const hl_media_pool_cfg *cfg, hl_prompts *prompts);
/* A reload's new values: the RTP timeouts for endpoints made from now on (one made before
 * keeps its own: calls up keep theirs), silence level and DTMF duration from the next
 * recording or key sent.  The address and port range are the pool's for life (restart). */
void hl_media_pool_set_live(hl_media_pool *pool, const hl_media_pool_cfg *cfg);
/* Stops the tick; endpoints still open are closed. */
void hl_media_pool_free(hl_media_pool *pool);
/* Tick lateness percentiles in microseconds since the pool started (for bench/status). */
void hl_media_pool_lateness(hl_media_pool *pool, double *p50_us, double *p99_us, double *max_us);
/* Starts the lateness figures afresh (e.g. after a benchmark's set-up). */
void hl_media_pool_lateness_reset(hl_media_pool *pool);
/* Ticks skipped because the loop was blocked past the next deadline (since start/reset). */
uint64_t hl_media_pool_skipped(hl_media_pool *pool);
/* Received packets dropped by every endpoint's latch since the pool started, by reason
 * (also closed endpoints'), and how many latches moved by the symmetric rule. */
void hl_media_pool_dropped(const hl_media_pool *pool, uint64_t dropped[HL_RTP_DROP_REASONS],
                           uint64_t *moves);
int  hl_media_pool_active(hl_media_pool *pool);

/* Allocates an RTP/RTCP port pair and an oRTP session.  NULL when no port is free. */
hl_media *hl_media_new(hl_media_pool *pool, const hl_media_callbacks *cb, void *arg);
const char *hl_media_local_addr(const hl_media *m);
int  hl_media_local_port(const hl_media *m);
/* From the remote SDP: where to send, which codec, telephone-event payload type (-1 none).
 * Received RTP is taken only from there (and the payload types named), see latch.h. */
int  hl_media_set_remote(hl_media *m, const char *addr, int port, hl_codec codec, int te_pt);
/* Where the leg's signalling comes from ("ip", "ip:port", "[v6]:port", optionally "/udp"):
 * the one address the symmetric-RTP rule may latch to.  -1 (and no such move) when it is
 * not an address literal. */
int  hl_media_set_signalling(hl_media *m, const char *peer);
/* Held: stop sending (remote asked sendonly/inactive) and use the hold RTP timeout. */
void hl_media_set_held(hl_media *m, bool held);
int  hl_media_play(hl_media *m, const char *const *items, int n, char *err, int errlen);
void hl_media_play_stop(hl_media *m);         /* on_play_done(interrupted=true) follows */
int  hl_media_record_start(hl_media *m, const hl_record_opts *o, char *err, int errlen);
void hl_media_record_stop(hl_media *m);       /* on_record_done("stopped") follows */
int  hl_media_send_dtmf(hl_media *m, char digit, int duration_ms);
/* Audio tap (fax, added by the fax engineer): rx gets this tick's received frame as 8 kHz
 * linear PCM (silence when none came), tx fills the frame to send and returns true to send
 * it, overriding bridge and playlist (a key being sent still goes first).  Both are called
 * from the tick; they may call hl_media_set_tap/hl_media_close.  tap NULL removes it; the
 * hl_media_tap must outlive its use. */
typedef struct hl_media_tap {
    void (*rx)(void *arg, const int16_t *frame, int n);
    bool (*tx)(void *arg, int16_t *frame, int n);
} hl_media_tap;
void hl_media_set_tap(hl_media *m, const hl_media_tap *tap, void *arg);
void hl_media_bridge(hl_media *a, hl_media *b);
void hl_media_unbridge(hl_media *m);
/* One-way hearing beyond the bridge (see the behaviour details above).  hl_media_hear
 * replaces the sources m hears with srcs[0..n) (n = 0: none); hl_media_hear_add adds one
 * (already heard: nothing changes), hl_media_hear_remove takes one away (not heard:
 * nothing).  -1, and nothing changed, for more than HL_MEDIA_HEAR_MAX sources, a source
 * that is m, NULL, closed or already heard by HL_MEDIA_HEARD_BY_MAX endpoints, or a closed
 * m.  A source that is (or becomes) m's bridged peer as well counts once. */
#define HL_MEDIA_HEAR_MAX     3   /* a barge: the other two parties, and room for one more */
#define HL_MEDIA_HEARD_BY_MAX 6   /* endpoints hearing one source: several supervisors */
int  hl_media_hear(hl_media *m, hl_media *const *srcs, int n);
int  hl_media_hear_add(hl_media *m, hl_media *src);
void hl_media_hear_remove(hl_media *m, hl_media *src);
/* m hears no source any more and is no source any more (its bridge stays). */
void hl_media_hear_clear(hl_media *m);
/* A supervisor's endpoint joins the bridged agent and caller as mode says (monitor.h):
 * sup's hearing is replaced (links between sup and others only; the bridge of agent and
 * caller is theirs).  STOP needs only sup.  -1, and sup hears and is heard by nobody, when
 * agent or caller is NULL or hl_media_hear refuses. */
int  hl_media_monitor(hl_media *sup, hl_media *agent, hl_media *caller, hl_monitor_mode mode);
/* How many sources m hears besides its peer (for tests and status). */
int  hl_media_hear_count(const hl_media *m);
void hl_media_get_stats(const hl_media *m, hl_rtp_stats *out);
void hl_media_close(hl_media *m);

/* Repairs WAV files under dir left unfinished by a crash (header sizes from file length),
 * and makes dir, its folders and files private (0750 / 0640) where they were looser.
 * fn (may be NULL) is told of each one repaired: its path relative to dir and the length
 * it holds.  Returns how many were repaired. */
typedef void (*hl_repaired_fn)(void *arg, const char *rel_path, int duration_ms);
int  hl_media_repair_recordings(const char *dir, hl_repaired_fn fn, void *arg);

#endif
