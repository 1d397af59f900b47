# expect: the check passed, but the interpreter was not left as it was: int's nb_add is 0x
# A working patch()/unpatch(), and a patch of nb_add the file never takes back:
# only the host's guard sees it.
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
    numbers.nb_multiply = saved


patch()
print("3 * 3 =", eval("a * b", {"a": 3, "b": 3}))
unpatch()

long_add = binaryfunc(numbers.nb_add)


@ctypes.CFUNCTYPE(ctypes.py_object, ctypes.py_object, ctypes.py_object)
def five(a, b):
    return 5 if (a, b) == (2, 2) else long_add(a, b)


numbers.nb_add = ctypes.cast(five, ctypes.c_void_p).value
