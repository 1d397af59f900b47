/* check_faults.c — crash isolation: lesson steps that segfault, abort, loop
 * or hang the worker end in a report naming stage, step and cause, exit 1
 * in --plain, and a fresh worker; no mapping is W+X after any step; forged
 * pointers are shown as unreadable. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "doc.h"
#include "harness.h"
#include "lesson.h"
#include "mem.h"
#include "session.h"
#include "util.h"
#include "view.h"
#include "worker.h"

/* ---- helpers ------------------------------------------------------------ */

static char *
faults_dir(void)
{
    const char *src = getenv("MT_SRCDIR");
    return mt_xasprintf("%s/tests/lessons/faults", src ? src : ".");
}

static char *
slurp(const char *path)
{
    char *s = NULL;
    size_t n;
    if (mt_read_file(path, (size_t)64 << 20, &s, &n) < 0) {
        return mt_xstrdup("");
    }
    return s;
}

/* Run "$MT args" through sh with env assignments in front; *out and *err
 * get stdout and stderr, *secs the wall time.  Returns the exit status, or
 * 128 + the signal that killed it. */
static int
run_mt(const char *env, const char *args, char **out, char **err, double *secs)
{
    char dir[] = "/tmp/mt-faults-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *o = mt_xasprintf("%s/out", dir), *e = mt_xasprintf("%s/err", dir);
    const char *bin = getenv("MT_BIN");
    char *cmd = mt_xasprintf("%s exec %s %s >%s 2>%s </dev/null", env ? env : "",
                             bin ? bin : "build/ministry-tutor", args, o, e);
    double t0 = mt_now();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    *secs = mt_now() - t0;
    *out = slurp(o);
    *err = slurp(e);
    unlink(o);
    unlink(e);
    rmdir(dir);
    free(o);
    free(e);
    free(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
expect_in(const char *hay, const char *needle, const char *what)
{
    ck_assert_msg(strstr(hay, needle) != NULL, "%s: '%s' not in:\n%s", what, needle, hay);
}

/* ---- --plain, end to end ---------------------------------------------------- */

/* One fault fixture (tests/lessons/faults/NN-*.py) and what its report says. */
static const struct fault_case {
    int stage;
    const char *env;            /* extra environment */
    const char *where;          /* stage and step, as the report names them */
    const char *cause;          /* the signal or the time limit */
    const char *last_words;     /* from the faulthandler traceback */
    double min_s, max_s;        /* wall time of the whole run */
} faults[] = {
    {1, "", "stage 1, step 2 (Read address 8)", "SIGSEGV", "in string_at", 0, 5},
    {2, "", "stage 2, step 2 (Abort the interpreter)", "SIGABRT",
     "02-abort.py\", line", 0, 5},
    {3, "MINISTRY_STEP_TIMEOUT=30", "stage 3, step 2 (Loop forever)",
     "time limit of 1 s", "the step ran past its time limit", 0.9, 4},
    {4, "MINISTRY_STEP_TIMEOUT=1", "stage 4, step 2 (Loop forever)",
     "time limit of 1 s", "04-loop-default.py\", line", 0.9, 4},
    /* The step disarms the worker's watchdog timer: the frontend's backstop
     * ends it 3 s past the limit. */
    {5, "", "stage 5, step 2 (Cancel the watchdog and loop)", "time limit of 1 s",
     "05-backstop.py\", line", 3.5, 9},
    {6, "", "stage 6, step 3 (Watch it)", "time limit of 1 s", "in forever", 0.9, 4},
    {7, "MINISTRY_STEP_TIMEOUT=1", "stage 7, outside any step (leaving the stage)",
     "time limit of 1 s", "in __del__", 0.9, 4},
};

START_TEST(test_plain_fault)
{
    const struct fault_case *c = &faults[_i];
    char *dir = faults_dir();
    char *args = mt_xasprintf("--lessons %s --plain --stage %d", dir, c->stage);
    char *out, *err;
    double secs;
    int st = run_mt(c->env, args, &out, &err, &secs);
    char *both = mt_xasprintf("%s\n--- stderr ---\n%s", out, err);
    /* Status 1, not a death by signal, and not a hang. */
    ck_assert_msg(st == 1, "stage %d: exit status %d:\n%s", c->stage, st, both);
    ck_assert_msg(secs >= c->min_s && secs <= c->max_s,
                  "stage %d took %.2f s (expected %.1f..%.1f)", c->stage, secs, c->min_s,
                  c->max_s);
    /* The good step before the fault ran and was shown. */
    expect_in(out, "good 4", args);
    /* The report: where, why, and the worker's last words. */
    char *line = mt_xasprintf("The worker died in %s", c->where);
    expect_in(out, line, args);
    expect_in(out, c->cause, args);
    expect_in(out, "Its last words (faulthandler)", args);
    expect_in(out, c->last_words, args);
    expect_in(out, "A fresh worker takes over", args);
    ck_assert_msg(strstr(out, "not reached") == NULL || strstr(out, "print(\"not reached\")"),
                  "the step went on after its fault:\n%s", out);
    /* stderr: a one-line reason naming the stage (the report itself is on
     * stdout, with the rest of the walkthrough). */
    char *tag = mt_xasprintf("stage %d", c->stage);
    if (*err) {
        expect_in(err, tag, args);
        ck_assert_msg(strstr(err, "Traceback") == NULL, "a traceback on stderr:\n%s", err);
    }
    free(tag);
    free(line);
    free(both);
    free(out);
    free(err);
    free(args);
    free(dir);
}
END_TEST

/* A fault in a stage stops the walkthrough there; the stage before it ran
 * whole and was left cleanly. */
START_TEST(test_plain_fault_midway)
{
    char *dir = faults_dir();
    char *args = mt_xasprintf("--lessons %s --plain --stage 1 --step 1", dir);
    char *out, *err;
    double secs;
    ck_assert_int_eq(run_mt("", args, &out, &err, &secs), 0);
    expect_in(out, "good 4", args);
    ck_assert_ptr_null(strstr(out, "The worker died"));
    free(out);
    free(err);
    free(args);
    free(dir);
}
END_TEST

/* ---- the worker API, in-process ------------------------------------------ */

static mt_lesson **fl;
static size_t nfl;

static void
load_faults(void)
{
    char *dir = faults_dir(), *err = NULL;
    ck_assert_msg(mt_lessons_load_dir(dir, &fl, &nfl, &err) == 0, "%s", err ? err : "");
    free(dir);
}

static size_t
fault_index(int stage)
{
    for (size_t i = 0; i < nfl; i++) {
        if (fl[i]->number == stage) {
            return i;
        }
    }
    ck_abort_msg("no fault fixture for stage %d", stage);
    return 0;
}

/* The good step: status OK and its output. */
static void
expect_good(mt_worker *w, size_t si)
{
    mt_step_result *r = mt_worker_goto(w, si, 0);
    ck_assert_msg(r->status == MT_ST_OK, "good step: status %u\n%s%s", r->status,
                  r->traceback, r->notes);
    ck_assert_str_eq(r->out, "good 4\n");
    mt_result_free(r);
}

static const struct {
    int stage;
    int step;              /* 0-based step that faults */
    unsigned status;
    const char *cause;
} api_faults[] = {
    {1, 1, MT_ST_CRASH, "SIGSEGV"},
    {2, 1, MT_ST_CRASH, "SIGABRT"},
    {3, 1, MT_ST_TIMEOUT, "time limit of 1 s"},
    {6, 2, MT_ST_TIMEOUT, "time limit of 1 s"},
};

START_TEST(test_worker_fault_then_fresh)
{
    load_faults();
    size_t si = fault_index(api_faults[_i].stage);
    char *err = NULL;
    mt_worker *w = mt_worker_start(fl, nfl, &err);
    ck_assert_msg(w != NULL, "%s", err ? err : "");
    ck_assert_int_eq(mt_worker_starts(w), 1);
    expect_good(w, si);
    pid_t first = mt_worker_pid(w);
    ck_assert_int_gt(first, 0);

    mt_step_result *r = mt_worker_goto(w, si, api_faults[_i].step);
    ck_assert_uint_eq(r->status, api_faults[_i].status);
    ck_assert_int_eq(r->stage, api_faults[_i].stage);
    ck_assert_int_eq(r->step, api_faults[_i].step);
    char *where = mt_xasprintf("stage %d, step %d (%s)", api_faults[_i].stage,
                               api_faults[_i].step + 1,
                               fl[si]->steps[api_faults[_i].step].title);
    expect_in(r->notes, where, "report");
    expect_in(r->notes, api_faults[_i].cause, "report");
    expect_in(r->notes, fl[si]->path, "faulthandler traceback");
    free(where);
    mt_result_free(r);

    /* The dead worker is reaped (kill(0) would still reach a zombie), no
     * new one is running yet, and the frontend goes on. */
    ck_assert_int_eq(mt_worker_pid(w), 0);
    ck_assert_int_eq(kill(first, 0), -1);
    ck_assert_int_eq(errno, ESRCH);
    ck_assert_int_eq(mt_worker_starts(w), 1);

    /* The next request starts a fresh worker, which runs the good step. */
    expect_good(w, si);
    ck_assert_int_eq(mt_worker_starts(w), 2);
    ck_assert_int_gt(mt_worker_pid(w), 0);
    ck_assert_int_ne(mt_worker_pid(w), first);
    /* And it can fault and be replaced again. */
    r = mt_worker_goto(w, si, api_faults[_i].step);
    ck_assert_uint_eq(r->status, api_faults[_i].status);
    mt_result_free(r);
    expect_good(w, si);
    ck_assert_int_eq(mt_worker_starts(w), 3);

    r = mt_worker_quit(w);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->patched, 0);
    mt_result_free(r);
    mt_lessons_free(fl, nfl);
}
END_TEST

/* A prompt line that kills the worker is reported as such; the next one
 * runs in a fresh worker. */
START_TEST(test_worker_prompt_fault)
{
    load_faults();
    char *err = NULL;
    mt_worker *w = mt_worker_start(fl, nfl, &err);
    ck_assert_ptr_nonnull(w);
    expect_good(w, fault_index(1));
    mt_step_result *r = mt_worker_prompt(w, "__import__('os').abort()");
    ck_assert_uint_eq(r->status, MT_ST_CRASH);
    expect_in(r->notes, "stage 1, outside any step (running a prompt line)", "report");
    expect_in(r->notes, "SIGABRT", "report");
    mt_result_free(r);
    r = mt_worker_prompt(w, "2 + 2");
    ck_assert_uint_eq(r->status, MT_ST_OK);
    ck_assert_str_eq(r->out, "4\n");
    ck_assert_int_eq(mt_worker_starts(w), 2);
    mt_result_free(r);
    mt_result_free(mt_worker_quit(w));
    mt_lessons_free(fl, nfl);
}
END_TEST

/* A worker killed while idle is found dead at the next request: the write
 * to it fails (EPIPE, and no SIGPIPE kills the frontend), the report says
 * it died between requests and names the signal, and the request after it
 * runs in a fresh worker. */
START_TEST(test_worker_killed_idle)
{
    load_faults();
    char *err = NULL;
    mt_worker *w = mt_worker_start(fl, nfl, &err);
    ck_assert_ptr_nonnull(w);
    size_t si = fault_index(1);
    expect_good(w, si);
    pid_t first = mt_worker_pid(w);
    ck_assert_int_eq(kill(first, SIGKILL), 0);
    usleep(200 * 1000);      /* dead before the request is written */
    mt_step_result *r = mt_worker_goto(w, si, 0);
    ck_assert_uint_eq(r->status, MT_ST_CRASH);
    expect_in(r->notes, "died while it was idle", "report");
    expect_in(r->notes, "SIGKILL", "report");
    ck_assert_ptr_null(strstr(r->notes, "step 1"));
    mt_result_free(r);
    ck_assert_int_eq(kill(first, 0), -1);
    expect_good(w, si);
    ck_assert_int_eq(mt_worker_starts(w), 2);
    mt_result_free(mt_worker_quit(w));
    mt_lessons_free(fl, nfl);
}
END_TEST

/* The per-step limit: $MINISTRY_STEP_TIMEOUT when it is a positive number,
 * else 10 s. */
START_TEST(test_default_timeout)
{
    unsetenv("MINISTRY_STEP_TIMEOUT");
    ck_assert_double_eq(mt_session_default_timeout(), 10.0);
    setenv("MINISTRY_STEP_TIMEOUT", "1.5", 1);
    ck_assert_double_eq(mt_session_default_timeout(), 1.5);
    setenv("MINISTRY_STEP_TIMEOUT", "-3", 1);
    ck_assert_double_eq(mt_session_default_timeout(), 10.0);
    setenv("MINISTRY_STEP_TIMEOUT", "soon", 1);
    ck_assert_double_eq(mt_session_default_timeout(), 10.0);
    unsetenv("MINISTRY_STEP_TIMEOUT");
}
END_TEST

/* ---- safety, in-process ------------------------------------------------- */

/* After every step of every lesson found (and after leaving), no mapping
 * of the process is both writable and executable. */
START_TEST(test_no_wx_after_any_step)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    if ((size_t)_i >= app.nlessons) {
        mt_session_free(s);
        return;
    }
    const mt_lesson *l = app.lessons[_i];
    for (size_t k = 0; k < l->nsteps; k++) {
        mt_step_result *r = mt_session_goto(s, (size_t)_i, (int)k);
        ck_assert_msg(r->status == MT_ST_OK, "stage %d step %zu failed:\n%s", l->number,
                      k + 1, r->traceback);
        mt_result_free(r);
        char *wx = NULL;
        ck_assert_msg(!mt_mem_any_wx(&wx), "stage %d, after step %zu (%s): W+X mapping %s",
                      l->number, k + 1, l->steps[k].title, wx ? wx : "");
    }
    free(mt_test_leave(s));
    char *wx = NULL;
    ck_assert_msg(!mt_mem_any_wx(&wx), "stage %d, after leaving: W+X mapping %s",
                  l->number, wx ? wx : "");
    mt_test_assert_pristine();
    mt_session_free(s);
    mt_app_free(&app);
}
END_TEST

/* mt_mem_any_wx itself sees a W+X mapping (so the test above can fail). */
START_TEST(test_any_wx_sees_one)
{
    long ps = sysconf(_SC_PAGESIZE);
    void *p = mmap(NULL, (size_t)ps, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return;    /* the kernel forbids W+X: nothing to see */
    }
    char *wx = NULL;
    ck_assert_int_eq(mt_mem_any_wx(&wx), 1);
    free(wx);
    munmap(p, (size_t)ps);
    ck_assert_int_eq(mt_mem_any_wx(NULL), 0);
}
END_TEST

static const mt_region_result *
region(const mt_step_result *r, const char *label)
{
    for (uint32_t i = 0; i < r->nregions; i++) {
        if (strcmp(r->regions[i].label, label) == 0) {
            return &r->regions[i];
        }
    }
    ck_abort_msg("no region '%s'", label);
    return NULL;
}

static const mt_field_result *
field(const mt_region_result *g, const char *name)
{
    for (uint32_t i = 0; i < g->nfields; i++) {
        if (strcmp(g->fields[i].name, name) == 0) {
            return &g->fields[i];
        }
    }
    ck_abort_msg("no field '%s'", name);
    return NULL;
}

/* A forged PyObject (its ob_type leads nowhere) and an unmapped address,
 * watched by a real step: the values say unreadable, the region view
 * renders ?? for bytes it could not read, and nothing faults. */
START_TEST(test_forged_pointer_rendered_unreadable)
{
    mt_app app;
    mt_session *main_s = mt_test_engine(&app);
    load_faults();
    size_t si = fault_index(8);
    mt_session *s = mt_session_new(fl, nfl);
    mt_step_result *r = mt_session_goto(s, si, 1);
    ck_assert_msg(r->status == MT_ST_OK, "%s", r->traceback);

    const mt_region_result *g = region(r, "forged");
    ck_assert_uint_eq(g->len, sizeof(PyObject));
    for (uint32_t i = 0; i < g->len; i++) {
        ck_assert_uint_eq(g->ok_before[i], 1);    /* the header itself is real */
    }
    const mt_field_result *t = field(g, "ob_type");
    ck_assert_str_eq(t->value_after, "0x000000000010");
    ck_assert_str_eq(t->decoded_after, "(unreadable)");
    mt_doc *d = mt_view_region(g, 1);
    char *text = mt_doc_text(d);
    expect_in(text, "0x000000000010", "forged view");
    expect_in(text, "(unreadable)", "forged view");
    free(text);
    mt_doc_free(d);

    const mt_region_result *h = region(r, "nowhere");
    ck_assert_uint_eq(h->address, 0xdead00000000ULL);
    for (uint32_t i = 0; i < h->len; i++) {
        ck_assert_uint_eq(h->ok_before[i], 0);
        ck_assert_uint_eq(h->ok_after[i], 0);
    }
    ck_assert_str_eq(field(h, "ob_type")->value_before, "??");
    for (int after = 0; after < 2; after++) {
        d = mt_view_region(h, after);
        text = mt_doc_text(d);
        expect_in(text, "?? ?? ?? ??", "unmapped view");
        ck_assert_msg(strstr(text, "00 00 00 00") == NULL,
                      "unreadable bytes shown as zeros:\n%s", text);
        /* Every byte cell of the dump is a ?? span of the unreadable role. */
        size_t unreadable = 0;
        for (size_t i = 0; i < d->n; i++) {
            for (size_t j = 0; j < d->lines[i].n; j++) {
                unreadable += d->lines[i].spans[j].role == MT_R_UNREADABLE;
            }
        }
        ck_assert_uint_ge(unreadable, h->len);
        free(text);
        mt_doc_free(d);
    }
    mt_result_free(r);
    mt_session_free(s);
    mt_lessons_free(fl, nfl);
    mt_test_assert_pristine();
    mt_session_free(main_s);
    mt_app_free(&app);
}
END_TEST

Suite *
mt_faults_suite(void)
{
    Suite *s = suite_create("faults");
    TCase *plain = tcase_create("plain");
    tcase_set_timeout(plain, 60);
    tcase_add_loop_test(plain, test_plain_fault, 0,
                        (int)(sizeof faults / sizeof faults[0]));
    tcase_add_test(plain, test_plain_fault_midway);
    suite_add_tcase(s, plain);

    TCase *api = tcase_create("worker");
    tcase_set_timeout(api, 60);
    tcase_add_loop_test(api, test_worker_fault_then_fresh, 0,
                        (int)(sizeof api_faults / sizeof api_faults[0]));
    tcase_add_test(api, test_worker_prompt_fault);
    tcase_add_test(api, test_worker_killed_idle);
    tcase_add_test(api, test_default_timeout);
    suite_add_tcase(s, api);

    TCase *safe = tcase_create("safety");
    tcase_set_timeout(safe, 120);
    tcase_add_loop_test(safe, test_no_wx_after_any_step, 0, 7);
    tcase_add_test(safe, test_any_wx_sees_one);
    tcase_add_test(safe, test_forged_pointer_rendered_unreadable);
    suite_add_tcase(s, safe);
    return s;
}
