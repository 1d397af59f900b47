/* embed_ref.c — the benchmark's bare host: one CPython 3.X (built once per
 * version, build/bench/embed_ref-3.X) started with the same isolated
 * PyConfig as that version's ministry-tutor worker, one script run, exit. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The interpreter's path, as src/interp.c gives it (the Makefile's
 * py_cflags define it): CPython computes its prefix from it. */
#ifndef MT_PY_PROGRAM
#define MT_PY_PROGRAM \
    "/usr/bin/python" Py_STRINGIFY(PY_MAJOR_VERSION) "." Py_STRINGIFY(PY_MINOR_VERSION)
#endif

/* Usage: embed_ref SCRIPT.  Exit status 0 when the script ran to the end,
 * 1 when it raised (the traceback is on stderr), 2 on bad usage. */
int
main(int argc, char **argv)
{
    PyStatus st;
    PyConfig config;
    FILE *f = NULL;
    int rc = 1;

    if (argc != 2) {
        fprintf(stderr, "usage: embed_ref SCRIPT\n");
        return 2;
    }
    f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }
    /* As src/interp.c: isolated, no site, no .pyc, no signal handlers.
     * Standard streams keep CPython's default buffering: the reference
     * writes to stdout itself, as any bare script would. */
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.write_bytecode = 0;
    config.install_signal_handlers = 0;
    st = PyConfig_SetBytesString(&config, &config.program_name, MT_PY_PROGRAM);
    if (!PyStatus_Exception(st)) {
        st = PyConfig_SetBytesArgv(&config, 1, &argv[1]);
    }
    if (!PyStatus_Exception(st)) {
        st = Py_InitializeFromConfig(&config);
    }
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) {
        fclose(f);
        Py_ExitStatusException(st);
    }
    rc = PyRun_SimpleFileExFlags(f, argv[1], 1, NULL) == 0 ? 0 : 1;
    /* Like ministry-tutor's worker, which ends with _exit: flush what the
     * script printed and leave without finalizing the interpreter. */
    PyObject *out = PySys_GetObject("stdout");    /* borrowed */
    if (out != NULL) {
        PyObject *r = PyObject_CallMethod(out, "flush", NULL);
        Py_XDECREF(r);
    }
    PyErr_Clear();
    fflush(NULL);
    _exit(rc);
}
