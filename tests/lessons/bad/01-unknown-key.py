# ---
# title: Unknown key
# ---

# %% Step one tags=["explore"] colour="red"
x = 1
