# expect: solved
import ctypes


def inflate(obj, n):
    ctypes.c_ssize_t.from_address(id(obj)).value += n


def deflate(obj, n):
    ctypes.c_ssize_t.from_address(id(obj)).value -= n
