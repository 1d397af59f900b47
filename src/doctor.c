/* doctor.c — `--doctor`, `--run` and `-m`: what works on this machine, and a
 * Python file or module run in a worker. */
#include "app.h"
#include "disasm.h"
#include "interp.h"
#include "mem.h"
#include "symbols.h"
#include "util.h"
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void
row(const char *what, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

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
mt_doctor_main(mt_app *app)
{
    int all = 1;
    struct utsname u;
    uname(&u);
    /* The Python a worker embeds, as its hello says. */
    char *err = NULL;
    mt_worker *w = mt_worker_start(NULL, 0, &err);
    const char *py = w ? mt_worker_python(w) : "";
    int pyok = *py != '\0';
    row("python", pyok, "%s", pyok ? py : err ? err : "the worker did not start");
    all &= pyok;
    mt_result_free(mt_worker_quit(w));
    free(err);
    err = NULL;
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
    const char *names[] = {"long_add", "_PyAST_Optimize", "PyCode_Optimize"};
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
        row("symbol", ok, "%-16s %s", names[i], ok ? d : "not found");
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

    int lessons = mt_app_load(app, &err) == 0 || app->lessons != NULL;
    row("lessons", lessons, "%s", lessons ? app->lessons_dir : err);
    free(err);
    printf("%s\n", all ? "every stage can run for real here"
                       : "some stages cannot run for real here (see NO above)");
    return all ? 0 : 1;
}

static volatile sig_atomic_t run_signal;

static void
on_run_signal(int sig)
{
    run_signal = sig;
}

int
mt_run_main(mt_app *app)
{
    const mt_opts *o = &app->opts;
    struct stat st;
    if (o->run_file != NULL
        && (access(o->run_file, R_OK) < 0 || stat(o->run_file, &st) < 0)) {
        fprintf(stderr, "ministry-tutor: --run: cannot read '%s': %s\n", o->run_file,
                strerror(errno));
        return 1;
    }
    if (o->run_file != NULL && !S_ISREG(st.st_mode)) {
        fprintf(stderr, "ministry-tutor: --run: '%s' is not a file\n", o->run_file);
        return 1;
    }
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "ministry-tutor: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        /* Its own process group, dead with the frontend. */
        mt_worker_bind_to_parent(parent);
        signal(SIGINT, SIG_DFL);
        signal(SIGPIPE, SIG_IGN);     /* as python3 does: BrokenPipeError, not death */
        char *e = NULL;
        mt_interp_want_site(o->site);
        if (mt_interp_init(-1, &e) < 0) {
            fprintf(stderr, "ministry-tutor: %s\n", e);
            _exit(1);
        }
        int rc = o->run_file != NULL
            ? mt_interp_run_main(o->run_file, o->run_argc, o->run_argv, o->no_fold)
            : mt_interp_run_module(o->run_module, o->run_argc, o->run_argv, o->no_fold);
        /* As python3 ends: atexit handlers, threads joined; 120 when the
         * streams cannot be flushed. */
        if (mt_interp_fini() < 0 && rc == 0) {
            rc = 120;
        }
        fflush(NULL);
        _exit(rc & 0xff);
    }
    /* The worker's group holds the terminal while the script runs, as a
     * shell gives it to a job (input() reads, Ctrl-C reaches the script and
     * whatever it started); a signal sent to the frontend itself is passed
     * on to that whole group. */
    setpgid(pid, pid);
    int tty = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
    if (tty) {
        tcsetpgrp(STDIN_FILENO, pid);
    }
    struct sigaction sa, old[4];
    static const int passed[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_run_signal;
    for (size_t i = 0; i < 4; i++) {
        sigaction(passed[i], &sa, &old[i]);
    }
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR)) {
            break;
        }
        int sig = run_signal;
        if (sig != 0) {
            run_signal = 0;
            kill(-pid, sig);
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (tty) {
        /* Back to the frontend's group: from the background that needs
         * SIGTTOU held off. */
        sigset_t ttou, was;
        sigemptyset(&ttou);
        sigaddset(&ttou, SIGTTOU);
        sigprocmask(SIG_BLOCK, &ttou, &was);
        tcsetpgrp(STDIN_FILENO, getpgrp());
        sigprocmask(SIG_SETMASK, &was, NULL);
    }
    for (size_t i = 0; i < 4; i++) {
        sigaction(passed[i], &old[i], NULL);
    }
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
            /* Ended on request, as python3 would be: the status a shell
             * gives a process killed by that signal. */
            kill(-pid, SIGKILL);
            return 128 + sig;
        }
        fprintf(stderr, "ministry-tutor: %s %s: the interpreter was killed by signal %d "
                        "(SIG%s: %s)\n", o->run_file != NULL ? "--run" : "-m",
                o->run_file != NULL ? o->run_file : o->run_module, sig,
                sigabbrev_np(sig) ? sigabbrev_np(sig) : "?", strsignal(sig));
        return 1;
    }
    return WEXITSTATUS(status);
}
