# ---
# title: Two becomes a different kind of int
# summary: Give the object 2 a new type by overwriting its ob_type pointer, so every addition involving 2 asks a Python method first.
# ---

# %% [markdown]
# # A subclass that knows the answer
#
# Patching `int` itself had a weak spot: 3.11's specialised
# `BINARY_OP_ADD_INT` adds two *exact* ints without ever looking at
# `int`'s slots. So change the object instead of the type: if the object
# `2` were an instance of a subclass of `int`, every addition involving it
# would have to go through that subclass.
#
# `Int2` inherits everything from `int` and overrides only `__add__`:
# five when both sides are the object 2, the ordinary sum otherwise.
# Python itself refuses to re-type a built-in object: assigning
# `__class__` is only allowed for mutable (heap) types. This stage first
# shows why that refusal is right for `Int2` (it is a trap), then builds
# a type that *can* stand in for `int`, as the talk's own code did.

# %% A subclass that knows the answer slug="int2" tags=["explore"] watch=[{"expr": "id(2)", "layout": "PyLongObject", "label": "int-2"}]
import ctypes, dis, sys

class Int2(int):
    __slots__ = ()
    def __add__(self, other):
        if type(other) in (int, Int2) and self == 2 and other == 2:
            return 5
        return int.__add__(self, other)

print("Int2(2) + Int2(2) =", Int2(2) + Int2(2), "  Int2(2) + 3 =", Int2(2) + 3)
two = 2
try:
    two.__class__ = Int2
except TypeError as e:
    print("two.__class__ = Int2 ->", type(e).__name__ + ":", e)

# %% [markdown]
# ## Why `__slots__ = ()`
#
# A plain subclass (`class Loose(int): pass`) gives its instances a
# `__dict__`. For a variable-size type like `int` the dict pointer is
# stored *after* the digits, and `tp_dictoffset` is negative: "count from
# the end of the object". The object 2 was allocated as an `int`, without
# that extra word, so the pointer would be read from whatever lies after
# it: the small ints sit side by side, so here that is the object 3. With
# `__slots__ = ()` there is no dict, `tp_dictoffset` is 0 and `Int2` has
# exactly `int`'s size.

# %% Why __slots__ = () slug="slots" tags=["explore"] watch=[{"expr": "id(2)", "layout": "PyLongObject", "label": "int-2"}]
class Loose(int):
    pass

for t in (int, Int2, Loose):
    print(f"{t.__name__:6} basicsize {t.__basicsize__:3}  "
          f"itemsize {t.__itemsize__}  dictoffset {t.__dictoffset__}")

word = ctypes.sizeof(ctypes.c_void_p)
digits = -(-(2).bit_length() // sys.int_info.bits_per_digit)      # 1
size = Loose.__basicsize__ + digits * Loose.__itemsize__
size = (size + word - 1) // word * word                # _PyObject_VAR_SIZE
dict_at = id(2) + size + Loose.__dictoffset__
print(f"as a Loose, 2 would keep its __dict__ pointer at +{dict_at - id(2)},")
print(f"past its {sys.getsizeof(2)} bytes: at id(3) + {dict_at - id(3)}")

# %% [markdown]
# ## The trap: what a `class` statement adds
#
# `__slots__ = ()` fixes the size, but not everything a type says about
# its objects' memory. Every class made by a `class` statement gets the
# flag `Py_TPFLAGS_HAVE_GC` ("my objects are tracked by the cycle
# collector") and, to go with it, `subtype_dealloc` and `PyObject_GC_Del`
# to free them. A GC object carries a 16-byte `PyGC_Head` *in front of*
# its `PyObject` header, and the collector finds it by subtracting from
# the object's address. The object 2 was allocated as an `int`: in front
# of it lies the end of the object 1.
#
# To see the fields, a ctypes `Structure` mirrors `PyTypeObject` up to
# `tp_free`, in CPython's field order, and checks itself against what
# Python reports (`__flags__`, `__basicsize__`, …).
#
# Then the trap, measured, for the shortest possible time: 2 is given the
# type `Int2` with the collector switched off, `sys.getsizeof` and
# `gc.is_tracked` are asked, and 2 gets `int` back before anything else
# runs. With the collector on, a collection that met 2 in a list would
# take the end of the object 1 for 2's GC header, and write into it;
# the same swap on the object 4 segfaults that way.
#
# Finally CPython's own opinion. `__class__` assignment refuses any
# immutable type, so lift `int`'s `Py_TPFLAGS_IMMUTABLETYPE` for a moment
# and ask again, on a throwaway int: behind the first refusal sits a
# layout check (`compatible_for_assignment` in Objects/typeobject.c)
# that compares exactly these fields.

# %% The trap: what a class statement adds slug="trap" tags=["explore"] watch=[{"expr": "id(2)", "layout": "PyLongObject", "label": "int-2"}]
import gc, ministry

P, N = ctypes.c_void_p, ctypes.c_ssize_t
class PyTypeObject(ctypes.Structure):     # Include/cpython/object.h, up to tp_free
    _fields_ = [("ob_refcnt", N), ("ob_type", P), ("ob_size", N),
                ("tp_name", ctypes.c_char_p), ("tp_basicsize", N), ("tp_itemsize", N),
                ("tp_dealloc", P), ("tp_vectorcall_offset", N), ("tp_getattr", P),
                ("tp_setattr", P), ("tp_as_async", P), ("tp_repr", P),
                ("tp_as_number", P), ("tp_as_sequence", P), ("tp_as_mapping", P),
                ("tp_hash", P), ("tp_call", P), ("tp_str", P), ("tp_getattro", P),
                ("tp_setattro", P), ("tp_as_buffer", P), ("tp_flags", ctypes.c_ulong),
                ("tp_doc", P), ("tp_traverse", P), ("tp_clear", P),
                ("tp_richcompare", P), ("tp_weaklistoffset", N), ("tp_iter", P),
                ("tp_iternext", P), ("tp_methods", P), ("tp_members", P),
                ("tp_getset", P), ("tp_base", P), ("tp_dict", P), ("tp_descr_get", P),
                ("tp_descr_set", P), ("tp_dictoffset", N), ("tp_init", P),
                ("tp_alloc", P), ("tp_new", P), ("tp_free", P)]

class PyObject(ctypes.Structure):
    _fields_ = [("ob_refcnt", ctypes.c_ssize_t),
                ("ob_type", ctypes.c_void_p)]

HAVE_GC = 1 << 14             # Py_TPFLAGS_HAVE_GC, Include/object.h
IMMUTABLETYPE = 1 << 8        # Py_TPFLAGS_IMMUTABLETYPE

def fields(t):
    c = PyTypeObject.from_address(id(t))
    assert (c.tp_flags, c.tp_basicsize, c.tp_itemsize, c.tp_dictoffset,
            c.tp_weaklistoffset) == (t.__flags__, t.__basicsize__, t.__itemsize__,
                                     t.__dictoffset__, t.__weakrefoffset__)
    return c

def name_of(address):
    return ministry.describe(address).split(" (")[0]

def show(t):
    c = fields(t)
    print(f"{t.__name__:5} HAVE_GC {bool(c.tp_flags & HAVE_GC)!s:5} "
          f"size {c.tp_basicsize}+{c.tp_itemsize}/digit  "
          f"tp_dealloc {name_of(c.tp_dealloc)}  tp_free {name_of(c.tp_free)}")

show(int)
show(Int2)

was_enabled = gc.isenabled()
head = PyObject.from_address(id(2))
int_type_ptr = head.ob_type
pristine = sys.getsizeof(2), gc.is_tracked(2)
gc.disable()                  # no collection may meet 2 while it claims a header
try:
    head.ob_type = id(Int2)   # for two calls only: no reference taken
    trapped = sys.getsizeof(2), gc.is_tracked(2)
finally:
    head.ob_type = int_type_ptr
    if was_enabled:
        gc.enable()
print(f"as an int:  getsizeof(2) {pristine[0]}  gc.is_tracked(2) {pristine[1]}")
print(f"as an Int2: getsizeof(2) {trapped[0]}  gc.is_tracked(2) {trapped[1]}")
print(f"the 'GC header' in front of 2, at id(1) + {id(2) - 16 - id(1)}: "
      f"{ministry.peek(id(2) - 16, 16).hex(' ')}")

int_fields = fields(int)
victim = int("12345678901234567890")
int_fields.tp_flags &= ~IMMUTABLETYPE
try:
    victim.__class__ = Int2
except TypeError as e:
    verdict = f"{type(e).__name__}: {e}"
else:
    victim.__class__ = int
    verdict = "accepted"
finally:
    int_fields.tp_flags |= IMMUTABLETYPE
print("with int mutable for a moment, x.__class__ = Int2 ->", verdict)

# %% [markdown]
# ## The cure: a copy of `int`'s type object
#
# The talk's package did not use a `class` statement. It copied `int`'s
# type object field by field and changed one slot. Here is the same idea
# with ctypes: a zeroed block as large as a type object, filled with
# `int`'s sizes, deallocator, allocator, free function and flags (less
# the bits the runtime owns: "ready", "readying", "version tag valid",
# and from 3.12 "a builtin of the runtime"), `tp_base = int`, and a
# `PyNumberMethods` table of our own whose only filled slot is `nb_add`.
# `PyType_Ready` inherits every other slot from `int`, as it does for a C
# extension's type.
#
# The new `nb_add` is a ctypes callback: 5 for `2 + 2`, `int`'s own
# `nb_add` for everything else. A type object made like this is *static*,
# like `int`: it is not garbage-collected and must never be freed. `int`
# now lists it in `int.__subclasses__()` and will look at it whenever
# `int` changes, so the memory, the name and the callback are kept alive
# on purpose, for the life of the interpreter.
#
# Why it is safe: the collector asks only the type whether an object has
# a GC header (`Py_TPFLAGS_HAVE_GC`, and `tp_is_gc`: none); `getsizeof`
# reads `tp_basicsize` and `tp_itemsize`; freeing goes through
# `tp_dealloc` and `tp_free`. All of them are `int`'s own, so nothing that
# reads 2 through its type can tell it from an `int` except by asking
# for addition. CPython's own check agrees: the same `__class__`
# assignment that refused `Int2` accepts `int2`.

# %% The cure: a copy of int's type object slug="copy" tags=["explore"] watch=[{"expr": "id(int2)", "layout": "PyTypeObject", "label": "int2-type", "verify": false}]
RUNTIME_FLAGS = (1 << 12) | (1 << 13) | (1 << 19)   # READY, READYING, VALID_VERSION_TAG
if sys.version_info >= (3, 12):
    RUNTIME_FLAGS |= 1 << 1                          # _Py_TPFLAGS_STATIC_BUILTIN

int_nb = (ctypes.c_void_p * 36).from_address(int_fields.tp_as_number)  # PyNumberMethods
binaryfunc = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.py_object, ctypes.py_object)
int_add = binaryfunc(int_nb[0])                      # nb_add: long_add

@binaryfunc
def int2_add(a, b):
    if type(a) in (int, int2) and type(b) in (int, int2) and a == 2 and b == 2:
        return 5
    return int_add(a, b)

memory = ctypes.create_string_buffer(type.__basicsize__)   # >= sizeof(PyTypeObject)
name = ctypes.create_string_buffer(b"int2")
numbers = (ctypes.c_void_p * 36)(ctypes.cast(int2_add, ctypes.c_void_p).value)
c = PyTypeObject.from_buffer(memory)
c.ob_refcnt, c.ob_type = 1, id(type)
c.tp_name = ctypes.cast(name, ctypes.c_char_p)
for f in ("tp_basicsize", "tp_itemsize", "tp_dealloc", "tp_alloc", "tp_free"):
    setattr(c, f, getattr(int_fields, f))
c.tp_flags = int_fields.tp_flags & ~RUNTIME_FLAGS
c.tp_base = id(int)
c.tp_as_number = ctypes.addressof(numbers)
if ctypes.pythonapi.PyType_Ready(ctypes.c_void_p(ctypes.addressof(memory))) < 0:
    raise RuntimeError("PyType_Ready refused the copy of int")
int2 = ctypes.cast(ctypes.addressof(memory), ctypes.py_object).value
keep_for_ever = [memory, name, numbers, int2_add, int_add]
ctypes.pythonapi.Py_IncRef(ctypes.py_object(keep_for_ever))

show(int2)
print("flags, less the runtime's: int", hex(int.__flags__ & ~RUNTIME_FLAGS),
      " int2", hex(int2.__flags__ & ~RUNTIME_FLAGS),
      " Int2", hex(Int2.__flags__ & ~RUNTIME_FLAGS))
print("int2(2) + int2(2) =", int2(2) + int2(2), "  int2(2) + 3 =", int2(2) + 3)

int_fields.tp_flags &= ~IMMUTABLETYPE
int2_fields = fields(int2)
int2_fields.tp_flags &= ~IMMUTABLETYPE
try:
    victim.__class__ = int2
    accepted = type(victim).__name__
    victim.__class__ = int
finally:
    int_fields.tp_flags |= IMMUTABLETYPE
    int2_fields.tp_flags |= IMMUTABLETYPE
print("with both mutable for a moment, x.__class__ = int2 -> accepted, type(x) was",
      accepted)

# %% [markdown]
# ## Code compiled now, before the swap
#
# Two functions, compiled before anything changes. `add` is warmed up on
# the object 2 until the specialising interpreter rewrites its `BINARY_OP`
# into `BINARY_OP_ADD_INT`. `before` contains the literal sum `2 + 2`.

# %% Code compiled before the swap slug="before" tags=["explore"]
def add(a, b):
    return a + b

def before():
    return 2 + 2

for _ in range(100):
    add(two, two)

def adds(f):
    return [i.opname for i in dis.get_instructions(f, adaptive=True)
            if i.opname.startswith("BINARY_OP")]

print("add(two, two) =", add(two, two), " specialised as", adds(add))
print("before() =", before())

# %% [markdown]
# ## Overwrite `ob_type`
#
# The type of an object is nothing more than the pointer in the second
# word of its header, and `id(int2)` is the address of the type object.
# Write one into the other through the ctypes `PyObject` laid over the
# object. An object holds a reference only on a *heap* type; `int` and
# `int2` are static, never freed, so no reference is taken or given back.
#
# Watch the 8 bytes of `ob_type` change in the dump: the host decodes the
# new pointer by reading `tp_name` behind it. And this time the measures
# do not move: 2 is as big as 3 and the collector does not track it.

# %% Overwrite ob_type of 2 slug="swap" tags=["patch"] watch=[{"expr": "id(2)", "layout": "PyLongObject", "label": "int-2"}]
saved_type = head.ob_type
head.ob_type = id(int2)
print(f"ob_type (offset {PyObject.ob_type.offset}):",
      hex(saved_type), "->", hex(head.ob_type))
print("type(2) is", type(2).__name__, "  getsizeof(2)", sys.getsizeof(2),
      " getsizeof(3)", sys.getsizeof(3), "  gc.is_tracked(2)", gc.is_tracked(2))

# %% [markdown]
# ## `two + two`
#
# `two + two` now reaches `int2`'s `nb_add`, and so does the function warmed
# up on exact ints. Its `BINARY_OP_ADD_INT` first checks that the left
# operand is *exactly* `int`; 2 no longer is, the check fails, and the
# instruction falls back ("deoptimises") to the generic path,
# `PyNumber_Add`, which finds `int2`'s slot. After as many misses as
# stage 4 counted, the interpreter rewrites the instruction back to
# `BINARY_OP_ADAPTIVE`, which will not specialise for an `int2`. Every
# other sum with a 2 in it goes through `int2` too, and comes out right:
# `2 + 3` because 2 is on the left, `3 + 2` by stage 3's rule, since
# `int2` is a subclass of `int` with a slot of its own and so is asked
# first from the right. And the collector, run with 2 in a thousand lists,
# finds nothing to complain about: 2 is an ordinary, untracked object.

# %% two + two slug="two-plus-two" tags=["explore"]
print("two + two =", two + two)
results = {add(two, two) for _ in range(1000)}
print("add(two, two) 1000 times gives", results, " now", adds(add))
print("2 + 3 =", eval("2 + 3"), " 3 + 2 =", eval("3 + 2"),
      " 2 + 2.5 =", eval("2 + 2.5"), " True + True =", True + True)
held = [[2, i] for i in range(1000)]
print("gc.collect() x 3 with 2 in", len(held), "lists:",
      sum(gc.collect() >= 0 for _ in range(3)), "runs, 2 still an", type(2).__name__)
del held

# %% [markdown] python="<3.14"
# ## A freshly compiled `2 + 2`
#
# Source compiled *now* folds `2 + 2` at compile time, as always, but the
# 3.11 AST optimiser folds by calling `PyNumber_Add` on the two constants
# itself. That call meets `int2`'s `nb_add`, so the constant it stores is 5.
# `before`, compiled earlier, still holds the 4 folded back then: no
# patch of objects or types can reach a constant that is already in a
# code object. That is stage 6.

# %% [markdown] python=">=3.14"
# ## A freshly compiled `2 + 2`
#
# Source compiled *now* folds `2 + 2` at compile time, as always, but the
# folder (from 3.14 the CFG optimiser) folds by calling `PyNumber_Add` on
# the two constants itself. That call meets `int2`'s `nb_add`, so what it
# stores is 5: as `LOAD_SMALL_INT 5`, the value in the instruction's
# argument, so `co_consts` shows only a 2 the folder left behind and the
# step prints what the code loads too. `before`, compiled earlier, still
# loads the 4 folded back then: no patch of objects or types can reach a
# value that is already in a code object. That is stage 6.

# %% A freshly compiled 2 + 2 slug="fresh" tags=["explore"]
import dis

def loads(code):
    """The values the code's load instructions push."""
    return [i.argval for i in dis.get_instructions(code)
            if i.opname.startswith(("LOAD", "RETURN_CONST"))]

fresh = compile("2 + 2", "<fresh>", "eval")
print('eval("2 + 2") =', eval("2 + 2"), "  co_consts", fresh.co_consts, "  loads", loads(fresh))
print("before() =", before(), "  co_consts", before.__code__.co_consts,
      "  loads", loads(before))

# %% [markdown]
# ## Put `int` back
#
# Write the saved type pointer back. It runs only if the swap did, so
# this step is safe after any earlier step, even one that failed
# half-way. `int2` itself stays, unused, for the life of the interpreter,
# as a C extension's static types do.

# %% Put int back slug="restore" tags=["revert"] watch=[{"expr": "id(2)", "layout": "PyLongObject", "label": "int-2"}]
if "saved_type" in globals() and head.ob_type != saved_type:
    head.ob_type = saved_type
print("type(2) is", type(2).__name__, "  2 + 2 =", eval("2 + 2"))

# %% [markdown]
# The talk's code ran on Python 2.7 and 3.5. The fast path it had to get
# around was Python 2.7's `BINARY_ADD`, which added two exact ints
# inline, as 3.11's `BINARY_OP_ADD_INT` does now; in 3.5 and 3.6
# `BINARY_ADD` always went through `PyNumber_Add`. Folding then lived in
# the peephole optimiser (stage 6), which also called `PyNumber_Add`.
# From 3.12 the small ints are immortal: their reference count never
# moves, but `ob_type` is still an ordinary field and the same swap
# works. The talk's `clone_type` copied the whole `PyTypeObject` and
# cleared the fields the runtime fills in; copying only what describes
# the memory and letting `PyType_Ready` inherit the rest needs no list
# of fields that changes from one version to the next.

# %% One float, another type [markdown] tags=["exercise"] slug="float-type"
# Do to one float what this stage did to 2, safely. Write two functions
# in your file:
#
# - `swap(x)` makes the float `x` an instance of a type of your own, a
#   copy of `float`'s type object with `float` as its base, whose
#   addition gives `42.0` for `x + x` and adds as `float` does for
#   anything else;
# - `unswap(x)` makes `x` a plain `float` again.
#
# The check swaps a fresh float, and while it is swapped asks the same
# questions the collector and `sys.getsizeof` ask: a type made by a
# `class` statement says "I have a GC header in front of me", and a float
# has none. Then it adds, unswaps, and adds again.

# %% [markdown] tags=["hint"]
# Follow the cure of this stage with `float` for `int`: a zeroed block as
# large as a type object, `float`'s sizes, `tp_dealloc`, `tp_alloc`,
# `tp_free` and flags (less the runtime's own bits), `tp_base = float`,
# a `PyNumberMethods` of your own with only `nb_add` filled in, then
# `PyType_Ready`. Keep it all alive for good.

# %% [markdown] tags=["hint"]
# Your `nb_add` gets both operands: `a is b` tells `x + x` from `x + 1.5`.
# For everything else call `float`'s own `nb_add`, read from
# `float`'s `tp_as_number` before you start.

# %% [markdown] tags=["hint"]
# The type is the second word of the object's header: lay
# `PyObject` (`ob_refcnt`, `ob_type`) over `id(x)`, save `ob_type`, write
# the address of your type (`id(your_type)`), and write the saved value
# back in `unswap`.

# %% tags=["starter"]
# Exercise 5.1: swap the type of one float for a safe copy of float's, and back.
# Run `ministry-tutor --exercise 5.1` to have it checked on every save.
import ctypes
import sys


def swap(x):
    """Make x an instance of a copy of float's type whose x + x is 42.0."""


def unswap(x):
    """Make x a plain float again."""

# %% tags=["check"]
import ctypes as _ct
import gc as _gc
import sys as _sys


class _Head(_ct.Structure):         # PyObject
    _fields_ = [("ob_refcnt", _ct.c_ssize_t), ("ob_type", _ct.c_void_p)]


for _name in ("swap", "unswap"):
    assert callable(globals().get(_name)), f"define a function {_name}(x)"
_x, _y = float("1.5"), float("1.5")   # fresh objects, not shared constants
_size = _sys.getsizeof(_y)
try:
    swap(_x)
    _t = type(_x)
    assert _t is not float, "after swap(x), type(x) is still float"
    assert isinstance(_x, float), (
        f"after swap(x), type(x) is {_t.__name__}, which is not a float type: its base "
        "must be float")
    assert _sys.getsizeof(_x) == _size, (
        f"while swapped, sys.getsizeof(x) is {_sys.getsizeof(_x)}, not {_size}: the type "
        "says x has a GC header in front of it (a class statement adds Py_TPFLAGS_HAVE_GC);"
        " copy float's type object instead")
    assert not _gc.is_tracked(_x), "while swapped, the collector believes it tracks x"
    _held = [[_x] for _ in range(100)]
    _gc.collect()
    del _held
    _sum = _x + _x
    assert _sum == 42.0, f"while swapped, x + x is {_sum!r}, not 42.0"
    for _a, _b in ((_x, 1.0), (1.0, _x), (_y, _y)):
        _sum = _a + _b
        assert _sum in (2.5, 3.0) and _sum == float(_a) + float(_b), (
            f"x + x was 42.0, but {_a!r} + {_b!r} gave {_sum!r}: only x + x may change")
    unswap(_x)
    assert type(_x) is float, (
        f"x + x was 42.0, but after unswap(x) type(x) is still {type(_x).__name__}")
    assert _x + _x == 3.0, f"after unswap(x), x + x is {_x + _x!r}, not 3.0"
finally:
    if type(_x) is not float:       # never free a float through a type not its own
        _Head.from_address(id(_x)).ob_type = id(float)
