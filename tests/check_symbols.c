/* check_symbols.c — tests for libpython names: dlsym, debug symbols, describe. */
#include <Python.h>

#include <check.h>
#include <dlfcn.h>
#include <inttypes.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "symbols.h"
#include "pyver.h"

/* An address is inside libpython's code when its mapping is r-x and the
 * mapping's file is the library the service found. */
static void
assert_in_libpython_code(uintptr_t a)
{
    mt_mapping m;
    char real_lib[PATH_MAX], real_map[PATH_MAX];
    ck_assert_int_eq(mt_mem_mapping(a, &m), 0);
    ck_assert_str_eq(m.perms, "r-xp");
    ck_assert_ptr_nonnull(realpath(mt_sym_libpython_path(), real_lib));
    ck_assert_ptr_nonnull(realpath(m.path, real_map));
    ck_assert_str_eq(real_lib, real_map);
}

START_TEST(test_libpython_found)
{
    const char *path = mt_sym_libpython_path();
    const char *id = mt_sym_libpython_build_id();
    ck_assert_ptr_nonnull(strstr(path, MT_T_LIBPY));
    /* A GNU build-id is 20 bytes (sha1): 40 hex digits. */
    ck_assert_uint_eq(strlen(id), 40);
    ck_assert_uint_eq(strspn(id, "0123456789abcdef"), 40);
    ck_assert_str_eq(mt_sym_debug_dir(), getenv("MINISTRY_DEBUG_DIR")
                     ? getenv("MINISTRY_DEBUG_DIR") : "/usr/lib/debug");
}
END_TEST

START_TEST(test_exported_lookup)
{
    uintptr_t a = 0;
    const char *why = NULL;
    char buf[256];
    ck_assert_int_eq(mt_sym_lookup("PyNumber_Add", &a, &why), 0);
    ck_assert_uint_eq(a, (uintptr_t)&PyNumber_Add);
    ck_assert_int_eq(mt_sym_lookup("PyLong_Type", &a, &why), 0);
    ck_assert_uint_eq(a, (uintptr_t)&PyLong_Type);
    ck_assert_int_eq(mt_sym_describe((uintptr_t)&PyNumber_Add, buf,
                                     sizeof buf), 0);
    ck_assert_ptr_nonnull(strstr(buf, "PyNumber_Add (" MT_T_LIBPY "+0x"));
    ck_assert_int_eq(mt_sym_describe((uintptr_t)&PyNumber_Add + 3, buf,
                                     sizeof buf), 0);
    ck_assert_ptr_nonnull(strstr(buf, "PyNumber_Add+0x3 ("));
    ck_assert_uint_gt(mt_sym_size((uintptr_t)&PyNumber_Add), 0);
    ck_assert_uint_eq(mt_sym_size((uintptr_t)&PyNumber_Add + 1), 0);
}
END_TEST

START_TEST(test_static_lookup)
{
    static const char *const names[] = {"long_add", MT_T_FOLDER};
    const char *why = NULL;
    char buf[256], name[128], expect[160];

    ck_assert_msg(mt_sym_debug_ready(&why) == 0, "%s", why ? why : "");
    ck_assert_ptr_nonnull(mt_sym_debug_path());
    ck_assert_ptr_nonnull(strstr(mt_sym_debug_path(),
                                 mt_sym_libpython_build_id() + 2));
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        uintptr_t a = 0;
        ck_assert_msg(mt_sym_lookup(names[i], &a, &why) == 0, "%s", why);
        ck_assert_uint_ne(a, 0);
        assert_in_libpython_code(a);
        ck_assert_int_eq(mt_sym_name(a, name, sizeof name), 0);
        ck_assert_str_eq(name, names[i]);
        ck_assert_int_eq(mt_sym_describe(a, buf, sizeof buf), 0);
        snprintf(expect, sizeof expect, "%s (" MT_T_LIBPY "+0x",
                 names[i]);
        ck_assert_msg(strncmp(buf, expect, strlen(expect)) == 0, "%s", buf);
    }
    ck_assert_int_eq(mt_sym_lookup("no_such_function_anywhere", &(uintptr_t){0},
                                   &why), -1);
    ck_assert_ptr_nonnull(strstr(why, "no_such_function_anywhere"));
}
END_TEST

START_TEST(test_nb_add_is_long_add)
{
    uintptr_t nb_add = (uintptr_t)PyLong_Type.tp_as_number->nb_add;
    uintptr_t a = 0;
    char buf[256];
    ck_assert_int_eq(mt_sym_describe(nb_add, buf, sizeof buf), 0);
    ck_assert_msg(strncmp(buf, MT_T_NB_ADD " (" MT_T_LIBPY "+0x",
                          strlen(MT_T_NB_ADD " (" MT_T_LIBPY "+0x")) == 0, "%s", buf);
    ck_assert_int_eq(mt_sym_lookup(MT_T_NB_ADD, &a, NULL), 0);
    ck_assert_uint_eq(a, nb_add);
    /* The offsets printed are file offsets: their difference is the
     * distance between the two functions in memory. */
    char ref[256];
    ck_assert_int_eq(mt_sym_describe((uintptr_t)&PyNumber_Add, ref,
                                     sizeof ref), 0);
    unsigned long off_ref = strtoul(strstr(ref, "+0x") + 3, NULL, 16);
    unsigned long off_add = strtoul(strstr(buf, "+0x") + 3, NULL, 16);
    ck_assert_uint_eq(off_add - off_ref, nb_add - (uintptr_t)&PyNumber_Add);
}
END_TEST

START_TEST(test_size)
{
    uintptr_t a = 0;
    ck_assert_int_eq(mt_sym_lookup(MT_T_FOLDER, &a, NULL), 0);
    ck_assert_uint_gt(mt_sym_size(a), 16);
    ck_assert_uint_eq(mt_sym_size(a + 1), 0);
}
END_TEST

/* Once the debug file is open, names inside libpython come from its
 * sorted table, not dladdr: they must be the names, offsets and sizes
 * dladdr gives for exported functions, and still find statics. */
START_TEST(test_names_from_debug_table)
{
    const char *why = NULL;
    ck_assert_msg(mt_sym_debug_ready(&why) == 0, "%s", why ? why : "");
    const void *const exported[] = {(const void *)&PyNumber_Add, (const void *)&PyLong_FromLong,
                                    (const void *)&PyObject_GetAttr, (const void *)&PyRun_SimpleStringFlags};
    for (size_t i = 0; i < sizeof exported / sizeof exported[0]; i++) {
        Dl_info info;
        const ElfW(Sym) *es = NULL;
        uintptr_t a = (uintptr_t)exported[i];
        ck_assert_int_ne(dladdr1(exported[i], &info, (void **)&es, RTLD_DL_SYMENT), 0);
        ck_assert_ptr_nonnull(es);
        for (uintptr_t off = 0; off < 3 && off < es->st_size; off++) {
            char buf[256], expect[256];
            if (off == 0) {
                snprintf(expect, sizeof expect, "%s (" MT_T_LIBPY "+0x%" PRIxPTR ")",
                         info.dli_sname, a - (uintptr_t)info.dli_fbase);
            } else {
                snprintf(expect, sizeof expect, "%s+0x%" PRIxPTR " (" MT_T_LIBPY "+0x%" PRIxPTR ")",
                         info.dli_sname, off, a + off - (uintptr_t)info.dli_fbase);
            }
            ck_assert_int_eq(mt_sym_describe(a + off, buf, sizeof buf), 0);
            ck_assert_str_eq(buf, expect);
        }
        ck_assert_uint_eq(mt_sym_size(a), es->st_size);
    }
    uintptr_t a = 0;
    char name[128];
    ck_assert_int_eq(mt_sym_lookup(MT_T_FOLDER, &a, NULL), 0);
    ck_assert_int_eq(mt_sym_name(a + 1, name, sizeof name), 0);
    ck_assert_str_eq(name, MT_T_FOLDER);
}
END_TEST

START_TEST(test_other_library)
{
    char buf[256];
    /* libc: a dladdr name; an anonymous heap address: nothing. */
    ck_assert_int_eq(mt_sym_describe((uintptr_t)&getpid, buf, sizeof buf), 0);
    ck_assert_ptr_nonnull(strstr(buf, "getpid"));
    ck_assert_ptr_nonnull(strstr(buf, "libc.so.6+0x"));
    void *heap = malloc(64);
    ck_assert_int_eq(mt_sym_describe((uintptr_t)heap, buf, sizeof buf), -1);
    ck_assert(strncmp(buf, "0x", 2) == 0);
    ck_assert_int_eq(mt_sym_name((uintptr_t)heap, buf, sizeof buf), -1);
    free(heap);
}
END_TEST

START_TEST(test_missing_debug_dir)
{
    char dir[] = "/tmp/mt-nodebug-XXXXXX";
    const char *why = NULL, *why2 = NULL;
    uintptr_t a = 0;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("MINISTRY_DEBUG_DIR", dir, 1);   /* before first use */
    ck_assert_str_eq(mt_sym_debug_dir(), dir);
    ck_assert_int_eq(mt_sym_debug_ready(&why), -1);
    ck_assert_ptr_nonnull(why);
    ck_assert_ptr_nonnull(strstr(why, "apt-get install " MT_T_DBG_PKG));
    ck_assert_ptr_nonnull(strstr(why, dir));
    ck_assert_ptr_nonnull(strstr(why, mt_sym_libpython_build_id() + 2));
    ck_assert_ptr_null(mt_sym_debug_path());
    /* Stable: the same string every time. */
    ck_assert_int_eq(mt_sym_debug_ready(&why2), -1);
    ck_assert_ptr_eq(why, why2);

    ck_assert_int_eq(mt_sym_lookup("long_add", &a, &why), -1);
    ck_assert_ptr_nonnull(strstr(why, MT_T_DBG_PKG));
    ck_assert_int_eq(mt_sym_lookup("PyNumber_Add", &a, &why), 0);
    ck_assert_uint_eq(a, (uintptr_t)&PyNumber_Add);
    /* describe falls back to the file alone for a static function. */
    char buf[256];
    int rc = mt_sym_describe((uintptr_t)PyLong_Type.tp_as_number->nb_add,
                             buf, sizeof buf);
    ck_assert_int_eq(rc, 1);
    ck_assert(strncmp(buf, MT_T_LIBPY "+0x", strlen(MT_T_LIBPY "+0x")) == 0);
    rmdir(dir);
}
END_TEST

START_TEST(test_mismatched_debug_file)
{
    /* A debug file at the right place but from another build. */
    char dir[] = "/tmp/mt-baddebug-XXXXXX";
    char sub[PATH_MAX], file[PATH_MAX + 160];
    const char *id, *why = NULL;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("MINISTRY_DEBUG_DIR", dir, 1);
    id = mt_sym_libpython_build_id();
    snprintf(sub, sizeof sub, "%s/.build-id", dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    snprintf(sub, sizeof sub, "%s/.build-id/%.2s", dir, id);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    snprintf(file, sizeof file, "%s/%s.debug", sub, id + 2);
    /* Any other ELF file with a build-id: this test program itself. */
    ck_assert_int_eq(symlink("/proc/self/exe", file), 0);
    ck_assert_int_eq(mt_sym_debug_ready(&why), -1);
    ck_assert_ptr_nonnull(strstr(why, "do not match"));
    ck_assert_ptr_nonnull(strstr(why, "apt-get install " MT_T_DBG_PKG));
    unlink(file);
    rmdir(sub);
    snprintf(sub, sizeof sub, "%s/.build-id", dir);
    rmdir(sub);
    rmdir(dir);
}
END_TEST

Suite *mt_symbols_suite(void);

Suite *
mt_symbols_suite(void)
{
    Suite *s = suite_create("symbols");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_libpython_found);
    tcase_add_test(tc, test_exported_lookup);
    tcase_add_test(tc, test_static_lookup);
    tcase_add_test(tc, test_nb_add_is_long_add);
    tcase_add_test(tc, test_size);
    tcase_add_test(tc, test_names_from_debug_table);
    tcase_add_test(tc, test_other_library);
    tcase_add_test(tc, test_missing_debug_dir);
    tcase_add_test(tc, test_mismatched_debug_file);
    suite_add_tcase(s, tc);
    return s;
}
