# ---
# title: A jump over the optimiser
# summary: Overwrite the first bytes of _PyAST_Optimize with a jump to a do-nothing function, compile 2 + 2 without folding, and pass the talk's two tests.
# ---

# %% [markdown]
# # Find the optimiser in memory
#
# Stage 6 showed that a literal `2 + 2` is folded by `_PyAST_Optimize`
# before any bytecode exists. The talk's last move was to stop the
# optimiser itself: overwrite the first instructions of its machine code
# with a jump to a function that does nothing. This is how hot-patching
# and detour libraries (and rootkits) hook functions, and it is done here
# with nothing but ctypes.
#
# `_PyAST_Optimize` is not exported, so its address comes from the debug
# symbols, through `ministry.symbol`. The code lives in a read-only,
# executable mapping of `libpython3.11.so.1.0`: `ministry.perms` reads
# its line of `/proc/self/maps`. If the debug symbols are missing, this stage runs
# SIMULATED: it computes everything and writes nothing into libpython.

# %% Find _PyAST_Optimize slug="find" tags=["explore"] watch=[{"expr": "site", "layout": "code", "len": 16, "label": "jump-site", "verify": false}]
import ctypes, dis, mmap, struct, ministry

try:
    site = ministry.symbol(ministry.FOLDER)
    simulated = None
except LookupError as e:
    simulated = str(e)
    scratch = (ctypes.c_ubyte * 16)()      # stands in for the function
    site = ctypes.addressof(scratch)
if simulated:
    print(f"SIMULATED: there is no address for {ministry.FOLDER} here.")
    print("Missing:", simulated)
    print("Every step still runs; the jump goes into a buffer of our own.")
else:
    print(hex(site), ministry.describe(site), "  page:", ministry.perms(site))

# %% [markdown]
# ## A do-nothing optimiser, and the jump to it
#
# `_PyAST_Optimize(mod, arena, state)` returns 1 for success. A ctypes
# callback with the same signature that just returns 1 leaves the tree as
# the parser built it. Keep a reference to it: its machine code lives only
# as long as the Python object `noop`. Its page reads `r-xs`: libffi fills
# it through a second, writable view of the same memory, so no page is
# writable and executable at once.
#
# The talk wrote `E9 rel32`, a 5-byte jump whose 32-bit offset counts from
# the end of the jump; it reaches only ±2 GiB. A callback mapped further
# away needs the 14-byte form `FF 25 00000000` followed by the absolute
# address: "jump to the address stored right after this instruction". The
# lesson measures the distance and chooses.

# %% A no-op and the jump to it slug="encode" tags=["explore"]
# Both folders take three pointers and return an int:
#   int _PyAST_Optimize(mod_ty, PyArena *, _PyASTOptimizeState *)  (up to 3.13)
#   int optimize_basic_block(PyObject *, basicblock *, PyObject *)  (3.14+)
optimize_t = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                              ctypes.c_void_p)
ok = ministry.FOLDER_NOOP_RESULT     # "success, nothing changed": 1, or 0 from 3.14
noop = optimize_t(lambda a, b, c: ok)
print(f"noop stands in for {ministry.FOLDER}, returning {ok}")
target = ctypes.cast(noop, ctypes.c_void_p).value
print("noop at", hex(target), " page:", ministry.perms(target))

rel = target - (site + 5)       # rel32 counts from the end of the 5-byte jump
near = not simulated and -2**31 <= rel < 2**31
if near:
    jump = b"\xe9" + struct.pack("<i", rel)
else:
    jump = b"\xff\x25" + struct.pack("<iQ", 0, target)
if simulated:
    print("FF 25 + absolute: SIMULATED, there is no real address to measure from")
else:
    print("E9 rel32:" if near else "FF 25 + absolute:",
          f"the no-op is {rel / 2**20:+,.0f} MiB from the jump,",
          "within" if near else "beyond", "±2 GiB")
saved = ministry.peek(site, len(jump))
print(len(jump), "bytes to write:", jump.hex(" "))
print("they replace:   ", saved.hex(" "))

# %% [markdown]
# ## Pages and `mprotect`
#
# Code pages are mapped without write permission, so the write needs
# `mprotect` first, as in the talk. Permissions belong to whole pages and
# the jump may straddle two, so `poke` handles each page the bytes touch:
# it reads its permissions from `/proc/self/maps`, makes it
# read-write-execute (execute stays on: other functions on the same page
# may run meanwhile), writes, and puts back exactly what the maps said,
# whatever happens.

# %% Pages and mprotect slug="mprotect" tags=["explore"]
libc = ctypes.CDLL(None, use_errno=True)
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
PROT = {"r": mmap.PROT_READ, "w": mmap.PROT_WRITE, "x": mmap.PROT_EXEC}

def poke(addr, data):
    pages = range(addr & -mmap.PAGESIZE, addr + len(data), mmap.PAGESIZE)
    was = [ministry.perms(p) for p in pages]
    try:
        for p in pages:
            if libc.mprotect(p, mmap.PAGESIZE, sum(PROT.values())) != 0:
                raise OSError(ctypes.get_errno(), "mprotect")
        print("  during:", [ministry.perms(p) for p in pages])
        ctypes.memmove(addr, data, len(data))
    finally:
        for p, perms in zip(pages, was):
            libc.mprotect(p, mmap.PAGESIZE, sum(PROT.get(c, 0) for c in perms))
    print("  before:", was, " after:", [ministry.perms(p) for p in pages])

pages = range(site & -mmap.PAGESIZE, site + len(jump), mmap.PAGESIZE)
print("page size", mmap.PAGESIZE, "- the jump touches", len(pages), "page(s)")

# %% [markdown]
# ## Write the jump
#
# From here on, every call to `_PyAST_Optimize` lands in the no-op. The
# dump shows the first bytes of the function before and after, as
# capstone decodes them: the jump, then the remains of the instructions
# it cut through, which are never reached. The page is `r-xp` at both
# ends of the step; it was `rwxp` only inside `poke`. (In a SIMULATED run
# the "function" is a buffer of our own, an ordinary `rw-p` page.)

# %% Write the jump slug="write" tags=["patch"] watch=[{"expr": "site", "layout": "code", "len": 16, "label": "jump-site", "verify": false}]
installed = True    # first: the revert step checks the bytes anyway
if simulated:
    ctypes.memmove(site, jump, len(jump))
    print("SIMULATED: written into our own buffer, nothing into libpython")
else:
    poke(site, jump)
print("now at the site:", ministry.peek(site, len(jump)).hex(" "))

# %% [markdown]
# ## Compile with the optimiser off
#
# The host compiles each step just before running it, so this very cell
# was compiled with the jump in place: its `2 + 2` was not folded. `f`
# keeps two `LOAD_CONST 2` and a real `BINARY_OP +`: the addition happens
# every time `f` runs. `test_inline` is the talk's second test, compiled
# the same way, for the finale.

# %% Compile with the optimiser off slug="unfolded" tags=["explore"]
def f():
    return 2 + 2

def test_inline():
    assert 2 + 2 == 5, f"2 + 2 gave {2 + 2}"

dis.dis(f)
print("co_consts =", f.__code__.co_consts, " f() =", f())
if simulated:
    print("SIMULATED: the optimiser ran as usual, so f holds a folded 4")

# %% [markdown]
# ## A side effect: negative numbers in `match`
#
# The optimiser does more than arithmetic. The parser reads `-1` as
# `UnaryOp(USub, Constant 1)`, and it is the optimiser that turns it into
# `Constant(-1)`; the compiler only accepts constants (and dotted names)
# as value patterns. So with the optimiser off, a `case -1:` no longer
# compiles: on this build (3.11.2) it is refused with `SyntaxError:
# patterns may only match literals and attribute lookups`, as the step
# shows live. Keep the window short: anything compiled meanwhile (an
# import, say) misses every optimisation.

# %% A side effect - match case -1 slug="match" tags=["explore"]
import ast

src = """def sign(x):
    match x:
        case -1:
            return 'minus one'
"""
print(ast.dump(ast.parse(src).body[0].body[0].cases[0].pattern))
try:
    exec(src)
    print("compiled: sign(-1) =", sign(-1))
except SyntaxError as e:
    print(f"SyntaxError: {e.msg} (line {e.lineno})")
if simulated:
    print("SIMULATED: the optimiser ran, folded -1, and the match compiled")

# %% [markdown]
# ## Take the jump out
#
# Put the saved bytes back through the same `poke`, so the page ends with
# the permissions `/proc/self/maps` gave it. Only our own jump is undone:
# if the bytes are neither the jump nor the original, the step says so
# and leaves them to the host's guard.

# %% Take the jump out slug="restore" tags=["revert"] watch=[{"expr": "site", "layout": "code", "len": 16, "label": "jump-site", "verify": false}]
if globals().get("installed"):
    now = ministry.peek(site, len(jump))
    if now == jump:
        if simulated:
            ctypes.memmove(site, saved, len(saved))
        else:
            poke(site, saved)
    elif now != saved:
        print("NOT restored: the bytes are no longer our jump:", now.hex(" "))
    installed = False
if "site" in globals():
    print("at the site:", ministry.peek(site, 16).hex(" "))
    print("page:", ministry.perms(site), "  2 + 2 compiles to",
          compile("2 + 2", "", "eval").co_consts)

# %% [markdown]
# ## One function, two answers
#
# The optimiser is on again, but `f` was compiled while it was off, and
# compiled code does not change. Its `BINARY_OP` adds at run time, so it
# meets whatever type the object 2 has at that moment. Inside
# `ministry.two_plus_two_equals(5)` (stage 5's `ob_type` swap, packaged
# by the host) the same function object returns 5; outside it, 4.

# %% One function, two answers slug="two-answers" tags=["explore"]
with ministry.two_plus_two_equals(5):
    inside = f()
print("inside the swap: f() =", inside, "   outside: f() =", f())
if simulated:
    print("SIMULATED: f holds a folded 4, so it cannot change its answer")

# %% [markdown]
# ## The finale: the talk's two tests
#
# The talk ended on a test module with two assertions inside its context
# manager. `eval("2 + 2") == 5` passes because `eval` compiles now, and
# the optimiser folds through `PyNumber_Add`, which meets `Int2`. The
# inline `2 + 2 == 5` passes because it was compiled while the optimiser
# was off. After the block, 2 + 2 is 4 again, everywhere.

# %% The finale slug="finale" tags=["explore"]
with ministry.two_plus_two_equals(5):
    assert eval("2 + 2") == 5
    print('inside:  eval("2 + 2") == 5 passes')
    if not simulated:
        test_inline()
        print("inside:  the inline 2 + 2 == 5 passes")
    else:
        print("SIMULATED: test_inline holds a folded 4, it would fail")
assert eval("2 + 2") == 4 and f() == 4
print('after:   eval("2 + 2") ==', eval("2 + 2"), "  f() ==", f())

# %% [markdown]
# In the talk's Python (3.5, 3.6) the target was `PyCode_Optimize`, the
# peephole optimiser, with the same `E9 rel32` jump and a no-op that
# returned the code object it was given. In 3.11 that function is already
# a no-op (stage 6), so the jump has to land on `_PyAST_Optimize`, which
# is not exported. From 3.14 the folding happens in the CFG optimiser
# (`Python/flowgraph.c`), so the jump would have to move again.
