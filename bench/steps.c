/* steps.c (bench) — where a walkthrough's time goes: every stage run
 * in-process through the session, each phase of the host timed apart from
 * the lessons' own code. */
#include "app.h"
#include "doc.h"
#include "interp.h"
#include "lesson.h"
#include "mem.h"
#include "result.h"
#include "session.h"
#include "util.h"
#include "view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Usage: bench-steps [-l LESSONS]
 * Loads the lessons, starts the interpreter in this process (as the worker
 * does), runs every step of every stage, leaves each
 * stage, and renders every result as --plain would (into memory).  Then
 * times again, apart, the pieces of host work a step does besides running
 * its cell.  Prints "phase<TAB>ms<TAB>count" lines; the phases add up to
 * the in-process walkthrough (see bench/run.sh for the table).
 * Exit 1 when the lessons or the interpreter fail, or a step does not run. */

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
hook(int stage, int step, double timeout)
{
    (void)stage;
    (void)step;
    (void)timeout;   /* the worker arms a timer here: one setitimer call */
}

/* Render r as the plain frontend does, into memory; returns its length. */
static size_t
render(const mt_lesson *l, int k, const mt_step_result *r)
{
    mt_doc *d[4];
    size_t n = 0;
    d[0] = mt_view_markdown(l->steps[k].narrative, 78);
    d[1] = mt_view_code(l->steps[k].code, r->code_roles);
    d[2] = mt_view_output(r);
    for (int i = 0; i < 3; i++) {
        char *t = mt_doc_text(d[i]);
        n += strlen(t);
        free(t);
        mt_doc_free(d[i]);
    }
    for (uint32_t i = 0; i < r->nregions; i++) {
        for (int after = 0; after < 2; after++) {
            mt_doc *g = mt_view_region(&r->regions[i], after);
            char *t = mt_doc_text(g);
            n += strlen(t);
            free(t);
            mt_doc_free(g);
        }
    }
    return n;
}

int
main(int argc, char **argv)
{
    mt_app app;
    char *err = NULL;
    memset(&app, 0, sizeof app);
    int per_cell = 0;
    if (argc > 1 && strcmp(argv[1], "-c") == 0) {
        per_cell = 1; /* each step's cell time on stderr */
        argc--;
        argv++;
    }
    if (argc == 3 && strcmp(argv[1], "-l") == 0) {
        app.opts.lessons_dir = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: bench-steps [-c] [-l LESSONS]\n");
        return 2;
    }
    /* The lessons as this process's CPython reads them, as its worker would. */
    mt_lesson_for_python(atoi(mt_interp_version() + 2));
    double t0 = now_ms();
    if (mt_app_load(&app, &err) < 0) {
        fprintf(stderr, "bench-steps: %s\n", err);
        return 1;
    }
    double t_parse = now_ms() - t0;
    t0 = now_ms();
    if (mt_interp_init(-1, &err) < 0) {
        fprintf(stderr, "bench-steps: %s\n", err);
        return 1;
    }
    double t_init = now_ms() - t0;
    t0 = now_ms();
    mt_interp_guard_baseline();
    double t_base = now_ms() - t0;

    mt_session *s = mt_session_new(app.lessons, app.nlessons);
    mt_session_step_hook = hook;
    double t_steps = 0, t_cells = 0, t_leave = 0, t_encode = 0, t_render = 0;
    int nsteps = 0, nregions = 0, bad = 0;
    size_t out_bytes = 0;
    for (size_t si = 0; si < app.nlessons; si++) {
        const mt_lesson *l = app.lessons[si];
        for (size_t k = 0; k < l->nsteps; k++) {
            t0 = now_ms();
            mt_step_result *r = mt_session_goto(s, si, (int)k);
            t_steps += now_ms() - t0;
            t_cells += r->seconds * 1e3;
            if (per_cell) {
                fprintf(stderr, "cell\t%d.%zu\t%s\t%.2f\n", l->number, k + 1,
                        l->steps[k].slug ? l->steps[k].slug : "", r->seconds * 1e3);
            }
            if (r->status != MT_ST_OK) {
                fprintf(stderr, "bench-steps: stage %d step %zu did not run (status %u)\n%s",
                        l->number, k + 1, r->status, r->traceback);
                bad = 1;
            }
            nsteps++;
            nregions += (int)r->nregions;
            t0 = now_ms();
            size_t len;
            free(mt_result_encode(r, &len));
            t_encode += now_ms() - t0;
            t0 = now_ms();
            out_bytes += render(l, (int)k, r);
            t_render += now_ms() - t0;
            mt_result_free(r);
        }
        t0 = now_ms();
        mt_result_free(mt_session_leave(s));
        t_leave += now_ms() - t0;
    }

    /* The host's per-step work, timed apart (the same calls the session
     * makes: once per step, twice per region). */
    double t_roles = 0, t_perms = 0, t_patched = 0;
    for (size_t si = 0; si < app.nlessons; si++) {
        const mt_lesson *l = app.lessons[si];
        for (size_t k = 0; k < l->nsteps; k++) {
            t0 = now_ms();
            free(mt_interp_code_roles(l->steps[k].code));
            t_roles += now_ms() - t0;
            t0 = now_ms();
            (void)mt_interp_patched();
            t_patched += now_ms() - t0;
        }
    }
    char perms[5];
    t0 = now_ms();
    for (int i = 0; i < 2 * nregions; i++) {
        mt_mem_perms((uintptr_t)&app, perms);
    }
    t_perms = now_ms() - t0;
    /* Roles are not part of the walkthrough (only the TUI asks for them). */
    double other = t_steps - t_cells - t_perms - t_patched;

    printf("lesson files parsed\t%.2f\t%zu\n", t_parse, app.nlessons);
    printf("interpreter start (Py_InitializeFromConfig, host helpers)\t%.2f\t1\n", t_init);
    printf("guard baseline\t%.2f\t1\n", t_base);
    printf("steps, total\t%.2f\t%d\n", t_steps, nsteps);
    printf("  lesson cells (the lessons' own Python)\t%.2f\t%d\n", t_cells, nsteps);
    printf("  (not in --plain: code roles, tokenize, TUI only)\t%.2f\t%d\n", t_roles, nsteps);
    printf("  region permissions (one mapping query each, if every region were code)\t%.2f\t%d\n", t_perms,
           2 * nregions);
    printf("  patched check (the guard's cheap checks, per step)\t%.2f\t%d\n", t_patched,
           nsteps);
    printf("  other host work (watch exprs, reads, fields, names, pristine, W+X scan)\t%.2f\t%d\n", other,
           nsteps);
    printf("stages left (reverts, verify, full guard)\t%.2f\t%zu\n", t_leave, app.nlessons);
    printf("results encoded\t%.2f\t%d\n", t_encode, nsteps);
    printf("results rendered as --plain\t%.2f\t%zu\n", t_render, out_bytes);
    mt_session_free(s);
    mt_app_free(&app);
    return bad;
}
