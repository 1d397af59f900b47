/* seed_result.c — seeds for fuzz_result: the wire encoding of every step
 * result (and every stage's leave result) of the lessons in the folders
 * given, run in-process as the worker runs them.
 *
 *   seed_result OUTDIR LESSONS_DIR...
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "interp.h"
#include "lesson.h"
#include "result.h"
#include "session.h"
#include "util.h"

static int nseeds;

static int
save(const char *outdir, const mt_step_result *r)
{
    size_t len;
    uint8_t *buf = mt_result_encode(r, &len);
    char *path = mt_xasprintf("%s/result-%03d.bin", outdir, nseeds++);
    FILE *f = fopen(path, "wb");
    int rc = f != NULL && fwrite(buf, 1, len, f) == len ? 0 : -1;
    if (f != NULL && fclose(f) != 0) {
        rc = -1;
    }
    if (rc < 0) {
        fprintf(stderr, "seed_result: %s: %s\n", path, strerror(errno));
    }
    free(path);
    free(buf);
    return rc;
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: seed_result OUTDIR LESSONS_DIR...\n");
        return 2;
    }
    const char *outdir = argv[1];
    if (mkdir(outdir, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "seed_result: %s: %s\n", outdir, strerror(errno));
        return 1;
    }
    char *err = NULL;
    if (mt_interp_init(-1, &err) < 0) {
        fprintf(stderr, "seed_result: %s\n", err);
        return 1;
    }
    mt_interp_guard_baseline();
    int rc = 0;
    for (int a = 2; a < argc && rc == 0; a++) {
        mt_lesson **ls;
        size_t n;
        if (mt_lessons_load_dir(argv[a], &ls, &n, &err) < 0) {
            fprintf(stderr, "seed_result: %s\n", err);
            free(err);
            err = NULL;
            continue;
        }
        mt_session *s = mt_session_new(ls, n);
        for (size_t si = 0; si < n && rc == 0; si++) {
            for (size_t k = 0; k < ls[si]->nsteps && rc == 0; k++) {
                mt_step_result *r = mt_session_goto(s, si, (int)k);
                rc = save(outdir, r);
                mt_result_free(r);
            }
            mt_step_result *r = mt_session_leave(s);
            rc = rc ? rc : save(outdir, r);
            mt_result_free(r);
        }
        mt_session_free(s);
        mt_lessons_free(ls, n);
    }
    /* A crash report, as the frontend makes it. */
    mt_step_result *r = mt_result_new();
    r->status = MT_ST_CRASH;
    r->stage = 1;
    r->step = 1;
    mt_result_note(r, "The worker died in stage 1, step 2 (x): killed by signal 11.");
    rc = rc ? rc : save(outdir, r);
    mt_result_free(r);
    printf("seed_result: %d seeds in %s\n", nseeds, outdir);
    return rc ? 1 : 0;
}
