# ---
# title: Loop with a limit
# ---

# %% Warm up
x = 2 + 2
print("good", x)

# %% Loop forever timeout=1
while True:
    pass
