/* mkfaxdoc.c — writes a sample fax document (TIFF-F) for fax on demand and its tests.
 *
 *   mkfaxdoc OUT.tif DOC_NUMBER PAGES [fine|standard] [g4|g3]
 *
 * Each page is 1728 pixels wide (the ITU-T T.4 A4 scan width), 204 dpi across and 196 dpi
 * (fine) or 98 dpi (standard) down, black on white, 1 bit per pixel.  What is on it is
 * recognisable at a glance and checkable by a program: a frame, big block digits
 * "DOC-PAGE" (e.g. "3-2"), and a band of stripes whose count is the page number.  The same
 * arguments always give the same pixels, so a received copy can be compared exactly.
 * Used by tests/tools/fax.mk.inc to make build/fax/doc-N.tif. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

/* T.4 A4 width in pixels at 8 pels/mm; every fax machine accepts it. */
#define FAX_WIDTH        1728
#define FAX_BYTES_ROW    (FAX_WIDTH / 8)
#define FAX_XRES_DPI     204.0
#define FAX_YRES_FINE    196.0
#define FAX_YRES_STD     98.0
/* Page length in fine rows: half an A4 page; keeps transfer time (and tests) short while
 * still being a real multi-thousand-row page.  Standard resolution halves the rows. */
#define FAX_ROWS_FINE    1100
#define MAX_PAGES        9

/* 5x7 block font for the characters we draw; each row is 5 bits, MSB left. */
static const unsigned char FONT[12][7] = {
    {0x0E,0x11,0x13,0x15,0x19,0x11,0x0E}, /* 0 */
    {0x04,0x0C,0x04,0x04,0x04,0x04,0x0E}, /* 1 */
    {0x0E,0x11,0x01,0x02,0x04,0x08,0x1F}, /* 2 */
    {0x1F,0x02,0x04,0x02,0x01,0x11,0x0E}, /* 3 */
    {0x02,0x06,0x0A,0x12,0x1F,0x02,0x02}, /* 4 */
    {0x1F,0x10,0x1E,0x01,0x01,0x11,0x0E}, /* 5 */
    {0x06,0x08,0x10,0x1E,0x11,0x11,0x0E}, /* 6 */
    {0x1F,0x01,0x02,0x04,0x08,0x08,0x08}, /* 7 */
    {0x0E,0x11,0x11,0x0E,0x11,0x11,0x0E}, /* 8 */
    {0x0E,0x11,0x11,0x0F,0x01,0x02,0x0C}, /* 9 */
    {0x00,0x00,0x00,0x1F,0x00,0x00,0x00}, /* - */
    {0x00,0x00,0x00,0x00,0x00,0x00,0x00}, /* space */
};

static int glyph_index(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    return c == '-' ? 10 : 11;
}

/* Black pixel = bit set (PHOTOMETRIC_MINISWHITE), MSB is the leftmost pixel. */
static void set_px(unsigned char *img, int rows, int x, int y)
{
    if (x < 0 || x >= FAX_WIDTH || y < 0 || y >= rows) return;
    img[(size_t)y * FAX_BYTES_ROW + x / 8] |= (unsigned char)(0x80 >> (x % 8));
}

static void fill_rect(unsigned char *img, int rows, int x0, int y0, int w, int h)
{
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++)
            set_px(img, rows, x, y);
}

/* Draws text with cells of cw x ch pixels per font dot. */
static void draw_text(unsigned char *img, int rows, const char *s, int x0, int y0, int cw, int ch)
{
    for (int i = 0; s[i]; i++) {
        const unsigned char *g = FONT[glyph_index(s[i])];
        for (int r = 0; r < 7; r++)
            for (int c = 0; c < 5; c++)
                if (g[r] & (0x10 >> c))
                    fill_rect(img, rows, x0 + i * 6 * cw + c * cw, y0 + r * ch, cw, ch);
    }
}

static void draw_page(unsigned char *img, int rows, int doc, int page, int fine)
{
    int yscale = fine ? 2 : 1;     /* fine rows are half as tall: double them */
    memset(img, 0, (size_t)rows * FAX_BYTES_ROW);
    /* frame 8 px wide, 40 px in from the edges */
    fill_rect(img, rows, 40, 20 * yscale, FAX_WIDTH - 80, 4 * yscale);
    fill_rect(img, rows, 40, rows - 24 * yscale, FAX_WIDTH - 80, 4 * yscale);
    fill_rect(img, rows, 40, 20 * yscale, 8, rows - 40 * yscale);
    fill_rect(img, rows, FAX_WIDTH - 48, 20 * yscale, 8, rows - 40 * yscale);
    /* "DOC-PAGE" in 40 px dots: each glyph 200 px wide, 140 (x yscale) tall */
    char label[32];
    snprintf(label, sizeof label, "%d-%d", doc, page);
    int cw = 40, ch = 20 * yscale;
    int tw = (int)strlen(label) * 6 * cw - cw;
    draw_text(img, rows, label, (FAX_WIDTH - tw) / 2, 60 * yscale, cw, ch);
    /* stripes: `page` thick horizontal bars, then thin vertical stripes across a band */
    int y = 60 * yscale + 7 * ch + 30 * yscale;
    for (int i = 0; i < page; i++, y += 24 * yscale)
        fill_rect(img, rows, 200, y, FAX_WIDTH - 400, 12 * yscale);
    for (int x = 100; x < FAX_WIDTH - 100; x += 32)
        fill_rect(img, rows, x, y + 10 * yscale, 8 + (x / 32) % 8, 60 * yscale);
}

static int write_doc(const char *path, int doc, int pages, int fine, int g4)
{
    int rows = fine ? FAX_ROWS_FINE : FAX_ROWS_FINE / 2;
    unsigned char *img = malloc((size_t)rows * FAX_BYTES_ROW);
    TIFF *t = TIFFOpen(path, "w");
    if (!img || !t) {
        fprintf(stderr, "mkfaxdoc: cannot write %s\n", path);
        free(img);
        if (t) TIFFClose(t);
        return -1;
    }
    for (int p = 1; p <= pages; p++) {
        draw_page(img, rows, doc, p, fine);
        TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, FAX_WIDTH);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, rows);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
        TIFFSetField(t, TIFFTAG_FILLORDER, FILLORDER_LSB2MSB);
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        TIFFSetField(t, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT);
        TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
        TIFFSetField(t, TIFFTAG_XRESOLUTION, FAX_XRES_DPI);
        TIFFSetField(t, TIFFTAG_YRESOLUTION, fine ? FAX_YRES_FINE : FAX_YRES_STD);
        TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, rows);
        TIFFSetField(t, TIFFTAG_PAGENUMBER, p - 1, pages);
        TIFFSetField(t, TIFFTAG_SOFTWARE, "hotline mkfaxdoc");
        if (g4) {
            TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
            TIFFSetField(t, TIFFTAG_GROUP4OPTIONS, 0);
        } else {
            TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX3);
            TIFFSetField(t, TIFFTAG_GROUP3OPTIONS, GROUP3OPT_2DENCODING | GROUP3OPT_FILLBITS);
        }
        for (int y = 0; y < rows; y++) {
            if (TIFFWriteScanline(t, img + (size_t)y * FAX_BYTES_ROW, (uint32_t)y, 0) < 0) {
                fprintf(stderr, "mkfaxdoc: write error in %s page %d\n", path, p);
                TIFFClose(t); free(img);
                return -1;
            }
        }
        TIFFWriteDirectory(t);
    }
    TIFFClose(t);
    free(img);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: mkfaxdoc OUT.tif DOC_NUMBER PAGES [fine|standard] [g4|g3]\n");
        return 2;
    }
    int doc = atoi(argv[2]), pages = atoi(argv[3]);
    int fine = argc < 5 || strcmp(argv[4], "standard") != 0;
    int g4 = argc < 6 || strcmp(argv[5], "g3") != 0;
    if (doc < 0 || doc > 999 || pages < 1 || pages > MAX_PAGES) {
        fprintf(stderr, "mkfaxdoc: DOC_NUMBER 0-999 and PAGES 1-%d\n", MAX_PAGES);
        return 2;
    }
    if ((argc >= 5 && strcmp(argv[4], "fine") && strcmp(argv[4], "standard")) ||
        (argc >= 6 && strcmp(argv[5], "g4") && strcmp(argv[5], "g3"))) {
        fprintf(stderr, "mkfaxdoc: resolution is fine or standard, coding g4 or g3\n");
        return 2;
    }
    return write_doc(argv[1], doc, pages, fine, g4) == 0 ? 0 : 1;
}
