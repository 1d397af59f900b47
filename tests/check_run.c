/* check_run.c — `--run FILE [ARGS…]` and `-m MODULE [ARGS…]` end to end on
 * $MT_BIN: the talk's own test module under unittest and a talk-style
 * script, with and without the optimiser, exit status, sys.argv and
 * sys.path as python3 sets them, tracebacks, bad files and modules,
 * isolation and --site, a safe and clean interpreter after ministry's
 * context managers.  Scripts live in $MT_SRCDIR/tests/talk. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "pyver.h"

#include <check.h>
#include <stdarg.h>
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

/* run() of a command formatted as printf does. */
__attribute__((format(printf, 1, 2))) static run_result
runf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = mt_xvasprintf(fmt, ap);
    va_end(ap);
    run_result r = run(cmd);
    free(cmd);
    return r;
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
    has("stdout", r.out, "as before: " MT_T_FOLDER " code, " MT_T_FOLDER " page");
    run_free(&r);
    free(args);
}
END_TEST

/* An empty folder holding only the talk's test module, copied verbatim
 * from tests/talk/upstream; $D names it in the commands.  Malloc'ed. */
static char *
talk_folder(void)
{
    char *dir = mt_xstrdup("/tmp/mt-run-talk-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    run_result r = runf("cp \"$T/upstream/test_two_plus_two.py\" '%s/'", dir);
    ck_assert_int_eq(r.status, 0);
    run_free(&r);
    return dir;
}

static void
talk_folder_free(char *dir)
{
    char *cmd = mt_xasprintf("rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(dir);
}

/* The talk's test module, unmodified, under `-m unittest`: with
 * DOUBLEPLUSNOPYTHONOPT=1 (or --no-fold) both tests pass; without it the
 * inline 2 + 2 was folded to 4 when the module was compiled. */
START_TEST(test_talk_module_unittest)
{
    char *dir = talk_folder();
    run_result r = runf("cd '%s' && DOUBLEPLUSNOPYTHONOPT=1 \"$MT\" "
                        "-m unittest -v test_two_plus_two", dir);
    ck_assert_msg(r.status == 0, "status %d, stderr:\n%s", r.status, r.err);
    has("stderr", r.err, "test_twoplustwo_eval (test_two_plus_two.TwoPlusTwoTestCase");
    has("stderr", r.err, ") ... ok\ntest_twoplustwo_inline (test_two_plus_two.");
    has("stderr", r.err, "\nRan 2 tests in ");
    has("stderr", r.err, "\n\nOK\n");
    run_free(&r);

    r = runf("cd '%s' && \"$MT\" --no-fold -m unittest discover", dir);
    ck_assert_msg(r.status == 0, "status %d, stderr:\n%s", r.status, r.err);
    has("stderr", r.err, "\nRan 2 tests in ");
    run_free(&r);

    r = runf("cd '%s' && \"$MT\" -m unittest -v test_two_plus_two", dir);
    ck_assert_int_eq(r.status, 1);
    has("stderr", r.err, "test_twoplustwo_eval (test_two_plus_two.TwoPlusTwoTestCase."
                         "test_twoplustwo_eval) ... ok");
    has("stderr", r.err, "FAIL: test_twoplustwo_inline");
    has("stderr", r.err, "AssertionError: 4 != 5");
    has("stderr", r.err, "FAILED (failures=1)");
    run_free(&r);
    talk_folder_free(dir);
}
END_TEST

/* The module's own status and argv; the current folder first on sys.path. */
START_TEST(test_module_status_and_argv)
{
    run_result r = run("cd \"$T\" && \"$MT\" -m exit_status 3 'two words' -m x");
    ck_assert_int_eq(r.status, 3);
    char *want = mt_xasprintf("['%s/tests/talk/exit_status.py', '3', 'two words', '-m', "
                              "'x']\n", getenv("MT_SRCDIR") ? getenv("MT_SRCDIR") : ".");
    ck_assert_str_eq(r.out, want);
    free(want);
    ck_assert_str_eq(r.err, "");
    run_free(&r);
    r = run("cd \"$T\" && \"$MT\" -m uses_helper");
    ck_assert_msg(r.status == 0, "status %d, stderr:\n%s", r.status, r.err);
    ck_assert_str_eq(r.out, "2 + 2 = 5 True\n");
    run_free(&r);
}
END_TEST

/* A module nowhere on the path: Python's message, one line, status 1. */
START_TEST(test_module_missing)
{
    run_result r = run("cd / && \"$MT\" -m mt_no_such_module");
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.err, "ministry-tutor: No module named mt_no_such_module\n");
    ck_assert_str_eq(r.out, "");
    run_free(&r);
    /* Isolation: PYTHONPATH is not read, nor is the folder of the tool. */
    r = run("cd / && PYTHONPATH=\"$T\" \"$MT\" -m exit_status 0");
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.err, "ministry-tutor: No module named exit_status\n");
    run_free(&r);
}
END_TEST

/* --run puts the script's folder first on sys.path, wherever it is run
 * from. */
START_TEST(test_run_imports_beside)
{
    run_result r = run("cd / && \"$MT\" --run \"$T/uses_helper.py\"");
    ck_assert_msg(r.status == 0, "status %d, stderr:\n%s", r.status, r.err);
    ck_assert_str_eq(r.out, "2 + 2 = 5 True\n");
    run_free(&r);
}
END_TEST

/* The system's site-packages only with --site (python3-jsonschema, a test
 * dependency, lives there). */
START_TEST(test_site)
{
    const char *probe = "import sys\n"
                        "try:\n"
                        "    import jsonschema\n"
                        "except ImportError:\n"
                        "    print('no jsonschema', sys.flags.no_site)\n"
                        "else:\n"
                        "    print('jsonschema', sys.flags.no_site)\n";
    char dir[] = "/tmp/mt-run-site-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = mt_xasprintf("%s/probe_site.py", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(probe, f);
    fclose(f);
    run_result r = runf("\"$MT\" --run '%s'", path);
    ck_assert_msg(r.status == 0, "status %d, stderr:\n%s", r.status, r.err);
    ck_assert_str_eq(r.out, "no jsonschema 1\n");
    run_free(&r);
    r = runf("cd '%s' && \"$MT\" --site -m probe_site", dir);
    ck_assert_msg(r.status == 0, "status %d, stderr:\n%s", r.status, r.err);
    /* As this version's own python3.X finds it: jsonschema's compiled
     * parts may be built for the release's default python3 only. */
    run_result py = runf("'%s' -c 'import jsonschema'", MT_PY_PROGRAM);
    ck_assert_str_eq(r.out, py.status == 0 ? "jsonschema 0\n" : "no jsonschema 0\n");
    run_free(&py);
    run_free(&r);
    unlink(path);
    free(path);
    rmdir(dir);
}
END_TEST

/* The swapped 2 keeps int's layout: size, untracked, 1,000 collections
 * with 2 in lists, and everything as before afterwards. */
START_TEST(test_safe_two)
{
    run_result r = run("\"$MT\" --run \"$T/safe_two.py\"");
    ck_assert_msg(r.status == 0, "status %d, stderr:\n%s", r.status, r.err);
    has("stdout", r.out, "safe: getsizeof(2) == getsizeof(3), untracked, 1000 collections, "
                         "then as before");
    run_free(&r);
}
END_TEST

/* DOUBLEPLUSNOPYTHONOPT=1 holds the optimiser off from start-up while -m
 * runs, and it is back before the atexit handlers run. */
START_TEST(test_module_nofold_until_exit)
{
    run_result r = run("cd \"$T\" && DOUBLEPLUSNOPYTHONOPT=1 \"$MT\" -m folding_at_exit");
    ck_assert_msg(r.status == 0, "status %d, stderr:\n%s", r.status, r.err);
    ck_assert_str_eq(r.out, "running: folding off True\nat exit: folding off False\n");
    run_free(&r);
    r = run("cd \"$T\" && \"$MT\" -m folding_at_exit");
    ck_assert_str_eq(r.out, "running: folding off False\nat exit: folding off False\n");
    run_free(&r);
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
    tcase_add_test(tc, test_talk_module_unittest);
    tcase_add_test(tc, test_module_status_and_argv);
    tcase_add_test(tc, test_module_missing);
    tcase_add_test(tc, test_run_imports_beside);
    tcase_add_test(tc, test_site);
    tcase_add_test(tc, test_safe_two);
    tcase_add_test(tc, test_module_nofold_until_exit);
    suite_add_tcase(s, tc);
    return s;
}
