# expect: the type says x has a GC header in front of it
import ctypes


class Float42(float):
    __slots__ = ()

    def __add__(self, other):
        return 42.0 if other is self else float(self) + other


def swap(x):
    ctypes.c_void_p.from_address(id(x) + ctypes.sizeof(ctypes.c_ssize_t)).value = id(Float42)


def unswap(x):
    ctypes.c_void_p.from_address(id(x) + ctypes.sizeof(ctypes.c_ssize_t)).value = id(float)
