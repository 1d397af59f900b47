/* session.h — runs a lesson's steps in the embedded interpreter, watches
 * their memory, and puts everything back when a stage is left. */
#ifndef MT_SESSION_H
#define MT_SESSION_H

#include <stddef.h>

#include "lesson.h"
#include "result.h"

/* The session's data model: one stage open at a time, with its namespace,
 * the steps run so far, and the pristine bytes of every region watched
 * since the stage was opened.  Leaving the stage runs its revert steps,
 * verifies those regions (volatile fields excepted) and the host's guard
 * (interp.h), restores whatever still differs, and says so loudly in the
 * result's notes. */
typedef struct mt_session mt_session;

/* New session over lessons (borrowed; must outlive it).  The interpreter
 * must be initialised. */
/* Whether every watch of the lessons names a layout this worker knows.
 * Returns 0, or -1 with *err "file:line: unknown layout …" (malloc'ed). */
int mt_session_check(mt_lesson *const *lessons, size_t n, char **err);

mt_session *mt_session_new(mt_lesson *const *lessons, size_t n);

/* Whether step results carry code roles (tokenize; only a frontend that
 * colours code needs them).  Off by default. */
void mt_session_want_roles(mt_session *s, int on);

/* Whether mt_session_goto refuses (MT_ST_FAIL, nothing run) to go on
 * after a step of the open stage failed.  Off by default. */
void mt_session_stop_on_error(mt_session *s, int on);

/* Leave the current stage, then free. */
void mt_session_free(mt_session *s);

/* Bring the session to "stage index si, step k done" and return step k's
 * result (new; free with mt_result_free).  Moving forward runs the steps in
 * between; moving back or to another stage leaves the current stage first
 * and replays from its start.  k == -1 opens the stage with no step run. */
mt_step_result *mt_session_goto(mt_session *s, size_t si, int k);

/* One entry of the `:` prompt in the current stage's namespace (see
 * mt_interp_prompt): status MT_ST_MORE when it wants more lines.  The
 * regions the last step run watches come back read just before and just
 * after the entry. */
mt_step_result *mt_session_prompt(mt_session *s, const char *src);

/* Leave the current stage (reverts, verify, restore); the result's notes
 * report what was found.  Harmless when no stage is open. */
mt_step_result *mt_session_leave(mt_session *s);

/* Limit, in seconds, the session gives a step with no timeout of its own:
 * $MINISTRY_STEP_TIMEOUT, else 10. */
double mt_session_default_timeout(void);

/* Called before each step runs with the stage number, step index and time
 * limit; the worker uses it to arm its watchdog and publish progress. */
extern void (*mt_session_step_hook)(int stage, int step, double timeout);

#endif
