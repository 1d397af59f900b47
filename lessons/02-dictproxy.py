# ---
# title: The dictionary behind the glass
# summary: The attribute dict of int is a read-only proxy. Unwrap it with ctypes, rewrite the add method in the real dict, and find out why 2 + 2 does not care.
# ---

# %% [markdown]
# # A directive from the Ministry
#
# Your first assignment at the Ministry of Truth: make `2 + 2` give 5.
# The obvious approach is the one any Python programmer would try first:
# replace `int.__add__`. The interpreter refuses twice. A built-in type
# is immutable, and its `__dict__` is not a dict at all but a
# `mappingproxy`: a read-only window onto the real dictionary.
#
# In C the window is tiny: `{PyObject_HEAD; PyObject *mapping;}`, the
# usual reference count and type pointer followed by one pointer to the
# dict it wraps. Its size comes from the interpreter itself,
# `type(int.__dict__).__basicsize__`. Note that every `int.__dict__`
# makes a *new* proxy, so we keep one in `proxy` to look at.

# %% A dict you cannot write slug="proxy" tags=["explore"] watch=[{"expr": "id(proxy)", "layout": "mappingproxy", "label": "proxy", "verify": false}]
try:
    int.__add__ = lambda a, b: 5
except TypeError as e:
    print("int.__add__ = ...             ->", e)
try:
    int.__dict__["__add__"] = lambda a, b: 5
except TypeError as e:
    print("int.__dict__['__add__'] = ... ->", e)

proxy = int.__dict__
print("type(int.__dict__)       =", type(proxy).__name__)
print("its size in bytes        =", type(proxy).__basicsize__)
print("int.__dict__ is int.__dict__:", int.__dict__ is int.__dict__)

# %% [markdown]
# ## Following the `mapping` pointer
#
# `ctypes` lets us describe the proxy's C struct and lay it over the
# object's address (`id()`). The `mapping` field holds the address of
# `int`'s real dictionary: the host follows it below and dumps the
# `PyDictObject` it points at.
#
# That leaves turning an address back into a Python object. The talk
# borrowed its way from the *forbiddenfruit* library (its
# `patchable_builtin`): make an empty dict and call the C function
# `PyDict_SetItem` through ctypes to store the raw `mapping` pointer in it
# as a value; reading that value back out in Python gives the object
# itself. This lesson takes a shortcut of its own,
# `ctypes.cast(address, ctypes.py_object).value`, which wraps the address
# as an object directly (with a proper reference). The step does both and
# checks they agree; `gc.get_referents(proxy)` finds the same dict
# without any ctypes. The proxy could only read; the object behind it is
# an ordinary, writable `dict`.

# %% Follow the mapping pointer slug="follow-mapping" tags=["explore"] watch=[{"expr": "id(proxy)", "layout": "mappingproxy", "label": "proxy", "verify": false}, {"expr": "mp.mapping", "layout": "PyDictObject", "label": "int-dict"}]
import ctypes, gc

class PyObject(ctypes.Structure):
    _fields_ = [("ob_refcnt", ctypes.c_ssize_t), ("ob_type", ctypes.c_void_p)]

class MappingProxy(PyObject):
    _fields_ = [("mapping", ctypes.c_void_p)]

assert ctypes.sizeof(MappingProxy) == type(proxy).__basicsize__
mp = MappingProxy.from_address(id(proxy))
real = ctypes.cast(mp.mapping, ctypes.py_object).value
print("mapping at offset", MappingProxy.mapping.offset, "->", hex(mp.mapping))
print("unwrapped:", type(real).__name__, "with", len(real), "entries;",
      "same as gc finds:", real is gc.get_referents(proxy)[0])

namespace = {}      # forbiddenfruit's way, as the talk used it
ctypes.pythonapi.PyDict_SetItem(ctypes.py_object(namespace), ctypes.py_object("int"),
                                ctypes.c_void_p(mp.mapping))
print("PyDict_SetItem into a temporary dict finds the same:", namespace.pop("int") is real)
print("real['__add__'] =", real["__add__"])

# %% [markdown]
# ## Witnesses
#
# Before touching anything, set up three witnesses.
#
# CPython 3.11 *specialises* bytecode that runs often. A method lookup
# such as `x.__add__` becomes `LOAD_METHOD_NO_DICT`, and `int.__add__`
# becomes `LOAD_METHOD_CLASS`: each keeps the method it found in an
# inline cache, next to the instruction, tagged with `int`'s version
# number (`tp_version_tag`). While the tag is unchanged the cached method
# is used without looking in the dict again. Two small functions, called
# a few hundred times, warm up that way.
#
# The third witness is `Loyal`, a subclass of `int` of our own. It
# inherits `int`'s C slots, so `Loyal(2) + Loyal(2)` runs `int`'s own
# addition.

# %% Three witnesses slug="witnesses" tags=["explore"]
import dis

def method_add(x, y):
    return x.__add__(y)

def class_add(x, y):
    return int.__add__(x, y)

class Loyal(int):
    pass

for i in range(200):
    method_add(i, 1), class_add(i, 1)

for f in (method_add, class_add):
    ops = [i.opname for i in dis.get_instructions(f, adaptive=True)]
    print(f.__name__, "->", [op for op in ops if "METHOD" in op])
print("method_add(2, 2) =", method_add(2, 2), " class_add(2, 2) =", class_add(2, 2))
print("Loyal(2) + Loyal(2) =", Loyal(2) + Loyal(2))

# %% [markdown]
# ## Writing into the real dict
#
# Now the forbidden write: `real['__add__']` becomes a Python function
# that answers 5 for two 2s and hands everything else to the original
# slot wrapper, which we keep in `original`. The `PyDictObject` dump shows
# the dict's own `ma_version_tag` moving; the entry itself lives in the
# keys table that `ma_keys` points to.
#
# The proxy sees the new entry at once. The warm callers do not: nothing
# told the type that its dict changed, so `tp_version_tag` still matches
# their caches and they go on calling the old method. Even the plain
# attribute `int.__add__` is served by the type's method cache, keyed by
# the same tag, but only while that cache holds the old slot wrapper. It
# does here: the witnesses' warm-up looked `__add__` up on `int`, and the
# cell does it once more just before the write. In a fresh `python3.11`
# where nothing has looked it up yet, the lookup finds nothing cached,
# reads the dict, and `int.__add__(2, 2)` is 5 at once, which is what the
# talk saw.

# %% Write into the real dict slug="write-dict" tags=["patch"] watch=[{"expr": "mp.mapping", "layout": "PyDictObject", "label": "int-dict"}]
original = real["__add__"]
int.__add__(2, 2)      # just looked up: now in the type's method cache

def doublethink_add(a, b):
    if isinstance(a, int) and isinstance(b, int) and a == b == 2:
        return 5
    return original(a, b)

real["__add__"] = doublethink_add
print("int.__dict__['__add__'] is doublethink_add:",
      int.__dict__["__add__"] is doublethink_add)
print("method_add(2, 2) =", method_add(2, 2), " class_add(2, 2) =", class_add(2, 2))
print("int.__add__(2, 2) =", int.__add__(2, 2))

# %% [markdown]
# ## Telling the type
#
# `PyType_Modified(int)` is the C API call that says "this type's
# attributes changed": it drops `int`'s version tag, and with it every
# cache entry keyed by that tag. Watch `tp_version_tag` in the dump: the
# next lookup hands out a new tag. From now on every way of *asking* for
# `__add__` finds doublethink: the attribute, a bound method, and the warm
# callers too.
#
# The warm callers pay for it. Their inline caches still hold the old
# tag, so on 3.11 every call *misses*: the specialised instruction falls
# back to the generic lookup, which finds doublethink, and leaves its
# cache as it was. What it keeps is a count of misses. The cell calls
# each warm caller until its lookup instruction's opcode byte (read from
# the live, adaptive code after every call; `dis` names it) changes, and
# prints how many misses that took: only then does the instruction go
# back to its adaptive form, and some calls later it specialises again,
# for the new tag.
#
# And yet `two + two` is still 4.

# %% [markdown] python=">=3.12"
# From 3.12 the names and the bookkeeping differ from 3.11's: a method
# lookup specialises as `LOAD_ATTR_METHOD_NO_DICT`, `int.__add__` as
# `LOAD_ATTR_CLASS`, and a specialised instruction whose cached tag has
# gone stale need not count misses before it changes. The step prints
# what this version's instructions do with the new tag; the answers are
# the same: every lookup by name finds doublethink.

# %% Call PyType_Modified slug="type-modified" tags=["patch"] watch=[{"expr": "id(int)", "layout": "PyTypeObject", "label": "int-type"}, {"expr": "mp.mapping", "layout": "PyDictObject", "label": "int-dict"}]
ctypes.pythonapi.PyType_Modified.argtypes = [ctypes.py_object]
ctypes.pythonapi.PyType_Modified.restype = None
ctypes.pythonapi.PyType_Modified(int)

def add_lookup(f):
    """The adaptive form of the instruction in f that looks up __add__,
    and its offset in the code."""
    return next((i.opname, i.offset) for i in dis.get_instructions(f, adaptive=True)
                if i.argval == "__add__")

def opcode_at(f, offset):
    """The opcode byte at offset as the interpreter runs it now: it is
    this byte that (de-)specialising rewrites in place."""
    return f.__code__._co_code_adaptive[offset]

two = 2
print("int.__add__(2, 2) =", int.__add__(2, 2), " (2).__add__(2) =", (2).__add__(2))
for f in (method_add, class_add):
    warm, at = add_lookup(f)
    op, misses, answers = opcode_at(f, at), 0, set()
    while opcode_at(f, at) == op and misses < 1000:
        answers.add(f(2, 2))
        misses += 1
    if misses == 1000:      # the instruction never changed (3.12 and later)
        print(f"{f.__name__}(2, 2) gave {answers}: {warm} kept its opcode through 1000 calls")
        continue
    missed = add_lookup(f)[0]
    op, calls = opcode_at(f, at), 0
    while opcode_at(f, at) == op and calls < 1000:
        answers.add(f(2, 2))
        calls += 1
    print(f"{f.__name__}(2, 2) gave {answers}: {warm} missed {misses} times,",
          f"became {missed}, and {calls} calls later {add_lookup(f)[0]}")
print("two + two         =", two + two)
print("eval('2 + 2')     =", eval("2 + 2"))

# %% [markdown]
# ## Why the operator did not notice
#
# `two + two` never asks for `__add__`. The `+` operator calls
# `PyNumber_Add`, which reads a C function pointer straight out of the
# type: the `nb_add` slot in `int`'s `PyNumberMethods`, which for `int`
# is the C function `long_add`. The dict holds `__add__` only as a
# *wrapper* around that slot, for Python code that asks by name.
#
# For a class written in Python, assigning `Cls.__add__ = f` goes through
# `type.__setattr__`, which updates the dict **and** rewires the class's
# `nb_add` to a generic C function, `slot_nb_add`, that looks `__add__` up
# by name. Our raw dict write skipped that second half (and for `int` the
# setter refuses anyway). The `Loyal` witness shows the difference: it
# still adds with `int`'s slot until we give it doublethink the honest
# way. (A subclass of `int` *created* while the dict is patched gets
# `slot_nb_add` at once, since class creation reads the dict too.)

# %% Why the operator did not notice slug="why-slot" tags=["explore"]
print("two + two           =", two + two, " (int's nb_add was never touched)")
print("int.__add__(2, 2)   =", int.__add__(2, 2), " (the dict entry was)")
print("Loyal(2) + Loyal(2) =", Loyal(2) + Loyal(2), " (Loyal still uses int's slot)")

Loyal.__add__ = doublethink_add      # type.__setattr__: dict and slot
print("Loyal(2) + Loyal(2) =", Loyal(2) + Loyal(2), " (after Loyal.__add__ = ...)")

# %% [markdown]
# ## Putting the entry back
#
# The original slot wrapper goes back into the dict, and
# `PyType_Modified` once more, so that no cache keeps serving
# doublethink. The warm callers find the original method again. This
# step is also what the session runs if you leave the stage early: it
# restores only what was saved.

# %% Put __add__ back slug="restore" tags=["revert"] watch=[{"expr": "id(int)", "layout": "PyTypeObject", "label": "int-type"}, {"expr": "mp.mapping", "layout": "PyDictObject", "label": "int-dict"}]
import ctypes

if "original" in globals():
    real["__add__"] = original
ctypes.pythonapi.PyType_Modified(ctypes.py_object(int))

print("int.__dict__['__add__'] =", int.__dict__["__add__"])
print("int.__add__(2, 2) =", int.__add__(2, 2))
if "method_add" in globals():
    print("method_add(2, 2) =", method_add(2, 2), " class_add(2, 2) =", class_add(2, 2))

# %% [markdown]
# ## Then and now
#
# In the Pythons the talk's code was tested on, 2.7 and 3.5, the proxy
# was the same two-field struct (2.7 called it `dictproxy`, its pointer
# `dict`) and the same unwrapping worked, but there were no specialised
# instructions: only the type's method cache could hold on to the old
# `__add__` (3.11 adds the per-instruction caches you saw), and setting an
# attribute on `int` failed with "can't set attributes of
# built-in/extension type 'int'". From CPython 3.12 on, the `tp_dict`
# field of a static built-in type such as `int` is NULL: its dict lives in
# the interpreter's state (`PyType_GetDict()` returns it), though the
# proxy's `mapping` still leads to it.
#
# The dict was the wrong door. The next stage goes to the slot.

# %% Give str a shout [markdown] tags=["exercise"] slug="shout"
# Give `str` a method it never had, through its real dictionary, and take
# it away again. Write two functions in your file:
#
# - `add_shout()` puts a function `shout` into the dict behind
#   `str.__dict__`, so that `"ministry".shout()` returns `"MINISTRY!"`
#   (the string upper-cased, with `!` after it);
# - `remove_shout()` deletes it, so that `"ministry".shout` is an
#   `AttributeError` again.
#
# The check asks for `shout` once before `add_shout()` (the answer "no
# such attribute" is then in the interpreter's method cache), calls your
# functions and asks again each time: what the cache remembers must not
# outlive your changes.

# %% [markdown] tags=["hint"]
# Unwrap the proxy as this stage did for `int`: `gc.get_referents(str.__dict__)[0]`
# is the real dict, or lay a ctypes structure over the `mappingproxy` and
# follow its `mapping` field.

# %% [markdown] tags=["hint"]
# `str` caches what attribute lookups found, and what they did not find.
# After every write to its dict call
# `ctypes.pythonapi.PyType_Modified(ctypes.py_object(str))`, in
# `remove_shout()` too.

# %% tags=["starter"]
# Exercise 2.1: give str a shout() method through its real dict, then take
# it away.  Run `ministry-tutor --exercise 2.1` to have it checked on every save.
import ctypes
import gc


def add_shout():
    """Make "ministry".shout() return "MINISTRY!"."""


def remove_shout():
    """Make str forget shout again."""

# %% tags=["check"]
for _name in ("add_shout", "remove_shout"):
    assert callable(globals().get(_name)), f"define a function {_name}()"
assert "shout" not in str.__dict__, ("str has shout before add_shout() was called: your "
                                     "file should only define the two functions")
assert not hasattr("ministry", "shout"), "str answers to shout before add_shout()"
add_shout()
assert "shout" in str.__dict__, "after add_shout(), str.__dict__ has no 'shout'"
try:
    _said = "ministry".shout()
except AttributeError:
    raise AssertionError("'shout' is in str.__dict__, but \"ministry\".shout() is an "
                         "AttributeError: the method cache still says str has none") from None
assert _said == "MINISTRY!", f'"ministry".shout() gave {_said!r}, not \'MINISTRY!\''
_said = "Big Brother".shout()
assert _said == "BIG BROTHER!", f'"Big Brother".shout() gave {_said!r}, not \'BIG BROTHER!\''
remove_shout()
assert "shout" not in str.__dict__, (
    "\"ministry\".shout() worked, but after remove_shout() str.__dict__ still has 'shout'")
assert not hasattr("ministry", "shout"), (
    "'shout' is gone from str.__dict__, but \"ministry\".shout still answers: the method "
    "cache remembers it")
