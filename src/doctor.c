/* doctor.c — `--doctor`, `--run` and `-m` on the frontend's side: each runs
 * in a worker executable (serve.c has the checks and the interpreter). */
#include "app.h"
#include "pythons.h"
#include "util.h"
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* Run the worker exe with args (NULL-terminated, after the program name),
 * stdio inherited, Ctrl-C left to it; wait.  Returns its wait status, or
 * -1 when it could not be started. */
static int
spawn(const char *exe, char **args, int ignore_int)
{
    size_t n = 0;
    while (args[n] != NULL) {
        n++;
    }
    char **argv = mt_xcalloc(n + 2, sizeof *argv);
    argv[0] = (char *)exe;
    memcpy(argv + 1, args, n * sizeof *args);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "ministry-tutor: fork: %s\n", strerror(errno));
        free(argv);
        return -1;
    }
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        execv(exe, argv);
        fprintf(stderr, "ministry-tutor: cannot run %s: %s\n", exe, strerror(errno));
        _exit(127);
    }
    free(argv);
    if (ignore_int) {
        signal(SIGINT, SIG_IGN);     /* the worker owns Ctrl-C meanwhile */
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return status;
}

/* Whether the worker's libraries load (its libpython may have been
 * removed since the build).  Returns 0, or -1 with *err: the apt-get line
 * that brings the library back. */
static int
ready(const mt_python *p, char **err)
{
    int fds[2];
    if (pipe(fds) < 0) {
        *err = mt_xasprintf("pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execl(p->path, p->path, "--ready", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char buf[1024];
    ssize_t got = pid > 0 ? read(fds[0], buf, sizeof buf - 1) : -1;
    buf[got > 0 ? got : 0] = '\0';
    close(fds[0]);
    int status = -1;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return 0;
    }
    char *nl = strchr(buf, '\n');
    if (nl != NULL) {
        *nl = '\0';
    }
    if (strstr(buf, "libpython") != NULL) {
        *err = mt_xasprintf("the worker for CPython %s cannot start: libpython%s.so.1.0 is "
                            "missing; install it with: apt-get install libpython%s",
                            p->version, p->version, p->version);
    } else {
        *err = mt_xasprintf("the worker for CPython %s cannot start: %s", p->version,
                            buf[0] ? buf : "it failed");
    }
    return -1;
}

int
mt_doctor_main(mt_app *app)
{
    mt_python *v;
    size_t n = mt_pythons_find(&v);
    char *dir = mt_pythons_dir();
    char *names = mt_pythons_names(v, n);
    const char *sys = mt_pythons_system();
    int all = n > 0;
    printf("%-10s %-4s %s in %s (system python3: %s)\n", "workers", n ? "ok" : "NO", names,
           dir, sys[0] ? sys : "none");
    free(names);
    free(dir);
    for (size_t i = 0; i < n; i++) {
        if (app->opts.python != NULL && strcmp(app->opts.python, v[i].version) != 0) {
            continue;
        }
        printf("\n== CPython %s (%s)\n", v[i].version, v[i].path);
        char *err = NULL;
        if (ready(&v[i], &err) < 0) {
            printf("%-10s %-4s %s\n", "worker", "NO", err);
            free(err);
            all = 0;
            continue;
        }
        char *args[] = {"--doctor", NULL};
        int st = spawn(v[i].path, args, 0);
        all &= st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    mt_pythons_free(v, n);
    printf("\n");
    char *err = NULL;
    int lessons = mt_app_load(app, &err) == 0 || app->lessons != NULL;
    printf("%-10s %-4s %s\n", "lessons", lessons ? "ok" : "NO",
           lessons ? app->lessons_dir : err);
    free(err);
    printf("%s\n", all ? "every stage can run for real here"
                       : "some stages cannot run for real here (see NO above)");
    return all ? 0 : 1;
}

/* Make group pgrp the terminal's foreground group; from the background
 * that needs SIGTTOU held off. */
static void
terminal_to(pid_t pgrp)
{
    sigset_t ttou, was;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    sigprocmask(SIG_BLOCK, &ttou, &was);
    tcsetpgrp(STDIN_FILENO, pgrp);
    sigprocmask(SIG_SETMASK, &was, NULL);
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
    mt_python p = {0};
    snprintf(p.version, sizeof p.version, "%s", o->python_version);
    p.path = o->worker;
    char *err = NULL;
    if (ready(&p, &err) < 0) {
        fprintf(stderr, "ministry-tutor: %s\n", err);
        free(err);
        return 1;
    }
    /* The worker's argv: --run [--no-fold] [--site] (FILE | -m MODULE) ARGS... */
    size_t n = 0;
    char **argv = mt_xcalloc((size_t)o->run_argc + 6, sizeof *argv);   /* NULL-ended */
    argv[n++] = o->worker;
    argv[n++] = "--run";
    if (o->no_fold) {
        argv[n++] = "--no-fold";
    }
    if (o->site) {
        argv[n++] = "--site";
    }
    if (o->run_file == NULL) {
        argv[n++] = "-m";
    }
    for (int i = 0; i < o->run_argc; i++) {
        argv[n++] = o->run_argv[i];
    }
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "ministry-tutor: fork: %s\n", strerror(errno));
        free(argv);
        return 1;
    }
    if (pid == 0) {
        /* Its own process group, dead with the frontend. */
        mt_worker_bind_to_parent(parent);
        signal(SIGINT, SIG_DFL);
        execv(o->worker, argv);
        fprintf(stderr, "ministry-tutor: cannot run %s: %s\n", o->worker, strerror(errno));
        _exit(127);
    }
    free(argv);
    /* The worker's group holds the terminal while the script runs, as a
     * shell gives it to a job (input() reads, Ctrl-C reaches the script and
     * whatever it started); a signal sent to the frontend itself is passed
     * on to that whole group. */
    setpgid(pid, pid);
    int tty = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
    if (tty) {
        terminal_to(pid);
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
        pid_t r = waitpid(pid, &status, WNOHANG | WUNTRACED);
        if (r == pid && WIFSTOPPED(status)) {
            /* The script was stopped (Ctrl-Z): stop too, as a job does,
             * the terminal given back first, so the shell sees the job
             * stopped; continued in the foreground, hand it on again. */
            if (tty) {
                terminal_to(getpgrp());
            }
            raise(SIGSTOP);
            if (tty && tcgetpgrp(STDIN_FILENO) == getpgrp()) {
                terminal_to(pid);
            }
            kill(-pid, SIGCONT);
            continue;
        }
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
        terminal_to(getpgrp());
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
