# exit_status.py — prints sys.argv and exits with the status given as its
# first argument: ministry-tutor --run exit_status.py 3 → exit status 3.
import sys

print(repr(sys.argv))
sys.exit(int(sys.argv[1]))
