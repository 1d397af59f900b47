"""host_helpers.py — the host's plumbing inside the embedded interpreter.

Embedded in the binary at build time (xxd -i, see the Makefile) and loaded
by src/interp.c as the module _ministry_host.  It captures a cell's output,
formats tracebacks, gives the token roles the TUI colours code with, and runs
a --run script as __main__.  Never lesson content: what a lesson shows is in
the lesson.
"""
import sys, io


def _fmt(e, skip):
    """The traceback of e as text, its first skip frames (the host's) left out."""
    import traceback
    t = e.__traceback__
    for _ in range(skip):
        if t is not None:
            t = t.tb_next
    return ''.join(traceback.format_exception(type(e), e, t))


def run(src, filename, ns):
    """Run src in the namespace ns with stdout and stderr captured.

    Returns (stdout, stderr, traceback or '').
    """
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    tb = ''
    try:
        exec(compile(src, filename, 'exec'), ns)
    except BaseException as e:
        tb = _fmt(e, 1)
    finally:
        sys.stdout, sys.stderr = saved
    return out.getvalue(), err.getvalue(), tb


class _Helper:
    """help() as the site module gives it to Python's REPL (the host's
    interpreter starts without site)."""

    def __repr__(self):
        return "Type help() for interactive help, or help(object) for help about object."

    def __call__(self, *args, **kwds):
        import pydoc
        if not args and not kwds:
            print("help() has no interactive mode here (nothing can be typed to it): "
                  "use help(object) or help('topic').")
            return None
        return pydoc.help(*args, **kwds)


class _Quitter:
    """exit and quit as site gives them to the REPL, but the tutor's prompt
    has no interpreter to leave: they say how to leave the tutor."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"The : prompt closes after each entry; q quits the tutor ({self.name}() too)."

    def __call__(self, code=None):
        print(f"{self.name}(): the : prompt closes after each entry; q quits the tutor.")


def prompt(src, ns):
    """One entry at the TUI's `:` prompt, read as Python's REPL reads it.

    src is every line typed so far for this entry, joined by newlines.  A
    statement that is not finished (an open bracket, a block without its
    empty line) asks for more.  Each expression statement's value is
    echoed through sys.displayhook, as the REPL does, and bound to _.
    Several statements at once (pasted, or sent by a test) run as a cell,
    without the echo.  A SyntaxError is reported once, without the host's
    frames.  While the entry runs, SIGINT raises KeyboardInterrupt in it
    (the frontend sends one for Ctrl-C; the worker ignores SIGINT
    otherwise), unless SIGINT has a handler Python did not install, which
    could not be put back.

    Returns (stdout, stderr, traceback or '', more).
    """
    import builtins, codeop, signal, traceback
    if not hasattr(builtins, 'help'):
        builtins.help = _Helper()
    for name in ('exit', 'quit'):
        if not hasattr(builtins, name):
            setattr(builtins, name, _Quitter(name))
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    tb, more = '', False
    try:
        try:
            try:
                code = codeop.compile_command(src, '<prompt>', 'single')
            except SyntaxError as e:
                # Not one statement: several, as a cell, if they compile.
                try:
                    code = compile(src, '<prompt>', 'exec')
                except SyntaxError:
                    raise e from None
        except (SyntaxError, OverflowError, ValueError) as e:
            tb = ''.join(traceback.format_exception_only(type(e), e))
        else:
            if code is None:
                more = True
            else:
                was = signal.getsignal(signal.SIGINT)
                if was is not None:
                    signal.signal(signal.SIGINT, signal.default_int_handler)
                try:
                    exec(code, ns)
                except BaseException as e:
                    tb = _fmt(e, 1)
                finally:
                    if was is not None:
                        signal.signal(signal.SIGINT, was)
    except KeyboardInterrupt:
        tb = 'KeyboardInterrupt\n'      # it came after the entry had ended
    finally:
        sys.stdout, sys.stderr = saved
    return out.getvalue(), err.getvalue(), tb, more


def roles(src):
    """One role letter per byte of src (UTF-8), from CPython's own tokenize.

    k keyword, b builtin, n name, d number, s string, c comment, o operator,
    space for the rest.
    """
    import tokenize, keyword, builtins
    kinds = {tokenize.NUMBER: 'd', tokenize.STRING: 's', tokenize.COMMENT: 'c',
             tokenize.OP: 'o'}
    b = src.encode()
    out = bytearray(b' ' * len(b))
    starts = [0]
    for line in b.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    def pos(row, col, lines=src.splitlines(keepends=True)):
        if row - 1 >= len(lines):
            return len(b)
        return starts[row - 1] + len(lines[row - 1][:col].encode())
    try:
        for t in tokenize.generate_tokens(io.StringIO(src).readline):
            k = kinds.get(t.type)
            if t.type == tokenize.NAME:
                k = ('k' if keyword.iskeyword(t.string) or keyword.issoftkeyword(t.string)
                     else 'b' if hasattr(builtins, t.string) else 'n')
            if k is None:
                continue
            a, z = pos(*t.start), pos(*t.end)
            out[a:z] = k.encode() * (z - a)
    except (tokenize.TokenError, SyntaxError):
        pass
    return out.decode()


def main_code(path, argv):
    """Prepare the file at path to run as __main__ with sys.argv = argv
    (--run): its code object, compiled, for the host to run as python3
    does, or 'path:line: SyntaxError: msg' when it does not compile.

    The host runs the code itself, outside any try: a SystemExit then
    reaches it as raised, and sys.exit(()) or sys.exit((3,)) end with the
    status python3 gives them (1, printing the tuple), which a handler on
    the way would change by normalising the exception.
    """
    import __main__
    sys.argv = list(argv)
    with open(path, 'rb') as f:
        src = f.read()
    ns = __main__.__dict__
    ns['__file__'] = path
    try:
        return compile(src, path, 'exec')
    except (SyntaxError, ValueError) as e:
        where = f'{path}:{e.lineno}' if getattr(e, 'lineno', None) else path
        return f'{where}: {type(e).__name__}: {getattr(e, "msg", e)}'
