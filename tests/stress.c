/* stress.c — `make stress`: every stage of the lessons cycled N times (1000
 * by default) in ONE worker through the worker API, every step run and
 * every stage left; prints the worker's resident memory and fails when it
 * grew by 5 MiB or more after the first cycle, or when anything failed.
 *
 *   stress [CYCLES [LESSONS_DIR]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lesson.h"
#include "result.h"
#include "util.h"
#include "worker.h"

#define MT_STRESS_LIMIT_KIB (5L * 1024)

/* VmRSS of pid in KiB, or -1. */
static long
rss_kib(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

/* Run every step of every stage, then leave it.  Returns 0, or -1 after
 * printing what failed. */
static int
cycle(mt_worker *w, mt_lesson **ls, size_t n, long c)
{
    for (size_t si = 0; si < n; si++) {
        for (size_t k = 0; k < ls[si]->nsteps; k++) {
            mt_step_result *r = mt_worker_goto(w, si, (int)k);
            if (r->status != MT_ST_OK) {
                fprintf(stderr, "stress: cycle %ld, stage %d step %zu: status %u\n%s%s%s\n",
                        c, ls[si]->number, k + 1, r->status, r->err, r->traceback,
                        r->notes);
                mt_result_free(r);
                return -1;
            }
            mt_result_free(r);
        }
        mt_step_result *r = mt_worker_leave(w);
        int bad = r->status != MT_ST_OK || r->patched || strstr(r->notes, "RESTORE") != NULL
                  || strstr(r->notes, "WARNING") != NULL;
        if (bad) {
            fprintf(stderr, "stress: cycle %ld, leaving stage %d:\n%s\n", c, ls[si]->number,
                    r->notes);
        }
        mt_result_free(r);
        if (bad) {
            return -1;
        }
    }
    return 0;
}

int
main(int argc, char **argv)
{
    long cycles = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
    const char *src = getenv("MT_SRCDIR");
    char *dir = argc > 2 ? mt_xstrdup(argv[2]) : mt_xasprintf("%s/lessons", src ? src : ".");
    char *err = NULL;
    mt_lesson **ls;
    size_t n;
    if (cycles < 2) {
        fprintf(stderr, "usage: stress [CYCLES (2 or more) [LESSONS_DIR]]\n");
        return 2;
    }
    if (mt_lessons_load_dir(dir, &ls, &n, &err) < 0) {
        fprintf(stderr, "stress: %s\n", err);
        return 1;
    }
    size_t steps = 0;
    for (size_t i = 0; i < n; i++) {
        steps += ls[i]->nsteps;
    }
    mt_worker *w = mt_worker_start(ls, n, &err);
    if (w == NULL) {
        fprintf(stderr, "stress: %s\n", err);
        return 1;
    }
    /* The first request starts the interpreter; its first cycle imports
     * what the lessons import.  Growth is counted from after that. */
    int pid = mt_worker_pid(w);
    long fresh = rss_kib(pid);
    double t0 = mt_now();
    int rc = cycle(w, ls, n, 1);
    long base = rss_kib(pid), last = base;
    printf("stress: %zu stages, %zu steps per cycle, one worker (pid %d)\n", n, steps, pid);
    printf("stress: VmRSS %ld KiB before the first cycle, %ld KiB after it\n", fresh, base);
    for (long c = 2; c <= cycles && rc == 0; c++) {
        rc = cycle(w, ls, n, c);
        if (mt_worker_pid(w) != pid || mt_worker_starts(w) != 1) {
            fprintf(stderr, "stress: the worker was replaced during cycle %ld\n", c);
            rc = -1;
        }
        if (rc == 0 && (c % 100 == 0 || c == cycles)) {
            last = rss_kib(pid);
            printf("stress: cycle %5ld  VmRSS %ld KiB  (%+ld KiB since cycle 1)  %.1f s\n", c,
                   last, last - base, mt_now() - t0);
            fflush(stdout);
        }
    }
    mt_step_result *q = mt_worker_quit(w);
    mt_result_free(q);
    mt_lessons_free(ls, n);
    free(dir);
    if (rc != 0) {
        printf("stress: FAILED (see above)\n");
        return 1;
    }
    long growth = last - base;
    printf("stress: %ld cycles, %ld stage runs, %ld steps in %.1f s; VmRSS growth %ld KiB "
           "(%.2f MiB; limit %ld KiB): %s\n",
           cycles, cycles * (long)n, cycles * (long)steps, mt_now() - t0, growth,
           (double)growth / 1024.0, MT_STRESS_LIMIT_KIB,
           growth < MT_STRESS_LIMIT_KIB ? "OK" : "TOO MUCH");
    return growth < MT_STRESS_LIMIT_KIB ? 0 : 1;
}
