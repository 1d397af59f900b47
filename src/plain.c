/* plain.c — the walkthrough as plain text on stdout: every step's
 * narrative, code, output and regions, with no terminal control at all. */
#include "app.h"
#include "doc.h"
#include "util.h"
#include "view.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <langinfo.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int
text_width(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40) {
        return ws.ws_col > 100 ? 100 : ws.ws_col;
    }
    return 78;
}

static void
put_doc(const mt_doc *d, const char *indent)
{
    char *t = mt_doc_text(d);
    for (char *p = t; *p;) {
        char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        printf("%s%.*s\n", n ? indent : "", (int)n, p);
        p = e ? e + 1 : p + n;
    }
    free(t);
}

/* One rule line with a title: "── title ───…". */
static void
rule(const char *ch, const char *title, int width)
{
    int w = mt_utf8_width(title, strlen(title));
    printf("%s%s %s ", ch, ch, title);
    for (int i = w + 4; i < width; i++) {
        fputs(ch, stdout);
    }
    putchar('\n');
}

/* Print one step's result.  Returns 0, or 1 when the step failed. */
static int
put_step(const mt_lesson *l, int k, const mt_step_result *r, int width)
{
    const mt_step *st = &l->steps[k];
    char *title = mt_xasprintf("Step %d/%zu: %s%s", k + 1, l->nsteps, st->title,
                               r->patched ? "  [PATCHED]" : "  [pristine]");
    putchar('\n');
    rule(mt_view_ascii() ? "-" : "─", title, width);
    free(title);
    if (*st->narrative) {
        mt_doc *d = mt_view_markdown(st->narrative, width);
        put_doc(d, "");
        mt_doc_free(d);
        putchar('\n');
    }
    mt_doc *code = mt_view_code(st->code, r->code_roles);
    put_doc(code, "    ");
    mt_doc_free(code);
    mt_doc *out = mt_view_output(r);
    if (out->n > 0) {
        putchar('\n');
        put_doc(out, "  | ");
    }
    mt_doc_free(out);
    for (uint32_t i = 0; i < r->nregions; i++) {
        for (int after = 0; after < 2; after++) {
            mt_doc *d = mt_view_region(&r->regions[i], after);
            putchar('\n');
            put_doc(d, "  ");
            mt_doc_free(d);
        }
    }
    return r->status == 0 && !r->restored ? 0 : 1;
}

static void
put_notes(const mt_step_result *r)
{
    if (r != NULL && *r->notes) {
        mt_doc *d = mt_view_output(r);
        putchar('\n');
        put_doc(d, "  ! ");
        mt_doc_free(d);
    }
}

/* One line for stderr about a failed step: "file:line: stage N step K
 * (title): the exception", the line being the deepest one of the lesson
 * file the traceback names (where a syntax error is, too). */
static char *
failure_line(const mt_lesson *l, int k, const mt_step_result *r)
{
    int line = l->steps[k].code_line;
    char *pat = mt_xasprintf("File \"%s\", line ", l->path);
    for (const char *p = strstr(r->traceback, pat); p; p = strstr(p + 1, pat)) {
        line = atoi(p + strlen(pat));
    }
    free(pat);
    /* A watch that could not be evaluated says "path:line: ..." itself. */
    size_t wl;
    const char *what = mt_result_tb_last(r->traceback, &wl);
    if (wl == 0) {
        what = r->restored ? "the host had to put things back" : "it did not run (notes above)";
        wl = strlen(what);
    }
    size_t plen = strlen(l->path);
    if (strncmp(what, l->path, plen) == 0 && what[plen] == ':') {
        return mt_xasprintf("stage %d step %d (%s): %.*s", l->number, k + 1,
                            l->steps[k].title, (int)wl, what);
    }
    return mt_xasprintf("%s:%d: stage %d step %d (%s): %.*s", l->path, line, l->number, k + 1,
                        l->steps[k].title, (int)wl, what);
}

/* The walk as it is printed. */
typedef struct plain {
    mt_app *app;
    int width, ascii;
    size_t first;
    size_t cur;                /* stage index whose heading is printed; -1 none */
    int failed, crashed;
    int stage_failed, skipped; /* of the stage being printed */
} plain;

static void
stage_heading(plain *pl, size_t si)
{
    const mt_lesson *l = pl->app->lessons[si];
    char *title = mt_xasprintf("Stage %d/%d %s %s %s %s", l->number,
                               pl->app->lessons[pl->app->nlessons - 1]->number,
                               mt_view_dot(), l->slug, mt_view_dot(), l->title);
    if (si != pl->first) {
        putchar('\n');
    }
    rule(pl->ascii ? "=" : "═", title, pl->width);
    free(title);
    if (*l->summary) {
        mt_doc *d = mt_view_markdown(l->summary, pl->width);
        put_doc(d, "");
        mt_doc_free(d);
    }
    pl->cur = si;
    pl->stage_failed = pl->skipped = 0;
}

/* mt_walk_fn: print one result. */
static int
on_result(void *ctx, size_t si, int k, mt_step_result *r)
{
    plain *pl = ctx;
    const mt_lesson *l = pl->app->lessons[si];
    int stop = 0;
    if (pl->cur != si) {
        stage_heading(pl, si);
    }
    if (mt_worker_interrupted) {
        put_notes(r);
        fflush(stdout);
        if (k == MT_WALK_LEAVE) {
            fprintf(stderr, "ministry-tutor: interrupted while leaving stage %d\n", l->number);
        } else {
            fprintf(stderr, "ministry-tutor: interrupted in stage %d, step %d (%s)\n",
                    l->number, k + 1, l->steps[k].title);
        }
        stop = 1;
    } else if (k == MT_WALK_LEAVE) {
        if (pl->skipped > 0) {
            printf("\n  (%d more step%s of this stage not run: a step failed)\n", pl->skipped,
                   pl->skipped == 1 ? "" : "s");
        }
        pl->crashed |= mt_result_is_death(r);
        put_notes(r);
        if (r->patched || r->restored || r->status != 0) {
            fprintf(stderr, "ministry-tutor: stage %d: leaving it needed the host to "
                            "step in (see the notes above)\n", l->number);
            pl->failed = 1;
        }
        if (*l->outro && pl->app->opts.step == 0 && !pl->crashed) {
            putchar('\n');
            mt_doc *d = mt_view_markdown(l->outro, pl->width);
            put_doc(d, "");
            mt_doc_free(d);
        }
        /* The stage's exercises, with the command that opens each. */
        for (size_t x = 0; pl->app->opts.step == 0 && !pl->crashed && x < l->nexercises; x++) {
            printf("%sExercise %d.%zu: %s (ministry-tutor --exercise %d.%zu)\n", x ? "" : "\n",
                   l->number, x + 1, l->exercises[x].title, l->number, x + 1);
        }
    } else if (mt_result_is_death(r)) {
        put_notes(r);
        /* The step that died, which --step K may have replayed. */
        int dk = r->step >= 0 && (size_t)r->step < l->nsteps ? r->step : k;
        fprintf(stderr, "ministry-tutor: stage %d step %d (%s): the worker %s\n",
                l->number, dk + 1, l->steps[dk].title,
                r->status == MT_ST_TIMEOUT                       ? "ran past its time limit"
                : strncmp(r->notes, "Protocol error", 14) == 0 ? "broke the protocol"
                                                                : "crashed");
        pl->crashed = stop = 1;
    } else if (pl->stage_failed) {
        /* After a failed step the worker ran nothing more: its answers
         * ("not run") are counted, not printed. */
        pl->skipped++;
    } else if (put_step(l, k, r, pl->width) != 0) {
        int fk = r->step >= 0 && (size_t)r->step < l->nsteps ? r->step : k;
        char *why = failure_line(l, fk, r);
        fprintf(stderr, "ministry-tutor: %s\n", why);
        free(why);
        pl->failed = pl->stage_failed = 1;
    }
    mt_result_free(r);
    return stop;
}

int
mt_plain_main(mt_app *app)
{
    /* Ctrl-C, SIGTERM: stop the worker, keep what was printed, say where. */
    mt_worker_catch_signals();
    plain pl = {.app = app, .width = text_width(), .cur = (size_t)-1};
    pl.ascii = strcmp(nl_langinfo(CODESET), "UTF-8") != 0;
    mt_view_set_ascii(pl.ascii);
    char *err = NULL;
    mt_worker *w = mt_worker_start(app->lessons, app->nlessons, &err);
    if (w == NULL) {
        fprintf(stderr, "ministry-tutor: %s\n", err);
        free(err);
        return 1;
    }
    mt_worker_want_roles(w, 0);     /* plain text does not colour code */
    size_t last = app->nlessons;
    if (app->opts.stage > 0) {
        pl.first = (size_t)mt_app_stage_index(app, app->opts.stage);
        last = pl.first + 1;
    }
    mt_worker_walk(w, pl.first, last, app->opts.step, on_result, &pl);
    if (mt_worker_interrupted) {
        mt_result_free(mt_worker_quit(w));
        return 128 + mt_worker_interrupted;
    }
    mt_step_result *q = mt_worker_quit(w);
    if (q != NULL) {
        put_notes(q);
        pl.failed |= q->patched != 0;
        mt_result_free(q);
    }
    return pl.failed || pl.crashed ? 1 : 0;
}
