/* check_disasm.c — tests for capstone decoding of jumps and a libpython stub. */
#include "pyver.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "disasm.h"
#include "mem.h"
#include "symbols.h"

START_TEST(test_jmp_rel32)
{
    const uint64_t at = 0x7f0000001000ULL;
    const int32_t rel = 0x12345;
    uint8_t code[5] = {0xE9};
    mt_insn in[2];
    char want[64];

    memcpy(code + 1, &rel, 4);
    ck_assert_uint_eq(mt_disasm(code, sizeof code, at, in, 2), 1);
    ck_assert_uint_eq(in[0].size, 5);
    ck_assert_uint_eq(in[0].address, at);
    ck_assert_uint_eq(in[0].target, at + 5 + rel);
    snprintf(want, sizeof want, "jmp 0x%llx",
             (unsigned long long)(at + 5 + rel));
    ck_assert_str_eq(in[0].text, want);
    ck_assert_mem_eq(in[0].bytes, code, 5);

    /* Backwards, and a call. */
    const int32_t back = -0x100;
    code[0] = 0xE8;
    memcpy(code + 1, &back, 4);
    ck_assert_uint_eq(mt_disasm(code, sizeof code, at, in, 2), 1);
    ck_assert_uint_eq(in[0].target, at + 5 - 0x100);
    ck_assert(strncmp(in[0].text, "call ", 5) == 0);
}
END_TEST

START_TEST(test_jmp_abs64)
{
    uint8_t code[14] = {0xFF, 0x25, 0, 0, 0, 0};
    const uint64_t dst = 0x1122334455667788ULL;
    mt_insn in[4];

    memcpy(code + 6, &dst, 8);
    ck_assert_uint_ge(mt_disasm(code, sizeof code, 0x400000, in, 4), 1);
    ck_assert_uint_eq(in[0].size, 6);
    ck_assert_str_eq(in[0].text, "jmp qword ptr [rip]");
    ck_assert_uint_eq(in[0].target, 0);   /* indirect: no direct target */
}
END_TEST

START_TEST(test_stops_at_bad_byte)
{
    /* 0x06 (push es) does not exist in 64-bit mode. */
    const uint8_t code[] = {0x90, 0xC3, 0x06, 0x90};
    mt_insn in[4];
    ck_assert_uint_eq(mt_disasm(code, sizeof code, 0x1000, in, 4), 2);
    ck_assert_str_eq(in[0].text, "nop");
    ck_assert_str_eq(in[1].text, "ret");
    /* max is respected. */
    ck_assert_uint_eq(mt_disasm(code, sizeof code, 0x1000, in, 1), 1);
}
END_TEST

START_TEST(test_pycode_optimize_stub)
{
    uintptr_t a = 0;
    const char *why = NULL;
    uint8_t code[64];
    mt_insn in[16];

    ck_assert_msg(mt_sym_lookup("PyCode_Optimize", &a, &why) == 0, "%s", why);
    size_t size = mt_sym_size(a);
    ck_assert_uint_gt(size, 0);
    ck_assert_uint_le(size, sizeof code);
    ck_assert_uint_eq(mt_mem_read(a, code, size, NULL), size);
    size_t n = mt_disasm(code, size, a, in, 16);
    ck_assert_uint_ge(n, 2);
    ck_assert_str_eq(in[n - 1].text, "ret");
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += in[i].size;
    }
    ck_assert_uint_eq(total, size);
#if PY_VERSION_HEX >= 0x030C0000
    /* The incref of an interpreter with immortal objects: the low 32 bits
     * of ob_refcnt are read, compared with the immortal mark, and only
     * then written back one higher. */
    int reads = 0;
    for (size_t i = 0; i < n; i++) {
        reads += strstr(in[i].text, "dword ptr [rdi]") != NULL;
    }
    ck_assert_msg(reads >= 2, "no 32-bit read and write of ob_refcnt in %s", in[0].text);
#else
    /* The incref: an add of 1 to the object's first word (ob_refcnt). */
    ck_assert_msg(strncmp(in[0].text, "add qword ptr [rdi], 1", 22) == 0,
                  "%s", in[0].text);
#endif
}
END_TEST

START_TEST(test_version)
{
    char v[16];
    ck_assert_int_eq(mt_disasm_version(v, sizeof v), 0);
    ck_assert(v[0] >= '1' && v[0] <= '9');
    ck_assert_ptr_nonnull(strchr(v, '.'));
}
END_TEST

Suite *mt_disasm_suite(void);

Suite *
mt_disasm_suite(void)
{
    Suite *s = suite_create("disasm");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_jmp_rel32);
    tcase_add_test(tc, test_jmp_abs64);
    tcase_add_test(tc, test_stops_at_bad_byte);
    tcase_add_test(tc, test_pycode_optimize_stub);
    tcase_add_test(tc, test_version);
    suite_add_tcase(s, tc);
    return s;
}
