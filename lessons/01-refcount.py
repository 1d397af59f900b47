# ---
# title: Every object keeps count
# summary: The int 2 is a C struct in memory. Read its header, watch its reference count move, and find out why it starts near a billion.
# ---

# %% [markdown]
# # The object behind the literal
#
# In CPython every value is a C struct that starts with the same two
# fields: `ob_refcnt`, how many references point at the object, and
# `ob_type`, a pointer to its type. An `int` adds `ob_size` (how many
# 30-bit digits it has) and the digits themselves.
#
# `id()` in CPython is simply the object's address. The dump below is a
# real read of that memory, labelled by the host with `offsetof` from
# CPython's own headers.

# %% Meet the object 2 slug="meet-two" tags=["explore"] watch=[{"expr": "id(2)", "layout": "PyLongObject", "label": "int-2"}]
import sys

two = 2
print("id(2)             =", hex(id(two)))
print("sys.getrefcount(2) =", sys.getrefcount(2))

# %% [markdown]
# ## Reading the header with ctypes
#
# We can read the same fields from Python itself. `ctypes` lets us lay a
# `Structure` over any address: declare the fields in the order C has
# them and `from_address` does the rest. This is the talk's whole toolkit:
# no C compiler, only `ctypes`.

# %% Read the header with ctypes slug="ctypes-header" tags=["explore"] watch=[{"expr": "id(2)", "layout": "PyLongObject", "label": "int-2"}]
import ctypes

class PyObject(ctypes.Structure):
    _fields_ = [("ob_refcnt", ctypes.c_ssize_t),
                ("ob_type", ctypes.c_void_p)]

class PyLongObject(ctypes.Structure):
    _fields_ = [("ob_refcnt", ctypes.c_ssize_t),
                ("ob_type", ctypes.c_void_p),
                ("ob_size", ctypes.c_ssize_t),
                ("ob_digit", ctypes.c_uint32 * 1)]

obj = PyLongObject.from_address(id(2))
print("ob_refcnt  =", obj.ob_refcnt)
print("ob_type    =", hex(obj.ob_type), "is int:", obj.ob_type == id(int))
print("ob_size    =", obj.ob_size)
print("ob_digit[0] =", obj.ob_digit[0])

# %% [markdown]
# ## Taking references
#
# A list of a thousand `2`s holds a thousand references to the *same*
# object: small ints from -5 to 256 are shared, never copied. Watch
# `ob_refcnt` in the dump: its low bytes change, and the host marks them.

# %% Take a thousand references slug="take-refs" tags=["explore"] watch=[{"expr": "id(2)", "layout": "PyLongObject", "label": "int-2"}]
before = obj.ob_refcnt
twos = [2] * 1000
print("ob_refcnt went from", before, "to", obj.ob_refcnt,
      "(+%d)" % (obj.ob_refcnt - before))

# %% [markdown]
# ## Dropping them
#
# Deleting the list releases every reference it held, and the count goes
# back down. Reference counting is immediate: no collector has to run.

# %% Drop them again slug="drop-refs" tags=["explore"] watch=[{"expr": "id(2)", "layout": "PyLongObject", "label": "int-2"}]
before = obj.ob_refcnt
del twos
print("ob_refcnt went from", before, "to", obj.ob_refcnt,
      "(%d)" % (obj.ob_refcnt - before))
print("sys.getrefcount(2) =", sys.getrefcount(2),
      "(one more: the call itself holds a reference while it runs)")

# %% [markdown]
# ## Why about a billion?
#
# In the talk's Python (3.5, 3.6) the small ints lived in a static array
# inside `longobject.c`, set up when the interpreter started with an
# ordinary count that then grew with every reference: `sys.getrefcount(2)`
# gave a number in the tens or hundreds, depending on what had been
# imported. CPython 3.11 builds them statically, inside the interpreter's
# runtime state, and gives each a huge starting count so that they are
# never freed, however badly a C extension counts. CPython 3.12 goes one
# step further and makes them *immortal*: their count no longer moves at
# all, and this stage would show the same number before and after.

# %% How far from a billion slug="billion" tags=["explore"]
start = 10 ** 9
print("ob_refcnt - 10**9 =", obj.ob_refcnt - start)
print("so the count started near", start, "and", sys.version.split()[0],
      "has taken", obj.ob_refcnt - start, "references since")

# %% [markdown]
# Nothing in this stage changed the interpreter: every step only read
# memory. The next stage writes to it.
