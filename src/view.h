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

/* The field colour slot (1..MT_FIELD_COLOURS) of byte off of g, or 0. */
int mt_view_field_colour(const mt_region_result *g, size_t off);

/* A region's title: "label · layout" — for pane headings. */
char *mt_view_region_title(const mt_region_result *g, int after);

#endif
