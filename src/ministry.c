/* ministry.c — the `ministry` module: symbols, safe peeks, permissions, the
 * two context managers that make 2 + 2 == 5 and the type the object 2 is
 * given; and `doublescript`, the talk's package name for them. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "ministry.h"
#include "mem.h"
#include "symbols.h"
#include "tramp.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* ---- the optimiser trampoline ---------------------------------------- */

static mt_tramp fold_tramp;
static int fold_depth;

/* Where `2 + 2` is folded, and what a function that folds nothing returns
 * there.  Up to 3.13 the AST optimiser folds: _PyAST_Optimize(mod, arena,
 * state) in Python/ast_opt.c, 1 for success.  From 3.14 folding moved into
 * the CFG optimiser: optimize_basic_block(const_cache, bb, consts) in
 * Python/flowgraph.c, static (and LTO may suffix its name: the lookup
 * matches that), SUCCESS being 0.  Both take three pointers. */
#if PY_VERSION_HEX >= 0x030E0000
#define MT_FOLD_SITE "optimize_basic_block"
#define MT_FOLD_NOOP_RESULT 0
#else
#define MT_FOLD_SITE "_PyAST_Optimize"
#define MT_FOLD_NOOP_RESULT 1
#endif

/* Stands in for the folding site: optimise nothing and report success. */
static int
no_optimise(void *a, void *b, void *c)
{
    (void)a;
    (void)b;
    (void)c;
    return MT_FOLD_NOOP_RESULT;
}

const char *
mt_ministry_fold_site(void)
{
    return MT_FOLD_SITE;
}

/* Whether the jump no_folding() wrote is at the site now: the bytes there
 * are read, not a flag trusted (a lesson may have taken it out itself). */
static int
jump_in_place(void)
{
    uint8_t now[MT_TRAMP_MAX];
    return fold_tramp.installed
           && mt_mem_read(fold_tramp.at, now, fold_tramp.len, NULL) == fold_tramp.len
           && memcmp(now, fold_tramp.written, fold_tramp.len) == 0;
}

int
mt_ministry_fold(int on, char **err)
{
    uint8_t now[MT_TRAMP_MAX];
    if (fold_depth > 0 && !jump_in_place() && fold_tramp.installed
        && mt_mem_read(fold_tramp.at, now, fold_tramp.len, NULL) == fold_tramp.len
        && memcmp(now, fold_tramp.saved, fold_tramp.len) == 0) {
        /* Someone put the original bytes back: the jump is gone, whatever
         * the count says. */
        fold_tramp.installed = 0;
        fold_depth = 0;
        if (on) {
            return 0;      /* folding already, as asked */
        }
    }
    if (!on) {
        if (fold_depth > 0) {
            fold_depth++;
            return 0;
        }
        uintptr_t at;
        const char *why;
        if (mt_sym_lookup(MT_FOLD_SITE, &at, &why) < 0) {
            *err = mt_xstrdup(why);
            return -1;
        }
        if (mt_tramp_install(&fold_tramp, at, (uintptr_t)no_optimise, 0, err) < 0) {
            return -1;
        }
        fold_depth = 1;
        return 0;
    }
    if (fold_depth == 0) {
        *err = mt_xstrdup("folding is not off");
        return -1;
    }
    if (fold_depth > 1) {
        fold_depth--;
        return 0;
    }
    if (mt_tramp_remove(&fold_tramp, err) < 0) {
        return -1;
    }
    fold_depth = 0;
    return 0;
}

int
mt_ministry_fold_off(void)
{
    /* Off when the site's first bytes are not the library's own: read
     * there now, whoever wrote them. */
    uintptr_t at;
    const char *why;
    uint8_t now[MT_TRAMP_MAX], want[MT_TRAMP_MAX];
    if (mt_sym_lookup(MT_FOLD_SITE, &at, &why) < 0
        || mt_mem_read(at, now, sizeof now, NULL) != sizeof now) {
        return jump_in_place();
    }
    if (mt_mem_file_bytes(at, want, sizeof want) < 0) {
        return jump_in_place();
    }
    return memcmp(now, want, sizeof now) != 0;
}

/* ---- module functions --------------------------------------------------- */

static PyObject *
m_symbol(PyObject *self, PyObject *arg)
{
    (void)self;
    const char *name = PyUnicode_AsUTF8(arg);
    if (name == NULL) {
        return NULL;
    }
    uintptr_t at;
    const char *why;
    if (mt_sym_lookup(name, &at, &why) < 0) {
        PyErr_SetString(PyExc_LookupError, why);
        return NULL;
    }
    return PyLong_FromUnsignedLongLong(at);
}

static int
address_of(PyObject *arg, uintptr_t *at)
{
    unsigned long long v = PyLong_AsUnsignedLongLongMask(arg);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        return -1;
    }
    *at = (uintptr_t)v;
    return 0;
}

static PyObject *
m_describe(PyObject *self, PyObject *arg)
{
    (void)self;
    uintptr_t at;
    char buf[512];
    if (address_of(arg, &at) < 0) {
        return NULL;
    }
    mt_sym_describe(at, buf, sizeof buf);
    return PyUnicode_FromString(buf);
}

static PyObject *
m_peek(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *addr;
    Py_ssize_t n;
    uintptr_t at;
    if (!PyArg_ParseTuple(args, "On:peek", &addr, &n) || address_of(addr, &at) < 0) {
        return NULL;
    }
    if (n < 0 || n > (1 << 24)) {
        PyErr_SetString(PyExc_ValueError, "peek: n must be between 0 and 16 MiB");
        return NULL;
    }
    PyObject *b = PyBytes_FromStringAndSize(NULL, n);
    if (b == NULL) {
        return NULL;
    }
    size_t got = mt_mem_read(at, PyBytes_AS_STRING(b), (size_t)n, NULL);
    if (got != (size_t)n) {
        Py_DECREF(b);
        /* (PyErr_Format knows %p, not %lx.) */
        return PyErr_Format(PyExc_OSError, "peek: %zd bytes at %p are not all readable", n,
                            (void *)at);
    }
    return b;
}

static PyObject *
m_perms(PyObject *self, PyObject *arg)
{
    (void)self;
    uintptr_t at;
    char p[5];
    if (address_of(arg, &at) < 0) {
        return NULL;
    }
    mt_mem_perms(at, p);
    return PyUnicode_FromString(p);
}

/* ---- the substitute type for 2 ------------------------------------------- */

/* Int2: a copy of int's type object in which only addition differs.
 *
 * The object 2 is statically allocated and has no GC header in front of
 * it, so whatever type it is given must describe exactly int's memory.  A
 * class statement cannot make such a type: it always adds
 * Py_TPFLAGS_HAVE_GC (the collector would then look for a PyGC_Head in
 * front of 2, inside the object 1), subtype_dealloc and PyObject_GC_Del.
 * So, as the talk's own code did, the type is built from int's real
 * fields — sizes, deallocator, allocator, free function, flags — with
 * tp_base = int; PyType_Ready inherits everything else from int, and the
 * only slot of our own is nb_add.  Like int it is static: never freed, so
 * an object given this type holds no reference to it, and it is not a GC
 * object itself.  Built once, on first use. */
static PyObject *int2_add(PyObject *a, PyObject *b);
static PyNumberMethods int2_number = {.nb_add = int2_add};  /* the rest: int's */
static PyTypeObject int2_type = {
    PyVarObject_HEAD_INIT(&PyType_Type, 0)
    .tp_name = "ministry.Int2",
    .tp_doc = "int with its own nb_add: the type the object 2 is given inside "
              "two_plus_two_equals.",
    .tp_as_number = &int2_number,
    .tp_base = &PyLong_Type,
};
static PyObject *int2_sum;     /* new reference: what 2 + 2 gives, or NULL */

/* Flags PyType_Ready and the runtime own (readiness, the method cache's
 * tag, "a builtin of the runtime"): not copied from int. */
static const unsigned long runtime_flags = Py_TPFLAGS_READY | Py_TPFLAGS_READYING
                                          | Py_TPFLAGS_VALID_VERSION_TAG
#ifdef _Py_TPFLAGS_STATIC_BUILTIN
                                          | _Py_TPFLAGS_STATIC_BUILTIN
#endif
    ;

/* An exact int or Int2 equal to 2. */
static int
is_two(PyObject *o)
{
    if (!PyLong_CheckExact(o) && !Py_IS_TYPE(o, &int2_type)) {
        return 0;
    }
    int overflow;
    long v = PyLong_AsLongAndOverflow(o, &overflow);
    return v == 2 && !overflow;
}

/* Int2's nb_add: int2_sum for 2 + 2 while one is set, else whatever int's
 * own nb_add says now.  Returns a new reference. */
static PyObject *
int2_add(PyObject *a, PyObject *b)
{
    if (int2_sum != NULL && is_two(a) && is_two(b)) {
        Py_INCREF(int2_sum);
        return int2_sum;
    }
    return PyLong_Type.tp_as_number->nb_add(a, b);
}

/* Whether objects of type a may be given type b and back: the checks of
 * CPython's __class__ assignment (compatible_for_assignment), tp_dealloc
 * included.  0, or -1 with TypeError naming the first difference. */
static int
same_layout(PyTypeObject *a, PyTypeObject *b)
{
    const char *what = NULL;
    if (a->tp_free != b->tp_free) {
        what = "tp_free";
    } else if (a->tp_dealloc != b->tp_dealloc) {
        what = "tp_dealloc";
    } else if (a->tp_basicsize != b->tp_basicsize) {
        what = "tp_basicsize";
    } else if (a->tp_itemsize != b->tp_itemsize) {
        what = "tp_itemsize";
    } else if (a->tp_dictoffset != b->tp_dictoffset) {
        what = "tp_dictoffset";
    } else if (a->tp_weaklistoffset != b->tp_weaklistoffset) {
        what = "tp_weaklistoffset";
    } else if ((a->tp_flags ^ b->tp_flags) & Py_TPFLAGS_HAVE_GC) {
        what = "Py_TPFLAGS_HAVE_GC";
    }
    if (what != NULL) {
        PyErr_Format(PyExc_TypeError, "'%s' and '%s' differ in %s: one cannot stand in for the other",
                     a->tp_name, b->tp_name, what);
        return -1;
    }
    return 0;
}

/* Build Int2 on first use.  0, or -1 with an exception set. */
static int
int2_ready(void)
{
    PyTypeObject *t = &int2_type;
    if (t->tp_flags & Py_TPFLAGS_READY) {
        return 0;
    }
    t->tp_basicsize = PyLong_Type.tp_basicsize;
    t->tp_itemsize = PyLong_Type.tp_itemsize;
    t->tp_dealloc = PyLong_Type.tp_dealloc;
    t->tp_alloc = PyLong_Type.tp_alloc;
    t->tp_free = PyLong_Type.tp_free;
    t->tp_flags = PyLong_Type.tp_flags & ~runtime_flags;
    if (PyType_Ready(t) < 0) {
        return -1;
    }
    return same_layout(&PyLong_Type, t);
}

/* _int2(n) -> (Int2, the previous n): from now on Int2 says 2 + 2 == n
 * (None: defer to int).  The type is a borrowed-for-ever static object. */
static PyObject *
m_int2(PyObject *self, PyObject *n)
{
    (void)self;
    if (int2_ready() < 0) {
        return NULL;
    }
    PyObject *prev = int2_sum != NULL ? int2_sum : Py_NewRef(Py_None);  /* moves */
    int2_sum = n != Py_None ? Py_NewRef(n) : NULL;
    return Py_BuildValue("(ON)", (PyObject *)&int2_type, prev);
}

/* _set_type(obj, type) -> the old type (a new reference): swap ob_type,
 * as CPython's __class__ assignment does once its layout check passes,
 * and only then.  A heap type gains the reference the object holds on it
 * and the old one loses it; a static type (int, Int2) is not counted. */
static PyObject *
m_set_type(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *obj;
    PyTypeObject *type;
    if (!PyArg_ParseTuple(args, "OO!:_set_type", &obj, &PyType_Type, &type)) {
        return NULL;
    }
    PyTypeObject *old = Py_TYPE(obj);
    if (same_layout(old, type) < 0) {
        return NULL;
    }
    Py_INCREF(old);                                  /* the caller's */
    if (type->tp_flags & Py_TPFLAGS_HEAPTYPE) {
        Py_INCREF(type);
    }
    Py_SET_TYPE(obj, type);
    if (old->tp_flags & Py_TPFLAGS_HEAPTYPE) {
        Py_DECREF(old);
    }
    return (PyObject *)old;
}

static PyObject *
m_fold(PyObject *self, PyObject *arg)
{
    (void)self;
    int on = PyObject_IsTrue(arg);
    char *err = NULL;
    if (on < 0) {
        return NULL;
    }
    if (mt_ministry_fold(on, &err) < 0) {
        PyErr_SetString(on ? PyExc_RuntimeError : PyExc_LookupError, err);
        free(err);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
m_folding_off(PyObject *self, PyObject *noarg)
{
    (void)self;
    (void)noarg;
    return PyBool_FromLong(mt_ministry_fold_off());
}

static PyMethodDef methods[] = {
    {"symbol", m_symbol, METH_O,
     "symbol(name) -> int: address of an exported or static libpython symbol."},
    {"describe", m_describe, METH_O,
     "describe(address) -> str: 'long_add (libpython3.11.so.1.0+0x…)'."},
    {"peek", m_peek, METH_VARARGS,
     "peek(address, n) -> bytes: a safe read; OSError when unreadable."},
    {"perms", m_perms, METH_O,
     "perms(address) -> str: permissions of the mapping, e.g. 'r-xp'."},
    {"_set_type", m_set_type, METH_VARARGS, NULL},
    {"_int2", m_int2, METH_O, NULL},
    {"_fold", m_fold, METH_O, NULL},
    {"folding_off", m_folding_off, METH_NOARGS,
     "folding_off() -> bool: whether the folding site's first bytes differ from the library's now."},
    {NULL, NULL, 0, NULL},
};

/* The context managers are thin Python over the C primitives above. */
static const char module_src[] =
    "class no_folding:\n"
    "    \"\"\"Hold the constant folder off: code compiled inside is not folded.\n"
    "    A jump over FOLDER; taken back on exit, whatever happens.\"\"\"\n"
    "    def __enter__(self):\n"
    "        _fold(False)\n"
    "        return self\n"
    "    def __exit__(self, *exc):\n"
    "        _fold(True)\n"
    "        return False\n"
    "class two_plus_two_equals:\n"
    "    \"\"\"Inside the block 2 + 2 == n: the object 2 becomes an instance of\n"
    "    ministry.Int2, a copy of int's type object with its own nb_add, so\n"
    "    2 keeps int's exact layout.  Put back on exit.  Nests.\"\"\"\n"
    "    def __init__(self, n=5):\n"
    "        self.n = n\n"
    "        self._old = None\n"
    "    def __enter__(self):\n"
    "        if self._old is not None:\n"
    "            raise RuntimeError('two_plus_two_equals is already entered')\n"
    "        int2, self._prev = _int2(self.n)\n"
    "        try:\n"
    "            self._old = _set_type(2, int2)\n"
    "        except BaseException:\n"
    "            _int2(self._prev)\n"
    "            raise\n"
    "        return self\n"
    "    def __exit__(self, *exc):\n"
    "        old, self._old = self._old, None\n"
    "        if old is not None:\n"
    "            _set_type(2, old)\n"
    "            _int2(self._prev)\n"
    "        return False\n";

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "ministry",
    "The host's helpers for lessons and --run scripts (see docs/python-api.md).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyObject *
mt_ministry_init(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    PyObject *d = PyModule_GetDict(m);
    PyObject *r = PyRun_String(module_src, Py_file_input, d, d);
    if (r == NULL) {
        Py_DECREF(m);
        return NULL;
    }
    Py_DECREF(r);
    if (PyModule_AddStringConstant(m, "FOLDER", MT_FOLD_SITE) < 0
        || PyModule_AddIntConstant(m, "FOLDER_NOOP_RESULT", MT_FOLD_NOOP_RESULT) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

/* ---- doublescript ------------------------------------------------------- */

/* The talk's package, as far as its tests reach: `from doublescript import
 * two_plus_two_equals` gets ministry's context manager itself.  The
 * package also read DOUBLEPLUSNOPYTHONOPT when imported; here the host
 * reads it at start-up instead (mt_interp_run_main), because a test module
 * is compiled before its own `from doublescript import` line runs. */
static const char doublescript_src[] =
    "from ministry import two_plus_two_equals\n"
    "__all__ = ['two_plus_two_equals']\n";

static struct PyModuleDef doublescript_module = {
    PyModuleDef_HEAD_INIT, "doublescript",
    "The talk's python-doublescript, as its tests use it: two_plus_two_equals(n), "
    "the context manager of the ministry module.  DOUBLEPLUSNOPYTHONOPT=1 is read "
    "by ministry-tutor when it starts --run or -m (see docs/python-api.md).",
    -1, NULL, NULL, NULL, NULL, NULL,
};

PyObject *
mt_ministry_doublescript_init(void)
{
    PyObject *m = PyModule_Create(&doublescript_module);
    if (m == NULL) {
        return NULL;
    }
    PyObject *d = PyModule_GetDict(m);
    PyObject *r = PyRun_String(doublescript_src, Py_file_input, d, d);
    if (r == NULL) {
        Py_DECREF(m);
        return NULL;
    }
    Py_DECREF(r);
    return m;
}
