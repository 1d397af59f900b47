/* export.h — hex dumps for slides: txt, md, html, svg, ansi and json files
 * rendered from the same styled documents as the TUI and --plain. */
#ifndef MT_EXPORT_H
#define MT_EXPORT_H

#include <stddef.h>

#include "lesson.h"
#include "result.h"

/* Version of the JSON files (docs/export-schema.md); bumped when a key
 * changes meaning or goes away, not when one is added. */
#define MT_EXPORT_SCHEMA_VERSION 1

/* Write the before and after of every region of one step's result r
 * (step index `step` of lesson l) in each of `formats` (a comma list of
 * txt,md,html,svg,ansi,json; NULL for all) under dir, as
 * dir/NN-<stage-slug>/SS-<step-slug>-<region>-<before|after>.<ext>.
 * Existing files are replaced only when force is set.  Returns the number
 * of files written, or -1 with a malloc'ed *err (caller frees). */
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
    const char *python;        /* Py_GetVersion() */
    const char *arch;          /* uname -m */
} mt_export_info;

/* Fill info for step index `step` (0-based) of l, with this process's
 * CPython version and architecture. */
void mt_export_info_of(mt_export_info *info, const mt_lesson *l, int step);

/* Render the before (after == 0) or after view of region g in one format
 * ("txt", "md", "html", "svg", "ansi" or "json"): the bytes of the file
 * export would write.  Returns a malloc'ed NUL-terminated buffer (caller
 * frees) with its length in *len, or NULL for an unknown format. */
char *mt_export_render(const char *format, const mt_export_info *info,
                       const mt_region_result *g, int after, size_t *len);

#endif
