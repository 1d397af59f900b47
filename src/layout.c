/* layout.c — CPython struct field tables (offsetof/sizeof from the headers
 * this worker is built against) and field formatting. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "layout.h"
#include "mem.h"
#include "symbols.h"

/* Data model: one const table of mt_field rows per structure, every row
 * taken from offsetof/sizeof on the real CPython headers this file is
 * compiled against, sorted by offset.  Rows for the PyObject/PyVarObject
 * header of a larger struct are flattened (ob_refcnt, ob_type, ob_size) so
 * a dump reads like the C.  Where a structure differs between versions the
 * rows differ behind PY_VERSION_HEX, here and nowhere else:
 *   3.12+  PyLongObject is a PyObject_HEAD and long_value (lv_tag: digit
 *          count, sign, flags; then the digits), not ob_size and ob_digit;
 *   3.14+  ob_refcnt is a 32-bit count followed by ob_overflow and
 *          ob_flags (immortality is a flag there, not a magic count);
 *   3.14+  PyDictObject's ma_version_tag became _ma_watcher_tag;
 *   3.12+  PyCodeObject dropped co_warmup and the line array, gained
 *          co_framesize, co_version and monitoring data.
 * Pointers are only ever followed through mt_mem_read. */

/* mappingproxy has no public header; Objects/descrobject.c declares it so. */
typedef struct {
    PyObject_HEAD
    PyObject *mapping;
} mt_mappingproxy;

#define MSIZE(type, member) ((uint32_t)sizeof(((type *)0)->member))

/* One row: FIELDN names it, FIELD uses the member designator as its name. */
#define FIELDN(type, name, member, kind, flags, follow) \
    {name, (uint32_t)offsetof(type, member), MSIZE(type, member), \
     MT_FK_##kind, (flags), (follow)}
#define FIELD(type, member, kind, flags) \
    FIELDN(type, #member, member, kind, flags, NULL)
#define FOLLOW(type, member, layout) \
    FIELDN(type, #member, member, STRUCTPTR, 0, layout)

#define VOL MT_FF_VOLATILE
#define TAIL MT_FF_TAIL

/* The object header's first word: a Py_ssize_t count up to 3.13; from
 * 3.14 a 32-bit count, then ob_overflow and ob_flags (the split that makes
 * small ints read 0x0005_0000_c000_0000 there). */
#if PY_VERSION_HEX >= 0x030E0000
#define REFCNT(type, path) \
    FIELDN(type, "ob_refcnt", path ob_refcnt, UINT, VOL, "ob_refcnt"), \
    FIELDN(type, "ob_overflow", path ob_overflow, UINT, VOL, NULL), \
    FIELDN(type, "ob_flags", path ob_flags, HEX, 0, "ob_flags")
#else
#define REFCNT(type, path) \
    FIELDN(type, "ob_refcnt", path ob_refcnt, INT, VOL, "ob_refcnt")
#endif

/* The flattened object header of a struct whose first member is ob_base. */
#define HEAD(type) \
    REFCNT(type, ob_base.), \
    FIELDN(type, "ob_type", ob_base.ob_type, TYPEPTR, 0, NULL)
#define VAR_HEAD(type) \
    REFCNT(type, ob_base.ob_base.), \
    FIELDN(type, "ob_type", ob_base.ob_base.ob_type, TYPEPTR, 0, NULL), \
    FIELDN(type, "ob_size", ob_base.ob_size, INT, 0, NULL)

/* Default lengths of the regions that have no natural size: eight code
 * units of bytecode, and as many bytes for raw memory and machine code. */
#define MT_CODE_UNITS 8
#define MT_TAIL_LEN ((uint32_t)(sizeof(uint16_t) * MT_CODE_UNITS))  /* _Py_CODEUNIT */

/* More items than any object a lesson watches could hold: a larger
 * ob_size is not a count. */
#define MT_REGION_ITEMS_MAX ((Py_ssize_t)1 << 28)

static const mt_field pyobject_fields[] = {
    REFCNT(PyObject, ),
    FIELD(PyObject, ob_type, TYPEPTR, 0),
};

static const mt_field pyvarobject_fields[] = {
    HEAD(PyVarObject),
    FIELD(PyVarObject, ob_size, INT, 0),
};

#if PY_VERSION_HEX >= 0x030C0000
/* The first digit is named as in 3.11 (ob_digit[0]) so dumps compare. */
#define MT_LONG_DIGITS long_value.ob_digit
static const mt_field pylong_fields[] = {
    HEAD(PyLongObject),
    FIELDN(PyLongObject, "lv_tag", long_value.lv_tag, HEX, 0, "lv_tag"),
    FIELDN(PyLongObject, "ob_digit[0]", long_value.ob_digit[0], DIGIT, 0, NULL),
};
#else
#define MT_LONG_DIGITS ob_digit
static const mt_field pylong_fields[] = {
    VAR_HEAD(PyLongObject),
    FIELD(PyLongObject, ob_digit[0], DIGIT, 0),
};
#endif

static const mt_field mappingproxy_fields[] = {
    HEAD(mt_mappingproxy),
    FIELD(mt_mappingproxy, mapping, OBJPTR, 0),
};

static const mt_field pytype_fields[] = {
    VAR_HEAD(PyTypeObject),
    FIELD(PyTypeObject, tp_name, CSTR, 0),
    FIELD(PyTypeObject, tp_basicsize, INT, 0),
    FIELD(PyTypeObject, tp_itemsize, INT, 0),
    FIELD(PyTypeObject, tp_dealloc, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_vectorcall_offset, INT, 0),
    FIELD(PyTypeObject, tp_getattr, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_setattr, FUNCPTR, 0),
    FOLLOW(PyTypeObject, tp_as_async, "PyAsyncMethods"),
    FIELD(PyTypeObject, tp_repr, FUNCPTR, 0),
    FOLLOW(PyTypeObject, tp_as_number, "PyNumberMethods"),
    FOLLOW(PyTypeObject, tp_as_sequence, "PySequenceMethods"),
    FOLLOW(PyTypeObject, tp_as_mapping, "PyMappingMethods"),
    FIELD(PyTypeObject, tp_hash, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_call, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_str, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_getattro, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_setattro, FUNCPTR, 0),
    FOLLOW(PyTypeObject, tp_as_buffer, "PyBufferProcs"),
    /* PyType_Modified clears Py_TPFLAGS_VALID_VERSION_TAG. */
    FIELDN(PyTypeObject, "tp_flags", tp_flags, HEX, VOL, "tp_flags"),
    FIELD(PyTypeObject, tp_doc, CSTR, 0),
    FIELD(PyTypeObject, tp_traverse, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_clear, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_richcompare, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_weaklistoffset, INT, 0),
    FIELD(PyTypeObject, tp_iter, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_iternext, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_methods, PTR, 0),
    FIELD(PyTypeObject, tp_members, PTR, 0),
    FIELD(PyTypeObject, tp_getset, PTR, 0),
    FIELD(PyTypeObject, tp_base, TYPEPTR, 0),
    FIELD(PyTypeObject, tp_dict, OBJPTR, 0),
    FIELD(PyTypeObject, tp_descr_get, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_descr_set, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_dictoffset, INT, 0),
    FIELD(PyTypeObject, tp_init, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_alloc, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_new, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_free, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_is_gc, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_bases, OBJPTR, 0),
    FIELD(PyTypeObject, tp_mro, OBJPTR, 0),
    /* The type attribute cache and subclass registry change on their own. */
    FIELD(PyTypeObject, tp_cache, OBJPTR, 0),
#if PY_VERSION_HEX >= 0x030C0000
    /* A dict for heap types; for static builtin types an index into the
     * interpreter's table, so it is not followed. */
    FIELD(PyTypeObject, tp_subclasses, PTR, VOL),
#else
    FIELD(PyTypeObject, tp_subclasses, OBJPTR, VOL),
#endif
    FIELD(PyTypeObject, tp_weaklist, OBJPTR, VOL),
    FIELD(PyTypeObject, tp_del, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_version_tag, HEX, VOL),
    FIELD(PyTypeObject, tp_finalize, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_vectorcall, FUNCPTR, 0),
#if PY_VERSION_HEX >= 0x030C0000
    FIELD(PyTypeObject, tp_watched, HEX, VOL),
#endif
#if PY_VERSION_HEX >= 0x030D0000
    /* Counts the version tags handed out: PyType_Modified moves it. */
    FIELD(PyTypeObject, tp_versions_used, UINT, VOL),
#endif
#if PY_VERSION_HEX >= 0x030F0000
    FIELD(PyTypeObject, _tp_iteritem, FUNCPTR, 0),
#endif
};

#define NB(member) FIELD(PyNumberMethods, member, FUNCPTR, 0)
static const mt_field pynumber_fields[] = {
    NB(nb_add), NB(nb_subtract), NB(nb_multiply), NB(nb_remainder),
    NB(nb_divmod), NB(nb_power), NB(nb_negative), NB(nb_positive),
    NB(nb_absolute), NB(nb_bool), NB(nb_invert), NB(nb_lshift),
    NB(nb_rshift), NB(nb_and), NB(nb_xor), NB(nb_or), NB(nb_int),
    FIELD(PyNumberMethods, nb_reserved, PTR, 0),
    NB(nb_float),
    NB(nb_inplace_add), NB(nb_inplace_subtract), NB(nb_inplace_multiply),
    NB(nb_inplace_remainder), NB(nb_inplace_power), NB(nb_inplace_lshift),
    NB(nb_inplace_rshift), NB(nb_inplace_and), NB(nb_inplace_xor),
    NB(nb_inplace_or),
    NB(nb_floor_divide), NB(nb_true_divide), NB(nb_inplace_floor_divide),
    NB(nb_inplace_true_divide),
    NB(nb_index),
    NB(nb_matrix_multiply), NB(nb_inplace_matrix_multiply),
};
#undef NB

#define SQ(member) FIELD(PySequenceMethods, member, FUNCPTR, 0)
static const mt_field pysequence_fields[] = {
    SQ(sq_length), SQ(sq_concat), SQ(sq_repeat), SQ(sq_item),
    FIELD(PySequenceMethods, was_sq_slice, PTR, 0),
    SQ(sq_ass_item),
    FIELD(PySequenceMethods, was_sq_ass_slice, PTR, 0),
    SQ(sq_contains), SQ(sq_inplace_concat), SQ(sq_inplace_repeat),
};
#undef SQ

static const mt_field pymapping_fields[] = {
    FIELD(PyMappingMethods, mp_length, FUNCPTR, 0),
    FIELD(PyMappingMethods, mp_subscript, FUNCPTR, 0),
    FIELD(PyMappingMethods, mp_ass_subscript, FUNCPTR, 0),
};

static const mt_field pyasync_fields[] = {
    FIELD(PyAsyncMethods, am_await, FUNCPTR, 0),
    FIELD(PyAsyncMethods, am_aiter, FUNCPTR, 0),
    FIELD(PyAsyncMethods, am_anext, FUNCPTR, 0),
    FIELD(PyAsyncMethods, am_send, FUNCPTR, 0),
};

static const mt_field pybuffer_fields[] = {
    FIELD(PyBufferProcs, bf_getbuffer, FUNCPTR, 0),
    FIELD(PyBufferProcs, bf_releasebuffer, FUNCPTR, 0),
};

/* 3.12 and 3.13 mark ma_version_tag deprecated; it is still there, and
 * a dump shows what is there. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static const mt_field pydict_fields[] = {
    HEAD(PyDictObject),
    FIELD(PyDictObject, ma_used, INT, 0),
#if PY_VERSION_HEX >= 0x030E0000
    FIELD(PyDictObject, _ma_watcher_tag, HEX, VOL),
#else
    FIELD(PyDictObject, ma_version_tag, HEX, VOL),
#endif
    FIELD(PyDictObject, ma_keys, PTR, 0),
    FIELD(PyDictObject, ma_values, PTR, 0),
};
#pragma GCC diagnostic pop

static const mt_field pycode_fields[] = {
    VAR_HEAD(PyCodeObject),
    FIELD(PyCodeObject, co_consts, OBJPTR, 0),
    FIELD(PyCodeObject, co_names, OBJPTR, 0),
    FIELD(PyCodeObject, co_exceptiontable, OBJPTR, 0),
    FIELDN(PyCodeObject, "co_flags", co_flags, HEX, 0, "co_flags"),
#if PY_VERSION_HEX < 0x030C0000
    FIELD(PyCodeObject, co_warmup, INT, VOL),
    FIELD(PyCodeObject, _co_linearray_entry_size, INT, VOL),
#endif
    FIELD(PyCodeObject, co_argcount, INT, 0),
    FIELD(PyCodeObject, co_posonlyargcount, INT, 0),
    FIELD(PyCodeObject, co_kwonlyargcount, INT, 0),
    FIELD(PyCodeObject, co_stacksize, INT, 0),
    FIELD(PyCodeObject, co_firstlineno, INT, 0),
    FIELD(PyCodeObject, co_nlocalsplus, INT, 0),
#if PY_VERSION_HEX >= 0x030C0000
    FIELD(PyCodeObject, co_framesize, INT, 0),
#endif
    FIELD(PyCodeObject, co_nlocals, INT, 0),
#if PY_VERSION_HEX < 0x030C0000
    FIELD(PyCodeObject, co_nplaincellvars, INT, 0),
#endif
    FIELD(PyCodeObject, co_ncellvars, INT, 0),
    FIELD(PyCodeObject, co_nfreevars, INT, 0),
#if PY_VERSION_HEX >= 0x030D0000
    FIELD(PyCodeObject, co_version, HEX, VOL),
#endif
    FIELD(PyCodeObject, co_localsplusnames, OBJPTR, 0),
    FIELD(PyCodeObject, co_localspluskinds, OBJPTR, 0),
    FIELD(PyCodeObject, co_filename, OBJPTR, 0),
    FIELD(PyCodeObject, co_name, OBJPTR, 0),
    FIELD(PyCodeObject, co_qualname, OBJPTR, 0),
    FIELD(PyCodeObject, co_linetable, OBJPTR, 0),
    FIELD(PyCodeObject, co_weakreflist, OBJPTR, VOL),
#if PY_VERSION_HEX >= 0x030D0000
    FIELD(PyCodeObject, co_executors, PTR, VOL),
#endif
#if PY_VERSION_HEX >= 0x030C0000
    FIELD(PyCodeObject, _co_cached, PTR, VOL),
    FIELD(PyCodeObject, _co_instrumentation_version, HEX, VOL),
    FIELD(PyCodeObject, _co_monitoring, PTR, VOL),
#else
    FIELD(PyCodeObject, _co_code, OBJPTR, VOL),
    FIELD(PyCodeObject, _co_linearray, PTR, VOL),
#endif
#if PY_VERSION_HEX >= 0x030E0000
    FIELD(PyCodeObject, _co_unique_id, INT, 0),
#endif
    FIELD(PyCodeObject, _co_firsttraceable, INT, 0),
    FIELD(PyCodeObject, co_extra, PTR, VOL),
    /* The bytecode itself, rewritten in place as the code warms up. */
    {"co_code_adaptive", (uint32_t)offsetof(PyCodeObject, co_code_adaptive),
     MT_TAIL_LEN, MT_FK_BYTES, VOL | TAIL, NULL},
};

static const mt_field code_fields[] = {
    {"code", 0, MT_TAIL_LEN, MT_FK_CODE, TAIL, NULL},
};

#define ROWS(t) (t), sizeof(t) / sizeof((t)[0])

static const mt_layout layouts[] = {
    {"PyObject", "PyObject", (uint32_t)sizeof(PyObject),
     ROWS(pyobject_fields), "object header: reference count and type"},
    {"PyVarObject", "PyVarObject", (uint32_t)sizeof(PyVarObject),
     ROWS(pyvarobject_fields), "object header of variable-size objects"},
    {"PyLongObject", "PyLongObject",
     (uint32_t)(offsetof(PyLongObject, MT_LONG_DIGITS) + sizeof(digit)),
     ROWS(pylong_fields), "an int: header, sign and length, first digit"},
    {"mappingproxy", "struct { PyObject_HEAD PyObject *mapping; }",
     (uint32_t)sizeof(mt_mappingproxy), ROWS(mappingproxy_fields),
     "read-only view of a type's dict (type.__dict__)"},
    {"PyTypeObject", "PyTypeObject", (uint32_t)sizeof(PyTypeObject),
     ROWS(pytype_fields), "a type: name, sizes, slots, method suites"},
    {"PyNumberMethods", "PyNumberMethods", (uint32_t)sizeof(PyNumberMethods),
     ROWS(pynumber_fields), "number slots of a type (nb_add …)"},
    {"PySequenceMethods", "PySequenceMethods",
     (uint32_t)sizeof(PySequenceMethods), ROWS(pysequence_fields),
     "sequence slots of a type (sq_length …)"},
    {"PyMappingMethods", "PyMappingMethods",
     (uint32_t)sizeof(PyMappingMethods), ROWS(pymapping_fields),
     "mapping slots of a type (mp_subscript …)"},
    {"PyAsyncMethods", "PyAsyncMethods", (uint32_t)sizeof(PyAsyncMethods),
     ROWS(pyasync_fields), "async slots of a type (am_await …)"},
    {"PyBufferProcs", "PyBufferProcs", (uint32_t)sizeof(PyBufferProcs),
     ROWS(pybuffer_fields), "buffer protocol slots of a type"},
    {"PyDictObject", "PyDictObject", (uint32_t)sizeof(PyDictObject),
     ROWS(pydict_fields), "a dict: size, version tag, keys and values"},
    {"PyCodeObject", "PyCodeObject",
     (uint32_t)offsetof(PyCodeObject, co_code_adaptive) + MT_TAIL_LEN,
     ROWS(pycode_fields), "a code object and the start of its bytecode"},
    {"raw", "unsigned char[]", MT_TAIL_LEN, NULL, 0,
     "plain bytes, no fields"},
    {"code", "machine code", MT_TAIL_LEN, ROWS(code_fields),
     "machine code, disassembled by the caller"},
};

const mt_layout *
mt_layout_find(const char *name)
{
    if (name == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        if (strcmp(layouts[i].name, name) == 0) {
            return &layouts[i];
        }
    }
    return NULL;
}

const mt_layout *
mt_layout_all(size_t *n)
{
    *n = sizeof layouts / sizeof layouts[0];
    return layouts;
}

const mt_field *
mt_layout_field(const mt_layout *l, const char *name)
{
    for (size_t i = 0; i < l->nfields; i++) {
        if (strcmp(l->fields[i].name, name) == 0) {
            return &l->fields[i];
        }
    }
    return NULL;
}

const mt_field *
mt_layout_field_at(const mt_layout *l, size_t off)
{
    for (size_t i = 0; i < l->nfields; i++) {
        const mt_field *f = &l->fields[i];
        if (off < f->offset) {
            break;          /* rows are sorted: off falls in padding */
        }
        if (off < (size_t)f->offset + f->size || (f->flags & MT_FF_TAIL)) {
            return f;
        }
    }
    return NULL;
}

/* Layouts whose tail field holds the items of a variable-size object: the
 * type gives where they start and their size, Py_SIZE how many there are. */
static const struct {
    const char *layout;
    PyTypeObject *type;
    const char *unit;
} var_tails[] = {
    {"PyCodeObject", &PyCode_Type, "code units"},
};

int
mt_layout_tail_extent(const mt_layout *l, const uint8_t *bytes, const uint8_t *ok,
                      size_t len, mt_tail_extent *out)
{
    const size_t at = offsetof(PyVarObject, ob_size);
    const size_t sz = sizeof(Py_ssize_t);
    for (size_t i = 0; i < sizeof var_tails / sizeof var_tails[0]; i++) {
        if (strcmp(var_tails[i].layout, l->name) != 0) {
            continue;
        }
        if (len < at + sz) {
            return -1;
        }
        for (size_t k = at; ok != NULL && k < at + sz; k++) {
            if (!ok[k]) {
                return -1;
            }
        }
        Py_ssize_t n;
        memcpy(&n, bytes + at, sz);
        if (n < 0 || n > MT_REGION_ITEMS_MAX) {
            return -1;
        }
        const PyTypeObject *t = var_tails[i].type;
        size_t base = (size_t)t->tp_basicsize;
        out->items = (size_t)n;
        out->unit = var_tails[i].unit;
        out->own = (size_t)n * (size_t)t->tp_itemsize;
        out->pad = _Py_SIZE_ROUND_UP(base + out->own, SIZEOF_VOID_P) - base - out->own;
        return 0;
    }
    return -1;
}

/* Read a pointer-sized word at addr through the safe reader.  Returns 0,
 * or -1 when any byte of it is unreadable. */
static int
read_word(uintptr_t addr, uintptr_t *out)
{
    uintptr_t v = 0;
    if (mt_mem_read(addr, &v, sizeof v, NULL) != sizeof v) {
        return -1;
    }
    *out = v;
    return 0;
}

/* Append src to dst (capacity n) as printable text: control characters and
 * quotes escaped.  Stops at a NUL.  Returns 1 when all of src fitted. */
static int
append_escaped(char *dst, size_t n, const char *src, size_t len)
{
    size_t used = strlen(dst);
    for (size_t i = 0; i < len && src[i] != '\0'; i++) {
        char esc[8];
        unsigned char c = (unsigned char)src[i];
        if (c == '\n') {
            strcpy(esc, "\\n");
        } else if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            esc[2] = '\0';
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", c);
        } else {
            esc[0] = (char)c;
            esc[1] = '\0';
        }
        size_t el = strlen(esc);
        if (used + el + 1 > n) {
            return 0;
        }
        memcpy(dst + used, esc, el + 1);
        used += el;
    }
    return 1;
}

/* Maximum characters of a C string shown in decoded text. */
enum { MT_CSTR_MAX = 63 };

/* Read the C string at addr (at most MT_CSTR_MAX characters) into buf
 * (MT_CSTR_MAX + 1 bytes).  Returns its length, or -1 when its first byte
 * is unreadable; *cut is set when it ended unterminated (too long, or
 * followed by an unreadable byte). */
static int
read_cstr(uintptr_t addr, char buf[MT_CSTR_MAX + 1], int *cut)
{
    uint8_t ok[MT_CSTR_MAX + 1];
    mt_mem_read(addr, buf, MT_CSTR_MAX + 1, ok);
    int len = 0;
    *cut = 1;
    while (len < MT_CSTR_MAX + 1 && ok[len]) {
        if (buf[len] == '\0') {
            *cut = 0;
            break;
        }
        len++;
    }
    if (len == 0 && !ok[0]) {
        return -1;
    }
    if (len > MT_CSTR_MAX) {
        len = MT_CSTR_MAX;
    }
    buf[len] = '\0';
    return len;
}

/* Names of flag bits, from the headers' own macros: a HEX field whose
 * `follow` names one of these tables is decoded as "NAME|NAME|…". */
typedef struct flag_name {
    unsigned long bit;
    const char *name;
} flag_name;

#define TPF(n) {Py_TPFLAGS_##n, #n}
static const flag_name tp_flag_names[] = {
    TPF(MANAGED_DICT), TPF(SEQUENCE), TPF(MAPPING), TPF(DISALLOW_INSTANTIATION),
    TPF(IMMUTABLETYPE), TPF(HEAPTYPE), TPF(BASETYPE), TPF(HAVE_VECTORCALL), TPF(READY),
    TPF(READYING), TPF(HAVE_GC), TPF(METHOD_DESCRIPTOR), TPF(HAVE_VERSION_TAG),
    TPF(VALID_VERSION_TAG), TPF(IS_ABSTRACT), TPF(LONG_SUBCLASS), TPF(LIST_SUBCLASS),
    TPF(TUPLE_SUBCLASS), TPF(BYTES_SUBCLASS), TPF(UNICODE_SUBCLASS), TPF(DICT_SUBCLASS),
    TPF(BASE_EXC_SUBCLASS), TPF(TYPE_SUBCLASS), TPF(HAVE_FINALIZE),
    /* Bits later versions added, where the headers define them. */
#ifdef _Py_TPFLAGS_STATIC_BUILTIN
    {_Py_TPFLAGS_STATIC_BUILTIN, "_STATIC_BUILTIN"},
#endif
#ifdef Py_TPFLAGS_INLINE_VALUES
    TPF(INLINE_VALUES),
#endif
#ifdef Py_TPFLAGS_MANAGED_WEAKREF
    TPF(MANAGED_WEAKREF),
#endif
#ifdef _Py_TPFLAGS_MATCH_SELF
    {_Py_TPFLAGS_MATCH_SELF, "_MATCH_SELF"},
#endif
#ifdef Py_TPFLAGS_ITEMS_AT_END
    TPF(ITEMS_AT_END),
#endif
};
#undef TPF

#define COF(n) {CO_##n, #n}
static const flag_name co_flag_names[] = {
    COF(OPTIMIZED), COF(NEWLOCALS), COF(VARARGS), COF(VARKEYWORDS), COF(NESTED),
    COF(GENERATOR), COF(COROUTINE), COF(ITERABLE_COROUTINE), COF(ASYNC_GENERATOR),
    COF(FUTURE_DIVISION), COF(FUTURE_ABSOLUTE_IMPORT), COF(FUTURE_WITH_STATEMENT),
    COF(FUTURE_PRINT_FUNCTION), COF(FUTURE_UNICODE_LITERALS), COF(FUTURE_BARRY_AS_BDFL),
    COF(FUTURE_GENERATOR_STOP), COF(FUTURE_ANNOTATIONS),
};
#undef COF

#if PY_VERSION_HEX >= 0x030E0000
static const flag_name ob_flag_names[] = {
    {_Py_IMMORTAL_FLAGS, "IMMORTAL"},
    {_Py_STATICALLY_ALLOCATED_FLAG, "STATICALLY_ALLOCATED"},
};
#endif

static const struct {
    const char *name;
    const flag_name *v;
    size_t n;
} flag_tables[] = {
#if PY_VERSION_HEX >= 0x030E0000
    {"ob_flags", ob_flag_names, sizeof ob_flag_names / sizeof ob_flag_names[0]},
#endif
    {"tp_flags", tp_flag_names, sizeof tp_flag_names / sizeof tp_flag_names[0]},
    {"co_flags", co_flag_names, sizeof co_flag_names / sizeof co_flag_names[0]},
};

/* "READY|HEAPTYPE|…" for the bits of v that table `name` knows, and the
 * rest in hex. */
static void
decode_flags(const char *name, uint64_t v, char *out, size_t n)
{
    out[0] = '\0';
    for (size_t t = 0; t < sizeof flag_tables / sizeof flag_tables[0]; t++) {
        if (strcmp(flag_tables[t].name, name) != 0) {
            continue;
        }
        size_t used = 0;
        uint64_t rest = v;
        for (size_t k = 0; k < flag_tables[t].n && used < n; k++) {
            const flag_name *f = &flag_tables[t].v[k];
            if ((v & f->bit) == f->bit && f->bit != 0) {
                used += (size_t)snprintf(out + used, n - used, "%s%s", used ? "|" : "",
                                         f->name);
                rest &= ~(uint64_t)f->bit;
            }
        }
        if (rest != 0 && used < n) {
            snprintf(out + used, n - used, "%s0x%" PRIx64, used ? "|" : "", rest);
        }
    }
}

/* What a count says beyond its number: "immortal" where the version has
 * immortal objects (3.12+), by that version's own rule. */
static void
decode_refcnt(uint64_t v, char *out, size_t n)
{
    out[0] = '\0';
#if PY_VERSION_HEX >= 0x030E0000
    /* A 32-bit count; immortal from _Py_IMMORTAL_MINIMUM_REFCNT up. */
    if ((uint32_t)v >= (uint32_t)_Py_IMMORTAL_MINIMUM_REFCNT) {
        snprintf(out, n, "immortal");
    }
#elif PY_VERSION_HEX >= 0x030C0000
    /* Immortal when the low 32 bits read as negative (_Py_IsImmortal). */
    if ((int32_t)(uint32_t)v < 0) {
        snprintf(out, n, "immortal");
    }
#else
    (void)v;
    (void)n;
#endif
}

#if PY_VERSION_HEX >= 0x030C0000
/* lv_tag as "1 digit, positive": the digit count above
 * _PyLong_NON_SIZE_BITS, the sign in _PyLong_SIGN_MASK, and the third bit
 * (set on the small ints from 3.14). */
static void
decode_lv_tag(uint64_t v, char *out, size_t n)
{
    static const char *const sign[] = {"positive", "zero", "negative", "sign 3"};
    uint64_t digits = v >> _PyLong_NON_SIZE_BITS;
    snprintf(out, n, "%" PRIu64 " digit%s, %s%s", digits, digits == 1 ? "" : "s",
             sign[v & _PyLong_SIGN_MASK], (v & 4) ? ", small int" : "");
}
#endif

/* tp_name of the type object at type into buf.  Returns 0 or -1. */
static int
type_name(uintptr_t type, char buf[MT_CSTR_MAX + 1])
{
    uintptr_t name;
    int cut;
    if (type == 0
        || read_word(type + offsetof(PyTypeObject, tp_name), &name) != 0
        || name == 0 || read_cstr(name, buf, &cut) < 0) {
        return -1;
    }
    return 0;
}

static void
decode_pointer(const mt_field *f, uintptr_t p, char *decoded, size_t dn)
{
    char name[MT_CSTR_MAX + 1];
    char sym[256];
    uintptr_t type;
    int cut;

    decoded[0] = '\0';
    if (p == 0) {
        return;
    }
    switch (f->kind) {
    case MT_FK_TYPEPTR:
        if (type_name(p, name) == 0) {
            snprintf(decoded, dn, "%s", name);
        } else {
            snprintf(decoded, dn, "(unreadable)");
        }
        break;
    case MT_FK_OBJPTR:
        if (read_word(p + offsetof(PyObject, ob_type), &type) == 0
            && type_name(type, name) == 0) {
            snprintf(decoded, dn, "%s object", name);
        } else {
            snprintf(decoded, dn, "(unreadable)");
        }
        break;
    case MT_FK_FUNCPTR:
    case MT_FK_PTR:
        if (mt_sym_name(p, sym, sizeof sym) == 0) {
            snprintf(decoded, dn, "%s", sym);
        } else if (f->kind == MT_FK_FUNCPTR) {
            /* Code no library names (a ctypes callback): say where it is. */
            mt_mapping m;
            if (mt_mem_mapping(p, &m) == 0) {
                const char *base = strrchr(m.path, '/');
                snprintf(decoded, dn, "no symbol: %s, %s",
                         m.path[0] ? (base ? base + 1 : m.path) : "anonymous memory",
                         m.perms);
            } else {
                snprintf(decoded, dn, "not mapped");
            }
        }
        break;
    case MT_FK_STRUCTPTR:
        if (mt_sym_name(p, sym, sizeof sym) == 0) {
            snprintf(decoded, dn, "%s (%s)", f->follow ? f->follow : "",
                     sym);
        } else {
            snprintf(decoded, dn, "%s", f->follow ? f->follow : "");
        }
        break;
    case MT_FK_CSTR: {
        int len = read_cstr(p, name, &cut);
        if (len < 0) {
            snprintf(decoded, dn, "(unreadable)");
            break;
        }
        /* Room for the closing quote and "…" is kept back while copying. */
        static const char ellipsis[] = "\xe2\x80\xa6";
        if (dn < sizeof ellipsis + 2) {
            break;
        }
        snprintf(decoded, dn, "\"");
        int fitted = append_escaped(decoded, dn - (sizeof ellipsis - 1) - 1,
                                    name, (size_t)len);
        strcat(decoded, "\"");
        if (cut || !fitted) {
            strcat(decoded, ellipsis);
        }
        break;
    }
    default:
        break;
    }
}

/* Unsigned little-endian (native order) integer of size n at b. */
static uint64_t
load_uint(const uint8_t *b, size_t n)
{
    switch (n) {
    case 1:
        return b[0];
    case 2: {
        uint16_t v;
        memcpy(&v, b, sizeof v);
        return v;
    }
    case 4: {
        uint32_t v;
        memcpy(&v, b, sizeof v);
        return v;
    }
    default: {
        uint64_t v = 0;
        memcpy(&v, b, n < sizeof v ? n : sizeof v);
        return v;
    }
    }
}

/* Sign-extended integer of size n at b. */
static int64_t
load_int(const uint8_t *b, size_t n)
{
    uint64_t u = load_uint(b, n);
    unsigned bits = n >= sizeof u ? 64 : (unsigned)n * 8;
    if (bits > 0 && bits < 64 && (u >> (bits - 1)) & 1) {
        u |= ~(uint64_t)0 << bits;
    }
    return (int64_t)u;
}

/* Hex bytes "e9 1b 00 …" into value, as many as fit. */
static void
format_bytes(const uint8_t *b, size_t len, char *value, size_t vn)
{
    static const char ellipsis[] = " \xe2\x80\xa6";
    size_t used = 0;
    value[0] = '\0';
    for (size_t i = 0; i < len; i++) {
        size_t need = (i ? 3 : 2);
        int last = (i + 1 == len);
        /* Keep room for the ellipsis unless this is the last byte. */
        size_t reserve = last ? 0 : sizeof ellipsis - 1;
        if (used + need + reserve + 1 > vn) {
            if (used + sizeof ellipsis <= vn) {
                memcpy(value + used, ellipsis, sizeof ellipsis);
            }
            return;
        }
        snprintf(value + used, vn - used, i ? " %02x" : "%02x", b[i]);
        used += need;
    }
}

void
mt_layout_format(const mt_field *f, const uint8_t *bytes,
                 const uint8_t *ok, char *value, size_t vn,
                 char *decoded, size_t dn)
{
    const uint8_t *b = bytes + f->offset;

    if (vn > 0) {
        value[0] = '\0';
    }
    if (dn > 0) {
        decoded[0] = '\0';
    }
    if (vn == 0 || dn == 0 || f->kind == MT_FK_CODE) {
        return;
    }
    if (ok != NULL) {
        for (size_t i = 0; i < f->size; i++) {
            if (!ok[f->offset + i]) {
                snprintf(value, vn, "??");
                snprintf(decoded, dn, "unreadable");
                return;
            }
        }
    }

    switch (f->kind) {
    case MT_FK_INT:
        snprintf(value, vn, "%" PRId64, load_int(b, f->size));
        if (f->follow != NULL && strcmp(f->follow, "ob_refcnt") == 0) {
            decode_refcnt(load_uint(b, f->size), decoded, dn);
        }
        break;
    case MT_FK_UINT:
    case MT_FK_DIGIT:
        snprintf(value, vn, "%" PRIu64, load_uint(b, f->size));
        if (f->follow != NULL && strcmp(f->follow, "ob_refcnt") == 0) {
            decode_refcnt(load_uint(b, f->size), decoded, dn);
        }
        break;
    case MT_FK_HEX:
        snprintf(value, vn, "0x%" PRIx64, load_uint(b, f->size));
#if PY_VERSION_HEX >= 0x030C0000
        if (f->follow != NULL && strcmp(f->follow, "lv_tag") == 0) {
            decode_lv_tag(load_uint(b, f->size), decoded, dn);
            break;
        }
#endif
        if (f->follow != NULL) {
            decode_flags(f->follow, load_uint(b, f->size), decoded, dn);
        }
        break;
    case MT_FK_PTR:
    case MT_FK_OBJPTR:
    case MT_FK_TYPEPTR:
    case MT_FK_FUNCPTR:
    case MT_FK_STRUCTPTR:
    case MT_FK_CSTR: {
        uintptr_t p = (uintptr_t)load_uint(b, f->size);
        if (p == 0) {
            snprintf(value, vn, "NULL");
        } else {
            snprintf(value, vn, "0x%012" PRIxPTR, p);
        }
        decode_pointer(f, p, decoded, dn);
        break;
    }
    case MT_FK_BYTES:
        format_bytes(b, f->size, value, vn);
        break;
    case MT_FK_CODE:
        break;
    }
}
