# ---
# title: Minimal
# ---

# %%
print(2 + 2)
