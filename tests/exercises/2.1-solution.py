# expect: solved
import ctypes
import gc

real = gc.get_referents(str.__dict__)[0]


def shout(self):
    return self.upper() + "!"


def add_shout():
    real["shout"] = shout
    ctypes.pythonapi.PyType_Modified(ctypes.py_object(str))


def remove_shout():
    del real["shout"]
    ctypes.pythonapi.PyType_Modified(ctypes.py_object(str))
