# uses_helper.py — imports talk_helper from its own folder, wherever it is
# run from:  ministry-tutor --run tests/talk/uses_helper.py
import sys

import talk_helper

print(talk_helper.DOCTRINE, sys.path[0] == talk_helper.__file__.rsplit("/", 1)[0])
