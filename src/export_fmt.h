/* export_fmt.h — the export formats as a table, and the pieces of them the
 * file writer reuses for stage.json and index.html.  Private to export*.c. */
#ifndef MT_EXPORT_FMT_H
#define MT_EXPORT_FMT_H

#include <stddef.h>

#include "doc.h"
#include "export.h"
#include "result.h"
#include "util.h"
#include "view.h"

/* One picture of a region as a format draws it.  Before and after share
 * their frame (cols × nrows cells) and the kind of every line, so their
 * files have one size and every row one position. */
typedef struct mt_export_view {
    const mt_region_result *g;
    int view;                  /* MT_EXPORT_BEFORE, _AFTER or _DIFF */
    const mt_doc *doc;         /* what is drawn */
    const mt_view_row *rows;   /* what each line of doc is (diff: the before's) */
    int cols, nrows;           /* the frame, in cells */
    const mt_export_opts *opts;
    const char *pre;           /* doc as mt_export_html_pre writes it, if made
                                * already (borrowed), else NULL */
    const struct mt_export_view *before; /* the region's before view (itself
                                * for the before); borrowed */
} mt_export_view;

/* A region's three views, built once for every format.  Free with
 * mt_export_views_free. */
typedef struct mt_export_views {
    mt_export_view v[3];       /* indexed by MT_EXPORT_BEFORE, _AFTER, _DIFF */
    mt_doc *docs[3];
    mt_view_row *rows[2];
} mt_export_views;

/* Build the views of g as opts says (never NULL here). */
void mt_export_views_make(mt_export_views *vs, const mt_region_result *g,
                          const mt_export_opts *opts);
void mt_export_views_free(mt_export_views *vs);

/* "before", "after", "diff". */
const char *mt_export_view_name(int view);

/* One format: its --format name (also the file extension), whether it has
 * a diff picture, whether a --format-less export writes it, and the
 * renderer that appends one view's file to out (returns 0, or -1 when it
 * could not: only png, with a malloc'ed *err). */
typedef struct mt_export_fmt {
    const char *name;
    int diff;
    int by_default;
    int (*render)(mt_str *out, const mt_export_info *info, const mt_export_view *v,
                  char **err);
} mt_export_fmt;

/* The formats, in the order files are written and linked. */
extern const mt_export_fmt mt_export_fmts[];
extern const size_t mt_export_nfmts;

/* A --format list as a bit mask over mt_export_fmts (NULL: those
 * by_default).  Returns
 * 0, or -1 with a malloc'ed *err naming the bad entry. */
int mt_export_parse_formats(const char *list, unsigned *mask, char **err);

/* The palette of theme t as CSS rules, every selector under `scope`
 * (".mt-export"). */
void mt_export_css(mt_str *out, const char *scope, mt_theme t);

/* A document as <pre class="mt-dump"> with one span per role, sized to a
 * frame of cols × nrows cells. */
void mt_export_html_pre(mt_str *out, const mt_doc *d, int cols, int nrows);

/* s (n bytes) with & < > " escaped, for XML text and attributes. */
void mt_export_xml_escape(mt_str *out, const char *s, size_t n);

/* A JSON writer: pretty-printed (two blanks a level), or on one line
 * inside a container opened inline.  Keys are written as given (plain
 * ASCII); string values are escaped. */
typedef struct mt_export_jw {
    mt_str *out;
    int depth;
    int count[16];             /* items so far, per open container */
    char inl[16];              /* container opened inline */
    char close[16];            /* '}' or ']' */
} mt_export_jw;

/* Open an object ('{') or array ('[') under key (NULL inside an array). */
void mt_export_jw_open(mt_export_jw *w, const char *key, char kind, int inl);
void mt_export_jw_close(mt_export_jw *w);
void mt_export_jw_str(mt_export_jw *w, const char *key, const char *s);
void mt_export_jw_int(mt_export_jw *w, const char *key, long long v);
void mt_export_jw_bool(mt_export_jw *w, const char *key, int v);
void mt_export_jw_null(mt_export_jw *w, const char *key);

/* A region as a JSON object under key (docs/export-schema.md, "region"),
 * with the row layout of its pictures as opts draws them. */
void mt_export_json_region(mt_export_jw *w, const char *key,
                           const mt_region_result *g, const mt_export_opts *opts);
/* The same, with the layout read from before, g's before view as
 * mt_export_views_make built it with the same opts (no views built again). */
void mt_export_json_region_of(mt_export_jw *w, const char *key,
                              const mt_export_view *before);

#endif
