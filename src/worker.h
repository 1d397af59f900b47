/* worker.h — the worker process that embeds CPython and runs the steps, and
 * the frontend's handle on it. */
#ifndef MT_WORKER_H
#define MT_WORKER_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "attempt.h"
#include "lesson.h"
#include "result.h"

/* The frontend never runs lesson code itself, and links no libpython: it
 * starts a worker, an executable built for one CPython version
 * ("ministry-worker-3.X", see pythons.h), with fork and exec, sends it
 * requests over a socketpair and gets one mt_step_result back per request.
 * The worker parses the same lesson files itself.  When the worker dies, the
 * request returns a result with status MT_ST_CRASH or MT_ST_TIMEOUT whose
 * notes name the signal, the stage and step, and the worker's faulthandler
 * traceback; the next request starts a fresh worker. */
typedef struct mt_worker mt_worker;

/* ---- the protocol (both sides) ---------------------------------------
 * The worker is exec'd as
 *     ministry-worker-3.X --serve SOCK PROG LOG LESSON.py...
 * SOCK its end of the socketpair, PROG a memfd holding an
 * mt_worker_progress, LOG where its stderr and faulthandler go.  Every
 * frame it sends starts with its number.  Frame 0 is the hello: u32
 * MT_WORKER_PROTO, str MT_WIRE_SUM (the checksum of the sources that
 * define the frames, stamped in by the build), str its Py_GetVersion(),
 * str an error ("" when it is ready, else why the lessons cannot run
 * there).  Then each request is u32 op, u32 flags, u32 stage index, u32
 * step, str text; each answer an encoded mt_step_result. */
#define MT_WORKER_PROTO 1

enum { MT_OP_GOTO = 1, MT_OP_PROMPT, MT_OP_LEAVE, MT_OP_QUIT, MT_OP_ATTEMPT };

/* Request flags. */
enum {
    MT_REQ_ROLES = 1,            /* results carry the code's token roles */
    MT_REQ_STOP_ON_ERROR = 2     /* a step after a failed one is not run */
};

/* Shared with the worker: what it is running now, so a death can be named. */
typedef struct mt_worker_progress {
    volatile int op;             /* the request being served (MT_OP_*) */
    volatile int stage, step;    /* step -1: outside any step */
    volatile double deadline;    /* CLOCK_MONOTONIC seconds, 0 when idle */
    volatile double limit;
    volatile int timed_out;      /* set by the watchdog just before it aborts */
    volatile unsigned replies;   /* frames sent whole, the hello included */
} mt_worker_progress;

/* Use the worker executable at path for every worker started from now on
 * (main sets it from --python).  Without it, mt_worker_start takes the
 * default of mt_pythons_choose.  The string is copied. */
void mt_worker_use(const char *path);

/* Start a worker over lessons (borrowed; must outlive it) and read its
 * hello.  Returns NULL with a malloc'ed *err when there is no worker, it
 * cannot start (its libpython gone: the apt-get line that brings it
 * back), it is from another build (refused), or it cannot run these
 * lessons (file:line: what is wrong). */
mt_worker *mt_worker_start(mt_lesson *const *lessons, size_t n, char **err);

/* Bring the worker to stage index si, step k (see mt_session_goto).  Never
 * NULL; free with mt_result_free.  After a crash the worker is fresh and at
 * no stage: the caller shows the stage from its start again. */
mt_step_result *mt_worker_goto(mt_worker *w, size_t si, int k);

/* Set from a signal handler to the signal's number (SIGINT, SIGTERM,
 * SIGHUP in --plain and --export; see mt_worker_catch_signals): the request
 * being waited for ends at once with an "Interrupted" result (status
 * MT_ST_FAIL), and the worker and its process group are killed and reaped.
 * The frontend then exits with 128 + the signal. */
extern volatile sig_atomic_t mt_worker_interrupted;

/* Catch SIGINT, SIGTERM and SIGHUP into mt_worker_interrupted. */
void mt_worker_catch_signals(void);

/* Set from a signal handler after it sent the worker SIGINT (Ctrl-C on a
 * running prompt entry, which then raises KeyboardInterrupt): the request
 * waited for gets MT_WORKER_NUDGE_GRACE seconds to come back, and when it
 * does not (the entry is in C code, out of Python's reach) or the value
 * is 2 (Ctrl-C again), the worker is ended as a stuck one is (SIGABRT
 * first, for faulthandler's traceback) and its death reported.  The
 * caller resets it. */
extern volatile sig_atomic_t mt_worker_nudged;
#define MT_WORKER_NUDGE_GRACE 2.0

/* What a walk answers: step k (0-based) of stage index si, or leaving the
 * stage (k == MT_WALK_LEAVE). */
#define MT_WALK_LEAVE (-2)

/* Called with each result of a walk, in order; takes r (free with
 * mt_result_free).  Returns 0 to go on, nonzero to end the walk. */
typedef int (*mt_walk_fn)(void *ctx, size_t si, int k, mt_step_result *r);

/* The walk --plain and --export make: stages first..last-1 (indices),
 * each one's steps (all, or with only > 0 just step `only`, 1-based, the
 * steps before it run quietly), then leaving it.  A step after a failed
 * one of its stage is not run (its result says so).  A few requests are
 * kept in flight, never more: the worker always has the next step to run,
 * and neither process ever blocks writing while the other does, whatever
 * the number of steps or the size of their results.  The walk ends early
 * when fn says so, when the worker dies (fn gets the report, status
 * MT_ST_CRASH or MT_ST_TIMEOUT), or on mt_worker_interrupted (fn gets the
 * "Interrupted" result).  A worker that could not put everything back
 * when it left a stage (MT_RESTORED_LOST) ends there, and the walk goes on
 * in a fresh one.  Returns 0 when fn had every result, else 1; requests
 * still pending are answered by mt_worker_quit. */
int mt_worker_walk(mt_worker *w, size_t first, size_t last, int only, mt_walk_fn fn,
                   void *ctx);

/* One line for the prompt, in the current stage's namespace. */
mt_step_result *mt_worker_prompt(mt_worker *w, const char *src);

/* One attempt at an exercise (checker.h says what the result holds); the
 * worker leaves any open stage first.  A crash or timeout comes back as
 * the usual death report, and the next request starts a fresh worker. */
mt_step_result *mt_worker_attempt(mt_worker *w, const mt_attempt *a);

/* Leave the current stage: reverts, verification, restores (see notes). */
mt_step_result *mt_worker_leave(mt_worker *w);

/* Leave the current stage and end the worker; returns what leaving found
 * (NULL when no worker was running).  The handle is freed. */
mt_step_result *mt_worker_quit(mt_worker *w);

/* The worker's Python, from its hello: "3.11.2 (main, …) [GCC 12.2.0]"
 * (borrowed; "" when the worker died before saying). */
const char *mt_worker_python(mt_worker *w);

/* Whether results carry the code's token roles (on by default; --plain and
 * --export, which do not colour code, turn them off). */
void mt_worker_want_roles(mt_worker *w, int on);

/* The worker's pid (0 when none is running); for tests. */
int mt_worker_pid(const mt_worker *w);

/* Number of workers started so far by this handle (1 + restarts). */
int mt_worker_starts(const mt_worker *w);

/* In a child just forked: its own process group, and SIGKILL when the
 * frontend (parent) dies; _exits at once when parent is gone already. */
void mt_worker_bind_to_parent(pid_t parent);

/* ---- the worker's side (serve.c) ------------------------------------- */

/* Send the hello (err: why the lessons cannot run here, or NULL), then run
 * requests from fd until it closes, publishing progress in prog.  Does
 * not return. */
void mt_worker_main(int fd, mt_worker_progress *prog, mt_lesson *const *lessons, size_t n,
                    int log_fd, const char *err) __attribute__((noreturn));

/* The worker's --doctor: one row per check on stdout (its CPython, the
 * debug symbols, the folder, capstone, mprotect, W^X).  Returns 0 when
 * every stage can run for real, else 1. */
int mt_worker_doctor(void);

/* The worker's --run: file as __main__, or module as python3 -m does
 * (exactly one of the two non-NULL), with argv (argv[0] = the file or
 * module); the optimiser held off when nofold, site-packages on sys.path
 * when site.  Returns the exit status, as python3 would. */
int mt_worker_run(const char *file, const char *module, int argc, char **argv, int nofold,
                  int site);

#endif
