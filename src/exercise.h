/* exercise.h — exercises from the learner's side: finding one by its id,
 * the learner's own file, checking it in a fresh worker, progress, and the
 * --exercises and --exercise N.K --check modes. */
#ifndef MT_EXERCISE_H
#define MT_EXERCISE_H

#include "app.h"
#include "result.h"

/* One exercise of the loaded lessons (both pointers borrowed from the
 * app, which must outlive the reference). */
typedef struct mt_exercise_ref {
    const mt_lesson *lesson;
    const mt_exercise *ex;
    int index;                 /* K in N.K, from 1 */
} mt_exercise_ref;

/* Find exercise "N.K" in app's lessons.  Returns 0, or -1 with a
 * malloc'ed *err naming the ids there are. */
int mt_exercise_find(const mt_app *app, const char *id, mt_exercise_ref *ref, char **err);

/* The learner's file for ref:
 * $XDG_STATE_HOME/ministry-tutor/exercises/N.K-slug.py (beside the state
 * file, see state.h).  Returns a malloc'ed path, or NULL with *err. */
char *mt_exercise_path(const mt_exercise_ref *ref, char **err);

/* Write ref's starter to path, creating its folders, unless something is
 * there already: the learner's work is never overwritten.  Returns 1 when
 * it wrote the starter, 0 when the file was there, -1 with *err. */
int mt_exercise_start_file(const mt_exercise_ref *ref, const char *path, char **err);

/* Check the file at path once: read it, start a fresh worker, run the
 * attempt there (checker.h says what the result holds; a crash or timeout
 * is the worker's death report), end the worker.  Never NULL; a file that
 * cannot be read is a result with status MT_ST_FAIL that says so. */
mt_step_result *mt_exercise_check(const mt_app *app, const mt_exercise_ref *ref,
                                  const char *path);

/* Whether r says the exercise is solved. */
int mt_exercise_solved(const mt_step_result *r);

/* The verdict in one line, malloc'ed: "3.1 solved", or
 * "3.1 not solved: what is still wrong". */
char *mt_exercise_verdict(const mt_exercise_ref *ref, const mt_step_result *r);

/* What else the attempt left to read, as plain text (malloc'ed, "" when
 * nothing): the output, the traceback, the guard's report, a death
 * report. */
char *mt_exercise_details(const mt_step_result *r);

/* Record ref as solved in the learner's state; a failure is said on
 * stderr (progress is not worth failing a check for). */
void mt_exercise_record(const mt_exercise_ref *ref);

/* --exercises: one line per exercise, "N.K  done|todo  title".  Returns
 * the exit status. */
int mt_exercises_main(mt_app *app);

/* --exercise N.K --check[=FILE]: check once, the verdict and details on
 * stdout; 0 when solved, 1 when not.  Without FILE the learner's own file
 * (the starter is written first when there is none), and a pass is
 * recorded. */
int mt_exercise_check_main(mt_app *app);

/* --exercise N.K: the watch loop (watch.c). */
int mt_exercise_watch_main(mt_app *app);

#endif
