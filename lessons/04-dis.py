# ---
# title: What the bytecode says
# summary: Disassemble two + two and 2 + 2, read the raw bytecode in memory, and watch 3.11 rewrite an addition into BINARY_OP_ADD_INT as it warms up.
# ---

# %% [markdown]
# # Reading the orders
#
# Python source is compiled to bytecode before it runs, and `dis` prints
# that bytecode. Put the two expressions of the last stage side by side.
#
# `two + two` loads the name twice and adds with `BINARY_OP 0 (+)`: a real
# addition, done when the code runs. `2 + 2` has no addition left at all:
# the compiler already computed it and the code just loads the constant
# `4`. Nothing we do to `int` at run time can reach an addition that
# happened at compile time (stage 6 goes after the compiler).

# %% Two additions, disassembled slug="dis-two" tags=["explore"]
import dis

two = 2
print("two + two:")
dis.dis("two + two")
print("\n2 + 2:")
dis.dis("2 + 2")

# %% [markdown] python=">=3.14"
# (From 3.14 the folded 4 is not even a constant: `LOAD_SMALL_INT 4`
# carries it in the instruction's own argument, as it does any int from 0
# to 255, and the interpreter takes the object from its table of small
# ints.)

# %% [markdown] python=">=3.12"
# The listings here are those of the version you run; the narrative names
# 3.11's instructions where they differ. 3.12 and 3.13 keep 3.11's shape
# (`RETURN_CONST` returns a constant in one instruction in 3.12 and 3.13);
# 3.14 adds instructions such as `LOAD_FAST_BORROW`, which pushes a local
# without taking a reference.

# %% [markdown]
# ## The bytes behind the listing
#
# Since 3.6 every instruction is two bytes, an opcode and an argument, and
# in 3.11 some instructions are followed by *inline cache* entries: the
# `00 00` after `BINARY_OP` is one, room for the interpreter to take notes
# (dis calls it `CACHE`).
#
# A code object keeps its bytecode inside itself: the fixed part of the
# struct is `type(code).__basicsize__` bytes, and the bytecode starts
# right after it. The host labels that region `co_code_adaptive` in the
# dump, at an offset it takes from `offsetof` in CPython's headers;
# ctypes finds the same bytes at the offset the interpreter reports.
#
# How long is it? The header's `ob_size` (what C calls `Py_SIZE`) counts
# the bytecode's two-byte code units. The host shows 16 bytes from the
# start of the bytecode, so when the code is shorter its field row stops
# at `Py_SIZE` code units and the rest gets rows of its own: `padding`,
# the bytes by which the object's allocation was rounded up to a multiple
# of 8, and `beyond`, memory past the object altogether. Those bytes may
# look like instructions (a leftover `5a 03` would read as
# `STORE_NAME 3`), but nothing will ever run them.

# %% The bytes behind the listing slug="bytes" tags=["explore"] watch=[{"expr": "id(code)", "layout": "PyCodeObject", "label": "code-two", "verify": false}]
import ctypes

code = compile("two + two", "<telescreen>", "eval")
raw = code.co_code
print(raw.hex(" "), f"({len(raw)} bytes)")
for offset in range(0, len(raw), 2):
    print(f"  +{offset:<3} {raw[offset]:3} {raw[offset + 1]:3}  {dis.opname[raw[offset]]}")

start = type(code).__basicsize__
print(f"bytes at id(code) + {start}:", ctypes.string_at(id(code) + start, len(raw)).hex(" "))
word = ctypes.sizeof(ctypes.c_void_p)
units = ctypes.c_ssize_t.from_address(id(code) + 2 * word).value      # ob_size
size = start + units * type(code).__itemsize__
print(f"ob_size = {units} code units: the object is {start} + {size - start} = {size} bytes,",
      f"allocated as {-(-size // word) * word} (a multiple of {word})")
folded = compile("2 + 2", "<telescreen>", "eval")
print("2 + 2 compiles to", folded.co_code.hex(" "), "with co_consts", folded.co_consts)

# %% [markdown]
# ## A function that will warm up
#
# CPython 3.11 has a *specialising adaptive interpreter* (PEP 659). A code
# object that runs often is "quickened": its bytecode, in
# `co_code_adaptive`, is rewritten in place with specialised instructions
# that bet on the types seen so far. Here is `add` before it has run; the
# adaptive listing is still the plain one.

# %% A function that will warm up slug="cold" tags=["explore"] watch=[{"expr": "id(add.__code__)", "layout": "PyCodeObject", "label": "add-code", "verify": false}]
def add(a, b):
    return a + b

dis.dis(add, adaptive=True)
cold = add.__code__._co_code_adaptive
cold_ops = {i.offset: i.opname for i in dis.get_instructions(add, adaptive=True)}
print("co_code_adaptive:", cold.hex(" "))

# %% [markdown]
# ## Warming up
#
# A hundred calls with ints. In the dump, `co_warmup` has counted up
# from -8 to 0: after eight calls the code was quickened. Then watch
# `co_code_adaptive`, where the host marks the bytes that changed.
# `RESUME` became `RESUME_QUICK`, the
# two `LOAD_FAST`s were fused into a superinstruction, the cache entry
# after the add now holds a counter, and the `BINARY_OP` opcode byte
# became `BINARY_OP_ADD_INT`.
#
# `BINARY_OP_ADD_INT` checks the operands' types (the next step shows
# exactly how) and then adds them itself, with `_PyLong_Add`: it never
# reads `nb_add`.
# That is why, in the last stage, a warm function kept answering 4 while
# `nb_add` pointed at our callback. `co_code` still shows the original
# bytes: it is a de-specialised copy made for anyone who reads it.

# %% Warm it up slug="warm-up" tags=["explore"] watch=[{"expr": "id(add.__code__)", "layout": "PyCodeObject", "label": "add-code", "verify": false}]
for i in range(100):
    add(i, 1)

dis.dis(add, adaptive=True)
warm = add.__code__._co_code_adaptive
for i in dis.get_instructions(add, adaptive=True):
    if cold_ops[i.offset] != i.opname:
        print(f"+{i.offset}: {cold_ops[i.offset]} ({cold[i.offset]}) -> "
              f"{i.opname} ({warm[i.offset]})")
print("co_code_adaptive:", warm.hex(" "))
print("co_code:         ", add.__code__.co_code.hex(" "))

# %% [markdown]
# ## What the fast path checks
#
# The bet is guarded. Before it adds, `BINARY_OP_ADD_INT` checks two
# things: that the left operand is exactly `int` (its `ob_type` is
# `&PyLong_Type`), and that the right operand has exactly the type of the
# left (in the 3.11 source, `Py_TYPE(right) != Py_TYPE(left)` sends it
# away). Either check failing is a *miss*: the instruction falls back to
# the generic path, `PyNumber_Add`, which asks the operands' types for
# their `nb_add`. An `int` subclass with its own `__add__` therefore takes
# that road even inside the warm `add`.
#
# The cell tries each check on its own: `Comrade(2) + 2` fails the first,
# and `2 + True` the second (`bool` is a subclass of `int`). For each it
# first warms `add` up on ints again, then calls it until the
# instruction's opcode byte in the live code changes (`dis` names it), and
# prints how many misses that took. On 3.11 the
# instruction does not give up at the first miss: it counts them, and
# only after that many does it become `BINARY_OP_ADAPTIVE` again, ready to
# specialise anew.
# (From 3.12 the generic `BINARY_OP` is itself the adaptive form: a
# specialised instruction that has missed often enough turns back into
# plain `BINARY_OP`, as the step prints.)
#
# That is the Ministry's opening. Both checks read `ob_type`. If the
# object `2` itself had another type, `two + two` would fail the first
# one and ask that type. Stage 5 rewrites `ob_type`.

# %% What the fast path checks slug="exact-int" tags=["explore"]
class Comrade(int):
    def __add__(self, other):
        return 5

def add_op(f):
    """The adaptive form of the addition in f, and its offset in the code."""
    return next((i.opname, i.offset) for i in dis.get_instructions(f, adaptive=True)
                if i.opname.startswith("BINARY_OP"))

def opcode_at(f, offset):
    """The opcode byte at offset as the interpreter runs it now: it is
    this byte that (de-)specialising rewrites in place."""
    return f.__code__._co_code_adaptive[offset]

print("add(2, 2) =", add(2, 2), "with", add_op(add)[0])
for a, b, check in ((Comrade(2), 2, "the left is exactly int"),
                    (2, True, "the right has the left's type")):
    calls, at = 0, add_op(add)[1]
    while add_op(add)[0] != "BINARY_OP_ADD_INT" and calls < 1000:
        op = opcode_at(add, at)
        while opcode_at(add, at) == op and calls < 1000:
            add(calls, 1)
            calls += 1
    warm = add_op(add)[0]
    op, misses, answers = opcode_at(add, at), 0, set()
    while opcode_at(add, at) == op and misses < 1000:
        answers.add(add(a, b))
        misses += 1
    print(f"add({type(a).__name__}({a!r}), {type(b).__name__}({b!r})) = {answers}:",
          f"fails '{check}'; {warm} became {add_op(add)[0]} after {misses} misses")

# %% [markdown]
# ## Then and now
#
# In the Pythons the talk's code was tested on, 2.7 and 3.5, bytecode was
# not yet a fixed two bytes per instruction (3.6 introduced the wordcode),
# the add was `BINARY_ADD` (3.11 merged the binary operators into one
# `BINARY_OP` with an argument), and there was no specialisation. 3.5's
# `BINARY_ADD` went through `nb_add` every time, whatever the types,
# except for its `str + str` shortcut; 2.7's also added two exact ints
# inline. The constant `2 + 2` was folded to `4` then too, by the peephole
# optimiser working on the bytecode. CPython 3.12 keeps the
# specialising interpreter and `BINARY_OP_ADD_INT`; 3.14 moves the
# folding of `2 + 2` from the AST optimiser into the CFG optimiser.

# %% A plus that specialises to floats [markdown] tags=["exercise"] slug="add-float"
# Write a function `fadd(a, b)` that returns `a + b`, and warm it up in
# your file — call it with floats — until the specialising interpreter
# has rewritten its `+` into `BINARY_OP_ADD_FLOAT`. Then show it: print
# the instructions of `fadd` as they are now, with
# `dis.dis(fadd, adaptive=True)`.
#
# The check reads the same instructions and wants `BINARY_OP_ADD_FLOAT`
# among them.

# %% [markdown] tags=["hint"]
# An instruction specialises after it has run a number of times with the
# same kinds of operands. One call is not enough: call `fadd` in a loop
# a few hundred times.

# %% [markdown] tags=["hint"]
# The operands must be exact floats every time: `fadd(1, 2)` warms it up
# for ints (`BINARY_OP_ADD_INT`), and mixing an int with a float does
# not specialise at all.

# %% tags=["starter"]
# Exercise 4.1: a + that the interpreter specialises to BINARY_OP_ADD_FLOAT.
# Run `ministry-tutor --exercise 4.1` to have it checked on every save.
import dis


def fadd(a, b):
    return a + b

# %% tags=["check"]
import dis as _dis

assert callable(globals().get("fadd")), "define a function fadd(a, b)"
_ops = [_i.opname for _i in _dis.get_instructions(fadd, adaptive=True)
        if _i.opname.startswith("BINARY_OP")]
assert _ops, "fadd has no BINARY_OP instruction: it should return a + b"
assert "BINARY_OP_ADD_FLOAT" in _ops, (
    f"fadd's + is {', '.join(_ops)}, not BINARY_OP_ADD_FLOAT: call it with two floats, "
    "often, before the check reads it")
assert fadd(0.5, 0.25) == 0.75, f"fadd(0.5, 0.25) is {fadd(0.5, 0.25)!r}, not 0.75"
