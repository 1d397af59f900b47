/* check_lessons_fold.c — the lessons that change 2 itself and the constant
 * folder, stages 5 (ob-type), 6 (fold) and 7 (trampoline), in process: what
 * each patch does while it is live, the semantics of a patched 2, balanced
 * references, page permissions at every step, and the SIMULATED path
 * without debug symbols (also end to end). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "pyver.h"
#include "mem.h"
#include "symbols.h"
#include "tramp.h"
#include "util.h"

/* ---- helpers ------------------------------------------------------------ */

/* Run step `slug` of stage n, which must be the next one, and return its
 * stdout (malloc'ed).  Unlike mt_test_run, the steps already run (and any
 * prompt state) are kept. */
static char *
step(mt_session *s, const mt_app *app, int n, const char *slug)
{
    int k = mt_test_step(app, n, slug);
    mt_step_result *r = mt_session_goto(s, mt_test_stage(app, n), k);
    ck_assert_msg(r->status == MT_ST_OK, "stage %d step %s failed:\n%s%s%s", n, slug,
                  r->err, r->traceback, r->notes);
    char *out = mt_xstrdup(r->out);
    mt_result_free(r);
    return out;
}

static void
has(const char *text, const char *want)
{
    ck_assert_msg(strstr(text, want) != NULL, "expected \"%s\" in:\n%s", want, text);
}

/* One prompt in the stage's namespace whose stdout must be exactly want. */
static void
expect(mt_session *s, const char *src, const char *want)
{
    char *out = mt_test_prompt(s, src, 0);
    ck_assert_msg(strcmp(out, want) == 0, "`%s` printed \"%s\", not \"%s\"", src, out, want);
    free(out);
}

static void
run_prompt(mt_session *s, const char *src)
{
    free(mt_test_prompt(s, src, 0));
}

/* Sum of Private_Dirty (kB) over libpython's executable mappings: 0 as
 * long as nothing ever wrote into its machine code in this process. */
static long
libpython_code_dirty_kb(void)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    int in_code = 0;
    long kb = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        char perms[8] = "";
        unsigned long a, b;
        if (sscanf(line, "%lx-%lx %7s", &a, &b, perms) == 3) {
            in_code = perms[2] == 'x' && strstr(line, "libpython" MT_T_PYVER) != NULL;
        } else if (in_code && strncmp(line, "Private_Dirty:", 14) == 0) {
            kb += strtol(line + 14, NULL, 10);
        }
    }
    fclose(f);
    return kb;
}

/* Names the lesson namespace needs for the semantic checks: `loop`, warmed
 * on the object 2 until its addition is specialised, while 2 is an int. */
static void
semantics_setup(mt_session *s)
{
    run_prompt(s, "import dis, gc, operator, os, shutil, sys, tempfile, weakref");
    run_prompt(s, "two, three = 2, 3");
    run_prompt(s, "def loop(a, b):\n"
                  "    out = set()\n"
                  "    for _ in range(10000):\n"
                  "        out.add(a + b)\n"
                  "    return out\n");
    expect(s, "print(loop(two, two), [i.opname for i in dis.get_instructions(loop, "
              "adaptive=True) if i.opname.startswith('BINARY_OP')])",
           "{4} ['BINARY_OP_ADD_INT']\n");
}

/* The flags PyType_Ready and the runtime own, which a copy of int's type
 * object may not share with int. */
static const unsigned long runtime_flags = Py_TPFLAGS_READY | Py_TPFLAGS_READYING
                                          | Py_TPFLAGS_VALID_VERSION_TAG
#ifdef _Py_TPFLAGS_STATIC_BUILTIN
                                          | _Py_TPFLAGS_STATIC_BUILTIN
#endif
    ;

/* The type the object 2 has now describes int's memory exactly: int's
 * flags (the runtime's aside, so no Py_TPFLAGS_HAVE_GC), sizes, allocator,
 * deallocator and free function, no tp_is_gc, int as its base; only
 * nb_add is its own. */
static void
assert_int_layout(void)
{
    PyObject *two = PyLong_FromLong(2);    /* new reference */
    PyTypeObject *t = Py_TYPE(two), *i = &PyLong_Type;
    ck_assert_ptr_ne(t, i);
    ck_assert_msg(((t->tp_flags ^ i->tp_flags) & ~runtime_flags) == 0,
                  "flags of %s 0x%lx, of int 0x%lx", t->tp_name, t->tp_flags, i->tp_flags);
    ck_assert_int_eq(t->tp_flags & Py_TPFLAGS_HAVE_GC, 0);
    ck_assert_int_eq(t->tp_basicsize, i->tp_basicsize);
    ck_assert_int_eq(t->tp_itemsize, i->tp_itemsize);
    ck_assert_int_eq(t->tp_dictoffset, 0);
    ck_assert_int_eq(t->tp_weaklistoffset, 0);
    ck_assert_ptr_eq(t->tp_dealloc, i->tp_dealloc);
    ck_assert_ptr_eq(t->tp_alloc, i->tp_alloc);
    ck_assert_ptr_eq(t->tp_free, i->tp_free);
    ck_assert_ptr_null(t->tp_is_gc);
    ck_assert_ptr_eq(t->tp_base, i);
    ck_assert_ptr_ne(t->tp_as_number->nb_add, i->tp_as_number->nb_add);
    ck_assert_ptr_eq(t->tp_as_number->nb_subtract, i->tp_as_number->nb_subtract);
    ck_assert_ptr_eq(t->tp_as_number->nb_multiply, i->tp_as_number->nb_multiply);
    Py_DECREF(two);
}

/* While 2 has the substitute type `name`: only 2 + 2 changes, and 2 stays
 * an ordinary int to everything that reads it through its type. */
static void
semantics_patched(mt_session *s, const char *name)
{
    char *want = mt_xasprintf("%s 5\n", name);
    expect(s, "print(type(2).__name__, eval('2 + 2'))", want);
    free(want);
    assert_int_layout();
    expect(s, "print(sys.getsizeof(2) == sys.getsizeof(3), gc.is_tracked(2))", "True False\n");
    /* The collector meets 2 in lists, a thousand times over. */
    expect(s, "held = [[2, str(i)] for i in range(1000)] + [[2] * 100 for _ in range(100)]\n"
              "print(sum(gc.collect() >= 0 for _ in range(1000)), type(2).__name__ != 'int',\n"
              "      sum(l.count(2) for l in held))\n"
              "del held\n",
           "1000 True 11000\n");
    expect(s, "print(eval('2 + 3'), eval('3 + 2'), eval('2 + 2.5'), eval('True + True'))",
           "5 5 4.5 2\n");
    expect(s, "print(two + three, three + two, two + 2.5, True + True, "
              "operator.add(2, 3), sum([2, 3]))",
           "5 5 4.5 2 5 5\n");
    expect(s, "for src in ('two + \"a\"', '2 + \"a\"'):\n"
              "    try:\n"
              "        eval(src)\n"
              "    except TypeError:\n"
              "        print('TypeError')\n",
           "TypeError\nTypeError\n");
    /* Warm, specialised code: 10,000 additions, every one of them 5. */
    expect(s, "print(loop(two, two))", "{5}\n");
    /* A module imported now is compiled now (X = 5), and no .pyc appears. */
    expect(s, "d = tempfile.mkdtemp()\n"
              "with open(os.path.join(d, 'mt_probe_pyc.py'), 'w') as fh:\n"
              "    fh.write('X = 2 + 2\\n')\n"
              "sys.path.insert(0, d)\n"
              "import mt_probe_pyc\n"
              "sys.path.remove(d)\n"
              "print(sys.dont_write_bytecode, sorted(os.listdir(d)), mt_probe_pyc.X)\n"
              "del sys.modules['mt_probe_pyc'], mt_probe_pyc\n"
              "shutil.rmtree(d)\n",
           "True ['mt_probe_pyc.py'] 5\n");
}

/* After leaving (namespace cleared): the type sys.mt_type_ref pointed at
 * has been freed, so no reference to it was left behind. */
static void
assert_type_freed(void)
{
    char *dead = mt_test_eval("[__import__('gc').collect(), "
                              "__import__('sys').mt_type_ref() is None][1]");
    ck_assert_msg(strcmp(dead, "True") == 0, "the swapped-in type is still alive: "
                  "a reference taken on it was never given back");
    free(dead);
}

/* ---- stage 5 -------------------------------------------------------------- */

START_TEST(test_stage5_swap)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    free(step(s, &app, 5, "int2"));
    free(step(s, &app, 5, "slots"));
    /* The trap, measured for a moment and taken back at once. */
    char *out = step(s, &app, 5, "trap");
    has(out, "Int2  HAVE_GC True");
    has(out, "as an Int2: getsizeof(2) 44  gc.is_tracked(2) True");
    has(out, "x.__class__ = Int2 -> TypeError: __class__ assignment: "
             "'Int2' deallocator differs from 'int'");
    free(out);
    expect(s, "print(type(2) is int, sys.getsizeof(2), gc.is_tracked(2), gc.isenabled(), "
              "int.__flags__ & IMMUTABLETYPE != 0)",
           "True 28 False True True\n");
    out = step(s, &app, 5, "copy");
    has(out, "int2  HAVE_GC False");
    has(out, "x.__class__ = int2 -> accepted");
    free(out);
    out = step(s, &app, 5, "before");
    has(out, "specialised as ['BINARY_OP_ADD_INT']");
    free(out);
    semantics_setup(s);
    run_prompt(s, "rc0 = sys.getrefcount(int2)");

    out = step(s, &app, 5, "swap");
    has(out, "type(2) is int2");
    free(out);
    /* int2 is static: 2 holds no reference on it. */
    expect(s, "print(sys.getrefcount(int2) - rc0)", "0\n");
    semantics_patched(s, "int2");

    out = step(s, &app, 5, "two-plus-two");
    has(out, "two + two = 5");
    has(out, "add(two, two) 1000 times gives {5}");
    free(out);
    out = step(s, &app, 5, "fresh");
    /* What the code loads: 5 from the folder that met int2, 4 from
     * before (co_consts alone cannot tell on 3.14: LOAD_SMALL_INT). */
    has(out, "eval(\"2 + 2\") = 5   co_consts ");
    has(out, "  loads [5]");
    has(out, "before() = 4   co_consts " MT_T_F_FOLDED "   loads [4]");
    free(out);

    out = step(s, &app, 5, "restore");
    has(out, "type(2) is int   2 + 2 = 4");
    free(out);
    expect(s, "print(sys.getrefcount(int2) - rc0, sys.getsizeof(2), gc.is_tracked(2))",
           "0 28 False\n");
    /* The trap type Int2 was never left holding a reference: it dies with
     * the namespace. */
    run_prompt(s, "sys.mt_type_ref = weakref.ref(Int2)");
    free(mt_test_leave(s));
    assert_type_freed();
    mt_test_assert_pristine();
    mt_session_free(s);
}
END_TEST

/* The same semantics inside the finale's context manager, and an exception
 * raised inside it puts everything back. */
START_TEST(test_two_plus_two_equals)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    mt_step_result *r = mt_session_goto(s, mt_test_stage(&app, 5), -1);
    mt_result_free(r);
    semantics_setup(s);
    run_prompt(s, "import ministry");
    run_prompt(s, "cm = ministry.two_plus_two_equals(5)\ncm.__enter__()");
    semantics_patched(s, "Int2");
    run_prompt(s, "cm.__exit__(None, None, None)\ndel cm");
    expect(s, "print(type(2) is int, eval('2 + 2'), loop(two, two))", "True 4 {4}\n");
    expect(s, "try:\n"
              "    with ministry.two_plus_two_equals(5):\n"
              "        assert eval('2 + 2') == 5\n"
              "        raise ValueError('inside')\n"
              "except ValueError:\n"
              "    pass\n"
              "print(type(2) is int, eval('2 + 2'))",
           "True 4\n");
    /* Nested blocks: the inner sum while inside, the outer one after. */
    expect(s, "with ministry.two_plus_two_equals(5):\n"
              "    with ministry.two_plus_two_equals(6):\n"
              "        a = eval('2 + 2')\n"
              "    b = eval('2 + 2')\n"
              "print(a, b, eval('2 + 2'), type(2) is int)",
           "6 5 4 True\n");
    /* A type a class statement made can never be given to 2. */
    expect(s, "class Trap(int):\n"
              "    __slots__ = ()\n"
              "try:\n"
              "    ministry._set_type(2, Trap)\n"
              "except TypeError as e:\n"
              "    print(e, type(2) is int)\n",
           "'int' and 'Trap' differ in tp_free: one cannot stand in for the other True\n");
    free(mt_test_leave(s));
    mt_test_assert_pristine();
    mt_session_free(s);
}
END_TEST

/* ---- stage 6 -------------------------------------------------------------- */

START_TEST(test_stage6_fold)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    char *out = mt_test_run(s, &app, 6, -1);
    has(out, "co_consts = " MT_T_F_FOLDED);
    has(out, "inside two_plus_two_equals(5): f() = 4");
    has(out, "BinOp(left=Constant(value=2), op=Add(), right=Constant(value=2))");
    has(out, "the same tree, compiled: co_consts of f = " MT_T_F_FOLDED);
    has(out, "BINARY_OP in it: False");
    has(out, MT_T_FOLDER " (" MT_T_LIBPY "+0x");
    has(out, "in ctypes.pythonapi: False");
    has(out, "is f.__code__: True");

    /* The stub's size and bytes as the lesson found them through ctypes and
     * describe(), against the symbol table and a read of our own. */
    uintptr_t stub;
    const char *why;
    ck_assert_int_eq(mt_sym_lookup("PyCode_Optimize", &stub, &why), 0);
    size_t size = mt_sym_size(stub);
#if PY_VERSION_HEX < 0x030C0000
    ck_assert_uint_eq(size, 8);     /* DESIGN.md: an 8-byte stub */
#else
    /* The incref checks for an immortal count first: a few more bytes. */
    ck_assert_uint_gt(size, 8);
    ck_assert_uint_le(size, 32);
#endif
    uint8_t b[32];
    ck_assert_uint_eq(mt_mem_read(stub, b, size, NULL), size);
    mt_str want = {0};
    mt_str_addf(&want, "the stub is %zu bytes:", size);
    for (size_t i = 0; i < size; i++) {
        mt_str_addf(&want, " %02x", b[i]);
    }
    char *w = mt_str_take(&want);
    has(out, w);
    free(w);
    free(out);
    free(mt_test_leave(s));
    mt_test_assert_pristine();
    mt_session_free(s);
}
END_TEST

/* ---- stage 7 -------------------------------------------------------------- */

/* Every step of stage 7, one by one: no W+X mapping after any of them; the
 * jump really written, in the form the C encoder picks for the same two
 * addresses, page permissions as /proc/self/maps had them; no fold while
 * it is in; the first 16 bytes back after the revert step. */
START_TEST(test_stage7_trampoline)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    uintptr_t site;
    const char *why;
    ck_assert_msg(mt_sym_lookup(MT_T_FOLDER, &site, &why) == 0, "%s", why);
    uint8_t orig[16], now[16];
    char perms0[5], perms[5];
    ck_assert_uint_eq(mt_mem_read(site, orig, 16, NULL), 16);
    mt_mem_perms(site, perms0);

    const mt_lesson *l = app.lessons[mt_test_stage(&app, 7)];
    mt_str all = {0};
    for (size_t k = 0; k < l->nsteps; k++) {
        const char *slug = l->steps[k].slug;
        char *out = step(s, &app, 7, slug);
        mt_str_add(&all, out);
        free(out);
        char *wx = NULL;
        ck_assert_msg(!mt_mem_any_wx(&wx), "after step %s: W+X mapping %s", slug, wx);
        mt_mem_perms(site, perms);
        ck_assert_msg(strcmp(perms, perms0) == 0, "after step %s the page is %s, was %s",
                      slug, perms, perms0);
        ck_assert_uint_eq(mt_mem_read(site, now, 16, NULL), 16);

        if (strcmp(slug, "write") == 0) {
            char *t = mt_test_prompt(s, "print(target)", 0);
            uint8_t jump[MT_TRAMP_MAX];
            size_t n = mt_tramp_encode(site, strtoull(t, NULL, 10), 0, jump);
            free(t);
            ck_assert_msg(memcmp(now, jump, n) == 0 && memcmp(now + n, orig + n, 16 - n) == 0,
                          "the bytes at " MT_T_FOLDER " are not the %zu-byte jump", n);
            ck_assert_msg(libpython_code_dirty_kb() > 0, "no code page was written");
            expect(s, "print([i.opname for i in dis.get_instructions("
                      "compile('2 + 2', '<t>', 'eval')) if i.opname.startswith('BINARY')])",
                   "['BINARY_OP']\n");
        } else if (strcmp(slug, "restore") == 0) {
            ck_assert_msg(memcmp(now, orig, 16) == 0, "the first 16 bytes are not back");
            expect(s, "print(compile('2 + 2', '<t>', 'eval').co_consts)", MT_T_EXPR_FOLDED "\n");
        }
    }
    char *out = mt_str_take(&all);
    ck_assert_msg(strstr(out, "SIMULATED") == NULL, "ran SIMULATED with symbols:\n%s", out);
    has(out, MT_T_LOAD_TWO);
    has(out, "BINARY_OP                0 (+)");
    has(out, "co_consts = " MT_T_F_UNFOLDED "  f() = 4");
    has(out, MT_T_MATCH);
    has(out, "inside the swap: f() = 5    outside: f() = 4");
    has(out, "inside:  eval(\"2 + 2\") == 5 passes");
    has(out, "inside:  the inline 2 + 2 == 5 passes");
    has(out, "after:   eval(\"2 + 2\") == 4   f() == 4");
    free(out);
    free(mt_test_leave(s));
    mt_test_assert_pristine();
    mt_session_free(s);
}
END_TEST

/* The lesson's other branch, for real: the 14-byte absolute form (forced
 * after the encode step, as the lesson writes it) goes in, keeps 2 + 2
 * unfolded, and comes out again through the lesson's own revert step. */
START_TEST(test_stage7_far_form)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    uintptr_t site;
    const char *why;
    ck_assert_msg(mt_sym_lookup(MT_T_FOLDER, &site, &why) == 0, "%s", why);
    uint8_t orig[16], now[16];
    ck_assert_uint_eq(mt_mem_read(site, orig, 16, NULL), 16);

    free(step(s, &app, 7, "find"));
    free(step(s, &app, 7, "encode"));
    run_prompt(s, "jump = b'\\xff\\x25' + struct.pack('<iQ', 0, target)\n"
                  "saved = ministry.peek(site, len(jump))");
    free(step(s, &app, 7, "mprotect"));
    free(step(s, &app, 7, "write"));
    char *t = mt_test_prompt(s, "print(target)", 0);
    uint8_t jump[MT_TRAMP_MAX];
    size_t n = mt_tramp_encode(site, strtoull(t, NULL, 10), 1, jump);
    free(t);
    ck_assert_uint_eq(n, 14);
    ck_assert_uint_eq(mt_mem_read(site, now, 16, NULL), 16);
    ck_assert_msg(memcmp(now, jump, n) == 0, "the 14-byte jump is not at " MT_T_FOLDER);
    char *wx = NULL;
    ck_assert_msg(!mt_mem_any_wx(&wx), "W+X mapping %s", wx);
    char *out = step(s, &app, 7, "unfolded");
    has(out, "BINARY_OP                0 (+)");
    free(out);
    free(step(s, &app, 7, "match"));
    free(step(s, &app, 7, "restore"));
    ck_assert_uint_eq(mt_mem_read(site, now, 16, NULL), 16);
    ck_assert_msg(memcmp(now, orig, 16) == 0, "the first 16 bytes are not back");
    out = step(s, &app, 7, "two-answers");
    has(out, "inside the swap: f() = 5");
    free(out);
    free(mt_test_leave(s));
    mt_test_assert_pristine();
    mt_session_free(s);
}
END_TEST

/* An empty debug folder: stages 6 and 7 still run every step, say what is
 * missing and how to install it, and stage 7 writes nothing into
 * libpython's code. */
START_TEST(test_simulated_in_process)
{
    char dir[] = "/tmp/mt-nodebug-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("MINISTRY_DEBUG_DIR", dir, 1);
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    char *out = mt_test_run(s, &app, 6, -1);
    has(out, "Skipped: the debug symbols are missing");
    has(out, "apt-get install " MT_T_DBG_PKG);
    /* Its size from the dynamic symbol table: 8 bytes on 3.11, more from
     * 3.12 (the immortality check); no debug file needed. */
    uintptr_t stub;
    const char *why;
    ck_assert_int_eq(mt_sym_lookup("PyCode_Optimize", &stub, &why), 0);
    char *sz = mt_xasprintf("the stub is %zu bytes", mt_sym_size(stub));
    has(out, sz);
    free(sz);
    free(out);
    free(mt_test_leave(s));

    out = mt_test_run(s, &app, 7, -1);
    has(out, "SIMULATED");
    has(out, "apt-get install " MT_T_DBG_PKG);
    has(out, "FF 25 + absolute");
    has(out, "inside:  eval(\"2 + 2\") == 5 passes");
    free(out);
    free(mt_test_leave(s));
    ck_assert_int_eq(libpython_code_dirty_kb(), 0);
    mt_test_assert_pristine();
    mt_session_free(s);
    rmdir(dir);
}
END_TEST

/* The same through the binary, as a user without python3.11-dbg sees it. */
static int
run_bin(const char *args, char **out)
{
    const char *bin = getenv("MT_BIN");
    char *cmd = mt_xasprintf("d=$(mktemp -d) && MINISTRY_DEBUG_DIR=$d %s %s 2>&1; "
                             "rc=$?; rmdir \"$d\"; exit $rc",
                             bin ? bin : "build/ministry-tutor", args);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    mt_str b = {0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
        mt_str_addn(&b, buf, n);
    }
    int st = pclose(p);
    free(cmd);
    *out = mt_str_take(&b);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

START_TEST(test_simulated_end_to_end)
{
    char *out;
    ck_assert_int_eq(run_bin("--plain --stage 7", &out), 0);
    has(out, "SIMULATED");
    has(out, MT_T_DBG_PKG);
    has(out, "is missing; install them with: apt-get install " MT_T_DBG_PKG);
    ck_assert_msg(strstr(out, "RESTORED") == NULL && strstr(out, "WARNING") == NULL,
                  "the host had to step in:\n%s", out);
    free(out);
    ck_assert_int_eq(run_bin("--plain --stage 6", &out), 0);
    has(out, "Skipped");
    has(out, MT_T_DBG_PKG);
    free(out);
}
END_TEST

Suite *
mt_lessons_fold_suite(void)
{
    Suite *s = suite_create("lessons-fold");
    TCase *tc = tcase_create("stages");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_stage5_swap);
    tcase_add_test(tc, test_two_plus_two_equals);
    tcase_add_test(tc, test_stage6_fold);
    tcase_add_test(tc, test_stage7_trampoline);
    tcase_add_test(tc, test_stage7_far_form);
    tcase_add_test(tc, test_simulated_in_process);
    tcase_add_test(tc, test_simulated_end_to_end);
    suite_add_tcase(s, tc);
    return s;
}
