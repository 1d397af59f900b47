/* main.c — option parsing, then one of: tui, plain, export, run, list,
 * doctor, exercises. */
#include "app.h"
#include "doc.h"
#include "exercise.h"
#include "export.h"
#include "view.h"
#include "pythons.h"
#include "util.h"
#include "worker.h"

#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef MT_VERSION
#define MT_VERSION "0.0.0"
#endif

enum mode {
    MODE_TUI, MODE_PLAIN, MODE_EXPORT, MODE_RUN, MODE_LIST, MODE_DOCTOR, MODE_EXERCISES,
    MODE_EXERCISE, MODE_NOTES
};

/* getopt_long's value for each long option; above every char, so a short
 * option can use its letter. */
enum opt_id {
    O_STAGE = 256, O_STEP, O_LIST, O_PLAIN, O_EXPORT, O_FORMAT, O_FORCE, O_RUN,
    O_CONTEXT, O_THEME, O_SCALE, O_NOFOLD, O_SITE, O_DOCTOR, O_LESSONS, O_PYTHON, O_HELP,
    O_VERSION, O_EXERCISES, O_EXERCISE, O_CHECK, O_NOTES, O_MODULE = 'm'
};

/* The command line: the getopt_long entry and what --help says of it.  An
 * entry without a name is a short option only, its letter in o.val. */
static const struct cli_option {
    struct option o;
    const char *arg;           /* the value's name in --help */
    const char *help;
} options[] = {
    {{"stage", required_argument, NULL, O_STAGE}, "N", "open at stage N (talk mode)"},
    {{"step", required_argument, NULL, O_STEP}, "K", "with --stage: open at step K"},
    {{"notes", no_argument, NULL, O_NOTES}, NULL,
     "speaker notes: the prose of where the TUI in another terminal is"},
    {{"list", no_argument, NULL, O_LIST}, NULL, "one line per stage: number, slug, title"},
    {{"plain", no_argument, NULL, O_PLAIN}, NULL, "the walkthrough as text on stdout, no TUI"},
    {{"export", required_argument, NULL, O_EXPORT}, "DIR",
     "write before/after dumps for slides into DIR"},
    {{"format", required_argument, NULL, O_FORMAT}, "LIST",
     "with --export: txt,md,html,svg,png,ansi,json"},
    {{"context", required_argument, NULL, O_CONTEXT}, "N|all",
     "with --export: rows shown around changes"},
    {{"scale", required_argument, NULL, O_SCALE}, "N",
     "with --export: PNG pixels per SVG pixel (2)"},
    {{"force", no_argument, NULL, O_FORCE}, NULL, "with --export: overwrite existing files"},
    {{"theme", required_argument, NULL, O_THEME}, "NAME",
     "dark or light (else $MINISTRY_THEME, else dark)"},
    {{"run", required_argument, NULL, O_RUN}, "FILE",
     "run FILE [ARGS...] in the embedded interpreter"},
    {{NULL, required_argument, NULL, O_MODULE}, "MODULE",
     "run MODULE [ARGS...] as python3 -m does"},
    {{"no-fold", no_argument, NULL, O_NOFOLD}, NULL,
     "before --run/-m: hold the optimiser off while it runs"},
    {{"site", no_argument, NULL, O_SITE}, NULL,
     "before --run/-m: the system's site-packages on sys.path"},
    {{"exercises", no_argument, NULL, O_EXERCISES}, NULL,
     "one line per exercise: N.K, done or todo, title"},
    {{"exercise", required_argument, NULL, O_EXERCISE}, "N.K",
     "do exercise N.K: its file, re-checked on each save"},
    {{"check", optional_argument, NULL, O_CHECK}, "[=FILE]",
     "with --exercise: check once (or FILE), exit 0 if solved"},
    {{"doctor", no_argument, NULL, O_DOCTOR}, NULL,
     "what works here: Python, symbols, capstone, mprotect"},
    {{"lessons", required_argument, NULL, O_LESSONS}, "DIR", "lessons from DIR instead"},
    {{"python", required_argument, NULL, O_PYTHON}, "X.Y",
     "run on CPython X.Y (default: system python3's, else newest)"},
    {{"help", no_argument, NULL, O_HELP}, NULL, "this help"},
    {{"version", no_argument, NULL, O_VERSION}, NULL, "version"},
};
#define NOPTIONS (sizeof options / sizeof options[0])

/* '+': stop at the first argument that is not an option, and after
 * --run FILE or -m MODULE, whose arguments belong to the program; ':': a
 * missing value is reported as ':', not '?'; "m:" the one short option. */
static const char short_options[] = "+:m:";

/* What the command line asked for, besides app->opts. */
typedef struct cli {
    enum mode mode;
    const char *stage_arg;
    const char *step_arg;
    const char *context_arg;
    const char *theme_arg;
    const char *scale_arg;
} cli;

/* "--name", or "-m" for a short option (a static buffer). */
static const char *
option_name(const struct cli_option *opt)
{
    static char name[32];
    if (opt->o.name == NULL) {
        snprintf(name, sizeof name, "-%c", opt->o.val);
    } else {
        snprintf(name, sizeof name, "--%s", opt->o.name);
    }
    return name;
}

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: ministry-tutor [--python X.Y] [--stage N [--step K]] [--theme NAME]\n"
            "                      [--lessons DIR]\n"
            "       ministry-tutor --notes [--theme NAME]\n"
            "       ministry-tutor --plain [--stage N [--step K]]\n"
            "       ministry-tutor --export DIR [--stage N [--step K]] [--format LIST]\n"
            "                      [--context N|all] [--theme NAME] [--scale N] [--force]\n"
            "       ministry-tutor [--no-fold] [--site] --run FILE [ARGS...]\n"
            "       ministry-tutor [--no-fold] [--site] -m MODULE [ARGS...]\n"
            "       ministry-tutor --exercise N.K [--check[=FILE]]\n"
            "       ministry-tutor --list | --exercises | --doctor | --help | --version\n"
            "\n"
            "A teaching workbench for CPython internals: the talk \"2 + 2 = 5\" in seven\n"
            "stages, each patch applied to a live embedded CPython (3.11 or newer, one\n"
            "worker per version: see --list), its memory dumped before and after, and\n"
            "everything put back.\n\n");
    for (size_t i = 0; i < NOPTIONS; i++) {
        char left[64];
        /* An optional value is written "[=FILE]", right after the name. */
        snprintf(left, sizeof left, "%s%s%s", option_name(&options[i]),
                 options[i].arg && options[i].o.has_arg != optional_argument ? " " : "",
                 options[i].arg ? options[i].arg : "");
        fprintf(f, "  %-16s %s\n", left, options[i].help);
    }
    fprintf(f,
            "\nWithout --stage the lessons resume where you left off.  When stdout is not a\n"
            "terminal, or TERM=dumb, the --plain text is printed instead of the TUI.\n"
            "--run and -m set sys.argv and sys.path as python3 does, isolated as python3 -I\n"
            "is (no PYTHON* variables, no site-packages unless --site); the modules\n"
            "ministry and doublescript are built in.\n"
            "Environment: MINISTRY_LESSONS, MINISTRY_PYTHON, MINISTRY_WORKER_DIR,\n"
            "MINISTRY_DEBUG_DIR, MINISTRY_STEP_TIMEOUT, MINISTRY_THEME,\n"
            "DOUBLEPLUSNOPYTHONOPT=1 (as --no-fold), NO_COLOR, XDG_STATE_HOME.\n"
            "Exit status: 0 success, 1 runtime failure, 2 bad usage.  See ministry-tutor(1).\n");
}

/* Say what is wrong with the command line; returns the exit status 2. */
__attribute__((format(printf, 1, 2)))
static int
usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ministry-tutor: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see --help)\n", stderr);
    va_end(ap);
    return 2;
}

/* The table entry of getopt_long's value id, or NULL. */
static const struct cli_option *
option_of(int id)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (options[i].o.val == id) {
            return &options[i];
        }
    }
    return NULL;
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

/* getopt_long's '?' or ':' as a usage error. */
static int
getopt_error(int c, char **argv)
{
    const struct cli_option *opt = option_of(optopt);
    if (c == ':' && opt != NULL) {
        return usage_error("%s needs a value (%s)", option_name(opt), opt->arg);
    }
    if (opt != NULL) {
        return usage_error("%s takes no value", option_name(opt));
    }
    if (optopt != 0) {
        return usage_error("unknown option '-%c'", optopt);
    }
    return usage_error("unknown option '%s'", argv[optind - 1]);
}

/* Read the options into c and app->opts.  Returns -1 to go on, else the
 * exit status (--help, --version, a usage error). */
/* Keep the value of an option that may be given once: a second one is a
 * usage error, not the last one silently winning.  Returns 0 or 2. */
static int
set_once(const char **slot, int id, const char *val)
{
    if (*slot != NULL) {
        return usage_error("%s given twice ('%s', then '%s')", option_name(option_of(id)),
                           *slot, val);
    }
    *slot = val;
    return 0;
}

/* Flush stdout: 0, or 1 after saying why on stderr (a closed stdout, a
 * full disk), never a silent failure. */
static int
flush_stdout(void)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout)) {
        return 0;
    }
    fprintf(stderr, "ministry-tutor: cannot write to standard output: %s\n",
            strerror(errno ? errno : EIO));
    return 1;
}

static int
parse_args(int argc, char **argv, cli *c, mt_opts *o)
{
    struct option longopts[NOPTIONS + 1];
    size_t nlong = 0;
    int modes = 0;

    for (size_t i = 0; i < NOPTIONS; i++) {
        if (options[i].o.name != NULL) {
            longopts[nlong++] = options[i].o;
        }
    }
    memset(&longopts[nlong], 0, sizeof longopts[nlong]);
    opterr = 0;
    for (int id; c->mode != MODE_RUN
                 && (id = getopt_long(argc, argv, short_options, longopts, NULL)) != -1;) {
        switch (id) {
        case O_STAGE:
        case O_STEP: {
            const char **arg = id == O_STAGE ? &c->stage_arg : &c->step_arg;
            if (*arg != NULL) {
                return usage_error("%s given twice ('%s', then '%s')",
                                   option_name(option_of(id)), *arg, optarg);
            }
            *arg = optarg;
            break;
        }
        case O_LIST: c->mode = MODE_LIST; modes++; break;
        case O_NOTES: c->mode = MODE_NOTES; modes++; break;
        case O_PLAIN: c->mode = MODE_PLAIN; modes++; break;
        case O_EXPORT:
            if (*optarg == '\0') {
                return usage_error("--export needs a folder name");
            }
            c->mode = MODE_EXPORT;
            o->export_dir = optarg;
            modes++;
            break;
        case O_FORMAT:
            if (set_once(&o->formats, id, optarg) != 0) {
                return 2;
            }
            break;
        case O_FORCE: o->force = 1; break;
        case O_CONTEXT:
        case O_THEME:
        case O_SCALE:
            if (set_once(id == O_CONTEXT ? &c->context_arg
                         : id == O_THEME ? &c->theme_arg : &c->scale_arg, id, optarg) != 0) {
                return 2;
            }
            break;
        case O_NOFOLD: o->no_fold = 1; break;
        case O_SITE: o->site = 1; break;
        case O_DOCTOR: c->mode = MODE_DOCTOR; modes++; break;
        case O_EXERCISES: c->mode = MODE_EXERCISES; modes++; break;
        case O_EXERCISE: c->mode = MODE_EXERCISE; o->exercise = optarg; modes++; break;
        case O_CHECK: o->check = 1; o->check_file = optarg; break;
        case O_LESSONS:
            if (set_once(&o->lessons_dir, id, optarg) != 0) {
                return 2;
            }
            break;
        case O_PYTHON:
            if (o->python != NULL) {
                return usage_error("--python given twice ('%s', then '%s')", o->python,
                                   optarg);
            }
            o->python = optarg;
            break;
        case O_HELP:
            usage(stdout);
            return flush_stdout();
        case O_VERSION:
            printf("ministry-tutor %s\n", MT_VERSION);
            return flush_stdout();
        case O_RUN:
        case O_MODULE:
            /* FILE or MODULE and everything after it are the script's
             * argv; the loop stops here. */
            c->mode = MODE_RUN;
            modes++;
            *(id == O_RUN ? &o->run_file : &o->run_module) = optarg;
            o->run_argc = argc - optind + 1;
            o->run_argv = argv + optind - 1;
            o->run_argv[0] = optarg;
            break;
        default:
            return getopt_error(id, argv);
        }
    }
    if (c->mode != MODE_RUN && optind < argc) {
        return usage_error("unknown option '%s'", argv[optind]);
    }
    if (modes > 1) {
        return usage_error("choose one of --list, --plain, --export, --run, -m, --doctor, "
                           "--exercises, --exercise, --notes");
    }
    if (c->mode != MODE_TUI && c->mode != MODE_PLAIN && c->mode != MODE_EXPORT
        && (c->stage_arg || c->step_arg)) {
        return usage_error("--stage and --step go with the lessons, --plain or --export");
    }
    if ((o->formats || o->force || c->context_arg || c->scale_arg) && c->mode != MODE_EXPORT) {
        return usage_error("--format, --context, --scale and --force go with --export");
    }
    int pictures = c->mode == MODE_TUI || c->mode == MODE_PLAIN || c->mode == MODE_EXPORT
                   || c->mode == MODE_NOTES;
    if (c->theme_arg && !pictures) {
        return usage_error("--theme goes with the lessons, --notes, --plain or --export");
    }
    o->context = MT_VIEW_CONTEXT_AUTO;
    if (c->context_arg && strcmp(c->context_arg, "all") == 0) {
        o->context = MT_VIEW_CONTEXT_ALL;
    } else if (c->context_arg && (o->context = number(c->context_arg)) < 0) {
        return usage_error("--context must be a number of rows (0 or more) or 'all', not '%s'",
                           c->context_arg);
    }
    o->scale = 2;
    if (c->scale_arg
        && ((o->scale = number(c->scale_arg)) < 1 || o->scale > MT_EXPORT_SCALE_MAX)) {
        return usage_error("--scale must be a whole number from 1 to %d, not '%s'",
                           MT_EXPORT_SCALE_MAX, c->scale_arg);
    }
    mt_theme theme = MT_THEME_DARK;
    if (c->theme_arg && mt_theme_parse(c->theme_arg, &theme) < 0) {
        return usage_error("--theme must be dark or light, not '%s'", c->theme_arg);
    }
    if (c->theme_arg == NULL && pictures) {
        char *why = NULL;
        if (mt_theme_default(&theme, &why) < 0) {
            int rc = usage_error("%s", why);
            free(why);
            return rc;
        }
    }
    o->theme = (int)theme;
    o->theme_chosen = c->theme_arg != NULL || (getenv(MT_THEME_ENV) && *getenv(MT_THEME_ENV));
    if (o->check && c->mode != MODE_EXERCISE) {
        return usage_error("--check goes with --exercise N.K");
    }
    if (o->check_file != NULL && *o->check_file == '\0') {
        return usage_error("--check=FILE needs a file name");
    }
    if (o->no_fold && c->mode != MODE_RUN) {
        return usage_error("--no-fold goes before --run FILE or -m MODULE");
    }
    if (o->site && c->mode != MODE_RUN) {
        return usage_error("--site goes before --run FILE or -m MODULE");
    }
    if (c->step_arg && !c->stage_arg) {
        return usage_error("--step needs --stage");
    }
    const char *limit = getenv("MINISTRY_STEP_TIMEOUT");
    if (limit != NULL && *limit != '\0') {
        char *end;
        double t = strtod(limit, &end);
        if (*end != '\0' || !(t > 0 && t <= 86400)) {
            return usage_error("MINISTRY_STEP_TIMEOUT must be seconds, more than 0 and at "
                               "most 86400, not '%s'", limit);
        }
    }
    const char *env = getenv("DOUBLEPLUSNOPYTHONOPT");
    if (env != NULL && *env != '\0' && strcmp(env, "0") != 0) {
        o->no_fold = 1;
    }
    return -1;
}

/* --stage and --step against the loaded lessons.  Returns -1 when they
 * fit (or were not given), else the exit status 2 with the message said. */
static int
check_stage_step(mt_app *app, const cli *c)
{
    mt_opts *o = &app->opts;
    int first = app->lessons[0]->number, last = app->lessons[app->nlessons - 1]->number;
    if (c->stage_arg) {
        o->stage = number(c->stage_arg);
        if (o->stage < 0 || mt_app_stage_index(app, o->stage) < 0) {
            if (last - first + 1 == (int)app->nlessons) {
                fprintf(stderr, "ministry-tutor: --stage must be a stage number from %d to "
                                "%d, not '%s' (see --list)\n", first, last, c->stage_arg);
            } else {
                /* Numbers with gaps: name them all. */
                mt_str have = {0};
                for (size_t i = 0; i < app->nlessons; i++) {
                    mt_str_addf(&have, "%s%d", i ? ", " : "", app->lessons[i]->number);
                }
                fprintf(stderr, "ministry-tutor: --stage must be one of the stages %s, "
                                "not '%s' (see --list)\n", have.s, c->stage_arg);
                free(have.s);
            }
            return 2;
        }
    }
    if (c->step_arg) {
        const mt_lesson *l = app->lessons[mt_app_stage_index(app, o->stage)];
        o->step = number(c->step_arg);
        if (o->step < 1 || (size_t)o->step > l->nsteps) {
            fprintf(stderr, "ministry-tutor: --step must be from 1 to %zu for stage %d, "
                            "not '%s'\n", l->nsteps, o->stage, c->step_arg);
            return 2;
        }
    }
    return -1;
}

static int
list_main(mt_app *app)
{
    for (size_t i = 0; i < app->nlessons; i++) {
        printf("%d  %-14s %s\n", app->lessons[i]->number, app->lessons[i]->slug,
               app->lessons[i]->title);
    }
    /* Then the interpreters, after a blank line: stage lines come first. */
    mt_python *v;
    size_t n = mt_pythons_find(&v);
    printf("\n");
    for (size_t i = 0; i < n; i++) {
        printf("python %-5s %s%s\n", v[i].version, v[i].path,
               strcmp(v[i].version, app->opts.python_version) == 0 ? "  (this run's)" : "");
    }
    mt_pythons_free(v, n);
    return 0;
}

/* --python (or the default) to a worker executable.  Returns -1 when
 * there is one, else the exit status 2 with the message said (unless
 * quiet: then -1 all the same). */
static int
choose_python(mt_opts *o, int quiet)
{
    mt_python *v;
    size_t n = mt_pythons_find(&v);
    char *err = NULL;
    long i = mt_pythons_choose(v, n, o->python, &err);
    if (i >= 0) {
        snprintf(o->python_version, sizeof o->python_version, "%s", v[i].version);
        o->worker = mt_xstrdup(v[i].path);
        mt_worker_use(o->worker);
        /* The lessons as they read on that version: the worker reads them
         * so too. */
        mt_lesson_for_python(v[i].minor);
    } else if (!quiet) {
        fprintf(stderr, "ministry-tutor: %s\n", err);
    }
    free(err);
    mt_pythons_free(v, n);
    return i >= 0 || quiet ? -1 : 2;
}

/* The TUI when there is a terminal to draw on, else the plain text. */
static int
lessons_main(mt_app *app)
{
    const char *term = getenv("TERM");
    if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO) || term == NULL || *term == '\0'
        || strcmp(term, "dumb") == 0) {
        return mt_plain_main(app);
    }
    return mt_tui_main(app);
}

/* --exercise N.K: checked once, or watched. */
static int
exercise_main(mt_app *app)
{
    return app->opts.check ? mt_exercise_check_main(app) : mt_exercise_watch_main(app);
}

/* The modes that run on the loaded lessons. */
static int (*const on_lessons[])(mt_app *) = {
    [MODE_TUI] = lessons_main,
    [MODE_PLAIN] = mt_plain_main,
    [MODE_EXPORT] = mt_export_main,
    [MODE_LIST] = list_main,
    [MODE_EXERCISES] = mt_exercises_main,
    [MODE_EXERCISE] = exercise_main,
    [MODE_NOTES] = mt_tui_notes_main,
};

int
main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    mt_app app = {0};
    cli c = {0};
    char *err = NULL;

    int rc = parse_args(argc, argv, &c, &app.opts);
    if (rc >= 0) {
        return rc;
    }
    /* --doctor looks at every worker there is; --list names them even
     * when there is none to choose. */
    int quiet = (c.mode == MODE_DOCTOR || c.mode == MODE_LIST) && app.opts.python == NULL;
    if ((rc = choose_python(&app.opts, quiet)) >= 0) {
        return rc;
    }
    if (c.mode == MODE_RUN) {
        rc = mt_run_main(&app);
        mt_app_free(&app);
        return rc;
    }
    if (c.mode == MODE_DOCTOR) {
        rc = mt_doctor_main(&app);
    } else if (mt_app_load(&app, &err) < 0) {
        fprintf(stderr, "ministry-tutor: %s\n", err);
        free(err);
        rc = 1;
    } else if ((rc = check_stage_step(&app, &c)) < 0) {
        rc = on_lessons[c.mode](&app);
        if (flush_stdout() != 0 && rc == 0) {
            rc = 1;
        }
    }
    mt_app_free(&app);
    return rc;
}
