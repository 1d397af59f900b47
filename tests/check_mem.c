/* check_mem.c — tests for safe self-reads, /proc/self/maps and protected writes. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mem.h"

static size_t
pagesz(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* Three pages; the middle one unmapped: a hole between two readable pages. */
static uint8_t *
map_with_hole(void)
{
    size_t ps = pagesz();
    uint8_t *p = mmap(NULL, 3 * ps, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(p, MAP_FAILED);
    memset(p, 0xA1, ps);
    memset(p + 2 * ps, 0xA3, ps);
    ck_assert_int_eq(munmap(p + ps, ps), 0);
    return p;
}

static void
check_straddle_into_hole(void)
{
    size_t ps = pagesz();
    uint8_t *p = map_with_hole();
    uint8_t buf[32], ok[32];
    memset(buf, 0x55, sizeof buf);
    memset(ok, 0x55, sizeof ok);
    /* 10 readable bytes at the end of page 0, then 22 in the hole. */
    size_t n = mt_mem_read((uintptr_t)(p + ps - 10), buf, sizeof buf, ok);
    ck_assert_uint_eq(n, 10);
    for (size_t i = 0; i < sizeof buf; i++) {
        ck_assert_uint_eq(ok[i], i < 10 ? 1 : 0);
        ck_assert_uint_eq(buf[i], i < 10 ? 0xA1 : 0);
    }
    /* A read over the whole hole sees both sides of it. */
    size_t big = 3 * ps;
    uint8_t *b = malloc(big), *o = malloc(big);
    ck_assert_uint_eq(mt_mem_read((uintptr_t)p, b, big, o), 2 * ps);
    ck_assert_uint_eq(o[0], 1);
    ck_assert_uint_eq(o[ps - 1], 1);
    ck_assert_uint_eq(o[ps], 0);
    ck_assert_uint_eq(o[2 * ps - 1], 0);
    ck_assert_uint_eq(o[2 * ps], 1);
    ck_assert_uint_eq(b[2 * ps], 0xA3);
    ck_assert_uint_eq(b[ps], 0);
    free(b);
    free(o);
    munmap(p, ps);
    munmap(p + 2 * ps, ps);
}

static void
check_reads(void)
{
    static const char text[] = "two plus two";
    char buf[sizeof text];
    uint8_t ok[sizeof text];
    size_t ps = pagesz();

    /* Mapped. */
    ck_assert_uint_eq(mt_mem_read((uintptr_t)text, buf, sizeof text, ok),
                      sizeof text);
    ck_assert_str_eq(buf, text);
    for (size_t i = 0; i < sizeof text; i++) {
        ck_assert_uint_eq(ok[i], 1);
    }
    /* NULL. */
    memset(ok, 1, sizeof ok);
    ck_assert_uint_eq(mt_mem_read(0, buf, 8, ok), 0);
    ck_assert_uint_eq(ok[0], 0);
    ck_assert_uint_eq(ok[7], 0);
    /* The hole in the middle of three pages. */
    uint8_t *p = map_with_hole();
    memset(ok, 1, sizeof ok);
    ck_assert_uint_eq(mt_mem_read((uintptr_t)(p + ps + 100), buf, 8, ok), 0);
    ck_assert_uint_eq(ok[3], 0);
    ck_assert_uint_eq(mt_mem_read((uintptr_t)(p + 2 * ps), buf, 4, ok), 4);
    ck_assert_uint_eq((uint8_t)buf[0], 0xA3);
    munmap(p, ps);
    munmap(p + 2 * ps, ps);
    /* A PROT_NONE page that has content behind it. */
    uint8_t *q = mmap(NULL, ps, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(q, MAP_FAILED);
    memset(q, 0x77, ps);
    ck_assert_int_eq(mprotect(q, ps, PROT_NONE), 0);
    memset(ok, 1, sizeof ok);
    ck_assert_uint_eq(mt_mem_read((uintptr_t)q, buf, 8, ok), 0);
    ck_assert_uint_eq(ok[0], 0);
    ck_assert_uint_eq((uint8_t)buf[0], 0);
    munmap(q, ps);
    /* A forged pointer: non-canonical, and a high canonical one. */
    ck_assert_uint_eq(mt_mem_read((uintptr_t)0xdead00000000beefULL, buf, 8,
                                  NULL), 0);
    ck_assert_uint_eq(mt_mem_read((uintptr_t)0x00007ffffffff000ULL - 8, buf,
                                  8, NULL), 0);
    check_straddle_into_hole();
}

START_TEST(test_read)
{
    check_reads();
}
END_TEST

START_TEST(test_read_fallback)
{
    /* The /proc/self/mem path agrees with process_vm_readv on every case. */
    mt_mem_force_fallback(1);
    check_reads();
    mt_mem_force_fallback(0);
}
END_TEST

START_TEST(test_read_fallback_really_used)
{
    /* Prove the forced path reads through /proc/self/mem: a page whose
     * readability differs between the two paths would do, but none does by
     * design, so count the fd instead: the fallback opens /proc/self/mem. */
    uint8_t v = 42, out = 0;
    char link[64], target[256];
    int found = 0;
    mt_mem_force_fallback(1);
    ck_assert_uint_eq(mt_mem_read((uintptr_t)&v, &out, 1, NULL), 1);
    mt_mem_force_fallback(0);
    ck_assert_uint_eq(out, 42);
    for (int fd = 0; fd < 1024 && !found; fd++) {
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n > 0) {
            target[n] = '\0';
            size_t tl = strlen(target);
            found = strncmp(target, "/proc/", 6) == 0 && tl > 4
                    && strcmp(target + tl - 4, "/mem") == 0;
        }
    }
    ck_assert_msg(found, "forced fallback did not open /proc/self/mem");
}
END_TEST

START_TEST(test_mappings)
{
    mt_mapping m;
    char perms[5];
    int local = 0;

    ck_assert_int_eq(mt_mem_mapping((uintptr_t)&mt_mem_read, &m), 0);
    ck_assert_str_eq(m.perms, "r-xp");
    ck_assert_uint_le(m.start, (uintptr_t)&mt_mem_read);
    ck_assert_uint_gt(m.end, (uintptr_t)&mt_mem_read);
    ck_assert(m.path[0] == '/');
    mt_mem_perms((uintptr_t)&local, perms);
    ck_assert_str_eq(perms, "rw-p");
    ck_assert_int_eq(mt_mem_mapping((uintptr_t)&local, &m), 0);
    ck_assert_str_eq(m.path, "[stack]");
    ck_assert_int_eq(mt_mem_mapping(0, &m), -1);
    mt_mem_perms(0, perms);
    ck_assert_str_eq(perms, "----");
}
END_TEST

START_TEST(test_any_wx)
{
    size_t ps = pagesz();
    char *where = (char *)1;
    ck_assert_int_eq(mt_mem_any_wx(&where), 0);
    ck_assert_ptr_null(where);
    void *p = mmap(NULL, ps, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(p, MAP_FAILED);
    ck_assert_int_eq(mt_mem_any_wx(&where), 1);
    ck_assert_ptr_nonnull(where);
    ck_assert_ptr_nonnull(strstr(where, "rwxp"));
    free(where);
    munmap(p, ps);
    ck_assert_int_eq(mt_mem_any_wx(NULL), 0);
}
END_TEST

START_TEST(test_write_protected)
{
    size_t ps = pagesz();
    uint8_t *p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char perms[5];
    char *err = NULL;
    static const uint8_t patch[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t before[64], after[64], changed[64];

    ck_assert_ptr_ne(p, MAP_FAILED);
    memset(p, 0xC3, 2 * ps);
    ck_assert_int_eq(mprotect(p, ps, PROT_READ | PROT_EXEC), 0);
    ck_assert_int_eq(mprotect(p + ps, ps, PROT_READ), 0);
    memcpy(before, p + ps - 32, sizeof before);

    /* Three bytes on the r-x page, five on the r-- page. */
    ck_assert_int_eq(mt_mem_write_protected((uintptr_t)(p + ps - 3), patch,
                                            sizeof patch, &err), 0);
    ck_assert_ptr_null(err);
    ck_assert_mem_eq(p + ps - 3, patch, sizeof patch);
    mt_mem_perms((uintptr_t)p, perms);
    ck_assert_str_eq(perms, "r-xp");
    mt_mem_perms((uintptr_t)(p + ps), perms);
    ck_assert_str_eq(perms, "r--p");
    ck_assert_int_eq(mt_mem_any_wx(NULL), 0);

    memcpy(after, p + ps - 32, sizeof after);
    ck_assert_uint_eq(mt_mem_diff(before, after, sizeof before, changed), 8);
    for (size_t i = 0; i < sizeof changed; i++) {
        ck_assert_uint_eq(changed[i], i >= 29 && i < 37);
    }

    /* Unmapped: refused with a message, nothing written. */
    ck_assert_int_eq(munmap(p + ps, ps), 0);
    ck_assert_int_eq(mt_mem_write_protected((uintptr_t)(p + ps - 3), patch,
                                            sizeof patch, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "not mapped"));
    free(err);
    ck_assert_uint_eq(p[ps - 3], 1);
    mt_mem_perms((uintptr_t)p, perms);
    ck_assert_str_eq(perms, "r-xp");
    munmap(p, ps);
}
END_TEST

START_TEST(test_diff)
{
    const uint8_t a[5] = {1, 2, 3, 4, 5};
    const uint8_t b[5] = {1, 9, 3, 9, 5};
    uint8_t ch[5];
    ck_assert_uint_eq(mt_mem_diff(a, b, 5, ch), 2);
    ck_assert_uint_eq(ch[0], 0);
    ck_assert_uint_eq(ch[1], 1);
    ck_assert_uint_eq(ch[3], 1);
    ck_assert_uint_eq(mt_mem_diff(a, a, 5, NULL), 0);
}
END_TEST

Suite *mt_mem_suite(void);

/* The ioctl answers and the text answers agree: code, data, stack, heap,
 * an anonymous page, an unmapped one, and the W+X list. */
START_TEST(test_maps_ioctl_and_text_agree)
{
    long ps = sysconf(_SC_PAGESIZE);
    uint8_t *anon = mmap(NULL, (size_t)ps * 3, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(anon, MAP_FAILED);
    munmap(anon + ps, (size_t)ps);
    int local = 0;
    void *heap = malloc(64);
    uintptr_t probes[] = {(uintptr_t)&mt_mem_read, (uintptr_t)&probes, (uintptr_t)&local,
                          (uintptr_t)heap, (uintptr_t)anon, (uintptr_t)(anon + ps),
                          (uintptr_t)&printf, 0};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        mt_mapping a, b;
        mt_mem_force_maps_text(0);
        int ra = mt_mem_mapping(probes[i], &a);
        mt_mem_force_maps_text(1);
        int rb = mt_mem_mapping(probes[i], &b);
        ck_assert_int_eq(ra, rb);
        if (ra == 0) {
            ck_assert_uint_eq(a.start, b.start);
            ck_assert_uint_eq(a.end, b.end);
            ck_assert_uint_eq(a.offset, b.offset);
            ck_assert_str_eq(a.perms, b.perms);
            ck_assert_str_eq(a.path, b.path);
        }
    }
    uint8_t *wx = mmap(NULL, (size_t)ps, PROT_READ | PROT_WRITE | PROT_EXEC,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(wx, MAP_FAILED);
    size_t na, nb;
    mt_mem_force_maps_text(0);
    mt_mapping *va = mt_mem_wx_list(&na);
    mt_mem_force_maps_text(1);
    mt_mapping *vb = mt_mem_wx_list(&nb);
    mt_mem_force_maps_text(0);
    ck_assert_uint_ge(na, 1);
    ck_assert_uint_eq(na, nb);
    for (size_t i = 0; i < na; i++) {
        ck_assert_uint_eq(va[i].start, vb[i].start);
        ck_assert_str_eq(va[i].perms, vb[i].perms);
    }
    free(va);
    free(vb);
    munmap(wx, (size_t)ps);
    munmap(anon, (size_t)ps);
    munmap(anon + 2 * ps, (size_t)ps);
    free(heap);
}
END_TEST

Suite *
mt_mem_suite(void)
{
    Suite *s = suite_create("mem");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_read);
    tcase_add_test(tc, test_read_fallback);
    tcase_add_test(tc, test_read_fallback_really_used);
    tcase_add_test(tc, test_mappings);
    tcase_add_test(tc, test_any_wx);
    tcase_add_test(tc, test_write_protected);
    tcase_add_test(tc, test_diff);
    tcase_add_test(tc, test_maps_ioctl_and_text_agree);
    suite_add_tcase(s, tc);
    return s;
}
