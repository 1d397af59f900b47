/* serve.c — the worker's side: the hello, the request loop over a session,
 * and the worker's own --doctor rows and --run. */
#include "checker.h"
#include "disasm.h"
#include "interp.h"
#include "mem.h"
#include "ministry.h"
#include "session.h"
#include "symbols.h"
#include "util.h"
#include "wire.h"
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* Built with AddressSanitizer (SANITIZE=address): a worker that quits
 * looks for leaks as exit() would have (it leaves with _exit). */
#if defined(__SANITIZE_ADDRESS__)
#define MT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MT_ASAN 1
#endif
#endif
#ifdef MT_ASAN
#include <sanitizer/lsan_interface.h>
#endif

static mt_worker_progress *worker_prog;   /* shared with the frontend */

static int alarm_fd = 2;        /* the worker's log */

/* The step ran past its limit: say so, then abort, so faulthandler writes
 * the Python traceback of where it was stuck. */
static void
on_alarm(int sig)
{
    static const char msg[] = "ministry-tutor: the step ran past its time limit\n";
    (void)sig;
    worker_prog->timed_out = 1;
    (void)!write(alarm_fd, msg, sizeof msg - 1);
    abort();
}

/* Arm (seconds > 0) or disarm the step's time limit: one timer for the
 * worker's life, no thread. */
static void
watchdog(double seconds)
{
    struct itimerval it;
    memset(&it, 0, sizeof it);
    if (seconds > 0) {
        it.it_value.tv_sec = (time_t)seconds;
        it.it_value.tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6);
        if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0) {
            it.it_value.tv_usec = 1;
        }
    }
    setitimer(ITIMER_REAL, &it, NULL);
}

static void
step_hook(int stage, int step, double timeout)
{
    worker_prog->stage = stage;
    worker_prog->step = step;
    worker_prog->limit = timeout;
    worker_prog->deadline = mt_now() + timeout;
    watchdog(timeout);
}

/* Send one frame, tagged with its number (the hello is 0), and count it
 * sent.  A frontend that is gone leaves nothing to report to. */
static void
send_frame(int fd, const uint8_t *buf, size_t len)
{
    static uint32_t seq;
    if (mt_wire_send_tagged(fd, seq, buf, len) < 0) {
        _exit(0);
    }
    seq++;
    worker_prog->replies = seq;
}

static void
reply(int fd, mt_step_result *r)
{
    size_t len;
    uint8_t *buf = mt_result_encode(r, &len);
    if (len > MT_WIRE_MAX - 4) {
        /* Too big for the wire (a print of hundreds of MB): the status and
         * a note instead, so the frontend can say so. */
        mt_step_result *small = mt_result_new();
        small->stage = r->stage;
        small->step = r->step;
        small->status = MT_ST_FAIL;
        small->patched = r->patched;
        small->restored = r->restored;
        mt_result_note(small, "The step's result was %zu MiB, more than the %u MiB a result "
                              "may be: its output and regions are not shown.",
                       len >> 20, MT_WIRE_MAX >> 20);
        free(buf);
        buf = mt_result_encode(small, &len);
        mt_result_free(small);
    }
    send_frame(fd, buf, len);
    free(buf);
    mt_result_free(r);
}

void
mt_worker_main(int fd, mt_worker_progress *prog, mt_lesson *const *lessons, size_t n,
               int log_fd, const char *why)
{
    char *err = NULL;
    worker_prog = prog;
    if (why == NULL && mt_interp_init(log_fd, &err) < 0) {
        why = err;
    }
    alarm_fd = log_fd;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    if (why == NULL) {
        mt_interp_guard_baseline();
    }
    /* The hello: the protocol, the frames' checksum, which Python this
     * worker embeds, and whether it can run these lessons at all. */
    mt_wbuf hello = {0};
    mt_wire_u32(&hello, MT_WORKER_PROTO);
    mt_wire_str(&hello, MT_WIRE_SUM);
    mt_wire_str(&hello, mt_interp_version());
    mt_wire_str(&hello, why);
    send_frame(fd, hello.data, hello.len);
    free(hello.data);
    if (why != NULL) {
        _exit(3);
    }
    mt_session *s = mt_session_new(lessons, n);
    mt_session_step_hook = step_hook;

    for (;;) {
        uint8_t *msg;
        size_t len;
        if (mt_wire_recv(fd, &msg, &len) != 0) {
            break;
        }
        mt_rbuf rd = {msg, len, 0};
        uint32_t op = mt_wire_get_u32(&rd);
        uint32_t flags = mt_wire_get_u32(&rd);
        mt_session_want_roles(s, (flags & MT_REQ_ROLES) != 0);
        mt_session_stop_on_error(s, (flags & MT_REQ_STOP_ON_ERROR) != 0);
        uint32_t si = mt_wire_get_u32(&rd);
        int32_t k = (int32_t)mt_wire_get_u32(&rd);
        char *text = mt_wire_get_str(&rd);
        size_t nextra = 0;
        uint8_t *extra = op == MT_OP_ATTEMPT ? mt_wire_get_bytes(&rd, &nextra) : NULL;
        mt_attempt att = {0};
        mt_step_result *r;
        /* Every request may run lesson code outside a step too (a
         * finaliser when a namespace is cleared on leaving, a revert):
         * the whole request is timed; each step re-arms its own limit. */
        worker_prog->op = (int)op;
        step_hook(worker_prog->stage, -1, mt_session_default_timeout());
        if (rd.bad) {
            r = mt_result_new();
            r->status = MT_ST_FAIL;
            mt_result_note(r, "malformed request");
        } else if (op == MT_OP_GOTO) {
            r = mt_session_goto(s, si, k);
        } else if (op == MT_OP_PROMPT) {
            r = mt_session_prompt(s, text);
        } else if (op == MT_OP_ATTEMPT) {
            /* An exercise starts from a pristine interpreter: no stage open. */
            mt_result_free(mt_session_leave(s));
            r = mt_attempt_decode(extra, nextra, &att) == 0 ? mt_checker_run(&att) : NULL;
            if (r == NULL) {
                r = mt_result_new();
                r->status = MT_ST_FAIL;
                mt_result_note(r, "malformed exercise request");
            }
            mt_attempt_clear(&att);
        } else {
            r = mt_session_leave(s);
        }
        watchdog(0);
        worker_prog->deadline = 0;
        worker_prog->op = 0;         /* idle from here on */
        worker_prog->step = -1;
        free(text);
        free(extra);
        free(msg);
        int lost = r->restored == MT_RESTORED_LOST;
        reply(fd, r);
        if (op == MT_OP_QUIT || lost) {
            break;     /* an interpreter not put back is not used again */
        }
    }
#ifdef MT_ASAN
    __lsan_do_leak_check();     /* a leak: its report in the log, status 1 */
#endif
    _exit(0);
}


/* ---- --doctor and --run, in the worker --------------------------------- */

__attribute__((format(printf, 3, 4)))
static void
row(const char *what, int ok, const char *fmt, ...);

static void
row(const char *what, int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%-10s %-4s ", what, ok ? "ok" : "NO");
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

/* Can a page holding code be made writable and executable, then put back? */
static int
mprotect_works(uintptr_t code, char *why, size_t n)
{
    long page = sysconf(_SC_PAGESIZE);
    mt_mapping m;
    if (mt_mem_mapping(code, &m) < 0) {
        snprintf(why, n, "the code address is not mapped");
        return 0;
    }
    void *p = (void *)(code & ~(uintptr_t)(page - 1));
    int prot = (m.perms[0] == 'r' ? PROT_READ : 0) | (m.perms[1] == 'w' ? PROT_WRITE : 0)
               | (m.perms[2] == 'x' ? PROT_EXEC : 0);
    if (mprotect(p, (size_t)page, PROT_READ | PROT_WRITE | PROT_EXEC) < 0) {
        snprintf(why, n, "mprotect(RWX) refused: %s", strerror(errno));
        return 0;
    }
    mprotect(p, (size_t)page, prot);
    char now[5];
    mt_mem_perms(code, now);
    snprintf(why, n, "RWX allowed on libpython's code page (%s → rwx → %s)", m.perms, now);
    return strcmp(now, m.perms) == 0;
}

int
mt_worker_doctor(void)
{
    int all = 1;
    struct utsname u;
    uname(&u);
    row("python", 1, "%s", mt_interp_version());
    row("libpython", *mt_sym_libpython_path() != '\0', "%s (build-id %s)",
        mt_sym_libpython_path(), mt_sym_libpython_build_id());
    int x86 = strcmp(u.machine, "x86_64") == 0;
    row("arch", x86, "%s, %zu-bit pointers%s", u.machine, sizeof(void *) * 8,
        x86 ? "" : " (the trampoline is x86-64 only)");
    all &= x86;

    const char *why = NULL;
    int dbg = mt_sym_debug_ready(&why) == 0;
    if (dbg) {
        row("debug", 1, "%s (build-id matches)", mt_sym_debug_path());
    } else {
        row("debug", 0, "%s", why);
    }
    all &= dbg;
    /* int's nb_add, this version's folder, the talk's optimiser. */
    char nb_add[128] = "long_add";
    mt_sym_name((uintptr_t)mt_interp_nb_add(), nb_add, sizeof nb_add);
    const char *names[] = {nb_add, mt_ministry_fold_site(), "PyCode_Optimize"};
    uintptr_t opt = 0;
    for (size_t i = 0; i < 3; i++) {
        uintptr_t at = 0;
        char d[256] = "";
        int ok = mt_sym_lookup(names[i], &at, &why) == 0;
        if (ok) {
            mt_sym_describe(at, d, sizeof d);
            if (i == 1) {
                opt = at;
            }
        }
        row("symbol", ok, "%-20s %s", names[i], ok ? d : "not found");
        all &= ok;
    }

    char cv[32] = "";
    mt_insn in[4];
    uint8_t nop_ret[] = {0x90, 0xc3};
    int cs = mt_disasm_version(cv, sizeof cv) == 0 && mt_disasm(nop_ret, 2, 0, in, 4) == 2;
    row("capstone", cs, "%s", cs ? cv : "not working");
    all &= cs;

    /* The optimiser's page if it has a name here, else the exported stub's. */
    char mp[160] = "no code address to try";
    uintptr_t page = opt;
    if (page == 0 && mt_sym_lookup("PyCode_Optimize", &page, &why) < 0) {
        page = 0;
    }
    int mpok = page != 0 && mprotect_works(page, mp, sizeof mp);
    row("mprotect", mpok, "%s", mp);
    all &= mpok;
    char *wx = NULL;
    int anywx = mt_mem_any_wx(&wx);
    row("w^x", !anywx, "%s", anywx ? wx : "no mapping is writable and executable");
    free(wx);

    fflush(stdout);
    return all ? 0 : 1;
}

/* The teardown ran past its time limit: say so and end, status 1. */
static void
on_fini_alarm(int sig)
{
    static const char msg[] = "ministry-tutor: the interpreter did not finish shutting down "
                              "within its time limit (atexit handlers, finalisers): ended\n";
    (void)sig;
    (void)!write(2, msg, sizeof msg - 1);
    _exit(1);
}

/* --run and -m in the worker: as python3 FILE or python3 -m MODULE. */
int
mt_worker_run(const char *file, const char *module, int argc, char **argv, int nofold,
              int site)
{
    char *e = NULL;
    signal(SIGPIPE, SIG_IGN);     /* as python3 does: BrokenPipeError, not death */
    mt_interp_want_site(site);
    if (mt_interp_init(-1, &e) < 0) {
        fprintf(stderr, "ministry-tutor: %s\n", e);
        return 1;
    }
    mt_interp_guard_baseline();
    int rc = file != NULL ? mt_interp_run_main(file, argc, argv, nofold)
                          : mt_interp_run_module(module, argc, argv, nofold);
    /* What the program left changed, the guard finds, names and puts back
     * before the interpreter is finalised; having to is a failure. */
    char *rep = NULL;
    int found = mt_interp_guard_check(1, &rep);
    if (found) {
        fflush(stdout);
        fprintf(stderr, "ministry-tutor: %s %s left the interpreter changed; the host's "
                        "guard found:\n", file != NULL ? "--run" : "-m",
                file != NULL ? file : module);
        for (char *line = strtok(rep, "\n"); line != NULL; line = strtok(NULL, "\n")) {
            fprintf(stderr, "  %s\n", line);
        }
        rc = rc != 0 ? rc : 1;
    }
    free(rep);
    if (found == 2) {
        /* Not put back: finalising that interpreter could crash. */
        fflush(NULL);
        return rc & 0xff;
    }
    /* As python3 ends: the program's threads joined (for as long as they
     * take: they are its own work), then atexit handlers and the
     * interpreter's teardown, which get a step's time limit
     * ($MINISTRY_STEP_TIMEOUT, else 10 s: a __del__ that never returns,
     * an interpreter left broken); past it the worker says so and ends.
     * 120 when the streams cannot be flushed. */
    mt_interp_join_threads();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fini_alarm;
    sigaction(SIGALRM, &sa, NULL);
    double limit = mt_session_default_timeout();
    struct itimerval it = {{0, 0}, {(time_t)limit,
                                    (suseconds_t)((limit - (double)(time_t)limit) * 1e6)}};
    setitimer(ITIMER_REAL, &it, NULL);
    if (mt_interp_fini() < 0 && rc == 0) {
        rc = 120;
    }
    memset(&it, 0, sizeof it);
    setitimer(ITIMER_REAL, &it, NULL);
    fflush(NULL);
    return rc & 0xff;
}
