# safe_two.py — the swapped 2 is safe: inside doublescript's (that is,
# ministry's) two_plus_two_equals(5), with 2 held in many lists, 2 keeps
# int's size, the collector does not track it, 1,000 collections pass, and
# afterwards the interpreter is as before.
#
#     ministry-tutor --run safe_two.py
#
# Exit status 0 and one line "safe: ..." when all holds, 1 with an
# AssertionError otherwise.
import gc
import sys

import ministry
from doublescript import two_plus_two_equals

assert two_plus_two_equals is ministry.two_plus_two_equals


def state():
    return {
        "type(2)": type(2),
        "getsizeof(2)": sys.getsizeof(2),
        "gc.is_tracked(2)": gc.is_tracked(2),
        "2 + 2 compiled now": eval("2 + 2"),
        "small int types": [type(i).__name__ for i in range(-5, 257)],
        "int.__dict__": {k: id(v) for k, v in vars(int).items()},
    }


before = state()
held = [[2, str(i)] for i in range(1000)] + [[2] * 100 for _ in range(100)]
with two_plus_two_equals(5):
    assert type(2) is not int and eval("2 + 2") == 5
    assert sys.getsizeof(2) == sys.getsizeof(3), (sys.getsizeof(2), sys.getsizeof(3))
    assert not gc.is_tracked(2)
    assert type(2).__flags__ & (1 << 14) == 0          # Py_TPFLAGS_HAVE_GC
    more = [[2] for _ in range(1000)]
    collected = sum(gc.collect() >= 0 for _ in range(1000))
    assert collected == 1000
    assert sum(l.count(2) for l in held + more) == 12000
del held, more
gc.collect()
after = state()
for key, was in before.items():
    assert after[key] == was, "%s changed: %r -> %r" % (key, was, after[key])
print("safe: getsizeof(2) == getsizeof(3), untracked, %d collections, then as before"
      % collected)
