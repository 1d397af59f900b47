# ---
# title: Loop without the watchdog
# ---

# %% Warm up
x = 2 + 2
print("good", x)

# %% Cancel the watchdog and loop timeout=1
import signal
signal.setitimer(signal.ITIMER_REAL, 0)
while True:
    pass
