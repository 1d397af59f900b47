# ---
# title: A lesson that forgets to put things back
# summary: Fixture for the session tests; its patches have no revert step.
# ---

# %% Swap the type of 2 tags=["patch"] watch=[{"expr": "id(2)", "layout": "PyLongObject", "label": "int-2"}]
import ctypes

TP_AS_NUMBER = 96   # offsetof(PyTypeObject, tp_as_number): the test checks it

class Int2(int):
    __slots__ = ()

ctypes.pythonapi.Py_IncRef(ctypes.py_object(Int2))
ctypes.c_void_p.from_address(id(2) + 8).value = id(Int2)
print(type(2).__name__)

# %% Point float's nb_add at int's tags=["patch"] watch=[{"expr": "ctypes.c_void_p.from_address(id(float) + TP_AS_NUMBER).value", "layout": "PyNumberMethods", "label": "float-slots"}]
float_slots = ctypes.c_void_p.from_address(id(float) + TP_AS_NUMBER).value
int_slots = ctypes.c_void_p.from_address(id(int) + TP_AS_NUMBER).value
ctypes.c_void_p.from_address(float_slots).value = ctypes.c_void_p.from_address(int_slots).value
print("patched")

# %% Replace int.__add__ in the real dict, unwatched tags=["patch"]
import gc

real = gc.get_referents(int.__dict__)[0]
real["__add__"] = lambda a, b: 5
ctypes.pythonapi.PyType_Modified(ctypes.py_object(int))
print(int.__add__(2, 2))
