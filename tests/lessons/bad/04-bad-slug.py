# ---
# title: Bad slug
# ---

# %% slug="Take_Ref"
x = 1
