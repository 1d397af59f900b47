# ---
# title: Forged pointers
# ---

# %% Warm up
x = 2 + 2
print("good", x)

# %% Forge an object header watch=[{"expr": "forged", "layout": "PyObject", "label": "forged"}, {"expr": "0xdead00000000", "layout": "PyLongObject", "label": "nowhere"}]
import ctypes

# ob_refcnt 1, ob_type 0x10: a header whose type pointer leads nowhere.
header = (ctypes.c_ssize_t * 2)(1, 0x10)
forged = ctypes.addressof(header)
print("forged at", hex(forged))
