/* test_fax.c — hl_fax end to end in memory: a sending and a receiving session joined back
 * to back (each one's tx is the other's rx, 160 samples a step as the media tick does),
 * straight and through G.711 u-law/A-law as on a line.  Checks that T.30 completes, the
 * pages received equal the pages sent, idents cross, and the received TIFF has the same
 * pages, sizes and pixels as the document; plus bad files, the time limit and stopping.
 * Documents: build/fax/doc-N.tif (tests/tools/fax.mk.inc makes them; HL_FAX_DIR overrides). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <tiffio.h>
#include <spandsp.h>
#include "fax/fax.h"
#include "rtp/g711.h"

#include "unit.h"

#define FRAME 160                       /* 20 ms at 8 kHz, one media tick */
#define MAX_STEPS (10 * 60 * 50)        /* 10 minutes of audio: far more than any test needs */
#define LINE_LINEAR (-1)

typedef struct done_rec { int calls; hl_fax_result r; } done_rec;

static void on_done(void *arg, const hl_fax_result *r)
{
    done_rec *d = arg;
    d->calls++;
    d->r = *r;
}

static char doc_dir[256], tmp_dir[256];

static void doc_path(char *out, size_t n, int doc)
{
    snprintf(out, n, "%s/doc-%d.tif", doc_dir, doc);
}

/* One step of the line: each side's frame to the other, optionally through G.711. */
static void line_pass(int pt, const int16_t *in, int16_t *out)
{
    if (pt == LINE_LINEAR) { memcpy(out, in, FRAME * sizeof *in); return; }
    uint8_t code[FRAME];
    hl_g711_encode(pt, in, code, FRAME);
    hl_g711_decode(pt, code, out, FRAME);
}

/* Runs both sessions until both ended; returns the audio steps taken. */
static int run_pair(hl_fax *a, hl_fax *b, int pt, int max_steps)
{
    int16_t ta[FRAME], tb[FRAME], ra[FRAME], rb[FRAME];
    int step;
    for (step = 0; step < max_steps && !(hl_fax_done(a) && hl_fax_done(b)); step++) {
        hl_fax_tx(a, ta, FRAME);
        hl_fax_tx(b, tb, FRAME);
        line_pass(pt, ta, rb);
        line_pass(pt, tb, ra);
        hl_fax_rx(a, ra, FRAME);
        hl_fax_rx(b, rb, FRAME);
    }
    return step;
}

/* Compares two TIFF files page by page: count, sizes, decoded pixels.  Returns mismatches
 * (0 = same) and says what differs. */
static int tiff_compare(const char *sent, const char *got, int *pages_out)
{
    TIFF *a = TIFFOpen(sent, "r"), *b = TIFFOpen(got, "r");
    int bad = 0, pages = 0;
    if (!a || !b) {
        printf("  cannot open %s\n", !a ? sent : got);
        if (a) TIFFClose(a);
        if (b) TIFFClose(b);
        return 1;
    }
    do {
        uint32_t wa = 0, ha = 0, wb = 0, hb = 0;
        TIFFGetField(a, TIFFTAG_IMAGEWIDTH, &wa);  TIFFGetField(a, TIFFTAG_IMAGELENGTH, &ha);
        TIFFGetField(b, TIFFTAG_IMAGEWIDTH, &wb);  TIFFGetField(b, TIFFTAG_IMAGELENGTH, &hb);
        pages++;
        if (wa != wb || ha != hb) {
            printf("  page %d: sent %ux%u, received %ux%u\n", pages, wa, ha, wb, hb);
            bad++;
            continue;
        }
        tmsize_t sz = TIFFScanlineSize(a);
        unsigned char *la = malloc(sz), *lb = malloc(TIFFScanlineSize(b));
        int rows_diff = 0;
        for (uint32_t y = 0; y < ha; y++) {
            if (TIFFReadScanline(a, la, y, 0) < 0 || TIFFReadScanline(b, lb, y, 0) < 0) {
                printf("  page %d: read error at row %u\n", pages, y);
                rows_diff++;
                break;
            }
            if (memcmp(la, lb, (size_t)sz) != 0) rows_diff++;
        }
        if (rows_diff) { printf("  page %d: %d row(s) differ\n", pages, rows_diff); bad++; }
        free(la); free(lb);
    } while (TIFFReadDirectory(a) && TIFFReadDirectory(b));
    /* both must have run out of pages together */
    if (TIFFReadDirectory(a) || TIFFReadDirectory(b)) { printf("  page counts differ\n"); bad++; }
    TIFFClose(a);
    TIFFClose(b);
    *pages_out = pages;
    return bad;
}

/* Sends document `doc` to a receiver over the line `pt`; checks everything about it. */
static void test_transfer(int doc, int pt, bool no_ecm, const char *what)
{
    char src[512], dst[512], err[256];
    doc_path(src, sizeof src, doc);
    snprintf(dst, sizeof dst, "%s/rx-%d-%s.tif", tmp_dir, doc, what);
    int pages = hl_fax_tiff_pages(src, err, sizeof err);
    CHECK(pages > 0, "%s: pages of %s: %s", what, src, err);

    done_rec ds = {0}, dr = {0};
    hl_fax_opts so = { .calling_party = true, .no_ecm = no_ecm, .on_done = on_done, .arg = &ds };
    hl_fax_opts ro = { .local_ident = "RX-TEST", .no_ecm = no_ecm, .on_done = on_done, .arg = &dr };
    hl_fax *s = hl_fax_new_send(src, &so, err, sizeof err);
    CHECK(s != NULL, "%s: new_send: %s", what, err);
    hl_fax *r = hl_fax_new_receive(dst, &ro, err, sizeof err);
    CHECK(r != NULL, "%s: new_receive: %s", what, err);
    if (!s || !r) { hl_fax_free(s); hl_fax_free(r); return; }

    int steps = run_pair(s, r, pt, MAX_STEPS);
    CHECK(hl_fax_done(s) && hl_fax_done(r), "%s: not finished after %d steps", what, steps);
    CHECK(ds.calls == 1 && dr.calls == 1, "%s: on_done called %d/%d times", what, ds.calls, dr.calls);
    CHECK(ds.r.ok, "%s: sender: %s (%d)", what, ds.r.reason, ds.r.status);
    CHECK(dr.r.ok, "%s: receiver: %s (%d)", what, dr.r.reason, dr.r.status);
    CHECK(ds.r.sending && !dr.r.sending, "%s: directions", what);
    CHECK(ds.r.pages == pages, "%s: pages sent %d of %d", what, ds.r.pages, pages);
    CHECK(dr.r.pages == pages, "%s: pages received %d of %d", what, dr.r.pages, pages);
    CHECK(ds.r.pages_in_file == pages, "%s: pages_in_file %d", what, ds.r.pages_in_file);
    CHECK(strcmp(ds.r.remote_ident, "RX-TEST") == 0, "%s: sender saw '%s'", what, ds.r.remote_ident);
    CHECK(strcmp(dr.r.remote_ident, HL_FAX_DEFAULT_IDENT) == 0, "%s: receiver saw '%s'", what, dr.r.remote_ident);
    CHECK(ds.r.ecm == !no_ecm, "%s: ECM %d", what, ds.r.ecm);
    int got_pages = 0;
    CHECK(tiff_compare(src, dst, &got_pages) == 0, "%s: received image differs from %s", what, src);
    CHECK(got_pages == pages, "%s: received file has %d page(s)", what, got_pages);
    CHECK(hl_fax_tiff_pages(dst, err, sizeof err) == pages, "%s: spandsp counts the received file", what);
    printf("  %s: doc-%d, %d page(s) in %.1f s of audio at %d bps%s\n", what, doc, dr.r.pages,
           steps * FRAME / 8000.0, ds.r.bit_rate, ds.r.ecm ? ", ECM" : "");
    hl_fax_free(s);
    hl_fax_free(r);
    unlink(dst);
}

static void test_bad_files(void)
{
    char err[256], path[512];
    hl_fax_opts o = { .calling_party = true };
    CHECK(hl_fax_new_send("/nonexistent/doc.tif", &o, err, sizeof err) == NULL, "missing doc accepted");
    CHECK(strstr(err, "cannot read") != NULL, "missing doc error: %s", err);
    snprintf(path, sizeof path, "%s/not-a-tiff.tif", tmp_dir);
    FILE *fp = fopen(path, "w");
    fputs("this is not a TIFF\n", fp);
    fclose(fp);
    TIFFErrorHandler old = TIFFSetErrorHandler(NULL);    /* libtiff would print about it */
    CHECK(hl_fax_new_send(path, &o, err, sizeof err) == NULL, "text file accepted as a fax");
    CHECK(hl_fax_tiff_pages(path, err, sizeof err) < 0, "text file has pages");
    TIFFSetErrorHandler(old);
    unlink(path);
    CHECK(hl_fax_tiff_pages(NULL, err, sizeof err) < 0, "NULL path has pages");
    snprintf(path, sizeof path, "%s/a-file", tmp_dir);    /* a folder that is a file */
    fp = fopen(path, "w");
    fclose(fp);
    char under[600];
    snprintf(under, sizeof under, "%s/in.tif", path);
    CHECK(hl_fax_new_receive(under, &o, err, sizeof err) == NULL, "receive under a file accepted");
    unlink(path);
    snprintf(under, sizeof under, "%s/new/sub/in.tif", tmp_dir);   /* folders are made */
    hl_fax *f = hl_fax_new_receive(under, &o, err, sizeof err);
    CHECK(f != NULL, "receive into new folders: %s", err);
    hl_fax_free(f);
    snprintf(under, sizeof under, "%s/new/sub", tmp_dir);
    rmdir(under);
    snprintf(under, sizeof under, "%s/new", tmp_dir);
    rmdir(under);
    CHECK(hl_fax_new_receive("", &o, err, sizeof err) == NULL, "receive into '' accepted");
}

/* A receiver nobody calls ends at its time limit, with our status. */
static void test_time_limit(void)
{
    char dst[512], err[256];
    snprintf(dst, sizeof dst, "%s/rx-timeout.tif", tmp_dir);
    done_rec d = {0};
    hl_fax_opts o = { .max_ms = 2000, .on_done = on_done, .arg = &d };
    hl_fax *r = hl_fax_new_receive(dst, &o, err, sizeof err);
    CHECK(r != NULL, "new_receive: %s", err);
    if (!r) return;
    int16_t buf[FRAME] = {0};
    int steps = 0;
    for (; steps < 500 && !hl_fax_done(r); steps++) {
        hl_fax_tx(r, buf, FRAME);
        memset(buf, 0, sizeof buf);
        hl_fax_rx(r, buf, FRAME);
    }
    CHECK(hl_fax_done(r) && steps == 100, "time limit: done %d after %d steps", hl_fax_done(r), steps);
    CHECK(d.calls == 1 && d.r.status == HL_FAX_STATUS_TIMEOUT && !d.r.ok,
          "time limit result: calls %d status %d", d.calls, d.r.status);
    CHECK(d.r.pages == 0, "time limit pages %d", d.r.pages);
    hl_fax_tx(r, buf, FRAME);
    int silent = 1;
    for (int i = 0; i < FRAME; i++) if (buf[i]) silent = 0;
    CHECK(silent, "ended session sends silence");
    hl_fax_stop(r);
    CHECK(d.calls == 1, "stop after the end calls on_done again");
    hl_fax_free(r);
    unlink(dst);
}

/* The call ends in the middle: stop gives STOPPED once; the other side keeps going. */
static void test_stop(void)
{
    char src[512], dst[512], err[256];
    doc_path(src, sizeof src, 1);
    snprintf(dst, sizeof dst, "%s/rx-stop.tif", tmp_dir);
    done_rec ds = {0}, dr = {0};
    hl_fax_opts so = { .calling_party = true, .on_done = on_done, .arg = &ds };
    hl_fax_opts ro = { .on_done = on_done, .arg = &dr };
    hl_fax *s = hl_fax_new_send(src, &so, err, sizeof err);
    hl_fax *r = hl_fax_new_receive(dst, &ro, err, sizeof err);
    CHECK(s && r, "stop: set-up: %s", err);
    if (!s || !r) { hl_fax_free(s); hl_fax_free(r); return; }
    run_pair(s, r, HL_G711_PT_PCMU, 5 * 50);           /* 5 s: into phase B */
    CHECK(!hl_fax_done(s), "stop: finished too early");
    hl_fax_stop(s);
    CHECK(hl_fax_done(s) && ds.calls == 1, "stop: done %d, calls %d", hl_fax_done(s), ds.calls);
    CHECK(ds.r.status == T30_ERR_CALLDROPPED && !ds.r.ok, "stop: status %d (%s)", ds.r.status, ds.r.reason);
    hl_fax_stop(s);
    CHECK(ds.calls == 1, "stop twice");
    hl_fax_free(s);
    hl_fax_free(r);                                    /* mid-session: no on_done */
    CHECK(dr.calls == 0, "free mid-session called on_done");
    unlink(dst);
}

/* The receiver ends at the sender's DCN and its side hangs up at once (a fax machine does):
 * stopping the sender then is the normal end, T.30 keeps it OK with every page. */
static void test_hangup_after_dcn(void)
{
    char src[512], dst[512], err[256];
    doc_path(src, sizeof src, 1);
    snprintf(dst, sizeof dst, "%s/rx-dcn.tif", tmp_dir);
    done_rec ds = {0}, dr = {0};
    hl_fax_opts so = { .calling_party = true, .on_done = on_done, .arg = &ds };
    hl_fax_opts ro = { .on_done = on_done, .arg = &dr };
    hl_fax *s = hl_fax_new_send(src, &so, err, sizeof err);
    hl_fax *r = hl_fax_new_receive(dst, &ro, err, sizeof err);
    CHECK(s && r, "dcn: set-up: %s", err);
    if (!s || !r) { hl_fax_free(s); hl_fax_free(r); return; }
    int16_t ts[FRAME], tr[FRAME], x[FRAME];
    for (int i = 0; i < MAX_STEPS && !hl_fax_done(r); i++) {
        hl_fax_tx(s, ts, FRAME);
        hl_fax_tx(r, tr, FRAME);
        line_pass(HL_G711_PT_PCMU, ts, x);
        hl_fax_rx(r, x, FRAME);
        line_pass(HL_G711_PT_PCMU, tr, x);
        hl_fax_rx(s, x, FRAME);
    }
    CHECK(dr.calls == 1 && dr.r.ok && dr.r.pages == 2, "dcn: receiver %s, %d pages", dr.r.reason, dr.r.pages);
    if (!hl_fax_done(s)) hl_fax_stop(s);
    CHECK(ds.calls == 1 && ds.r.ok && ds.r.pages == 2, "dcn: sender after hang-up: %s (%d), %d pages",
          ds.r.reason, ds.r.status, ds.r.pages);
    hl_fax_free(s);
    hl_fax_free(r);
    unlink(dst);
}

TEST_IMPL(fax)
{
    const char *dir = getenv("HL_FAX_DIR");
    snprintf(doc_dir, sizeof doc_dir, "%s", dir && *dir ? dir : "build/fax");
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/hl-test-fax-XXXXXX");
    if (!mkdtemp(tmp_dir)) { perror("mkdtemp"); return 1; }

    char err[256], path[512];
    int expect[4] = { 0, 2, 1, 3 };     /* FAX_DOCS of tests/tools/fax.mk.inc */
    for (int d = 1; d <= 3; d++) {
        doc_path(path, sizeof path, d);
        int p = hl_fax_tiff_pages(path, err, sizeof err);
        CHECK(p == expect[d], "doc-%d has %d page(s), want %d (%s)", d, p, expect[d], p < 0 ? err : "");
    }
    test_transfer(1, LINE_LINEAR, false, "linear-ecm");
    test_transfer(1, HL_G711_PT_PCMU, false, "ulaw-ecm");
    test_transfer(2, HL_G711_PT_PCMA, false, "alaw-ecm-standard-g3");
    test_transfer(3, HL_G711_PT_PCMU, true, "ulaw-no-ecm");
    test_bad_files();
    test_time_limit();
    test_stop();
    test_hangup_after_dcn();
    rmdir(tmp_dir);
    return 0;
}
