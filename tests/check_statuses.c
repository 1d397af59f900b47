/* check_statuses.c — the exit status and the one line for inputs that once
 * got the wrong one: a FIFO among the lessons, a time limit past a day,
 * output that cannot be written, an empty --export, an option given twice,
 * peek's error naming its address. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static char *
make_tmp(void)
{
    char tmpl[] = "/tmp/mt-status-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    return mt_xstrdup(tmpl);
}

static char *
slurp(const char *path)
{
    char *s = NULL;
    size_t n;
    if (mt_read_file(path, (size_t)16 << 20, &s, &n) < 0) {
        return mt_xstrdup("");
    }
    return s;
}

static void
put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* sh -c "$MT <args> <redirections>" in dir (stderr to dir/err unless the
 * redirections say otherwise); the status, stderr in *err, wall time in
 * *secs. */
static int
sh(const char *dir, const char *args, char **err, double *secs)
{
    const char *bin = getenv("MT_BIN");
    char *cmd = mt_xasprintf("cd %s && timeout -s KILL 30 %s %s 2>err", dir,
                             bin ? bin : "build/ministry-tutor", args);
    double t0 = mt_now();
    int st = system(cmd);
    if (secs != NULL) {
        *secs = mt_now() - t0;
    }
    free(cmd);
    char *p = mt_xasprintf("%s/err", dir);
    *err = slurp(p);
    free(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
rm_rf(const char *dir)
{
    char *cmd = mt_xasprintf("rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

static void
expect_in(const char *hay, const char *needle)
{
    ck_assert_msg(strstr(hay, needle) != NULL, "'%s' not in:\n%s", needle, hay);
}

/* A FIFO named like a lesson: refused at once, even by --list. */
START_TEST(test_fifo_lesson_refused)
{
    char *dir = make_tmp();
    char *les = mt_xasprintf("%s/lessons", dir);
    ck_assert_int_eq(mkdir(les, 0777), 0);
    char *p = mt_xasprintf("%s/01-ok.py", les);
    put_file(p, "# ---\n# title: OK\n# ---\n# %% s\nx = 1\n");
    free(p);
    p = mt_xasprintf("%s/02-x.py", les);
    ck_assert_int_eq(mkfifo(p, 0666), 0);
    free(p);
    char *err;
    double secs;
    int rc = sh(dir, "--list --lessons lessons >/dev/null", &err, &secs);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(secs < 2, "took %g s", secs);
    expect_in(err, "02-x.py:1: not a regular file");
    free(err);
    free(les);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* timeout= past a day (1e300, 1e308) is refused with the range, as 0 is. */
START_TEST(test_timeout_range)
{
    static const char *const values[] = {"1e300", "1e308", "86401", "0", "-1"};
    char *dir = make_tmp();
    char *les = mt_xasprintf("%s/lessons", dir);
    ck_assert_int_eq(mkdir(les, 0777), 0);
    char *p = mt_xasprintf("%s/01-t.py", les);
    char *text = mt_xasprintf("# ---\n# title: T\n# ---\n# %%%% s timeout=%s\nx = 1\n",
                              values[_i]);
    put_file(p, text);
    char *err;
    int rc = sh(dir, "--list --lessons lessons >/dev/null", &err, NULL);
    ck_assert_int_eq(rc, 1);
    expect_in(err, "01-t.py:4: timeout= must be a number of seconds above 0 and at most 86400");
    free(err);
    free(text);
    free(p);
    free(les);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* Output that cannot be written: status 1 and a line that says so. */
START_TEST(test_unwritable_stdout)
{
    static const char *const cases[] = {
        "--help >/dev/full", "--help >&-", "--list >/dev/full", "--plain --stage 1 >/dev/full",
        "--version >/dev/full",
    };
    char *dir = make_tmp();
    char *err;
    int rc = sh(dir, cases[_i], &err, NULL);
    ck_assert_msg(rc == 1, "%s: status %d", cases[_i], rc);
    expect_in(err, "ministry-tutor: cannot write to standard output: ");
    free(err);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* Usage errors: status 2, one line. */
START_TEST(test_usage_statuses)
{
    static const struct {
        const char *args;
        const char *says;
    } cases[] = {
        {"--export ''", "--export needs a folder name"},
        {"--export x --format txt --format svg", "--format given twice ('txt', then 'svg')"},
        {"--lessons a --lessons b --list", "--lessons given twice ('a', then 'b')"},
        {"--export x --theme dark --theme light", "--theme given twice"},
    };
    char *dir = make_tmp();
    char *err;
    char *args = mt_xasprintf("%s >out", cases[_i].args);
    int rc = sh(dir, args, &err, NULL);
    ck_assert_msg(rc == 2, "%s: status %d (%s)", cases[_i].args, rc, err);
    expect_in(err, cases[_i].says);
    ck_assert_int_eq((int)strlen(err), (int)strcspn(err, "\n") + 1);
    free(args);
    free(err);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* peek of an unreadable address names it in hex, not as a format. */
START_TEST(test_peek_error_names_address)
{
    char *dir = make_tmp();
    char *p = mt_xasprintf("%s/peek.py", dir);
    put_file(p, "import ministry\nministry.peek(8, 4)\n");
    char *err;
    int rc = sh(dir, "--run peek.py >/dev/null", &err, NULL);
    ck_assert_int_eq(rc, 1);
    expect_in(err, "OSError: peek: 4 bytes at 0x8 are not all readable");
    free(err);
    free(p);
    rm_rf(dir);
    free(dir);
}
END_TEST

Suite *
mt_statuses_suite(void)
{
    Suite *s = suite_create("statuses");
    TCase *tc = tcase_create("statuses");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_fifo_lesson_refused);
    tcase_add_loop_test(tc, test_timeout_range, 0, 5);
    tcase_add_loop_test(tc, test_unwritable_stdout, 0, 5);
    tcase_add_loop_test(tc, test_usage_statuses, 0, 4);
    tcase_add_test(tc, test_peek_error_names_address);
    suite_add_tcase(s, tc);
    return s;
}
