/* view.h — a step's state as styled documents: narrative, code, output,
 * and each watched region before and after. */
#ifndef MT_VIEW_H
#define MT_VIEW_H

#include "doc.h"
#include "lesson.h"
#include "result.h"

/* Glyphs the documents use beyond ASCII: "→", "•", "·".  With ascii set
 * (a locale that is not UTF-8) they become "->", "*", "-".  Exporters
 * write UTF-8 files and leave it unset. */
void mt_view_set_ascii(int ascii);
int mt_view_ascii(void);
const char *mt_view_arrow(void);
const char *mt_view_bullet(void);
const char *mt_view_dot(void);

/* The lesson's markdown (headings, paragraphs, lists, *emphasis*,
 * **strong**, `code`, fenced blocks) as a document wrapped at width
 * columns (0: no wrapping).  Never shows the raw # and * markers. */
mt_doc *mt_view_markdown(const char *md, int width);

/* Python source with each token's role (roles: result.h MT_TOK_*, one per
 * byte; NULL for plain). */
mt_doc *mt_view_code(const char *code, const char *roles);

/* What the step printed, its traceback, and the session's notes.  Empty
 * document when there is nothing. */
mt_doc *mt_view_output(const mt_step_result *r);

/* One region, before (after == 0) or after: a header line with the label,
 * layout, absolute base address, length and (for code) the mapping's
 * permissions; xxd-style rows of 16 bytes with offsets relative to the
 * base, each byte coloured by its field and changed bytes marked (and, in
 * the after view, a ^^ line under them); then the pahole-style field table
 * (offset, size, name, value, decoded; changed fields starred with their
 * earlier value) and, for code, the instructions. */
mt_doc *mt_view_region(const mt_region_result *g, int after);

/* What each line of a region view is, for renderers that place rows (the
 * SVG grid, the JSON row layout) and for aligning two views. */
typedef enum mt_view_row_kind {
    MT_VR_HEADER = 0,          /* label, view, layout, address */
    MT_VR_BYTES,               /* 16 bytes at .offset */
    MT_VR_MARKER,              /* the ^^ line under .offset's row (blank in before) */
    MT_VR_ELIDED,              /* .count rows from .offset not shown */
    MT_VR_BLANK,               /* spacing */
    MT_VR_TABLE_HEAD,          /* "offset size field value" */
    MT_VR_FIELD,               /* field .index */
    MT_VR_FIELDS_ELIDED,       /* .count fields not shown */
    MT_VR_INSN_HEAD,           /* "instructions (capstone)" */
    MT_VR_INSN,                /* instruction .index of this view; -1: padding */
    MT_VR_INSNS_ELIDED,        /* .count instructions not shown */
    MT_VR_COUNT
} mt_view_row_kind;

typedef struct mt_view_row {
    int kind;                  /* mt_view_row_kind */
    int index;                 /* field or instruction index, else -1 */
    uint32_t offset;           /* bytes, marker, elided: first byte */
    uint32_t count;            /* elided: how many rows, fields or instructions */
} mt_view_row;

/* Stable lower-case name of a row kind ("bytes", "fields-elided"). */
const char *mt_view_row_kind_name(int kind);

/* --context values besides a number of rows. */
#define MT_VIEW_CONTEXT_ALL (-1)     /* every row */
#define MT_VIEW_CONTEXT_AUTO (-2)    /* every row up to 8, else changes ± 2 */
#define MT_VIEW_CONTEXT_SMALL 8
#define MT_VIEW_CONTEXT_DEFAULT 2

typedef struct mt_view_opts {
    /* Before and after line up: the ^^ line is in both views (blank in
     * the before), the instruction lists are padded to the longer one, so
     * every line of one view has the same kind in the other. */
    int aligned;
    /* Changed bytes marked in the before view too (the diff picture). */
    int mark_before;
    /* Rows shown: MT_VIEW_CONTEXT_ALL, _AUTO, or N >= 0: the rows holding
     * changes and N rows either side, runs of other rows as one elided
     * line; the field table and the instructions keep what overlaps the
     * rows shown.  A region without a change is shown whole. */
    int context;
} mt_view_opts;

/* mt_view_region with options (NULL: not aligned, every row).  When rows
 * is not NULL, *rows gets a malloc'ed array (caller frees) of one
 * mt_view_row per line of the returned document. */
mt_doc *mt_view_region_with(const mt_region_result *g, int after, const mt_view_opts *o,
                            mt_view_row **rows);

/* The field colour slot (1..MT_FIELD_COLOURS) of byte off of g, or 0. */
int mt_view_field_colour(const mt_region_result *g, size_t off);

/* A region's title: "label · layout" — for pane headings. */
char *mt_view_region_title(const mt_region_result *g, int after);

#endif
