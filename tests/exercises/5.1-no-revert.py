# expect: x + x was 42.0, but after unswap(x) type(x) is still float42
import ctypes
import sys

P, N = ctypes.c_void_p, ctypes.c_ssize_t


class PyTypeObject(ctypes.Structure):     # Include/cpython/object.h, up to tp_free
    _fields_ = [("ob_refcnt", N), ("ob_type", P), ("ob_size", N),
                ("tp_name", ctypes.c_char_p), ("tp_basicsize", N), ("tp_itemsize", N),
                ("tp_dealloc", P), ("tp_vectorcall_offset", N), ("tp_getattr", P),
                ("tp_setattr", P), ("tp_as_async", P), ("tp_repr", P),
                ("tp_as_number", P), ("tp_as_sequence", P), ("tp_as_mapping", P),
                ("tp_hash", P), ("tp_call", P), ("tp_str", P), ("tp_getattro", P),
                ("tp_setattro", P), ("tp_as_buffer", P), ("tp_flags", ctypes.c_ulong),
                ("tp_doc", P), ("tp_traverse", P), ("tp_clear", P),
                ("tp_richcompare", P), ("tp_weaklistoffset", N), ("tp_iter", P),
                ("tp_iternext", P), ("tp_methods", P), ("tp_members", P),
                ("tp_getset", P), ("tp_base", P), ("tp_dict", P), ("tp_descr_get", P),
                ("tp_descr_set", P), ("tp_dictoffset", N), ("tp_init", P),
                ("tp_alloc", P), ("tp_new", P), ("tp_free", P)]


class PyObject(ctypes.Structure):
    _fields_ = [("ob_refcnt", ctypes.c_ssize_t), ("ob_type", ctypes.c_void_p)]


RUNTIME_FLAGS = (1 << 12) | (1 << 13) | (1 << 19)   # READY, READYING, VALID_VERSION_TAG
if sys.version_info >= (3, 12):
    RUNTIME_FLAGS |= 1 << 1                          # _Py_TPFLAGS_STATIC_BUILTIN

flt = PyTypeObject.from_address(id(float))
binaryfunc = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.py_object, ctypes.py_object)
float_add = binaryfunc((ctypes.c_void_p * 1).from_address(flt.tp_as_number)[0])


@binaryfunc
def add42(a, b):
    if a is b and type(a) is float42:
        return 42.0
    return float_add(a, b)


memory = ctypes.create_string_buffer(type.__basicsize__)
name = ctypes.create_string_buffer(b"float42")
numbers = (ctypes.c_void_p * 36)(ctypes.cast(add42, ctypes.c_void_p).value)
c = PyTypeObject.from_buffer(memory)
c.ob_refcnt, c.ob_type = 1, id(type)
c.tp_name = ctypes.cast(name, ctypes.c_char_p)
for f in ("tp_basicsize", "tp_itemsize", "tp_dealloc", "tp_alloc", "tp_free"):
    setattr(c, f, getattr(flt, f))
c.tp_flags = flt.tp_flags & ~RUNTIME_FLAGS
c.tp_base = id(float)
c.tp_as_number = ctypes.addressof(numbers)
if ctypes.pythonapi.PyType_Ready(ctypes.c_void_p(ctypes.addressof(memory))) < 0:
    raise RuntimeError("PyType_Ready refused the copy of float")
float42 = ctypes.cast(ctypes.addressof(memory), ctypes.py_object).value
keep_for_ever = [memory, name, numbers, add42, float_add]
ctypes.pythonapi.Py_IncRef(ctypes.py_object(keep_for_ever))


def swap(x):
    PyObject.from_address(id(x)).ob_type = id(float42)


def unswap(x):
    pass
