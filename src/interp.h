/* interp.h — the embedded CPython: isolated start-up, lesson namespaces,
 * running a cell with its output captured, and the host's own pristine
 * guard.  The only module (with ministry.c and layout.c) that sees Python.h. */
#ifndef MT_INTERP_H
#define MT_INTERP_H

#include <stddef.h>
#include <stdint.h>

/* Start CPython with an isolated PyConfig (no PYTHON* variables, no site,
 * no bytecode written), the `ministry` module registered and faulthandler
 * writing to fault_fd (-1: stderr).  Returns 0, or -1 with a malloc'ed
 * *err. */
int mt_interp_init(int fault_fd, char **err);

/* Finalize the interpreter, as python3 does when its program ends: atexit
 * handlers, threads joined, files flushed (tests and --run/-m; the lesson
 * worker just exits).  Returns Py_FinalizeEx's 0, or -1 when flushing
 * failed. */
int mt_interp_fini(void);

/* Wait for the program's non-daemon threads, as python3 does before its
 * atexit handlers (threading._shutdown; Py_FinalizeEx then finds them
 * joined).  Unbounded: the threads are the program's own work. */
void mt_interp_join_threads(void);

/* "3.11.2 (main, …) [GCC 12.2.0]": Py_GetVersion(), borrowed, valid
 * before init too. */
const char *mt_interp_version(void);

/* int's nb_add now (long_add on 3.11 and 3.13, long_add_method from 3.14);
 * valid before init. */
void *mt_interp_nb_add(void);

/* A lesson namespace: a fresh __main__-like dict. */
typedef struct mt_ns mt_ns;

/* New namespace named `name` (its __name__).  NULL only before init. */
mt_ns *mt_interp_ns_new(const char *name);
void mt_interp_ns_free(mt_ns *ns);

/* Run Python source in ns.  The code is compiled with `filename` and its
 * first line numbered firstline, so tracebacks name the lesson's own lines.
 * stdout/stderr written by it go into *out and *err; an exception becomes
 * its traceback in *tb (else "").  All three are malloc'ed (caller frees).
 * Returns 0 when it ran to the end, -1 when it raised. */
int mt_interp_run(mt_ns *ns, const char *code, const char *filename,
                  int firstline, char **out, char **err, char **tb);

/* One entry of the `:` prompt, read as Python's REPL reads it (src: the
 * lines typed so far, joined by newlines): each expression statement's
 * value echoed, a SyntaxError reported once without the host's frames,
 * SIGINT raising KeyboardInterrupt while it runs.  *more is set, and
 * nothing run, when the entry is not finished (an open bracket, a block
 * before its empty line).  Otherwise as mt_interp_run. */
int mt_interp_prompt(mt_ns *ns, const char *src, char **out, char **err,
                     char **tb, int *more);

/* Evaluate expr in ns to an address (anything with __index__).  Returns 0,
 * or -1 with a malloc'ed one-line *err ("NameError: name 'x' is not
 * defined"). */
int mt_interp_address(mt_ns *ns, const char *expr, uintptr_t *addr,
                      char **err);

/* Role letters (result.h MT_TOK_*) for each byte of code, from CPython's
 * own tokenize.  Never NULL: plain roles when tokenize fails. */
char *mt_interp_code_roles(const char *code);

/* The host's own eye on the interpreter, independent of the lessons:
 * int's number slots and dict, the type of every small int, the first
 * bytes of _PyAST_Optimize and PyCode_Optimize (against the library file on
 * disk), writable and executable mappings, and 2 + 2 itself.
 * mt_interp_guard_baseline records int's slots and dict (call once, before
 * any lesson runs). */
void mt_interp_guard_baseline(void);

/* Compare with the baseline.  Returns 0 when pristine, else 1 with a
 * malloc'ed report (one line per difference) in *report.  With restore
 * (leaving a stage) every check runs — the debug file is opened if need be,
 * mappings are scanned for W+X, 2 + 2 is compiled fresh — and every
 * difference that can be is put back (the report says so).  Without it
 * (after each step) only the cheap checks run. */
int mt_interp_guard_check(int restore, char **report);

/* No mapping may stay writable and executable after a step: take write
 * permission away from every W+X mapping that was not there when the
 * baseline was taken, one line each in rep.  Returns how many. */
struct mt_str;
int mt_interp_wx_enforce(struct mt_str *rep);

/* Whether a patch is live now (the cheap checks, nothing restored). */
int mt_interp_patched(void);

/* Before mt_interp_init: with on, the interpreter imports site at start-up,
 * so the system's site-packages (Debian's dist-packages) are on sys.path
 * (--site).  Off by default: a lesson never sees them. */
void mt_interp_want_site(int on);

/* --run: run the file at path as __main__, as `python3 FILE` does:
 * sys.argv = argv (argc entries; argv[0] is the path), the file's folder
 * (symbolic links resolved) first on sys.path, __file__ its absolute path.
 * With nofold the AST optimiser is held off by the trampoline while the
 * file is compiled and runs.  Output goes straight to the process's
 * stdout/stderr.  Returns the exit status: 0, the script's SystemExit
 * code, or 1 after printing the traceback of an uncaught exception. */
int mt_interp_run_main(const char *path, int argc, char **argv, int nofold);

/* -m: run the module as __main__ with runpy._run_module_as_main, as
 * `python3 -m` does: the current folder first on sys.path, sys.argv =
 * argv (argv[0] = the module name, replaced by runpy with the file it
 * found).  nofold, output and exit status as for mt_interp_run_main; a
 * module that cannot be found is one line on stderr ("No module named
 * ..."), status 1. */
int mt_interp_run_module(const char *module, int argc, char **argv, int nofold);

#endif
