/* main.c — option parsing, then one of: tui, plain, export, run, list,
 * doctor. */
#include "app.h"
#include "util.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef MT_VERSION
#define MT_VERSION "0.0.0"
#endif

enum mode { MODE_TUI, MODE_PLAIN, MODE_EXPORT, MODE_RUN, MODE_LIST, MODE_DOCTOR };

enum opt_id {
    O_STAGE, O_STEP, O_LIST, O_PLAIN, O_EXPORT, O_FORMAT, O_FORCE, O_RUN,
    O_NOFOLD, O_DOCTOR, O_LESSONS, O_HELP, O_VERSION
};

static const struct option_entry {
    const char *name;
    enum opt_id id;
    const char *arg;           /* NULL: takes no value */
    const char *help;
} options[] = {
    {"--stage", O_STAGE, "N", "open at stage N (talk mode)"},
    {"--step", O_STEP, "K", "with --stage: open at step K"},
    {"--list", O_LIST, NULL, "one line per stage: number, slug, title"},
    {"--plain", O_PLAIN, NULL, "the walkthrough as text on stdout, no TUI"},
    {"--export", O_EXPORT, "DIR", "write before/after dumps for slides into DIR"},
    {"--format", O_FORMAT, "LIST", "with --export: txt,md,html,svg,ansi,json"},
    {"--force", O_FORCE, NULL, "with --export: overwrite existing files"},
    {"--run", O_RUN, "FILE", "run FILE [ARGS...] in the embedded interpreter"},
    {"--no-fold", O_NOFOLD, NULL, "before --run: hold the optimiser off while FILE runs"},
    {"--doctor", O_DOCTOR, NULL, "what works here: Python, symbols, capstone, mprotect"},
    {"--lessons", O_LESSONS, "DIR", "lessons from DIR instead"},
    {"--help", O_HELP, NULL, "this help"},
    {"--version", O_VERSION, NULL, "version"},
};

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: ministry-tutor [--stage N [--step K]] [--lessons DIR]\n"
            "       ministry-tutor --plain [--stage N [--step K]]\n"
            "       ministry-tutor --export DIR [--stage N [--step K]] [--format LIST] [--force]\n"
            "       ministry-tutor [--no-fold] --run FILE [ARGS...]\n"
            "       ministry-tutor --list | --doctor | --help | --version\n"
            "\n"
            "A teaching workbench for CPython internals: the talk \"2 + 2 = 5\" in seven\n"
            "stages, each patch applied to a live embedded CPython 3.11, its memory dumped\n"
            "before and after, and everything put back.\n\n");
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        char left[32];
        snprintf(left, sizeof left, "%s%s%s", options[i].name, options[i].arg ? " " : "",
                 options[i].arg ? options[i].arg : "");
        fprintf(f, "  %-16s %s\n", left, options[i].help);
    }
    fprintf(f,
            "\nWithout --stage the lessons resume where you left off.  When stdout is not a\n"
            "terminal, or TERM=dumb, the --plain text is printed instead of the TUI.\n"
            "Environment: MINISTRY_LESSONS, MINISTRY_DEBUG_DIR, MINISTRY_STEP_TIMEOUT,\n"
            "DOUBLEPLUSNOPYTHONOPT=1 (as --no-fold), NO_COLOR, XDG_STATE_HOME.\n"
            "Exit status: 0 success, 1 runtime failure, 2 bad usage.  See ministry-tutor(1).\n");
}

static int
bad_usage(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "ministry-tutor: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, " (see --help)\n");
    return 2;
}

/* A positive decimal number, or -1. */
static int
number(const char *s)
{
    char *end;
    if (s == NULL || *s < '0' || *s > '9') {
        return -1;
    }
    long v = strtol(s, &end, 10);
    return *end != '\0' || v > 1000000 ? -1 : (int)v;
}

int
main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    mt_app app;
    memset(&app, 0, sizeof app);
    mt_opts *o = &app.opts;
    enum mode mode = MODE_TUI;
    int explicit_mode = 0;
    const char *stage_arg = NULL, *step_arg = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        const struct option_entry *opt = NULL;
        size_t alen = strcspn(a, "=");
        for (size_t k = 0; k < sizeof options / sizeof options[0]; k++) {
            if (strlen(options[k].name) == alen && strncmp(a, options[k].name, alen) == 0) {
                opt = &options[k];
            }
        }
        if (opt == NULL) {
            return bad_usage("unknown option '%s'%s", a, "");
        }
        if (opt->arg != NULL) {
            if (a[alen] == '=') {
                val = a + alen + 1;
            } else if (i + 1 < argc) {
                val = argv[++i];
            } else {
                return bad_usage("%s needs a value (%s)", opt->name, opt->arg);
            }
        } else if (a[alen] == '=') {
            return bad_usage("%s takes no value", opt->name, "");
        }
        switch (opt->id) {
        case O_STAGE:
            if (stage_arg != NULL) {
                return bad_usage("--stage given twice ('%s', then '%s')", stage_arg, val);
            }
            stage_arg = val;
            break;
        case O_STEP:
            if (step_arg != NULL) {
                return bad_usage("--step given twice ('%s', then '%s')", step_arg, val);
            }
            step_arg = val;
            break;
        case O_LIST: mode = MODE_LIST; explicit_mode++; break;
        case O_PLAIN: mode = MODE_PLAIN; explicit_mode++; break;
        case O_EXPORT: mode = MODE_EXPORT; o->export_dir = val; explicit_mode++; break;
        case O_FORMAT: o->formats = val; break;
        case O_FORCE: o->force = 1; break;
        case O_NOFOLD: o->no_fold = 1; break;
        case O_DOCTOR: mode = MODE_DOCTOR; explicit_mode++; break;
        case O_LESSONS: o->lessons_dir = val; break;
        case O_HELP:
            usage(stdout);
            return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
        case O_VERSION:
            printf("ministry-tutor %s\n", MT_VERSION);
            return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
        case O_RUN:
            mode = MODE_RUN;
            explicit_mode++;
            o->run_file = val;
            o->run_argc = argc - i;       /* FILE and everything after it */
            o->run_argv = argv + i;
            o->run_argv[0] = (char *)val;
            i = argc;
            break;
        }
    }
    if (explicit_mode > 1) {
        return bad_usage("choose one of --list, --plain, --export, --run, --doctor%s%s", "", "");
    }
    if (mode != MODE_TUI && mode != MODE_PLAIN && mode != MODE_EXPORT
        && (stage_arg || step_arg)) {
        return bad_usage("--stage and --step go with the lessons, --plain or --export%s%s", "", "");
    }
    if ((o->formats || o->force) && mode != MODE_EXPORT) {
        return bad_usage("--format and --force go with --export%s%s", "", "");
    }
    if (o->no_fold && mode != MODE_RUN) {
        return bad_usage("--no-fold goes before --run FILE%s%s", "", "");
    }
    if (step_arg && !stage_arg) {
        return bad_usage("--step needs --stage%s%s", "", "");
    }
    const char *limit = getenv("MINISTRY_STEP_TIMEOUT");
    if (limit != NULL && *limit != '\0') {
        char *end;
        double t = strtod(limit, &end);
        if (*end != '\0' || !(t > 0 && t <= 86400)) {
            return bad_usage("MINISTRY_STEP_TIMEOUT must be seconds, more than 0 and at most "
                             "86400, not '%s'%s", limit, "");
        }
    }
    const char *env = getenv("DOUBLEPLUSNOPYTHONOPT");
    if (env != NULL && *env != '\0' && strcmp(env, "0") != 0) {
        o->no_fold = 1;
    }
    if (mode == MODE_RUN) {
        return mt_run_main(&app);
    }
    if (mode == MODE_DOCTOR) {
        int rc = mt_doctor_main(&app);
        mt_app_free(&app);
        return rc;
    }

    char *err = NULL;
    if (mt_app_load(&app, &err) < 0) {
        fprintf(stderr, "ministry-tutor: %s\n", err);
        free(err);
        mt_app_free(&app);
        return 1;
    }
    int first = app.lessons[0]->number, last = app.lessons[app.nlessons - 1]->number;
    if (stage_arg) {
        o->stage = number(stage_arg);
        if (o->stage < 0 || mt_app_stage_index(&app, o->stage) < 0) {
            if (last - first + 1 == (int)app.nlessons) {
                fprintf(stderr, "ministry-tutor: --stage must be a stage number from %d to "
                                "%d, not '%s' (see --list)\n", first, last, stage_arg);
            } else {
                /* Numbers with gaps: name them all. */
                mt_str have = {0};
                for (size_t i = 0; i < app.nlessons; i++) {
                    mt_str_addf(&have, "%s%d", i ? ", " : "", app.lessons[i]->number);
                }
                fprintf(stderr, "ministry-tutor: --stage must be one of the stages %s, "
                                "not '%s' (see --list)\n", have.s, stage_arg);
                free(have.s);
            }
            mt_app_free(&app);
            return 2;
        }
    }
    if (step_arg) {
        const mt_lesson *l = app.lessons[mt_app_stage_index(&app, o->stage)];
        o->step = number(step_arg);
        if (o->step < 1 || (size_t)o->step > l->nsteps) {
            fprintf(stderr, "ministry-tutor: --step must be from 1 to %zu for stage %d, "
                            "not '%s'\n", l->nsteps, o->stage, step_arg);
            mt_app_free(&app);
            return 2;
        }
    }

    int rc = 0;
    switch (mode) {
    case MODE_LIST:
        for (size_t i = 0; i < app.nlessons; i++) {
            printf("%d  %-14s %s\n", app.lessons[i]->number, app.lessons[i]->slug,
                   app.lessons[i]->title);
        }
        break;
    case MODE_PLAIN: rc = mt_plain_main(&app); break;
    case MODE_EXPORT: rc = mt_export_main(&app); break;
    case MODE_DOCTOR: rc = mt_doctor_main(&app); break;
    case MODE_RUN: break;
    case MODE_TUI: {
        const char *term = getenv("TERM");
        if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO) || term == NULL
            || *term == '\0' || strcmp(term, "dumb") == 0) {
            rc = mt_plain_main(&app);
        } else {
            rc = mt_tui_main(&app);
        }
        break;
    }
    }
    if (fflush(stdout) != 0 && rc == 0) {
        rc = 1;
    }
    mt_app_free(&app);
    return rc;
}
