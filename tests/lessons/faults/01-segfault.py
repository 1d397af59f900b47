# ---
# title: Read address 8
# ---

# %% Warm up
x = 2 + 2
print("good", x)

# %% Read address 8
import ctypes
ctypes.string_at(8)
print("not reached")
