# ---
# title: Slow
# ---

# %% Quick
print("quick one")

# %% Slow timeout=30
import time
time.sleep(20)
