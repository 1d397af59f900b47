/* check_cli.c — the built binary end to end: --help, --version, --list,
 * --plain --stage 1, and the usage errors of the CLI contract. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "util.h"

/* Run a shell command line; *out gets stdout+stderr as asked, returns the
 * exit status (or 128+signal). */
static int
run(const char *cmd, char **out)
{
    const char *bin = getenv("MT_BIN");
    char *full = mt_xasprintf("MT=%s; %s", bin ? bin : "build/ministry-tutor", cmd);
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
    *out = mt_str_take(&b);
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

START_TEST(test_help_version)
{
    char *out;
    ck_assert_int_eq(run("$MT --help", &out), 0);
    /* --help names every mode of the CLI contract. */
    const char *opts[] = {"--stage", "--step", "--list", "--plain", "--export",
                          "--format", "--run", "--no-fold", "--doctor", "--lessons",
                          "--help", "--version"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        ck_assert_msg(strstr(out, opts[i]) != NULL, "--help does not mention %s", opts[i]);
    }
    free(out);
    ck_assert_int_eq(run("$MT --version", &out), 0);
    ck_assert_msg(strncmp(out, "ministry-tutor ", 15) == 0 && out[15] >= '0' && out[15] <= '9',
                  "--version printed: %s", out);
    free(out);
}
END_TEST

START_TEST(test_list)
{
    char *out;
    ck_assert_int_eq(run("$MT --list", &out), 0);
    ck_assert_msg(strncmp(out, "1  refcount", 11) == 0, "--list: %s", out);
    /* One line per lesson file in the source tree's lessons/. */
    char *n;
    run("ls \"$MT_SRCDIR\"/lessons/[0-9][0-9]-*.py | wc -l", &n);
    ck_assert_int_eq(count_lines(out), atoi(n));
    free(n);
    free(out);
}
END_TEST

START_TEST(test_plain_stage1)
{
    char *out;
    ck_assert_int_eq(run("$MT --plain --stage 1 2>&1", &out), 0);
    const char *want[] = {"ob_refcnt", "ob_type", "→ int", "ob_size", "ob_digit[0]",
                          "PyLongObject", "^^", "* was", "[pristine]"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        ck_assert_msg(strstr(out, want[i]) != NULL, "--plain --stage 1 lacks '%s'", want[i]);
    }
    /* Live values: the digit of 2 and a refcount near a billion, read from
     * memory, not typed: "ob_digit[0]  2" and "ob_refcnt    100000…". */
    const char *d = strstr(out, "ob_digit[0]");
    ck_assert_ptr_nonnull(d);
    d += strlen("ob_digit[0]");
    while (*d == ' ') {
        d++;
    }
    ck_assert_msg(d[0] == '2' && d[1] == '\n', "ob_digit[0] shows: %.20s", d);
    const char *r = strstr(out, "ob_refcnt    ");
    ck_assert_ptr_nonnull(r);
    long rc = strtol(r + strlen("ob_refcnt"), NULL, 10);
    ck_assert_msg(rc > 900000000L && rc < 1100000000L, "ob_refcnt %ld", rc);
    ck_assert_msg(strstr(out, "\033[") == NULL, "escape codes in --plain");
    free(out);
}
END_TEST

START_TEST(test_plain_step)
{
    char *out;
    ck_assert_int_eq(run("$MT --plain --stage 1 --step 3 2>&1", &out), 0);
    ck_assert_ptr_nonnull(strstr(out, "Step 3/"));
    ck_assert_ptr_null(strstr(out, "Step 1/"));
    ck_assert_ptr_nonnull(strstr(out, "(+1000)"));
    free(out);
}
END_TEST

/* Without debug symbols every stage still runs: 1-6 as normal, 7
 * SIMULATED, and the install command is named. */
START_TEST(test_walkthrough_without_debug_symbols)
{
    char *out;
    int rc = run("d=$(mktemp -d) && MINISTRY_DEBUG_DIR=$d $MT --plain 2>&1; s=$?; "
                 "rm -rf $d; exit $s", &out);
    ck_assert_msg(rc == 0, "status %d", rc);
    ck_assert_ptr_nonnull(strstr(out, "SIMULATED"));
    ck_assert_ptr_nonnull(strstr(out, "apt-get install python3.11-dbg"));
    ck_assert_ptr_null(strstr(out, "RESTORED"));
    free(out);
}
END_TEST

/* Ctrl-C in --plain: what was printed stays, one line says where it
 * stopped, status 130, and no worker is left behind. */
START_TEST(test_plain_interrupted)
{
    char *out;
    int rc = run("d=$(mktemp -d); $MT --lessons \"$MT_SRCDIR\"/tests/lessons/slow --plain "
                 ">$d/out 2>$d/err & p=$!; sleep 1.5; kill -INT $p; wait $p; s=$?; "
                 "echo status=$s; cat $d/out $d/err; rm -rf $d; "
                 "sleep 0.2; pgrep -f \"^$MT --lessons\" >/dev/null && echo LEFTOVER; "
                 "exit 0", &out);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(strstr(out, "status=130") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "quick one") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "ministry-tutor: interrupted in stage 1, step 2 (Slow)") != NULL,
                  "%s", out);
    ck_assert_msg(strstr(out, "LEFTOVER") == NULL, "a process was left behind:\n%s", out);
    free(out);
}
END_TEST

/* A locale that is not UTF-8 gets ASCII glyphs. */
START_TEST(test_ascii_locale)
{
    char *out;
    ck_assert_int_eq(run("LANG=C LC_ALL=C $MT --plain --stage 1 2>&1", &out), 0);
    ck_assert_ptr_nonnull(strstr(out, "ob_type"));
    ck_assert_ptr_nonnull(strstr(out, " -> int"));
    ck_assert_ptr_null(strstr(out, "→ int"));
    ck_assert_msg(strncmp(out, "== Stage 1/", 11) == 0, "%.40s", out);
    free(out);
}
END_TEST

/* The user's PYTHON* variables and site-packages change nothing: a
 * PYTHONPATH holding a booby-trapped ctypes.py is not seen. */
START_TEST(test_isolated_from_environment)
{
    char *out;
    int rc = run("d=$(mktemp -d) && echo 'raise SystemExit(\"trap\")' > $d/ctypes.py && "
                 "PYTHONPATH=$d PYTHONHOME=/nonexistent PYTHONSTARTUP=$d/ctypes.py "
                 "PYTHONNOUSERSITE= $MT --plain --stage 1 2>&1; s=$?; rm -rf $d; exit $s",
                 &out);
    ck_assert_msg(rc == 0, "status %d: %s", rc, out);
    ck_assert_ptr_null(strstr(out, "trap"));
    ck_assert_ptr_nonnull(strstr(out, "is int: True"));
    free(out);
}
END_TEST

/* make install puts the binary, lessons and man page under DESTDIR/PREFIX,
 * and the installed binary finds its lessons in the share folder. */
START_TEST(test_install)
{
    char *out;
    int rc = run("d=$(mktemp -d) && cd \"$MT_SRCDIR\" && "
                 "make -s install PREFIX=/opt/mt DESTDIR=$d >/dev/null && "
                 "test -f $d/opt/mt/share/man/man1/ministry-tutor.1 && "
                 "cd / && env -u MINISTRY_LESSONS $d/opt/mt/bin/ministry-tutor --list; "
                 "s=$?; rm -rf $d; exit $s", &out);
    ck_assert_msg(rc == 0, "status %d: %s", rc, out);
    ck_assert_msg(strncmp(out, "1  refcount", 11) == 0, "%s", out);
    free(out);
}
END_TEST

/* Usage errors: status 2, exactly one line on stderr, nothing on stdout. */
static void
usage_error(const char *args, const char *needle)
{
    char *out, *err;
    char *cmd = mt_xasprintf("$MT %s 2>/dev/null", args);
    ck_assert_int_eq(run(cmd, &out), 2);
    ck_assert_str_eq(out, "");
    free(cmd);
    cmd = mt_xasprintf("$MT %s 2>&1 >/dev/null", args);
    ck_assert_int_eq(run(cmd, &err), 2);
    ck_assert_msg(count_lines(err) == 1, "%s: stderr is not one line: %s", args, err);
    ck_assert_msg(strstr(err, needle) != NULL, "%s: '%s' not in: %s", args, needle, err);
    ck_assert_msg(strstr(err, "Traceback") == NULL, "%s: a traceback", args);
    free(cmd);
    free(out);
    free(err);
}

START_TEST(test_usage_errors)
{
    usage_error("--stage 0", "from 1 to ");
    usage_error("--stage x", "from 1 to ");
    usage_error("--stage 99", "from 1 to ");
    usage_error("--stage", "needs a value");
    usage_error("--bogus", "unknown option '--bogus'");
    usage_error("-x", "unknown option");
    usage_error("--stage 1 --step 0", "--step must be from 1 to");
    usage_error("--list --plain", "choose one of");
    usage_error("--format txt", "go with --export");
    usage_error("--list=3", "takes no value");
    usage_error("--stage 1 --stage 2", "--stage given twice");
    usage_error("-m", "-m needs a value (MODULE)");
    usage_error("--site --list", "--site goes before --run FILE or -m MODULE");
    usage_error("--no-fold --plain", "--no-fold goes before --run FILE or -m MODULE");
    usage_error("--list -m unittest", "choose one of");
    char *out;
    ck_assert_int_eq(run("MINISTRY_STEP_TIMEOUT=abc $MT --list 2>&1", &out), 2);
    ck_assert_ptr_nonnull(strstr(out, "MINISTRY_STEP_TIMEOUT must be seconds"));
    free(out);
    ck_assert_int_eq(run("$MT --help >/dev/full 2>/dev/null", &out), 1);
    free(out);
}
END_TEST

Suite *
mt_cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("binary");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_help_version);
    tcase_add_test(tc, test_list);
    tcase_add_test(tc, test_plain_stage1);
    tcase_add_test(tc, test_plain_step);
    tcase_add_test(tc, test_usage_errors);
    tcase_add_test(tc, test_isolated_from_environment);
    tcase_add_test(tc, test_ascii_locale);
    tcase_add_test(tc, test_walkthrough_without_debug_symbols);
    tcase_add_test(tc, test_plain_interrupted);
    tcase_add_test(tc, test_install);
    suite_add_tcase(s, tc);
    return s;
}
