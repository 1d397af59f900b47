# expect: 3 * 3 was 10, but after unpatch() nb_multiply still points at your callback
import ctypes


class PyTypeObject(ctypes.Structure):     # the fields up to tp_as_number
    _fields_ = [("ob_refcnt", ctypes.c_ssize_t), ("ob_type", ctypes.c_void_p),
                ("ob_size", ctypes.c_ssize_t), ("tp_name", ctypes.c_char_p),
                ("tp_basicsize", ctypes.c_ssize_t), ("tp_itemsize", ctypes.c_ssize_t),
                ("tp_dealloc", ctypes.c_void_p), ("tp_vectorcall_offset", ctypes.c_ssize_t),
                ("tp_getattr", ctypes.c_void_p), ("tp_setattr", ctypes.c_void_p),
                ("tp_as_async", ctypes.c_void_p), ("tp_repr", ctypes.c_void_p),
                ("tp_as_number", ctypes.c_void_p)]


class PyNumberMethods(ctypes.Structure):  # the first three slots
    _fields_ = [("nb_add", ctypes.c_void_p), ("nb_subtract", ctypes.c_void_p),
                ("nb_multiply", ctypes.c_void_p)]


numbers = PyNumberMethods.from_address(PyTypeObject.from_address(id(int)).tp_as_number)
binaryfunc = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.py_object, ctypes.py_object)
saved = numbers.nb_multiply
long_mul = binaryfunc(saved)


@ctypes.CFUNCTYPE(ctypes.py_object, ctypes.py_object, ctypes.py_object)
def ten(a, b):
    if type(a) is int and type(b) is int and a == 3 and b == 3:
        return 10
    return long_mul(a, b)


def patch():
    numbers.nb_multiply = ctypes.cast(ten, ctypes.c_void_p).value


def unpatch():
    pass


