# pristine_after.py — after ministry.two_plus_two_equals and
# ministry.no_folding, everything they touched is as before: the machine
# code of the constant folder (ministry.FOLDER: _PyAST_Optimize, or
# optimize_basic_block from 3.14) and its page permissions, int's number slots,
# int.__dict__ entry by entry, the type of every small int, no W+X mapping.
#
#     ministry-tutor --run pristine_after.py TP_AS_NUMBER_OFFSET NB_SIZE
#
# The two numbers come from the caller, which reads them from CPython's
# headers (offsetof(PyTypeObject, tp_as_number), sizeof(PyNumberMethods)).
# Exit status 0 when all is as before, 1 with an AssertionError otherwise.
import ctypes
import sys

import ministry

TP_AS_NUMBER, NB_SIZE = int(sys.argv[1]), int(sys.argv[2])


def state():
    opt = ministry.symbol(ministry.FOLDER)
    nb = ctypes.c_void_p.from_address(id(int) + TP_AS_NUMBER).value
    with open("/proc/self/maps") as maps:
        wx = [line for line in maps if line.split()[1][1:3] == "wx"]
    return {
        ministry.FOLDER + " code": ministry.peek(opt, 16),
        ministry.FOLDER + " page": ministry.perms(opt),
        "int's number slots": ministry.peek(nb, NB_SIZE),
        "int's number slots page": ministry.perms(nb),
        "int.__dict__": {k: id(v) for k, v in vars(int).items()},
        "small int types": [type(i).__name__ for i in range(-5, 257)],
        "W+X mappings": wx,
    }


before = state()
with ministry.two_plus_two_equals(5):
    assert eval("2 + 2") == 5
    during_swap = state()
with ministry.no_folding():
    assert ministry.folding_off()
    with ministry.two_plus_two_equals(5):
        assert eval("2 + 2") == 5
    during_nofold = state()
after = state()

# The patches were live ...
assert during_swap["small int types"] != before["small int types"]
assert during_nofold[ministry.FOLDER + " code"] != before[ministry.FOLDER + " code"]
assert not ministry.folding_off()
# ... and nothing of them is left.
for key, was in before.items():
    assert after[key] == was, "%s changed: %r -> %r" % (key, was, after[key])
print("as before:", ", ".join(before))
