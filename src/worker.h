/* worker.h — the worker process that embeds CPython and runs the steps, and
 * the frontend's handle on it. */
#ifndef MT_WORKER_H
#define MT_WORKER_H

#include <signal.h>
#include <stddef.h>

#include "lesson.h"
#include "result.h"

/* The frontend never runs lesson code itself: it forks a worker (the same
 * binary, lessons already parsed), sends it requests over a socketpair and
 * gets one mt_step_result back per request.  When the worker dies, the
 * request returns a result with status MT_ST_CRASH or MT_ST_TIMEOUT whose
 * notes name the signal, the stage and step, and the worker's faulthandler
 * traceback; the next request starts a fresh worker. */
typedef struct mt_worker mt_worker;

/* Fork a worker over lessons (borrowed; must outlive it).  Returns NULL with
 * a malloc'ed *err when the fork fails. */
mt_worker *mt_worker_start(mt_lesson *const *lessons, size_t n, char **err);

/* Bring the worker to stage index si, step k (see mt_session_goto).  Never
 * NULL; free with mt_result_free.  After a crash the worker is fresh and at
 * no stage: the caller shows the stage from its start again. */
mt_step_result *mt_worker_goto(mt_worker *w, size_t si, int k);

/* Set from a signal handler (Ctrl-C in --plain, --export): the request
 * being waited for ends at once with an "Interrupted" result (status
 * MT_ST_FAIL) and the worker is killed. */
extern volatile sig_atomic_t mt_worker_interrupted;

/* Pipelining, for frontends that know what comes next (--plain,
 * --export): post requests without waiting, then collect their results in
 * order while the worker runs the rest.  A posted step is not run when an
 * earlier step of its stage failed (its result says so).  Posting returns
 * 0, or -1 with the report in *dead (new) when the worker is gone, after
 * which nothing is pending. */
int mt_worker_post_goto(mt_worker *w, size_t si, int k, mt_step_result **dead);
int mt_worker_post_leave(mt_worker *w, mt_step_result **dead);

/* The result of the oldest posted request (a death report when the worker
 * died; then nothing is pending any more).  Never NULL. */
mt_step_result *mt_worker_collect(mt_worker *w);

/* One line for the prompt, in the current stage's namespace. */
mt_step_result *mt_worker_prompt(mt_worker *w, const char *src);

/* Leave the current stage: reverts, verification, restores (see notes). */
mt_step_result *mt_worker_leave(mt_worker *w);

/* Leave the current stage and end the worker; returns what leaving found
 * (NULL when no worker was running).  The handle is freed. */
mt_step_result *mt_worker_quit(mt_worker *w);

/* Whether results carry the code's token roles (on by default; --plain and
 * --export, which do not colour code, turn them off). */
void mt_worker_want_roles(mt_worker *w, int on);

/* The worker's pid (0 when none is running); for tests. */
int mt_worker_pid(const mt_worker *w);

/* Number of workers started so far by this handle (1 + restarts). */
int mt_worker_starts(const mt_worker *w);

/* The worker's side: run requests from fd until it closes.  Does not
 * return. */
void mt_worker_main(int fd, mt_lesson *const *lessons, size_t n, int log_fd)
    __attribute__((noreturn));

#endif
