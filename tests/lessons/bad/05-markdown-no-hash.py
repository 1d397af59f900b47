# ---
# title: Markdown without hash
# ---

# %% [markdown]
# A fine line.
#
This line forgot its hash.

# %%
x = 1
