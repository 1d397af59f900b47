/* check_exercise.c — exercises: the lesson format's exercise cells and
 * their refusals, the attempt's wire form, every lesson exercise against
 * its reference solution and its wrong ones (tests/exercises/), starters,
 * progress, a crash followed by a fresh worker, and the command line. */
#include <check.h>
#include <stdarg.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attempt.h"
#include "lesson.h"
#include "state.h"
#include "util.h"
#include "worker.h"

static const char *
srcdir(void)
{
    const char *s = getenv("MT_SRCDIR");
    return s != NULL && *s != '\0' ? s : ".";
}

/* Run a shell command line with $MT the binary and $SRC the source tree;
 * *out gets its stdout (stderr too when the line says 2>&1).  Returns the
 * exit status. */
static int
run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
run(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = mt_xvasprintf(fmt, ap);
    va_end(ap);
    const char *bin = getenv("MT_BIN");
    char *full = mt_xasprintf("MT='%s'; SRC='%s'; export MINISTRY_LESSONS=\"$SRC/lessons\"; %s",
                              bin ? bin : "build/ministry-tutor", srcdir(), cmd);
    FILE *p = popen(full, "r");
    ck_assert_ptr_nonnull(p);
    mt_str b = {0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
        mt_str_addn(&b, buf, n);
    }
    int st = pclose(p);
    free(full);
    free(cmd);
    *out = mt_str_take(&b);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- the format ------------------------------------------------------ */

#define HDR "# ---\n# title: T\n# ---\n"
#define STEP "# %% A step\nx = 1\n"
#define EXERCISE                                                                 \
    "# %% Do it [markdown] tags=[\"exercise\"]\n# The task.\n\n"                 \
    "# %% [markdown] tags=[\"hint\"]\n# One.\n\n"                                \
    "# %% [markdown] tags=[\"hint\"]\n# Two.\n\n"                                \
    "# %% tags=[\"starter\"]\ndef f():\n    pass\n\n"                            \
    "# %% tags=[\"check\"] timeout=3\nassert f() == 1, \"f() is not 1\"\n"

START_TEST(test_parse_exercises)
{
    const char *text = HDR STEP "# %% [markdown]\n# The outro.\n\n" EXERCISE
                       "# %% Again [markdown] tags=[\"exercise\"] slug=\"again\"\n# Second.\n"
                       "# %% [markdown] tags=[\"hint\"]\n# H.\n"
                       "# %% tags=[\"check\"]\nassert 0, \"no\"\n"
                       "# %% tags=[\"starter\"]\npass\n"
                       "# %%\n";
    char *err = NULL;
    mt_lesson *l = mt_lesson_parse("t/04-x.py", text, strlen(text), &err);
    ck_assert_msg(l != NULL, "refused: %s", err);
    ck_assert_uint_eq(l->nsteps, 1);
    ck_assert_str_eq(l->outro, "The outro.");        /* exercises are not the outro */
    ck_assert_uint_eq(l->nexercises, 2);
    const mt_exercise *e = &l->exercises[0];
    ck_assert_str_eq(e->title, "Do it");
    ck_assert_str_eq(e->slug, "do-it");
    ck_assert_str_eq(e->task, "The task.");
    ck_assert_uint_eq(e->nhints, 2);
    ck_assert_str_eq(e->hints[0], "One.");
    ck_assert_str_eq(e->hints[1], "Two.");
    ck_assert_str_eq(e->starter, "def f():\n    pass\n");
    ck_assert_str_eq(e->check, "assert f() == 1, \"f() is not 1\"");
    ck_assert_int_eq(e->check_line, 23);
    ck_assert(e->timeout == 3);
    ck_assert_int_eq(e->line, 9);
    e = &l->exercises[1];
    ck_assert_str_eq(e->slug, "again");
    ck_assert_str_eq(e->starter, "pass\n");
    ck_assert(e->timeout == 0);
    mt_lesson_free(l);
}
END_TEST

static void
reject(const char *text, const char *want)
{
    char *err = NULL;
    mt_lesson *l = mt_lesson_parse("t/04-x.py", text, strlen(text), &err);
    ck_assert_msg(l == NULL, "accepted; wanted \"%s\"", want);
    ck_assert_msg(strncmp(err, "t/04-x.py:", 10) == 0 && strstr(err, want) != NULL,
                  "message \"%s\" lacks \"%s\"", err, want);
    free(err);
}

START_TEST(test_parse_refusals)
{
    reject(HDR STEP "# %% [markdown] tags=[\"hint\"]\n# H.\n",
           ":6: a hint cell before any exercise cell");
    reject(HDR STEP "# %% X [markdown] tags=[\"exercise\"]\n# T.\n"
                    "# %% tags=[\"starter\"]\npass\n# %% tags=[\"check\"]\npass\n",
           ":6: exercise 4.1 \"X\" has no hint cell");
    reject(HDR STEP "# %% X [markdown] tags=[\"exercise\"]\n# T.\n"
                    "# %% [markdown] tags=[\"hint\"]\n# H.\n# %% tags=[\"check\"]\npass\n",
           "has no starter cell");
    reject(HDR STEP "# %% X [markdown] tags=[\"exercise\"]\n# T.\n"
                    "# %% [markdown] tags=[\"hint\"]\n# H.\n# %% tags=[\"starter\"]\npass\n",
           "has no check cell");
    reject(HDR STEP "# %% [markdown] tags=[\"exercise\"]\n# T.\n", "an exercise needs a title");
    reject(HDR STEP "# %% X tags=[\"exercise\"]\npass\n",
           "tags=[\"exercise\"] goes on a [markdown] cell");
    reject(HDR STEP "# %% [markdown] tags=[\"check\"]\n# x\n",
           "tags=[\"check\"] goes on a code cell");
    reject(HDR STEP "# %% X [markdown] tags=[\"exercise\", \"hint\"]\n# T.\n",
           "two exercise tags \"exercise\" and \"hint\"");
    reject(HDR STEP EXERCISE "# %% [markdown]\n# Loose text.\n",
           ":21: after the first exercise only exercise, hint, starter and check cells");
    reject(HDR STEP EXERCISE "# %%\nprint('a step')\n",
           ":21: a step after the first exercise");
    reject(HDR STEP EXERCISE "# %% tags=[\"starter\"]\npass\n",
           ":21: exercise 4.1 has a starter cell already");
    reject(HDR STEP "# %% X [markdown] tags=[\"exercise\"]\n# T.\n"
                    "# %% tags=[\"check\"] watch=[]\npass\n",
           "unknown key watch= on a check cell (known: tags, timeout)");
    reject(HDR STEP "# %% X [markdown] tags=[\"exercise\"]\n# T.\n"
                    "# %% tags=[\"check\"] timeout=0\npass\n",
           "timeout= must be a number of seconds above 0");
    reject(HDR STEP "# %% X [markdown] tags=[\"exercise\"]\n# T.\n"
                    "# %% [markdown] tags=[\"hint\"]\n\n",
           "empty hint cell");
    reject(HDR STEP EXERCISE "# %% Do it [markdown] tags=[\"exercise\"]\n# T.\n"
                             "# %% [markdown] tags=[\"hint\"]\n# H.\n"
                             "# %% tags=[\"starter\"]\npass\n# %% tags=[\"check\"]\npass\n",
           ":21: exercise slug \"do-it\" is already used by exercise 4.1");
    /* Nothing changes for a lesson without exercises. */
    char *err = NULL;
    mt_lesson *l = mt_lesson_parse("t/04-x.py", HDR STEP, strlen(HDR STEP), &err);
    ck_assert_ptr_nonnull(l);
    ck_assert_uint_eq(l->nexercises, 0);
    mt_lesson_free(l);
}
END_TEST

START_TEST(test_attempt_wire)
{
    mt_attempt a = {3, 1, "p.py", "x = 1\n", "assert x", "l.py", 40, 2.5};
    mt_wbuf b = {0};
    mt_attempt_encode(&b, &a);
    mt_attempt d;
    ck_assert_int_eq(mt_attempt_decode(b.data, b.len, &d), 0);
    ck_assert_int_eq(d.stage, 3);
    ck_assert_int_eq(d.index, 1);
    ck_assert_str_eq(d.path, "p.py");
    ck_assert_str_eq(d.source, "x = 1\n");
    ck_assert_str_eq(d.check, "assert x");
    ck_assert_str_eq(d.check_file, "l.py");
    ck_assert_int_eq(d.check_line, 40);
    ck_assert(d.timeout == 2.5);
    mt_attempt_clear(&d);
    /* Every cut of it is refused, never read past. */
    for (size_t n = 0; n < b.len; n++) {
        ck_assert_int_eq(mt_attempt_decode(b.data, n, &d), -1);
        ck_assert_ptr_null(d.path);
    }
    free(b.data);
}
END_TEST

/* ---- every exercise of the lessons ------------------------------------ */

/* The files of tests/exercises, sorted (malloc'ed names, NULL-ended). */
static char **
exercise_files(void)
{
    char *dir = mt_xasprintf("%s/tests/exercises", srcdir());
    struct dirent **v;
    int n = scandir(dir, &v, NULL, alphasort);
    ck_assert_msg(n > 0, "no %s", dir);
    char **names = mt_xcalloc((size_t)n + 1, sizeof *names);
    int k = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(v[i]->d_name);
        if (len > 3 && strcmp(v[i]->d_name + len - 3, ".py") == 0) {
            names[k++] = mt_xstrdup(v[i]->d_name);
        }
        free(v[i]);
    }
    free(v);
    free(dir);
    return names;
}

/* The "# expect: ..." first line of a file of tests/exercises. */
static char *
expectation(const char *name)
{
    char *path = mt_xasprintf("%s/tests/exercises/%s", srcdir(), name);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[512] = "";
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    free(path);
    ck_assert_msg(strncmp(line, "# expect: ", 10) == 0, "%s: no '# expect: ' line", name);
    line[strcspn(line, "\n")] = '\0';
    return mt_xstrdup(line + 10);
}

/* Each file of tests/exercises, checked with --check=FILE: a reference
 * solution is solved (exit 0), every other one fails (exit 1) with the
 * message its first line expects, on the verdict line. */
START_TEST(test_solutions_and_wrong_ones)
{
    char **names = exercise_files();
    for (char **n = names; *n; n++) {
        char id[16];
        snprintf(id, sizeof id, "%.*s", (int)strcspn(*n, "-"), *n);
        char *want = expectation(*n);
        int solved = strcmp(want, "solved") == 0;
        char *out;
        int rc = run(&out, "MINISTRY_STEP_TIMEOUT=3 XDG_STATE_HOME=/nonexistent "
                           "\"$MT\" --exercise %s --check=\"$SRC/tests/exercises/%s\"",
                     id, *n);
        size_t first = strcspn(out, "\n");
        ck_assert_msg(rc == (solved ? 0 : 1), "%s: exit %d:\n%s", *n, rc, out);
        if (solved) {
            char *line = mt_xasprintf("%s solved\n", id);
            ck_assert_msg(strncmp(out, line, strlen(line)) == 0, "%s:\n%s", *n, out);
            free(line);
        } else {
            char *head = mt_xasprintf("%s not solved: ", id);
            ck_assert_msg(strncmp(out, head, strlen(head)) == 0, "%s:\n%s", *n, out);
            char *verdict = mt_xstrndup(out, first);
            ck_assert_msg(strstr(verdict, want) != NULL,
                          "%s: the verdict\n  %s\nlacks\n  %s", *n, verdict, want);
            free(verdict);
            free(head);
        }
        free(out);
        free(want);
        free(*n);
    }
    free(names);
}
END_TEST

/* Every exercise --exercises lists has a reference solution, a wrong one
 * and one that works but does not put things back (or that this cannot
 * apply to it is said in its file name: none so far). */
START_TEST(test_every_exercise_covered)
{
    char *out;
    ck_assert_int_eq(run(&out, "\"$MT\" --exercises"), 0);
    char **names = exercise_files();
    int count = 0, stages_seen[100] = {0};
    for (char *p = out; *p; p = strchr(p, '\n') + 1) {
        int n, k;
        ck_assert_msg(sscanf(p, "%d.%d  ", &n, &k) == 2, "--exercises line: %s", p);
        count++;
        stages_seen[n] = 1;
        int sol = 0, wrong = 0;
        char *pre = mt_xasprintf("%d.%d-", n, k);
        for (char **f = names; *f; f++) {
            if (strncmp(*f, pre, strlen(pre)) != 0) {
                continue;
            }
            sol |= strncmp(*f + strlen(pre), "solution", 8) == 0;
            wrong |= strncmp(*f + strlen(pre), "wrong", 5) == 0;
        }
        ck_assert_msg(sol && wrong, "exercise %d.%d lacks a %s in tests/exercises", n, k,
                      sol ? "wrong one" : "reference solution");
        free(pre);
    }
    ck_assert_int_ge(count, 7);
    for (int n = 1; n <= 7; n++) {
        ck_assert_msg(stages_seen[n], "stage %d has no exercise", n);
    }
    for (char **f = names; *f; f++) {
        free(*f);
    }
    free(names);
    free(out);
}
END_TEST

/* An untouched starter fails, saying what is missing; the reference
 * solution put in its place passes and is recorded; the learner's file
 * is never overwritten. */
START_TEST(test_starter_then_solution)
{
    char *out;
    char dir[] = "/tmp/mt-exercise-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char **names = exercise_files();
    for (char **f = names; *f; f++) {
        if (strstr(*f, "-solution.py") == NULL) {
            free(*f);
            continue;
        }
        char id[16];
        snprintf(id, sizeof id, "%.*s", (int)strcspn(*f, "-"), *f);
        int rc = run(&out, "XDG_STATE_HOME='%s' \"$MT\" --exercise %s --check 2>&1", dir, id);
        ck_assert_msg(rc == 1, "%s: the untouched starter: exit %d\n%s", id, rc, out);
        ck_assert_msg(strstr(out, "wrote the starter to ") != NULL, "%s", out);
        ck_assert_msg(strstr(out, " not solved: ") != NULL, "%s", out);
        free(out);
        rc = run(&out, "XDG_STATE_HOME='%s'; f=$(ls \"$XDG_STATE_HOME\"/ministry-tutor/"
                       "exercises/%s-*.py) && cp \"$SRC/tests/exercises/%s\" \"$f\" && "
                       "XDG_STATE_HOME=\"$XDG_STATE_HOME\" \"$MT\" --exercise %s --check 2>&1 "
                       "&& cmp \"$f\" \"$SRC/tests/exercises/%s\"",
                 dir, id, *f, id, *f);
        ck_assert_msg(rc == 0, "%s: the solution in the learner's file: exit %d\n%s", id, rc,
                      out);
        ck_assert_msg(strstr(out, "wrote the starter") == NULL, "%s", out);
        free(out);
        free(*f);
    }
    free(names);
    ck_assert_int_eq(run(&out, "XDG_STATE_HOME='%s' \"$MT\" --exercises", dir), 0);
    ck_assert_msg(strstr(out, "todo") == NULL && strstr(out, "3.1  done  ") != NULL, "%s", out);
    free(out);
    run(&out, "rm -rf '%s'", dir);
    free(out);
}
END_TEST

/* A crash is a failed attempt with its report, and the next attempt on
 * the same handle runs in a fresh worker and passes. */
START_TEST(test_crash_then_fresh_worker)
{
    char *err = NULL;
    mt_worker *w = mt_worker_start(NULL, 0, &err);
    ck_assert_msg(w != NULL, "%s", err);
    mt_attempt a = {3, 1, "crash.py", "import ctypes\nctypes.string_at(0)\n",
                    "assert True", "check.py", 1, 0};
    mt_step_result *r = mt_worker_attempt(w, &a);
    ck_assert_int_eq(r->status, MT_ST_CRASH);
    ck_assert_msg(strstr(r->notes, "(checking an exercise): killed by signal 11") != NULL,
                  "%s", r->notes);
    ck_assert_msg(strstr(r->notes, "crash.py\", line 2") != NULL, "%s", r->notes);
    mt_result_free(r);
    int first = mt_worker_pid(w);
    a.source = "x = 1\nprint('ran')\n";
    a.check = "assert x == 1, 'x is not 1'";
    r = mt_worker_attempt(w, &a);
    ck_assert_int_eq(r->status, MT_ST_OK);
    ck_assert_str_eq(r->notes, "solved\n");
    ck_assert_str_eq(r->out, "ran\n");
    ck_assert_int_eq(mt_worker_starts(w), 2);
    ck_assert_int_ne(mt_worker_pid(w), first);
    mt_result_free(r);
    /* A check that fails by assert gives its message, no traceback; one
     * that stops on something else gives what it raised, traceback and
     * all; a file that raises is the learner's error. */
    a.check = "assert x == 2, 'x is 1, not 2'";
    r = mt_worker_attempt(w, &a);
    ck_assert_int_eq(r->status, MT_ST_FAIL);
    ck_assert_str_eq(r->notes, "x is 1, not 2\n");
    ck_assert_str_eq(r->traceback, "");
    mt_result_free(r);
    a.check = "y";
    r = mt_worker_attempt(w, &a);
    ck_assert_int_eq(r->status, MT_ST_FAIL);
    ck_assert_str_eq(r->notes, "the check stopped at NameError: name 'y' is not defined\n");
    ck_assert_ptr_nonnull(strstr(r->traceback, "check.py"));
    mt_result_free(r);
    a.check = "raise NotImplementedError('no such slot here')";
    r = mt_worker_attempt(w, &a);
    ck_assert_int_eq(r->status, MT_ST_FAIL);
    ck_assert_msg(strncmp(r->notes, "this exercise does not apply to Python 3.", 41) == 0
                  && strstr(r->notes, ": no such slot here\n") != NULL, "%s", r->notes);
    ck_assert_str_eq(r->traceback, "");
    mt_result_free(r);
    a.source = "1 / 0\n";
    r = mt_worker_attempt(w, &a);
    ck_assert_int_eq(r->status, MT_ST_ERROR);
    ck_assert_str_eq(r->notes, "your file raised ZeroDivisionError: division by zero\n");
    ck_assert_ptr_nonnull(strstr(r->traceback, "crash.py\", line 1"));
    mt_result_free(r);
    /* What the learner leaves changed, the guard finds and puts back. */
    a.source = "import ctypes\n"
               "ctypes.c_void_p.from_address(id(2) + ctypes.sizeof(ctypes.c_ssize_t))"
               ".value = id(float)\n";
    a.check = "pass";
    r = mt_worker_attempt(w, &a);
    ck_assert_int_eq(r->status, MT_ST_FAIL);
    const char *want = "the check passed, but the interpreter was not left as it was: "
                       "ob_type of the small int 2 is float";
    ck_assert_msg(strncmp(r->notes, want, strlen(want)) == 0, "%s", r->notes);
    ck_assert_int_eq(r->restored, 1);
    mt_result_free(r);
    mt_result_free(mt_worker_quit(w));
}
END_TEST

/* Progress: a solved exercise survives a save made from a state read
 * before it was solved (the TUI saving its position). */
START_TEST(test_state_keeps_solved)
{
    char dir[] = "/tmp/mt-state-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = mt_xasprintf("%s/ministry-tutor/state", dir);
    char *err = NULL;
    mt_state old;
    mt_state_load(path, &old);                 /* nothing yet */
    ck_assert_int_eq(mt_state_mark_solved(path, 3, 1, &err), 0);
    ck_assert_int_eq(mt_state_mark_solved(path, 7, 32, &err), 0);
    old.stage = 4;
    ck_assert_int_eq(mt_state_save(path, &old, &err), 0);
    mt_state st;
    ck_assert_int_eq(mt_state_load(path, &st), 0);
    ck_assert_int_eq(st.stage, 4);
    ck_assert(mt_state_solved(&st, 3, 1) && mt_state_solved(&st, 7, 32));
    ck_assert(!mt_state_solved(&st, 3, 2) && !mt_state_solved(&st, 7, 33));
    ck_assert_int_eq(mt_state_mark_solved(path, 3, 33, &err), -1);
    free(err);
    char *text = NULL;
    size_t len;
    ck_assert_int_eq(mt_read_file(path, 4096, &text, &len), 0);
    ck_assert_ptr_nonnull(strstr(text, "\nsolved 3.1 7.32\n"));
    free(text);
    free(path);
    char *cmd = mt_xasprintf("rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}
END_TEST

START_TEST(test_cli)
{
    char *out;
    ck_assert_int_eq(run(&out, "\"$MT\" --exercise 9.9 --check 2>&1"), 2);
    ck_assert_msg(strstr(out, "no exercise '9.9': the exercises are 1.1, ") != NULL, "%s", out);
    free(out);
    ck_assert_int_eq(run(&out, "\"$MT\" --exercise x --check 2>&1"), 2);
    free(out);
    ck_assert_int_eq(run(&out, "\"$MT\" --check 2>&1"), 2);
    ck_assert_msg(strstr(out, "--check goes with --exercise N.K") != NULL, "%s", out);
    free(out);
    ck_assert_int_eq(run(&out, "\"$MT\" --exercises --list 2>&1"), 2);
    free(out);
    ck_assert_int_eq(run(&out, "\"$MT\" --exercise 3.1 --check=/nonexistent/f.py"), 1);
    ck_assert_msg(strncmp(out, "3.1 not solved: cannot read /nonexistent/f.py", 45) == 0,
                  "%s", out);
    free(out);
    /* --plain names a stage's exercises after its last words. */
    ck_assert_int_eq(run(&out, "\"$MT\" --plain --stage 3 2>/dev/null | tail -n 3"), 0);
    ck_assert_msg(strstr(out, "\nExercise 3.1: Three times three is ten "
                              "(ministry-tutor --exercise 3.1)\n") != NULL, "%s", out);
    free(out);
    ck_assert_int_eq(run(&out, "\"$MT\" --help"), 0);
    ck_assert_ptr_nonnull(strstr(out, "--exercise N.K"));
    ck_assert_ptr_nonnull(strstr(out, "--check[=FILE]"));
    ck_assert_ptr_nonnull(strstr(out, "--exercises"));
    free(out);
}
END_TEST


/* ---- the watch loop, in tmux ------------------------------------------ */

/* A private tmux server and folder per test; the binary runs in a pane
 * with its state under the folder, its exit status written to a file. */
static char tsock[64], tdir[64];

static char *
tmux_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
tmux_run(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *args = mt_xvasprintf(fmt, ap);
    va_end(ap);
    char *out;
    run(&out, "tmux -L %s -f /dev/null %s 2>/dev/null", tsock, args);
    free(args);
    return out;
}

static void
watch_prepare(void)
{
    snprintf(tsock, sizeof tsock, "exercises-%ld", (long)getpid());
    snprintf(tdir, sizeof tdir, "/tmp/mt-watch-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tdir));
}

static void
watch_launch(const char *env, const char *args)
{
    char *src = realpath(srcdir(), NULL);
    const char *bin = getenv("MT_BIN");
    char *script = mt_xasprintf("%s/run.sh", tdir);
    FILE *f = fopen(script, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "cd '%s' || exit 1\n"
            "trap : INT\n"            /* Ctrl-C is for the binary, not this shell */
            "env -u VISUAL -u EDITOR -u NO_COLOR LC_ALL=C.UTF-8 XDG_STATE_HOME='%s/state' "
            "MINISTRY_LESSONS='%s/lessons' %s '%s' %s 2>'%s/err'\n"
            "echo \"EXIT=$?\" > '%s/exit'\n"
            "exec sleep 120\n",
            tdir, tdir, src, env, bin ? bin : "build/ministry-tutor", args, tdir, tdir);
    fclose(f);
    free(tmux_run("new-session -d -s t -x 100 -y 50 'sh %s'", script));
    free(script);
    free(src);
}

static void
watch_start(const char *env, const char *args)
{
    watch_prepare();
    watch_launch(env, args);
}

static void
watch_stop(void)
{
    free(tmux_run("kill-server"));
    char *out;
    run(&out, "rm -rf '%s'", tdir);
    free(out);
}

/* Poll the pane until it holds want (after the nth "check N" rule when
 * n > 0); fail with the screen after secs. */
static char *
wait_for(const char *want, int n, double secs)
{
    double end = mt_now() + secs;
    char rule[32];
    snprintf(rule, sizeof rule, "check %d ", n);
    for (;;) {
        char *s = tmux_run("capture-pane -p -J -S - -t t");
        const char *from = n > 0 ? strstr(s, rule) : s;
        if (from != NULL && strstr(from, want) != NULL) {
            return s;
        }
        if (mt_now() > end) {
            ck_abort_msg("after %.0f s no \"%s\"%s:\n%s", secs, want, n > 0 ? " after " : "",
                         s);
        }
        free(s);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Copy a file of tests/exercises over the learner's file: in place (a
 * plain write) or by renaming a new file over it (as many editors save). */
static void
save_as(const char *id, const char *name, int by_rename)
{
    char *out;
    int rc = run(&out, "f=$(ls '%s'/state/ministry-tutor/exercises/%s-*.py) && %s", tdir, id,
                 by_rename ? "cp \"$SRC/tests/exercises/$N\" \"$f.new\" && mv \"$f.new\" \"$f\""
                           : "cat \"$SRC/tests/exercises/$N\" > \"$f\"");
    ck_assert_msg(rc == 0, "saving %s: %s", name, out);
    free(out);
}

/* Wait for the binary's exit status. */
static int
watch_exit(double secs)
{
    char *path = mt_xasprintf("%s/exit", tdir);
    double end = mt_now() + secs;
    int st = -1;
    for (;;) {
        FILE *f = fopen(path, "r");
        if (f != NULL && fscanf(f, "EXIT=%d", &st) == 1) {
            fclose(f);
            break;
        }
        if (f != NULL) {
            fclose(f);
        }
        ck_assert_msg(mt_now() < end, "still running after %.0f s", secs);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    free(path);
    return st;
}

START_TEST(test_watch_loop)
{
    watch_start("", "--exercise 3.1");
    /* The task, the file to edit, and the starter's verdict at once. */
    free(wait_for("Exercise 3.1 · Three times three is ten", 0, 20));
    free(wait_for("Edit it in any editor", 0, 20));
    free(wait_for("✗ 3.1 not solved: after patch(), nb_multiply still holds int's own", 1, 20));
    /* Each save is checked again: a wrong one, then the solution. */
    setenv("N", "3.1-wrong-every-three.py", 1);
    save_as("3.1", getenv("N"), 0);
    free(wait_for("✗ 3.1 not solved: 3 * 3 was 10, but 3 * 4 gave 10, not 12", 2, 20));
    setenv("N", "3.1-solution.py", 1);
    save_as("3.1", getenv("N"), 1);
    free(wait_for("✓ 3.1 solved", 3, 20));
    char *s = wait_for("Recorded.", 3, 20);
    ck_assert_msg(strstr(s, "check 4 ") == NULL, "one save, one check:\n%s", s);
    free(s);
    /* Hints one at a time, then no more. */
    free(tmux_run("send-keys -t t h"));
    free(wait_for("hint 1 of 3", 0, 10));
    free(tmux_run("send-keys -t t h h"));
    s = wait_for("hint 3 of 3", 0, 10);
    ck_assert_ptr_nonnull(strstr(s, "BINARY_OP_MULTIPLY_INT"));
    free(s);
    free(tmux_run("send-keys -t t h"));
    free(wait_for("No more hints: that was all 3.", 0, 10));
    free(tmux_run("send-keys -t t q"));
    ck_assert_int_eq(watch_exit(10), 0);
    /* Recorded, and the learner's file kept when the exercise is opened
     * again. */
    char *out;
    ck_assert_int_eq(run(&out, "XDG_STATE_HOME='%s/state' \"$MT\" --exercises | grep '^3.1 ' "
                               "&& cmp '%s'/state/ministry-tutor/exercises/3.1-*.py "
                               "\"$SRC/tests/exercises/3.1-solution.py\"", tdir, tdir), 0);
    ck_assert_str_eq(out, "3.1  done  Three times three is ten\n");
    free(out);
    watch_stop();
}
END_TEST

/* With $EDITOR the file opens in it at once, and is checked when the
 * editor ends; e opens it again. */
START_TEST(test_watch_editor)
{
    /* The "editor" writes the reference solution over the file it is
     * given (sh -c '$EDITOR "$1"'). */
    char *src = realpath(srcdir(), NULL);
    char *env = mt_xasprintf("EDITOR='cp %s/tests/exercises/2.1-solution.py'", src);
    free(src);
    watch_start(env, "--exercise 2.1");
    free(env);
    free(wait_for("✓ 2.1 solved", 1, 20));
    setenv("N", "2.1-wrong-no-modified.py", 1);
    save_as("2.1", getenv("N"), 0);
    free(wait_for("✗ 2.1 not solved: 'shout' is in str.__dict__, but", 2, 20));
    free(tmux_run("send-keys -t t e"));
    free(wait_for("✓ 2.1 solved", 3, 20));
    /* Ctrl-C ends the watch as it ends every mode: 128 + SIGINT. */
    free(tmux_run("send-keys -t t C-c"));
    ck_assert_int_eq(watch_exit(10), 130);
    watch_stop();
}
END_TEST

/* Write the learner's state file under the test's folder. */
static void
write_state(const char *body)
{
    char *out;
    ck_assert_int_eq(run(&out, "mkdir -p '%s/state/ministry-tutor' && printf '# ministry-tutor "
                               "learner state\\nversion 1\\n%s' > '%s/state/ministry-tutor/state'",
                         tdir, body, tdir), 0);
    free(out);
}

/* A stage's closing page names its exercises and the command for them;
 * the TUI's lesson list marks solved exercises, read afresh (solved in
 * another terminal meanwhile). */
START_TEST(test_tui_shows_exercises)
{
    watch_prepare();
    write_state("stage 1\\nstep 99\\ndone\\n");
    watch_launch("", "");
    char *s = wait_for("In another terminal: ministry-tutor --exercise 1.1", 0, 30);
    ck_assert_msg(strstr(s, "Exercise 1.1: A count that lies") != NULL, "%s", s);
    free(s);
    write_state("stage 1\\nstep 99\\ndone\\nsolved 3.1\\n");
    free(tmux_run("send-keys -t t l"));
    s = wait_for("3  tp-as-number", 0, 10);
    ck_assert_msg(strstr(s, "The slot behind the plus sign  3.1✓") != NULL, "%s", s);
    ck_assert_msg(strstr(s, "Every object keeps count  1.1 ") != NULL, "%s", s);
    free(s);
    free(tmux_run("send-keys -t t Escape q"));
    ck_assert_int_eq(watch_exit(20), 0);
    watch_stop();
}
END_TEST

Suite *
mt_exercise_suite(void)
{
    Suite *s = suite_create("exercise");
    TCase *tc = tcase_create("format");
    tcase_add_test(tc, test_parse_exercises);
    tcase_add_test(tc, test_parse_refusals);
    tcase_add_test(tc, test_attempt_wire);
    tcase_add_test(tc, test_state_keeps_solved);
    suite_add_tcase(s, tc);
    tc = tcase_create("check");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_solutions_and_wrong_ones);
    tcase_add_test(tc, test_every_exercise_covered);
    tcase_add_test(tc, test_starter_then_solution);
    tcase_add_test(tc, test_crash_then_fresh_worker);
    tcase_add_test(tc, test_cli);
    suite_add_tcase(s, tc);
    tc = tcase_create("watch");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_watch_loop);
    tcase_add_test(tc, test_watch_editor);
    tcase_add_test(tc, test_tui_shows_exercises);
    suite_add_tcase(s, tc);
    return s;
}
