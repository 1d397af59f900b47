# ---
# title: Watch without layout
# ---

# %% watch=["id(2):PyObject", "id(2)"]
x = 1
