# ---
# title: Bad UTF-8
# ---

# %%
x = "Ã("
