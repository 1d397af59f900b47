/* layout.c — CPython 3.11 struct field tables (offsetof/sizeof) and field formatting. */
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
 * taken from offsetof/sizeof on the real CPython 3.11 headers, sorted by
 * offset.  Rows for the PyObject/PyVarObject header of a larger struct are
 * flattened (ob_refcnt, ob_type, ob_size) so a dump reads like the C.
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

/* The flattened object header of a struct whose first member is ob_base. */
#define HEAD(type) \
    FIELDN(type, "ob_refcnt", ob_base.ob_refcnt, INT, VOL, NULL), \
    FIELDN(type, "ob_type", ob_base.ob_type, TYPEPTR, 0, NULL)
#define VAR_HEAD(type) \
    FIELDN(type, "ob_refcnt", ob_base.ob_base.ob_refcnt, INT, VOL, NULL), \
    FIELDN(type, "ob_type", ob_base.ob_base.ob_type, TYPEPTR, 0, NULL), \
    FIELDN(type, "ob_size", ob_base.ob_size, INT, 0, NULL)

/* Default lengths of the regions that have no natural size: eight code
 * units of bytecode, and as many bytes for raw memory and machine code. */
#define MT_CODE_UNITS 8
#define MT_TAIL_LEN ((uint32_t)(sizeof(_Py_CODEUNIT) * MT_CODE_UNITS))

static const mt_field pyobject_fields[] = {
    FIELD(PyObject, ob_refcnt, INT, VOL),
    FIELD(PyObject, ob_type, TYPEPTR, 0),
};

static const mt_field pyvarobject_fields[] = {
    HEAD(PyVarObject),
    FIELD(PyVarObject, ob_size, INT, 0),
};

static const mt_field pylong_fields[] = {
    VAR_HEAD(PyLongObject),
    FIELD(PyLongObject, ob_digit[0], DIGIT, 0),
};

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
    FIELD(PyTypeObject, tp_subclasses, OBJPTR, VOL),
    FIELD(PyTypeObject, tp_weaklist, OBJPTR, VOL),
    FIELD(PyTypeObject, tp_del, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_version_tag, HEX, VOL),
    FIELD(PyTypeObject, tp_finalize, FUNCPTR, 0),
    FIELD(PyTypeObject, tp_vectorcall, FUNCPTR, 0),
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

static const mt_field pydict_fields[] = {
    HEAD(PyDictObject),
    FIELD(PyDictObject, ma_used, INT, 0),
    FIELD(PyDictObject, ma_version_tag, HEX, VOL),
    FIELD(PyDictObject, ma_keys, PTR, 0),
    FIELD(PyDictObject, ma_values, PTR, 0),
};

static const mt_field pycode_fields[] = {
    VAR_HEAD(PyCodeObject),
    FIELD(PyCodeObject, co_consts, OBJPTR, 0),
    FIELD(PyCodeObject, co_names, OBJPTR, 0),
    FIELD(PyCodeObject, co_exceptiontable, OBJPTR, 0),
    FIELDN(PyCodeObject, "co_flags", co_flags, HEX, 0, "co_flags"),
    FIELD(PyCodeObject, co_warmup, INT, VOL),
    FIELD(PyCodeObject, _co_linearray_entry_size, INT, VOL),
    FIELD(PyCodeObject, co_argcount, INT, 0),
    FIELD(PyCodeObject, co_posonlyargcount, INT, 0),
    FIELD(PyCodeObject, co_kwonlyargcount, INT, 0),
    FIELD(PyCodeObject, co_stacksize, INT, 0),
    FIELD(PyCodeObject, co_firstlineno, INT, 0),
    FIELD(PyCodeObject, co_nlocalsplus, INT, 0),
    FIELD(PyCodeObject, co_nlocals, INT, 0),
    FIELD(PyCodeObject, co_nplaincellvars, INT, 0),
    FIELD(PyCodeObject, co_ncellvars, INT, 0),
    FIELD(PyCodeObject, co_nfreevars, INT, 0),
    FIELD(PyCodeObject, co_localsplusnames, OBJPTR, 0),
    FIELD(PyCodeObject, co_localspluskinds, OBJPTR, 0),
    FIELD(PyCodeObject, co_filename, OBJPTR, 0),
    FIELD(PyCodeObject, co_name, OBJPTR, 0),
    FIELD(PyCodeObject, co_qualname, OBJPTR, 0),
    FIELD(PyCodeObject, co_linetable, OBJPTR, 0),
    FIELD(PyCodeObject, co_weakreflist, OBJPTR, VOL),
    FIELD(PyCodeObject, _co_code, OBJPTR, VOL),
    FIELD(PyCodeObject, _co_linearray, PTR, VOL),
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
     (uint32_t)(offsetof(PyLongObject, ob_digit) + sizeof(digit)),
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

static const struct {
    const char *name;
    const flag_name *v;
    size_t n;
} flag_tables[] = {
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
        break;
    case MT_FK_UINT:
    case MT_FK_DIGIT:
        snprintf(value, vn, "%" PRIu64, load_uint(b, f->size));
        break;
    case MT_FK_HEX:
        snprintf(value, vn, "0x%" PRIx64, load_uint(b, f->size));
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
