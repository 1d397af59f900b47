/* check_wire.c — the worker's messages: a step result survives the wire
 * with every field, and every truncated or damaged message is refused
 * without a byte read past its end (a guard page stands right after it). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "layout.h"
#include "result.h"
#include "util.h"
#include "wire.h"

/* ---- a result with every field set ---------------------------------------- */

static void
fill_insns(mt_insn_result **v, uint32_t *n, uint64_t at, int k)
{
    *n = (uint32_t)k;
    *v = mt_xcalloc((size_t)k, sizeof **v);
    for (int i = 0; i < k; i++) {
        (*v)[i].address = at + (uint64_t)i * 5;
        (*v)[i].size = 5;
        (*v)[i].text = mt_xasprintf("jmp 0x%llx", (unsigned long long)(at + 0x1000 + i));
        (*v)[i].target = mt_xstrdup(i == 0 ? "long_add" : "");
    }
}

static mt_step_result *
full_result(void)
{
    mt_step_result *r = mt_result_new();
    r->stage = 7;
    r->step = -1;                      /* negative numbers survive too */
    r->status = MT_ST_TIMEOUT;
    r->patched = 1;
    r->restored = 1;
    r->seconds = 0.0123456789;
    free(r->out);
    r->out = mt_xstrdup("2 + 2 = 5\n… ünïcödé\n");
    free(r->err);
    r->err = mt_xstrdup("warning: on stderr\n");
    free(r->traceback);
    r->traceback = mt_xstrdup("Traceback (most recent call last):\n  boom\n");
    free(r->code_roles);
    r->code_roles = mt_xstrdup("kkk nnn o ddd");
    mt_result_note(r, "RESTORED: something");
    mt_result_note(r, "a second note");

    r->nregions = 3;
    r->regions = mt_xcalloc(3, sizeof *r->regions);
    for (uint32_t i = 0; i < r->nregions; i++) {
        mt_region_result *g = &r->regions[i];
        uint32_t len = i == 0 ? 32 : i == 1 ? 20 : 0;   /* an empty one too */
        g->label = mt_xasprintf("region-%u", i);
        g->expr = mt_xasprintf("id(%u)", i);
        g->layout = mt_xstrdup(i == 0 ? "PyLongObject" : i == 1 ? "code" : "raw");
        g->symbol = mt_xstrdup(i == 1 ? "_PyAST_Optimize" : "");
        g->address = 0x7f0000001000ULL + i * 0x100;
        g->len = len;
        g->is_code = i == 1;
        g->before = mt_xmalloc(len + 1);
        g->after = mt_xmalloc(len + 1);
        g->ok_before = mt_xmalloc(len + 1);
        g->ok_after = mt_xmalloc(len + 1);
        for (uint32_t j = 0; j < len; j++) {
            g->before[j] = (uint8_t)(j * 7 + i);
            g->after[j] = (uint8_t)(j * 7 + i + (j % 3 == 0));
            g->ok_before[j] = j != 5;
            g->ok_after[j] = j != 6;
        }
        snprintf(g->perms_before, 5, "%s", i == 1 ? "r-xp" : "rw-p");
        snprintf(g->perms_after, 5, "%s", i == 1 ? "r-xp" : "rw-p");
        if (i == 0) {
            g->nfields = 2;
            g->fields = mt_xcalloc(2, sizeof *g->fields);
            g->fields[0] = (mt_field_result){mt_xstrdup("ob_refcnt"), 0, 8, MT_FK_INT,
                                             MT_FF_VOLATILE, mt_xstrdup("1000000042"),
                                             mt_xstrdup("1000000043"), mt_xstrdup(""),
                                             mt_xstrdup("")};
            g->fields[1] = (mt_field_result){mt_xstrdup("ob_type"), 8, 8, MT_FK_TYPEPTR, 0,
                                             mt_xstrdup("0x7f0000000010"),
                                             mt_xstrdup("0x7f0000000020"), mt_xstrdup("int"),
                                             mt_xstrdup("Int2")};
        }
        if (i == 1) {
            fill_insns(&g->insn_before, &g->ninsn_before, g->address, 3);
            fill_insns(&g->insn_after, &g->ninsn_after, g->address, 1);
        }
    }
    return r;
}

static void
same_insns(const mt_insn_result *a, uint32_t na, const mt_insn_result *b, uint32_t nb)
{
    ck_assert_uint_eq(na, nb);
    for (uint32_t i = 0; i < na; i++) {
        ck_assert_uint_eq(a[i].address, b[i].address);
        ck_assert_uint_eq(a[i].size, b[i].size);
        ck_assert_str_eq(a[i].text, b[i].text);
        ck_assert_str_eq(a[i].target, b[i].target);
    }
}

static void
same_result(const mt_step_result *a, const mt_step_result *b)
{
    ck_assert_int_eq(a->stage, b->stage);
    ck_assert_int_eq(a->step, b->step);
    ck_assert_uint_eq(a->status, b->status);
    ck_assert_uint_eq(a->patched, b->patched);
    ck_assert_uint_eq(a->restored, b->restored);
    ck_assert(memcmp(&a->seconds, &b->seconds, sizeof a->seconds) == 0);
    ck_assert_str_eq(a->out, b->out);
    ck_assert_str_eq(a->err, b->err);
    ck_assert_str_eq(a->traceback, b->traceback);
    ck_assert_str_eq(a->code_roles, b->code_roles);
    ck_assert_str_eq(a->notes, b->notes);
    ck_assert_uint_eq(a->nregions, b->nregions);
    for (uint32_t i = 0; i < a->nregions; i++) {
        const mt_region_result *g = &a->regions[i], *h = &b->regions[i];
        ck_assert_str_eq(g->label, h->label);
        ck_assert_str_eq(g->expr, h->expr);
        ck_assert_str_eq(g->layout, h->layout);
        ck_assert_str_eq(g->symbol, h->symbol);
        ck_assert_uint_eq(g->address, h->address);
        ck_assert_uint_eq(g->len, h->len);
        ck_assert_uint_eq(g->is_code, h->is_code);
        ck_assert(memcmp(g->before, h->before, g->len) == 0);
        ck_assert(memcmp(g->after, h->after, g->len) == 0);
        ck_assert(memcmp(g->ok_before, h->ok_before, g->len) == 0);
        ck_assert(memcmp(g->ok_after, h->ok_after, g->len) == 0);
        ck_assert_str_eq(g->perms_before, h->perms_before);
        ck_assert_str_eq(g->perms_after, h->perms_after);
        ck_assert_uint_eq(g->nfields, h->nfields);
        for (uint32_t j = 0; j < g->nfields; j++) {
            const mt_field_result *f = &g->fields[j], *e = &h->fields[j];
            ck_assert_str_eq(f->name, e->name);
            ck_assert_uint_eq(f->offset, e->offset);
            ck_assert_uint_eq(f->size, e->size);
            ck_assert_uint_eq(f->kind, e->kind);
            ck_assert_uint_eq(f->flags, e->flags);
            ck_assert_str_eq(f->value_before, e->value_before);
            ck_assert_str_eq(f->value_after, e->value_after);
            ck_assert_str_eq(f->decoded_before, e->decoded_before);
            ck_assert_str_eq(f->decoded_after, e->decoded_after);
        }
        same_insns(g->insn_before, g->ninsn_before, h->insn_before, h->ninsn_before);
        same_insns(g->insn_after, g->ninsn_after, h->insn_after, h->ninsn_after);
    }
}

/* ---- bytes that end right before a guard page --------------------------- */

typedef struct fenced {
    uint8_t *map;
    size_t maplen;
    uint8_t *data;       /* n bytes, the last one right before PROT_NONE */
} fenced;

static fenced
fence(const uint8_t *src, size_t n)
{
    long ps = sysconf(_SC_PAGESIZE);
    size_t pages = (n + (size_t)ps - 1) / (size_t)ps + 1;
    fenced f;
    f.maplen = pages * (size_t)ps;
    f.map = mmap(NULL, f.maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(f.map, MAP_FAILED);
    uint8_t *guard = f.map + f.maplen - (size_t)ps;
    ck_assert_int_eq(mprotect(guard, (size_t)ps, PROT_NONE), 0);
    f.data = guard - n;
    if (n > 0) {
        memcpy(f.data, src, n);
    }
    /* Read-only: the decoder must not write to what it decodes either. */
    ck_assert_int_eq(mprotect(f.map, f.maplen - (size_t)ps, PROT_READ), 0);
    return f;
}

static void
unfence(fenced *f)
{
    munmap(f->map, f->maplen);
}

/* Decode n bytes that end at a guard page. */
static mt_step_result *
decode_fenced(const uint8_t *src, size_t n)
{
    fenced f = fence(src, n);
    mt_step_result *r = mt_result_decode(f.data, n);
    unfence(&f);
    return r;
}

/* ---- tests --------------------------------------------------------------- */

START_TEST(test_round_trip_every_field)
{
    mt_step_result *r = full_result();
    size_t len;
    uint8_t *buf = mt_result_encode(r, &len);
    mt_step_result *d = decode_fenced(buf, len);
    ck_assert_ptr_nonnull(d);
    same_result(r, d);
    /* Encoding what was decoded gives the same bytes. */
    size_t len2;
    uint8_t *buf2 = mt_result_encode(d, &len2);
    ck_assert_uint_eq(len, len2);
    ck_assert(memcmp(buf, buf2, len) == 0);
    free(buf2);
    mt_result_free(d);
    free(buf);
    mt_result_free(r);
}
END_TEST

START_TEST(test_round_trip_empty)
{
    mt_step_result *r = mt_result_new();
    size_t len;
    uint8_t *buf = mt_result_encode(r, &len);
    mt_step_result *d = decode_fenced(buf, len);
    ck_assert_ptr_nonnull(d);
    same_result(r, d);
    ck_assert_int_eq(d->step, -1);
    mt_result_free(d);
    free(buf);
    mt_result_free(r);
}
END_TEST

/* Every proper prefix of a valid message, the empty one included, is
 * malformed: NULL, and (guard page) nothing read past its end. */
START_TEST(test_every_truncation)
{
    mt_step_result *r = full_result();
    size_t len;
    uint8_t *buf = mt_result_encode(r, &len);
    ck_assert_uint_gt(len, 500);
    for (size_t n = 0; n < len; n++) {
        mt_step_result *d = decode_fenced(buf, n);
        ck_assert_msg(d == NULL, "a message cut to %zu of %zu bytes decoded", n, len);
    }
    free(buf);
    mt_result_free(r);
}
END_TEST

/* One byte more than the message is also malformed. */
START_TEST(test_trailing_byte)
{
    mt_step_result *r = full_result();
    size_t len;
    uint8_t *buf = mt_result_encode(r, &len);
    buf = mt_xrealloc(buf, len + 1);
    buf[len] = 0;
    ck_assert_ptr_null(decode_fenced(buf, len + 1));
    free(buf);
    mt_result_free(r);
}
END_TEST

/* Damaged messages: every byte of a valid one flipped in turn decodes or
 * is refused, never read past its end; and specific lies are refused. */
START_TEST(test_every_byte_flipped)
{
    mt_step_result *r = full_result();
    size_t len;
    uint8_t *buf = mt_result_encode(r, &len);
    size_t refused = 0;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            buf[i] ^= (uint8_t)(1u << bit);
            mt_step_result *d = decode_fenced(buf, len);
            refused += d == NULL;
            mt_result_free(d);
            buf[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* Many flips land in a length or a count, and those are refused. */
    ck_assert_uint_gt(refused, 50);
    free(buf);
    mt_result_free(r);
}
END_TEST

/* Encode r after fn has damaged it, and expect the decoder to refuse it. */
static void
refused_after(void (*damage)(mt_step_result *), const char *what)
{
    mt_step_result *r = full_result();
    damage(r);
    size_t len;
    uint8_t *buf = mt_result_encode(r, &len);
    mt_step_result *d = decode_fenced(buf, len);
    ck_assert_msg(d == NULL, "decoded although %s", what);
    free(buf);
    mt_result_free(r);
}

static void
field_past_end(mt_step_result *r)
{
    r->regions[0].fields[1].offset = r->regions[0].len - 4;    /* 8 bytes from len-4 */
}

static void
field_offset_wraps(mt_step_result *r)
{
    r->regions[0].fields[1].offset = 0xfffffff8u;   /* offset + size wraps in 32 bits */
}

/* The encoding of r, and where the first copy of needle (n bytes) is in it. */
static uint8_t *
encode_find(const mt_step_result *r, const void *needle, size_t n, size_t *len, size_t *at)
{
    uint8_t *buf = mt_result_encode(r, len);
    uint8_t *p = memmem(buf, *len, needle, n);
    ck_assert_ptr_nonnull(p);
    *at = (size_t)(p - buf);
    return buf;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, sizeof v);
}

START_TEST(test_lies_refused)
{
    refused_after(field_past_end, "a field runs past its region");
    refused_after(field_offset_wraps, "a field's offset + size wraps");

    /* A NUL inside a string (its length counting the bytes after it). */
    mt_step_result *r = mt_result_new();
    free(r->out);
    r->out = mt_xstrdup("a?b");
    size_t len, at;
    uint8_t *buf = encode_find(r, "a?b", 3, &len, &at);
    mt_step_result *d = decode_fenced(buf, len);
    ck_assert_ptr_nonnull(d);            /* as encoded: fine */
    ck_assert_str_eq(d->out, "a?b");
    mt_result_free(d);
    buf[at + 1] = '\0';
    ck_assert_ptr_null(decode_fenced(buf, len));
    /* A string length larger than what is left. */
    buf[at + 1] = '?';
    put_u32(buf + at - 4, 0xfffffff0u);
    ck_assert_ptr_null(decode_fenced(buf, len));
    free(buf);
    mt_result_free(r);
}
END_TEST

/* Counts larger than the bytes could hold are refused before anything
 * that large is allocated. */
START_TEST(test_huge_counts)
{
    /* The region count is the last word of a result with no region. */
    mt_step_result *r = mt_result_new();
    size_t len;
    uint8_t *buf = mt_result_encode(r, &len);
    put_u32(buf + len - 4, 0xffffffffu);
    ck_assert_ptr_null(decode_fenced(buf, len));
    free(buf);
    mt_result_free(r);

    /* A region with no field and no instruction ends with three counts:
     * fields, instructions before, instructions after. */
    r = mt_result_new();
    r->nregions = 1;
    r->regions = mt_xcalloc(1, sizeof *r->regions);
    mt_region_result *g = &r->regions[0];
    g->label = mt_xstrdup("x");
    g->expr = mt_xstrdup("x");
    g->layout = mt_xstrdup("raw");
    g->symbol = mt_xstrdup("");
    g->before = mt_xcalloc(1, 1);
    g->after = mt_xcalloc(1, 1);
    g->ok_before = mt_xcalloc(1, 1);
    g->ok_after = mt_xcalloc(1, 1);
    buf = mt_result_encode(r, &len);
    mt_step_result *d = decode_fenced(buf, len);
    ck_assert_ptr_nonnull(d);
    mt_result_free(d);
    static const uint32_t huge[3] = {0x40000000u, 0x7fffffffu, 0xffffffffu};
    for (int i = 0; i < 3; i++) {
        uint8_t *w = buf + len - 12 + 4 * (size_t)i;
        put_u32(w, huge[i]);
        ck_assert_msg(decode_fenced(buf, len) == NULL, "huge count %d decoded", i);
        put_u32(w, 0);
    }
    free(buf);
    mt_result_free(r);
}
END_TEST

/* Regions whose four byte arrays disagree in length are refused. */
START_TEST(test_unequal_arrays)
{
    mt_step_result *r = full_result();
    mt_region_result *g = &r->regions[0];
    static const uint8_t mark[4] = {0xa5, 0x5a, 0xa5, 0x5a};
    memcpy(g->ok_after, mark, 4);
    size_t len, at;
    uint8_t *buf = encode_find(r, mark, 4, &len, &at);
    /* ok_after's length word is just before it: make the array one byte
     * shorter, and the message with it. */
    uint32_t n;
    memcpy(&n, buf + at - 4, 4);
    ck_assert_uint_eq(n, g->len);
    put_u32(buf + at - 4, n - 1);
    memmove(buf + at, buf + at + 1, len - at - 1);
    ck_assert_ptr_null(decode_fenced(buf, len - 1));
    free(buf);
    mt_result_free(r);
}
END_TEST

/* Reads from the cursor itself: past the end gives zeros and `bad`. */
START_TEST(test_cursor)
{
    uint8_t four[4] = {1, 0, 0, 0};
    fenced f = fence(four, 4);
    mt_rbuf rd = {f.data, 4, 0};
    ck_assert_uint_eq(mt_wire_get_u32(&rd), 1);
    ck_assert_int_eq(rd.bad, 0);
    ck_assert_uint_eq(mt_wire_get_u64(&rd), 0);
    ck_assert_int_eq(rd.bad, 1);
    size_t n = 99;
    uint8_t *s = mt_wire_get_bytes(&rd, &n);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(s[0], 0);
    free(s);
    unfence(&f);
}
END_TEST

/* Frames on a socket: a clean EOF, a frame cut short, a length over the
 * limit, and one good frame. */
START_TEST(test_frames)
{
    int sv[2];
    uint8_t *p;
    size_t n;
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(mt_wire_send(sv[0], "hello", 5), 0);
    ck_assert_int_eq(mt_wire_recv(sv[1], &p, &n), 0);
    ck_assert_uint_eq(n, 5);
    ck_assert(memcmp(p, "hello", 5) == 0 && p[5] == '\0');
    free(p);
    ck_assert_int_eq(mt_wire_send(sv[0], "", 0), 0);
    ck_assert_int_eq(mt_wire_recv(sv[1], &p, &n), 0);
    ck_assert_uint_eq(n, 0);
    free(p);
    uint32_t big = 0xffffffffu;
    ck_assert_int_eq(write(sv[0], &big, 4), 4);
    errno = 0;
    ck_assert_int_eq(mt_wire_recv(sv[1], &p, &n), -1);
    ck_assert_int_eq(errno, EMSGSIZE);
    uint32_t ten = 10;
    ck_assert_int_eq(write(sv[0], &ten, 4), 4);
    ck_assert_int_eq(write(sv[0], "abc", 3), 3);
    close(sv[0]);
    ck_assert_int_eq(mt_wire_recv(sv[1], &p, &n), -1);
    ck_assert_int_eq(mt_wire_recv(sv[1], &p, &n), 1);    /* EOF */
    close(sv[1]);

    /* Half a length prefix, then EOF, is an error, not a clean end. */
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(write(sv[0], &ten, 2), 2);
    close(sv[0]);
    ck_assert_int_eq(mt_wire_recv(sv[1], &p, &n), -1);
    close(sv[1]);
}
END_TEST

Suite *
mt_wire_suite(void)
{
    Suite *s = suite_create("wire");
    TCase *tc = tcase_create("result");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_round_trip_every_field);
    tcase_add_test(tc, test_round_trip_empty);
    tcase_add_test(tc, test_every_truncation);
    tcase_add_test(tc, test_trailing_byte);
    tcase_add_test(tc, test_every_byte_flipped);
    tcase_add_test(tc, test_lies_refused);
    tcase_add_test(tc, test_huge_counts);
    tcase_add_test(tc, test_unequal_arrays);
    tcase_add_test(tc, test_cursor);
    tcase_add_test(tc, test_frames);
    suite_add_tcase(s, tc);
    return s;
}
