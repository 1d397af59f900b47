# ---
# title: A jump over the optimiser
# summary: Overwrite the first bytes of the constant folder (_PyAST_Optimize, or optimize_basic_block from 3.14) with a jump to a do-nothing function, compile 2 + 2 without folding, and pass the talk's two tests.
# ---

# %% [markdown] python="<3.14"
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

# %% [markdown] python=">=3.14"
# # Find the folder in memory
#
# Stage 6 showed that from 3.14 a literal `2 + 2` is folded by the CFG
# optimiser, in `optimize_basic_block`, before the bytecode is assembled.
# The talk's last move was to stop the optimiser itself: overwrite the
# first instructions of its machine code with a jump to a function that
# does nothing. The target has moved twice since the talk; the trick has
# not. This is how hot-patching and detour libraries (and rootkits) hook
# functions, and it is done here with nothing but ctypes.
#
# `optimize_basic_block` is static, so its address comes from the debug
# symbols, through `ministry.symbol(ministry.FOLDER)`. The code lives in a
# read-only, executable mapping of libpython: `ministry.perms` reads its
# line of `/proc/self/maps`. If the debug symbols are missing, this stage
# runs SIMULATED: it computes everything and writes nothing into
# libpython.

# %% Find the folder slug="find" tags=["explore"] watch=[{"expr": "site", "layout": "code", "len": 16, "label": "jump-site", "verify": false}]
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

# %% [markdown] python="<3.14"
# ## A do-nothing optimiser, and the jump to it
#
# `_PyAST_Optimize(mod, arena, state)` returns 1 for success. A ctypes
# callback with the same signature that just returns 1 leaves the tree as
# the parser built it. Keep a reference to it: its machine code lives only
# as long as the Python object `noop`. The permissions printed with its
# address are a story of their own, told in the next step.
#
# The talk wrote `E9 rel32`, a 5-byte jump whose 32-bit offset counts from
# the end of the jump; it reaches only ±2 GiB. A callback mapped further
# away needs the 14-byte form `FF 25 00000000` followed by the absolute
# address: "jump to the address stored right after this instruction". The
# lesson measures the distance and chooses.

# %% [markdown] python=">=3.14"
# ## A do-nothing folder, and the jump to it
#
# `optimize_basic_block(const_cache, bb, consts)` returns 0 (`SUCCESS`)
# when all went well. A ctypes callback with the same signature that just
# returns 0 leaves every block of instructions as the code generator
# emitted it. Keep a reference to it: its machine code lives only as long
# as the Python object `noop`. The permissions printed with its address
# are a story of their own, told in the next step.
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
# ## Who made the callback's page `r-xs`
#
# A ctypes callback needs a few bytes of fresh machine code, and libffi
# first asks the kernel for one page that is writable *and* executable.
# A stock `python3.11` gets it: there the callback sits in an anonymous
# `rwxp` page. This host refuses that request. Before it starts the
# interpreter, the worker installs a seccomp filter (`forbid_wx_mmap` in
# `src/interp.c`) under which an `mmap` asking for write and execute
# permission at once fails with `EPERM`. libffi then falls back to a
# memory file (`memfd`) mapped twice: a writable view it fills in, and an
# executable view, `r-xs`, that the callback's address points into. No
# page it made is writable and executable at once: the rule called W^X,
# "write xor execute", which hardened systems enforce for every process.
#
# The step shows the pieces live: the seccomp mode of this process from
# `/proc/self/status` (2 means a filter), both views of the callback's
# page from `/proc/self/maps`, and an `mmap` of our own that asks for a
# writable and executable page. The filter judges only `mmap`:
# `mprotect`, which the next steps use on libpython's code, passes.
#
# A newer libffi (3.4 and later built with static trampolines, as in
# Debian 13 and forky) asks for no page at all: the callback's address is
# one of many ready-made trampolines in libffi's own code, mapped `r-xp`
# from its library file, and what differs per callback is data on a
# separate writable page. The step says which of the two this machine's
# libffi does.

# %% Who made the page r-xs slug="w-xor-x" tags=["explore"]
import errno

status = dict(line.rstrip("\n").partition(":\t")[::2] for line in open("/proc/self/status"))
print("Seccomp:", status.get("Seccomp"), " Seccomp_filters:", status.get("Seccomp_filters"))

with open("/proc/self/maps") as maps:
    lines = [line.split() for line in maps]
home = next(f for f in lines
            if int(f[0].split("-")[0], 16) <= target < int(f[0].split("-")[1], 16))
# the range, the permissions and the file (its last part) of the mapping
print("noop's page:", home[0], home[1], home[5].rsplit("/", 1)[-1] if len(home) > 5
      else "[anonymous]", *home[6:])
if len(home) > 5 and "memfd" in home[5]:
    for f in lines:                 # the same file, device and offset: another view
        if f[3:5] == home[3:5] and f[2] == home[2] and f != home:
            print("same file:  ", " ".join(f))
elif len(home) > 5 and "libffi" in home[5]:
    print("libffi's own code: a static trampoline, no page was made for this callback")

try:
    wx = mmap.mmap(-1, mmap.PAGESIZE,
                   prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
except OSError as e:
    print("mmap(PROT_READ|PROT_WRITE|PROT_EXEC):", errno.errorcode.get(e.errno), "-", e.strerror)
else:
    wx.close()
    print("mmap(PROT_READ|PROT_WRITE|PROT_EXEC): granted, and closed again")

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
# ## A cache written before
#
# One of the questions after the talk was about `.pyc` files, and the
# answer matters here: a cached file can undo the trick. A `.pyc` is the
# bytecode of a module, cached on disk beside its source (in
# `__pycache__`), and `import` reads it instead of compiling again
# whenever the source has not changed since. Whatever the optimiser did
# when the cache was written is in it for good.
#
# This step writes a small module and caches it now, while the optimiser
# still folds. The host runs with `sys.dont_write_bytecode` set, as the
# talk's test runner did, so `import` itself writes no `.pyc`; the step
# writes one anyway, as `py_compile` would: it compiles the source now and
# writes the code with `marshal`, behind a 16-byte header that stamps the
# source's modification time and size, to the path
# `importlib.util.cache_from_source` names (the calls `py_compile.compile`
# makes underneath, without importing `py_compile` and everything it
# brings). The cached code of `two_plus_two` holds the folded 4.

# %% A cache written before slug="cache-before" tags=["explore"]
import importlib.util, marshal, os, sys
from importlib._bootstrap_external import _code_to_timestamp_pyc

class TemporaryFolder(str):
    """The path of a private folder with a random name, made as
    tempfile.mkdtemp makes it; removed by cleanup(), or when the stage's
    namespace lets go of it, as tempfile.TemporaryDirectory would be."""
    def __new__(cls, prefix):
        while True:
            path = os.path.join(os.environ.get("TMPDIR") or "/tmp",
                                prefix + os.urandom(6).hex())
            try:
                os.mkdir(path, 0o700)
                return super().__new__(cls, path)
            except FileExistsError:
                continue

    os = os      # kept here: the namespace may lose its os first

    def cleanup(self):
        os = self.os
        for parent, _, files in os.walk(self, topdown=False):
            for name in files:
                os.unlink(os.path.join(parent, name))
            os.rmdir(parent)

    __del__ = cleanup

cache_dir = TemporaryFolder("ministry-pyc-")
source = os.path.join(cache_dir, "doublespeak.py")
with open(source, "w") as out:
    out.write("def two_plus_two():\n    return 2 + 2\n")

def write_cache():
    """What py_compile.compile(source) does: compile the source now (with
    whatever optimiser is in place) and write the code after a header that
    stamps the source's mtime and size."""
    with open(source, "rb") as src:
        code = compile(src.read(), source, "exec", dont_inherit=True)
    st = os.stat(source)
    pyc = importlib.util.cache_from_source(source)
    os.makedirs(os.path.dirname(pyc), exist_ok=True)
    with open(pyc, "wb") as out:
        out.write(_code_to_timestamp_pyc(code, st.st_mtime, st.st_size))
    return pyc

def load():
    """Import doublespeak.py afresh, the way import does: its .pyc if valid."""
    spec = importlib.util.spec_from_file_location("doublespeak", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

def cached_code():
    """two_plus_two's code as the .pyc holds it (after its 16-byte header)."""
    with open(importlib.util.cache_from_source(source), "rb") as pyc:
        return marshal.loads(pyc.read()[16:]).co_consts[0]

def cached_consts():
    return cached_code().co_consts

def cached_kind():
    """What the cached code does: from 3.14 the folded 4 is no constant but
    LOAD_SMALL_INT's argument, so co_consts alone cannot tell."""
    import dis
    ops = [i.opname for i in dis.get_instructions(cached_code())]
    return "adds at run time" if "BINARY_OP" in ops else "folded"

print("sys.dont_write_bytecode =", sys.dont_write_bytecode)
pyc = write_cache()
print("wrote", os.path.relpath(pyc, cache_dir))
print("two_plus_two in the cache: co_consts", cached_consts(), "-", cached_kind())

# %% [markdown]
# ## Write the jump
#
# From here on, every call to the folder (`ministry.FOLDER`) lands in the
# no-op. The
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

# %% [markdown] python="<3.14"
# ## Compile with the optimiser off
#
# The host compiles each step just before running it, so this very cell
# was compiled with the jump in place: its `2 + 2` was not folded. `f`
# keeps two `LOAD_CONST 2` and a real `BINARY_OP +`: the addition happens
# every time `f` runs. `test_inline` is the talk's second test, compiled
# the same way, for the finale.

# %% [markdown] python=">=3.14"
# ## Compile with the folder off
#
# The host compiles each step just before running it, so this very cell
# was compiled with the jump in place: its `2 + 2` was not folded. `f`
# keeps two `LOAD_SMALL_INT 2` and a real `BINARY_OP +`: the addition
# happens every time `f` runs. `test_inline` is the talk's second test,
# compiled the same way, for the finale.

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
# ## The cache wins
#
# Now import `doublespeak` with the optimiser off. `import` finds the
# `.pyc` written before the jump went in, sees that the source has not
# changed, and never compiles: its `two_plus_two` holds the folded 4, and
# the `ob_type` swap cannot reach it. "The .pyc trumps it", as the
# speaker put it. `sys.dont_write_bytecode` is no help here: it stops
# Python writing caches, not reading them (the same goes for the
# environment variable `PYTHONDONTWRITEBYTECODE`). The talk's test runner
# set it so that no cache would exist to read in the first place.
#
# Then the step writes the cache again (as `py_compile` would), while the
# jump is in: this time the cached `two_plus_two` keeps its addition.

# %% The cache wins slug="cache-during" tags=["explore"]
module = load()
with ministry.two_plus_two_equals(5):
    inside = module.two_plus_two()
print("imported now: co_consts", module.two_plus_two.__code__.co_consts,
      "- inside the swap two_plus_two() =", inside)
write_cache()
print("rewritten now, the cache holds co_consts", cached_consts(), "-", cached_kind())
if simulated:
    print("SIMULATED: the optimiser ran, so the new cache is folded too")

# %% [markdown] python="<3.14"
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

# %% [markdown] python=">=3.14"
# ## No side effect: negative numbers in `match`
#
# Up to 3.13 the jump went over the whole AST optimiser, and that had a
# side effect worth a step: the parser reads `-1` as `UnaryOp(USub,
# Constant 1)`, the AST optimiser turned it into `Constant(-1)`, and the
# compiler only accepts constants as value patterns, so with the
# optimiser off a `case -1:` no longer compiled. From 3.14 the jump is
# over `optimize_basic_block` only: the AST is still prepared as before
# (the pattern's `-1` included), and the match compiles, as the step shows
# live. Keep the window short all the same: anything compiled meanwhile
# (an import, say) goes without constant folding.

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
#
# The same goes for the cache written while the jump was in. Importing
# `doublespeak` now, with the optimiser back, reads that `.pyc`, and its
# `two_plus_two` adds at run time too: had a real program cached it, it
# would carry the missing fold into every later run. The step deletes the
# folder it wrote.

# %% One function, two answers slug="two-answers" tags=["explore"]
with ministry.two_plus_two_equals(5):
    inside = f()
print("inside the swap: f() =", inside, "   outside: f() =", f())
if simulated:
    print("SIMULATED: f holds a folded 4, so it cannot change its answer")

if "cache_dir" in globals():
    module = load()
    with ministry.two_plus_two_equals(5):
        inside = module.two_plus_two()
    print("doublespeak from its cache: co_consts", module.two_plus_two.__code__.co_consts,
          "- inside the swap", inside, "  outside", module.two_plus_two())
    cache_dir.cleanup()

# %% [markdown]
# ## The finale: the talk's two tests
#
# The talk ended on a test module with two assertions inside its context
# manager. `eval("2 + 2") == 5` passes because `eval` compiles now, and
# the optimiser folds through `PyNumber_Add`, which meets `Int2`. The talk
# said otherwise: that folding did not happen inside `eval`, and that this
# was why `eval` gave 5. The inline `2 + 2 == 5` passes because it was
# compiled while the optimiser was off. After the block, 2 + 2 is 4 again,
# everywhere.

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
# ## Where the talk was wrong
#
# The talk got its trick to work, and most of its story right. Three of
# its explanations were not, and this walkthrough has shown each:
#
# - The peephole optimiser did not look through the abstract syntax tree.
#   It looked at windows of *bytecode*, after the tree had been compiled
#   (stage 6).
# - Folding did happen inside `eval`: `eval` compiles its string, and
#   compiling ran the optimiser. `eval("2 + 2")` gave 5 because the folder
#   computed the sum with `PyNumber_Add`, which met the patched type, as
#   the finale just showed.
# - The int fast path in `BINARY_ADD` was Python 2.7's alone. 3.5's
#   `BINARY_ADD` called `PyNumber_Add` for every int addition; a shortcut
#   came back only with 3.11's specialised `BINARY_OP_ADD_INT` (stage 4).
#
# ## Then and now
#
# The talk's code was tested on Python 2.7 and 3.5. There the target was
# `PyCode_Optimize`, the peephole optimiser, with the same `E9 rel32` jump
# and a no-op that returned the code object it was given. In 3.11 that
# function is already a no-op (stage 6), so the jump has to land on
# `_PyAST_Optimize`, which is not exported. From 3.14 the folding happens
# in the CFG optimiser (`Python/flowgraph.c`), and the jump moves again,
# to `optimize_basic_block`; `ministry.FOLDER` names the target of the
# version you run.
#
# The talk's package, python-doublescript, switched the optimiser off for
# the whole process when the environment variable `DOUBLEPLUSNOPYTHONOPT`
# was set, and its test runner set `sys.dont_write_bytecode` so that no
# stale `.pyc` could bring a folded 4 back. `ministry-tutor --run` honours
# the same variable (or `--no-fold`): the optimiser stays off while the
# script is compiled and run.
#
# A few touches of the package are worth a smile. Its context manager kept
# the answer in a `threading.local`, so although the type swap is seen by
# every thread, only the thread inside the block got 5 for `2 + 2`. It did
# the swap with a smaller context manager, `override_type(obj, new_type)`,
# which its `int2.__add__` also used to turn both operands back into
# plain `int`s for a real addition. And it made its Python 2/3
# compatibility library, `six`, importable as `seven`, "for obvious
# reasons".

# %% Jump bytes of your own [markdown] tags=["exercise"] slug="jump-bytes"
# Compute the bytes of an x86-64 jump, then write one where it can do no
# harm. In your file:
#
# - write `jump(src, dst)`, which returns the bytes of a jump for an
#   instruction at address `src` to address `dst`: the 5-byte
#   `E9 rel32` when `rel32 = dst - (src + 5)` fits a signed 32-bit
#   integer, else the 14-byte `FF 25 00 00 00 00` followed by `dst` as 8
#   little-endian bytes;
# - make a buffer of your own, `buf = ctypes.create_string_buffer(16)`,
#   and write into it the jump that would take code at
#   `ctypes.addressof(buf)` to `Py_GetVersion`
#   (`ctypes.cast(ctypes.pythonapi.Py_GetVersion, ctypes.c_void_p).value`).
#
# `buf` is plain data: nothing runs it and no page permission changes.
# The check tries `jump` on addresses on both sides of the ±2 GiB edge
# and reads your buffer back.

# %% [markdown] tags=["hint"]
# `int.to_bytes(4, "little", signed=True)` gives rel32 its bytes and
# raises `OverflowError` when it does not fit; `struct.pack("<i", rel)`
# does the same with `struct.error`. The range is `-2**31 <= rel < 2**31`.

# %% [markdown] tags=["hint"]
# `ctypes.memmove(ctypes.addressof(buf), code, len(code))` writes the
# bytes; `buf[:len(code)] = code` does too.

# %% tags=["starter"]
# Exercise 7.1: the bytes of a jump, written into a buffer of your own.
# Run `ministry-tutor --exercise 7.1` to have it checked on every save.
import ctypes


def jump(src, dst):
    """The bytes of a jump at src to dst: E9 rel32, or FF 25 00000000 + dst."""
    return b""


buf = ctypes.create_string_buffer(16)

# %% tags=["check"]
import ctypes as _ct
import struct as _st


def _want(src, dst):
    rel = dst - (src + 5)
    if -2**31 <= rel < 2**31:
        return b"\xe9" + _st.pack("<i", rel)
    return b"\xff\x25\x00\x00\x00\x00" + _st.pack("<Q", dst)


assert callable(globals().get("jump")), "define a function jump(src, dst)"
_a = id(jump)                        # a real address, whatever this build gives
_edge = 5 + 2**31
for _src, _dst in ((_a, _a + 0x100), (_a + 0x100, _a), (_a, _a + 5), (_a, _a + _edge - 1),
                   (_a + _edge, _a), (_a, _a + _edge), (_a + _edge + 1, _a)):
    _got = jump(_src, _dst)
    _w = _want(_src, _dst)
    assert isinstance(_got, (bytes, bytearray)), (
        f"jump({_src:#x}, {_dst:#x}) returned a {type(_got).__name__}, not bytes")
    assert bytes(_got) == _w, (f"jump({_src:#x}, {_dst:#x}) gave {bytes(_got).hex(' ') or 'nothing'}, "
                               f"not {_w.hex(' ')}")
assert isinstance(globals().get("buf"), _ct.Array), (
    "make buf = ctypes.create_string_buffer(16) and write the jump into it")
_target = _ct.cast(_ct.pythonapi.Py_GetVersion, _ct.c_void_p).value
_w = _want(_ct.addressof(buf), _target)
_got = _ct.string_at(_ct.addressof(buf), len(_w))
assert _got == _w, (f"jump() is right, but buf starts with {_got.hex(' ')}, not the jump "
                    f"from buf to Py_GetVersion, {_w.hex(' ')}")

# %% A page of your own [markdown] tags=["exercise"] slug="own-page"
# Make a function out of six bytes, the way libffi makes a callback and
# this stage wrote its jump: on a page whose permissions you set, and
# never writable and executable at once. Write two functions in your
# file:
#
# - `make_answer()` maps a page of its own, writes into it the machine
#   code of a C function that returns 42, makes the page readable and
#   executable (and no longer writable), and returns a ctypes function
#   for that address: `ctypes.CFUNCTYPE(ctypes.c_int)(address)`;
# - `drop()` unmaps the page again.
#
# The check calls `make_answer()`, reads the page's permissions from
# `/proc/self/maps` (`ministry.perms`) before it dares to call your
# function, calls it, calls `drop()`, and wants the page gone. The host's
# guard then looks for any mapping left writable and executable.

# %% [markdown] tags=["hint"]
# `mov eax, 42` then `ret` is `b8 2a 00 00 00 c3`: the C calling
# convention returns an `int` in `eax`.

# %% [markdown] tags=["hint"]
# Call the C library through ctypes: `libc = ctypes.CDLL(None)`, and set
# `libc.mmap.restype = ctypes.c_void_p` (and its `argtypes`) so that the
# address is not cut to 32 bits. Map with `mmap.PROT_READ | mmap.PROT_WRITE`
# and `mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS`; the worker refuses a
# mapping that asks for write and execute at once.

# %% [markdown] tags=["hint"]
# After `ctypes.memmove`, `libc.mprotect(page, mmap.PAGESIZE,
# mmap.PROT_READ | mmap.PROT_EXEC)`; `drop()` is `libc.munmap(page,
# mmap.PAGESIZE)`. Keep `page` in a global.

# %% tags=["starter"]
# Exercise 7.2: a function of six bytes, on a page of your own, never W+X.
# Run `ministry-tutor --exercise 7.2` to have it checked on every save.
import ctypes
import mmap


def make_answer():
    """Map a page, write a function returning 42, make it r-x; return a ctypes function."""


def drop():
    """Unmap the page."""

# %% tags=["check"]
import ctypes as _ct

import ministry as _ministry

for _name in ("make_answer", "drop"):
    assert callable(globals().get(_name)), f"define a function {_name}()"
_f = make_answer()
assert isinstance(_f, _ct._CFuncPtr), (
    f"make_answer() returned {type(_f).__name__}, not a ctypes function: "
    "ctypes.CFUNCTYPE(ctypes.c_int)(address)")
_addr = _ct.cast(_f, _ct.c_void_p).value
_perms = _ministry.perms(_addr)
assert _perms != "----", f"make_answer()'s function at {_addr:#x} is not in any mapping"
assert "w" not in _perms, (f"the page of your function is {_perms}: writable and executable "
                           "at once; take write away once the bytes are in")
assert "x" in _perms, f"the page of your function is {_perms}: calling it would crash"
_got = _f()
assert _got == 42, f"your function returned {_got}, not 42"
drop()
_perms = _ministry.perms(_addr)
assert _perms == "----", f"it returned 42, but after drop() its page is still mapped ({_perms})"
