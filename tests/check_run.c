/* check_run.c — `--run FILE [ARGS…]` end to end on $MT_BIN: the talk-style
 * test module with and without the optimiser, exit status, sys.argv,
 * tracebacks, bad files, and a clean interpreter after ministry's context
 * managers.  Scripts live in $MT_SRCDIR/tests/talk. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

typedef struct {
    int status;        /* exit status, or 128 + signal */
    char *out, *err;   /* malloc'ed */
} run_result;

static char *
slurp(FILE *f)
{
    mt_str b = {0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        mt_str_addn(&b, buf, n);
    }
    return mt_str_take(&b);
}

/* Run `$MT args` through the shell with $T set to the talk scripts'
 * folder; stdout and stderr are kept apart. */
static run_result
run(const char *args)
{
    const char *bin = getenv("MT_BIN");
    const char *src = getenv("MT_SRCDIR");
    char errpath[] = "/tmp/mt-run-err-XXXXXX";
    int fd = mkstemp(errpath);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char *cmd = mt_xasprintf("MT='%s'; T='%s/tests/talk'; %s 2>'%s'",
                             bin ? bin : "build/ministry-tutor", src ? src : ".", args,
                             errpath);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    run_result r;
    r.out = slurp(p);
    int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    FILE *e = fopen(errpath, "r");
    ck_assert_ptr_nonnull(e);
    r.err = slurp(e);
    fclose(e);
    unlink(errpath);
    free(cmd);
    return r;
}

static void
run_free(run_result *r)
{
    free(r->out);
    free(r->err);
}

static void
has(const char *what, const char *text, const char *want)
{
    ck_assert_msg(strstr(text, want) != NULL, "expected \"%s\" in %s:\n%s", want, what, text);
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

/* Without --no-fold the inline 2 + 2 of the module is folded to 4 when the
 * file is compiled, before the patch: the second assertion fails. */
START_TEST(test_doublespeak_folded_fails)
{
    run_result r = run("\"$MT\" --run \"$T/test_doublespeak.py\"");
    ck_assert_int_eq(r.status, 1);
    has("stderr", r.err, "Traceback (most recent call last):");
    has("stderr", r.err, "test_doublespeak.py\", line");
    has("stderr", r.err, "AssertionError: the inline 2 + 2 gave 4");
    ck_assert_msg(strstr(r.out, "passed") == NULL, "stdout: %s", r.out);
    run_free(&r);
}
END_TEST

START_TEST(test_doublespeak_nofold_passes)
{
    run_result r = run("\"$MT\" --no-fold --run \"$T/test_doublespeak.py\"");
    ck_assert_msg(r.status == 0, "status %d, stderr:\n%s", r.status, r.err);
    ck_assert_str_eq(r.out, "test_doublespeak: passed\n");
    run_free(&r);
}
END_TEST

START_TEST(test_doublespeak_env_passes)
{
    run_result r = run("DOUBLEPLUSNOPYTHONOPT=1 \"$MT\" --run \"$T/test_doublespeak.py\"");
    ck_assert_msg(r.status == 0, "status %d, stderr:\n%s", r.status, r.err);
    ck_assert_str_eq(r.out, "test_doublespeak: passed\n");
    run_free(&r);
    /* DOUBLEPLUSNOPYTHONOPT=0 leaves the optimiser on. */
    r = run("DOUBLEPLUSNOPYTHONOPT=0 \"$MT\" --run \"$T/test_doublespeak.py\"");
    ck_assert_int_eq(r.status, 1);
    run_free(&r);
}
END_TEST

/* The script's own status, and sys.argv as given. */
START_TEST(test_exit_status_and_argv)
{
    run_result r = run("cd \"$T\" && \"$MT\" --run exit_status.py 3 'two words' --no-fold");
    ck_assert_int_eq(r.status, 3);
    ck_assert_str_eq(r.out, "['exit_status.py', '3', 'two words', '--no-fold']\n");
    ck_assert_str_eq(r.err, "");
    run_free(&r);
    r = run("cd \"$T\" && \"$MT\" --run exit_status.py 0");
    ck_assert_int_eq(r.status, 0);
    run_free(&r);
}
END_TEST

START_TEST(test_uncaught_exception)
{
    run_result r = run("\"$MT\" --run \"$T/uncaught.py\"");
    ck_assert_int_eq(r.status, 1);
    has("stderr", r.err, "Traceback (most recent call last):");
    /* The traceback starts in the script: no frame of the host. */
    ck_assert_ptr_null(strstr(r.err, "<ministry-host>"));
    has("stderr", r.err, "uncaught.py\", line 6, in fail");
    has("stderr", r.err, "ValueError: an uncaught exception from the script");
    run_free(&r);
}
END_TEST

START_TEST(test_missing_file)
{
    run_result r = run("\"$MT\" --run /nonexistent/mt-no-such-script.py");
    ck_assert_int_eq(r.status, 1);
    ck_assert_int_eq(count_lines(r.err), 1);
    has("stderr", r.err, "/nonexistent/mt-no-such-script.py");
    ck_assert_msg(strstr(r.err, "Traceback") == NULL, "stderr: %s", r.err);
    run_free(&r);
}
END_TEST

START_TEST(test_syntax_error)
{
    char dir[] = "/tmp/mt-run-syntax-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = mt_xasprintf("%s/broken.py", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("x = 1\ndef f(:\n    pass\n", f);
    fclose(f);
    char *args = mt_xasprintf("\"$MT\" --run '%s'", path);
    run_result r = run(args);
    ck_assert_int_eq(r.status, 1);
    /* One line naming the file and line, no traceback. */
    has("stderr", r.err, "broken.py:2: SyntaxError");
    ck_assert_int_eq(count_lines(r.err), 1);
    ck_assert_ptr_null(strstr(r.err, "Traceback"));
    run_free(&r);
    free(args);
    unlink(path);
    free(path);
    rmdir(dir);
}
END_TEST

/* From inside the script: code bytes, page permissions, number slots,
 * int.__dict__, small-int types and W+X mappings after the context
 * managers equal what they were before.  The offsets come from the
 * headers this test is compiled against. */
START_TEST(test_pristine_after_context_managers)
{
    char *args = mt_xasprintf("\"$MT\" --run \"$T/pristine_after.py\" %zu %zu",
                              offsetof(PyTypeObject, tp_as_number),
                              sizeof(PyNumberMethods));
    run_result r = run(args);
    ck_assert_msg(r.status == 0, "status %d, stderr:\n%s", r.status, r.err);
    has("stdout", r.out, "as before: _PyAST_Optimize code, _PyAST_Optimize page");
    run_free(&r);
    free(args);
}
END_TEST

Suite *
mt_run_suite(void)
{
    Suite *s = suite_create("run");
    TCase *tc = tcase_create("run");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_doublespeak_folded_fails);
    tcase_add_test(tc, test_doublespeak_nofold_passes);
    tcase_add_test(tc, test_doublespeak_env_passes);
    tcase_add_test(tc, test_exit_status_and_argv);
    tcase_add_test(tc, test_uncaught_exception);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_syntax_error);
    tcase_add_test(tc, test_pristine_after_context_managers);
    suite_add_tcase(s, tc);
    return s;
}
