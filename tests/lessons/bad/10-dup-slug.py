# ---
# title: Duplicate slug
# ---

# %% slug="a"
x = 1

# %% A slug="a"
x = 2
