/* checker.h — the worker's side of an exercise: run the learner's file and
 * the exercise's check in the embedded interpreter, then the host's guard. */
#ifndef MT_CHECKER_H
#define MT_CHECKER_H

#include "attempt.h"
#include "result.h"

/* Run attempt a in a fresh namespace: the learner's file, then (when it
 * ran to its end) the check in the same namespace, then the host's guard
 * with restore on.  Time-limited through mt_session_step_hook (the
 * check's timeout, else the session's default).  Never NULL; the result
 * (free with mt_result_free) says:
 *
 *   status   MT_ST_OK      solved: the check passed and the guard found
 *                          the interpreter pristine
 *            MT_ST_FAIL    not solved: the check failed, or the guard
 *                          found something the learner left changed
 *            MT_ST_ERROR   the learner's file raised
 *   notes    first line: the verdict, one line saying what is still
 *            wrong ("solved" when nothing is); then the guard's report
 *   traceback  of the learner's file, or of a check that did not fail by
 *            assert (its own bug, or a name the learner did not define)
 *   out, err what the file and the check printed
 *   restored the guard had to put something back
 *
 * A check fails by raising: an AssertionError's message is the verdict
 * line as it is; NotImplementedError says the exercise does not apply to
 * this interpreter; any other exception is given as "Type: message". */
mt_step_result *mt_checker_run(const mt_attempt *a);

#endif
