# reference.py — the seven patches of "2 + 2 = 5" as one bare ctypes script.
#
# This is the benchmark's yardstick: what a speaker could run with nothing
# but CPython (3.11 or newer) and ctypes, no host, no worker, no dumps.  It
# applies the talk's seven patches as the lessons do and puts everything
# back, printing values and dis listings.  Run it with
# build/bench/embed_ref-3.X, linked with the same libpython3.X as that
# version's worker.
#
# It also runs the demonstrations the lessons grew since it was first
# written (it used to make the seven patches and print little else), the
# same experiments done bare, so that it is again "the same patches and
# demonstrations without the tool" (see bench/ANALYSIS.md):
#   1  2's starting ob_refcnt read from the library file it lives in;
#      2 in the code object's co_consts;
#   2  the refused writes; the mapping as gc finds it and through
#      PyDict_SetItem; the warm method_add/class_add witnesses, and after
#      PyType_Modified how many calls miss before each lookup
#      de-specialises (the opcode byte of the live adaptive code watched
#      after every call); Loyal before and after Loyal.__add__ = ...;
#   3  long_add called through its slot, a reflected __radd__, a function
#      warmed to BINARY_OP_ADD_INT while nb_add is swapped;
#   4  co_code decoded unit by unit and found in the code object's own
#      memory; the cold and warm adaptive code; the exact-int checks of
#      BINARY_OP_ADD_INT, misses counted for an int subclass on the left
#      and a bool on the right;
#   5  where a Loose int would keep its __dict__; the trap (getsizeof and
#      gc.is_tracked of 2 dressed as the class-statement Int2, __class__
#      refused with int mutable) and the cure: a copy of int's type object
#      built with ctypes and PyType_Ready, which every ob_type swap here
#      uses; add() 1000 times, three full collections with 2 in a
#      thousand lists and a fresh compile during the swap;
#   6  the AST compiled by hand, f() inside the swap, PyCode_Optimize
#      called;
#   7  W^X: Seccomp, the callback's page in /proc/self/maps, an RWX mmap
#      asked for; the .pyc experiment (cached before the jump, imported and
#      rewritten during it, imported after), written as py_compile writes
#      it; `case -1` compiled with the optimiser off.
import ast
import ctypes
import dis
import struct
import sys

libc = ctypes.CDLL(None, use_errno=True)
api = ctypes.pythonapi


def banner(n, slug):
    print()
    print("== stage %d: %s ==" % (n, slug))


# ---- the C structures, declared as the talk declares them -----------------

class PyObject(ctypes.Structure):
    _fields_ = [("ob_refcnt", ctypes.c_ssize_t),
                ("ob_type", ctypes.c_void_p)]


class PyLongObject(ctypes.Structure):
    _fields_ = [("ob_refcnt", ctypes.c_ssize_t),
                ("ob_type", ctypes.c_void_p),
                ("ob_size", ctypes.c_ssize_t),
                ("ob_digit", ctypes.c_uint32 * 1)]


class MappingProxy(ctypes.Structure):
    _fields_ = [("ob_refcnt", ctypes.c_ssize_t),
                ("ob_type", ctypes.c_void_p),
                ("mapping", ctypes.py_object)]


binaryfunc = ctypes.CFUNCTYPE(ctypes.py_object, ctypes.py_object,
                              ctypes.py_object)


class PyNumberMethods(ctypes.Structure):
    _fields_ = [("nb_add", ctypes.c_void_p),
                ("nb_subtract", ctypes.c_void_p),
                ("nb_multiply", ctypes.c_void_p)]


class PyTypeObject(ctypes.Structure):
    _fields_ = [("ob_refcnt", ctypes.c_ssize_t),
                ("ob_type", ctypes.c_void_p),
                ("ob_size", ctypes.c_ssize_t),
                ("tp_name", ctypes.c_char_p),
                ("tp_basicsize", ctypes.c_ssize_t),
                ("tp_itemsize", ctypes.c_ssize_t),
                ("tp_dealloc", ctypes.c_void_p),
                ("tp_vectorcall_offset", ctypes.c_ssize_t),
                ("tp_getattr", ctypes.c_void_p),
                ("tp_setattr", ctypes.c_void_p),
                ("tp_as_async", ctypes.c_void_p),
                ("tp_repr", ctypes.c_void_p),
                ("tp_as_number", ctypes.POINTER(PyNumberMethods))]


# ---- symbols, the bare way: our own ELF reading of the debug file ----------

def maps_line(addr):
    """The /proc/self/maps line holding addr."""
    with open("/proc/self/maps") as f:
        for line in f:
            lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
            if lo <= addr < hi:
                return line.rstrip("\n")
    return "?"


def holder(addr):
    """(path, lowest mapped address) of the file mapped at addr."""
    path = maps_line(addr).split(None, 5)[5]
    low = None
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) == 6 and parts[5].rstrip("\n") == path:
                lo = int(parts[0].split("-")[0], 16)
                low = lo if low is None else min(low, lo)
    return path, low


def load_bias(path, low):
    """What to add to the file's addresses: where its first PT_LOAD landed
    minus where the file asked for it (0 for a fixed-address executable)."""
    with open(path, "rb") as f:
        eh = f.read(64)
        phoff, = struct.unpack_from("<Q", eh, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", eh, 0x36)
        f.seek(phoff)
        raw = f.read(phentsize * phnum)
    vaddrs = [struct.unpack_from("<IIQQ", raw, i * phentsize)[3]
              for i in range(phnum)
              if struct.unpack_from("<I", raw, i * phentsize)[0] == 1]
    return low - (min(vaddrs) & ~(PAGE - 1))


def sections(f):
    """[(name, type, offset, size, link)] of an ELF64 little-endian file,
    in section-index order."""
    f.seek(0)
    eh = f.read(64)
    if eh[:4] != b"\x7fELF" or eh[4] != 2:
        raise ValueError("not an ELF64 file")
    shoff, = struct.unpack_from("<Q", eh, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", eh, 0x3A)
    f.seek(shoff)
    raw = f.read(shentsize * shnum)
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", raw, i * shentsize)
            for i in range(shnum)]
    f.seek(hdrs[shstrndx][4])
    names = f.read(hdrs[shstrndx][5])
    return [(names[h[0]:names.index(b"\0", h[0])].decode(), h[1], h[4], h[5], h[6])
            for h in hdrs]


def section(secs, name):
    for s in secs:
        if s[0] == name:
            return s
    raise KeyError(name)


def build_id(path):
    with open(path, "rb") as f:
        _, _, off, size, _ = section(sections(f), ".note.gnu.build-id")
        f.seek(off)
        note = f.read(size)
    namesz, descsz, _ = struct.unpack_from("<III", note)
    start = 12 + ((namesz + 3) & ~3)
    return note[start:start + descsz].hex()


class DebugSymbols:
    """FUNC/OBJECT symbols of the detached debug file of the library at
    `path`, found by its build-id."""

    def __init__(self, path, base):
        bid = build_id(path)
        self.path = "/usr/lib/debug/.build-id/%s/%s.debug" % (bid[:2], bid[2:])
        self.base = base
        with open(self.path, "rb") as f:
            secs = sections(f)
            _, _, off, size, link = section(secs, ".symtab")
            f.seek(off)
            symtab = f.read(size)
            _, _, soff, ssize, _ = secs[link]
            f.seek(soff)
            self.strtab = f.read(ssize)
        self.syms = [s for s in struct.iter_unpack("<IBBHQQ", symtab)
                     if s[1] & 0xF in (1, 2) and s[4] != 0]

    def name_of(self, st_name):
        return self.strtab[st_name:self.strtab.index(b"\0", st_name)].decode()

    def lookup(self, name):
        """Address of name (or of a compiler-suffixed name.xxx)."""
        key = name.encode()
        starts = set()
        for end in (b"\0", b"."):
            i = self.strtab.find(key + end)
            while i >= 0:
                starts.add(i)
                i = self.strtab.find(key + end, i + 1)
        best = None
        for s in self.syms:
            if s[0] in starts:
                full = self.name_of(s[0])
                if full == name:
                    return self.base + s[4]
                if ".cold" not in full and ".part" not in full:
                    best = s   # long_add.lto_priv.0, not a split-off piece
        if best is None:
            raise KeyError(name)
        return self.base + best[4]

    def name_at(self, addr):
        rel = addr - self.base
        for s in self.syms:
            if s[4] == rel:
                return self.name_of(s[0]).split(".")[0]
        return hex(addr)


PAGE = libc.getpagesize()
LIBPY, _low = holder(ctypes.cast(api.Py_IncRef, ctypes.c_void_p).value)
LIBPY_BASE = load_bias(LIBPY, _low)
_symbols = None


def symbols():
    global _symbols
    if _symbols is None:
        _symbols = DebugSymbols(LIBPY, LIBPY_BASE)
    return _symbols


def hexbytes(addr, n):
    return " ".join("%02x" % b for b in ctypes.string_at(addr, n))


# ---- stage 1: refcount --------------------------------------------------------

banner(1, "refcount")
two = 2
print("id(2)              =", hex(id(two)))
print("sys.getrefcount(2) =", sys.getrefcount(2))
obj = PyLongObject.from_address(id(2))
print("ob_refcnt   =", obj.ob_refcnt)
print("ob_type     =", hex(obj.ob_type), "is int:", obj.ob_type == id(int))
print("ob_size     =", obj.ob_size)
print("ob_digit[0] =", obj.ob_digit[0])
before = obj.ob_refcnt
twos = [2] * 1000
print("ob_refcnt went from", before, "to", obj.ob_refcnt,
      "(+%d)" % (obj.ob_refcnt - before))
print("this code object holds 2 in its co_consts:",
      2 in sys._getframe().f_code.co_consts)
before = obj.ob_refcnt
del twos
print("ob_refcnt went from", before, "to", obj.ob_refcnt,
      "(%d)" % (obj.ob_refcnt - before))
print("sys.getrefcount(2) =", sys.getrefcount(2))
fields = maps_line(id(2)).split()
if len(fields) > 5 and fields[5].startswith("/"):
    with open(fields[5], "rb") as f:
        f.seek(int(fields[2], 16) + id(2) - int(fields[0].split("-")[0], 16))
        raw = f.read(ctypes.sizeof(ctypes.c_ssize_t))
    start = int.from_bytes(raw, sys.byteorder, signed=True)
    live = int.from_bytes(ctypes.string_at(ctypes.addressof(obj), len(raw)),
                          sys.byteorder, signed=True)
    print("2 lives in", fields[5], "- the file holds ob_refcnt", start,
          " live", live, " held now", live - start)
else:
    print("2 is not in a file-backed mapping: no starting count to read")

# ---- stage 2: dictproxy -------------------------------------------------------

banner(2, "dictproxy")
for attempt in ("int.__add__ = lambda a, b: 5",
                "int.__dict__['__add__'] = lambda a, b: 5"):
    try:
        exec(attempt)
    except TypeError as e:
        print(attempt.split(" =")[0], "->", e)
proxy = int.__dict__
print("type(int.__dict__) =", type(proxy).__name__,
      "at", hex(id(proxy)), "size", ctypes.sizeof(MappingProxy))
real = MappingProxy.from_address(id(proxy)).mapping
print("mapping ->", type(real).__name__, "at", hex(id(real)),
      "with", len(real), "entries")
import gc
print("same as gc finds:", real is gc.get_referents(proxy)[0])
namespace = {}      # forbiddenfruit's way, as the talk used it
api.PyDict_SetItem(ctypes.py_object(namespace), ctypes.py_object("int"),
                   ctypes.py_object(real))
print("PyDict_SetItem into a temporary dict finds the same:", namespace.pop("int") is real)
saved_add = real["__add__"]
print("int.__dict__['__add__'] =", saved_add)


def method_add(x, y):
    return x.__add__(y)


def class_add(x, y):
    return int.__add__(x, y)


for i in range(200):
    method_add(i, 1), class_add(i, 1)
for fn in (method_add, class_add):
    print(fn.__name__, "->", [i.opname for i in dis.get_instructions(fn, adaptive=True)
                              if "METHOD" in i.opname])


def lookup_of(fn, name):
    return next((i.opname, i.offset) for i in dis.get_instructions(fn, adaptive=True)
                if i.argval == name or (name is None and i.opname.startswith("BINARY_OP")))


def opcode_at(fn, offset):
    return fn.__code__._co_code_adaptive[offset]


def count_misses(fn, at, args):
    op, misses, answers = opcode_at(fn, at), 0, set()
    while opcode_at(fn, at) == op and misses < 1000:
        answers.add(fn(*args))
        misses += 1
    return misses, answers


def doctored_add(a, b):
    if a == 2 and b == 2:
        return 5
    return saved_add(a, b)


real["__add__"] = doctored_add
print("before PyType_Modified: method_add(2, 2) =", method_add(2, 2),
      " class_add(2, 2) =", class_add(2, 2))
api.PyType_Modified(ctypes.py_object(int))
print("int.__add__(2, 2) =", int.__add__(2, 2))
for fn in (method_add, class_add):
    warm, at = lookup_of(fn, "__add__")
    misses, answers = count_misses(fn, at, (2, 2))
    if misses < 1000:
        missed = lookup_of(fn, "__add__")[0]
        calls, more = count_misses(fn, at, (2, 2))
        answers |= more
        print(fn.__name__, answers, warm, "missed", misses, "times, became",
              missed, "and", calls, "calls later", lookup_of(fn, "__add__")[0])
    else:
        print(fn.__name__, answers, warm, "kept its opcode through 1000 calls")
print("2 + 2             =", two + two)


class Loyal(int):
    pass


print("Loyal(2) + Loyal(2) =", Loyal(2) + Loyal(2))
Loyal.__add__ = doctored_add      # type.__setattr__: dict and slot
print("after Loyal.__add__ = ...: Loyal(2) + Loyal(2) =", Loyal(2) + Loyal(2))
real["__add__"] = saved_add
api.PyType_Modified(ctypes.py_object(int))
print("restored: int.__add__(2, 2) =", int.__add__(2, 2))

# ---- stage 3: tp-as-number ----------------------------------------------------

banner(3, "tp-as-number")
tp = PyTypeObject.from_address(id(int))
print("int's PyTypeObject at", hex(id(int)), "tp_name", tp.tp_name.decode())
print("tp_as_number at +%d ->" % PyTypeObject.tp_as_number.offset,
      hex(ctypes.cast(tp.tp_as_number, ctypes.c_void_p).value))
nb = tp.tp_as_number.contents
orig_addr = nb.nb_add
print("nb_add =", hex(orig_addr), "=", symbols().name_at(orig_addr))
orig_add = binaryfunc(orig_addr)
print("tp_repr =", symbols().name_at(tp.tp_repr), " exported?",
      hasattr(api, "long_add"))
print("long_add(2, 2) =", orig_add(2, 2), " long_add(2, 0.5) =", orig_add(2, 0.5))


class Right(int):
    def __radd__(self, other):
        return "Right.__radd__(%d, %s) was asked first" % (int(self), other)


print("3 + Right(2) =", 3 + Right(2))


@binaryfunc
def nb_add_five(a, b):
    if type(a) is int and type(b) is int and a == 2 and b == 2:
        return 5
    return orig_add(a, b)


new_addr = ctypes.cast(nb_add_five, ctypes.c_void_p).value
nb.nb_add = new_addr
try:
    r = eval("two + two")
    s = eval("two + 40")

    def add3(a, b):
        return a + b

    for i in range(100):
        add3(i, 1)
    warm3 = [i.opname for i in dis.get_instructions(add3, adaptive=True)
             if i.opname.startswith("BINARY")]
    r3 = add3(two, two), eval("2 + 2"), eval("2 + 3"), eval("two + 0.5")
finally:
    nb.nb_add = orig_addr
print("nb_add swapped for", hex(new_addr))
print("eval('two + two') =", r, "  eval('two + 40') =", s)
print("warm add:", warm3, " add(two, two), 2 + 2, 2 + 3, two + 0.5 =", r3)
print("restored: nb_add =", hex(nb.nb_add), " two + two =", eval("two + two"))

# ---- stage 4: dis --------------------------------------------------------------

banner(4, "dis")
code_names = compile("two + two", "<stage4>", "eval")
dis.dis(code_names)
code_consts = compile("2 + 2", "<stage4>", "eval")
dis.dis(code_consts)
print("co_code of 'two + two':", code_names.co_code.hex(" "))
print("co_code of '2 + 2':    ", code_consts.co_code.hex(" "))
raw = code_names.co_code
for offset in range(0, len(raw), 2):
    print("  +%-3d %3d %3d  %s" % (offset, raw[offset], raw[offset + 1], dis.opname[raw[offset]]))
start = type(code_names).__basicsize__
word = ctypes.sizeof(ctypes.c_void_p)
units = ctypes.c_ssize_t.from_address(id(code_names) + 2 * word).value
print("bytes at id(code) +", start, ":", hexbytes(id(code_names) + start, len(raw)),
      " ob_size", units, "=", start + units * type(code_names).__itemsize__, "bytes")


def add(a, b):
    return a + b


dis.dis(add, adaptive=True)
cold = add.__code__._co_code_adaptive
for _ in range(100):
    add(2, 2)
dis.dis(add, adaptive=True)
print("co_code_adaptive:", cold.hex(" "), "->", add.__code__._co_code_adaptive.hex(" "))


class Comrade(int):
    def __add__(self, other):
        return 5


for a, b in ((Comrade(2), 2), (2, True)):
    calls, at = 0, lookup_of(add, None)[1]
    while lookup_of(add, None)[0] != "BINARY_OP_ADD_INT" and calls < 1000:
        op = opcode_at(add, at)
        while opcode_at(add, at) == op and calls < 1000:
            add(calls, 1)
            calls += 1
    warm = lookup_of(add, None)[0]
    misses, answers = count_misses(add, at, (a, b))
    print("add(%r, %r) = %s: %s became %s after %d misses"
          % (a, b, answers, warm, lookup_of(add, None)[0], misses))

# ---- stage 5: ob-type ----------------------------------------------------------

banner(5, "ob-type")


class Int2(int):
    __slots__ = ()

    def __add__(self, other):
        if self == 2 and other == 2:
            return 5
        return int.__add__(self, other)

    __radd__ = __add__


head = PyObject.from_address(id(2))
print("ob_type of 2 =", hex(head.ob_type), "id(int) =", hex(id(int)))

import gc

P, N = ctypes.c_void_p, ctypes.c_ssize_t


class FullType(ctypes.Structure):     # Include/cpython/object.h, up to tp_free
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


class Loose(int):
    pass


for t in (int, Int2, Loose):
    print(t.__name__, "basicsize", t.__basicsize__, "itemsize", t.__itemsize__,
          "dictoffset", t.__dictoffset__)
size = Loose.__basicsize__ + Loose.__itemsize__
size = (size + ctypes.sizeof(ctypes.c_void_p) - 1) // 8 * 8
print("as a Loose, 2 would keep its __dict__ pointer at id(3) +",
      id(2) + size + Loose.__dictoffset__ - id(3))

HAVE_GC, IMMUTABLETYPE = 1 << 14, 1 << 8
int_fields = FullType.from_address(id(int))
for t in (int, Int2):
    c = FullType.from_address(id(t))
    print(t.__name__, "HAVE_GC", bool(c.tp_flags & HAVE_GC), "size",
          c.tp_basicsize, "+", c.tp_itemsize, " tp_dealloc",
          symbols().name_at(c.tp_dealloc), " tp_free", symbols().name_at(c.tp_free))
pristine = sys.getsizeof(2), gc.is_tracked(2)
gc.disable()
try:
    head.ob_type = id(Int2)
    trapped = sys.getsizeof(2), gc.is_tracked(2)
finally:
    head.ob_type = id(int)
    gc.enable()
print("as an int", pristine, " as an Int2", trapped, " the 'GC header':",
      hexbytes(id(2) - 16, 16))
victim = int("12345678901234567890")
int_fields.tp_flags &= ~IMMUTABLETYPE
try:
    victim.__class__ = Int2
    verdict = "accepted"
    victim.__class__ = int
except TypeError as e:
    verdict = "TypeError: %s" % e
finally:
    int_fields.tp_flags |= IMMUTABLETYPE
print("with int mutable, x.__class__ = Int2 ->", verdict)

# The cure: a copy of int's type object, made with ctypes and PyType_Ready.
RUNTIME_FLAGS = (1 << 12) | (1 << 13) | (1 << 19)
if sys.version_info >= (3, 12):
    RUNTIME_FLAGS |= 1 << 1
pybinary = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.py_object, ctypes.py_object)
int_add = pybinary((ctypes.c_void_p * 36).from_address(int_fields.tp_as_number)[0])


@pybinary
def int2_add(a, b):
    if type(a) in (int, int2) and type(b) in (int, int2) and a == 2 and b == 2:
        return 5
    return int_add(a, b)


memory = ctypes.create_string_buffer(type.__basicsize__)
tname = ctypes.create_string_buffer(b"int2")
numbers = (ctypes.c_void_p * 36)(ctypes.cast(int2_add, ctypes.c_void_p).value)
c = FullType.from_buffer(memory)
c.ob_refcnt, c.ob_type = 1, id(type)
c.tp_name = ctypes.cast(tname, ctypes.c_char_p)
for fld in ("tp_basicsize", "tp_itemsize", "tp_dealloc", "tp_alloc", "tp_free"):
    setattr(c, fld, getattr(int_fields, fld))
c.tp_flags = int_fields.tp_flags & ~RUNTIME_FLAGS
c.tp_base = id(int)
c.tp_as_number = ctypes.addressof(numbers)
if api.PyType_Ready(ctypes.c_void_p(ctypes.addressof(memory))) < 0:
    raise RuntimeError("PyType_Ready refused the copy of int")
int2 = ctypes.cast(ctypes.addressof(memory), ctypes.py_object).value
keep_for_ever = [memory, tname, numbers, int2_add, int_add]
api.Py_IncRef(ctypes.py_object(keep_for_ever))
print("int2(2) + int2(2) =", int2(2) + int2(2), "  int2(2) + 3 =", int2(2) + 3)
int2_fields = FullType.from_address(id(int2))
int_fields.tp_flags &= ~IMMUTABLETYPE
int2_fields.tp_flags &= ~IMMUTABLETYPE
try:
    victim.__class__ = int2
    accepted = type(victim).__name__
    victim.__class__ = int
finally:
    int_fields.tp_flags |= IMMUTABLETYPE
    int2_fields.tp_flags |= IMMUTABLETYPE
print("with both mutable, x.__class__ = int2 -> accepted, type(x) was", accepted)

def before():
    return 2 + 2


def loads(code):
    return [i.argval for i in dis.get_instructions(code)
            if i.opname.startswith(("LOAD", "RETURN_CONST"))]


for _ in range(100):
    add(two, two)
head.ob_type = id(int2)
try:
    r1 = two + two
    r2 = eval("2 + 2")
    during = head.ob_type
    results = {add(two, two) for _ in range(1000)}
    held = [[2, i] for i in range(1000)]
    runs = sum(gc.collect() >= 0 for _ in range(3))
    del held
    sizes = sys.getsizeof(2), gc.is_tracked(2)
    fresh = compile("2 + 2", "<fresh>", "eval")
    r4 = eval(fresh), fresh.co_consts, loads(fresh), before(), loads(before)
finally:
    head.ob_type = id(int)
print("during the swap: ob_type =", hex(during), "id(int2) =", hex(id(int2)),
      " getsizeof, is_tracked:", sizes)
print("add(two, two) 1000 times:", results, " gc.collect() x", runs)
print("fresh 2 + 2, its consts and loads; before() and its loads:", r4)
print("two + two =", r1, "  eval('2 + 2') =", r2)
print("restored: type(2) is int:", type(2) is int, "  2 + 2 =", two + two)

# ---- stage 6: fold -------------------------------------------------------------

banner(6, "fold")


def f():
    return 2 + 2


print("f.__code__.co_consts =", f.__code__.co_consts)
dis.dis(f)
print(ast.dump(ast.parse("2 + 2", mode="eval"), indent=2))
tree = ast.parse("def f():\n    return 2 + 2")
inner = compile(tree, "<tree>", "exec").co_consts[0]
print("the tree compiled: co_consts", inner.co_consts, " BINARY_OP in it:",
      "BINARY_OP" in [i.opname for i in dis.get_instructions(inner)])
head.ob_type = id(int2)
try:
    inside = f()
finally:
    head.ob_type = id(int)
print("inside the swap: f() =", inside)
stub = ctypes.cast(api.PyCode_Optimize, ctypes.c_void_p).value
print("PyCode_Optimize at", hex(stub), symbols().name_at(stub))
print("first bytes:", hexbytes(stub, 16))
PyCode_Optimize = api.PyCode_Optimize
PyCode_Optimize.restype = ctypes.py_object
PyCode_Optimize.argtypes = [ctypes.py_object] * 4
print("PyCode_Optimize(f.__code__, ...) is f.__code__:",
      PyCode_Optimize(f.__code__, (), (), b"") is f.__code__)

# ---- stage 7: trampoline -------------------------------------------------------

banner(7, "trampoline")
PROT_READ, PROT_WRITE, PROT_EXEC = 1, 2, 4
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]

# Where 2 + 2 is folded, and what success is there: the AST optimiser up to
# 3.13 (1), the CFG optimiser's optimize_basic_block from 3.14 (0).  Both
# take three pointers.
if sys.version_info >= (3, 14):
    FOLDER, NOOP_RESULT = "optimize_basic_block", 0
else:
    FOLDER, NOOP_RESULT = "_PyAST_Optimize", 1
target = symbols().lookup(FOLDER)
print(FOLDER, "at", hex(target), "in", symbols().path)
optimize_off = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
                                ctypes.c_void_p)(lambda a, b, c: NOOP_RESULT)
dest = ctypes.cast(optimize_off, ctypes.c_void_p).value
rel = dest - (target + 5)
if -2 ** 31 <= rel < 2 ** 31:
    jump = b"\xe9" + struct.pack("<i", rel)
else:
    jump = b"\xff\x25\x00\x00\x00\x00" + struct.pack("<Q", dest)
page = target & ~(PAGE - 1)
span = (target + len(jump) - page + PAGE - 1) & ~(PAGE - 1)
saved_bytes = ctypes.string_at(target, len(jump))


def protect(prot):
    if libc.mprotect(page, span, prot) != 0:
        raise OSError(ctypes.get_errno(), "mprotect")


# W^X: who made the callback's page, and may a page be writable and
# executable at once.
import errno
import mmap
import os
import importlib.util
import marshal
from importlib._bootstrap_external import _code_to_timestamp_pyc

status = dict(line.rstrip("\n").partition(":\t")[::2] for line in open("/proc/self/status"))
print("Seccomp:", status.get("Seccomp"), " Seccomp_filters:", status.get("Seccomp_filters"))
with open("/proc/self/maps") as maps:
    lines = [line.split() for line in maps]
home = next(fl for fl in lines
            if int(fl[0].split("-")[0], 16) <= dest < int(fl[0].split("-")[1], 16))
print("the no-op's page:", " ".join(home))
if len(home) > 5 and "memfd" in home[5]:
    for fl in lines:
        if fl[3:5] == home[3:5] and fl[2] == home[2] and fl != home:
            print("same file:", " ".join(fl))
try:
    wx = mmap.mmap(-1, mmap.PAGESIZE,
                   prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
except OSError as e:
    print("mmap(RWX):", errno.errorcode.get(e.errno), e.strerror)
else:
    wx.close()
    print("mmap(RWX): granted, and closed again")

# The .pyc experiment: a module cached while the optimiser folds.
while True:
    cache_dir = os.path.join(os.environ.get("TMPDIR") or "/tmp",
                             "ref-pyc-" + os.urandom(6).hex())
    try:
        os.mkdir(cache_dir, 0o700)
        break
    except FileExistsError:
        continue
source = os.path.join(cache_dir, "doublespeak.py")
with open(source, "w") as out:
    out.write("def two_plus_two():\n    return 2 + 2\n")
pyc_path = importlib.util.cache_from_source(source)


def write_cache():
    with open(source, "rb") as src:
        code = compile(src.read(), source, "exec", dont_inherit=True)
    st = os.stat(source)
    os.makedirs(os.path.dirname(pyc_path), exist_ok=True)
    with open(pyc_path, "wb") as out:
        out.write(_code_to_timestamp_pyc(code, st.st_mtime, st.st_size))


def load():
    spec = importlib.util.spec_from_file_location("doublespeak", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cached():
    with open(pyc_path, "rb") as pyc:
        code = marshal.loads(pyc.read()[16:]).co_consts[0]
    ops = [i.opname for i in dis.get_instructions(code)]
    return code.co_consts, "adds at run time" if "BINARY_OP" in ops else "folded"


def with_int2(fn):
    head.ob_type = id(int2)
    try:
        return fn()
    finally:
        head.ob_type = id(int)


print("sys.dont_write_bytecode =", sys.dont_write_bytecode)
write_cache()
print("cached before:", os.path.relpath(pyc_path, cache_dir), cached())

print("before:", hexbytes(target, 16))
print("       ", maps_line(target))
protect(PROT_READ | PROT_WRITE | PROT_EXEC)
try:
    ctypes.memmove(target, jump, len(jump))
    print("during:", hexbytes(target, 16))
    print("       ", maps_line(target))
    unfolded = compile("def f():\n    return 2 + 2\n", "<stage7>", "exec")
    match_src = "def sign(x):\n    match x:\n        case -1:\n            return 'minus one'\n"
    print(ast.dump(ast.parse(match_src).body[0].body[0].cases[0].pattern))
    try:
        compile(match_src, "<match>", "exec")
        print("case -1 compiled")
    except SyntaxError as e:
        print("SyntaxError:", e.msg)
    module = load()
    print("imported during:", module.two_plus_two.__code__.co_consts,
          "inside the swap", with_int2(module.two_plus_two))
    write_cache()
    print("rewritten during:", cached())
finally:
    ctypes.memmove(target, saved_bytes, len(saved_bytes))
    protect(PROT_READ | PROT_EXEC)
print("after: ", hexbytes(target, 16))
print("       ", maps_line(target))
ns = {}
exec(unfolded, ns)
g = ns["f"]
dis.dis(g)
print("co_consts =", g.__code__.co_consts)

head.ob_type = id(int2)
try:
    inside = g()
finally:
    head.ob_type = id(int)
print("inside the ob_type swap f() =", inside, "  outside f() =", g())
module = load()
print("doublespeak from its cache:", module.two_plus_two.__code__.co_consts,
      "inside the swap", with_int2(module.two_plus_two), " outside", module.two_plus_two())
for parent, _, files in os.walk(cache_dir, topdown=False):
    for name in files:
        os.unlink(os.path.join(parent, name))
    os.rmdir(parent)

# The finale: the talk's own two tests, then the world as it was.
protect(PROT_READ | PROT_WRITE | PROT_EXEC)
try:
    ctypes.memmove(target, jump, len(jump))
    tests = compile("e = eval('2 + 2') == 5\ni = 2 + 2 == 5\n", "<finale>", "exec")
    head.ob_type = id(int2)
    try:
        fin = {}
        exec(tests, fin)
    finally:
        head.ob_type = id(int)
finally:
    ctypes.memmove(target, saved_bytes, len(saved_bytes))
    protect(PROT_READ | PROT_EXEC)
print("eval('2 + 2') == 5:", fin["e"], "  2 + 2 == 5:", fin["i"])
print("and after it: 2 + 2 == 4:", eval("2 + 2") == 4,
      " bytes restored:", ctypes.string_at(target, len(jump)) == saved_bytes)
