# ---
# title: A watch that never returns
# ---

# %% Warm up
x = 2 + 2
print("good", x)

# %% Define a generator that never ends
import itertools

def forever():
    for _ in itertools.count():
        pass

# %% Watch it timeout=1 watch=["forever():raw:8"]
print("not reached")
