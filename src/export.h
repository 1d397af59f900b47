/* export.h — hex dumps for slides: txt, md, html, svg, ansi and json files
 * rendered from the same styled documents as the TUI and --plain. */
#ifndef MT_EXPORT_H
#define MT_EXPORT_H

#include "lesson.h"
#include "result.h"

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

#endif
