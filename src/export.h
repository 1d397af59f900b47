/* export.h — hex dumps for slides: txt, md, html, svg, png, ansi and json
 * files rendered from the same styled documents as the TUI and --plain. */
#ifndef MT_EXPORT_H
#define MT_EXPORT_H

#include <stddef.h>

#include "doc.h"
#include "lesson.h"
#include "result.h"
#include "view.h"

/* Version of the JSON files (docs/export-schema.md); bumped when a key
 * changes meaning or goes away, not when one is added. */
#define MT_EXPORT_SCHEMA_VERSION 1

/* How the pictures are drawn.  Every field has a default
 * (MT_EXPORT_OPTS_DEFAULT); NULL stands for it wherever opts are taken. */
typedef struct mt_export_opts {
    mt_theme theme;            /* --theme, else $MINISTRY_THEME, else dark */
    int theme_chosen;          /* set by one of those: index.html then keeps it
                                * instead of following the reader's
                                * prefers-color-scheme */
    int context;               /* --context: MT_VIEW_CONTEXT_ALL, _AUTO or N */
    int scale;                 /* --scale: PNG pixels per SVG pixel, 1..8 */
    const char *python;        /* the CPython that ran the steps, from the
                                * worker's hello (mt_worker_python); NULL: "" */
} mt_export_opts;

#define MT_EXPORT_OPTS_DEFAULT {MT_THEME_DARK, 0, MT_VIEW_CONTEXT_AUTO, 2, NULL}
#define MT_EXPORT_SCALE_MAX 8

/* The three pictures of a region: before, after, and the two side by side
 * with the changed bytes marked in both. */
enum { MT_EXPORT_BEFORE = 0, MT_EXPORT_AFTER = 1, MT_EXPORT_DIFF = 2 };

/* Write the before, after and diff of every region of one step's result
 * r (step index `step` of lesson l) in each of `formats` (a comma list of
 * txt,md,html,svg,png,ansi,json; NULL for all but png; json has no diff) under
 * dir, as dir/NN-<stage-slug>/SS-<step-slug>-<region>-<view>.<ext>, drawn
 * as opts says (NULL: the defaults).  Existing files are replaced only
 * when force is set.  Returns the number of files written, or -1 with a
 * malloc'ed *err (caller frees). */
int mt_export_step_with(const mt_lesson *l, int step, const mt_step_result *r,
                        const char *dir, const char *formats, const mt_export_opts *opts,
                        int force, char **err);

/* mt_export_step_with the default opts. */
int mt_export_step(const mt_lesson *l, int step, const mt_step_result *r,
                   const char *dir, const char *formats, int force, char **err);

/* Check a --format list: 0, or -1 with *err naming the bad entry. */
int mt_export_check_formats(const char *formats, char **err);

/* Where a region came from, for the md provenance line and the json
 * files.  All strings borrowed. */
typedef struct mt_export_info {
    int stage;                 /* stage number */
    const char *stage_slug;
    int step;                  /* 1-based step number */
    const char *step_slug;
    const char *step_title;
    const char *python;        /* the worker's CPython version */
    const char *arch;          /* uname -m */
} mt_export_info;

/* Fill info for step index `step` (0-based) of l, with the CPython version
 * python (borrowed; NULL: "") and this machine's architecture. */
void mt_export_info_of(mt_export_info *info, const mt_lesson *l, int step,
                       const char *python);

/* Render one view (MT_EXPORT_BEFORE, _AFTER or _DIFF) of region g in one
 * format ("txt", "md", "html", "svg", "png", "ansi" or "json") as opts
 * says (NULL: the defaults): the bytes of the file export would write.
 * Returns a malloc'ed buffer, NUL-terminated past its end (caller frees),
 * with its length in *len; NULL for an unknown format, a json diff, or a
 * PNG the renderer could not make (then *len is 0). */
char *mt_export_render(const char *format, const mt_export_info *info,
                       const mt_region_result *g, int view, const mt_export_opts *opts,
                       size_t *len);

#endif
