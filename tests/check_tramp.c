/* check_tramp.c — tests for the jump encoder and install/remove, on fixtures and on libpython. */
#include <Python.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "disasm.h"
#include "mem.h"
#include "symbols.h"
#include "tramp.h"
#include "pyver.h"

/* ---- fixtures ---------------------------------------------------------- */

/* Machine code written by the tests into their own pages:
 * `mov eax, imm32; ret`. */
enum { MOV_EAX = 0xB8, RET = 0xC3, INT3 = 0xCC, FN_LEN = 6 };

typedef int (*int_fn)(void);

static size_t
pagesz(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

static void
put_fn(uint8_t *p, int32_t value)
{
    p[0] = MOV_EAX;
    memcpy(p + 1, &value, 4);
    p[5] = RET;
}

/* The function the jumps land on. */
static int
target_fn(void)
{
    return 42;
}

/* A no-op for the folder (_PyAST_Optimize up to 3.13,
 * optimize_basic_block from 3.14; three pointers each): "optimised",
 * nothing done. */
static int
noopt(void *a, void *b, void *c)
{
    (void)a;
    (void)b;
    (void)c;
    return MT_T_FOLDER_NOOP;
}

/* n pages, int3-filled, a `mov eax, 7; ret` at offset off, a second
 * function `mov eax, 9; ret` at 256 bytes past it, then r-x. */
static uint8_t *
code_pages(size_t n, size_t off)
{
    size_t ps = pagesz();
    uint8_t *p = mmap(NULL, n * ps, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(p, MAP_FAILED);
    memset(p, INT3, n * ps);
    put_fn(p + off, 7);
    ck_assert_uint_lt(off + 256 + FN_LEN, n * ps);
    put_fn(p + off + 256, 9);
    ck_assert_int_eq(mprotect(p, n * ps, PROT_READ | PROT_EXEC), 0);
    return p;
}

static void
assert_perms(const void *p, const char *want)
{
    char perms[5];
    mt_mem_perms((uintptr_t)p, perms);
    ck_assert_str_eq(perms, want);
}

static void
assert_no_wx(void)
{
    char *where = NULL;
    int wx = mt_mem_any_wx(&where);
    ck_assert_msg(wx == 0, "writable+executable mapping: %s", where);
    free(where);
}

/* ---- the encoder ------------------------------------------------------- */

START_TEST(test_encode_boundaries)
{
    const uint64_t src = 0x7f1200000000ULL;
    uint8_t out[MT_TRAMP_MAX];
    int32_t rel;
    uint64_t abs;

    /* dst - (src + 5) == INT32_MAX: the last near one. */
    ck_assert_uint_eq(mt_tramp_encode(src, src + 5 + INT32_MAX, 0, out), 5);
    ck_assert_uint_eq(out[0], 0xE9);
    memcpy(&rel, out + 1, 4);
    ck_assert_int_eq(rel, INT32_MAX);
    /* One more: far. */
    uint64_t dst = src + 5 + (uint64_t)INT32_MAX + 1;
    ck_assert_uint_eq(mt_tramp_encode(src, dst, 0, out), 14);
    static const uint8_t ind[6] = {0xFF, 0x25, 0, 0, 0, 0};
    ck_assert_mem_eq(out, ind, 6);
    memcpy(&abs, out + 6, 8);
    ck_assert_uint_eq(abs, dst);

    /* Negative side: INT32_MIN near, one less far. */
    ck_assert_uint_eq(mt_tramp_encode(src, src + 5 - 0x80000000ULL, 0, out),
                      5);
    memcpy(&rel, out + 1, 4);
    ck_assert_int_eq(rel, INT32_MIN);
    dst = src + 5 - 0x80000001ULL;
    ck_assert_uint_eq(mt_tramp_encode(src, dst, 0, out), 14);
    ck_assert_mem_eq(out, ind, 6);
    memcpy(&abs, out + 6, 8);
    ck_assert_uint_eq(abs, dst);

    /* Near but forced far. */
    ck_assert_uint_eq(mt_tramp_encode(src, src + 0x100, 1, out), 14);
    memcpy(&abs, out + 6, 8);
    ck_assert_uint_eq(abs, src + 0x100);

    /* Capstone agrees with both encodings. */
    mt_insn in[2];
    ck_assert_uint_eq(mt_tramp_encode(src, src - 0x1000, 0, out), 5);
    ck_assert_uint_ge(mt_disasm(out, 5, src, in, 2), 1);
    ck_assert_uint_eq(in[0].target, src - 0x1000);
}
END_TEST

/* ---- install / remove on fixtures -------------------------------------- */

START_TEST(test_install_remove_fixture)
{
    size_t ps = pagesz();
    uint8_t *p = code_pages(1, 0);
    int_fn f = (int_fn)(uintptr_t)p;
    uint8_t before[4096];
    mt_tramp t;
    char *err = NULL;

    memset(&t, 0, sizeof t);
    ck_assert_uint_le(ps, sizeof before);
    memcpy(before, p, ps);
    ck_assert_int_eq(f(), 7);

    /* To a C function of this file (far from an anonymous page, or near:
     * the encoder decides; the call must land either way). */
    ck_assert_msg(mt_tramp_install(&t, (uintptr_t)p, (uintptr_t)&target_fn, 0,
                                   &err) == 0, "%s", err);
    ck_assert_int_eq(t.installed, 1);
    ck_assert_mem_eq(t.saved, before, t.len);
    ck_assert_mem_eq(p, t.written, t.len);
    ck_assert_int_eq(f(), 42);
    assert_perms(p, "r-xp");
    assert_no_wx();
    ck_assert_int_eq(mt_tramp_remove(&t, &err), 0);
    ck_assert_int_eq(t.installed, 0);
    ck_assert_int_eq(f(), 7);
    ck_assert_mem_eq(p, before, ps);
    assert_perms(p, "r-xp");

    /* Near: to the second function on the same page. */
    ck_assert_int_eq(mt_tramp_install(&t, (uintptr_t)p, (uintptr_t)p + 256, 0,
                                      &err), 0);
    ck_assert_uint_eq(t.len, 5);
    ck_assert_int_eq(f(), 9);
    ck_assert_int_eq(mt_tramp_remove(&t, &err), 0);
    ck_assert_int_eq(f(), 7);
    /* The same, forced far. */
    ck_assert_int_eq(mt_tramp_install(&t, (uintptr_t)p, (uintptr_t)p + 256, 1,
                                      &err), 0);
    ck_assert_uint_eq(t.len, 14);
    ck_assert_int_eq(f(), 9);
    ck_assert_int_eq(mt_tramp_remove(&t, &err), 0);
    ck_assert_int_eq(f(), 7);
    ck_assert_mem_eq(p, before, ps);
    assert_no_wx();
    munmap(p, ps);
}
END_TEST

START_TEST(test_straddle_pages)
{
    /* The jump starts 3 bytes before the end of a page: r-x then r--. */
    size_t ps = pagesz();
    uint8_t *p = code_pages(2, ps - 3);
    uint8_t before[2 * 4096];
    mt_tramp t;
    char *err = NULL;
    mt_insn in[2];

    memset(&t, 0, sizeof t);
    ck_assert_uint_le(2 * ps, sizeof before);
    ck_assert_int_eq(mprotect(p + ps, ps, PROT_READ), 0);
    memcpy(before, p, 2 * ps);
    ck_assert_msg(mt_tramp_install(&t, (uintptr_t)(p + ps - 3),
                                   (uintptr_t)&target_fn, 1, &err) == 0,
                  "%s", err);
    ck_assert_uint_eq(t.len, 14);
    ck_assert_mem_eq(p + ps - 3, t.written, 14);
    ck_assert_uint_eq(mt_disasm(p + ps - 3, 6, (uintptr_t)(p + ps - 3), in,
                                1), 1);
    ck_assert_str_eq(in[0].text, "jmp qword ptr [rip]");
    assert_perms(p, "r-xp");
    assert_perms(p + ps, "r--p");
    assert_no_wx();
    ck_assert_int_eq(mt_tramp_remove(&t, &err), 0);
    ck_assert_mem_eq(p, before, 2 * ps);
    assert_perms(p, "r-xp");
    assert_perms(p + ps, "r--p");

    /* Both pages executable: the straddling function runs, is diverted,
     * and comes back. */
    ck_assert_int_eq(mprotect(p + ps, ps, PROT_READ | PROT_EXEC), 0);
    int_fn f = (int_fn)(uintptr_t)(p + ps - 3);
    ck_assert_int_eq(f(), 7);
    ck_assert_int_eq(mt_tramp_install(&t, (uintptr_t)f, (uintptr_t)&target_fn,
                                      1, &err), 0);
    ck_assert_int_eq(f(), 42);
    ck_assert_int_eq(mt_tramp_remove(&t, &err), 0);
    ck_assert_int_eq(f(), 7);
    ck_assert_mem_eq(p, before, 2 * ps);
    assert_perms(p + ps, "r-xp");
    munmap(p, 2 * ps);
}
END_TEST

START_TEST(test_thousand_cycles)
{
    size_t ps = pagesz();
    uint8_t *p = code_pages(1, 64);
    uint8_t *copy = malloc(ps);
    int_fn f = (int_fn)(uintptr_t)(p + 64);
    mt_tramp t;
    char *err = NULL;

    memset(&t, 0, sizeof t);
    memcpy(copy, p, ps);
    for (int i = 0; i < 1000; i++) {
        int far = i % 2;
        ck_assert_int_eq(mt_tramp_install(&t, (uintptr_t)f,
                                          (uintptr_t)(p + 64 + 256), far,
                                          &err), 0);
        ck_assert_int_eq(mt_tramp_remove(&t, &err), 0);
    }
    ck_assert_int_eq(memcmp(copy, p, ps), 0);
    ck_assert_int_eq(f(), 7);
    assert_perms(p, "r-xp");
    assert_no_wx();
    free(copy);
    munmap(p, ps);
}
END_TEST

START_TEST(test_refusals)
{
    size_t ps = pagesz();
    uint8_t *p = code_pages(1, 0);
    uint8_t *copy = malloc(ps);
    mt_tramp t, keep;
    char *err = NULL;

    memset(&t, 0, sizeof t);
    /* Remove when not installed: error, nothing changes. */
    memcpy(copy, p, ps);
    ck_assert_int_eq(mt_tramp_remove(&t, &err), -1);
    ck_assert_ptr_nonnull(err);
    free(err);
    ck_assert_int_eq(memcmp(copy, p, ps), 0);

    /* Install twice: the second is refused and changes nothing. */
    ck_assert_int_eq(mt_tramp_install(&t, (uintptr_t)p, (uintptr_t)p + 256, 0,
                                      &err), 0);
    memcpy(copy, p, ps);
    keep = t;
    ck_assert_int_eq(mt_tramp_install(&t, (uintptr_t)p, (uintptr_t)&target_fn,
                                      1, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "already installed"));
    free(err);
    ck_assert_int_eq(memcmp(copy, p, ps), 0);
    ck_assert_mem_eq(&keep, &t, sizeof t);

    /* Somebody else changes a byte of the jump: remove refuses. */
    uint8_t other = (uint8_t)(t.written[1] ^ 0x40);
    ck_assert_int_eq(mt_mem_write_protected((uintptr_t)p + 1, &other, 1,
                                            NULL), 0);
    memcpy(copy, p, ps);
    ck_assert_int_eq(mt_tramp_remove(&t, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "no longer"));
    free(err);
    ck_assert_int_eq(memcmp(copy, p, ps), 0);
    ck_assert_int_eq(t.installed, 1);
    /* Put the jump's byte back: now remove works. */
    ck_assert_int_eq(mt_mem_write_protected((uintptr_t)p + 1, &t.written[1],
                                            1, NULL), 0);
    ck_assert_int_eq(mt_tramp_remove(&t, &err), 0);
    ck_assert_int_eq(((int_fn)(uintptr_t)p)(), 7);

    /* An unmapped target address to patch: refused. */
    munmap(p, ps);
    memset(&t, 0, sizeof t);
    ck_assert_int_eq(mt_tramp_install(&t, (uintptr_t)p, (uintptr_t)&target_fn,
                                      0, &err), -1);
    ck_assert_ptr_nonnull(err);
    free(err);
    ck_assert_int_eq(t.installed, 0);
    free(copy);
}
END_TEST

/* ---- for real, on libpython's constant folder ---------------------------- */

/* 1 when compiling "2 + 2" now keeps a BINARY_OP (nothing folded), 0 when
 * it is folded; the result also has to be 4 both ways. */
static int
binary_op_kept(void)
{
    static const char expr[] =
        "('BINARY_OP' in [i.opname for i in __import__('dis')"
        ".get_instructions(compile('2 + 2', '<t>', 'eval'))],"
        " eval(compile('2 + 2', '<t>', 'eval')))";
    PyObject *main = PyImport_AddModule("__main__");      /* borrowed */
    ck_assert_ptr_nonnull(main);
    PyObject *g = PyModule_GetDict(main);                 /* borrowed */
    PyObject *r = PyRun_String(expr, Py_eval_input, g, g); /* new */
    if (r == NULL) {
        PyErr_Print();
    }
    ck_assert_ptr_nonnull(r);
    int kept = PyObject_IsTrue(PyTuple_GetItem(r, 0));
    ck_assert_int_eq(PyLong_AsLong(PyTuple_GetItem(r, 1)), 4);
    Py_DECREF(r);
    return kept;
}

static uintptr_t
ast_optimize(void)
{
    uintptr_t a = 0;
    const char *why = NULL;
    ck_assert_msg(mt_sym_lookup(MT_T_FOLDER, &a, &why) == 0, "%s", why);
    return a;
}

/* Diverts the folder to `to` and back, checking folding stops and
 * comes back; returns the jump's length. */
static size_t
divert_optimizer(uintptr_t to, int force_far)
{
    uintptr_t at = ast_optimize();
    uint8_t orig[16], now[16];
    char perms_before[5];
    mt_tramp t;
    char *err = NULL;

    memset(&t, 0, sizeof t);
    if (!Py_IsInitialized()) {
        Py_InitializeEx(0);      /* once per forked test; never finalised */
    }
    ck_assert_uint_eq(mt_mem_read(at, orig, sizeof orig, NULL), sizeof orig);
    mt_mem_perms(at, perms_before);
    ck_assert_str_eq(perms_before, "r-xp");
    ck_assert_int_eq(binary_op_kept(), 0);

    ck_assert_msg(mt_tramp_install(&t, at, to, force_far, &err) == 0, "%s",
                  err);
    assert_perms((void *)at, perms_before);
    assert_no_wx();
    ck_assert_int_eq(binary_op_kept(), 1);

    ck_assert_msg(mt_tramp_remove(&t, &err) == 0, "%s", err);
    ck_assert_int_eq(binary_op_kept(), 0);
    ck_assert_uint_eq(mt_mem_read(at, now, sizeof now, NULL), sizeof now);
    ck_assert_mem_eq(now, orig, sizeof orig);
    assert_perms((void *)at, perms_before);
    assert_no_wx();
    return t.len;
}

START_TEST(test_libpython_auto)
{
    /* The encoder picks the form from the distance to noopt. */
    uintptr_t at = ast_optimize();
    intptr_t d = (intptr_t)((uintptr_t)&noopt - (at + 5));
    size_t want = (d >= INT32_MIN && d <= INT32_MAX) ? 5 : 14;
    ck_assert_uint_eq(divert_optimizer((uintptr_t)&noopt, 0), want);
}
END_TEST

START_TEST(test_libpython_force_far)
{
    ck_assert_uint_eq(divert_optimizer((uintptr_t)&noopt, 1), 14);
}
END_TEST

/* An r-x page within ±2 GiB of libpython holding the folder's no-op,
 * `mov eax, MT_T_FOLDER_NOOP; ret`. */
static uint8_t *
page_near(uintptr_t at)
{
    size_t ps = pagesz();
    mt_mapping m;
    const uintptr_t mib = 1u << 20;

    ck_assert_int_eq(mt_mem_mapping(at, &m), 0);
    for (uintptr_t k = 2; k < 1024; k++) {
        uintptr_t tries[2] = {(m.start & ~(uintptr_t)(ps - 1)) - k * mib,
                              m.end + k * mib};
        for (int i = 0; i < 2; i++) {
            void *p = mmap((void *)tries[i], ps, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                           -1, 0);
            if (p == MAP_FAILED) {
                continue;
            }
            if ((uintptr_t)p != tries[i]) {   /* flag unknown: a hint */
                munmap(p, ps);
                continue;
            }
            memset(p, INT3, ps);
            put_fn(p, MT_T_FOLDER_NOOP);
            ck_assert_int_eq(mprotect(p, ps, PROT_READ | PROT_EXEC), 0);
            return p;
        }
    }
    ck_abort_msg("no free page within a GiB of libpython");
    return NULL;
}

START_TEST(test_libpython_near)
{
    uint8_t *p = page_near(ast_optimize());
    ck_assert_int_eq(((int_fn)(uintptr_t)p)(), MT_T_FOLDER_NOOP);
    ck_assert_uint_eq(divert_optimizer((uintptr_t)p, 0), 5);
    /* And forced far to the same place. */
    ck_assert_uint_eq(divert_optimizer((uintptr_t)p, 1), 14);
    munmap(p, pagesz());
}
END_TEST

Suite *mt_tramp_suite(void);

Suite *
mt_tramp_suite(void)
{
    Suite *s = suite_create("tramp");
    TCase *tc = tcase_create("fixture");
    tcase_add_test(tc, test_encode_boundaries);
    tcase_add_test(tc, test_install_remove_fixture);
    tcase_add_test(tc, test_straddle_pages);
    tcase_add_test(tc, test_thousand_cycles);
    tcase_add_test(tc, test_refusals);
    suite_add_tcase(s, tc);
    tc = tcase_create("libpython");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_libpython_auto);
    tcase_add_test(tc, test_libpython_force_far);
    tcase_add_test(tc, test_libpython_near);
    suite_add_tcase(s, tc);
    return s;
}
