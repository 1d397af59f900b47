# ---
# title: No code
# ---

# %% [markdown]
# Only words here.
