# ---
# title: Loop without the watchdog
# ---

# %% Warm up
x = 2 + 2
print("good", x)

# %% Cancel the watchdog and loop timeout=1
import faulthandler
faulthandler.cancel_dump_traceback_later()
while True:
    pass
