# uncaught.py — ends with an uncaught exception: exit status 1, traceback
# on stderr naming this file.


def fail():
    raise ValueError("an uncaught exception from the script")


fail()
