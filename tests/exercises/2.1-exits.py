# expect: the interpreter ended: it exited with status 7
import os

os._exit(7)
