/*
 * VGA renderer: turns video memory and registers into pixels of the
 * console's surface, redrawing only what changed.
 *
 * The picture is produced the way the hardware scans it: the CRTC walks
 * scan lines, keeping a row start address (MA) and a row scan counter
 * (start address, offset, maximum scan line, double scan, preset row
 * scan, line compare for split screens); each character clock fetches
 * the four plane bytes at the MA-derived plane address (byte, word or
 * doubleword addressing; CGA-style row-scan substitution of address
 * bits 13/14); the sequencer/attribute path turns them into colours
 * (text glyphs from plane 2, 16-colour planar, CGA interleaved shift
 * mode, 256-colour). The output size is the real dot and scan line
 * count (e.g. 720x400 for 80x25 text, 640x400 for mode 13h), as on a
 * monitor and in QEMU.
 *
 * Change detection: the VRAM region is dirty-logged (CPU writes through
 * the LFB, and vga.c marks writes through the window). Each refresh
 * takes a snapshot of the dirty pages it displays and redraws only the
 * scan lines (graphics) or character cells (text) that read a dirty
 * page; a change of mode geometry or colours redraws everything. Text
 * cells are compared with what was drawn, so the blink phases and the
 * cursor only redraw the cells they affect.
 */
#include "vga-internal.h"

enum {
    KIND_NONE, KIND_BLANK, KIND_TEXT, KIND_PLANAR, KIND_CGA, KIND_256, KIND_VBE,
};

#define MAX_LINES     1024                 /* 10-bit vertical display end */
#define MAX_CHARS     256
#define MAX_LINE_DOTS ((MAX_CHARS + 1) * 18)

/* Cursor toggles every 16 frames, attribute blink every 32 (70 Hz). */
#define CURSOR_HALF_PERIOD_NS (1000000000LL * 16 / 70)
#define BLINK_HALF_PERIOD_NS  (1000000000LL * 32 / 70)

typedef struct ModeKey {
    int kind, width, height;
    uint8_t cr[0x19];
    uint8_t sr[5];
    uint8_t gr5, gr6;
    uint8_t ar[5];
    uint16_t vbe[VBE_DISPI_INDEX_NB];
} ModeKey;

typedef struct TextSeg {
    int y0, n;              /* scan lines [y0, y0 + n) */
    uint16_t ma;            /* row start address */
    uint8_t scan0;          /* row scan counter of the first line */
    uint8_t split;          /* below the line compare split */
} TextSeg;

struct VGARender {
    ModeKey key;
    uint32_t lut[256];       /* DAC index -> xRGB (after the pixel mask) */
    uint32_t lut16[16];      /* attribute path for 4-bit colours, plane enable applied */
    uint8_t *dirty;          /* snapshot: one byte per VRAM page */
    uint32_t npages;
    uint8_t font[2][256 * 32];
    uint32_t *shadow;        /* text: key of each drawn cell */
    size_t shadow_len;
    uint64_t layout_sig;
    bool cursor_on, blink_on;
    uint16_t cursor_ma;
    /* scratch */
    uint16_t line_ma[MAX_LINES];
    uint8_t line_scan[MAX_LINES];
    uint8_t line_split[MAX_LINES];
    TextSeg segs[MAX_LINES];
    uint32_t linebuf[MAX_LINE_DOTS + 64];
};

/* spread[b]: bit (7 - j) of b moved to bit 4 * j, so four planes OR'ed
 * with shifts 0..3 give eight 4-bit pixels, leftmost in the low nibble. */
static uint32_t spread[256];

void vga_render_init(VGAState *s)
{
    if (!spread[1]) {
        for (int b = 0; b < 256; b++) {
            uint32_t v = 0;
            for (int j = 0; j < 8; j++) {
                if (b & (0x80 >> j)) {
                    v |= 1u << (4 * j);
                }
            }
            spread[b] = v;
        }
    }
    VGARender *r = XNEW(VGARender);
    r->npages = DIV_ROUND_UP(s->vram_size, 4096);
    r->dirty = xzalloc(r->npages);
    s->render = r;
    s->full_update = true;
}

void vga_render_cleanup(VGAState *s)
{
    VGARender *r = s->render;
    if (r) {
        free(r->dirty);
        free(r->shadow);
        free(r);
        s->render = NULL;
    }
}

/* ---- colours ------------------------------------------------------------ */

static inline uint32_t c6to8(uint8_t c)
{
    c &= 0x3f;
    return (uint32_t)(c << 2) | ((c & 1) ? 3 : 0);
}

static uint32_t dac_rgb(const VGAState *s, uint8_t index)
{
    const uint8_t *p = &s->palette[index * 3];
    if (s->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_8BIT_DAC) {
        return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
    }
    return (c6to8(p[0]) << 16) | (c6to8(p[1]) << 8) | c6to8(p[2]);
}

/* The attribute controller's path from a 4-bit colour to a DAC index. */
static uint8_t attr_dac_index(const VGAState *s, unsigned idx)
{
    uint8_t v = s->ar[idx & 15];
    if (s->ar[AR_MODE] & AR10_P54S) {
        v = (v & 0x0f) | ((s->ar[AR_COLOR_SELECT] & 3) << 4);
    }
    return (v & 0x3f) | ((s->ar[AR_COLOR_SELECT] & 0x0c) << 4);
}

/* Returns true if the colours changed. */
static bool update_luts(VGAState *s, VGARender *r)
{
    uint32_t lut[256], lut16[16];
    for (int i = 0; i < 256; i++) {
        lut[i] = dac_rgb(s, i & s->dac_mask);
    }
    uint8_t pe = s->ar[AR_PLANE_ENABLE] & 15;
    for (int i = 0; i < 16; i++) {
        lut16[i] = lut[attr_dac_index(s, i & pe)];
    }
    bool changed = memcmp(lut, r->lut, sizeof(lut)) || memcmp(lut16, r->lut16, sizeof(lut16));
    if (changed) {
        memcpy(r->lut, lut, sizeof(lut));
        memcpy(r->lut16, lut16, sizeof(lut16));
    }
    return changed;
}

/* ---- CRTC --------------------------------------------------------------- */

typedef struct CRTCGeom {
    int chars;             /* character clocks per line */
    int height;            /* scan lines */
    uint16_t start;        /* start address (MA) */
    uint16_t stride;       /* MA per row */
    int max_scan;
    bool double_scan;
    int line_compare;
    int addr_mode;         /* 0 byte, 1 word, 2 doubleword */
    bool wrap15, sub13, sub14;
    int preset_row;
} CRTCGeom;

static void crtc_geom(const VGAState *s, CRTCGeom *g)
{
    const uint8_t *cr = s->cr;
    g->chars = cr[0x01] + 1;
    g->height = (cr[0x12] | ((cr[0x07] & 0x02) << 7) | ((cr[0x07] & 0x40) << 3)) + 1;
    g->start = (uint16_t)((cr[0x0c] << 8) | cr[0x0d]);
    g->stride = (uint16_t)(cr[0x13] * 2);
    g->max_scan = cr[0x09] & 0x1f;
    g->double_scan = cr[0x09] & 0x80;
    g->line_compare = cr[0x18] | ((cr[0x07] & 0x10) << 4) | ((cr[0x09] & 0x40) << 3);
    g->addr_mode = (cr[0x14] & 0x40) ? 2 : (cr[0x17] & 0x40) ? 0 : 1;
    g->wrap15 = cr[0x17] & 0x20;
    g->sub13 = !(cr[0x17] & 0x01);
    g->sub14 = !(cr[0x17] & 0x02);
    g->preset_row = cr[0x08] & 0x1f;
}

/* Plane address the CRTC fetches for memory address ma on a line with
 * row scan counter 'scan'. */
static inline uint32_t crtc_addr(const CRTCGeom *g, uint32_t ma, int scan)
{
    uint32_t a;
    ma &= 0xffff;
    switch (g->addr_mode) {
    case 0:
        a = ma;
        break;
    case 1:
        a = (ma << 1) | ((ma >> (g->wrap15 ? 15 : 13)) & 1);
        break;
    default:
        a = (ma << 2) | ((ma >> 14) & 3);
        break;
    }
    if (g->sub13) {
        a = (a & ~0x2000u) | ((uint32_t)(scan & 1) << 13);
    }
    if (g->sub14) {
        a = (a & ~0x4000u) | ((uint32_t)(scan & 2) << 13);
    }
    return a & (VGA_PLANE_SIZE - 1);
}

/* Runs the vertical counters over the frame: for every scan line, its
 * row address, row scan and whether it lies below the split. */
static void crtc_walk(const CRTCGeom *g, VGARender *r)
{
    uint16_t ma = g->start;
    int scan = g->preset_row;
    bool dup = false, split = false;
    int height = MIN(g->height, MAX_LINES);
    for (int y = 0; y < height; y++) {
        r->line_ma[y] = ma;
        r->line_scan[y] = (uint8_t)scan;
        r->line_split[y] = split;
        if (y == g->line_compare) {
            /* The split screen starts on the next line, at address 0. */
            ma = 0;
            scan = 0;
            dup = false;
            split = true;
            continue;
        }
        if (g->double_scan && !dup) {
            dup = true;
            continue;
        }
        dup = false;
        if (scan >= g->max_scan) {
            scan = 0;
            ma = (uint16_t)(ma + g->stride);
        } else {
            scan++;
        }
    }
}

/* ---- dirty pages -------------------------------------------------------- */

/* Takes the dirty state of VRAM bytes [lo, hi) into r->dirty; returns
 * true if any page was dirty. */
static bool snapshot_dirty(VGAState *s, VGARender *r, uint64_t lo, uint64_t hi)
{
    bool any = false;
    hi = MIN(hi, (uint64_t)s->vram_size);
    if (lo >= hi) {
        return false;
    }
    for (uint64_t p = lo >> 12; p <= (hi - 1) >> 12; p++) {
        bool d = memory_region_test_and_clear_dirty(s->vram_mr, p << 12, 4096);
        r->dirty[p] = d;
        any |= d;
    }
    return any;
}

static inline bool range_dirty(const VGARender *r, uint64_t lo, uint64_t len)
{
    if (!len) {
        return false;
    }
    for (uint64_t p = lo >> 12; p <= (lo + len - 1) >> 12; p++) {
        if (r->dirty[p]) {
            return true;
        }
    }
    return false;
}

/* Consecutive redrawn lines become one update rectangle. */
typedef struct LineRun {
    int y0, y1, width;
} LineRun;

static inline void run_add(DisplayConsole *con, LineRun *run, int y)
{
    if (run->y1 == y) {
        run->y1 = y + 1;
        return;
    }
    if (run->y1 > run->y0) {
        console_update(con, 0, run->y0, run->width, run->y1 - run->y0);
    }
    run->y0 = y;
    run->y1 = y + 1;
}

static inline void run_flush(DisplayConsole *con, LineRun *run)
{
    if (run->y1 > run->y0) {
        console_update(con, 0, run->y0, run->width, run->y1 - run->y0);
    }
    run->y0 = run->y1 = 0;
}

/* ---- text --------------------------------------------------------------- */

typedef struct TextGeom {
    CRTCGeom g;
    int cols;
    int cw;               /* dots per character: 8 or 9 */
    int dup;              /* 2 when the dot clock is halved */
    int width, height;
    int pan;              /* dots the picture moves left */
    bool pan_split_reset;
} TextGeom;

static void text_geom(const VGAState *s, TextGeom *t)
{
    crtc_geom(s, &t->g);
    t->cols = t->g.chars;
    t->cw = (s->sr[SR_CLOCKING] & SR01_8DOT) ? 8 : 9;
    t->dup = (s->sr[SR_CLOCKING] & SR01_DIV2) ? 2 : 1;
    t->width = t->cols * t->cw * t->dup;
    t->height = MIN(t->g.height, MAX_LINES);
    int pan = s->ar[AR_PAN] & 0x0f;
    if (t->cw == 9) {
        t->pan = pan >= 8 ? 0 : pan + 1;
    } else {
        t->pan = pan & 7;
    }
    t->pan_split_reset = s->ar[AR_MODE] & AR10_PAN_SPLIT;
}

/* Rows as the CRTC shows them: runs of scan lines with one row address. */
static int text_segments(const TextGeom *t, VGARender *r)
{
    crtc_walk(&t->g, r);
    int n = 0;
    for (int y = 0; y < t->height; y++) {
        bool start = y == 0 || r->line_ma[y] != r->line_ma[y - 1] ||
                     r->line_split[y] != r->line_split[y - 1] ||
                     r->line_scan[y] < r->line_scan[y - 1];
        if (start) {
            TextSeg *sg = &r->segs[n++];
            sg->y0 = y;
            sg->n = 0;
            sg->ma = r->line_ma[y];
            sg->scan0 = r->line_scan[y];
            sg->split = r->line_split[y];
        }
        r->segs[n - 1].n++;
    }
    return n;
}

static inline uint32_t text_fetch(const VGAState *s, const TextGeom *t, const TextSeg *sg, int k)
{
    uint32_t a = crtc_addr(&t->g, (uint32_t)sg->ma + k, sg->scan0);
    return vga_vram_ld32(s, a);
}

static void font_offsets(const VGAState *s, uint32_t off[2])
{
    uint8_t sr3 = s->sr[SR_CHAR_MAP];
    unsigned a = ((sr3 >> 2) & 3) | ((sr3 >> 3) & 4);   /* attribute bit 3 = 1 */
    unsigned b = (sr3 & 3) | ((sr3 >> 2) & 4);          /* attribute bit 3 = 0 */
    off[0] = ((a & 3) << 14) | ((a & 4) << 11);
    off[1] = ((b & 3) << 14) | ((b & 4) << 11);
}

/* Copies the glyphs of both selected maps out of plane 2; true if they
 * differ from what was drawn. */
static bool gather_fonts(const VGAState *s, VGARender *r)
{
    uint32_t off[2];
    uint8_t tmp[256 * 32];
    bool changed = false;
    font_offsets(s, off);
    for (int m = 0; m < 2; m++) {
        const uint8_t *src = s->vram + (size_t)off[m] * 4 + 2;
        for (int i = 0; i < 256 * 32; i++) {
            tmp[i] = src[i * 4];
        }
        if (memcmp(tmp, r->font[m], sizeof(tmp))) {
            memcpy(r->font[m], tmp, sizeof(tmp));
            changed = true;
        }
    }
    return changed;
}

#define CELL_CURSOR  (1u << 16)
#define CELL_HIDDEN  (1u << 17)
#define CELL_VALID   (1u << 31)

static void draw_text_cell(VGAState *s, VGARender *r, const TextGeom *t, const TextSeg *sg,
                           DisplaySurface *surf, int x0, uint32_t key)
{
    uint8_t ch = key & 0xff, attr = (key >> 8) & 0xff;
    bool blink = s->ar[AR_MODE] & AR10_BLINK;
    unsigned bgi = blink ? (attr >> 4) & 7 : attr >> 4;
    unsigned fgi = (key & CELL_HIDDEN) ? bgi : (attr & 15u);
    uint32_t fg = r->lut16[fgi], bg = r->lut16[bgi];
    const uint8_t *glyph = r->font[(attr & 8) ? 0 : 1] + ch * 32;
    bool ninth_copies = t->cw == 9 && (s->ar[AR_MODE] & AR10_LGE) && (ch & 0xe0) == 0xc0;
    int cs = s->cr[0x0a] & 0x1f, ce = s->cr[0x0b] & 0x1f;
    bool cursor = key & CELL_CURSOR;
    bool underline = (attr & 0x77) == 0x01;
    int ul = s->cr[0x14] & 0x1f;
    int cell_w = t->cw * t->dup;
    uint32_t px[18];
    int xa = MAX(x0, 0), xb = MIN(x0 + cell_w, surf->width);
    if (xa >= xb) {
        return;
    }
    for (int i = 0; i < sg->n; i++) {
        int y = sg->y0 + i;
        int scan = r->line_scan[y];
        unsigned bits = glyph[scan & 31];
        bool solid = (cursor && scan >= cs && scan <= ce) || (underline && scan == ul);
        unsigned ninth;
        if (solid) {
            bits = 0xff;
            ninth = 1;
        } else {
            ninth = ninth_copies ? (bits & 1) : 0;
        }
        int n = 0;
        for (int j = 0; j < 8; j++) {
            uint32_t c = (bits & (0x80 >> j)) ? fg : bg;
            px[n++] = c;
            if (t->dup == 2) {
                px[n++] = c;
            }
        }
        if (t->cw == 9) {
            uint32_t c = ninth ? fg : bg;
            px[n++] = c;
            if (t->dup == 2) {
                px[n++] = c;
            }
        }
        memcpy(surface_row(surf, y) + xa, px + (xa - x0), (size_t)(xb - xa) * 4);
    }
}

static uint64_t text_layout_sig(const TextGeom *t, const VGARender *r, int nseg)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < nseg; i++) {
        const TextSeg *sg = &r->segs[i];
        uint64_t v = ((uint64_t)sg->y0 << 40) ^ ((uint64_t)sg->n << 24) ^ ((uint64_t)sg->ma << 8) ^
                     sg->scan0 ^ ((uint64_t)sg->split << 63);
        h = (h ^ v) * 1099511628211ULL;
        for (int k = 0; k < sg->n; k++) {
            h = (h ^ r->line_scan[sg->y0 + k]) * 1099511628211ULL;
        }
    }
    return h ^ (uint64_t)nseg ^ ((uint64_t)t->pan << 56);
}

static void render_text(VGAState *s, VGARender *r, DisplaySurface *surf, bool full, int64_t now)
{
    TextGeom t;
    text_geom(s, &t);
    bool cursor_on = ((now / CURSOR_HALF_PERIOD_NS) & 1) == 0;
    bool blink_on = ((now / BLINK_HALF_PERIOD_NS) & 1) == 0;
    uint16_t cursor_ma = (uint16_t)((s->cr[0x0e] << 8) | s->cr[0x0f]);

    bool dirty = snapshot_dirty(s, r, 0, 4 * VGA_PLANE_SIZE);
    if (full || dirty) {
        if (gather_fonts(s, r)) {
            full = true;
        }
    }
    if (!full && !dirty && cursor_on == r->cursor_on && blink_on == r->blink_on &&
        cursor_ma == r->cursor_ma) {
        return;
    }
    r->cursor_on = cursor_on;
    r->blink_on = blink_on;
    r->cursor_ma = cursor_ma;

    int nseg = text_segments(&t, r);
    uint64_t sig = text_layout_sig(&t, r, nseg);
    size_t cells = (size_t)nseg * (t.cols + 1);
    if (sig != r->layout_sig || cells > r->shadow_len) {
        full = true;
        r->layout_sig = sig;
        if (cells > r->shadow_len) {
            free(r->shadow);
            r->shadow = xcalloc(cells, sizeof(uint32_t));
            r->shadow_len = cells;
        }
    }

    bool cursor_enabled = !(s->cr[0x0a] & 0x20) && cursor_on &&
                          (s->cr[0x0a] & 0x1f) <= (s->cr[0x0b] & 0x1f) &&
                          (s->cr[0x0a] & 0x1f) <= t.g.max_scan;
    bool blink = s->ar[AR_MODE] & AR10_BLINK;
    int cell_w = t.cw * t.dup;
    for (int i = 0; i < nseg; i++) {
        const TextSeg *sg = &r->segs[i];
        int pan = (sg->split && t.pan_split_reset) ? 0 : t.pan;
        int ncells = t.cols + (pan ? 1 : 0);
        uint32_t *shadow = r->shadow + (size_t)i * (t.cols + 1);
        int x_lo = INT32_MAX, x_hi = INT32_MIN;
        for (int k = 0; k < ncells; k++) {
            uint32_t v = text_fetch(s, &t, sg, k);
            uint32_t key = (v & 0xffff) | CELL_VALID;
            if (cursor_enabled && (uint16_t)(sg->ma + k) == cursor_ma) {
                key |= CELL_CURSOR;
            }
            if (blink && (v & 0x8000) && !blink_on) {
                key |= CELL_HIDDEN;
            }
            if (!full && shadow[k] == key) {
                continue;
            }
            shadow[k] = key;
            int x0 = k * cell_w - pan * t.dup;
            draw_text_cell(s, r, &t, sg, surf, x0, key);
            x_lo = MIN(x_lo, x0);
            x_hi = MAX(x_hi, x0 + cell_w);
        }
        if (x_lo < x_hi) {
            console_update(s->con, x_lo, sg->y0, x_hi - x_lo, sg->n);
        }
    }
}

/* ---- VGA graphics ------------------------------------------------------- */

/* One character clock of 16-colour planar data: 8 pixels. */
static inline uint32_t *px_planar(const VGARender *r, uint32_t v, uint32_t *d, int dup)
{
    uint32_t nib = spread[v & 0xff] | (spread[(v >> 8) & 0xff] << 1) |
                   (spread[(v >> 16) & 0xff] << 2) | (spread[v >> 24] << 3);
    for (int j = 0; j < 8; j++) {
        uint32_t c = r->lut16[(nib >> (4 * j)) & 15];
        *d++ = c;
        if (dup == 2) {
            *d++ = c;
        }
    }
    return d;
}

/* CGA 4-colour (shift register interleave): pixels 0-3 from planes 0
 * (low bits) and 2 (high bits), pixels 4-7 from planes 1 and 3, two
 * bits per pixel, leftmost in bits 7-6. */
static inline uint32_t *px_cga(const VGARender *r, uint32_t v, uint32_t *d, int dup)
{
    uint8_t p[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
    for (int j = 0; j < 8; j++) {
        int lo = p[j >> 2], hi = p[2 + (j >> 2)];
        int sh = 6 - 2 * (j & 3);
        uint32_t c = r->lut16[((lo >> sh) & 3) | (((hi >> sh) & 3) << 2)];
        *d++ = c;
        if (dup == 2) {
            *d++ = c;
        }
    }
    return d;
}

/* 256-colour: four 8-bit pixels, each two dots wide. */
static inline uint32_t *px_256(const VGARender *r, uint32_t v, uint32_t *d, int dup)
{
    for (int j = 0; j < 4; j++) {
        uint32_t c = r->lut[(v >> (8 * j)) & 0xff];
        for (int k = 0; k < 2 * dup; k++) {
            *d++ = c;
        }
    }
    return d;
}

static void render_vga_graphics(VGAState *s, VGARender *r, DisplaySurface *surf, int kind,
                                bool full)
{
    CRTCGeom g;
    crtc_geom(s, &g);
    int dup = (s->sr[SR_CLOCKING] & SR01_DIV2) ? 2 : 1;
    int width = surf->width, height = MIN(surf->height, MAX_LINES);
    int pan = s->ar[AR_PAN] & 7;
    if (kind == KIND_256) {
        pan &= 6;
    }
    bool pan_split_reset = s->ar[AR_MODE] & AR10_PAN_SPLIT;
    bool dirty = snapshot_dirty(s, r, 0, 4 * VGA_PLANE_SIZE);
    if (!full && !dirty) {
        return;
    }
    crtc_walk(&g, r);
    LineRun run = { 0, 0, width };
    uint32_t addr[MAX_CHARS + 1];
    for (int y = 0; y < height; y++) {
        int p = (r->line_split[y] && pan_split_reset) ? 0 : pan;
        int n = g.chars + (p ? 1 : 0);
        bool need = full;
        for (int k = 0; k < n; k++) {
            addr[k] = crtc_addr(&g, (uint32_t)r->line_ma[y] + k, r->line_scan[y]);
            if (!need && r->dirty[(addr[k] * 4) >> 12]) {
                need = true;
            }
        }
        if (!need) {
            continue;
        }
        uint32_t *d = r->linebuf;
        for (int k = 0; k < n; k++) {
            uint32_t v = vga_vram_ld32(s, addr[k]);
            switch (kind) {
            case KIND_PLANAR: d = px_planar(r, v, d, dup); break;
            case KIND_CGA: d = px_cga(r, v, d, dup); break;
            default: d = px_256(r, v, d, dup); break;
            }
        }
        int off = p * dup;
        int avail = (int)(d - r->linebuf) - off;
        memcpy(surface_row(surf, y), r->linebuf + off, (size_t)MIN(width, avail) * 4);
        run_add(s->con, &run, y);
    }
    run_flush(s->con, &run);
}

/* ---- VBE linear modes --------------------------------------------------- */

typedef struct VBEGeom {
    int bpp;
    int width, height;     /* surface size */
    uint32_t line;         /* bytes per line (per plane for 4 bpp) */
    uint32_t need;         /* bytes a line reads (per plane for 4 bpp) */
    uint32_t limit;        /* addressable bytes (per plane for 4 bpp) */
} VBEGeom;

static void vbe_geom(const VGAState *s, VBEGeom *v)
{
    v->bpp = vbe_effective_bpp(s);
    v->width = MIN(s->vbe_regs[VBE_DISPI_INDEX_XRES], VBE_DISPI_MAX_XRES);
    if (v->bpp == 4) {
        v->width &= ~7;
    }
    v->line = s->vbe_line_offset;
    v->limit = v->bpp == 4 ? s->vram_size / 4 : s->vram_size;
    v->need = v->bpp == 4 ? (uint32_t)v->width / 8 : (uint32_t)v->width * ((v->bpp + 7) / 8);
    uint32_t h = MIN(s->vbe_regs[VBE_DISPI_INDEX_YRES], VBE_DISPI_MAX_YRES);
    /* No more lines than VRAM can hold at this line length. */
    if (v->line && h > v->limit / v->line) {
        h = v->limit / v->line;
    }
    if (v->width > 0 && (uint64_t)v->width * h > SURFACE_MAX_PIXELS) {
        h = SURFACE_MAX_PIXELS / v->width;
    }
    if (v->need > v->line || v->need > v->limit) {
        h = 0;              /* cannot happen with a sane line; stay safe */
    }
    v->height = h;
}

static void vbe_convert_line(const VGAState *s, const VGARender *r, const VBEGeom *v,
                             uint32_t src, uint32_t *d)
{
    const uint8_t *p = s->vram + src;
    int w = v->width;
    switch (v->bpp) {
    case 4:
        for (int k = 0; k < w / 8; k++) {
            d = px_planar(r, vga_vram_ld32(s, src + k), d, 1);
        }
        break;
    case 8:
        for (int x = 0; x < w; x++) {
            d[x] = r->lut[p[x]];
        }
        break;
    case 15:
        for (int x = 0; x < w; x++) {
            uint32_t c = ldw_le(p + 2 * x);
            d[x] = (((c >> 10) & 0x1f) << 19) | (((c >> 5) & 0x1f) << 11) | ((c & 0x1f) << 3);
        }
        break;
    case 16:
        for (int x = 0; x < w; x++) {
            uint32_t c = ldw_le(p + 2 * x);
            d[x] = ((c >> 11) << 19) | (((c >> 5) & 0x3f) << 10) | ((c & 0x1f) << 3);
        }
        break;
    case 24:
        for (int x = 0; x < w; x++) {
            d[x] = ((uint32_t)p[3 * x + 2] << 16) | ((uint32_t)p[3 * x + 1] << 8) | p[3 * x];
        }
        break;
    default:
        for (int x = 0; x < w; x++) {
            d[x] = ldl_le(p + 4 * x) & 0xffffff;
        }
        break;
    }
}

static void render_vbe(VGAState *s, VGARender *r, DisplaySurface *surf, bool full)
{
    VBEGeom v;
    vbe_geom(s, &v);
    int height = MIN(v.height, surf->height);
    int width = MIN(v.width, surf->width);
    if (width <= 0 || height <= 0) {
        return;
    }
    v.width = width;
    uint64_t scale = v.bpp == 4 ? 4 : 1;   /* VRAM bytes per addressed byte */
    uint64_t lo = s->vbe_start;
    uint64_t hi = (uint64_t)s->vbe_start + (uint64_t)v.line * (height - 1) + v.need;
    bool dirty = snapshot_dirty(s, r, lo * scale, MIN(hi, (uint64_t)v.limit) * scale);
    if (!full && !dirty) {
        return;
    }
    LineRun run = { 0, 0, surf->width };
    for (int y = 0; y < height; y++) {
        uint64_t src = (uint64_t)s->vbe_start + (uint64_t)y * v.line;
        uint32_t *row = surface_row(surf, y);
        if (src + v.need > v.limit) {
            /* Past the end of VRAM: nothing to show. */
            if (full) {
                memset(row, 0, (size_t)width * 4);
                run_add(s->con, &run, y);
            }
            continue;
        }
        if (!full && !range_dirty(r, src * scale, v.need * scale)) {
            continue;
        }
        vbe_convert_line(s, r, &v, (uint32_t)src, row);
        run_add(s->con, &run, y);
    }
    run_flush(s->con, &run);
}

/* ---- frame -------------------------------------------------------------- */

static int vga_kind(const VGAState *s)
{
    if (!(s->ar_index & AR_PAS)) {
        return KIND_BLANK;     /* the CPU owns the palette: display off */
    }
    if (vbe_enabled(s)) {
        return KIND_VBE;
    }
    if (s->sr[SR_CLOCKING] & SR01_SCREEN_OFF) {
        return KIND_BLANK;
    }
    if (!(s->gr[GR_MISC] & GR06_GRAPHICS)) {
        return KIND_TEXT;
    }
    if (s->gr[GR_MODE] & GR05_256) {
        return KIND_256;
    }
    if (s->gr[GR_MODE] & GR05_INTERLEAVE) {
        return KIND_CGA;
    }
    return KIND_PLANAR;
}

static void mode_key(const VGAState *s, ModeKey *k, int kind, const DisplaySurface *cur)
{
    memset(k, 0, sizeof(*k));
    k->kind = kind;
    switch (kind) {
    case KIND_BLANK:
        k->width = cur ? cur->width : 640;
        k->height = cur ? cur->height : 480;
        return;
    case KIND_VBE: {
        VBEGeom v;
        vbe_geom(s, &v);
        k->width = v.width;
        k->height = v.height;
        memcpy(k->vbe, s->vbe_regs, sizeof(k->vbe));
        k->vbe[VBE_DISPI_INDEX_BANK] = 0;
        k->vbe[VBE_DISPI_INDEX_ENABLE] &= ~VBE_DISPI_GETCAPS;
        k->vbe[VBE_DISPI_INDEX_ID] = 0;
        if (v.bpp == 4) {
            k->ar[3] = s->ar[AR_PAN];
        }
        return;
    }
    case KIND_TEXT: {
        TextGeom t;
        text_geom(s, &t);
        k->width = t.width;
        k->height = t.height;
        break;
    }
    default: {
        CRTCGeom g;
        crtc_geom(s, &g);
        k->width = g.chars * 8 * ((s->sr[SR_CLOCKING] & SR01_DIV2) ? 2 : 1);
        k->height = MIN(g.height, MAX_LINES);
        break;
    }
    }
    memcpy(k->cr, s->cr, sizeof(k->cr));
    /* Cursor position is handled per cell. */
    k->cr[0x0e] = k->cr[0x0f] = 0;
    memcpy(k->sr, s->sr, sizeof(k->sr));
    k->gr5 = s->gr[GR_MODE];
    k->gr6 = s->gr[GR_MISC];
    memcpy(k->ar, s->ar + 0x10, sizeof(k->ar));
}

void vga_update_display(VGAState *s, int64_t now_ns)
{
    VGARender *r = s->render;
    DisplaySurface *surf = console_surface(s->con);
    int kind = vga_kind(s);
    ModeKey key;
    mode_key(s, &key, kind, surf);
    bool full = s->full_update;
    if (memcmp(&key, &r->key, sizeof(key)) != 0 || !surf) {
        full = true;
    }
    if (kind == KIND_VBE && (key.width <= 0 || key.height <= 0)) {
        /* Enabled without a usable resolution: show black. */
        key.kind = KIND_BLANK;
        key.width = surf ? surf->width : 640;
        key.height = surf ? surf->height : 480;
        kind = KIND_BLANK;
    }
    if (full) {
        surf = console_resize(s->con, key.width, key.height);
        if (!surf) {
            memset(&r->key, 0, sizeof(r->key));
            return;
        }
    }
    if (update_luts(s, r)) {
        full = true;
    }
    r->key = key;
    s->full_update = false;
    switch (kind) {
    case KIND_BLANK:
        if (full) {
            memset(surf->data, 0, (size_t)surf->stride * surf->height);
            console_update(s->con, 0, 0, surf->width, surf->height);
        }
        break;
    case KIND_TEXT:
        render_text(s, r, surf, full, now_ns);
        break;
    case KIND_VBE:
        render_vbe(s, r, surf, full);
        break;
    default:
        render_vga_graphics(s, r, surf, kind, full);
        break;
    }
}

void vga_invalidate_display(VGAState *s)
{
    s->full_update = true;
}

/* ---- text accessors ----------------------------------------------------- */

int vga_get_text_cell(VGAState *s, int col, int row)
{
    if (vga_kind(s) != KIND_TEXT) {
        return -1;
    }
    TextGeom t;
    text_geom(s, &t);
    int nseg = text_segments(&t, s->render);
    if (col < 0 || col >= t.cols || row < 0 || row >= nseg) {
        return -1;
    }
    return (int)(text_fetch(s, &t, &s->render->segs[row], col) & 0xffff);
}

int vga_get_text(VGAState *s, char *buf, size_t size, int *cols, int *rows)
{
    if (vga_kind(s) != KIND_TEXT) {
        return -1;
    }
    TextGeom t;
    text_geom(s, &t);
    int nseg = text_segments(&t, s->render);
    if (cols) {
        *cols = t.cols;
    }
    if (rows) {
        *rows = nseg;
    }
    size_t len = 0;
    for (int i = 0; i < nseg; i++) {
        for (int k = 0; k <= t.cols; k++) {
            char c;
            if (k == t.cols) {
                if (i == nseg - 1) {
                    break;
                }
                c = '\n';
            } else {
                c = (char)(text_fetch(s, &t, &s->render->segs[i], k) & 0xff);
                if (c == 0) {
                    c = ' ';
                }
            }
            if (len + 1 < size) {
                buf[len] = c;
            }
            len++;
        }
    }
    if (size) {
        buf[MIN(len, size - 1)] = 0;
    }
    return (int)MIN(len, (size_t)INT32_MAX);
}

/* ---- console glue ------------------------------------------------------- */

static void con_refresh(void *opaque, int64_t now_ns)
{
    vga_update_display(opaque, now_ns);
}

static void con_invalidate(void *opaque)
{
    vga_invalidate_display(opaque);
}

static int con_get_text(void *opaque, char *buf, size_t size)
{
    return vga_get_text(opaque, buf, size, NULL, NULL);
}

const ConsoleHWOps vga_console_ops = {
    .refresh = con_refresh,
    .invalidate = con_invalidate,
    .get_text = con_get_text,
};
