# expect: jump() is right, but buf starts with 00 00 00 00 00
import ctypes
import struct


def jump(src, dst):
    rel = dst - (src + 5)
    if -2**31 <= rel < 2**31:
        return b"\xe9" + struct.pack("<i", rel)
    return b"\xff\x25\x00\x00\x00\x00" + struct.pack("<Q", dst)


buf = ctypes.create_string_buffer(16)
target = ctypes.cast(ctypes.pythonapi.Py_GetVersion, ctypes.c_void_p).value
code = jump(ctypes.addressof(buf), target)
print(code.hex(" "))
