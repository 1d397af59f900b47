# ---
# title: Bad JSON
# ---

# %% [markdown]
# Fine so far.

# %% watch=["id(2):PyLongObject"
x = 1
