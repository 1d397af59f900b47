/* pyver.h — what the tests expect of the CPython they are built against:
 * its library name, its debug package, and the names that moved between
 * versions.  Stated here independently of src/, so a test that compares
 * them with what the host finds checks the host. */
#ifndef MT_TESTS_PYVER_H
#define MT_TESTS_PYVER_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define MT_T_PYVER Py_STRINGIFY(PY_MAJOR_VERSION) "." Py_STRINGIFY(PY_MINOR_VERSION)
#define MT_T_LIBPY "libpython" MT_T_PYVER ".so.1.0"
#define MT_T_DBG_PKG "python" MT_T_PYVER "-dbg"

#if PY_VERSION_HEX >= 0x030E0000
/* int's nb_add is a wrapper around long_add; folding is in the CFG. */
#define MT_T_NB_ADD "long_add_method"
#define MT_T_NB_MUL "long_mul_method"
#define MT_T_FOLDER "optimize_basic_block"
#define MT_T_FOLDER_NOOP 0
#else
#define MT_T_NB_ADD "long_add"
#define MT_T_NB_MUL "long_mul"
#define MT_T_FOLDER "_PyAST_Optimize"
#define MT_T_FOLDER_NOOP 1
#endif

/* What the lessons' compiled code looks like: co_consts of
 * `def f(): return 2 + 2` folded and unfolded, of compile("2 + 2") folded,
 * f's first load unfolded, and `case -1:` with the folder off. */
#if PY_VERSION_HEX >= 0x030E0000
#define MT_T_F_FOLDED "(2,)"        /* the 4 rides in LOAD_SMALL_INT */
#define MT_T_F_UNFOLDED "(2,)"
#define MT_T_EXPR_FOLDED "(2,)"
#define MT_T_LOAD_TWO "LOAD_SMALL_INT           2"
#define MT_T_MATCH "compiled: sign(-1) = minus one"
#else
#define MT_T_F_FOLDED "(None, 4)"
#define MT_T_F_UNFOLDED "(None, 2)"
#define MT_T_EXPR_FOLDED "(4,)"
#define MT_T_LOAD_TWO "LOAD_CONST               1 (2)"
#define MT_T_MATCH "SyntaxError: patterns may only match literals and attribute lookups"
#endif

/* int's dict, borrowed: from 3.12 a static builtin type's dict lives in
 * the interpreter's state and tp_dict is NULL. */
static inline PyObject *
mt_t_int_dict(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *d = PyType_GetDict(&PyLong_Type);
    Py_XDECREF(d);
    return d;
#else
    return PyLong_Type.tp_dict;
#endif
}

#endif
