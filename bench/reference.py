# reference.py — the seven patches of "2 + 2 = 5" as one bare ctypes script.
#
# This is the benchmark's yardstick: what a speaker could run with nothing
# but CPython (3.11 or newer) and ctypes, no host, no worker, no dumps.  It
# applies the talk's seven patches as the lessons do and puts everything
# back; it prints values and dis listings, but does not repeat the lessons'
# other demonstrations (see bench/ANALYSIS.md).  Run it with
# build/bench/embed_ref-3.X, linked with the same libpython3.X as that
# version's worker.
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
before = obj.ob_refcnt
del twos
print("ob_refcnt went from", before, "to", obj.ob_refcnt,
      "(%d)" % (obj.ob_refcnt - before))
print("ob_refcnt - 10**9 =", obj.ob_refcnt - 10 ** 9)

# ---- stage 2: dictproxy -------------------------------------------------------

banner(2, "dictproxy")
proxy = int.__dict__
print("type(int.__dict__) =", type(proxy).__name__,
      "at", hex(id(proxy)), "size", ctypes.sizeof(MappingProxy))
real = MappingProxy.from_address(id(proxy)).mapping
print("mapping ->", type(real).__name__, "at", hex(id(real)),
      "with", len(real), "entries")
saved_add = real["__add__"]
print("int.__dict__['__add__'] =", saved_add)


def doctored_add(a, b):
    if a == 2 and b == 2:
        return 5
    return saved_add(a, b)


real["__add__"] = doctored_add
api.PyType_Modified(ctypes.py_object(int))
print("int.__add__(2, 2) =", int.__add__(2, 2))
print("2 + 2             =", two + two)
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
finally:
    nb.nb_add = orig_addr
print("nb_add swapped for", hex(new_addr))
print("eval('two + two') =", r, "  eval('two + 40') =", s)
print("restored: nb_add =", hex(nb.nb_add), " two + two =", eval("two + two"))

# ---- stage 4: dis --------------------------------------------------------------

banner(4, "dis")
code_names = compile("two + two", "<stage4>", "eval")
dis.dis(code_names)
code_consts = compile("2 + 2", "<stage4>", "eval")
dis.dis(code_consts)
print("co_code of 'two + two':", code_names.co_code.hex(" "))
print("co_code of '2 + 2':    ", code_consts.co_code.hex(" "))


def add(a, b):
    return a + b


for _ in range(100):
    add(2, 2)
dis.dis(add, adaptive=True)

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
api.Py_IncRef(ctypes.py_object(Int2))
head.ob_type = id(Int2)
try:
    r1 = two + two
    r2 = eval("2 + 2")
    during = head.ob_type
finally:
    head.ob_type = id(int)
    api.Py_DecRef(ctypes.py_object(Int2))
print("during the swap: ob_type =", hex(during), "id(Int2) =", hex(id(Int2)))
print("two + two =", r1, "  eval('2 + 2') =", r2)
print("restored: type(2) is int:", type(2) is int, "  2 + 2 =", two + two)

# ---- stage 6: fold -------------------------------------------------------------

banner(6, "fold")


def f():
    return 2 + 2


print("f.__code__.co_consts =", f.__code__.co_consts)
dis.dis(f)
print(ast.dump(ast.parse("2 + 2", mode="eval"), indent=2))
print("PyCode_Optimize at", hex(ctypes.cast(api.PyCode_Optimize,
                                            ctypes.c_void_p).value))

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


print("before:", hexbytes(target, 16))
print("       ", maps_line(target))
protect(PROT_READ | PROT_WRITE | PROT_EXEC)
try:
    ctypes.memmove(target, jump, len(jump))
    print("during:", hexbytes(target, 16))
    print("       ", maps_line(target))
    unfolded = compile("def f():\n    return 2 + 2\n", "<stage7>", "exec")
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

api.Py_IncRef(ctypes.py_object(Int2))
head.ob_type = id(Int2)
try:
    inside = g()
finally:
    head.ob_type = id(int)
    api.Py_DecRef(ctypes.py_object(Int2))
print("inside the ob_type swap f() =", inside, "  outside f() =", g())

# The finale: the talk's own two tests, then the world as it was.
protect(PROT_READ | PROT_WRITE | PROT_EXEC)
try:
    ctypes.memmove(target, jump, len(jump))
    tests = compile("e = eval('2 + 2') == 5\ni = 2 + 2 == 5\n", "<finale>", "exec")
    head.ob_type = id(Int2)
    api.Py_IncRef(ctypes.py_object(Int2))
    try:
        fin = {}
        exec(tests, fin)
    finally:
        head.ob_type = id(int)
        api.Py_DecRef(ctypes.py_object(Int2))
finally:
    ctypes.memmove(target, saved_bytes, len(saved_bytes))
    protect(PROT_READ | PROT_EXEC)
print("eval('2 + 2') == 5:", fin["e"], "  2 + 2 == 5:", fin["i"])
print("and after it: 2 + 2 == 4:", eval("2 + 2") == 4,
      " bytes restored:", ctypes.string_at(target, len(jump)) == saved_bytes)
