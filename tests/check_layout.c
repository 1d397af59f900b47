/* check_layout.c — field tables against offsetof/sizeof, and formatting of live objects. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <check.h>
#include <inttypes.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "layout.h"
#include "mem.h"
#include "symbols.h"
#include "pyver.h"

/* The same declaration layout.c uses; CPython has it only in a .c file. */
typedef struct {
    PyObject_HEAD
    PyObject *mapping;
} mappingproxy_like;

#if PY_VERSION_HEX >= 0x030C0000
#define MT_LONG_DIGITS long_value.ob_digit
#else
#define MT_LONG_DIGITS ob_digit
#endif


static const mt_layout *
must_find(const char *name)
{
    const mt_layout *l = mt_layout_find(name);
    ck_assert_msg(l != NULL, "layout %s missing", name);
    return l;
}

static const mt_field *
must_field(const mt_layout *l, const char *name)
{
    const mt_field *f = mt_layout_field(l, name);
    ck_assert_msg(f != NULL, "%s has no field %s", l->name, name);
    return f;
}

/* Copy a live region through the safe reader, as the session does. */
static void
snap(const void *addr, uint8_t *buf, uint8_t *ok, size_t len)
{
    size_t got = mt_mem_read((uintptr_t)addr, buf, len, ok);
    ck_assert_uint_eq(got, len);
}

static void
fmt(const mt_layout *l, const char *field, const uint8_t *bytes,
    const uint8_t *ok, char value[128], char decoded[128])
{
    mt_layout_format(must_field(l, field), bytes, ok, value, 128, decoded,
                     128);
}

#define M(T, m) (uint32_t)offsetof(T, m), (uint32_t)sizeof(((T *)0)->m)

/* 3.12 and 3.13 mark ma_version_tag deprecated; its offset is still real. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static const struct {
    const char *layout, *field;
    uint32_t offset, size;
    mt_field_kind kind;
} samples[] = {
#if PY_VERSION_HEX >= 0x030E0000
    {"PyObject", "ob_refcnt", M(PyObject, ob_refcnt), MT_FK_UINT},
    {"PyObject", "ob_flags", M(PyObject, ob_flags), MT_FK_HEX},
#else
    {"PyObject", "ob_refcnt", M(PyObject, ob_refcnt), MT_FK_INT},
#endif
    {"PyObject", "ob_type", M(PyObject, ob_type), MT_FK_TYPEPTR},
    {"PyVarObject", "ob_size", M(PyVarObject, ob_size), MT_FK_INT},
#if PY_VERSION_HEX >= 0x030C0000
    {"PyLongObject", "ob_type", M(PyLongObject, ob_base.ob_type), MT_FK_TYPEPTR},
    {"PyLongObject", "lv_tag", M(PyLongObject, long_value.lv_tag), MT_FK_HEX},
    {"PyLongObject", "ob_digit[0]", M(PyLongObject, long_value.ob_digit[0]),
     MT_FK_DIGIT},
#else
    {"PyLongObject", "ob_type", M(PyLongObject, ob_base.ob_base.ob_type),
     MT_FK_TYPEPTR},
    {"PyLongObject", "ob_size", M(PyLongObject, ob_base.ob_size), MT_FK_INT},
    {"PyLongObject", "ob_digit[0]", M(PyLongObject, ob_digit[0]),
     MT_FK_DIGIT},
#endif
    {"mappingproxy", "mapping", M(mappingproxy_like, mapping), MT_FK_OBJPTR},
    {"PyTypeObject", "ob_size", M(PyTypeObject, ob_base.ob_size), MT_FK_INT},
    {"PyTypeObject", "tp_name", M(PyTypeObject, tp_name), MT_FK_CSTR},
    {"PyTypeObject", "tp_as_number", M(PyTypeObject, tp_as_number),
     MT_FK_STRUCTPTR},
    {"PyTypeObject", "tp_flags", M(PyTypeObject, tp_flags), MT_FK_HEX},
    {"PyTypeObject", "tp_base", M(PyTypeObject, tp_base), MT_FK_TYPEPTR},
    {"PyTypeObject", "tp_dict", M(PyTypeObject, tp_dict), MT_FK_OBJPTR},
    {"PyTypeObject", "tp_version_tag", M(PyTypeObject, tp_version_tag),
     MT_FK_HEX},
    {"PyTypeObject", "tp_vectorcall", M(PyTypeObject, tp_vectorcall),
     MT_FK_FUNCPTR},
    {"PyNumberMethods", "nb_add", M(PyNumberMethods, nb_add),
     MT_FK_FUNCPTR},
    {"PyNumberMethods", "nb_reserved", M(PyNumberMethods, nb_reserved),
     MT_FK_PTR},
    {"PyNumberMethods", "nb_inplace_matrix_multiply",
     M(PyNumberMethods, nb_inplace_matrix_multiply), MT_FK_FUNCPTR},
    {"PyDictObject", "ma_used", M(PyDictObject, ma_used), MT_FK_INT},
#if PY_VERSION_HEX >= 0x030E0000
    {"PyDictObject", "_ma_watcher_tag", M(PyDictObject, _ma_watcher_tag),
     MT_FK_HEX},
#else
    {"PyDictObject", "ma_version_tag", M(PyDictObject, ma_version_tag),
     MT_FK_HEX},
#endif
    {"PyDictObject", "ma_values", M(PyDictObject, ma_values), MT_FK_PTR},
    {"PyCodeObject", "co_consts", M(PyCodeObject, co_consts), MT_FK_OBJPTR},
    {"PyCodeObject", "co_flags", M(PyCodeObject, co_flags), MT_FK_HEX},
#if PY_VERSION_HEX < 0x030C0000
    {"PyCodeObject", "co_warmup", M(PyCodeObject, co_warmup), MT_FK_INT},
#endif
    {"PyCodeObject", "co_nfreevars", M(PyCodeObject, co_nfreevars),
     MT_FK_INT},
#if PY_VERSION_HEX < 0x030C0000
    {"PyCodeObject", "_co_linearray", M(PyCodeObject, _co_linearray),
     MT_FK_PTR},
#else
    {"PyCodeObject", "co_framesize", M(PyCodeObject, co_framesize), MT_FK_INT},
#endif
    {"PyCodeObject", "co_extra", M(PyCodeObject, co_extra), MT_FK_PTR},
};
#pragma GCC diagnostic pop

START_TEST(test_offsets_match_headers)
{
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        const mt_field *f = must_field(must_find(samples[i].layout),
                                       samples[i].field);
        ck_assert_msg(f->offset == samples[i].offset,
                      "%s.%s offset %u, offsetof says %u", samples[i].layout,
                      samples[i].field, f->offset, samples[i].offset);
        ck_assert_msg(f->size == samples[i].size, "%s.%s size %u, not %u",
                      samples[i].layout, samples[i].field, f->size,
                      samples[i].size);
        ck_assert_int_eq(f->kind, samples[i].kind);
    }
    /* The bytecode starts where the header says, whatever its length. */
    const mt_field *cc = must_field(must_find("PyCodeObject"),
                                    "co_code_adaptive");
    ck_assert_uint_eq(cc->offset, offsetof(PyCodeObject, co_code_adaptive));
    ck_assert(cc->flags & MT_FF_TAIL);
    ck_assert_uint_eq(must_find("PyLongObject")->size,
                      offsetof(PyLongObject, MT_LONG_DIGITS) + sizeof(digit));
    ck_assert_uint_eq(must_find("PyTypeObject")->size, sizeof(PyTypeObject));
    ck_assert_uint_eq(must_find("PyDictObject")->size, sizeof(PyDictObject));
}
END_TEST

START_TEST(test_volatile_flags)
{
    static const struct {
        const char *layout, *field;
        int vol;
    } v[] = {
        {"PyObject", "ob_refcnt", 1},         {"PyObject", "ob_type", 0},
        {"PyLongObject", "ob_refcnt", 1},     {"PyLongObject", "ob_digit[0]", 0},
        {"PyTypeObject", "tp_flags", 1},      {"PyTypeObject", "tp_version_tag", 1},
        {"PyTypeObject", "tp_as_number", 0},
#if PY_VERSION_HEX >= 0x030E0000
        {"PyDictObject", "_ma_watcher_tag", 1}, {"PyObject", "ob_flags", 0},
        {"PyTypeObject", "tp_versions_used", 1},
#else
        {"PyDictObject", "ma_version_tag", 1},
#endif
#if PY_VERSION_HEX < 0x030C0000
        {"PyCodeObject", "co_warmup", 1},     {"PyCodeObject", "_co_code", 1},
#else
        {"PyLongObject", "lv_tag", 0},
#endif
        {"PyDictObject", "ma_keys", 0},
        {"PyCodeObject", "co_code_adaptive", 1}, {"PyCodeObject", "co_extra", 1},
        {"PyCodeObject", "co_consts", 0},     {"PyNumberMethods", "nb_add", 0},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        const mt_field *f = must_field(must_find(v[i].layout), v[i].field);
        ck_assert_msg(!!(f->flags & MT_FF_VOLATILE) == v[i].vol,
                      "%s.%s volatile should be %d", v[i].layout,
                      v[i].field, v[i].vol);
    }
}
END_TEST

START_TEST(test_tables_sorted_and_inside)
{
    size_t n;
    const mt_layout *all = mt_layout_all(&n);
    ck_assert_uint_ge(n, 10);
    for (size_t i = 0; i < n; i++) {
        const mt_layout *l = &all[i];
        ck_assert_ptr_eq(mt_layout_find(l->name), l);
        ck_assert_uint_gt(l->size, 0);
        for (size_t j = 0; j < l->nfields; j++) {
            const mt_field *f = &l->fields[j];
            ck_assert_uint_gt(f->size, 0);
            ck_assert_msg(f->offset + f->size <= l->size,
                          "%s.%s runs past the region", l->name, f->name);
            if (j + 1 < l->nfields) {
                ck_assert_msg(f->offset + f->size <= l->fields[j + 1].offset,
                              "%s.%s overlaps %s", l->name, f->name,
                              l->fields[j + 1].name);
                ck_assert_msg(!(f->flags & MT_FF_TAIL),
                              "%s.%s is a tail but not last", l->name,
                              f->name);
            }
            if (f->kind == MT_FK_STRUCTPTR) {
                ck_assert_msg(f->follow != NULL
                              && mt_layout_find(f->follow) != NULL,
                              "%s.%s follows no layout", l->name, f->name);
            }
        }
    }
    ck_assert_ptr_null(mt_layout_find("PyFrobObject"));
    ck_assert_uint_eq(must_find("raw")->nfields, 0);
}
END_TEST

/* Every byte of a fully described struct is some field's, except padding
 * that the alignment of the next field (or of the struct) explains. */
static void
assert_covers(const char *name, size_t struct_size, size_t struct_align)
{
    const mt_layout *l = must_find(name);
    size_t end = 0, covered = 0;
    for (size_t j = 0; j < l->nfields; j++) {
        const mt_field *f = &l->fields[j];
        /* Scalars are aligned to their size here; byte arrays to 1. */
        size_t align = f->kind == MT_FK_BYTES ? 1 : f->size;
        ck_assert_msg(f->offset >= end, "%s.%s overlaps", name, f->name);
        ck_assert_msg(f->offset - end < align && f->offset % align == 0,
                      "%s: %zu unexplained bytes before %s", name,
                      f->offset - end, f->name);
        covered += f->size;
        end = f->offset + f->size;
    }
    ck_assert_msg(struct_size - end < struct_align,
                  "%s: %zu unexplained bytes at the end", name,
                  struct_size - end);
    ck_assert_uint_le(covered, struct_size);
}

START_TEST(test_structs_fully_covered)
{
    assert_covers("PyTypeObject", sizeof(PyTypeObject), alignof(PyTypeObject));
    assert_covers("PyNumberMethods", sizeof(PyNumberMethods),
                  alignof(PyNumberMethods));
    assert_covers("PyDictObject", sizeof(PyDictObject), alignof(PyDictObject));
    assert_covers("PySequenceMethods", sizeof(PySequenceMethods),
                  alignof(PySequenceMethods));
    assert_covers("PyMappingMethods", sizeof(PyMappingMethods),
                  alignof(PyMappingMethods));
    assert_covers("PyAsyncMethods", sizeof(PyAsyncMethods),
                  alignof(PyAsyncMethods));
    assert_covers("PyBufferProcs", sizeof(PyBufferProcs),
                  alignof(PyBufferProcs));
    assert_covers("mappingproxy", sizeof(mappingproxy_like),
                  alignof(mappingproxy_like));
    /* PyCodeObject up to its bytecode; the tail carries on from there. */
    assert_covers("PyCodeObject", must_find("PyCodeObject")->size, 1);
}
END_TEST

START_TEST(test_number_methods_all_slots)
{
    const mt_layout *l = must_find("PyNumberMethods");
    ck_assert_uint_eq(l->nfields, sizeof(PyNumberMethods) / sizeof(void *));
    for (size_t j = 0; j < l->nfields; j++) {
        ck_assert_uint_eq(l->fields[j].offset, j * sizeof(void *));
        ck_assert_uint_eq(l->fields[j].size, sizeof(void *));
        if (strcmp(l->fields[j].name, "nb_reserved") != 0) {
            ck_assert_int_eq(l->fields[j].kind, MT_FK_FUNCPTR);
        }
    }
}
END_TEST

START_TEST(test_mappingproxy_size_from_interpreter)
{
    Py_InitializeEx(0);
    PyObject *globals = PyDict_New();
    PyObject *r = PyRun_String("type(int.__dict__).__basicsize__",
                               Py_eval_input, globals, globals);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(must_find("mappingproxy")->size, PyLong_AsSsize_t(r));
    /* And mapping really is int's tp_dict. */
    PyObject *proxy = PyRun_String("int.__dict__", Py_eval_input, globals,
                                   globals);
    ck_assert_ptr_nonnull(proxy);
    const mt_layout *l = must_find("mappingproxy");
    uint8_t buf[64], ok[64];
    char value[128], decoded[128], want[64];
    snap(proxy, buf, ok, l->size);
    fmt(l, "mapping", buf, ok, value, decoded);
    snprintf(want, sizeof want, "0x%012" PRIxPTR, (uintptr_t)mt_t_int_dict());
    ck_assert_str_eq(value, want);
    ck_assert_str_eq(decoded, "dict object");
    fmt(l, "ob_type", buf, ok, value, decoded);
    ck_assert_str_eq(decoded, "mappingproxy");
    Py_DECREF(proxy);
    Py_DECREF(r);
    Py_DECREF(globals);
}
END_TEST

START_TEST(test_format_int_two)
{
    Py_InitializeEx(0);
    PyObject *two = PyLong_FromLong(2);
    const mt_layout *l = must_find("PyLongObject");
    uint8_t buf[64], ok[64];
    char value[128], decoded[128], want[64];
    snap(two, buf, ok, l->size);

    fmt(l, "ob_type", buf, ok, value, decoded);
    snprintf(want, sizeof want, "0x%012" PRIxPTR, (uintptr_t)&PyLong_Type);
    ck_assert_str_eq(value, want);
    ck_assert_str_eq(decoded, "int");

    fmt(l, "ob_digit[0]", buf, ok, value, decoded);
    ck_assert_str_eq(value, "2");
    ck_assert_str_eq(decoded, "");

#if PY_VERSION_HEX >= 0x030C0000
    /* One digit, positive; the third bit marks small ints from 3.14. */
    fmt(l, "lv_tag", buf, ok, value, decoded);
    ck_assert_str_eq(value, PY_VERSION_HEX >= 0x030E0000 ? "0xc" : "0x8");
    ck_assert_msg(strncmp(decoded, "1 digit, positive", 17) == 0, "lv_tag: %s", decoded);
#else
    fmt(l, "ob_size", buf, ok, value, decoded);
    ck_assert_str_eq(value, "1");
#endif

    snprintf(want, sizeof want, "%zd", Py_REFCNT(two));
    fmt(l, "ob_refcnt", buf, ok, value, decoded);
    ck_assert_str_eq(value, want);
    /* Small ints are immortal from 3.12, and the dump says so. */
    ck_assert_str_eq(decoded, PY_VERSION_HEX >= 0x030C0000 ? "immortal" : "");
    Py_DECREF(two);

    /* Negative sizes are signed: -5 has ob_size -1 (3.11); from 3.12 the
     * sign is lv_tag's low bits. */
    PyObject *neg = PyLong_FromLong(-5);
    snap(neg, buf, ok, l->size);
#if PY_VERSION_HEX >= 0x030C0000
    fmt(l, "lv_tag", buf, ok, value, decoded);
    ck_assert_msg(strncmp(decoded, "1 digit, negative", 17) == 0, "lv_tag: %s", decoded);
#else
    fmt(l, "ob_size", buf, ok, value, decoded);
    ck_assert_str_eq(value, "-1");
#endif
    fmt(l, "ob_digit[0]", buf, ok, value, decoded);
    ck_assert_str_eq(value, "5");
    Py_DECREF(neg);
}
END_TEST

START_TEST(test_format_int_type)
{
    Py_InitializeEx(0);
    const mt_layout *l = must_find("PyTypeObject");
    uint8_t buf[sizeof(PyTypeObject)], ok[sizeof(PyTypeObject)];
    char value[128], decoded[128], want[64];
    snap(&PyLong_Type, buf, ok, l->size);

    fmt(l, "tp_name", buf, ok, value, decoded);
    ck_assert_str_eq(decoded, "\"int\"");

    fmt(l, "tp_as_number", buf, ok, value, decoded);
    snprintf(want, sizeof want, "0x%012" PRIxPTR,
             (uintptr_t)PyLong_Type.tp_as_number);
    ck_assert_str_eq(value, want);
    ck_assert_msg(strncmp(decoded, "PyNumberMethods", 15) == 0,
                  "tp_as_number decoded as \"%s\"", decoded);

    /* Flag bits by their names in the headers; unknown bits stay hex. */
    fmt(l, "tp_flags", buf, ok, value, decoded);
    ck_assert_msg(strstr(decoded, "READY") && strstr(decoded, "LONG_SUBCLASS")
                      && strstr(decoded, "BASETYPE") && !strstr(decoded, "HEAPTYPE"),
                  "tp_flags decoded as \"%s\"", decoded);

    fmt(l, "tp_base", buf, ok, value, decoded);
    ck_assert_str_eq(decoded, "object");
    fmt(l, "tp_dict", buf, ok, value, decoded);
#if PY_VERSION_HEX >= 0x030C0000
    /* A static builtin type's dict lives in the interpreter's state. */
    ck_assert_str_eq(value, "NULL");
#else
    ck_assert_str_eq(decoded, "dict object");
#endif
    fmt(l, "tp_mro", buf, ok, value, decoded);
    ck_assert_str_eq(decoded, "tuple object");

    fmt(l, "tp_basicsize", buf, ok, value, decoded);
    snprintf(want, sizeof want, "%zd", PyLong_Type.tp_basicsize);
    ck_assert_str_eq(value, want);
    fmt(l, "tp_flags", buf, ok, value, decoded);
    snprintf(want, sizeof want, "0x%lx", PyLong_Type.tp_flags);
    ck_assert_str_eq(value, want);

    /* int has no async slots: a NULL pointer leads nowhere. */
    fmt(l, "tp_as_async", buf, ok, value, decoded);
    ck_assert_str_eq(value, "NULL");
    ck_assert_str_eq(decoded, "");

    /* The long docstring is cut and marked. */
    fmt(l, "tp_doc", buf, ok, value, decoded);
    ck_assert_msg(strncmp(decoded, "\"int([x]) -> integer\\n", 22) == 0,
                  "tp_doc decoded as %s", decoded);
    size_t dl = strlen(decoded);
    ck_assert_str_eq(decoded + dl - 4, "\"\xe2\x80\xa6");

    /* A small decoded buffer still gets a closed, marked string. */
    char small[12];
    mt_layout_format(must_field(l, "tp_doc"), buf, ok, value, sizeof value,
                     small, sizeof small);
    ck_assert_uint_lt(strlen(small), sizeof small);
    ck_assert_str_eq(small + strlen(small) - 4, "\"\xe2\x80\xa6");
}
END_TEST

START_TEST(test_format_symbols)
{
    const char *why = NULL;
    Py_InitializeEx(0);
    ck_assert_msg(mt_sym_debug_ready(&why) == 0, "debug symbols: %s",
                  why ? why : "?");

    const mt_layout *nl = must_find("PyNumberMethods");
    uint8_t buf[sizeof(PyNumberMethods)], ok[sizeof(PyNumberMethods)];
    char value[128], decoded[128], want[64];
    snap(PyLong_Type.tp_as_number, buf, ok, nl->size);
    fmt(nl, "nb_add", buf, ok, value, decoded);
    snprintf(want, sizeof want, "0x%012" PRIxPTR,
             (uintptr_t)PyLong_Type.tp_as_number->nb_add);
    ck_assert_str_eq(value, want);
    /* From 3.14 the slots are thin wrappers, long_add_method and so on,
     * around long_add (which takes PyLongObject pointers). */
    ck_assert_str_eq(decoded, PY_VERSION_HEX >= 0x030E0000 ? "long_add_method" : "long_add");
    fmt(nl, "nb_multiply", buf, ok, value, decoded);
    ck_assert_str_eq(decoded, PY_VERSION_HEX >= 0x030E0000 ? "long_mul_method" : "long_mul");

    const mt_layout *tl = must_find("PyTypeObject");
    uint8_t tbuf[sizeof(PyTypeObject)], tok[sizeof(PyTypeObject)];
    snap(&PyLong_Type, tbuf, tok, tl->size);
    fmt(tl, "tp_as_number", tbuf, tok, value, decoded);
    ck_assert_str_eq(decoded, "PyNumberMethods (long_as_number)");
}
END_TEST

START_TEST(test_format_unreadable)
{
    Py_InitializeEx(0);
    const mt_layout *l = must_find("PyLongObject");
    uint8_t buf[64], ok[64];
    char value[128], decoded[128];
    PyObject *two = PyLong_FromLong(2);
    snap(two, buf, ok, l->size);
    Py_DECREF(two);

    /* One unreadable byte in the middle of ob_type spoils the field only. */
    const mt_field *t = must_field(l, "ob_type");
    ok[t->offset + t->size / 2] = 0;
    fmt(l, "ob_type", buf, ok, value, decoded);
    ck_assert_str_eq(value, "??");
    ck_assert_str_eq(decoded, "unreadable");
    fmt(l, "ob_digit[0]", buf, ok, value, decoded);
    ck_assert_str_eq(value, "2");

    /* Pointers print zero-padded to 12 hex digits, NULL by name. */
    uint8_t pbuf[sizeof(PyObject)] = {0};
    const mt_field *pt = must_field(must_find("PyObject"), "ob_type");
    mt_layout_format(pt, pbuf, NULL, value, sizeof value, decoded,
                     sizeof decoded);
    ck_assert_str_eq(value, "NULL");
    ck_assert_str_eq(decoded, "");
    pbuf[pt->offset] = 0x01;
    mt_layout_format(pt, pbuf, NULL, value, sizeof value, decoded,
                     sizeof decoded);
    ck_assert_str_eq(value, "0x000000000001");
    ck_assert_str_eq(decoded, "(unreadable)");

    /* A pointer to a page that was just unmapped decodes without a crash. */
    long page = sysconf(_SC_PAGESIZE);
    void *gone = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(gone, MAP_FAILED);
    ck_assert_int_eq(munmap(gone, (size_t)page), 0);
    uintptr_t bad = (uintptr_t)gone;
    memset(ok, 1, sizeof ok);
    memcpy(buf + t->offset, &bad, sizeof bad);
    fmt(l, "ob_type", buf, ok, value, decoded);
    ck_assert_str_eq(decoded, "(unreadable)");

    const mt_layout *tl = must_find("PyTypeObject");
    uint8_t tbuf[sizeof(PyTypeObject)] = {0};
    static const char *tfields[] = {"tp_name", "tp_dict", "tp_base",
                                    "tp_as_number"};
    for (size_t i = 0; i < sizeof tfields / sizeof tfields[0]; i++) {
        const mt_field *f = must_field(tl, tfields[i]);
        memcpy(tbuf + f->offset, &bad, sizeof bad);
        mt_layout_format(f, tbuf, NULL, value, sizeof value, decoded,
                         sizeof decoded);
        ck_assert_uint_gt(strlen(value), 2);
        ck_assert_str_ne(value, "??");
    }
    fmt(tl, "tp_name", tbuf, NULL, value, decoded);
    ck_assert_str_eq(decoded, "(unreadable)");
    fmt(tl, "tp_dict", tbuf, NULL, value, decoded);
    ck_assert_str_eq(decoded, "(unreadable)");
}
END_TEST

START_TEST(test_format_code_object)
{
    Py_InitializeEx(0);
    PyObject *code = Py_CompileString("two + two", "<lesson>",
                                      Py_eval_input);
    ck_assert_ptr_nonnull(code);
    const mt_layout *l = must_find("PyCodeObject");
    uint8_t buf[512], ok[512];
    char value[128], decoded[128], want[128];
    ck_assert_uint_le(l->size, sizeof buf);
    snap(code, buf, ok, l->size);

    fmt(l, "ob_type", buf, ok, value, decoded);
    ck_assert_str_eq(decoded, "code");
    fmt(l, "co_names", buf, ok, value, decoded);
    ck_assert_str_eq(decoded, "tuple object");
    fmt(l, "co_filename", buf, ok, value, decoded);
    ck_assert_str_eq(decoded, "str object");

    /* The bytecode as hex: the first code units, as the object holds them. */
    const mt_field *cc = must_field(l, "co_code_adaptive");
    const uint8_t *bc = (const uint8_t *)code + cc->offset;
    snprintf(want, sizeof want, "%02x %02x %02x %02x", bc[0], bc[1], bc[2],
             bc[3]);
    mt_layout_format(cc, buf, ok, value, sizeof value, decoded,
                     sizeof decoded);
    ck_assert_msg(strncmp(value, want, strlen(want)) == 0, "%s vs %s", value,
                  want);
    ck_assert_uint_eq(strlen(value), cc->size * 3 - 1);

    /* Too little room: cut at a byte boundary and marked. */
    char narrow[16];
    mt_layout_format(cc, buf, ok, narrow, sizeof narrow, decoded,
                     sizeof decoded);
    ck_assert_uint_lt(strlen(narrow), sizeof narrow);
    ck_assert_str_eq(narrow + strlen(narrow) - 4, " \xe2\x80\xa6");
    ck_assert(strncmp(narrow, want, 8) == 0);
    Py_DECREF(code);
}
END_TEST

START_TEST(test_field_at)
{
    const mt_layout *l = must_find("PyTypeObject");
    const mt_field *f = must_field(l, "tp_as_number");
    ck_assert_ptr_eq(mt_layout_field_at(l, f->offset), f);
    ck_assert_ptr_eq(mt_layout_field_at(l, f->offset + f->size / 2), f);
    ck_assert_ptr_eq(mt_layout_field_at(l, f->offset + f->size - 1), f);
    ck_assert_ptr_eq(mt_layout_field_at(l, f->offset + f->size),
                     must_field(l, "tp_as_sequence"));
    ck_assert_ptr_eq(mt_layout_field_at(l, 0), must_field(l, "ob_refcnt"));

    /* Padding between tp_version_tag and tp_finalize belongs to nobody. */
    const mt_field *vt = must_field(l, "tp_version_tag");
    const mt_field *fin = must_field(l, "tp_finalize");
    if (vt->offset + vt->size < fin->offset) {
        ck_assert_ptr_null(mt_layout_field_at(l, vt->offset + vt->size));
    }
    ck_assert_ptr_null(mt_layout_field_at(l, sizeof(PyTypeObject)));

    const mt_layout *lg = must_find("PyLongObject");
    const mt_field *d = must_field(lg, "ob_digit[0]");
    ck_assert_ptr_eq(mt_layout_field_at(lg, d->offset + d->size - 1), d);
    ck_assert_ptr_null(mt_layout_field_at(lg, d->offset + d->size));

    /* Tails cover the rest of the region whatever its length. */
    const mt_layout *code = must_find("code");
    ck_assert_uint_eq(code->nfields, 1);
    ck_assert_int_eq(code->fields[0].kind, MT_FK_CODE);
    ck_assert_ptr_eq(mt_layout_field_at(code, 0), &code->fields[0]);
    ck_assert_ptr_eq(mt_layout_field_at(code, code->size - 1),
                     &code->fields[0]);
    ck_assert_ptr_eq(mt_layout_field_at(code, 4096), &code->fields[0]);
    const mt_layout *pc = must_find("PyCodeObject");
    ck_assert_ptr_eq(mt_layout_field_at(pc, pc->size + 100),
                     must_field(pc, "co_code_adaptive"));

    const mt_layout *raw = must_find("raw");
    ck_assert_uint_eq(raw->size, 16);
    ck_assert_ptr_null(mt_layout_field_at(raw, 0));
    ck_assert_ptr_null(mt_layout_field_at(raw, 8));
}
END_TEST

START_TEST(test_format_code_is_left_to_caller)
{
    const mt_layout *code = must_find("code");
    uint8_t bytes[16];
    char value[32] = "x", decoded[32] = "x";
    memset(bytes, 0x90, sizeof bytes);
    mt_layout_format(&code->fields[0], bytes, NULL, value, sizeof value,
                     decoded, sizeof decoded);
    ck_assert_str_eq(value, "");
    ck_assert_str_eq(decoded, "");
}
END_TEST

Suite *mt_layout_suite(void);

Suite *
mt_layout_suite(void)
{
    Suite *s = suite_create("layout");
    TCase *tc = tcase_create("tables");
    tcase_add_test(tc, test_offsets_match_headers);
    tcase_add_test(tc, test_volatile_flags);
    tcase_add_test(tc, test_tables_sorted_and_inside);
    tcase_add_test(tc, test_structs_fully_covered);
    tcase_add_test(tc, test_number_methods_all_slots);
    tcase_add_test(tc, test_field_at);
    tcase_add_test(tc, test_format_code_is_left_to_caller);
    suite_add_tcase(s, tc);

    TCase *live = tcase_create("live");
    tcase_set_timeout(live, 30);
    tcase_add_test(live, test_mappingproxy_size_from_interpreter);
    tcase_add_test(live, test_format_int_two);
    tcase_add_test(live, test_format_int_type);
    tcase_add_test(live, test_format_symbols);
    tcase_add_test(live, test_format_unreadable);
    tcase_add_test(live, test_format_code_object);
    suite_add_tcase(s, live);
    return s;
}
