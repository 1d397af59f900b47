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
# `__class__` is only allowed for mutable (heap) types.

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
# word of its header, and `id(Int2)` is the address of the type object.
# Write one into the other through a ctypes `Structure` laid over the
# object. An instance owns a reference to its (heap) type, so take one
# for `Int2` first with `Py_IncRef`; the revert step gives it back.
#
# Watch the 8 bytes of `ob_type` change in the dump: the host decodes the
# new pointer by reading `tp_name` behind it.

# %% Overwrite ob_type of 2 slug="swap" tags=["patch"] watch=[{"expr": "id(2)", "layout": "PyLongObject", "label": "int-2"}]
class PyObject(ctypes.Structure):
    _fields_ = [("ob_refcnt", ctypes.c_ssize_t),
                ("ob_type", ctypes.c_void_p)]

head = PyObject.from_address(id(2))
saved_type = head.ob_type
ctypes.pythonapi.Py_IncRef(ctypes.py_object(Int2))
int2_ref = True
head.ob_type = id(Int2)
print(f"ob_type (offset {PyObject.ob_type.offset}):",
      hex(saved_type), "->", hex(head.ob_type))
print("type(2) is", type(2).__name__)

# %% [markdown]
# ## `two + two`
#
# `two + two` now reaches `Int2.__add__`, and so does the function warmed
# up on exact ints. Its `BINARY_OP_ADD_INT` first checks that both
# operands are *exactly* `int`; the check fails, and the instruction
# falls back ("deoptimises") to the generic path, `PyNumber_Add`, which
# finds `Int2`'s slot. After a few dozen misses the interpreter rewrites
# the instruction back to `BINARY_OP_ADAPTIVE`, which will not specialise
# for an `Int2`. Every other sum with a 2 in it goes through `Int2` too,
# and comes out right.

# %% two + two slug="two-plus-two" tags=["explore"]
print("two + two =", two + two)
results = {add(two, two) for _ in range(1000)}
print("add(two, two) 1000 times gives", results, " now", adds(add))
print("2 + 3 =", eval("2 + 3"), " 3 + 2 =", eval("3 + 2"),
      " 2 + 2.5 =", eval("2 + 2.5"), " True + True =", True + True)

# %% [markdown]
# ## A freshly compiled `2 + 2`
#
# Source compiled *now* folds `2 + 2` at compile time, as always, but the
# 3.11 AST optimiser folds by calling `PyNumber_Add` on the two constants
# itself. That call meets `Int2.__add__`, so the constant it stores is 5.
# `before`, compiled earlier, still holds the 4 folded back then: no
# patch of objects or types can reach a constant that is already in a
# code object. That is stage 6.

# %% A freshly compiled 2 + 2 slug="fresh" tags=["explore"]
fresh = compile("2 + 2", "<fresh>", "eval")
print('eval("2 + 2") =', eval("2 + 2"), "  co_consts", fresh.co_consts)
print("before() =", before(), "  co_consts", before.__code__.co_consts)

# %% [markdown]
# ## Put `int` back
#
# Write the saved type pointer back and return the reference taken on
# `Int2`. Each part runs only if its patch did, so this step is safe after
# any earlier step, even one that failed half-way.

# %% Put int back slug="restore" tags=["revert"] watch=[{"expr": "id(2)", "layout": "PyLongObject", "label": "int-2"}]
if "head" in globals() and head.ob_type != saved_type:
    head.ob_type = saved_type
if globals().get("int2_ref"):
    ctypes.pythonapi.Py_DecRef(ctypes.py_object(Int2))
    int2_ref = False
print("type(2) is", type(2).__name__, "  2 + 2 =", eval("2 + 2"))

# %% [markdown]
# The talk's code ran on Python 2.7 and 3.5. The fast path it had to get
# around was Python 2.7's `BINARY_ADD`, which added two exact ints
# inline, as 3.11's `BINARY_OP_ADD_INT` does now; in 3.5 and 3.6
# `BINARY_ADD` always went through `PyNumber_Add`. Folding then lived in
# the peephole optimiser (stage 6), which also called `PyNumber_Add`.
# From 3.12 the small ints are immortal: their reference count never
# moves, but `ob_type` is still an ordinary field and the same swap
# works.
