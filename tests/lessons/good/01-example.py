# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     name: python3
# title: "Reference counts: the header"
# summary: What 'two' looks like in memory  # a YAML comment
# ---

# %% [markdown]
# # Reference counts
#
# Every object starts with a header.

# %% [markdown] note={"any": ["thing"]}
#   Indented markdown stays indented.

# %% Look at two tags=["explore", "intro"] watch=["id(2):PyLongObject", "id(int):PyTypeObject:64"] timeout=2.5
import sys
two = 2

print(sys.getrefcount(two))

# %% [markdown]
# Now take a reference.

# %% Take a reference slug="take-ref" tags=["patch"] watch=[{"expr": "id(two)", "layout": "PyObject", "len": 16, "label": "pyobject", "verify": false}, "{1: 2}[1]:raw:8", "d[1:2]:PyObject"]
refs = [two] * 3

# %% tags=["revert"] watch=["id(2):PyObject", "id(3):PyObject"]

del refs


# %% Look at two
print(two)

# %% [markdown]
# That is all.
#
# See you in stage 2.

# %%
