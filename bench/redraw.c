/* redraw.c (bench) — the TUI's full-screen redraw time, in microseconds per
 * frame, for the stage 3 step with the largest dump, at 200×60 and 80×24. */
#include "app.h"
#include "lesson.h"
#include "pythons.h"
#include "tui.h"
#include "util.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Usage: bench-redraw [-l LESSONS] [FRAMES]
 * Runs stage 3 (the tp-as-number stage; the last stage when there are
 * fewer) in a worker, keeps the result of its step with the most dumped
 * bytes, and times mt_tui_bench_redraw on it.  Prints one tab-separated
 * line per size:  cols rows frames us_per_frame stage step regions bytes
 * Exit 1 when the lessons or the worker fail, or no off-screen terminal. */

static const int sizes[][2] = {{200, 60}, {80, 24}};

/* How much a result dumps: bytes, plus a row per field and instruction. */
static size_t
weight(const mt_step_result *r)
{
    size_t w = 0;
    for (uint32_t i = 0; i < r->nregions; i++) {
        w += r->regions[i].len + 16u * (r->regions[i].nfields + r->regions[i].ninsn_before
                                        + r->regions[i].ninsn_after);
    }
    return w;
}

int
main(int argc, char **argv)
{
    mt_app app;
    char *err = NULL;
    int frames = 1000, rc = 1;
    mt_step_result *best = NULL;
    mt_worker *w = NULL;

    memset(&app, 0, sizeof app);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-l") == 0 && i + 1 < argc) {
            app.opts.lessons_dir = argv[++i];
        } else {
            frames = atoi(argv[i]);
        }
    }
    if (frames < 1) {
        fprintf(stderr, "usage: bench-redraw [-l LESSONS] [FRAMES]\n");
        return 2;
    }
    /* The default worker, as main picks it, and the lessons as they read
     * on its version. */
    mt_python *pys;
    size_t npys = mt_pythons_find(&pys);
    long pi = mt_pythons_choose(pys, npys, NULL, &err);
    if (pi < 0) {
        fprintf(stderr, "bench-redraw: %s\n", err);
        free(err);
        mt_pythons_free(pys, npys);
        return 1;
    }
    mt_worker_use(pys[pi].path);
    mt_lesson_for_python(pys[pi].minor);
    mt_pythons_free(pys, npys);
    if (mt_app_load(&app, &err) < 0) {
        fprintf(stderr, "bench-redraw: %s\n", err);
        free(err);
        return 1;
    }
    long si = mt_app_stage_index(&app, 3);
    if (si < 0) {
        si = (long)app.nlessons - 1;
        fprintf(stderr, "bench-redraw: no stage 3 yet, using stage %d\n",
                app.lessons[si]->number);
    }
    const mt_lesson *l = app.lessons[si];
    w = mt_worker_start(app.lessons, app.nlessons, &err);
    if (w == NULL) {
        fprintf(stderr, "bench-redraw: %s\n", err);
        free(err);
        goto out;
    }
    int best_k = -1;
    for (size_t k = 0; k < l->nsteps; k++) {
        mt_step_result *r = mt_worker_goto(w, (size_t)si, (int)k);
        if (r->status == MT_ST_CRASH || r->status == MT_ST_TIMEOUT) {
            fprintf(stderr, "bench-redraw: stage %d step %zu: the worker died\n", l->number, k + 1);
            mt_result_free(r);
            goto out;
        }
        if (best == NULL || weight(r) > weight(best)) {
            mt_result_free(best);
            best = r;
            best_k = (int)k;
        } else {
            mt_result_free(r);
        }
    }
    if (best == NULL) {
        fprintf(stderr, "bench-redraw: stage %d has no steps\n", l->number);
        goto out;
    }
    size_t bytes = 0;
    for (uint32_t i = 0; i < best->nregions; i++) {
        bytes += best->regions[i].len;
    }
    rc = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        double us = mt_tui_bench_redraw(&app, best, (size_t)si, best_k, sizes[i][0],
                                        sizes[i][1], frames);
        if (us < 0) {
            fprintf(stderr, "bench-redraw: no off-screen terminal for %dx%d\n", sizes[i][0],
                    sizes[i][1]);
            rc = 1;
            continue;
        }
        printf("%d\t%d\t%d\t%.1f\t%d\t%d\t%u\t%zu\n", sizes[i][0], sizes[i][1], frames, us,
               l->number, best_k + 1, best->nregions, bytes);
    }
out:
    mt_result_free(best);
    mt_result_free(mt_worker_quit(w));
    mt_app_free(&app);
    return rc;
}
