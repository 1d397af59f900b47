/* app.h — what the command line asked for, and the lessons it runs on. */
#ifndef MT_APP_H
#define MT_APP_H

#include <stddef.h>

#include "lesson.h"

typedef struct mt_opts {
    int stage;                 /* 1-based; 0 when not given */
    int step;                  /* 1-based; 0 when not given */
    const char *lessons_dir;   /* --lessons */
    const char *export_dir;    /* --export */
    const char *formats;       /* --format, NULL: all */
    int force;                 /* --force */
    int theme;                 /* mt_theme: --theme, else $MINISTRY_THEME, else dark */
    int theme_chosen;          /* by --theme or $MINISTRY_THEME */
    int context;               /* --context N or all (MT_VIEW_CONTEXT_*); default auto */
    int scale;                 /* --scale: PNG pixels per SVG pixel (default 2) */
    const char *run_file;      /* --run */
    const char *run_module;    /* -m */
    int run_argc;              /* the program's argv (argv[0] = the file or module) */
    char **run_argv;
    int no_fold;               /* --no-fold or DOUBLEPLUSNOPYTHONOPT=1 */
    int site;                  /* --site: the system's site-packages on sys.path */
    const char *exercise;      /* --exercise N.K */
    int check;                 /* --check */
    const char *check_file;    /* --check=FILE: another file than the learner's */
    const char *python;        /* --python X.Y as given, NULL: the default */
    char python_version[16];   /* the CPython the run uses: "3.14" */
    char *worker;              /* its worker executable (malloc'ed) */
} mt_opts;

/* The lessons in use, loaded once. */
typedef struct mt_app {
    mt_opts opts;
    char *lessons_dir;         /* where they came from */
    mt_lesson **lessons;
    size_t nlessons;
} mt_app;

/* Find the lessons folder: --lessons, $MINISTRY_LESSONS, the source tree
 * beside the binary, the installed share folder.  Returns a malloc'ed
 * path, or NULL with *err naming every place tried. */
char *mt_app_lessons_dir(const char *given, char **err);

/* Load the lessons (the worker checks their layout names: mt_session_check).
 * Returns 0, or -1
 * with *err "file:line: what is wrong" (malloc'ed). */
int mt_app_load(mt_app *app, char **err);

void mt_app_free(mt_app *app);

/* Index into app->lessons of stage number n, or -1. */
long mt_app_stage_index(const mt_app *app, int n);

/* Frontends. Each returns the process exit status. */
int mt_plain_main(mt_app *app);
int mt_tui_main(mt_app *app);
int mt_tui_notes_main(mt_app *app);
int mt_export_main(mt_app *app);
int mt_doctor_main(mt_app *app);
int mt_run_main(mt_app *app);

#endif
