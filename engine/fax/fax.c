/* fax.c — hl_fax: one T.30 audio fax session (send or receive a TIFF) on spandsp.
 * Owns the spandsp fax_state_t, the session's time limit and its result; see fax.h. */
#include "fax/fax.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <spandsp.h>
#include "core/files.h"
#include "core/log.h"

#define FAX_RATE_HZ      8000
/* spandsp wants a writable buffer for fax_rx; we copy received audio through this many
 * samples at a time (any size works; 20 ms frames are 160). */
#define FAX_RX_CHUNK     320
/* T.30 identities are at most 20 characters (T.30 5.3.6.2.4). */
#define FAX_IDENT_MAX    20

struct hl_fax {
    fax_state_t  *fs;
    t30_state_t  *t30;
    hl_fax_opts   opts;
    hl_fax_result result;
    bool          done;
    bool          freeing;      /* fax_free must not reach the caller's on_done */
    int           stop_status;  /* 0, or HL_FAX_STATUS_* when we end the session */
    int64_t       samples_rx;
    int64_t       max_samples;
    char          rx_path[1024]; /* receiving: the TIFF libtiff makes (umask's mode) */
};

static void fax_log_line(int level, const char *text)
{
    /* spandsp lines end with a newline; the engine log adds its own. */
    int n = (int)strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) n--;
    hl_debug("fax", "%.*s", n, text);
}

static void fax_fill_stats(hl_fax *f)
{
    t30_stats_t st;
    t30_get_transfer_statistics(f->t30, &st);
    f->result.pages = f->result.sending ? st.pages_tx : st.pages_rx;
    if (f->result.sending && st.pages_in_file >= 0) f->result.pages_in_file = st.pages_in_file;
    f->result.bit_rate = st.bit_rate;
    f->result.ecm = st.error_correcting_mode != 0;
    f->result.duration_ms = (int)(f->samples_rx * 1000 / FAX_RATE_HZ);
    const char *id = t30_get_rx_ident(f->t30);
    snprintf(f->result.remote_ident, sizeof f->result.remote_ident, "%s", id ? id : "");
}

/* Records the end once and tells the owner. */
static void fax_finish(hl_fax *f, int status)
{
    if (f->done) return;
    f->done = true;
    fax_fill_stats(f);
    if (f->rx_path[0])   /* a received fax is the caller's, as recordings (core/files.h) */
        chmod(f->rx_path, HL_PRIVATE_FILE_MODE);
    if (f->stop_status) status = f->stop_status;   /* our end, whatever T.30 was doing */
    f->result.status = status;
    f->result.ok = status == T30_ERR_OK;
    if (status == HL_FAX_STATUS_TIMEOUT)
        snprintf(f->result.reason, sizeof f->result.reason, "time limit reached");
    else if (status == HL_FAX_STATUS_STOPPED)
        snprintf(f->result.reason, sizeof f->result.reason, "stopped (call ended)");
    else
        snprintf(f->result.reason, sizeof f->result.reason, "%s", t30_completion_code_to_str(status));
    hl_info("fax", "%s ended: %s (%d), %d page(s), remote '%s', %d bps%s",
            f->result.sending ? "send" : "receive", f->result.reason, status,
            f->result.pages, f->result.remote_ident, f->result.bit_rate,
            f->result.ecm ? ", ECM" : "");
    if (!f->freeing && f->opts.on_done) f->opts.on_done(f->opts.arg, &f->result);
}

static void fax_phase_e(t30_state_t *s, void *user_data, int completion_code)
{
    fax_finish(user_data, completion_code);
}

static void fax_set_logging(hl_fax *f)
{
    int level = f->opts.debug
        ? SPAN_LOG_SHOW_SEVERITY | SPAN_LOG_SHOW_PROTOCOL | SPAN_LOG_FLOW
        : SPAN_LOG_NONE;
    logging_state_t *ls[2] = { t30_get_logging_state(f->t30), fax_get_logging_state(f->fs) };
    for (int i = 0; i < 2; i++) {
        span_log_set_level(ls[i], level);
        span_log_set_message_handler(ls[i], fax_log_line);
    }
}

/* Common set-up of both directions. */
static hl_fax *fax_new(bool sending, const hl_fax_opts *opts, char *err, int errlen)
{
    hl_fax *f = calloc(1, sizeof *f);
    if (!f) { snprintf(err, errlen, "fax: out of memory"); return NULL; }
    if (opts) f->opts = *opts;
    f->result.sending = sending;
    f->result.pages_in_file = -1;
    f->max_samples = (int64_t)(f->opts.max_ms > 0 ? f->opts.max_ms : HL_FAX_DEFAULT_MAX_MS)
                     * FAX_RATE_HZ / 1000;
    f->fs = fax_init(NULL, f->opts.calling_party);
    if (!f->fs) { free(f); snprintf(err, errlen, "fax: spandsp fax_init failed"); return NULL; }
    f->t30 = fax_get_t30_state(f->fs);
    fax_set_logging(f);

    if (f->opts.local_ident && f->opts.local_ident[0]) {
        char id[FAX_IDENT_MAX + 1];
        snprintf(id, sizeof id, "%s", f->opts.local_ident);
        t30_set_tx_ident(f->t30, id);
    }
    if (f->opts.header_info) t30_set_tx_page_header_info(f->t30, f->opts.header_info);

    /* ECM needs 2-D or T.6 coding; offer every coding of plain fax so any machine fits. */
    t30_set_supported_compressions(f->t30, T30_SUPPORT_T4_1D_COMPRESSION
                                   | T30_SUPPORT_T4_2D_COMPRESSION | T30_SUPPORT_T6_COMPRESSION);
    t30_set_ecm_capability(f->t30, !f->opts.no_ecm);
    t30_set_supported_modems(f->t30, T30_SUPPORT_V27TER | T30_SUPPORT_V29
                             | (f->opts.no_v17 ? 0 : T30_SUPPORT_V17));
    t30_set_phase_e_handler(f->t30, fax_phase_e, f);
    /* Keep sending (silence) between T.30 messages: RTP wants a frame every 20 ms. */
    fax_set_transmit_on_idle(f->fs, 1);
    return f;
}

hl_fax *hl_fax_new_send(const char *tiff_path, const hl_fax_opts *opts, char *err, int errlen)
{
    int pages = hl_fax_tiff_pages(tiff_path, err, errlen);
    if (pages < 0) return NULL;
    hl_fax *f = fax_new(true, opts, err, errlen);
    if (!f) return NULL;
    f->result.pages_in_file = pages;
    t30_set_tx_file(f->t30, tiff_path, -1, -1);
    hl_info("fax", "sending %s (%d page(s))", tiff_path, pages);
    return f;
}

hl_fax *hl_fax_new_receive(const char *tiff_out_path, const hl_fax_opts *opts, char *err, int errlen)
{
    if (!tiff_out_path || !*tiff_out_path) {
        snprintf(err, errlen, "fax: no file to receive into");
        return NULL;
    }
    hl_make_private_parents(tiff_out_path);
    /* spandsp opens the file only when the first page comes; find out now if it can't. */
    FILE *probe = fopen(tiff_out_path, "wb");
    if (!probe) {
        snprintf(err, errlen, "fax: cannot write %s: %s", tiff_out_path, strerror(errno));
        return NULL;
    }
    fclose(probe);
    unlink(tiff_out_path);
    hl_fax *f = fax_new(false, opts, err, errlen);
    if (!f) return NULL;
    snprintf(f->rx_path, sizeof f->rx_path, "%s", tiff_out_path);
    t30_set_rx_file(f->t30, tiff_out_path, -1);
    hl_info("fax", "receiving into %s", tiff_out_path);
    return f;
}

int hl_fax_rx(hl_fax *f, const int16_t *samples, int n)
{
    if (f->done || n <= 0) return n > 0 ? n : 0;
    int16_t buf[FAX_RX_CHUNK];
    for (int off = 0; off < n && !f->done; ) {
        int k = n - off < FAX_RX_CHUNK ? n - off : FAX_RX_CHUNK;
        memcpy(buf, samples + off, (size_t)k * sizeof *buf);
        fax_rx(f->fs, buf, k);
        off += k;
        f->samples_rx += k;
    }
    if (!f->done && f->samples_rx >= f->max_samples) {
        f->stop_status = HL_FAX_STATUS_TIMEOUT;
        t30_terminate(f->t30);
        fax_finish(f, HL_FAX_STATUS_TIMEOUT);
    }
    return n;
}

int hl_fax_tx(hl_fax *f, int16_t *samples, int n)
{
    if (n <= 0) return 0;
    int got = f->done ? 0 : fax_tx(f->fs, samples, n);
    if (got < 0) got = 0;
    if (got < n) memset(samples + got, 0, (size_t)(n - got) * sizeof *samples);
    return n;
}

void hl_fax_stop(hl_fax *f)
{
    if (!f || f->done) return;
    /* T.30 judges the end: while sending its final DCN (or flushing after it) the session
     * is complete and keeps its status; earlier it is T30_ERR_CALLDROPPED.  Phase E runs
     * from inside t30_terminate when a session had begun. */
    t30_terminate(f->t30);
    fax_finish(f, HL_FAX_STATUS_STOPPED);  /* no effect if phase E ran */
}

bool hl_fax_done(const hl_fax *f) { return f->done; }

const hl_fax_result *hl_fax_get_result(const hl_fax *f)
{
    if (!f->done) fax_fill_stats((hl_fax *)f);
    return &f->result;
}

void hl_fax_free(hl_fax *f)
{
    if (!f) return;
    f->freeing = true;
    fax_free(f->fs);
    free(f);
}

int hl_fax_tiff_pages(const char *path, char *err, int errlen)
{
    if (!path || !*path) { snprintf(err, errlen, "fax: no document given"); return -1; }
    if (access(path, R_OK) != 0) {
        snprintf(err, errlen, "fax: cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    t4_tx_state_t *t4 = t4_tx_init(NULL, path, -1, -1);
    if (!t4) {
        snprintf(err, errlen, "fax: %s is not a fax TIFF (1 bit, fax width and resolution)", path);
        return -1;
    }
    int pages = t4_tx_get_pages_in_file(t4);
    t4_tx_free(t4);
    if (pages <= 0) {
        snprintf(err, errlen, "fax: %s has no pages", path);
        return -1;
    }
    return pages;
}
