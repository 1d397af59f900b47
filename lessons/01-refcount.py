# ---
# title: Every object keeps count
# summary: The int 2 is a C struct in memory. Read its header, watch what its reference count does, and find out why it is so large.
# ---

# %% [markdown] python="<3.12"
# # The object behind the literal
#
# In CPython every value is a C struct that starts with the same two
# fields: `ob_refcnt`, how many references point at the object, and
# `ob_type`, a pointer to its type. An `int` adds `ob_size` (how many
# 30-bit digits it has) and the digits themselves.

# %% [markdown] python=">=3.12,<3.14"
# # The object behind the literal
#
# In CPython every value is a C struct that starts with the same two
# fields: `ob_refcnt`, how many references point at the object, and
# `ob_type`, a pointer to its type. An `int` adds `long_value`: its
# `lv_tag` packs the number of 30-bit digits with the sign (since 3.12;
# 3.11 had a signed `ob_size`), and the digits follow.

# %% [markdown] python=">=3.14"
# # The object behind the literal
#
# In CPython every value is a C struct that starts with the same header:
# the reference count and `ob_type`, a pointer to its type. From 3.14 the
# count's eight bytes are split: a 32-bit `ob_refcnt`, then `ob_overflow`
# and `ob_flags` (16 bits each). An `int` adds `long_value`: its `lv_tag`
# packs the number of 30-bit digits, the sign and a flag bit, and the
# digits follow.

# %% [markdown]
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

# %% Read the header with ctypes slug="ctypes-header" tags=["explore"] watch=[{"expr": "id(2)", "layout": "PyLongObject", "label": "int-2"}] python="<3.12"
import ctypes, ministry

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

# %% Read the header with ctypes slug="ctypes-header" tags=["explore"] watch=[{"expr": "id(2)", "layout": "PyLongObject", "label": "int-2"}] python=">=3.12,<3.14"
import ctypes, ministry

class PyObject(ctypes.Structure):
    _fields_ = [("ob_refcnt", ctypes.c_ssize_t),
                ("ob_type", ctypes.c_void_p)]

class PyLongObject(ctypes.Structure):
    _fields_ = [("ob_refcnt", ctypes.c_ssize_t),
                ("ob_type", ctypes.c_void_p),
                ("lv_tag", ctypes.c_size_t),       # digits << 3 | sign
                ("ob_digit", ctypes.c_uint32 * 1)]

obj = PyLongObject.from_address(id(2))
print("ob_refcnt  =", obj.ob_refcnt, f"({obj.ob_refcnt:#x})")
print("ob_type    =", hex(obj.ob_type), "is int:", obj.ob_type == id(int))
print("lv_tag     =", obj.lv_tag, "->", obj.lv_tag >> 3, "digit(s), sign bits",
      obj.lv_tag & 3, "(0 positive, 1 zero, 2 negative)")
print("ob_digit[0] =", obj.ob_digit[0])

# %% Read the header with ctypes slug="ctypes-header" tags=["explore"] watch=[{"expr": "id(2)", "layout": "PyLongObject", "label": "int-2"}] python=">=3.14"
import ctypes, ministry

class PyObject(ctypes.Structure):
    _fields_ = [("ob_refcnt", ctypes.c_uint32),     # the count: 32 bits
                ("ob_overflow", ctypes.c_uint16),
                ("ob_flags", ctypes.c_uint16),
                ("ob_type", ctypes.c_void_p)]

class PyLongObject(ctypes.Structure):
    _fields_ = [("ob_refcnt", ctypes.c_uint32),
                ("ob_overflow", ctypes.c_uint16),
                ("ob_flags", ctypes.c_uint16),
                ("ob_type", ctypes.c_void_p),
                ("lv_tag", ctypes.c_size_t),       # digits << 3 | flag | sign
                ("ob_digit", ctypes.c_uint32 * 1)]

obj = PyLongObject.from_address(id(2))
print("ob_refcnt  =", obj.ob_refcnt, f"({obj.ob_refcnt:#x})")
print("ob_flags   =", hex(obj.ob_flags), " ob_overflow =", obj.ob_overflow)
print("ob_type    =", hex(obj.ob_type), "is int:", obj.ob_type == id(int))
print("lv_tag     =", obj.lv_tag, "->", obj.lv_tag >> 3, "digit(s), sign bits",
      obj.lv_tag & 3, "(0 positive), small-int bit", (obj.lv_tag >> 2) & 1)
print("ob_digit[0] =", obj.ob_digit[0])

# %% [markdown] python="<3.12"
# ## Taking references
#
# A list of a thousand `2`s holds a thousand references to the *same*
# object: small ints from -5 to 256 are shared, never copied. Watch
# `ob_refcnt` in the dump: its low bytes change, and the host marks them.
#
# Compare the printed counts with the dump's: on 3.11 the printed ones
# are higher by one. The host reads the memory just before this cell is
# compiled and again after its code object has been thrown away. While
# the cell runs, its code object exists, and it keeps the literal `2` of
# `[2] * 1000` among its constants (`co_consts`): one more reference.

# %% [markdown] python=">=3.12"
# ## Taking references
#
# A list of a thousand `2`s holds a thousand references to the *same*
# object: small ints from -5 to 256 are shared, never copied. In 3.11
# each of them added one to `ob_refcnt`. Since 3.12 small ints are
# *immortal* (PEP 683): `Py_INCREF` sees the immortal mark and leaves the
# count alone, so the thousand references are there and the count does
# not move. The dump shows no changed byte, and the `+0` is the lesson.

# %% Take a thousand references slug="take-refs" tags=["explore"] watch=[{"expr": "id(2)", "layout": "PyLongObject", "label": "int-2"}]
before = obj.ob_refcnt
twos = [2] * 1000
print("ob_refcnt went from", before, "to", obj.ob_refcnt,
      "(+%d)" % (obj.ob_refcnt - before))
print("this cell's code object holds 2 in its co_consts:",
      2 in sys._getframe().f_code.co_consts)

# %% [markdown] python="<3.12"
# ## Dropping them
#
# Deleting the list releases every reference it held, and the count goes
# back down. Reference counting is immediate: no collector has to run.

# %% [markdown] python=">=3.12"
# ## Dropping them
#
# Deleting the list releases every reference it held. For an ordinary
# object the count would go back down at once; for the immortal 2 nothing
# moves, in either direction: `Py_DECREF` skips it too, so no miscounting
# C extension can ever free it.

# %% Drop them again slug="drop-refs" tags=["explore"] watch=[{"expr": "id(2)", "layout": "PyLongObject", "label": "int-2"}]
before = obj.ob_refcnt
del twos
print("ob_refcnt went from", before, "to", obj.ob_refcnt,
      "(%d)" % (obj.ob_refcnt - before))
print("sys.getrefcount(2) =", sys.getrefcount(2),
      "(one more: the call itself holds a reference while it runs)"
      if sys.version_info < (3, 12) else "(immortal: the call's reference is not counted)")

# %% [markdown] python="<3.12"
# ## Why about a billion?
#
# The talk's code was tested on Python 2.7 and 3.5 (its `tox.ini` lists
# those two). There the small ints were created while the interpreter
# started up, each with an ordinary count of one that then grew with
# every reference, so `sys.getrefcount(2)` gave a modest number that
# depended on what had been imported. CPython 3.11 instead writes them
# into the interpreter's runtime state at compile time, as static data,
# with a huge starting count, so that they are never freed however badly
# a C extension counts. From 3.12 on they are *immortal*: the count no
# longer moves at all, and this stage shows the same number before and
# after every step.
#
# Static data has its first value in the library file itself. The kernel's
# list of this process's mappings, `/proc/self/maps`, says which file is
# mapped at an address and from which offset, so we can read the eight
# bytes of `ob_refcnt` that the file holds for the object 2: its count
# before the interpreter ran a single line. On 3.11 that is the value
# `_PyObject_IMMORTAL_INIT` puts there (in the internal header
# `pycore_object.h`). The difference to the live count, which the dump
# shows too, is the number of references to 2 that exist right now, this
# cell's own among them.

# %% [markdown] python=">=3.12,<3.14"
# ## Why so large?
#
# The talk's code was tested on Python 2.7 and 3.5, where the small ints
# were made at start-up with an ordinary count that grew with every
# reference. CPython 3.11 wrote them into the runtime state as static
# data with a huge starting count; 3.12 made them *immortal* (PEP 683):
# a count whose low 32 bits are all ones (`_Py_IMMORTAL_REFCNT`,
# `0xffffffff` here) marks an object that is never counted and never
# freed. `Py_INCREF` tests that mark before it adds, which is why the
# count stood still in the steps before.
#
# Static data has its first value in the library file itself.
# `/proc/self/maps` says which file is mapped at an address and from which
# offset, so we can read the eight bytes of `ob_refcnt` the file holds for
# the object 2: on this version the live count is exactly that, and the
# difference is 0 however many references exist.

# %% [markdown] python=">=3.14"
# ## Why so large?
#
# The talk's code was tested on Python 2.7 and 3.5, where the small ints
# were made at start-up with an ordinary count that grew with every
# reference. CPython 3.11 wrote them into the runtime state as static
# data with a huge starting count; 3.12 made them *immortal* (PEP 683).
# From 3.14 the eight bytes are split: a 32-bit count, `0xc0000000` for
# an immortal object (`_Py_IMMORTAL_INITIAL_REFCNT`; anything from 2^31
# up counts as immortal), then `ob_overflow`, then `ob_flags`, where
# `_Py_IMMORTAL_FLAGS | _Py_STATICALLY_ALLOCATED_FLAG` make `0x5`. Read as
# one little-endian number they are `0x0005_0000_c000_0000`.
# `sys._is_immortal(2)` says the same from Python.
#
# Static data has its first value in the library file itself.
# `/proc/self/maps` says which file is mapped at an address and from which
# offset, so we can read the eight bytes the file holds for the object 2:
# on this version the live ones are exactly those, and the difference is
# 0 however many references exist.

# %% Where the count started slug="billion" tags=["explore"] watch=[{"expr": "id(2)", "layout": "PyLongObject", "label": "int-2"}]
def file_bytes(address, n):
    """The file mapped at address, and the n bytes it holds there."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            low, high = (int(x, 16) for x in fields[0].split("-"))
            if low <= address < high and len(fields) > 5 and fields[5].startswith("/"):
                with open(fields[5], "rb") as f:
                    f.seek(int(fields[2], 16) + address - low)
                    return fields[5], f.read(n)
    return None, b""

path, raw = file_bytes(id(2), ctypes.sizeof(ctypes.c_ssize_t))
print("2 lives in", path, "-", ministry.describe(id(2)))
if raw:
    start = int.from_bytes(raw, sys.byteorder, signed=True)
    # the same eight bytes live (through obj, so no new reference to 2)
    live = int.from_bytes(ctypes.string_at(ctypes.addressof(obj), len(raw)),
                          sys.byteorder, signed=True)
    print("the file holds its ob_refcnt as", start, f"({raw.hex(' ')})")
    print("the live ob_refcnt is          ", live)
    print("difference:", live - start, "references held now")
    if hasattr(sys, "_is_immortal"):
        print("sys._is_immortal(2):", sys._is_immortal(2))
else:
    print("2 is not in a file-backed mapping here: no starting count to read")

# %% [markdown]
# Nothing in this stage changed the interpreter: every step only read
# memory. The next stage writes to it.

# %% A count that lies [markdown] tags=["exercise"] slug="count-that-lies"
# Write two functions in your file:
#
# - `inflate(obj, n)` adds `n` to the reference count of `obj` by writing
#   its `ob_refcnt` field through ctypes — not by taking references;
# - `deflate(obj, n)` takes the `n` away again.
#
# The check makes a fresh object, calls `inflate`, and wants
# `sys.getrefcount` to have risen by exactly `n` with nothing new holding
# the object (a list of a thousand references would show up in
# `gc.get_referrers`); then it calls `deflate` and wants the count back
# where it started. A count left too high is a leak; one left too low
# frees an object still in use.

# %% [markdown] tags=["hint"]
# `ob_refcnt` is the first field of every object: a `Py_ssize_t` at the
# object's address, which is `id(obj)`. `ctypes.c_ssize_t.from_address(id(obj))`
# lays a C integer over it; its `.value` reads and writes the field.

# %% [markdown] tags=["hint"]
# Inside `inflate`, add to `.value` once (`count.value += n`), do not
# loop taking references. `deflate` is the same with `-=`.

# %% tags=["starter"]
# Exercise 1.1: make a reference count lie, then tell the truth again.
# Run `ministry-tutor --exercise 1.1` to have it checked on every save.
import ctypes


def inflate(obj, n):
    """Add n to obj's ob_refcnt, writing the field itself."""


def deflate(obj, n):
    """Take n away from obj's ob_refcnt again."""

# %% tags=["check"]
import gc as _gc
import sys as _sys

for _name in ("inflate", "deflate"):
    assert callable(globals().get(_name)), f"define a function {_name}(obj, n)"
_obj = object()                    # fresh: nobody else counts on it
for _n in (1000, 7):
    _start = _sys.getrefcount(_obj)
    _holders = len(_gc.get_referrers(_obj))
    inflate(_obj, _n)
    _rise = _sys.getrefcount(_obj) - _start
    assert _rise != 0, f"inflate(obj, {_n}) left the reference count as it was"
    assert len(_gc.get_referrers(_obj)) == _holders, (
        f"the count rose by {_rise}, but because something now holds the object: "
        "write ob_refcnt itself instead")
    assert _rise == _n, f"inflate(obj, {_n}) moved the count by {_rise:+d}, not by +{_n}"
    deflate(_obj, _n)
    _left = _sys.getrefcount(_obj) - _start
    assert _left == 0, (f"the count rose by {_n}, but after deflate(obj, {_n}) it is still "
                        f"{_left:+d} from where it started")
