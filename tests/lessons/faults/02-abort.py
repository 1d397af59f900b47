# ---
# title: Abort
# ---

# %% Warm up
x = 2 + 2
print("good", x)

# %% Abort the interpreter
import os
os.abort()
