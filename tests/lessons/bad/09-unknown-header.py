# ---
# title: Unknown header key
# author: Winston
# ---

# %%
x = 1
