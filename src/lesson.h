/* lesson.h — lesson files (Jupytext "percent" Python) → stages and steps. */
#ifndef MT_LESSON_H
#define MT_LESSON_H

#include <stddef.h>

/* Largest lesson file accepted, in bytes. */
#define MT_LESSON_MAX_BYTES ((size_t)1 << 20)

/* Most exercises one lesson may hold. */
#define MT_LESSON_MAX_EXERCISES 32

/* Largest explicit watch length ("EXPR:LAYOUT:LEN", "len"), in bytes. */
#define MT_WATCH_MAX_LEN (1L << 20)

typedef enum mt_step_kind {
    MT_STEP_EXPLORE,  /* reads only */
    MT_STEP_PATCH,    /* changes the interpreter */
    MT_STEP_REVERT    /* puts it back; also run when the stage is left */
} mt_step_kind;

/* A region to dump before and after a step. */
typedef struct mt_watch {
    char *expr;       /* Python expression giving the address */
    char *layout;     /* layout name (see layout.h) */
    long len;         /* bytes, or -1 for the layout's size */
    char *label;      /* short name for file names and headings */
    int verify;       /* compare with pristine when the stage is left */
} mt_watch;

/* A step: one code cell, with the markdown cells just before it. */
/* The longest time limit a step or a check may have, in seconds (a day). */
#define MT_TIMEOUT_MAX 86400.0

typedef struct mt_step {
    char *title;      /* from the "# %% Title" line */
    char *slug;       /* from metadata slug=, else derived from the title */
    int line;         /* line of the "# %%" marker (1-based) */
    int code_line;    /* line of the first code line */
    char *narrative;  /* markdown, "# " prefixes removed; "" when none */
    char *code;       /* the cell's Python source */
    mt_step_kind kind;
    double timeout;   /* seconds; 0 = the default */
    mt_watch *watches;
    size_t nwatches;
} mt_step;

/* An exercise at the end of a lesson: a task the learner does in a file of
 * their own, checked by the host (exercise.h).  Its id is "N.K": stage N,
 * K counted from 1 in the order the lesson gives them. */
typedef struct mt_exercise {
    char *title;      /* from the "# %% Title" line of its task cell */
    char *slug;       /* from slug=, else derived from the title */
    int line;         /* line of the task cell's "# %%" marker */
    char *task;       /* markdown: what to do */
    char **hints;     /* markdown, revealed one at a time */
    size_t nhints;
    char *starter;    /* Python: the file the learner starts from */
    char *check;      /* Python run after the learner's file, in its namespace */
    int check_line;   /* line of the check's first line of code */
    double timeout;   /* seconds for the file and the check; 0 = the default */
} mt_exercise;

typedef struct mt_lesson {
    char *path;       /* file it came from */
    int number;       /* stage number, from the "NN-" file name prefix */
    char *slug;       /* "refcount", from the file name */
    char *title;      /* header "title:" */
    char *summary;    /* header "summary:", or "" */
    char *outro;      /* markdown after the last code cell, or "" */
    mt_step *steps;
    size_t nsteps;
    mt_exercise *exercises;   /* after the steps; may be none */
    size_t nexercises;
} mt_lesson;

/* Read lessons for CPython 3.minor from now on: a cell marked python=
 * (see docs/lesson-format.md) is kept only when its range holds for that
 * version.  Until it is called (or with minor < 0) no marked cell is kept:
 * the shared ones are what every version has. */
void mt_lesson_for_python(int minor);

/* Parse a lesson from text (len bytes, need not be NUL-terminated); path is
 * used for the number, the slug and messages.  Returns a new lesson (free
 * with mt_lesson_free), or NULL with *err = "path:line: what is wrong"
 * (malloc'ed, caller frees).  Refuses NUL bytes and files over 1 MiB. */
mt_lesson *mt_lesson_parse(const char *path, const char *text, size_t len,
                           char **err);

/* Read and parse one file; as mt_lesson_parse. */
mt_lesson *mt_lesson_load(const char *path, char **err);

void mt_lesson_free(mt_lesson *l);

/* Load every "NN-slug.py" in dir, sorted by number.  Returns 0 with a
 * malloc'ed array in *out (free with mt_lessons_free), or -1 with *err
 * (a missing or empty folder, a non-lesson file, a parse error). */
int mt_lessons_load_dir(const char *dir, mt_lesson ***out, size_t *n,
                        char **err);

void mt_lessons_free(mt_lesson **v, size_t n);

#endif
