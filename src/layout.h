/* layout.h — field tables of CPython structures, from offsetof/sizeof in the
 * real headers, and how each field shows its value. */
#ifndef MT_LAYOUT_H
#define MT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* How a field's bytes are shown. */
typedef enum mt_field_kind {
    MT_FK_INT,        /* signed integer (Py_ssize_t, int) */
    MT_FK_UINT,       /* unsigned integer */
    MT_FK_HEX,        /* flags and tags: shown in hex */
    MT_FK_DIGIT,      /* a PyLongObject digit (30 bits) */
    MT_FK_PTR,        /* data pointer: decoded with its symbol, if any */
    MT_FK_OBJPTR,     /* PyObject *: decoded as "<tp_name> object" */
    MT_FK_TYPEPTR,    /* PyTypeObject *: decoded as the type's tp_name */
    MT_FK_FUNCPTR,    /* function pointer: decoded as its symbol */
    MT_FK_STRUCTPTR,  /* pointer to a struct with a layout (see follow) */
    MT_FK_CSTR,       /* const char *: decoded as the string */
    MT_FK_BYTES,      /* raw bytes, shown in hex */
    MT_FK_CODE        /* machine code: decoded as instructions */
} mt_field_kind;

/* Field flags. */
enum {
    MT_FF_VOLATILE = 1, /* changes without any patch (reference counts,
                           version tags, specialisation caches): ignored
                           when a region is verified against pristine */
    MT_FF_TAIL = 2      /* the region's last field, running to the end of
                           the region whatever its length (bytecode, code);
                           size is only its default length */
};

typedef struct mt_field {
    const char *name;      /* C member name, e.g. "ob_refcnt" */
    uint32_t offset;       /* offsetof() */
    uint32_t size;         /* sizeof() of the member */
    mt_field_kind kind;
    unsigned flags;        /* MT_FF_* */
    const char *follow;    /* MT_FK_STRUCTPTR: layout the pointer leads to */
} mt_field;

typedef struct mt_layout {
    const char *name;      /* "PyLongObject", also the lesson's layout name */
    const char *c_type;    /* "PyLongObject" or "struct { ... }" */
    uint32_t size;         /* default region length in bytes */
    const mt_field *fields;
    size_t nfields;
    const char *about;     /* one line for --doctor and docs */
} mt_layout;

/* Find a layout by name ("PyObject", "PyVarObject", "PyLongObject",
 * "mappingproxy", "PyTypeObject", "PyNumberMethods", "PyDictObject",
 * "PyCodeObject", "raw", "code"; also "PySequenceMethods",
 * "PyMappingMethods", "PyAsyncMethods" and "PyBufferProcs", so that every
 * STRUCTPTR's follow names a layout).  Returns a static table, or NULL. */
const mt_layout *mt_layout_find(const char *name);

/* All layouts, in a stable order; *n gets the count. */
const mt_layout *mt_layout_all(size_t *n);

/* The field that covers byte offset off of a region of layout l, or NULL
 * (padding, past the end, "raw").  A MT_FF_TAIL field covers every offset
 * from its start on. */
const mt_field *mt_layout_field_at(const mt_layout *l, size_t off);

/* The field of l named name ("tp_as_number"), or NULL.  Static. */
const mt_field *mt_layout_field(const mt_layout *l, const char *name);

/* How much of a region's MT_FF_TAIL field is the object's own. */
typedef struct mt_tail_extent {
    size_t items;        /* Py_SIZE of the object */
    const char *unit;    /* what one item is ("code units") */
    size_t own;          /* bytes of those items, from the tail's offset */
    size_t pad;          /* bytes its allocation holds beyond them */
} mt_tail_extent;

/* Some layouts end in the items of a variable-size object (a code
 * object's bytecode): read their count from the region's bytes (ok marks
 * readable ones, NULL: all; len bytes) into *out.  The allocation is the
 * size _PyObject_VAR_SIZE asks for, rounded up to a pointer's size; own
 * and pad may reach past len.  Returns 0, or -1 when the layout's tail has
 * no length of its own (machine code, raw bytes) or ob_size is unreadable
 * or absurd. */
int mt_layout_tail_extent(const mt_layout *l, const uint8_t *bytes, const uint8_t *ok,
                          size_t len, mt_tail_extent *out);

/* Show field f of a region: bytes points at the region's first byte and
 * ok marks readable bytes (NULL: all readable).  value gets the plain
 * value ("1000000042", "0x7f3c…", "??" when unreadable); decoded gets what
 * it leads to ("int", "long_add", "\"int\"", "dict object") or "" when
 * nothing.  Following a pointer reads live memory safely (mt_mem_read);
 * a pointer whose target cannot be read decodes as "(unreadable)".  Only
 * f->size bytes are shown (for a MT_FF_TAIL field, its default length):
 * bytes must hold f->offset + f->size bytes.  MT_FK_CODE gives "" and "":
 * the caller disassembles.  Text is truncated to vn/dn bytes. */
void mt_layout_format(const mt_field *f, const uint8_t *bytes,
                      const uint8_t *ok, char *value, size_t vn,
                      char *decoded, size_t dn);

#endif
