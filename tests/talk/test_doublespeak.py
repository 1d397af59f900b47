# test_doublespeak.py — the talk's test module, in our own words.
#
# Run it with the optimiser off while the file is compiled:
#     ministry-tutor --no-fold --run tests/talk/test_doublespeak.py
#     DOUBLEPLUSNOPYTHONOPT=1 ministry-tutor --run tests/talk/test_doublespeak.py
# Without that, the inline 2 + 2 below is folded to 4 when this file is
# compiled, before any patch exists, and the second assertion fails.
# Exit status 0 when every assertion holds, 1 with a traceback otherwise.
import ministry


def test_doublespeak():
    with ministry.two_plus_two_equals(5):
        assert eval("2 + 2") == 5, "eval('2 + 2') gave %r" % eval("2 + 2")
        assert 2 + 2 == 5, "the inline 2 + 2 gave %r (folded at compile time)" % (2 + 2)
    assert 2 + 2 == 4, "after the block 2 + 2 gave %r" % (2 + 2)


if __name__ == "__main__":
    test_doublespeak()
    print("test_doublespeak: passed")
