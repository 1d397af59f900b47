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


def run(src, filename, ns, mode='exec'):
    """Run src in the namespace ns with stdout and stderr captured.

    mode 'prompt' prints the repr of an expression's value, as the REPL does.
    Returns (stdout, stderr, traceback or '').
    """
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    tb = ''
    try:
        if mode == 'prompt':
            try:
                code = compile(src, filename, 'eval')
            except SyntaxError:
                exec(compile(src, filename, 'exec'), ns)
            else:
                v = eval(code, ns)
                if v is not None:
                    print(repr(v))
        else:
            exec(compile(src, filename, 'exec'), ns)
    except BaseException as e:
        tb = _fmt(e, 1)
    finally:
        sys.stdout, sys.stderr = saved
    return out.getvalue(), err.getvalue(), tb


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


def run_main(path, argv):
    """Run the file at path as __main__ with sys.argv = argv (--run).

    Returns None when it ran, '' after printing its traceback, or
    'path:line: SyntaxError: msg' when it does not compile.  SystemExit
    goes on to the caller.
    """
    import __main__
    sys.argv = list(argv)
    with open(path, 'rb') as f:
        src = f.read()
    ns = __main__.__dict__
    ns['__file__'] = path
    try:
        code = compile(src, path, 'exec')
    except (SyntaxError, ValueError) as e:
        where = f'{path}:{e.lineno}' if getattr(e, 'lineno', None) else path
        return f'{where}: {type(e).__name__}: {getattr(e, "msg", e)}'
    try:
        exec(code, ns)
    except SystemExit:
        raise
    except BaseException as e:
        sys.stderr.write(_fmt(e, 1))
        return ''
    return None
