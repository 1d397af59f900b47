# ---
# title: A lesson that leaves a code page writable and executable
# summary: Fixture for the session tests; the host takes write permission away.
# ---

# %% Make a code page RWX and leave it so tags=["patch"]
import ctypes, mmap, ministry

libc = ctypes.CDLL(None)
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
page = ministry.symbol("PyCode_Optimize") & -mmap.PAGESIZE
print(libc.mprotect(page, mmap.PAGESIZE, mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC),
      ministry.perms(page))
