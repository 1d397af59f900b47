# ---
# title: The slot behind the plus sign
# summary: Follow the type object of int to its table of number slots, find long_add, and put a ctypes callback in its place.
# ---

# %% [markdown]
# # Where `+` really goes
#
# The last stage ended at a C function pointer. `two + two` runs
# `PyNumber_Add`, which looks at the *types* of the operands, follows each
# type's `tp_as_number` pointer to a `PyNumberMethods` table, and calls
# the `nb_add` slot found there. Usually the left operand's slot is asked
# first and the right one's only if the left answers `NotImplemented`.
# There is one exception, checked before anything else: when the right
# operand's type is a subclass of the left's and has a slot of its own,
# the right one is asked first, so that a subclass can overrule its base
# from either side of the `+`. Stage 5 will need that rule. To change what
# `+` means for `int`, the Ministry must change that pointer.
#
# First the type object itself. `int` is a `PyTypeObject`: about fifty
# fields of sizes, flags and function pointers. The host dumps all of them
# below, each labelled with its C name from CPython's headers. Our ctypes
# `Structure` declares only the fields up to `tp_as_number`, in the
# order C has them: enough to find the offset (ctypes computes it) and
# read the pointer.

# %% The type object of int slug="type-object" tags=["explore"] watch=[{"expr": "id(int)", "layout": "PyTypeObject", "label": "int-type"}]
import ctypes, ministry, sys

class PyTypeObject(ctypes.Structure):    # the fields up to tp_as_number
    _fields_ = [("ob_refcnt", ctypes.c_ssize_t), ("ob_type", ctypes.c_void_p),
                ("ob_size", ctypes.c_ssize_t), ("tp_name", ctypes.c_char_p),
                ("tp_basicsize", ctypes.c_ssize_t), ("tp_itemsize", ctypes.c_ssize_t),
                ("tp_dealloc", ctypes.c_void_p), ("tp_vectorcall_offset", ctypes.c_ssize_t),
                ("tp_getattr", ctypes.c_void_p), ("tp_setattr", ctypes.c_void_p),
                ("tp_as_async", ctypes.c_void_p), ("tp_repr", ctypes.c_void_p),
                ("tp_as_number", ctypes.c_void_p)]

int_type = PyTypeObject.from_address(id(int))
print("tp_name =", int_type.tp_name.decode(), " tp_basicsize =", int_type.tp_basicsize,
      " int.__basicsize__ =", int.__basicsize__)
print("tp_repr =", ministry.describe(int_type.tp_repr))
print("tp_as_number at offset", PyTypeObject.tp_as_number.offset,
      "->", hex(int_type.tp_as_number))

# %% [markdown]
# ## The number slots
#
# `tp_as_number` leads to `int`'s `PyNumberMethods`: one function pointer
# per operator, `nb_add` first. We mirror its first three fields, holding
# the pointers as plain addresses.
#
# The function behind `nb_add` is `long_add` in `Objects/longobject.c`.
# It is `static`: not exported, so `ctypes.pythonapi.long_add` does not
# exist and a bare script could only name it with a debugger. The host
# reads Debian's debug symbols (package `python3.11-dbg`) and
# `ministry.symbol` / `ministry.describe` pass that knowledge on; the
# dump's decoded column uses the same symbols.
#
# We can call the original through ctypes too. `PYFUNCTYPE` keeps the
# GIL held during the call, as any call into the C API must (a
# `CFUNCTYPE` call releases it). For a float operand `long_add` answers
# `NotImplemented`, which tells Python to try the other operand's type.
#
# `Right` shows the subclass rule: in `3 + Right(2)` the left operand is
# an exact `int` whose `long_add` could answer, yet the subclass on the
# right is asked first, and its `__radd__` runs.

# %% [markdown] python=">=3.14"
# From 3.14 the slot holds not `long_add` itself but `long_add_method`, a
# thin wrapper with the slot's signature (two `PyObject *`) that checks
# both operands are ints and calls `long_add`, which now takes two
# `PyLongObject *` and is called directly by the specialised bytecode. The
# step names the slot's function as the debug symbols do; everything
# below holds for the wrapper, and the lesson keeps calling the slot's
# function `long_add`.

# %% Follow tp_as_number slug="number-slots" tags=["explore"] watch=[{"expr": "int_type.tp_as_number", "layout": "PyNumberMethods", "label": "nb-slots"}]
class PyNumberMethods(ctypes.Structure):  # the first three slots
    _fields_ = [("nb_add", ctypes.c_void_p), ("nb_subtract", ctypes.c_void_p),
                ("nb_multiply", ctypes.c_void_p)]

numbers = PyNumberMethods.from_address(int_type.tp_as_number)
print("nb_add at offset", PyNumberMethods.nb_add.offset, "=", hex(numbers.nb_add))
print("  which is", ministry.describe(numbers.nb_add))
# 3.14 put a wrapper in the slot, long_add_method, around long_add
slot_fn = "long_add_method" if sys.version_info >= (3, 14) else "long_add"
try:
    found = ministry.symbol(slot_fn) == numbers.nb_add
except LookupError as e:       # no debug symbols here: the rest still works
    found = f"unknown ({e})"
print("exported? ", hasattr(ctypes.pythonapi, slot_fn),
      f" ministry.symbol('{slot_fn}') == nb_add:", found)

PyBinaryFunc = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.py_object, ctypes.py_object)
long_add = PyBinaryFunc(numbers.nb_add)
print("long_add(2, 2) =", long_add(2, 2), " long_add(2, 0.5) =", long_add(2, 0.5))

class Right(int):
    def __radd__(self, other):
        return f"Right.__radd__({int(self)}, {other}) was asked first"

print("3 + Right(2) =", 3 + Right(2))

# %% [markdown]
# ## A callback in the slot
#
# `ctypes.CFUNCTYPE` builds the C signature of a `binaryfunc`,
# `PyObject *(*)(PyObject *, PyObject *)`, and used as a decorator it
# turns a Python function into a real C function pointer (a small
# trampoline made by libffi). With `py_object` as the result type ctypes
# hands C a *new* reference, exactly what a slot must return. The
# callback answers 5 for two exact 2s and passes everything else to the
# saved `long_add`, `NotImplemented` included.
#
# Writing the address into `numbers.nb_add` is the patch: eight bytes at
# the offset our `Structure` computed. Check the dump: the changed bytes
# are in the row the host labels `nb_add`, from its own `offsetof`. The
# callback object must stay alive while C holds its address, so it lives
# in the lesson's namespace as `doublethink`. Next to its address the
# step prints the permissions of the page that holds it: if they are not
# `rwxp`, that is this host's doing, not libffi's habit; stage 7 shows why.
#
# We test with `eval`: freshly compiled code runs the generic `BINARY_OP`
# instruction, which goes through `nb_add`.

# %% Swap nb_add for a callback slug="swap-nb-add" tags=["patch"] watch=[{"expr": "int_type.tp_as_number", "layout": "PyNumberMethods", "label": "nb-slots"}]
binaryfunc = ctypes.CFUNCTYPE(ctypes.py_object, ctypes.py_object, ctypes.py_object)

@binaryfunc
def doublethink(a, b):
    if type(a) is int and type(b) is int and a == 2 and b == 2:
        return 5
    return long_add(a, b)

saved_nb_add = numbers.nb_add
numbers.nb_add = ctypes.cast(doublethink, ctypes.c_void_p).value
two = 2
print("nb_add now ->", hex(numbers.nb_add), ministry.perms(numbers.nb_add))
print('eval("two + two") =', eval("two + two"))
print('eval("2 + 3") =', eval("2 + 3"), ' eval("3 + 3") =', eval("3 + 3"),
      ' eval("two + 0.5") =', eval("two + 0.5"))

# %% [markdown]
# ## Code that no longer asks
#
# A function that has run often enough is *specialised*. After a warm-up
# the generic `BINARY_OP` in `add` becomes `BINARY_OP_ADD_INT`, which
# checks that both operands are exactly `int` and adds them itself,
# without looking at `nb_add` at all. So the warm `add(2, 2)` is 4 while
# `eval("two + two")`, freshly compiled, is still 5. The next stage looks
# at those bytes.
#
# One more surprise: `eval("2 + 2")` is 5 as well. The compiler folds the
# constant expression `2 + 2` by calling `PyNumber_Add` itself, which
# reaches our slot. Code compiled now would keep that 5 for good, which is
# why this lesson compiles nothing else while the patch is in.

# %% Code that no longer asks slug="warm-code" tags=["explore"]
import dis

def add(a, b):
    return a + b

for i in range(100):
    add(i, 1)

print("add is now:", [i.opname for i in dis.get_instructions(add, adaptive=True)
                      if i.opname.startswith("BINARY")])
print("add(2, 2)         =", add(two, two))
print('eval("two + two") =', eval("two + two"))
print('eval("2 + 2")     =', eval("2 + 2"))

# %% [markdown]
# ## Putting `long_add` back
#
# The saved address goes back into `nb_add`. This revert step also runs
# by itself if you leave the stage early, so it only writes what was
# saved.

# %% Put long_add back slug="restore" tags=["revert"] watch=[{"expr": "int_type.tp_as_number", "layout": "PyNumberMethods", "label": "nb-slots"}]
if "saved_nb_add" in globals():
    numbers.nb_add = saved_nb_add
print("nb_add ->", ministry.describe(numbers.nb_add))
print('eval("2 + 2") =', eval("2 + 2"))

# %% [markdown]
# ## Then and now
#
# The talk's code was tested on Python 2.7 and 3.5. In both, `+` took the
# same path to `nb_add`, and the type struct had the same shape up to
# `tp_as_number`, so the pointer sat at the same offset and the same swap
# worked. Only names moved: the pointer-sized field before `tp_repr` was
# 2.7's `tp_compare`, which 3.5 had just turned from `tp_reserved` into
# `tp_as_async`, and 3.8 later reused `tp_print`, of the same size, as
# `tp_vectorcall_offset`.
#
# The two differed where the talk said they did not. 3.5's `BINARY_ADD`
# had a shortcut only for `str + str`: every int addition reached
# `nb_add`, warm or not. The int shortcut the talk describes is 2.7's:
# when both operands were exact (machine-word) ints, `BINARY_ADD` added
# them inline (`PyInt_CheckExact`) and never read `nb_add`. 3.11 brings
# such a shortcut back through specialisation, as `BINARY_OP_ADD_INT`,
# and 3.12 keeps it.

# %% Three times three is ten [markdown] tags=["exercise"] slug="three-times-ten"
# Make `3 * 3` give 10 through `int`'s `nb_multiply` slot — and only that
# product. Write two functions in your file:
#
# - `patch()` puts a callback of yours into `nb_multiply`: 10 for two
#   exact ints that are both 3, `int`'s own multiplication for everything
#   else (`NotImplemented` included, so that `3 * 1.5` and `3 * "ab"`
#   still work);
# - `unpatch()` puts `int`'s own function back.
#
# The check calls `patch()`, multiplies freshly compiled code (`3 * 4`,
# `-3 * -3`, `3 * 1.5`, `3 * "ab"` too), calls `unpatch()`, and wants the
# slot to hold exactly what it held before. The host's guard then
# compares all of `int`'s number slots with the ones it saw at start-up.

# %% [markdown] tags=["hint"]
# `nb_multiply` is the third field of `PyNumberMethods`, after `nb_add`
# and `nb_subtract`: extend this stage's `PyNumberMethods` structure by
# one field and lay it over `int_type.tp_as_number` as the lesson did.

# %% [markdown] tags=["hint"]
# Save the original pointer before you write, and wrap it to call it:
# `PYFUNCTYPE(py_object, py_object, py_object)(saved)`. Keep the callback
# object in a global: C holds its address, Python must hold the object.

# %% [markdown] tags=["hint"]
# Try it with `eval("a * b", {"a": 3, "b": 3})`: a constant `3 * 3` in
# your file was folded before your patch, and a warm loop may be
# specialised to `BINARY_OP_MULTIPLY_INT`, which never reads the slot.

# %% tags=["starter"]
# Exercise 3.1: make 3 * 3 == 10 through int's nb_multiply, and only that product.
# Run `ministry-tutor --exercise 3.1` to have it checked on every save.
import ctypes


def patch():
    """Put a callback into int's nb_multiply: 10 for 3 * 3, int's own product otherwise."""


def unpatch():
    """Put int's own nb_multiply back."""

# %% tags=["check"]
import ctypes as _ct


class _Type(_ct.Structure):       # PyTypeObject, up to tp_as_number
    _fields_ = [(_f, _ct.c_void_p) for _f in (
        "ob_refcnt", "ob_type", "ob_size", "tp_name", "tp_basicsize", "tp_itemsize",
        "tp_dealloc", "tp_vectorcall_offset", "tp_getattr", "tp_setattr", "tp_as_async",
        "tp_repr", "tp_as_number")]


class _Numbers(_ct.Structure):    # PyNumberMethods, up to nb_multiply
    _fields_ = [("nb_add", _ct.c_void_p), ("nb_subtract", _ct.c_void_p),
                ("nb_multiply", _ct.c_void_p)]


def _product(a, b):               # compiled now: no folding, no specialisation
    return eval("a * b", {"a": a, "b": b})


_slots = _Numbers.from_address(_Type.from_address(id(int)).tp_as_number)
for _name in ("patch", "unpatch"):
    assert callable(globals().get(_name)), f"define a function {_name}()"
assert _product(3, 3) == 9, ("3 * 3 is not 9 before patch() was called: your file should "
                             "only define patch() and unpatch()")
_saved = _slots.nb_multiply
patch()
assert _slots.nb_multiply != _saved, "after patch(), nb_multiply still holds int's own function"
_got = _product(3, 3)
assert _got == 10, f"after patch(), 3 * 3 is {_got!r}, not 10"
for _a, _b, _want in ((3, 4, 12), (4, 3, 12), (2, 2, 4), (-3, -3, 9), (30, 3, 90),
                      (3, 1.5, 4.5), (1.5, 3, 4.5), (3, "ab", "ababab")):
    _got = _product(_a, _b)
    assert _got == _want and type(_got) is type(_want), (
        f"3 * 3 was 10, but {_a!r} * {_b!r} gave {_got!r}, not {_want!r}: only that "
        "product may change")
unpatch()
assert _slots.nb_multiply == _saved, (
    "3 * 3 was 10, but after unpatch() nb_multiply still points at your callback")
assert _product(3, 3) == 9, "after unpatch(), 3 * 3 is not 9"
