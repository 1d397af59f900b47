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

/* The palette: one style per role and per field colour, shared by the TUI
 * and every exporter.  Colours are xterm-256 indices with an RGB twin for
 * HTML/SVG; -1 means the terminal's default. */
typedef struct mt_style {
    int fg;              /* xterm-256 index or -1 */
    int fg8;             /* the nearest of the 8 basic colours, or -1 */
    const char *rgb;     /* "#5fafd7", or NULL for the default */
    unsigned bold : 1, dim : 1, reverse : 1, underline : 1;
} mt_style;

/* Style of a span: its role's, with the field colour laid over bytes,
 * field names and changed bytes. */
mt_style mt_style_of(mt_role role, int field);

#endif
