# ---
# title: Text before the first cell
# ---

import sys

# %%
x = 1
