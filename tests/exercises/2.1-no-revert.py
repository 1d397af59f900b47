# expect: but after remove_shout() str.__dict__ still has 'shout'
import ctypes
import gc

real = gc.get_referents(str.__dict__)[0]


def add_shout():
    real["shout"] = lambda self: self.upper() + "!"
    ctypes.pythonapi.PyType_Modified(ctypes.py_object(str))


def remove_shout():
    pass
