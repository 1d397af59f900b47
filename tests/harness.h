/* harness.h — in-process helpers for the stage tests: the real session,
 * interpreter and lessons of the source tree, in the (forked) test. */
#ifndef MT_TEST_HARNESS_H
#define MT_TEST_HARNESS_H

#include "app.h"
#include "session.h"

/* Initialise CPython with the host's own config (interp.h), take the
 * guard's baseline and the pristine bytes the checks compare against, and
 * load the lessons of $MT_SRCDIR/lessons (else ./lessons).  Aborts the test
 * on failure.  Returns a new session (free with mt_session_free). */
mt_session *mt_test_engine(mt_app *app);

/* The app of the last mt_test_engine, kept reachable for leak checkers. */
extern mt_app mt_test_kept_app;

/* Index of stage number n in app, failing the test when absent. */
size_t mt_test_stage(const mt_app *app, int n);

/* Index of the step of stage n whose slug is `slug`, failing when absent. */
int mt_test_step(const mt_app *app, int n, const char *slug);

/* Run steps 0..last (-1: all) of stage n; every step must succeed.
 * Returns the concatenated stdout of the steps (malloc'ed). */
char *mt_test_run(mt_session *s, const mt_app *app, int n, int last);

/* Leave the stage; returns its notes (malloc'ed).  The lesson's own revert
 * steps must have put everything back: the notes may not say RESTORED or
 * WARNING (checked here). */
char *mt_test_leave(mt_session *s);

/* One line in the session's namespace (mt_session_prompt); returns its
 * stdout (malloc'ed) and fails the test when it raised, unless may_raise. */
char *mt_test_prompt(mt_session *s, const char *src, int may_raise);

/* str() of a Python expression evaluated in a fresh namespace, compiled
 * now (so with whatever folding is in force).  Malloc'ed. */
char *mt_test_eval(const char *expr);

/* Assert the interpreter is pristine, by checks of its own that do not
 * trust the guard: 2 + 2 == 4 compiled fresh, type(2) is int, the original
 * int.__add__ slot wrapper in int.__dict__, nb_add is long_add (debug
 * symbols), the first 16 bytes of _PyAST_Optimize as they were at
 * mt_test_engine, no writable+executable mapping, and the guard agrees. */
void mt_test_assert_pristine(void);

#endif
