#!/usr/bin/python3
"""check_layering.py — the include rules of docs/architecture.md, over src/.

Usage: check_layering.py [SRCDIR]   (default: the tree this script is in)

The module table in docs/architecture.md marks which files know Python.h and
which know curses.  Only those files may include <Python.h> or curses,
directly or through a header of ours (a header X.h counts as module X.c).
Exit status 0, else 1 with each file that breaks a rule and the chain of
includes that brings the library in.  Run by make check.
"""
import fnmatch
import os
import re
import sys

LIBRARIES = {
    "knows Python.h": lambda h: os.path.basename(h) == "Python.h",
    "knows curses": lambda h: os.path.basename(h) in ("curses.h", "ncurses.h"),
}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def allowed_patterns(architecture):
    """Per library column, the file patterns the module table marks ✓."""
    allowed = {col: [] for col in LIBRARIES}
    columns = None
    with open(architecture, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("|"):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if columns is None:
                if all(col in cells for col in LIBRARIES):
                    columns = {col: cells.index(col) for col in LIBRARIES}
                continue
            files = re.findall(r"`([^`]+)`", cells[0])
            for col, i in columns.items():
                if i < len(cells) and cells[i] == "✓":
                    allowed[col] += files
    if columns is None:
        sys.exit(f"{architecture}: no module table with the columns "
                 + ", ".join(LIBRARIES))
    return allowed


def includes(path):
    with open(path, encoding="utf-8") as f:
        return INCLUDE.findall(f.read())


def chain_to(src, name, is_lib, seen):
    """The include chain from src/name to a header is_lib accepts, or None."""
    if name in seen:
        return None
    seen.add(name)
    for kind, header in includes(os.path.join(src, name)):
        if is_lib(header):
            return [name, header]
        if kind == '"' and os.path.exists(os.path.join(src, header)):
            rest = chain_to(src, header, is_lib, seen)
            if rest is not None:
                return [name] + rest
    return None


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "..")
    src = os.path.join(root, "src")
    allowed = allowed_patterns(os.path.join(root, "docs", "architecture.md"))
    names = sorted(n for n in os.listdir(src) if n.endswith((".c", ".h")))
    faults = 0
    for col, is_lib in LIBRARIES.items():
        users = 0
        for name in names:
            chain = chain_to(src, name, is_lib, set())
            if chain is None:
                continue
            users += 1
            module = name[:-2] + ".c"
            if not any(fnmatch.fnmatch(module, p) or fnmatch.fnmatch(name, p)
                       for p in allowed[col]):
                print(f"src/{name}: includes {chain[-1]} ({' -> '.join(chain)}),"
                      f" but docs/architecture.md does not mark it '{col}'",
                      file=sys.stderr)
                faults += 1
        if users == 0:
            print(f"no file in src/ includes the library of '{col}':"
                  " this check reads the includes wrong", file=sys.stderr)
            faults += 1
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
