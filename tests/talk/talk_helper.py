# talk_helper.py — a module beside uses_helper.py, found because --run puts
# the script's folder first on sys.path, as python3 FILE does.
DOCTRINE = "2 + 2 = 5"
