/* tui_screen.h — writing styled text into the curses screen: the palette
 * (roles to curses attributes, none under NO_COLOR), UTF-8 or ASCII
 * glyphs, document lines clipped to a width.  Only tui*.c include this. */
#ifndef MT_TUI_SCREEN_H
#define MT_TUI_SCREEN_H

#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>

#include "doc.h"

/* The frame's own glyphs: box drawing and marks, each with its ASCII
 * twin for locales whose codeset is not UTF-8. */
typedef enum mt_tui_glyph {
    MT_G_HLINE, MT_G_VLINE, MT_G_CROSS, MT_G_TEE_DOWN, MT_G_TEE_UP, MT_G_TEE_RIGHT,
    MT_G_CORNER_TL, MT_G_CORNER_TR, MT_G_CORNER_BL, MT_G_CORNER_BR,
    MT_G_UP, MT_G_DOWN, MT_G_CLIP, MT_G_CLIP_LEFT, MT_G_DONE, MT_G_HERE, MT_G_DOT, MT_G_TIMES,
    MT_G_COUNT
} mt_tui_glyph;

/* Put the current terminal in the interface's modes — raw keys (Ctrl-C
 * arrives as a key), no echo, function keys decoded, reads that never wait
 * (the caller waits in poll) — and choose the palette and glyphs: the
 * theme's colours (mt_theme) unless NO_COLOR is set or the terminal has
 * none — with 256
 * colours its xterm-256 ones, on its own background when paint is set (a
 * theme the user asked for), else on the terminal's; with 8, the basic
 * ones on the terminal's background — and UTF-8 glyphs when the locale's
 * codeset is UTF-8.  Call after newterm.  No failure. */
void mt_tui_screen_setup(int theme, int paint);

/* Whether glyphs and text go out as UTF-8 (else ASCII transliterations). */
int mt_tui_screen_utf8(void);

const char *mt_tui_glyph_str(mt_tui_glyph g);

/* The curses attributes and colour pair of a role (field: 0 or a field
 * colour slot), from mt_style_of. */
void mt_tui_attr(mt_role role, int field, attr_t *attr, short *pair);

/* Draw UTF-8 text (n bytes) at y, x in at most w columns, with the role's
 * style and `extra` attributes XOR-ed over it (A_REVERSE on a reversed bar
 * turns a reversed role back to normal, so it still stands out).  Tabs go
 * to the next multiple of 8 counted from col0 (the column the line starts
 * at); other control characters and undecodable bytes show as one
 * replacement character.  Returns the columns drawn; *clipped (may be
 * NULL) is set when the text did not fit. */
int mt_tui_put(int y, int x, int w, int col0, mt_role role, int field, attr_t extra,
               const char *s, size_t n, int *clipped);

/* Draw a document line at y, x in w columns.  Returns whether it was cut
 * short. */
int mt_tui_put_line(int y, int x, int w, const mt_line *l, attr_t extra);

/* Columns [skip, skip + w) of a document line, drawn at y, x (a wide
 * character across either edge is left out).  Returns whether anything
 * lay right of the slice. */
int mt_tui_put_slice(int y, int x, int w, const mt_line *l, int skip, attr_t extra);

/* For mt_tui_wrap: the display column each character of l starts at
 * (cols[n] the line's width) and whether it is a space, for up to max
 * characters (cols holds max + 1).  Returns the number of characters. */
int mt_tui_line_cols(const mt_line *l, int *cols, unsigned char *spaces, int max);

/* Columns that mt_tui_put would use for s (n bytes) with no width limit. */
int mt_tui_width(const char *s, size_t n);

/* Fill w cells at y, x with the glyph g in the role's style. */
void mt_tui_fill(int y, int x, int w, mt_tui_glyph g, mt_role role, attr_t extra);

#endif
