/* worker.c — the frontend's handle on a worker process (see serve.c):
 * starting it, its hello, requests, results, deaths and fresh starts. */
#include "worker.h"
#include "pythons.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef mt_worker_progress progress;

struct mt_worker {
    mt_lesson *const *lessons;
    size_t n;
    char *exe;                   /* the worker executable */
    pid_t pid;
    int fd;                      /* our end of the socketpair */
    int log_fd;                  /* the worker's stderr and faulthandler */
    int prog_fd;                 /* the memfd behind prog, shared with it */
    progress *prog;
    int starts;
    int want_roles;              /* results carry tokenize roles */
    int pending;                 /* requests posted, results not collected */
    int pidfd;                   /* readable once the worker has ended; -1 */
    mt_wire_rx rx;               /* the frame being received */
    unsigned received;           /* frames received whole from this worker */
    int hello_pending;           /* its hello not read yet */
    char python[160];            /* from the hello: "3.11.2 (main, …) [GCC …]" */
    double nudged_at;            /* when mt_worker_nudged was first seen; 0 */
};

/* ---- the frontend's side ------------------------------------------------ */

/* A handle on the worker's end that poll() reports readable once it has
 * ended, whoever else still holds the socket (a child a step forked). */
static int
open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    return -1;
#endif
}

static int read_hello(mt_worker *w, mt_step_result **r);

static char *use_exe;            /* mt_worker_use; NULL: the default */

void
mt_worker_use(const char *path)
{
    free(use_exe);
    use_exe = path ? mt_xstrdup(path) : NULL;
}

/* The worker executable: mt_worker_use's, else the default version's.
 * Malloc'ed, or NULL with *err. */
static char *
worker_exe(char **err)
{
    if (use_exe != NULL) {
        return mt_xstrdup(use_exe);
    }
    mt_python *v;
    size_t n = mt_pythons_find(&v);
    long i = mt_pythons_choose(v, n, NULL, err);
    char *exe = i >= 0 ? mt_xstrdup(v[i].path) : NULL;
    mt_pythons_free(v, n);
    return exe;
}

/* Why a worker that ended before its hello could not start: the dynamic
 * linker's complaint in its log names a missing library (its libpython,
 * removed since the build: the apt-get line), else the death report's
 * first note.  Malloc'ed. */
static char *
no_start(mt_worker *w, const mt_step_result *r)
{
    char log[4096];
    ssize_t n = pread(w->log_fd, log, sizeof log - 1, 0);
    log[n > 0 ? n : 0] = '\0';
    static const char ld[] = "error while loading shared libraries: ";
    const char *lib = strstr(log, ld);
    if (lib != NULL) {
        lib += sizeof ld - 1;
        int len = (int)strcspn(lib, ":\n");
        const char *so = strstr(lib, ".so");
        if (strncmp(lib, "libpython3.", 11) == 0 && so != NULL && so < lib + len) {
            return mt_xasprintf("%s cannot start: %.*s is missing; install it with: "
                                "apt-get install %.*s", w->exe, len, lib, (int)(so - lib), lib);
        }
        return mt_xasprintf("%s cannot start: %.*s is missing", w->exe, len, lib);
    }
    const char *notes = r && r->notes ? r->notes : "";
    return mt_xasprintf("%s did not start: %.*s", w->exe, (int)strcspn(notes, "\n"), notes);
}

static int
start(mt_worker *w, char **err)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        *err = mt_xasprintf("socketpair: %s", strerror(errno));
        return -1;
    }
    if (ftruncate(w->log_fd, 0) < 0) {
        /* An old log is only noise in the next report. */
    }
    memset((void *)w->prog, 0, sizeof *w->prog);
    w->prog->step = -1;
    /* The command line is made before the fork: the child only execs. */
    size_t argc = 0;
    char **argv = mt_xcalloc(w->n + 6, sizeof *argv);
    argv[argc++] = w->exe;
    argv[argc++] = "--serve";
    argv[argc++] = mt_xasprintf("%d", sv[1]);
    argv[argc++] = mt_xasprintf("%d", w->prog_fd);
    argv[argc++] = mt_xasprintf("%d", w->log_fd);
    for (size_t i = 0; i < w->n; i++) {
        argv[argc++] = w->lessons[i]->path;
    }
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* The frontend's handlers (terminal restore) are not ours. */
        for (int sig = 1; sig < NSIG; sig++) {
            signal(sig, SIG_DFL);
        }
        signal(SIGINT, SIG_IGN);     /* Ctrl-C is the frontend's to handle */
        signal(SIGPIPE, SIG_IGN);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        mt_worker_bind_to_parent(parent);
        /* What the worker keeps across exec: its socket, the progress
         * page, the log; stdin is /dev/null, stdout and stderr the log. */
        fcntl(sv[1], F_SETFD, 0);
        fcntl(w->prog_fd, F_SETFD, 0);
        fcntl(w->log_fd, F_SETFD, 0);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) {
            dup2(null, 0);
            close(null);
        }
        dup2(w->log_fd, 1);
        dup2(w->log_fd, 2);
        execv(w->exe, argv);
        dprintf(w->log_fd, "ministry-tutor: cannot run %s: %s\n", w->exe, strerror(errno));
        _exit(127);
    }
    for (size_t i = 2; i < 5; i++) {
        free(argv[i]);
    }
    free(argv);
    close(sv[1]);
    if (pid < 0) {
        *err = mt_xasprintf("fork: %s", strerror(errno));
        close(sv[0]);
        return -1;
    }
    /* Both sides set the group, so it is set before either goes on. */
    setpgid(pid, pid);
    w->fd = sv[0];
    w->pid = pid;
    w->pidfd = open_pidfd(pid);
    w->starts++;
    w->received = 0;
    w->hello_pending = 1;
    w->python[0] = '\0';
    mt_wire_rx_reset(&w->rx);
    /* The hello now: a worker that cannot start, or is not ours, is told
     * apart here, before any request. */
    mt_step_result *r = NULL;
    if (read_hello(w, &r) < 0) {
        *err = r && r->status == MT_ST_FAIL && r->notes ? mt_xstrdup(r->notes) : no_start(w, r);
        mt_result_free(r);
        return -1;
    }
    return 0;
}

void
mt_worker_bind_to_parent(pid_t parent)
{
    setpgid(0, 0);
    /* Checked after it is set: a parent that died before the call would
     * never send the signal. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent) {
        _exit(1);
    }
}

mt_worker *
mt_worker_start(mt_lesson *const *lessons, size_t n, char **err)
{
    mt_worker *w = mt_xcalloc(1, sizeof *w);
    w->lessons = lessons;
    w->n = n;
    w->fd = -1;
    w->pidfd = -1;
    w->want_roles = 1;
    w->exe = worker_exe(err);
    if (w->exe == NULL) {
        free(w);
        return NULL;
    }
    /* The progress page is a memfd: the worker maps it after exec. */
    w->log_fd = memfd_create("ministry-worker-log", MFD_CLOEXEC);
    w->prog_fd = memfd_create("ministry-worker-progress", MFD_CLOEXEC);
    void *p = MAP_FAILED;
    if (w->prog_fd >= 0 && ftruncate(w->prog_fd, sizeof(progress)) == 0) {
        p = mmap(NULL, sizeof(progress), PROT_READ | PROT_WRITE, MAP_SHARED, w->prog_fd, 0);
    }
    if (w->log_fd < 0 || p == MAP_FAILED) {
        *err = mt_xasprintf("worker set-up: %s", strerror(errno));
    } else {
        w->prog = p;
        if (start(w, err) == 0) {
            return w;
        }
        munmap(p, sizeof(progress));
    }
    if (w->log_fd >= 0) {
        close(w->log_fd);
    }
    if (w->prog_fd >= 0) {
        close(w->prog_fd);
    }
    free(w->exe);
    free(w);
    return NULL;
}

static const char *
step_title(const mt_worker *w, int stage, int step)
{
    for (size_t i = 0; i < w->n; i++) {
        if (w->lessons[i]->number == stage && step >= 0
            && (size_t)step < w->lessons[i]->nsteps) {
            return w->lessons[i]->steps[step].title;
        }
    }
    return "";
}

/* Wait up to ms milliseconds for the worker to end (it stays unreaped):
 * on its pidfd, readable the moment it ends; without one, asking every
 * 10 ms (a quitting worker would cost each session up to 10 ms more). */
static int
ended_within(const mt_worker *w, int ms)
{
    pid_t pid = w->pid;
    if (w->pidfd >= 0) {
        double end = mt_now() + ms / 1e3;
        for (;;) {
            struct pollfd p = {.fd = w->pidfd, .events = POLLIN};
            int left = (int)((end - mt_now()) * 1e3);
            int pr = poll(&p, 1, left > 0 ? left : 0);
            if (pr >= 0) {
                return pr > 0;
            }
            if (errno != EINTR) {
                break;                  /* ask as without a pidfd */
            }
        }
    }
    for (int i = 0; i <= ms / 10; i++) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0
            && si.si_pid == pid) {
            return 1;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* The worker's own watchdog did not end it.  A stopped worker is
 * continued, so that the watchdog can; one that cancelled the watchdog gets
 * SIGABRT, so that faulthandler leaves the traceback of where it was stuck;
 * then SIGKILL.  One signal at a time, so the tracebacks do not interleave.
 * It is reaped by end_worker(). */
static void
backstop(mt_worker *w)
{
    kill(w->pid, SIGCONT);
    if (ended_within(w, 500)) {
        return;
    }
    kill(w->pid, SIGABRT);
    if (ended_within(w, 1000)) {
        return;
    }
    kill(w->pid, SIGKILL);
}

/* Kill what is left of the worker's process group (it may have ended
 * already; children a step forked go too), reap the worker, close our
 * ends.  Returns its wait status. */
static int
end_worker(mt_worker *w, int kill_it)
{
    int status = 0;
    /* One that is ending by itself is let end (its exit handlers, a
     * memory checker's summary), for a while. */
    if (kill_it || !ended_within(w, 10000)) {
        kill(w->pid, SIGKILL);
    }
    /* While the worker is unreaped its pid still names the group. */
    kill(-w->pid, SIGKILL);
    while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR) {
    }
    close(w->fd);
    w->fd = -1;
    if (w->pidfd >= 0) {
        close(w->pidfd);
        w->pidfd = -1;
    }
    mt_wire_rx_reset(&w->rx);
    w->pid = 0;
    w->pending = 0;
    return status;
}

/* The worker is gone (or, with protocol != NULL, ends now for breaking the
 * protocol): reap it and say what happened, from how it ended — the
 * watchdog's mark, the signal, the exit status — not from the clock. */
static mt_step_result *
death(mt_worker *w, int killed_for_time, const char *protocol)
{
    mt_step_result *r = mt_result_new();
    int status = end_worker(w, protocol != NULL);

    r->stage = w->prog->stage;
    r->step = w->prog->step;
    int timed_out = killed_for_time || w->prog->timed_out;
    char cause[200];
    if (timed_out && protocol == NULL) {
        r->status = MT_ST_TIMEOUT;
        snprintf(cause, sizeof cause, "it ran past its time limit of %g s", w->prog->limit);
    } else if (WIFSIGNALED(status)) {
        r->status = MT_ST_CRASH;
        snprintf(cause, sizeof cause, "killed by signal %d (SIG%s: %s)", WTERMSIG(status),
                 sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?",
                 strsignal(WTERMSIG(status)));
    } else {
        r->status = MT_ST_CRASH;
        snprintf(cause, sizeof cause, "it exited with status %d",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    if (protocol != NULL) {
        char where[64] = "before any stage";
        if (r->stage > 0) {
            snprintf(where, sizeof where, "in stage %d", r->stage);
        }
        mt_result_note(r, "Protocol error from the worker %s: %s; the worker was killed.",
                       where, protocol);
    } else if (r->step >= 0) {
        mt_result_note(r, "The worker died in stage %d, step %d (%s): %s.", r->stage,
                       r->step + 1, step_title(w, r->stage, r->step), cause);
    } else if (w->prog->op == 0) {
        mt_result_note(r, "The worker died while it was idle, between requests: %s.", cause);
    } else if (r->stage > 0) {
        mt_result_note(r, "The worker died in stage %d, outside any step (%s): %s.",
                       r->stage, w->prog->op == MT_OP_PROMPT    ? "running a prompt line"
                                 : w->prog->op == MT_OP_ATTEMPT ? "checking an exercise"
                                                             : "leaving the stage",
                       cause);
    } else {
        mt_result_note(r, "The worker died: %s.", cause);
    }
    char log[16384];
    ssize_t n = pread(w->log_fd, log, sizeof log - 1, 0);
    if (n > 0) {
        log[n] = '\0';
        mt_result_note(r, "Its last words (faulthandler):\n%s", log);
    }
    mt_result_note(r, "A fresh worker takes over; the interpreter that died "
                      "took its patches with it.");
    return r;
}

/* mt_wire_send to the worker without SIGPIPE: a worker that died while
 * idle makes the write fail with EPIPE, and that is a death to report, not
 * one to die of.  A SIGPIPE this write raised is taken before unblocking. */
static int
send_quiet(int fd, const void *p, size_t n)
{
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigprocmask(SIG_BLOCK, &pipe_set, &old);
    sigpending(&pending);
    int was_pending = sigismember(&pending, SIGPIPE);
    int rc = mt_wire_send(fd, p, n);
    int e = errno;
    if (rc < 0 && e == EPIPE && !was_pending) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {
        }
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return rc;
}

/* Send one request without waiting for its result.  Returns 0, or -1 when
 * the worker could not be started or is gone: then *dead holds the report
 * and nothing is pending any more, or, when results are still to be read,
 * *dead is NULL and collecting them will find its end. */
static int
post_with(mt_worker *w, uint32_t op, size_t si, int k, const char *text, unsigned flags,
          const mt_wbuf *extra, mt_step_result **dead)
{
    char *err = NULL;
    *dead = NULL;
    if (w->pid == 0) {
        w->pending = 0;
        if (start(w, &err) < 0) {
            mt_step_result *r = mt_result_new();
            r->status = MT_ST_FAIL;
            mt_result_note(r, "cannot start a worker: %s", err);
            free(err);
            *dead = r;
            return -1;
        }
    }
    mt_wbuf b = {0};
    mt_wire_u32(&b, op);
    mt_wire_u32(&b, (uint32_t)(w->want_roles ? MT_REQ_ROLES : 0) | flags);
    mt_wire_u32(&b, (uint32_t)si);
    mt_wire_u32(&b, (uint32_t)k);
    mt_wire_str(&b, text);
    if (extra != NULL) {
        mt_wire_bytes(&b, extra->data, extra->len);
    }
    int rc = send_quiet(w->fd, b.data, b.len);
    free(b.data);
    if (rc < 0 && w->pending > 0) {
        return -1;     /* collecting what it answered will find its end */
    }
    if (rc < 0) {
        *dead = death(w, 0, NULL);
        return -1;
    }
    w->pending++;
    return 0;
}

static int
post(mt_worker *w, uint32_t op, size_t si, int k, const char *text, unsigned flags,
     mt_step_result **dead)
{
    return post_with(w, op, si, k, text, flags, NULL, dead);
}

volatile sig_atomic_t mt_worker_interrupted;
volatile sig_atomic_t mt_worker_nudged;

static void
on_interrupt(int sig)
{
    mt_worker_interrupted = sig;
}

void
mt_worker_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* The user asked to stop (mt_worker_interrupted): the worker is killed,
 * its interpreter and any patch in it with it. */
static mt_step_result *
interrupted(mt_worker *w)
{
    end_worker(w, 1);
    mt_step_result *r = mt_result_new();
    r->stage = w->prog->stage;
    r->step = w->prog->step;
    r->status = MT_ST_FAIL;
    mt_result_note(r, "Interrupted: the worker was stopped, and its interpreter, patches "
                      "and all, went with it.");
    return r;
}

/* How waiting for a frame ended. */
enum { RX_FRAME, RX_GONE, RX_TIME, RX_PROTO, RX_INTR, RX_NUDGE };

/* Wait for the worker's next whole frame, reading as it comes, never
 * blocking for long: Ctrl-C, the worker's end (seen on its pidfd even when
 * a child of it holds the socket), its time limit and a frame that stops
 * short of what its header said all end the wait.  *why (static) says
 * what broke the protocol. */
static int
next_frame(mt_worker *w, uint8_t **msg, size_t *len, const char **why)
{
    static char whybuf[160];
    int gone = 0;
    for (;;) {
        if (mt_worker_interrupted) {
            return RX_INTR;
        }
        int rc = mt_wire_rx_read(&w->rx, w->fd);
        if (rc == 1) {
            *msg = mt_wire_rx_take(&w->rx, len);
            w->received++;
            return RX_FRAME;
        }
        if (rc < 0) {
            if (errno == EMSGSIZE) {
                uint32_t claim;
                memcpy(&claim, w->rx.hdr, sizeof claim);
                snprintf(whybuf, sizeof whybuf,
                         "a frame header claims %" PRIu32 " bytes, more than the %u MiB limit",
                         claim, MT_WIRE_MAX >> 20);
                *why = whybuf;
                return RX_PROTO;
            }
            return RX_GONE;
        }
        if (gone) {
            return RX_GONE;        /* ended, and nothing more to read */
        }
        struct pollfd p[2] = {{.fd = w->fd, .events = POLLIN}, {.fd = w->pidfd, .events = POLLIN}};
        int pr = poll(p, w->pidfd >= 0 ? 2 : 1, 250);
        if (pr < 0 && errno != EINTR) {
            return RX_GONE;
        }
        if (pr > 0 && p[0].revents != 0) {
            continue;
        }
        if (pr > 0 && p[1].revents != 0) {
            /* Ended: what it sent before is in the socket already. */
            gone = 1;
            continue;
        }
        if (w->pidfd < 0 && ended_within(w, 0)) {
            gone = 1;
            continue;
        }
        double now = mt_now();
        double dl = w->prog->deadline;
        if (dl > 0 && now > dl + 3.0) {
            return RX_TIME;    /* the backstop when the watchdog cannot run */
        }
        if (!mt_worker_nudged) {
            w->nudged_at = 0;
        } else if (w->nudged_at == 0) {
            w->nudged_at = now;
        } else if (mt_worker_nudged == 2 || now > w->nudged_at + MT_WORKER_NUDGE_GRACE) {
            w->nudged_at = 0;
            return RX_NUDGE;   /* SIGINT did not end the request */
        }
        /* Inside a frame the worker says it has finished sending, and
         * nothing more came: its header lied (a step wrote to the socket). */
        if (mt_wire_rx_partial(&w->rx)) {
            double quiet = now - w->rx.last_byte;
            if ((w->prog->replies > w->received && quiet > 1.0) || quiet > 30.0) {
                snprintf(whybuf, sizeof whybuf,
                         "a frame stopped at %zu of the %zu bytes its header announced",
                         w->rx.got, w->rx.len);
                *why = whybuf;
                return RX_PROTO;
            }
        }
    }
}

/* The worker's next frame as the payload after its number, checked to be
 * the one expected.  Returns RX_FRAME with *rd over the payload (*msg to
 * free), or how the wait ended. */
static int
next_payload(mt_worker *w, uint8_t **msg, mt_rbuf *rd, const char **why)
{
    size_t len;
    int rc = next_frame(w, msg, &len, why);
    if (rc != RX_FRAME) {
        return rc;
    }
    *rd = (mt_rbuf){*msg, len, 0};
    uint32_t seq = mt_wire_get_u32(rd);
    if (rd->bad || seq != w->received - 1) {
        free(*msg);
        *why = "a frame out of sequence";
        return RX_PROTO;
    }
    return RX_FRAME;
}

/* A wait that did not end with a frame, as the result to report. */
static mt_step_result *
wait_failed(mt_worker *w, int rc, const char *why)
{
    switch (rc) {
    case RX_INTR:
        return interrupted(w);
    case RX_TIME:
        backstop(w);
        return death(w, 1, NULL);
    case RX_PROTO:
        return death(w, 0, why);
    case RX_NUDGE: {
        backstop(w);
        mt_step_result *r = death(w, 0, NULL);
        mt_result_note(r, "Ctrl-C could not stop it: it was in C code, where no "
                          "KeyboardInterrupt reaches.");
        return r;
    }
    default:
        return death(w, 0, NULL);
    }
}

/* Read the worker's hello, once, before its first result.  Returns 0, or
 * -1 with the report in *r. */
static int
read_hello(mt_worker *w, mt_step_result **r)
{
    if (!w->hello_pending) {
        return 0;
    }
    uint8_t *msg;
    mt_rbuf rd;
    const char *why = NULL;
    int rc = next_payload(w, &msg, &rd, &why);
    if (rc != RX_FRAME) {
        *r = wait_failed(w, rc, why);
        return -1;
    }
    uint32_t proto = mt_wire_get_u32(&rd);
    char *sum = mt_wire_get_str(&rd);
    char *v = mt_wire_get_str(&rd);
    char *cannot = mt_wire_get_str(&rd);
    free(msg);
    char *refusal = NULL;
    if (rd.bad || proto != MT_WORKER_PROTO || strcmp(sum, MT_WIRE_SUM) != 0) {
        refusal = mt_xasprintf("%s is from another build of ministry-tutor (protocol %u, "
                               "frames %s; this one speaks %d, %s): refused; rebuild both "
                               "with make", w->exe, proto, rd.bad ? "?" : sum,
                               MT_WORKER_PROTO, MT_WIRE_SUM);
    } else if (cannot[0] != '\0') {
        refusal = mt_xstrdup(cannot);
    }
    snprintf(w->python, sizeof w->python, "%s", refusal ? "" : v);
    free(sum);
    free(v);
    free(cannot);
    if (refusal != NULL) {
        end_worker(w, 1);
        *r = mt_result_new();
        (*r)->status = MT_ST_FAIL;
        free((*r)->notes);
        (*r)->notes = refusal;
        return -1;
    }
    w->hello_pending = 0;
    return 0;
}

/* The result of the oldest request still pending. */
static mt_step_result *
collect(mt_worker *w)
{
    if (mt_worker_interrupted && w->pid != 0) {
        return interrupted(w);
    }
    if (w->pending == 0 || w->pid == 0) {
        mt_step_result *r = mt_result_new();
        r->status = MT_ST_FAIL;
        mt_result_note(r, "no request is pending");
        return r;
    }
    mt_step_result *r = NULL;
    if (read_hello(w, &r) < 0) {
        return r;
    }
    uint8_t *msg;
    mt_rbuf rd;
    const char *why = NULL;
    int rc = next_payload(w, &msg, &rd, &why);
    if (rc != RX_FRAME) {
        return wait_failed(w, rc, why);
    }
    w->pending--;
    r = mt_result_decode(rd.p, rd.left);
    free(msg);
    if (r == NULL) {
        r = death(w, 0, "a malformed result");
    } else if (r->restored == MT_RESTORED_LOST) {
        /* It ends by itself after this; requests it was sent are lost
         * with it (a walk sends them again). */
        end_worker(w, 0);
    }
    return r;
}

static mt_step_result *
request(mt_worker *w, uint32_t op, size_t si, int k, const char *text)
{
    mt_step_result *dead;
    /* Results come back in order: finish what was posted before. */
    while (w->pending > 0) {
        mt_result_free(collect(w));
    }
    if (post(w, op, si, k, text, 0, &dead) < 0) {
        return dead;
    }
    return collect(w);
}

/* Requests a walk keeps in flight: the worker always has the next step to
 * run, and the few requests unread in the socket never fill it, so the
 * frontend never blocks writing while the worker blocks writing a result. */
enum { WALK_WINDOW = 4 };

int
mt_worker_walk(mt_worker *w, size_t first, size_t last, int only, mt_walk_fn fn, void *ctx)
{
    /* Every request of the walk, in order: each stage's steps, then
     * leaving it. */
    size_t n = 0;
    for (size_t si = first; si < last; si++) {
        n += (only > 0 ? 1 : w->lessons[si]->nsteps) + 1;
    }
    struct item {
        size_t si;
        int k;
    } *items = mt_xcalloc(n ? n : 1, sizeof *items);
    size_t i = 0;
    for (size_t si = first; si < last; si++) {
        int from = only > 0 ? only - 1 : 0;
        int to = only > 0 ? only - 1 : (int)w->lessons[si]->nsteps - 1;
        for (int k = from; k <= to; k++) {
            items[i++] = (struct item){si, k};
        }
        items[i++] = (struct item){si, MT_WALK_LEAVE};
    }
    size_t posted = 0, done = 0;
    int rc = 0, can_post = 1;
    while (done < n) {
        mt_step_result *r = NULL;
        while (can_post && posted < n && w->pending < WALK_WINDOW) {
            const struct item *it = &items[posted];
            int bad = it->k == MT_WALK_LEAVE
                          ? post(w, MT_OP_LEAVE, 0, 0, "", 0, &r)
                          : post(w, MT_OP_GOTO, it->si, it->k, "", MT_REQ_STOP_ON_ERROR, &r);
            if (bad < 0) {
                can_post = 0;
                break;
            }
            posted++;
        }
        if (r == NULL) {
            r = collect(w);
        }
        /* A worker that could not put everything back when it left a
         * stage ends there: what was sent after that goes again, to a
         * fresh one. */
        int lost = r->restored == MT_RESTORED_LOST && !mt_result_is_death(r);
        if (lost) {
            posted = done + 1;
            can_post = 1;
        }
        /* A death ends the walk: the rest would run in a fresh worker,
         * out of the order it was asked for. */
        int over = (w->pid == 0 && !lost) || mt_worker_interrupted;
        if (fn(ctx, items[done].si, items[done].k, r) != 0 || over) {
            rc = 1;
            break;
        }
        done++;
    }
    free(items);
    return rc;
}

mt_step_result *
mt_worker_goto(mt_worker *w, size_t si, int k)
{
    return request(w, MT_OP_GOTO, si, k, "");
}

mt_step_result *
mt_worker_prompt(mt_worker *w, const char *src)
{
    return request(w, MT_OP_PROMPT, 0, 0, src);
}

mt_step_result *
mt_worker_attempt(mt_worker *w, const mt_attempt *a)
{
    mt_step_result *dead;
    mt_wbuf b = {0};
    while (w->pending > 0) {
        mt_result_free(collect(w));
    }
    mt_attempt_encode(&b, a);
    int rc = post_with(w, MT_OP_ATTEMPT, 0, 0, "", 0, &b, &dead);
    free(b.data);
    return rc < 0 ? dead : collect(w);
}

mt_step_result *
mt_worker_leave(mt_worker *w)
{
    if (w->pid == 0) {
        return mt_result_new();
    }
    return request(w, MT_OP_LEAVE, 0, 0, "");
}

mt_step_result *
mt_worker_quit(mt_worker *w)
{
    if (w == NULL) {
        return NULL;
    }
    mt_step_result *r = NULL;
    if (w->pid != 0) {
        r = request(w, MT_OP_QUIT, 0, 0, "");
        if (w->pid != 0) {
            end_worker(w, 0);
        }
    }
    close(w->log_fd);
    close(w->prog_fd);
    munmap((void *)w->prog, sizeof(progress));
    free(w->exe);
    free(w);
    return r;
}

const char *
mt_worker_python(mt_worker *w)
{
    if (w->hello_pending && w->pid != 0) {
        mt_step_result *r = NULL;
        if (read_hello(w, &r) < 0) {
            mt_result_free(r);
        }
    }
    return w->python;
}

void
mt_worker_want_roles(mt_worker *w, int on)
{
    w->want_roles = on;
}

int
mt_worker_pid(const mt_worker *w)
{
    return w ? w->pid : 0;
}

int
mt_worker_starts(const mt_worker *w)
{
    return w ? w->starts : 0;
}
