/* check_guard.c — the host's guard (src/interp.c) end to end: what a step
 * or a --run script leaves changed in the small ints, int's type object
 * and number slots, or the code of a patch site is named and put back
 * before the next stage; what cannot be put back gets a fresh worker;
 * folding_off() reads the bytes at the site. */
#include "pyver.h"

#include <check.h>
#include <errno.h>
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
    char tmpl[] = "/tmp/mt-guard-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    return mt_xstrdup(tmpl);
}

static void
put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
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

/* Run "$MT_BIN args" in dir; stdout and stderr into *out and *err.
 * Returns the exit status. */
static int
run(const char *dir, const char *args, char **out, char **err)
{
    const char *bin = getenv("MT_BIN");
    char *cmd = mt_xasprintf("timeout -s KILL 120 %s %s >%s/out 2>%s/err </dev/null",
                             bin ? bin : "build/ministry-tutor", args, dir, dir);
    int st = system(cmd);
    free(cmd);
    char *p = mt_xasprintf("%s/out", dir);
    *out = slurp(p);
    free(p);
    p = mt_xasprintf("%s/err", dir);
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

/* Two stages: the first runs `patch` as its one step; the second prints
 * what the next stage sees.  Returns the --plain run's status. */
static int
two_stages(const char *dir, const char *patch, char **out, char **err)
{
    char *les = mt_xasprintf("%s/lessons", dir);
    ck_assert_int_eq(mkdir(les, 0777), 0);
    char *p = mt_xasprintf("%s/01-a.py", les);
    char *text = mt_xasprintf("# ---\n# title: A\n# ---\n# %%%% patch\n%s\n", patch);
    put_file(p, text);
    free(p);
    free(text);
    p = mt_xasprintf("%s/02-b.py", les);
    put_file(p, "# ---\n# title: B\n# ---\n# %% look\n"
                "import os\n"
                "print('next stage:', list(range(10))[7], 2 + 2, eval('3 * 3'), os.getpid())\n");
    free(p);
    char *args = mt_xasprintf("--plain --lessons %s", les);
    int rc = run(dir, args, out, err);
    free(args);
    free(les);
    return rc;
}

/* The digit of 7 and of 2 rewritten: both named and put back before the
 * next stage, which sees 7 and 4 (and no crash). */
START_TEST(test_small_int_values)
{
    char *dir = make_tmp(), *out, *err;
    int rc = two_stages(dir,
                        "import ctypes, os\n"
                        "ctypes.c_uint32.from_address(id(7) + 24).value = 8\n"
                        "ctypes.c_uint32.from_address(id(2) + 24).value = 3\n"
                        "print('patched:', list(range(10))[7], os.getpid())",
                        &out, &err);
    ck_assert_int_eq(rc, 1);
    expect_in(out, "patched: 8");
    expect_in(out, "Step 1/1: patch  [PATCHED]");
    expect_in(out, "RESTORED by the host's guard: the small int 7 holds 8 (its size and "
                   "digit were overwritten): restored");
    expect_in(out, "RESTORED by the host's guard: the small int 2 holds 3");
    expect_in(out, "next stage: 7 4 9");
    expect_in(err, "stage 1: leaving it needed the host to step in");
    free(out);
    free(err);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* int's nb_add pointed at long_mul, and its tp_repr at float's: named
 * slot by slot, with what they were, and put back. */
START_TEST(test_type_slots)
{
    char *dir = make_tmp(), *out, *err;
    int rc = two_stages(dir,
                        "import ctypes\n"
                        "P = ctypes.c_void_p\n"
                        "nm = P.from_address(id(int) + 96).value\n"
                        "P.from_address(nm).value = P.from_address(nm + 16).value\n"
                        "a, b = 3, 4\n"
                        "print('patched:', a + b)",
                        &out, &err);
    ck_assert_int_eq(rc, 1);
    expect_in(out, "patched: 12");
    expect_in(out, "RESTORED by the host's guard: int's nb_add is " MT_T_NB_MUL ", not "
                   MT_T_NB_ADD ": restored");
    expect_in(out, "next stage: 7 4 9");
    free(out);
    free(err);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* PyNumber_Add's code overwritten (no patch site the guard knows): 2 + 2
 * compiled fresh is still 5 after every repair, so the next stage runs in
 * a fresh worker, and the report says so. */
START_TEST(test_unrestorable_fresh_worker)
{
    char *dir = make_tmp(), *out, *err;
    int rc = two_stages(dir,
                        "import ctypes, os\n"
                        "libc = ctypes.CDLL(None)\n"
                        "libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, "
                        "ctypes.c_int]\n"
                        "at = ctypes.cast(ctypes.pythonapi.PyNumber_Add, ctypes.c_void_p).value\n"
                        "page = at & ~4095\n"
                        "print('patched in', os.getpid())\n"
                        "libc.mprotect(page, 8192, 7)\n"
                        "code = b'\\x48\\xb8' + id(5).to_bytes(8, 'little') + b'\\xc3'\n"
                        "ctypes.memmove(at, code, len(code))\n"
                        "libc.mprotect(page, 8192, 5)",
                        &out, &err);
    ck_assert_int_eq(rc, 1);
    expect_in(out, "WARNING by the host's guard: 2 + 2 is not 4 (compiled fresh), after every "
                   "repair");
    expect_in(out, "a fresh worker takes over before the next stage");
    expect_in(out, "next stage: 7 4 9");
    int a = 0, b = 0;
    const char *p = strstr(out, "patched in "), *q = strstr(out, "next stage: 7 4 9 ");
    ck_assert(p && q);
    a = atoi(p + strlen("patched in "));
    b = atoi(q + strlen("next stage: 7 4 9 "));
    ck_assert_msg(a > 0 && b > 0 && a != b, "the same worker (%d, %d) ran both stages", a, b);
    free(out);
    free(err);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* A lesson takes no_folding()'s jump out itself: folding_off() reads the
 * site and says False, and the next no_folding() installs the jump again
 * (2 + 2 then compiles unfolded). */
START_TEST(test_folding_off_reads_the_site)
{
    char *dir = make_tmp(), *out, *err;
    int rc = two_stages(dir,
                        "import ctypes, ministry, sys\n"
                        "site = ministry.symbol('_PyAST_Optimize' if sys.version_info < (3, 14)"
                        " else 'optimize_basic_block')\n"
                        "orig = ctypes.string_at(site, 16)\n"
                        "cm = ministry.no_folding()\n"
                        "cm.__enter__()\n"
                        "print('inside:', ministry.folding_off())\n"
                        "libc = ctypes.CDLL(None)\n"
                        "libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, "
                        "ctypes.c_int]\n"
                        "page = site & ~4095\n"
                        "libc.mprotect(page, 8192, 7)\n"
                        "ctypes.memmove(site, orig, 16)\n"
                        "libc.mprotect(page, 8192, 5)\n"
                        "print('taken out:', ministry.folding_off())\n"
                        "with ministry.no_folding():\n"
                        "    print('again:', ministry.folding_off())\n"
                        "    code = compile('2 + 2', 's', 'eval')\n"
                        "print('consts:', code.co_consts)\n"
                        "print('after:', ministry.folding_off())",
                        &out, &err);
    expect_in(out, "inside: True");
    expect_in(out, "taken out: False");
    expect_in(out, "again: True");
    expect_in(out, "consts: (2,)");
    expect_in(out, "after: False");
    ck_assert_msg(rc == 0 || rc == 1, "status %d", rc);
    free(out);
    free(err);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* --run: what the script leaves changed (a context manager left entered,
 * two exited out of order, a digit, an RWX page) is reported by name, put
 * back, and the status is 1; a script that changes nothing is silent. */
START_TEST(test_run_report)
{
    static const struct {
        const char *script;
        int status;
        const char *says;
    } cases[] = {
        {"import ministry\n"
         "ministry.two_plus_two_equals(5).__enter__()\n",
         1, "ob_type of the small int 2 is ministry.Int2, not int: restored"},
        {"import ctypes\n"
         "ctypes.c_uint32.from_address(id(7) + 24).value = 8\n",
         1, "the small int 7 holds 8"},
        {"import ctypes, mmap\n"
         "m = mmap.mmap(-1, 4096)\n"
         "at = ctypes.addressof(ctypes.c_char.from_buffer(m))\n"
         "libc = ctypes.CDLL(None)\n"
         "libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]\n"
         "assert libc.mprotect(at, 4096, 7) == 0\n",
         1, "a mapping was writable and executable"},
        {"import ministry\n"
         "a, b = ministry.two_plus_two_equals(5), ministry.no_folding()\n"
         "a.__enter__()\n"
         "b.__enter__()\n"
         "a.__exit__(None, None, None)\n",
         1, "differ from the library file: restored"},
        {"import ministry\n"
         "with ministry.two_plus_two_equals(5):\n"
         "    assert eval('2 + 2') == 5\n"
         "assert eval('2 + 2') == 4\n",
         0, NULL},
    };
    char *dir = make_tmp(), *out, *err;
    char *script = mt_xasprintf("%s/s.py", dir);
    put_file(script, cases[_i].script);
    char *args = mt_xasprintf("--run %s", script);
    int rc = run(dir, args, &out, &err);
    ck_assert_msg(rc == cases[_i].status, "status %d; stderr:\n%s", rc, err);
    if (cases[_i].says != NULL) {
        expect_in(err, "left the interpreter changed; the host's guard found:");
        expect_in(err, cases[_i].says);
    } else {
        ck_assert_str_eq(err, "");
    }
    free(out);
    free(err);
    free(args);
    free(script);
    rm_rf(dir);
    free(dir);
}
END_TEST


/* Under valgrind (whose translation cache is writable and executable by
 * design) stage 7 runs clean: the guard leaves valgrind's own mappings
 * alone instead of taking their write permission (which made every stage
 * exit 1 and crashed valgrind). */
START_TEST(test_under_valgrind)
{
    if (getenv("MT_SANITIZED") != NULL) {
        return;     /* valgrind cannot run a binary built with ASan */
    }
    if (system("command -v valgrind >/dev/null 2>&1") != 0) {
        fprintf(stderr, "check_guard: valgrind is not installed (scripts/deps.sh check "
                        "installs it): test_under_valgrind skipped\n");
        return;
    }
    char *dir = make_tmp(), *out, *err;
    int rc = run(dir, "--version", &out, &err);    /* MT_BIN, as run() finds it */
    free(out);
    free(err);
    ck_assert_int_eq(rc, 0);
    const char *bin = getenv("MT_BIN");
    char *cmd = mt_xasprintf("cd %s && timeout -s KILL 300 valgrind -q --trace-children=yes "
                             "--smc-check=all --error-exitcode=99 "
                             "--suppressions=/usr/lib/valgrind/python3.supp "
                             "%s --plain --stage 7 >out 2>err",
                             dir, bin ? bin : "build/ministry-tutor");
    int st = system(cmd);
    char *p = mt_xasprintf("%s/err", dir);
    err = slurp(p);
    free(p);
    p = mt_xasprintf("%s/out", dir);
    out = slurp(p);
    free(p);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d; stderr:\n%s",
                  WIFEXITED(st) ? WEXITSTATUS(st) : -1, err);
    ck_assert_msg(strstr(out, "writable and executable: ") == NULL
                      && strstr(out, "RESTORED") == NULL,
                  "the guard blamed a lesson for valgrind:\n%s", out);
    free(out);
    free(err);
    free(cmd);
    rm_rf(dir);
    free(dir);
}
END_TEST

Suite *
mt_guard_suite(void)
{
    Suite *s = suite_create("guard");
    TCase *tc = tcase_create("guard");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_small_int_values);
    tcase_add_test(tc, test_type_slots);
    tcase_add_test(tc, test_unrestorable_fresh_worker);
    tcase_add_test(tc, test_folding_off_reads_the_site);
    tcase_add_loop_test(tc, test_run_report, 0, 5);
    suite_add_tcase(s, tc);
    TCase *vg = tcase_create("valgrind");
    tcase_set_timeout(vg, 400);
    tcase_add_test(vg, test_under_valgrind);
    suite_add_tcase(s, vg);
    return s;
}
