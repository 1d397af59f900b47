/* worker_main.c — a worker executable, ministry-worker-3.X: one CPython
 * version embedded, started by the frontend (worker.c) as
 *     ministry-worker-3.X --serve SOCK PROG LOG LESSON.py...
 *     ministry-worker-3.X --doctor
 *     ministry-worker-3.X --run [--no-fold] [--site] FILE [ARGS...]
 *     ministry-worker-3.X --run [--no-fold] [--site] -m MODULE [ARGS...]
 *     ministry-worker-3.X --ready      (exits 0: its libraries load)
 * It is not meant to be run by hand. */
#include "interp.h"
#include "lesson.h"
#include "session.h"
#include "util.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* A file descriptor number from the command line, or -1. */
static int
fd_arg(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return *s != '\0' && *end == '\0' && v >= 0 && v < 65536 ? (int)v : -1;
}

static int
serve(int argc, char **argv)
{
    int fd = argc > 4 ? fd_arg(argv[2]) : -1;
    int prog_fd = argc > 4 ? fd_arg(argv[3]) : -1;
    int log_fd = argc > 4 ? fd_arg(argv[4]) : -1;
    if (fd < 0 || prog_fd < 0 || log_fd < 0) {
        fprintf(stderr, "%s: --serve SOCK PROG LOG LESSON.py...: started by ministry-tutor, "
                        "not by hand\n", argv[0]);
        return 2;
    }
    void *prog = mmap(NULL, sizeof(mt_worker_progress), PROT_READ | PROT_WRITE, MAP_SHARED,
                      prog_fd, 0);
    if (prog == MAP_FAILED) {
        perror("mmap progress");
        return 1;
    }
    /* The same files the frontend parsed, parsed here again (a worker
     * shares no memory with it but the progress page), for this CPython:
     * Py_GetVersion() starts "3.N.". */
    mt_lesson_for_python(atoi(mt_interp_version() + 2));
    size_t n = (size_t)(argc - 5);
    mt_lesson **lessons = mt_xcalloc(n ? n : 1, sizeof *lessons);
    char *err = NULL;
    for (size_t i = 0; i < n && err == NULL; i++) {
        lessons[i] = mt_lesson_load(argv[5 + i], &err);
    }
    if (err == NULL) {
        mt_session_check(lessons, n, &err);
    }
    mt_worker_main(fd, prog, lessons, n, log_fd, err);
}

int
main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "--serve") == 0) {
        return serve(argc, argv);
    }
    if (strcmp(mode, "--doctor") == 0 && argc == 2) {
        return mt_worker_doctor();
    }
    if (strcmp(mode, "--ready") == 0 && argc == 2) {
        return 0;
    }
    if (strcmp(mode, "--run") == 0) {
        int i = 2, nofold = 0, site = 0;
        for (; i < argc; i++) {
            if (strcmp(argv[i], "--no-fold") == 0) {
                nofold = 1;
            } else if (strcmp(argv[i], "--site") == 0) {
                site = 1;
            } else {
                break;
            }
        }
        int module = i < argc && strcmp(argv[i], "-m") == 0;
        i += module;
        if (i < argc) {
            return mt_worker_run(module ? NULL : argv[i], module ? argv[i] : NULL, argc - i,
                                 argv + i, nofold, site);
        }
    }
    fprintf(stderr, "%s: a worker of ministry-tutor, started by it (see ministry-tutor "
                    "--python), not by hand\n", argv[0]);
    return 2;
}
