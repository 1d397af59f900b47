/* tui_screen.c — styled text into the curses screen: roles to attributes,
 * UTF-8 or ASCII glyphs, clipping to a width. */
#include "tui_screen.h"

#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static int utf8_out;
static attr_t role_attr[MT_R_COUNT][MT_FIELD_COLOURS + 1];
static short role_pair[MT_R_COUNT][MT_FIELD_COLOURS + 1];

static const struct {
    const char *utf8, *ascii;
} glyphs[MT_G_COUNT] = {
    [MT_G_HLINE] = {"─", "-"},     [MT_G_VLINE] = {"│", "|"},
    [MT_G_CROSS] = {"┼", "+"},     [MT_G_TEE_DOWN] = {"┬", "+"},
    [MT_G_TEE_UP] = {"┴", "+"},    [MT_G_TEE_RIGHT] = {"├", "+"},
    [MT_G_CORNER_TL] = {"╭", "+"},
    [MT_G_CORNER_TR] = {"╮", "+"}, [MT_G_CORNER_BL] = {"╰", "+"},
    [MT_G_CORNER_BR] = {"╯", "+"}, [MT_G_UP] = {"↑", "^"},
    [MT_G_DOWN] = {"↓", "v"},      [MT_G_CLIP] = {"›", ">"},
    [MT_G_CLIP_LEFT] = {"‹", "<"},
    [MT_G_DONE] = {"✓", "*"},      [MT_G_HERE] = {"▸", ">"},
    [MT_G_DOT] = {"·", "-"},       [MT_G_TIMES] = {"×", "x"},
};

/* Non-ASCII characters the documents use, as one ASCII column each, so the
 * columns of a table stay where they were. */
static const struct {
    unsigned cp;
    char ascii;
} translit[] = {
    {0x00b7, '-'}, {0x00d7, 'x'}, {0x2013, '-'}, {0x2014, '-'}, {0x2018, '\''},
    {0x2019, '\''}, {0x201c, '"'}, {0x201d, '"'}, {0x2022, '*'}, {0x2026, '.'},
    {0x2039, '<'}, {0x203a, '>'}, {0x2190, '<'}, {0x2191, '^'}, {0x2192, '>'}, {0x2193, 'v'},
    {0x2500, '-'}, {0x2502, '|'}, {0x2713, '*'}, {0x25b8, '>'},
};

/* Colour pairs of the current screen, one per foreground colour used,
 * all on the screen's one background (-1: the terminal's own). */
static short pairs[256];
static short next_pair;
static int pair_bg;

static short
pair_of(int fg)
{
    short next = next_pair;
    if (fg < 0 || fg > 255) {
        return 0;
    }
    if (pairs[fg] == 0 && next < COLOR_PAIRS
        && init_pair(next, (short)fg, (short)pair_bg) == OK) {
        pairs[fg] = next;
        next_pair = (short)(next + 1);
    }
    return pairs[fg];
}

void
mt_tui_screen_setup(int theme, int paint)
{
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    const char *nc = getenv("NO_COLOR");
    int no_colour = nc != NULL && *nc != '\0';
    const char *cs = nl_langinfo(CODESET);
    utf8_out = cs != NULL && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
    memset(pairs, 0, sizeof pairs);
    next_pair = 1;
    pair_bg = -1;
    const mt_palette *pal = mt_palette_of((mt_theme)theme);
    int colour = !no_colour && has_colors() && start_color() == OK;
    int rich = colour && COLORS >= 256;
    if (colour) {
        use_default_colors();
    }
    if (rich && paint) {
        /* A theme asked for: its own background and text colour, so its
         * contrast holds whatever the terminal's colours are.  Cells drawn
         * with no pair of their own take the background's. */
        pair_bg = pal->bg.fg;
        bkgd((chtype)' ' | (chtype)COLOR_PAIR(pair_of(pal->fg.fg)));
    }
    for (int r = 0; r < MT_R_COUNT; r++) {
        for (int f = 0; f <= MT_FIELD_COLOURS; f++) {
            mt_style s = mt_palette_style(pal, (mt_role)r, f);
            attr_t a = A_NORMAL;
            a |= s.bold ? A_BOLD : 0;
            a |= s.reverse ? A_REVERSE : 0;
            a |= s.underline ? A_UNDERLINE : 0;
            /* Dim grey fades to nothing on a projector: with 256 colours
             * the grey already says "aside"; with 8 (greys keep the
             * terminal's own colour there) or none, dim says it. */
            a |= s.dim && !rich ? A_DIM : 0;
            short p = 0;
            if (rich) {
                p = pair_of(s.fg >= 0 ? s.fg : paint ? pal->fg.fg : -1);
            } else if (colour) {
                p = pair_of(s.fg8);
            }
            role_attr[r][f] = a;
            role_pair[r][f] = p;
        }
    }
}

int
mt_tui_screen_utf8(void)
{
    return utf8_out;
}

const char *
mt_tui_glyph_str(mt_tui_glyph g)
{
    return utf8_out ? glyphs[g].utf8 : glyphs[g].ascii;
}

void
mt_tui_attr(mt_role role, int field, attr_t *attr, short *pair)
{
    if ((unsigned)role >= MT_R_COUNT) {
        role = MT_R_TEXT;
    }
    if (field < 0 || field > MT_FIELD_COLOURS) {
        field = 0;
    }
    *attr = role_attr[role][field];
    *pair = role_pair[role][field];
}

/* Decode one UTF-8 character of s[0..n); returns its length (≥ 1) and the
 * code point, U+FFFD for a bad sequence. */
static size_t
decode(const char *s, size_t n, unsigned *cp)
{
    unsigned char c = (unsigned char)s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t k = c >= 0xf0 && c < 0xf8 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    if (k == 0 || k > n) {
        *cp = 0xfffd;
        return 1;
    }
    unsigned v = k == 4 ? c & 7u : k == 3 ? c & 15u : c & 31u;
    for (size_t j = 1; j < k; j++) {
        unsigned char d = (unsigned char)s[j];
        if ((d & 0xc0) != 0x80) {
            *cp = 0xfffd;
            return 1;
        }
        v = v << 6 | (d & 63u);
    }
    *cp = v;
    return k;
}

/* What goes on screen for code point cp: a wide character (UTF-8 out) or
 * an ASCII one, and its width. */
static unsigned
shown(unsigned cp, int *width)
{
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
        cp = 0xfffd;
    }
    if (!utf8_out) {
        *width = 1;
        if (cp < 0x80) {
            return cp;
        }
        for (size_t i = 0; i < sizeof translit / sizeof translit[0]; i++) {
            if (translit[i].cp == cp) {
                return (unsigned char)translit[i].ascii;
            }
        }
        return '?';
    }
    int cw = wcwidth((wchar_t)cp);
    if (cw < 0) {
        cp = 0xfffd;
        cw = 1;
    }
    *width = cw;
    return cp;
}

static int
put_or_measure(int draw, int y, int x, int w, int col0, attr_t a, short pair,
               const char *s, size_t n, int *clipped)
{
    wchar_t buf[128];
    size_t nb = 0;
    int used = 0, cut = 0;
    if (draw) {
        move(y, x);
        attr_set(a, pair, NULL);
    }
    for (size_t i = 0; i < n;) {
        unsigned cp;
        i += decode(s + i, n - i, &cp);
        int reps = 1, cw;
        if (cp == '\t') {
            cp = ' ';
            reps = 8 - (x - col0 + used) % 8;
        }
        unsigned out = shown(cp, &cw);
        for (int r = 0; r < reps; r++) {
            if (w >= 0 && used + cw > w) {
                cut = 1;
                break;
            }
            if (draw) {
                buf[nb++] = (wchar_t)out;
                if (nb == sizeof buf / sizeof buf[0]) {
                    addnwstr(buf, (int)nb);
                    nb = 0;
                }
            }
            used += cw;
        }
        if (cut) {
            break;
        }
    }
    if (draw && nb > 0) {
        addnwstr(buf, (int)nb);
    }
    if (clipped != NULL) {
        *clipped = cut;
    }
    return used;
}

int
mt_tui_put(int y, int x, int w, int col0, mt_role role, int field, attr_t extra,
           const char *s, size_t n, int *clipped)
{
    attr_t a;
    short pair;
    if (w <= 0) {
        if (clipped != NULL) {
            *clipped = n > 0;
        }
        return 0;
    }
    mt_tui_attr(role, field, &a, &pair);
    return put_or_measure(1, y, x, w, col0, a ^ extra, pair, s, n, clipped);
}

int
mt_tui_width(const char *s, size_t n)
{
    return put_or_measure(0, 0, 0, -1, 0, 0, 0, s, n, NULL);
}

int
mt_tui_put_line(int y, int x, int w, const mt_line *l, attr_t extra)
{
    int col = 0;
    for (size_t i = 0; i < l->n; i++) {
        const mt_span *sp = &l->spans[i];
        int cut = 0;
        col += mt_tui_put(y, x + col, w - col, x, (mt_role)sp->role, sp->field, extra,
                          sp->text, strlen(sp->text), &cut);
        if (cut) {
            return 1;
        }
    }
    return 0;
}

void
mt_tui_fill(int y, int x, int w, mt_tui_glyph g, mt_role role, attr_t extra)
{
    const char *s = mt_tui_glyph_str(g);
    size_t gl = strlen(s);
    char buf[512];
    while (w > 0) {
        int k = 0;
        size_t n = 0;
        for (; k < w && n + gl < sizeof buf; k++) {
            memcpy(buf + n, s, gl);
            n += gl;
        }
        mt_tui_put(y, x, k, x, role, 0, extra, buf, n, NULL);
        x += k;
        w -= k;
    }
}

int
mt_tui_line_cols(const mt_line *l, int *cols, unsigned char *spaces, int max)
{
    int n = 0, col = 0;
    for (size_t i = 0; i < l->n; i++) {
        const char *s = l->spans[i].text;
        size_t len = strlen(s);
        for (size_t b = 0; b < len;) {
            unsigned cp;
            b += decode(s + b, len - b, &cp);
            int cw = 1;
            if (cp == '\t') {
                cw = 8 - col % 8;
            } else {
                shown(cp, &cw);
            }
            if (n < max) {
                /* A marker ("  * was int") breaks only before it. */
                cols[n] = col;
                spaces[n] = (cp == ' ' || cp == '\t')
                            && (l->spans[i].role != MT_R_MARKER || b == 1 || s[b - 2] == ' ');
            }
            n++;
            col += cw;
        }
    }
    if (n <= max) {
        cols[n] = col;
    }
    return n;
}

int
mt_tui_put_slice(int y, int x, int w, const mt_line *l, int skip, attr_t extra)
{
    int col = 0, cut = 0;
    wchar_t wc[2] = {0, 0};
    for (size_t i = 0; i < l->n && !cut; i++) {
        const mt_span *sp = &l->spans[i];
        attr_t a;
        short pair;
        mt_tui_attr((mt_role)sp->role, sp->field, &a, &pair);
        size_t len = strlen(sp->text);
        for (size_t b = 0; b < len;) {
            unsigned cp;
            b += decode(sp->text + b, len - b, &cp);
            int cw, reps = 1;
            if (cp == '\t') {
                cp = ' ';
                reps = 8 - col % 8;
            }
            unsigned out = shown(cp, &cw);
            for (int r = 0; r < reps; r++, col += cw) {
                if (col < skip) {
                    continue;
                }
                if (col - skip + cw > w) {
                    cut = out != ' ';   /* spaces past the edge are no loss */
                    if (cut) {
                        break;
                    }
                    continue;
                }
                wc[0] = (wchar_t)out;
                attr_set(a ^ extra, pair, NULL);
                mvaddnwstr(y, x + col - skip, wc, 1);
            }
            if (cut) {
                break;
            }
        }
    }
    return cut;
}
