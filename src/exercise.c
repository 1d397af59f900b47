/* exercise.c — exercises from the learner's side: ids, the learner's file,
 * one check in a fresh worker, verdicts, progress, --exercises and
 * --exercise N.K --check. */
#include "exercise.h"
#include "attempt.h"
#include "state.h"
#include "util.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

_Static_assert(MT_STATE_MAX_EXERCISES == MT_LESSON_MAX_EXERCISES,
               "the state records every exercise a lesson may hold");

/* Largest learner's file checked: as large as a lesson. */
#define MT_EXERCISE_MAX_BYTES MT_LESSON_MAX_BYTES

/* "1.1, 1.2, 3.1" — every exercise id of the lessons (malloc'ed). */
static char *
all_ids(const mt_app *app)
{
    mt_str s = {0};
    for (size_t i = 0; i < app->nlessons; i++) {
        for (size_t k = 0; k < app->lessons[i]->nexercises; k++) {
            mt_str_addf(&s, "%s%d.%zu", s.len ? ", " : "", app->lessons[i]->number, k + 1);
        }
    }
    return mt_str_take(&s);
}

int
mt_exercise_find(const mt_app *app, const char *id, mt_exercise_ref *ref, char **err)
{
    int n = -1, k = -1, used = 0;
    if (sscanf(id, "%3d.%3d%n", &n, &k, &used) == 2 && id[used] == '\0' && id[0] >= '0'
        && id[0] <= '9') {
        for (size_t i = 0; i < app->nlessons; i++) {
            const mt_lesson *l = app->lessons[i];
            if (l->number == n && k >= 1 && (size_t)k <= l->nexercises) {
                *ref = (mt_exercise_ref){l, &l->exercises[k - 1], k};
                return 0;
            }
        }
    }
    char *ids = all_ids(app);
    *err = *ids ? mt_xasprintf("no exercise '%s': the exercises are %s (see --exercises)", id,
                               ids)
                : mt_xasprintf("no exercise '%s': these lessons have none", id);
    free(ids);
    return -1;
}

char *
mt_exercise_path(const mt_exercise_ref *ref, char **err)
{
    char *state = mt_state_path(err);
    if (state == NULL) {
        return NULL;
    }
    /* .../ministry-tutor/state -> .../ministry-tutor/exercises/N.K-slug.py */
    char *slash = strrchr(state, '/');
    *slash = '\0';
    char *p = mt_xasprintf("%s/exercises/%d.%d-%s.py", state, ref->lesson->number, ref->index,
                           ref->ex->slug);
    free(state);
    return p;
}

int
mt_exercise_start_file(const mt_exercise_ref *ref, const char *path, char **err)
{
    if (mt_state_dir_ensure(path, err) < 0) {
        return -1;
    }
    /* O_EXCL: a file that is there, whatever is in it, is the learner's. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) {
        return 0;
    }
    if (fd < 0) {
        *err = mt_xasprintf("cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    const char *s = ref->ex->starter;
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            *err = mt_xasprintf("cannot write %s: %s", path, strerror(errno));
            close(fd);
            unlink(path);
            return -1;
        }
        s += w;
        n -= (size_t)w;
    }
    if (close(fd) < 0) {
        *err = mt_xasprintf("cannot write %s: %s", path, strerror(errno));
        unlink(path);
        return -1;
    }
    return 1;
}

/* A result that says why nothing was run. */
static mt_step_result *
not_run(const mt_exercise_ref *ref, const char *why)
{
    mt_step_result *r = mt_result_new();
    r->stage = ref->lesson->number;
    r->status = MT_ST_FAIL;
    mt_result_note(r, "%s", why);
    return r;
}

mt_step_result *
mt_exercise_check(const mt_app *app, const mt_exercise_ref *ref, const char *path)
{
    char *text = NULL, *err = NULL;
    size_t len = 0, bad;
    if (mt_read_file(path, MT_EXERCISE_MAX_BYTES, &text, &len) < 0) {
        char *why = mt_xasprintf("cannot read %s: %s", path,
                                 errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
        mt_step_result *r = not_run(ref, why);
        free(why);
        return r;
    }
    if (memchr(text, '\0', len) != NULL || mt_utf8_check(text, len, &bad) < 0) {
        free(text);
        char *why = mt_xasprintf("%s is not UTF-8 text (a NUL byte or a bad sequence): "
                                 "Python source must be", path);
        mt_step_result *r = not_run(ref, why);
        free(why);
        return r;
    }
    mt_attempt a = {
        .stage = ref->lesson->number,
        .index = ref->index,
        .path = (char *)path,
        .source = text,
        .check = ref->ex->check,
        .check_file = ref->lesson->path,
        .check_line = ref->ex->check_line,
        .timeout = ref->ex->timeout,
    };
    /* A fresh worker for every attempt: nothing one attempt left behind
     * (a method added to str, a leaked reference) meets the next. */
    mt_worker *w = mt_worker_start(app->lessons, app->nlessons, &err);
    mt_step_result *r;
    if (w == NULL) {
        char *why = mt_xasprintf("cannot start a worker: %s", err);
        r = not_run(ref, why);
        free(why);
        free(err);
    } else {
        mt_worker_want_roles(w, 0);
        r = mt_worker_attempt(w, &a);
        mt_result_free(mt_worker_quit(w));
    }
    free(text);
    return r;
}

int
mt_exercise_solved(const mt_step_result *r)
{
    return r->status == MT_ST_OK;
}

/* The first line of s, malloc'ed, without a final full stop. */
static char *
first_line(const char *s)
{
    size_t n = strcspn(s, "\n");
    if (n > 0 && s[n - 1] == '.') {
        n--;
    }
    return mt_xstrndup(s, n);
}

char *
mt_exercise_verdict(const mt_exercise_ref *ref, const mt_step_result *r)
{
    int n = ref->lesson->number, k = ref->index;
    if (mt_exercise_solved(r)) {
        return mt_xasprintf("%d.%d solved", n, k);
    }
    char *line = first_line(r->notes);
    char *v;
    if (r->status == MT_ST_CRASH || r->status == MT_ST_TIMEOUT) {
        /* The death report's first line ends in its cause, after what
         * the worker was doing: "... (checking an exercise): killed by
         * signal 11 (...)." (worker.c). */
        static const char mark[] = "an exercise): ";
        const char *cause = strstr(line, mark);
        cause = cause != NULL ? cause + sizeof mark - 1 : line;
        v = mt_xasprintf("%d.%d not solved: %s: %s", n, k,
                         r->status == MT_ST_TIMEOUT          ? "your file or the check did not finish"
                         : strncmp(cause, "it exited", 9) == 0 ? "the interpreter ended"
                                                               : "the interpreter crashed",
                         cause);
    } else {
        v = mt_xasprintf("%d.%d not solved: %s", n, k, line);
    }
    free(line);
    return v;
}

/* s under a heading, each line indented by four spaces. */
static void
section(mt_str *b, const char *heading, const char *s)
{
    if (s == NULL || *s == '\0') {
        return;
    }
    mt_str_addf(b, "%s%s:\n", b->len ? "\n" : "", heading);
    for (const char *p = s; *p;) {
        size_t n = strcspn(p, "\n");
        mt_str_addf(b, "%s%.*s\n", n ? "    " : "", (int)n, p);
        p += n + (p[n] == '\n');
    }
}

char *
mt_exercise_details(const mt_step_result *r)
{
    mt_str b = {0};
    section(&b, "Output", r->out);
    section(&b, "Errors", r->err);
    section(&b, "Traceback", r->traceback);
    /* The notes' first line is the verdict; a death report is all
     * details. */
    const char *rest = r->notes;
    if (r->status != MT_ST_CRASH && r->status != MT_ST_TIMEOUT) {
        rest += strcspn(rest, "\n");
        rest += *rest == '\n';
    }
    section(&b, "Notes", rest);
    return mt_str_take(&b);
}

void
mt_exercise_record(const mt_exercise_ref *ref)
{
    char *err = NULL;
    char *state = mt_state_path(&err);
    if (state == NULL || mt_state_mark_solved(state, ref->lesson->number, ref->index,
                                              &err) < 0) {
        fprintf(stderr, "ministry-tutor: progress not saved: %s\n", err);
        free(err);
    }
    free(state);
}

int
mt_exercises_main(mt_app *app)
{
    char *err = NULL;
    char *state = mt_state_path(&err);
    mt_state st;
    mt_state_load(state, &st);      /* none yet: nothing solved */
    free(state);
    free(err);
    for (size_t i = 0; i < app->nlessons; i++) {
        const mt_lesson *l = app->lessons[i];
        for (size_t k = 0; k < l->nexercises; k++) {
            printf("%d.%zu  %s  %s\n", l->number, k + 1,
                   mt_state_solved(&st, l->number, (int)k + 1) ? "done" : "todo",
                   l->exercises[k].title);
        }
    }
    return 0;
}

int
mt_exercise_check_main(mt_app *app)
{
    mt_exercise_ref ref;
    char *err = NULL, *own = NULL;
    if (mt_exercise_find(app, app->opts.exercise, &ref, &err) < 0) {
        fprintf(stderr, "ministry-tutor: %s\n", err);
        free(err);
        return 2;
    }
    const char *path = app->opts.check_file;
    if (path == NULL) {
        own = mt_exercise_path(&ref, &err);
        int wrote = own != NULL ? mt_exercise_start_file(&ref, own, &err) : -1;
        if (wrote < 0) {
            fprintf(stderr, "ministry-tutor: %s\n", err);
            free(err);
            free(own);
            return 1;
        }
        if (wrote) {
            fprintf(stderr, "ministry-tutor: wrote the starter to %s\n", own);
        }
        path = own;
    }
    mt_step_result *r = mt_exercise_check(app, &ref, path);
    char *verdict = mt_exercise_verdict(&ref, r);
    char *details = mt_exercise_details(r);
    printf("%s\n%s%s", verdict, *details ? "\n" : "", details);
    int solved = mt_exercise_solved(r);
    if (solved && own != NULL) {
        mt_exercise_record(&ref);
    }
    free(verdict);
    free(details);
    free(own);
    mt_result_free(r);
    return solved ? 0 : 1;
}
