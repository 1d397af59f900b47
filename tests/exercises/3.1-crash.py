# expect: the interpreter crashed: killed by signal 11 (SIGSEGV
import ctypes

ctypes.string_at(0)
