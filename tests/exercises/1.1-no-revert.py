# expect: the count rose by 1000, but after deflate(obj, 1000) it is still +1000 from where it started
import ctypes


def inflate(obj, n):
    ctypes.c_ssize_t.from_address(id(obj)).value += n


def deflate(obj, n):
    pass
