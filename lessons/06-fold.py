# ---
# title: The 4 that was there before you looked
# summary: A literal 2 + 2 is added once, at compile time, and stored as 4. See the tree before that step and the code object after it, and find the optimiser that does it.
# ---

# %% [markdown] python="<3.14"
# # Compiled before the patch
#
# Stage 5 ended with a puzzle: inside the `ob_type` swap a function
# written earlier still returned 4. Its code object shows why. There is
# no addition left in it: `co_consts` holds the number 4, and the
# bytecode just loads that constant and returns it. Nothing is added when
# `f` runs, so no patch of objects or types can change the result.
#
# The dump is the code object itself: `co_consts` points at the tuple,
# and `co_code_adaptive` at the end holds the bytecode, two bytes per
# instruction. It is only `ob_size` code units long, so the host marks
# the bytes after it as `padding` (the rest of the object's allocation)
# and `beyond` (memory past the object), as in stage 4.

# %% [markdown] python=">=3.14"
# # Compiled before the patch
#
# Stage 5 ended with a puzzle: inside the `ob_type` swap a function
# written earlier still returned 4. Its code object shows why. There is
# no addition left in it: the bytecode is `LOAD_SMALL_INT 4` and a
# return. From 3.14 a small int needs no constant at all: the 4 is the
# instruction's own argument, and `co_consts` keeps only a 2 the folder
# left behind, which no instruction loads. Nothing is added when `f`
# runs, so no patch of objects or types can change the result.
#
# The dump is the code object itself: `co_consts` points at the tuple,
# and `co_code_adaptive` at the end holds the bytecode, two bytes per
# instruction. It is only `ob_size` code units long, so the host marks
# the bytes after it as `padding` (the rest of the object's allocation)
# and `beyond` (memory past the object), as in stage 4.

# %% Compiled before the patch slug="compiled" tags=["explore"] watch=[{"expr": "id(f.__code__)", "layout": "PyCodeObject", "label": "f-code", "verify": false}]
import ast, ctypes, dis, ministry

def f():
    return 2 + 2

print("co_consts =", f.__code__.co_consts)
dis.dis(f)
with ministry.two_plus_two_equals(5):
    print("inside two_plus_two_equals(5): f() =", f())

# %% [markdown] python="<3.14"
# ## The tree before optimisation
#
# Compiling goes source → tokens → AST → optimised AST → bytecode.
# `ast.parse` stops after the third step, so its tree still holds the
# sum: a `BinOp` of two `Constant`s. `compile()` takes it from there, and
# the optimiser inside `compile()` replaces the `BinOp` with its value
# before any bytecode is written.

# %% [markdown] python=">=3.14"
# ## The tree before optimisation
#
# Compiling goes source → tokens → AST → instructions → control-flow
# graph → bytecode. `ast.parse` stops after the third step, so its tree
# still holds the sum: a `BinOp` of two `Constant`s. `compile()` takes it
# from there. From 3.14 the tree reaches the code generator as it is:
# `LOAD_CONST 2; LOAD_CONST 2; BINARY_OP +` are emitted, and the CFG
# optimiser then replaces the three instructions with one that loads 4,
# before the bytecode is assembled.

# %% The tree before optimisation slug="ast" tags=["explore"]
tree = ast.parse("def f():\n    return 2 + 2")
print(ast.dump(tree.body[0].body[0].value))
code = compile(tree, "<tree>", "exec")
inner = code.co_consts[0]
print("the same tree, compiled: co_consts of f =", inner.co_consts)
ops = [i.opname for i in dis.get_instructions(inner)]
print("BINARY_OP in it:", "BINARY_OP" in ops)

# %% [markdown] python="<3.12"
# ## Where the folding lives in 3.11
#
# The optimiser is `_PyAST_Optimize` in `Python/ast_opt.c`. It walks the
# tree and, for a `BinOp` whose operands are both constants, calls
# `PyNumber_Add` (or the operator's function) and puts the result in a
# new `Constant`. That call is why stage 5's freshly compiled `2 + 2`
# gave five.
#
# The function is internal to libpython: the linker made it a *local*
# symbol, so it is missing from the dynamic symbol table that `dlsym` and
# `ctypes.pythonapi` search. Its address comes from Debian's detached
# debug symbols (package `python3.11-dbg`), which `ministry.symbol`
# reads; a bare script would need a debugger here.

# %% [markdown] python=">=3.12,<3.14"
# ## Where the folding lives
#
# As in 3.11, the optimiser is `_PyAST_Optimize` in `Python/ast_opt.c`,
# `ministry.FOLDER` on this build. It walks the tree and, for a `BinOp`
# whose operands are both constants, calls `PyNumber_Add` (or the
# operator's function) and puts the result in a new `Constant`. That
# call is why stage 5's freshly compiled `2 + 2` gave five.
#
# The function is internal to libpython: a *local* symbol, missing from
# the dynamic symbol table that `dlsym` and `ctypes.pythonapi` search. Its
# address comes from Debian's detached debug symbols (the package
# `python3.X-dbg` of this version), which `ministry.symbol` reads.

# %% [markdown] python=">=3.14"
# ## Where the folding lives from 3.14
#
# The AST optimiser no longer folds arithmetic. The CFG optimiser in
# `Python/flowgraph.c` does, in `optimize_basic_block` (`ministry.FOLDER`
# on this build): for each basic block of instructions it looks for
# constants followed by an operator and, when the result is an exact
# int, float, str and the like within size limits, replaces them with a
# load of the result. It checks the operands' *types* first: an object
# whose type is not exactly `int` is left alone.
#
# The function is `static`, and link-time optimisation may rename it
# (`optimize_basic_block.lto_priv.0` in Debian's 3.14 build; plain in
# 3.15): it is missing from the dynamic symbol table that `dlsym` and
# `ctypes.pythonapi` search. Its address comes from Debian's detached
# debug symbols (the package `python3.X-dbg` of this version), which
# `ministry.symbol` reads, suffix and all.

# %% Where the folding lives slug="ast-optimize" tags=["explore"]
print("the folder on this build:", ministry.FOLDER)
try:
    folder = ministry.symbol(ministry.FOLDER)
except LookupError as e:
    folder = None
    print(f"Skipped: the debug symbols are missing, so no {ministry.FOLDER}.")
    print(e)
if folder is not None:
    print(hex(folder), ministry.describe(folder), ministry.perms(folder))
    print("first bytes:", ministry.peek(folder, 16).hex(" "))
    print("in ctypes.pythonapi:", hasattr(ctypes.pythonapi, ministry.FOLDER))

# %% [markdown]
# ## The talk's optimiser is now a stub
#
# In the Pythons the talk's code was tested on (2.7 and 3.5) folding
# happened later, on bytecode: the peephole optimiser `PyCode_Optimize`
# (Python/peephole.c) looked at windows of instructions and replaced
# `LOAD_CONST 2; LOAD_CONST 2; BINARY_ADD` with `LOAD_CONST 4`, computing
# the 4 with `PyNumber_Add`. The talk described it as looking through the
# abstract syntax tree in little windows; the windows were of bytecode,
# and no tree was left by then. Python 3.7 moved constant folding to the
# AST. The exported name survives for compatibility, and its whole body is
# `Py_INCREF(code); return code;`: three instructions in 3.11; from 3.12 a
# few more, because `Py_INCREF` first checks that the count is not an
# immortal one.
#
# `PyCode_Optimize` is exported, so ctypes finds it (as the talk did).
# Its size comes from the symbol table: `ministry.describe` names the
# function only for the bytes inside it. The dump disassembles 16 bytes,
# so it shows the padding up to the next function too.

# %% The talk's optimiser is a stub slug="stub" tags=["explore"] watch=[{"expr": "ministry.symbol(\"PyCode_Optimize\")", "layout": "code", "len": 16, "label": "pycode-optimize"}]
stub = ctypes.cast(ctypes.pythonapi.PyCode_Optimize, ctypes.c_void_p).value
print(hex(stub), ministry.describe(stub), " same as ministry.symbol:",
      stub == ministry.symbol("PyCode_Optimize"))
size = 0
while size < 64 and "PyCode_Optimize" in ministry.describe(stub + size):
    size += 1
print(f"the stub is {size} bytes:", ministry.peek(stub, size).hex(" "))
print("after it:", ministry.describe(stub + size))

# %% [markdown]
# ## Calling the stub
#
# Called through ctypes with any code object, `PyCode_Optimize` hands
# back the very same object, one reference richer (ctypes takes that
# reference over, so the count stays balanced). The talk's trampoline
# replaced it with exactly this behaviour; since 3.7 it has nothing left
# to switch off. Stage 7 aims the same trick at the folder instead:
# `_PyAST_Optimize` up to 3.13, `optimize_basic_block` from 3.14.

# %% Calling the stub slug="call-stub" tags=["explore"]
PyCode_Optimize = ctypes.pythonapi.PyCode_Optimize
PyCode_Optimize.restype = ctypes.py_object
PyCode_Optimize.argtypes = [ctypes.py_object] * 4
back = PyCode_Optimize(f.__code__, (), (), b"")
print("PyCode_Optimize(f.__code__, ...) is f.__code__:", back is f.__code__)
del back

# %% [markdown]
# Folding has moved twice: from the peephole optimiser on bytecode (up
# to 3.6; the talk's code ran on 2.7 and 3.5) to the AST optimiser (3.7 to
# 3.13). In 3.14
# it moves again, into the CFG optimiser (`Python/flowgraph.c`), which
# folds on the compiler's control-flow graph of instructions: there a
# trampoline over `_PyAST_Optimize` would no longer keep `2 + 2` from
# becoming 4.

# %% A sum the folder leaves alone [markdown] tags=["exercise"] slug="unfolded"
# Find a constant expression the compiler does *not* fold, and say why.
# In your file set two names:
#
# - `expr`, a string: one operator between two literals, such as
#   `"7 // 2"` (numbers, strings, bytes, tuples of literals, `None`; a
#   minus sign in front of a number is part of the literal);
# - `reason`, a string: `"raises"` when folding it would raise, so the
#   folder leaves the error for run time, or `"too big"` when its value
#   would be too big to keep in the code object.
#
# The check compiles `expr` as the interpreter does, wants the operator
# still there in the bytecode, and runs it to see which of the two
# reasons is the true one. Keep numbers and counts at most 100000 in
# size, and strings and tuples at most 100 long: big enough to find the
# folder's limits.

# %% [markdown] tags=["hint"]
# `dis.dis(compile(expr, "", "eval"))` shows what the compiler made: a
# single `LOAD_CONST` (or `RETURN_CONST`) means it was folded; a
# `BINARY_OP` means it was left for run time.

# %% [markdown] tags=["hint"]
# The folder computes with the very operations you would call, but only
# when that is safe and cheap: it gives up on anything that raises
# (dividing by zero, adding a string to a number), and on results larger
# than a few limits (an int of more than 128 bits, a string of more than
# 4096 characters, a tuple of more than 256 items).

# %% tags=["starter"]
# Exercise 6.1: a constant expression the compiler leaves unfolded, and why.
# Run `ministry-tutor --exercise 6.1` to have it checked on every save.
import dis

expr = "2 + 2"          # folded to 4: find one that is not
reason = "raises"       # or "too big"

dis.dis(compile(expr, "<expr>", "eval"))

# %% tags=["check"]
import ast as _ast
import dis as _dis

assert isinstance(globals().get("expr"), str), 'set expr to a string, e.g. "7 // 2"'
assert globals().get("reason") in ("raises", "too big"), 'set reason to "raises" or "too big"'
try:
    _tree = _ast.parse(expr.strip(), mode="eval").body
except SyntaxError as _e:
    raise AssertionError(f"expr is not a Python expression: {_e.msg}") from None
assert isinstance(_tree, _ast.BinOp), (
    f"expr is a {type(_tree).__name__}, not one operator between two literals")
_operands = []
for _side in (_tree.left, _tree.right):
    try:
        _v = _ast.literal_eval(_side)
    except ValueError:
        raise AssertionError(f"{_ast.unparse(_side)} in expr is not a literal: only "
                             "literals make a constant expression") from None
    _big = (abs(_v) > 100000 if isinstance(_v, (int, float, complex))
            else len(_v) > 100 if isinstance(_v, (str, bytes, tuple)) else False)
    assert not _big, f"keep {_ast.unparse(_side)[:20]} smaller: see the task for the sizes"
    _operands.append(_v)
_code = compile(expr.strip(), "<expr>", "eval")
_ops = [_i.opname for _i in _dis.get_instructions(_code)]
assert any(_o.startswith("BINARY_OP") for _o in _ops), (
    f"{expr.strip()} was folded: its code is only {', '.join(_ops)}")
try:
    _value = eval(_code, {})
    _raised = None
except Exception as _e:
    _raised = _e
if _raised is not None:
    assert reason == "raises", (f"{expr.strip()} raises {type(_raised).__name__} when it "
                                "runs: that is why it was left alone, not \"too big\"")
else:
    assert reason == "too big", (f"{expr.strip()} runs without an error: it was left alone "
                                 "because its value is too big, not because it raises")
