/* ministry.c — the `ministry` module: symbols, safe peeks, permissions and
 * the two context managers that make 2 + 2 == 5. */
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

/* Stands in for _PyAST_Optimize(mod, arena, state): optimise nothing and
 * report success. */
static int
no_optimise(void *mod, void *arena, void *state)
{
    (void)mod;
    (void)arena;
    (void)state;
    return 1;
}

int
mt_ministry_fold(int on, char **err)
{
    if (!on) {
        if (fold_depth > 0) {
            fold_depth++;
            return 0;
        }
        uintptr_t at;
        const char *why;
        if (mt_sym_lookup("_PyAST_Optimize", &at, &why) < 0) {
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
    return fold_depth > 0;
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
        return PyErr_Format(PyExc_OSError, "peek: %zd bytes at 0x%lx are not all readable",
                            n, (unsigned long)at);
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

/* _set_type(obj, type) -> the old type: swap ob_type.  The new type gets
 * the reference the object holds on its type; the old one's is handed to
 * the caller (a new reference), so swapping back balances both. */
static PyObject *
m_set_type(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *obj;
    PyTypeObject *type;
    if (!PyArg_ParseTuple(args, "OO!:_set_type", &obj, &PyType_Type, &type)) {
        return NULL;
    }
    if (type->tp_basicsize != Py_TYPE(obj)->tp_basicsize
        || type->tp_itemsize != Py_TYPE(obj)->tp_itemsize) {
        return PyErr_Format(PyExc_TypeError, "_set_type: %s and %s differ in layout",
                            Py_TYPE(obj)->tp_name, type->tp_name);
    }
    PyTypeObject *old = Py_TYPE(obj);
    Py_INCREF(type);
    Py_SET_TYPE(obj, type);
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
    {"_fold", m_fold, METH_O, NULL},
    {"folding_off", m_folding_off, METH_NOARGS,
     "folding_off() -> bool: whether no_folding() holds the trampoline now."},
    {NULL, NULL, 0, NULL},
};

/* The context managers are thin Python over the C primitives above. */
static const char module_src[] =
    "class no_folding:\n"
    "    \"\"\"Hold the AST optimiser off: code compiled inside is not folded.\n"
    "    A jump over _PyAST_Optimize; taken back on exit, whatever happens.\"\"\"\n"
    "    def __enter__(self):\n"
    "        _fold(False)\n"
    "        return self\n"
    "    def __exit__(self, *exc):\n"
    "        _fold(True)\n"
    "        return False\n"
    "class two_plus_two_equals:\n"
    "    \"\"\"Inside the block 2 + 2 == n: the object 2 becomes an instance of\n"
    "    an int subclass whose __add__ says so.  Put back on exit.\"\"\"\n"
    "    def __init__(self, n=5):\n"
    "        self.n = n\n"
    "        self._old = None\n"
    "    def __enter__(self):\n"
    "        n = self.n\n"
    "        class Int2(int):\n"
    "            __slots__ = ()\n"
    "            def __add__(self, other):\n"
    "                if (type(other) in (int, Int2) and int.__eq__(self, 2) is True\n"
    "                        and int.__eq__(other, 2) is True):\n"
    "                    return n\n"
    "                return int.__add__(self, other)\n"
    "        if self._old is not None:\n"
    "            raise RuntimeError('two_plus_two_equals is already entered')\n"
    "        self._old = _set_type(2, Int2)\n"
    "        return self\n"
    "    def __exit__(self, *exc):\n"
    "        old, self._old = self._old, None\n"
    "        if old is not None:\n"
    "            _set_type(2, old)\n"
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
    return m;
}
