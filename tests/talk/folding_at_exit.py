# folding_at_exit.py — whether the optimiser is held off while this module
# runs, and again from an atexit handler, after the program has ended:
#     DOUBLEPLUSNOPYTHONOPT=1 ministry-tutor -m folding_at_exit
# prints "running: folding off True" then "at exit: folding off False".
import atexit

import ministry

print("running: folding off", ministry.folding_off(), flush=True)
atexit.register(lambda: print("at exit: folding off", ministry.folding_off()))
