/* check_cli.c — the built binary end to end: --help, --version, --list,
 * --plain --stage 1, and the usage errors of the CLI contract. */
#include "pyver.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
    /* One line per lesson file in the source tree's lessons/, then a
     * blank line and one line per interpreter there is a worker for. */
    char *n;
    run("ls \"$MT_SRCDIR\"/lessons/[0-9][0-9]-*.py | wc -l", &n);
    char *blank = strstr(out, "\n\n");
    ck_assert_ptr_nonnull(blank);
    blank[1] = '\0';
    ck_assert_int_eq(count_lines(out), atoi(n));
    free(n);
    /* This run's CPython (make check sets MINISTRY_PYTHON) is named, with
     * its worker, and marked. */
    const char *want = getenv("MINISTRY_PYTHON");
    if (want != NULL) {
        char *line = mt_xasprintf("python %-5s ", want);
        const char *at = strstr(blank + 2, line);
        ck_assert_msg(at != NULL, "no '%s' in: %s", line, blank + 2);
        const char *eol = strchr(at, '\n');
        ck_assert_msg(strstr(at, "ministry-worker-") != NULL && eol != NULL
                          && memmem(at, (size_t)(eol - at), "(this run's)", 12) != NULL,
                      "%s", at);
        free(line);
    }
    free(out);
}
END_TEST

/* The frontend starts light: no libpython (a worker per CPython has it)
 * and no librsvg or cairo (opened for the first PNG only), which with their
 * forty libraries made every --list and --version ~6 ms slower.  The
 * dynamic loader names each library it loads. */
START_TEST(test_frontend_loads_no_heavy_libraries)
{
    char *out;
    ck_assert_int_eq(run("LD_DEBUG=libs $MT --list 2>&1 >/dev/null", &out), 0);
    ck_assert_msg(strstr(out, "find library=libc.so") != NULL, "no LD_DEBUG output: %s", out);
    const char *heavy[] = {"libpython", "librsvg", "libcairo", "libglib"};
    for (size_t i = 0; i < sizeof heavy / sizeof heavy[0]; i++) {
        ck_assert_msg(strstr(out, heavy[i]) == NULL, "--list loads %s", heavy[i]);
    }
    free(out);
}
END_TEST

START_TEST(test_plain_stage1)
{
    char *out;
    ck_assert_int_eq(run("$MT --plain --stage 1 2>&1", &out), 0);
#if PY_VERSION_HEX >= 0x030C0000
    /* Immortal small ints: nothing in the stage changes a byte of 2, and
     * the dump says why; the digit count and sign are lv_tag. */
    const char *want[] = {"ob_refcnt", "ob_type", "→ int", "lv_tag", "ob_digit[0]",
                          "PyLongObject", "immortal", "(+0)", "[pristine]"};
    ck_assert_msg(strstr(out, "^^") == NULL, "a byte of 2 changed on an immortal 2");
#else
    const char *want[] = {"ob_refcnt", "ob_type", "→ int", "ob_size", "ob_digit[0]",
                          "PyLongObject", "^^", "* was", "[pristine]"};
#endif
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
    long long rc = strtoll(r + strlen("ob_refcnt"), NULL, 10);
#if PY_VERSION_HEX >= 0x030E0000
    ck_assert_msg(rc == 0xc0000000LL, "ob_refcnt %lld", rc);     /* the 32-bit count */
#elif PY_VERSION_HEX >= 0x030C0000
    ck_assert_msg(rc == 0xffffffffLL, "ob_refcnt %lld", rc);     /* _Py_IMMORTAL_REFCNT */
#else
    ck_assert_msg(rc > 900000000L && rc < 1100000000L, "ob_refcnt %lld", rc);
#endif
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
    /* A thousand references: counted on 3.11, not on an immortal 2. */
    ck_assert_ptr_nonnull(strstr(out, PY_VERSION_HEX >= 0x030C0000 ? "(+0)" : "(+1000)"));
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
    ck_assert_ptr_nonnull(strstr(out, "apt-get install " MT_T_DBG_PKG));
    ck_assert_ptr_null(strstr(out, "RESTORED"));
    free(out);
}
END_TEST

/* Ctrl-C in --plain: what was printed stays, one line says where it
 * stopped, status 130, and no worker is left behind.  The processes are
 * found by this run's own lesson folder (a fresh temporary one), which
 * both the frontend's and the worker's command lines name: not by the
 * binary's path, which other runs on the machine (another root's
 * /src/build-forky, a tmux pane of another test) share. */
START_TEST(test_plain_interrupted)
{
    char *out;
    int rc = run("d=$(mktemp -d); cp -r \"$MT_SRCDIR\"/tests/lessons/slow $d/slow; "
                 "$MT --lessons $d/slow --plain >$d/out 2>$d/err & p=$!; sleep 1.5; "
                 "echo running=$(pgrep -f -- \"$d/slow\" | wc -l); "
                 "kill -INT $p; wait $p; s=$?; "
                 "echo status=$s; cat $d/out $d/err; "
                 "sleep 0.2; pgrep -af -- \"$d/slow\" | sed 's/^/LEFTOVER /'; rm -rf $d; "
                 "exit 0", &out);
    ck_assert_int_eq(rc, 0);
    /* The frontend and its worker were both there to be found. */
    ck_assert_msg(strstr(out, "running=2\n") != NULL, "%s", out);
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

/* make install puts the binary, its workers, lessons and man page under
 * DESTDIR/PREFIX (from the build folder of the binary under test), and the
 * installed binary finds its lessons and workers beside it. */
START_TEST(test_install)
{
    char *out;
    int rc = run("d=$(mktemp -d) && cd \"$MT_SRCDIR\" && "
                 "make -s install BUILD=\"$(dirname \"$MT\")\" PREFIX=/opt/mt DESTDIR=$d "
                 ">/dev/null && "
                 "test -f $d/opt/mt/share/man/man1/ministry-tutor.1 && "
                 "cd / && env -u MINISTRY_LESSONS $d/opt/mt/bin/ministry-tutor --list; "
                 "s=$?; rm -rf $d; exit $s", &out);
    ck_assert_msg(rc == 0, "status %d: %s", rc, out);
    ck_assert_msg(strncmp(out, "1  refcount", 11) == 0, "%s", out);
    ck_assert_msg(strstr(out, "/opt/mt/bin/../libexec/ministry-tutor/ministry-worker-3.") != NULL,
                  "the installed workers are not listed: %s", out);
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

/* --notes draws on a terminal: with none, it says so and fails. */
START_TEST(test_notes_needs_a_terminal)
{
    char *out;
    ck_assert_int_eq(run("$MT --notes </dev/null 2>&1 | cat", &out), 0);   /* cat's status */
    ck_assert_msg(strstr(out, "--notes needs a terminal") != NULL, "%s", out);
    free(out);
    ck_assert_int_eq(run("$MT --notes </dev/null >/dev/null 2>&1", &out), 1);
    free(out);
}
END_TEST

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
    usage_error("--notes --plain", "choose one of");
    usage_error("--notes --theme pink", "--theme must be dark or light");
    char *out;
    ck_assert_int_eq(run("MINISTRY_STEP_TIMEOUT=abc $MT --list 2>&1", &out), 2);
    ck_assert_ptr_nonnull(strstr(out, "MINISTRY_STEP_TIMEOUT must be seconds"));
    free(out);
    ck_assert_int_eq(run("$MT --help >/dev/full 2>/dev/null", &out), 1);
    free(out);
}
END_TEST

/* --python: bad versions are usage errors naming what there is. */
START_TEST(test_python_choice)
{
    char *out;
    static const struct {
        const char *args, *needle;
    } bad[] = {
        {"--python 3.9 --plain", "CPython 3.11 and newer"},
        {"--python 3.12 --list", "Debian packages no CPython 3.12"},
        {"--python abc --doctor", "a version such as 3.13, not 'abc'"},
        {"--python 3.99 --plain", "no worker for CPython 3.99 here"},
        {"--python 3.11 --python 3.13 --list", "--python given twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *cmd = mt_xasprintf("$MT %s 2>&1 >/dev/null", bad[i].args);
        ck_assert_int_eq(run(cmd, &out), 2);
        ck_assert_msg(strstr(out, bad[i].needle) != NULL, "%s: %s", bad[i].args, out);
        ck_assert_msg(strstr(bad[i].needle, "twice") || strstr(out, "available here: 3."),
                      "%s names no version: %s", bad[i].args, out);
        ck_assert_int_eq(count_lines(out), 1);
        free(out);
        free(cmd);
    }
    /* Every worker built answers to its own version: the run says which
     * CPython it embeds. */
    ck_assert_int_eq(run("$MT --list | sed -n 's/^python \\([0-9.]*\\) .*/\\1/p'", &out), 0);
    ck_assert_uint_gt(strlen(out), 0);
    for (char *v = strtok(out, "\n"); v != NULL; v = strtok(NULL, "\n")) {
        char *cmd = mt_xasprintf("f=$(mktemp --suffix=.py); echo 'import sys; "
                                 "print(\"%%d.%%d\" %% sys.version_info[:2])' > $f; "
                                 "$MT --python %s --run $f; rc=$?; rm -f $f; exit $rc", v), *o;
        ck_assert_int_eq(run(cmd, &o), 0);
        char *want = mt_xasprintf("%s\n", v);
        ck_assert_str_eq(o, want);
        free(want);
        free(o);
        free(cmd);
    }
    free(out);
}
END_TEST

/* A fake worker in a folder of its own (MINISTRY_WORKER_DIR): a shell
 * script for "3.11" whose body is given.  Returns the folder (malloc'ed). */
static char *
fake_worker(const char *body)
{
    char dir[] = "/tmp/mt-fakeworker-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = mt_xasprintf("%s/ministry-worker-3.11", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    ck_assert_int_eq(chmod(path, 0755), 0);
    free(path);
    return mt_xstrdup(dir);
}

static void
rm_fake(char *dir)
{
    char *cmd = mt_xasprintf("rm -rf '%s'", dir), *o;
    run(cmd, &o);
    free(o);
    free(cmd);
    free(dir);
}

/* The version handshake: a worker whose frames come from other sources is
 * refused at its hello, in one line, before any lesson runs. */
START_TEST(test_worker_of_another_build)
{
    /* The hello, as the frames define it: u32 length 23, u32 frame number
     * 0, u32 protocol 1, str "old" (the frames' checksum), str "" (its
     * CPython), str "" (no error), written to the socket the worker is
     * given as its second argument. */
    char *dir = fake_worker(
        "printf '\\027\\000\\000\\000\\000\\000\\000\\000\\001\\000\\000\\000"
        "\\003\\000\\000\\000old\\000\\000\\000\\000\\000\\000\\000\\000' >&$2\n"
        "sleep 5");
    char *cmd = mt_xasprintf("MINISTRY_WORKER_DIR=%s MINISTRY_PYTHON= $MT --plain --stage 1 "
                             "2>&1 >/dev/null", dir), *out;
    ck_assert_int_eq(run(cmd, &out), 1);
    ck_assert_msg(strstr(out, "ministry-worker-3.11 is from another build of ministry-tutor "
                              "(protocol 1, frames old;") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "refused") != NULL, "%s", out);
    ck_assert_int_eq(count_lines(out), 1);
    free(out);
    free(cmd);
    rm_fake(dir);
}
END_TEST

/* A worker whose libpython has gone: exit 1 and the apt-get line, for the
 * lessons, --run and --doctor alike. */
START_TEST(test_worker_without_libpython)
{
    char *dir = fake_worker(
        "echo \"$0: error while loading shared libraries: libpython3.11.so.1.0: cannot "
        "open shared object file: No such file or directory\" >&2\nexit 127");
    static const char *const modes[] = {"--plain --stage 1", "--run \"$MT_SRCDIR/README.md\"",
                                        "--doctor"};
    for (size_t i = 0; i < 3; i++) {
        char *cmd = mt_xasprintf("MINISTRY_WORKER_DIR=%s MINISTRY_PYTHON= $MT %s 2>&1",
                                 dir, modes[i]), *out;
        ck_assert_int_eq(run(cmd, &out), 1);
        ck_assert_msg(strstr(out, "libpython3.11.so.1.0 is missing; install it with: "
                                  "apt-get install libpython3.11") != NULL,
                      "%s: %s", modes[i], out);
        free(out);
        free(cmd);
    }
    rm_fake(dir);
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
    tcase_add_test(tc, test_frontend_loads_no_heavy_libraries);
    tcase_add_test(tc, test_plain_stage1);
    tcase_add_test(tc, test_plain_step);
    tcase_add_test(tc, test_usage_errors);
    tcase_add_test(tc, test_notes_needs_a_terminal);
    tcase_add_test(tc, test_isolated_from_environment);
    tcase_add_test(tc, test_ascii_locale);
    tcase_add_test(tc, test_walkthrough_without_debug_symbols);
    tcase_add_test(tc, test_plain_interrupted);
    tcase_add_test(tc, test_install);
    tcase_add_test(tc, test_python_choice);
    tcase_add_test(tc, test_worker_of_another_build);
    tcase_add_test(tc, test_worker_without_libpython);
    suite_add_tcase(s, tc);
    return s;
}
