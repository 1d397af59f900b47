# ---
# title: Header never closed

# %%
x = 1
