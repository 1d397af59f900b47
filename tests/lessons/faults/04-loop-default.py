# ---
# title: Loop under the default limit
# ---

# %% Warm up
x = 2 + 2
print("good", x)

# %% Loop forever
while True:
    pass
