/* export_fmt.h — the export formats as a table, and the pieces of them the
 * file writer reuses for stage.json and index.html.  Private to export*.c. */
#ifndef MT_EXPORT_FMT_H
#define MT_EXPORT_FMT_H

#include <stddef.h>

#include "doc.h"
#include "export.h"
#include "result.h"
#include "util.h"

/* One format: its --format name (also the file extension) and the
 * renderer that appends a region's file to out.  doc is mt_view_region of
 * the same view: every format but json renders it and nothing else. */
typedef struct mt_export_fmt {
    const char *name;
    void (*render)(mt_str *out, const mt_export_info *info,
                   const mt_region_result *g, int after, const mt_doc *doc);
} mt_export_fmt;

/* The formats, in the order files are written and linked. */
extern const mt_export_fmt mt_export_fmts[];
extern const size_t mt_export_nfmts;

/* A --format list as a bit mask over mt_export_fmts (NULL: all).  Returns
 * 0, or -1 with a malloc'ed *err naming the bad entry. */
int mt_export_parse_formats(const char *list, unsigned *mask, char **err);

/* The palette as CSS rules, every selector under `scope` (".mt-export"). */
void mt_export_css(mt_str *out, const char *scope);

/* A document as <pre class="mt-dump"> with one span per role. */
void mt_export_html_pre(mt_str *out, const mt_doc *d);

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

/* A region as a JSON object under key (docs/export-schema.md, "region"). */
void mt_export_json_region(mt_export_jw *w, const char *key,
                           const mt_region_result *g);

#endif
