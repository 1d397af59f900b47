/* doc.h — the styled document: lines of spans with roles.  Every frontend
 * and exporter renders documents; none of them re-derives a dump. */
#ifndef MT_DOC_H
#define MT_DOC_H

#include <stddef.h>
#include <stdint.h>

/* What a span is, never what colour it has: the palette below and each
 * renderer decide that. */
typedef enum mt_role {
    MT_R_TEXT = 0,       /* narrative text */
    MT_R_HEADING,        /* headings, stage and step titles */
    MT_R_EMPH,           /* *emphasis* */
    MT_R_STRONG,         /* **strong** */
    MT_R_CODE,           /* `inline code` and code blocks in narrative */
    MT_R_ADDRESS,        /* an absolute address */
    MT_R_OFFSET,         /* an offset into a region */
    MT_R_BYTE,           /* a byte of a dump (coloured by its field) */
    MT_R_CHANGED,        /* a byte that differs from before */
    MT_R_UNREADABLE,     /* "??": a byte that could not be read */
    MT_R_ASCII,          /* the ASCII column */
    MT_R_MARKER,         /* the ^^ line under changed bytes */
    MT_R_FIELD,          /* a field name (coloured by its field) */
    MT_R_VALUE,          /* a field's value */
    MT_R_POINTER,        /* "→ long_add": where a value leads */
    MT_R_COMMENT,        /* headers, table heads, provenance */
    MT_R_INSN,           /* a disassembled instruction */
    MT_R_PERMS,          /* mapping permissions, "r-xp" */
    MT_R_PY_KEYWORD,     /* Python source, by token (tokenize) */
    MT_R_PY_BUILTIN,
    MT_R_PY_NAME,
    MT_R_PY_NUMBER,
    MT_R_PY_STRING,
    MT_R_PY_COMMENT,
    MT_R_PY_OP,
    MT_R_OUTPUT,         /* what a step printed */
    MT_R_ERROR,          /* stderr, tracebacks, crash reports */
    MT_R_WARNING,        /* loud notes: a restore, a missing symbol */
    MT_R_NOTE,           /* quiet notes */
    MT_R_PATCHED,        /* status: a patch is live */
    MT_R_PRISTINE,       /* status: nothing is patched */
    MT_R_COUNT
} mt_role;

/* Field colours cycle through this many slots; span.field is 0 (none) or
 * 1..MT_FIELD_COLOURS. */
#define MT_FIELD_COLOURS 6

typedef struct mt_span {
    uint8_t role;        /* mt_role */
    uint8_t field;       /* 0, or the field's colour slot */
    char *text;          /* UTF-8, no newline; owned by the document */
} mt_span;

typedef struct mt_line {
    mt_span *spans;
    size_t n, cap;
} mt_line;

typedef struct mt_doc {
    mt_line *lines;
    size_t n, cap;
} mt_doc;

/* New empty document (no lines).  Free with mt_doc_free. */
mt_doc *mt_doc_new(void);
void mt_doc_free(mt_doc *d);

/* Start a new line. */
void mt_doc_newline(mt_doc *d);

/* Append text (n bytes; no newline) to the last line (started if none). */
void mt_doc_addn(mt_doc *d, mt_role role, int field, const char *s, size_t n);
void mt_doc_add(mt_doc *d, mt_role role, int field, const char *s);
void mt_doc_addf(mt_doc *d, mt_role role, int field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Append every line of src to d (copies). */
void mt_doc_append(mt_doc *d, const mt_doc *src);

/* Display width of a line in terminal columns. */
int mt_doc_line_width(const mt_line *l);

/* Widest line. */
int mt_doc_width(const mt_doc *d);

/* The document as plain text, one '\n' per line, no styling: a malloc'ed
 * string, caller frees. */
char *mt_doc_text(const mt_doc *d);

/* Stable lower-case name of a role ("changed-byte"): HTML/SVG classes,
 * the JSON export, docs. */
const char *mt_role_name(mt_role r);

/* ---- the palette ----------------------------------------------------------
 *
 * One palette, two themes, shared by the TUI and every exporter.  A theme
 * is a background, a default foreground, and one style per role and per
 * field colour slot.  Every colour is an xterm-256 index with its exact
 * RGB twin (the index's own colour, so a terminal and a picture show the
 * same thing), plus the nearest of the 8 basic colours for terminals that
 * have no more.  Every role and field colour of a theme is at WCAG
 * contrast >= 4.5:1 against that theme's background (tests/check_doc.c
 * computes it); a role without a colour of its own (fg -1) is drawn in
 * the theme's foreground, which passes too.
 *
 * How a frontend maps it:
 * - HTML, SVG, PNG: the background is bg.rgb, text without a colour of
 *   its own fg.rgb, the rest style.rgb.  `reverse` draws the text in the
 *   background colour on a box of the style's colour (contrast is
 *   symmetric, so the same 4.5:1 holds).  `dim` is not drawn: the colour
 *   already says "aside", and opacity would break the contrast.
 * - A terminal with 256 colours (curses COLORS >= 256): init_pair(n,
 *   style.fg, bg.fg) — painting the theme's own background (bg.fg) is what
 *   makes the contrast hold whatever the terminal's colours; style.fg -1
 *   becomes fg.fg.  (Keeping the terminal's default background with
 *   use_default_colors is acceptable only when the user has not asked for
 *   a theme, and then the contrast is the terminal's business.)
 * - A terminal with 8 colours: style.fg8 on the terminal's default
 *   background (-1); fg8 -1 means the terminal's default foreground.  The
 *   greys (addresses, offsets, comments, notes) have fg8 -1 in both
 *   themes: basic colour 7 is light grey, which on a light terminal would
 *   be white on white.  Where `dim` is set, add A_DIM to say "aside"
 *   without a colour.  No fg8 of the light theme is 3 (yellow), 6 (cyan)
 *   or 7 (white), none of the dark theme 0 (black) or 4 (blue).
 * - No colour (NO_COLOR, a monochrome terminal): bold, reverse,
 *   underline and dim only.
 */

/* The themes, dark first (the default). */
typedef enum mt_theme {
    MT_THEME_DARK = 0,
    MT_THEME_LIGHT,
    MT_THEME_COUNT
} mt_theme;

/* The environment variable that chooses a theme when --theme does not. */
#define MT_THEME_ENV "MINISTRY_THEME"

/* One role's look.  Colours are xterm-256 indices with an RGB twin; -1
 * (and rgb NULL) means the theme's default foreground. */
typedef struct mt_style {
    int fg;              /* xterm-256 index or -1 */
    int fg8;             /* one of the 8 basic colours (0..7), or -1 */
    const char *rgb;     /* "#5fafd7", the twin of fg; NULL when fg is -1 */
    unsigned bold : 1, dim : 1, reverse : 1, underline : 1;
} mt_style;

/* A theme.  bg and fg have fg8 -1 (an 8-colour terminal keeps its own). */
typedef struct mt_palette {
    const char *name;                      /* "dark", "light" */
    mt_style bg;                           /* background: .fg and .rgb */
    mt_style fg;                           /* default text colour */
    mt_style roles[MT_R_COUNT];
    mt_style fields[MT_FIELD_COLOURS];     /* slot 1 is fields[0] */
} mt_palette;

/* The palette of theme t (a static table; never NULL, the dark theme for
 * a value out of range). */
const mt_palette *mt_palette_of(mt_theme t);

/* Theme by name ("dark", "light"): 0, or -1 when the name is not one. */
int mt_theme_parse(const char *name, mt_theme *t);

/* The theme to use when none is given: $MINISTRY_THEME if set and
 * non-empty, else dark.  Returns 0, or -1 with a malloc'ed *err (caller
 * frees) naming the bad value and the valid ones. */
int mt_theme_default(mt_theme *t, char **err);

/* Style of a span in palette p: its role's, with the field colour laid
 * over bytes, field names and changed bytes. */
mt_style mt_palette_style(const mt_palette *p, mt_role role, int field);

/* mt_palette_style of the dark theme. */
mt_style mt_style_of(mt_role role, int field);

#endif
