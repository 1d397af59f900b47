/* stress_signals.c — `make stress`, second half: N walks (1000 by
 * default) of the real binary, each --plain or --export --force of a
 * random stage (or all of them), ended by a random signal (SIGINT,
 * SIGTERM, SIGHUP, SIGKILL) after a random delay, or let finish.  After
 * each: no process of the walk is left, the status is what the signal or
 * the walk gives, and a victim file outside the export folder, behind a
 * symbolic link planted inside it, has its bytes.  Fails at the first
 * broken promise, naming the walk.
 *
 *   stress_signals [WALKS]      ($MT_BIN: the binary, else build/ministry-tutor)
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Live (not zombie) processes whose session is sid. */
static int
left_in_session(pid_t sid, pid_t *one)
{
    DIR *d = opendir("/proc");
    int n = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        char path[300], buf[1024];
        if (e->d_name[0] < '0' || e->d_name[0] > '9') {
            continue;
        }
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL) {
            continue;
        }
        size_t got = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[got] = '\0';
        const char *p = strrchr(buf, ')');
        char state;
        int ppid, pgrp, session;
        if (p != NULL && sscanf(p + 2, "%c %d %d %d", &state, &ppid, &pgrp, &session) == 4
            && session == sid && state != 'Z' && state != 'X') {
            n++;
            *one = (pid_t)atoi(e->d_name);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    return n;
}

static int
same_file(const char *path, const char *want, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return 0;
    }
    char *buf = malloc(n + 1);
    size_t got = fread(buf, 1, n + 1, f);
    fclose(f);
    int same = got == n && memcmp(buf, want, n) == 0;
    free(buf);
    return same;
}

int
main(int argc, char **argv)
{
    int walks = argc > 1 ? atoi(argv[1]) : 1000;
    const char *bin = getenv("MT_BIN") ? getenv("MT_BIN") : "build/ministry-tutor";
    char root[] = "/tmp/mt-stress-XXXXXX";
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    char victim[512], out[600], link[700];
    snprintf(victim, sizeof victim, "%s/victim", root);
    snprintf(out, sizeof out, "%s/out", root);
    char want[4096];
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    for (size_t i = 0; i < sizeof want; i++) {
        want[i] = (char)(rand() & 0xff);
    }
    FILE *f = fopen(victim, "wb");
    if (f == NULL || fwrite(want, 1, sizeof want, f) != sizeof want || fclose(f) != 0) {
        perror(victim);
        return 1;
    }
    static const int sigs[] = {0, SIGINT, SIGTERM, SIGHUP, SIGKILL};
    int counts[5] = {0};
    double t0 = now();
    for (int w = 1; w <= walks; w++) {
        int sig = sigs[rand() % 5];
        int stage = rand() % 8;            /* 0: every stage */
        int export = rand() % 2;
        double delay = (rand() % 400) / 1000.0;     /* a walk takes 0.1-0.6 s */
        /* A symbolic link to the victim where the export writes a file. */
        if (export) {
            char dir[700];
            snprintf(dir, sizeof dir, "%s/01-refcount", out);
            mkdir(out, 0777);
            mkdir(dir, 0777);
            snprintf(link, sizeof link, "%s/index.html", out);
            unlink(link);
            if (symlink(victim, link) != 0) {
                perror(link);
                return 1;
            }
        }
        char stage_arg[32] = "";
        if (stage > 0) {
            snprintf(stage_arg, sizeof stage_arg, "--stage %d", stage);
        }
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "exec %s %s %s %s %s >/dev/null 2>&1 </dev/null", bin,
                 export ? "--export" : "--plain", export ? out : "",
                 export ? "--force --format txt,json" : "", stage_arg);
        pid_t pid = fork();
        if (pid == 0) {
            setsid();                     /* every process of the walk in one session */
            execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
            _exit(127);
        }
        double start = now();
        int status = 0, done = 0;
        while (!done && now() - start < delay) {
            done = waitpid(pid, &status, WNOHANG) == pid;
            usleep(5000);
        }
        if (!done && sig != 0) {
            kill(pid, sig);
        }
        double limit = now() + 120;
        while (!done) {
            done = waitpid(pid, &status, WNOHANG) == pid;
            if (!done && now() > limit) {
                fprintf(stderr, "stress: walk %d (%s): still running after 120 s\n", w, cmd);
                kill(-pid, SIGKILL);
                return 1;
            }
            usleep(5000);
        }
        int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        int signalled = !WIFEXITED(status) || rc == 128 + sig;
        if (sig != 0 && !(rc == 0 || rc == 1 || rc == 128 + sig)) {
            fprintf(stderr, "stress: walk %d (%s, signal %d): status %d\n", w, cmd, sig, rc);
            return 1;
        }
        if (sig == 0 && rc != 0) {
            fprintf(stderr, "stress: walk %d (%s): status %d\n", w, cmd, rc);
            return 1;
        }
        counts[signalled && sig != 0 ? (sig == SIGINT ? 1 : sig == SIGTERM ? 2
                                        : sig == SIGHUP ? 3 : 4) : 0]++;
        /* Nothing of the walk is left (the worker dies with a killed
         * frontend by its parent-death signal). */
        pid_t one = 0;
        double gone_by = now() + 3;
        while (left_in_session(pid, &one) > 0 && now() < gone_by) {
            usleep(20000);
        }
        if (left_in_session(pid, &one) > 0) {
            fprintf(stderr, "stress: walk %d (%s, signal %d): process %d was left\n", w, cmd,
                    sig, (int)one);
            return 1;
        }
        if (!same_file(victim, want, sizeof want)) {
            fprintf(stderr, "stress: walk %d (%s): the file outside the export folder "
                            "changed\n", w, cmd);
            return 1;
        }
        if (w % 100 == 0) {
            printf("stress: %d walks, %.0f s\n", w, now() - t0);
            fflush(stdout);
        }
    }
    printf("stress: %d walks in %.0f s: %d ran to the end, %d ended by SIGINT, %d by "
           "SIGTERM, %d by SIGHUP, %d by SIGKILL; no process left, the file outside the "
           "export folder unchanged\n",
           walks, now() - t0, counts[0], counts[1], counts[2], counts[3], counts[4]);
    char rm[600];
    snprintf(rm, sizeof rm, "rm -rf '%s'", root);
    return system(rm) == 0 ? 0 : 1;
}
