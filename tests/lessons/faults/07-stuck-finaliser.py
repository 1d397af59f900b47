# ---
# title: A finaliser that never returns
# ---

# %% Warm up
x = 2 + 2
print("good", x)

# %% Plant the finaliser timeout=1
class Stuck:
    def __del__(self):
        while True:
            pass

stuck = Stuck()
print("planted")
