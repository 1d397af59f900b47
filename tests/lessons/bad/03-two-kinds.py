# ---
# title: Two kinds
# ---

# %%
x = 1

# %% tags=["patch", "revert"]
x = 2
