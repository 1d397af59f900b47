/* check_badinput.c — every bad input of the CLI contract, end to end with
 * the built binary: the documented status (2 usage, 1 runtime), exactly one
 * line on stderr naming what is wrong, no Python traceback; hostile lesson
 * files refused quickly; and the environments it must simply cope with
 * (LANG=C, TERM=dumb, NO_COLOR=1, a pipe). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

/* ---- fixtures ------------------------------------------------------------ */

static char fx[64];       /* the temporary folder of this test */

static void
write_file(const char *name, const char *text, size_t n)
{
    char *path = mt_xasprintf("%s/%s", fx, name);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(text, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
    free(path);
}

static void
write_str(const char *name, const char *text)
{
    write_file(name, text, strlen(text));
}

static void
make_dir(const char *name)
{
    char *path = mt_xasprintf("%s/%s", fx, name);
    ck_assert_int_eq(mkdir(path, 0777), 0);
    free(path);
}

#define HEADER(t) "# ---\n# title: " t "\n# ---\n\n"

/* One folder per kind of bad lesson, and a few bad files. */
static void
fixtures(void)
{
    snprintf(fx, sizeof fx, "/tmp/mt-badinput-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(fx));
    const char *src = getenv("MT_SRCDIR");
    char *lessons = mt_xasprintf("%s/lessons", src ? src : ".");
    char *link = mt_xasprintf("%s/real", fx);
    char *abs = realpath(lessons, NULL);
    ck_assert_ptr_nonnull(abs);
    ck_assert_int_eq(symlink(abs, link), 0);
    free(abs);
    free(lessons);
    free(link);

    make_dir("empty");
    make_dir("stray");
    write_str("stray/01-fine.py", HEADER("Fine") "# %% A step\nx = 1\n");
    write_str("stray/notes.txt", "not a lesson\n");
    write_str("afile", "a file, not a folder\n");
    make_dir("syntax");
    write_str("syntax/01-syntax.py",
              HEADER("Syntax") "# %% Fine\nx = 1\n\n# %% Broken\nif x = 1:\n    pass\n");
    make_dir("layout");
    write_str("layout/01-layout.py",
              HEADER("Layout") "# %% Watch watch=[\"id(2):NoSuchLayout\"]\nx = 1\n");
    make_dir("watch");
    write_str("watch/01-watch.py",
              HEADER("Watch") "# %% Watch raises watch=[\"1 / 0:PyObject\"]\nx = 1\n");
    make_dir("nul");
    static const char nul[] = HEADER("Nul") "# %% A\nx = 1\0\n";
    write_file("nul/01-nul.py", nul, sizeof nul - 1);
    make_dir("link");
    char *gone = mt_xasprintf("%s/link/01-gone.py", fx);
    ck_assert_int_eq(symlink("/nonexistent/01-gone.py", gone), 0);
    free(gone);
    write_str("broken.py", "x = (\n");
}

/* 10 MB of plausible lesson text. */
static void
big_fixture(void)
{
    make_dir("big");
    mt_str b = {0};
    mt_str_add(&b, HEADER("Big") "# %% A\n");
    while (b.len < 10u * 1000 * 1000) {
        mt_str_add(&b, "x = 1  # padding padding padding padding padding padding padding\n");
    }
    write_file("big/01-big.py", b.s, b.len);
    free(b.s);
}

static void
cleanup(void)
{
    char *cmd = mt_xasprintf("rm -rf '%s'", fx);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

/* ---- running the binary ---------------------------------------------- */

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

/* "{D}" in s becomes the fixture folder. */
static char *
expand(const char *s)
{
    mt_str b = {0};
    for (const char *p = s; *p;) {
        if (strncmp(p, "{D}", 3) == 0) {
            mt_str_add(&b, fx);
            p += 3;
        } else {
            mt_str_addc(&b, *p++);
        }
    }
    return mt_str_take(&b);
}

/* Run `env ENV $MT args` (or a whole shell line when args starts with '|' —
 * then $MT is in the environment) with stdout and stderr to files.
 * Returns the exit status, or 128 + the signal. */
static int
run(const char *env, const char *args, char **out, char **err, double *secs)
{
    const char *bin = getenv("MT_BIN");
    char *o = mt_xasprintf("%s/.out", fx), *e = mt_xasprintf("%s/.err", fx);
    char *a = expand(args);
    char *v = expand(env ? env : "");
    char *cmd = a[0] == '|'
        ? mt_xasprintf("MT=%s; %s %s 2>%s", bin ? bin : "build/ministry-tutor", a + 1, o, e)
        : mt_xasprintf("exec env %s %s %s >%s 2>%s </dev/null", v,
                       bin ? bin : "build/ministry-tutor", a, o, e);
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
    free(o);
    free(e);
    free(a);
    free(v);
    free(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int
count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) {
        n += *s == '\n';
    }
    return n;
}

/* ---- the bad inputs ---------------------------------------------------- */

static const struct bad {
    const char *env;
    const char *args;          /* {D}: the fixture folder */
    int status;                /* 2 usage, 1 runtime */
    const char *needle;        /* in the stderr line ({D} expanded) */
    double max_s;              /* refused within */
} bad[] = {
    /* --stage: out of range, not a number, missing its value. */
    {"", "--stage 0", 2, "from 1 to ", 10},
    {"", "--stage 99", 2, "from 1 to ", 10},
    {"", "--stage -1", 2, "not '-1'", 10},
    {"", "--stage x", 2, "from 1 to ", 10},
    {"", "--stage 1x", 2, "not '1x'", 10},
    {"", "--stage 2.5", 2, "from 1 to ", 10},
    {"", "--stage=", 2, "from 1 to ", 10},
    {"", "--stage 99999999999", 2, "from 1 to ", 10},
    {"", "--stage", 2, "--stage needs a value", 10},
    {"", "--plain --stage", 2, "--stage needs a value", 10},
    {"", "--stage 1 --step 0", 2, "--step must be from 1 to", 10},
    {"", "--stage 1 --step x", 2, "--step must be from 1 to", 10},
    {"", "--stage 1 --step 999", 2, "--step must be from 1 to", 10},
    {"", "--step 2", 2, "--step needs --stage", 10},
    /* Unknown options and stray words. */
    {"", "--bogus", 2, "unknown option '--bogus'", 10},
    {"", "-x", 2, "unknown option '-x'", 10},
    {"", "--STAGE 1", 2, "unknown option '--STAGE'", 10},
    {"", "foo", 2, "unknown option 'foo'", 10},
    {"", "--plain --stage 1 extra", 2, "unknown option 'extra'", 10},
    {"", "--list=1", 2, "--list takes no value", 10},
    {"", "--list --plain", 2, "choose one of", 10},
    {"", "--lessons", 2, "--lessons needs a value", 10},
    {"", "--plain --export", 2, "--export needs a value", 10},
    {"", "--run", 2, "--run needs a value", 10},
    /* --lessons: missing, empty, holding a non-lesson file, not a folder. */
    {"", "--lessons {D}/missing --list", 1, "--lessons {D}/missing: No such file", 10},
    {"", "--lessons {D}/empty --list", 1, "{D}/empty: no lessons", 10},
    {"", "--lessons {D}/stray --list", 1, "{D}/stray/notes.txt", 10},
    {"", "--lessons {D}/afile --list", 1, "{D}/afile: not a folder", 10},
    {"MINISTRY_LESSONS={D}/missing", "--list", 1, "MINISTRY_LESSONS={D}/missing", 10},
    {"", "--lessons {D}/link --list", 1, "{D}/link/01-gone.py", 10},
    /* Lessons the loader refuses, naming file, line and what. */
    {"", "--lessons {D}/layout --plain", 1,
     "{D}/layout/01-layout.py:5: unknown layout 'NoSuchLayout' in watch `id(2)`", 10},
    {"", "--lessons {D}/nul --plain", 1, "{D}/nul/01-nul.py:6: NUL byte", 0.5},
    {"", "--lessons {D}/big --plain", 1, "{D}/big/01-big.py:1: ", 0.5},
    /* --run: a missing file, a syntax error (file and line). */
    {"", "--run {D}/missing.py", 1, "{D}/missing.py", 10},
    {"", "--run {D}/broken.py", 1, "{D}/broken.py:1: SyntaxError", 10},
    {"", "--no-fold --run {D}/broken.py", 1, "{D}/broken.py:1: SyntaxError", 10},
    /* --export into a folder that cannot be made. */
    {"", "--export {D}/afile/sub --stage 1", 1, "{D}/afile/sub", 10},
};

START_TEST(test_bad_input)
{
    const struct bad *c = &bad[_i];
    fixtures();
    if (strstr(c->args, "{D}/big") != NULL) {
        big_fixture();
    }
    char *out, *err;
    double secs;
    int st = run(c->env, c->args, &out, &err, &secs);
    char *needle = expand(c->needle);
    char *what = mt_xasprintf("%s %s", c->env, c->args);
    ck_assert_msg(st == c->status, "%s: status %d, not %d\nstderr: %s", what, st, c->status,
                  err);
    ck_assert_msg(count_lines(err) == 1 && err[strlen(err) - 1] == '\n',
                  "%s: stderr is not one line:\n%s", what, err);
    ck_assert_msg(strncmp(err, "ministry-tutor: ", 16) == 0, "%s: stderr: %s", what, err);
    ck_assert_msg(strstr(err, needle) != NULL, "%s: '%s' not in: %s", what, needle, err);
    ck_assert_msg(strstr(err, "Traceback") == NULL && strstr(out, "Traceback") == NULL,
                  "%s: a Python traceback", what);
    ck_assert_msg(secs <= c->max_s, "%s: took %.3f s (limit %.1f s)", what, secs, c->max_s);
    if (c->status == 2) {
        ck_assert_msg(*out == '\0', "%s: usage error with output:\n%s", what, out);
    }
    free(what);
    free(needle);
    free(out);
    free(err);
    cleanup();
}
END_TEST

/* A Python syntax error in a step: the run stops there with status 1, the
 * report names the lesson file and the line, stderr the stage and step. */
START_TEST(test_syntax_error_in_step)
{
    fixtures();
    char *out, *err;
    double secs;
    ck_assert_int_eq(run("", "--lessons {D}/syntax --plain", &out, &err, &secs), 1);
    ck_assert_int_eq(count_lines(err), 1);
    ck_assert_ptr_nonnull(strstr(err, "stage 1 step 2 (Broken)"));
    /* stderr names the file and the line of the error itself. */
    char *where = expand("{D}/syntax/01-syntax.py:9: stage 1 step 2 (Broken): SyntaxError");
    ck_assert_msg(strstr(err, where) != NULL, "'%s' not in: %s", where, err);
    free(where);
    char *at = expand("File \"{D}/syntax/01-syntax.py\", line 9");
    ck_assert_msg(strstr(out, at) != NULL, "'%s' not in:\n%s", at, out);
    ck_assert_ptr_nonnull(strstr(out, "SyntaxError"));
    ck_assert_ptr_nonnull(strstr(out, "if x = 1:"));
    /* The step before it ran. */
    ck_assert_ptr_nonnull(strstr(out, "Step 1/2: Fine"));
    free(at);
    free(out);
    free(err);
    cleanup();
}
END_TEST

/* A watch expression that raises: file, line and the expression, with the
 * exception; status 1. */
START_TEST(test_watch_raises)
{
    fixtures();
    char *out, *err;
    double secs;
    ck_assert_int_eq(run("", "--lessons {D}/watch --plain", &out, &err, &secs), 1);
    ck_assert_int_eq(count_lines(err), 1);
    ck_assert_ptr_nonnull(strstr(err, "stage 1 step 1 (Watch raises)"));
    char *at = expand("{D}/watch/01-watch.py:5: watch `1 / 0`: ZeroDivisionError");
    ck_assert_msg(strstr(out, at) != NULL, "'%s' not in:\n%s", at, out);
    free(at);
    free(out);
    free(err);
    cleanup();
}
END_TEST

/* --export into a folder it may not write: refused with one line, and
 * nothing written. */
START_TEST(test_export_unwritable)
{
    fixtures();
    const char *target;
    char *ro = mt_xasprintf("%s/ro", fx);
    ck_assert_int_eq(mkdir(ro, 0555), 0);
    char *inside = mt_xasprintf("%s/ro/slides", fx);
    /* root ignores mode bits: then a folder of /proc, which nobody may
     * create files in. */
    target = geteuid() == 0 ? "/proc/1/mt-unwritable" : inside;
    char *args = mt_xasprintf("--export %s --stage 1", target);
    char *out, *err;
    double secs;
    ck_assert_int_eq(run("", args, &out, &err, &secs), 1);
    ck_assert_msg(count_lines(err) == 1, "stderr: %s", err);
    ck_assert_msg(strstr(err, target) != NULL, "'%s' not in %s", target, err);
    ck_assert_ptr_null(strstr(err, "Traceback"));
    struct stat sb;
    ck_assert_int_eq(stat(inside, &sb), -1);
    chmod(ro, 0755);
    free(args);
    free(inside);
    free(ro);
    free(out);
    free(err);
    cleanup();
}
END_TEST

/* ---- environments it copes with ------------------------------------------- */

static void
plain_stage1_ok(const char *env, const char *args, int ascii)
{
    fixtures();
    char *out, *err;
    double secs;
    int st = run(env, args, &out, &err, &secs);
    ck_assert_msg(st == 0, "%s %s: status %d\n%s", env, args, st, err);
    ck_assert_msg(strstr(out, "ob_refcnt") != NULL && strstr(out, "Step 1/") != NULL,
                  "%s %s: not the walkthrough:\n%.500s", env, args, out);
    ck_assert_msg(strchr(out, '\033') == NULL, "%s %s: escape codes in the output", env, args);
    ck_assert_msg(*err == '\0', "%s %s: stderr: %s", env, args, err);
    if (ascii) {
        for (const unsigned char *p = (const unsigned char *)out; *p; p++) {
            ck_assert_msg(*p < 0x80, "%s %s: a non-ASCII byte 0x%02x at %zu: %.40s", env,
                          args, *p, (size_t)(p - (const unsigned char *)out), (const char *)p);
        }
    }
    free(out);
    free(err);
    cleanup();
}

START_TEST(test_lang_c_is_ascii)
{
    plain_stage1_ok("env -u LANGUAGE LC_ALL=C LANG=C", "--plain --stage 1", 1);
    plain_stage1_ok("env -u LC_ALL LANG=C", "--plain --stage 1", 1);
}
END_TEST

START_TEST(test_term_dumb_no_color)
{
    /* Not a terminal (a file) and TERM=dumb: the plain text, no escapes. */
    plain_stage1_ok("TERM=dumb", "--stage 1", 0);
    plain_stage1_ok("NO_COLOR=1", "--stage 1", 0);
    plain_stage1_ok("NO_COLOR=1 TERM=xterm-256color", "--plain --stage 1", 0);
    plain_stage1_ok("env -u TERM", "--stage 1", 0);
}
END_TEST

/* A real terminal with TERM=dumb: still the plain text, no escapes. */
START_TEST(test_term_dumb_on_a_terminal)
{
    if (access("/usr/bin/script", X_OK) != 0) {
        return;     /* util-linux's script gives the pty; the TUI e2e suite covers it too */
    }
    plain_stage1_ok("", "|TERM=dumb script -qefc \"$MT --stage 1\" /dev/null </dev/null >", 0);
}
END_TEST

/* Output to a pipe: the plain text, status 0.  A pipe closed early ends
 * the run (as it ends any filter: SIGPIPE) with no traceback and no worker
 * left behind. */
START_TEST(test_pipe)
{
    fixtures();
    char *out, *err;
    double secs;
    int st = run("", "|{ $MT --stage 1 2>{D}/mt.err; echo $? >{D}/mt.status; } | cat >", &out,
                 &err, &secs);
    ck_assert_int_eq(st, 0);
    ck_assert_msg(strstr(out, "ob_refcnt") != NULL, "not the walkthrough:\n%.300s", out);
    ck_assert_ptr_null(strchr(out, '\033'));
    free(out);
    free(err);
    char *p = expand("{D}/mt.status");
    out = slurp(p);
    ck_assert_str_eq(out, "0\n");
    free(out);
    free(p);
    p = expand("{D}/mt.err");
    out = slurp(p);
    ck_assert_str_eq(out, "");
    free(out);
    free(p);

    st = run("", "|$MT --lessons {D}/real --plain | head -n 1 >", &out, &err, &secs);
    ck_assert_int_eq(st, 0);
    ck_assert_int_eq(count_lines(out), 1);
    ck_assert_ptr_null(strstr(err, "Traceback"));
    /* The worker is forked, not exec'ed: it carries the same command line,
     * with the fixture folder in it. */
    usleep(300 * 1000);
    DIR *d = opendir("/proc");
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') {
            continue;
        }
        char *path = mt_xasprintf("/proc/%s/cmdline", e->d_name);
        char *cl = NULL;
        size_t n = 0;
        if (mt_read_file(path, 1 << 16, &cl, &n) == 0) {
            for (size_t i = 0; i + 1 < n; i++) {
                cl[i] = cl[i] ? cl[i] : ' ';
            }
            ck_assert_msg(strstr(cl, fx) == NULL || strstr(cl, "ministry-tutor") == NULL,
                          "process %s is left behind: %s", e->d_name, cl);
        }
        free(cl);
        free(path);
    }
    closedir(d);
    free(out);
    free(err);
    cleanup();
}
END_TEST

Suite *
mt_badinput_suite(void)
{
    Suite *s = suite_create("badinput");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_bad_input, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, test_syntax_error_in_step);
    tcase_add_test(tc, test_watch_raises);
    tcase_add_test(tc, test_export_unwritable);
    suite_add_tcase(s, tc);
    TCase *env = tcase_create("environment");
    tcase_set_timeout(env, 60);
    tcase_add_test(env, test_lang_c_is_ascii);
    tcase_add_test(env, test_term_dumb_no_color);
    tcase_add_test(env, test_term_dumb_on_a_terminal);
    tcase_add_test(env, test_pipe);
    suite_add_tcase(s, env);
    return s;
}
