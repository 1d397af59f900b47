/* check_harness.c — in-process helpers for the stage tests (no suite). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pyver.h"
#include "interp.h"
#include "mem.h"
#include "symbols.h"
#include "util.h"

static uint8_t opt_bytes[16];
/* The lessons of the last engine stay reachable from here, so the leak
 * checker does not count them (a static nobody reads would be optimised
 * away with its store). */
mt_app mt_test_kept_app;
static uintptr_t opt_at;
static PyObject *orig_add;     /* new reference: int.__dict__['__add__'] */

mt_session *
mt_test_engine(mt_app *app)
{
    char *err = NULL;
    ck_assert_msg(mt_interp_init(-1, &err) == 0, "interp: %s", err ? err : "");
    const char *why;
    if (mt_sym_lookup(MT_T_FOLDER, &opt_at, &why) == 0) {
        ck_assert_uint_eq(mt_mem_read(opt_at, opt_bytes, 16, NULL), 16);
    }
    orig_add = PyDict_GetItemString(mt_t_int_dict(), "__add__");
    Py_XINCREF(orig_add);
    mt_interp_guard_baseline();

    memset(app, 0, sizeof *app);
    const char *src = getenv("MT_SRCDIR");
    app->opts.lessons_dir = mt_xasprintf("%s/lessons", src ? src : ".");
    ck_assert_msg(mt_app_load(app, &err) == 0, "lessons: %s", err ? err : "");
    mt_test_kept_app = *app;
    return mt_session_new(app->lessons, app->nlessons);
}

size_t
mt_test_stage(const mt_app *app, int n)
{
    long i = mt_app_stage_index(app, n);
    ck_assert_msg(i >= 0, "no stage %d in the lessons", n);
    return (size_t)i;
}

int
mt_test_step(const mt_app *app, int n, const char *slug)
{
    const mt_lesson *l = app->lessons[mt_test_stage(app, n)];
    for (size_t k = 0; k < l->nsteps; k++) {
        if (strcmp(l->steps[k].slug, slug) == 0) {
            return (int)k;
        }
    }
    ck_abort_msg("stage %d has no step '%s'", n, slug);
    return -1;
}

char *
mt_test_run(mt_session *s, const mt_app *app, int n, int last)
{
    size_t si = mt_test_stage(app, n);
    const mt_lesson *l = app->lessons[si];
    if (last < 0) {
        last = (int)l->nsteps - 1;
    }
    mt_str out = {0};
    for (int k = 0; k <= last; k++) {
        mt_step_result *r = mt_session_goto(s, si, k);
        ck_assert_msg(r->status == MT_ST_OK, "stage %d step %d (%s) failed:\n%s%s%s", n,
                      k + 1, l->steps[k].title, r->err, r->traceback, r->notes);
        mt_str_add(&out, r->out);
        mt_result_free(r);
    }
    return mt_str_take(&out);
}

char *
mt_test_leave(mt_session *s)
{
    mt_step_result *r = mt_session_leave(s);
    char *notes = mt_xstrdup(r->notes);
    ck_assert_msg(strstr(notes, "RESTORED") == NULL && strstr(notes, "WARNING") == NULL,
                  "leaving the stage needed the host to step in:\n%s", notes);
    ck_assert_msg(!r->patched, "still patched after leaving:\n%s", notes);
    ck_assert_msg(!r->restored, "the host had to step in:\n%s", notes);
    mt_result_free(r);
    return notes;
}

char *
mt_test_prompt(mt_session *s, const char *src, int may_raise)
{
    /* Ended as at Python's prompt: a block (one-line def too) ends with
     * an empty line. */
    char *entry = mt_xasprintf("%s\n", src);
    mt_step_result *r = mt_session_prompt(s, entry);
    free(entry);
    ck_assert_msg(may_raise || r->status == MT_ST_OK, "`%s` raised:\n%s", src, r->traceback);
    char *out = mt_xasprintf("%s%s", r->out, may_raise ? r->traceback : "");
    mt_result_free(r);
    return out;
}

char *
mt_test_eval(const char *expr)
{
    PyObject *g = PyDict_New();
    PyDict_SetItemString(g, "__builtins__", PyEval_GetBuiltins());
    PyObject *v = PyRun_String(expr, Py_eval_input, g, g);
    Py_DECREF(g);
    if (v == NULL) {
        PyErr_Print();
        ck_abort_msg("`%s` raised", expr);
    }
    PyObject *sv = PyObject_Str(v);
    char *s = mt_xstrdup(PyUnicode_AsUTF8(sv));
    Py_DECREF(sv);
    Py_DECREF(v);
    return s;
}

static void
expect(const char *expr, const char *want)
{
    char *got = mt_test_eval(expr);
    ck_assert_msg(strcmp(got, want) == 0, "`%s` is %s, not %s", expr, got, want);
    free(got);
}

void
mt_test_assert_pristine(void)
{
    expect("2 + 2", "4");
    expect("eval('2 + 2')", "4");
    expect("type(2) is int", "True");
    expect("type(2 + 2) is int", "True");
    ck_assert_msg(PyDict_GetItemString(mt_t_int_dict(), "__add__") == orig_add,
                  "int.__dict__['__add__'] is not the original slot wrapper");
    uintptr_t long_add;
    const char *why;
    if (mt_sym_lookup(MT_T_NB_ADD, &long_add, &why) == 0) {
        ck_assert_msg((uintptr_t)PyLong_Type.tp_as_number->nb_add == long_add,
                      "nb_add is not " MT_T_NB_ADD);
    }
    if (opt_at != 0) {
        uint8_t now[16];
        ck_assert_uint_eq(mt_mem_read(opt_at, now, 16, NULL), 16);
        ck_assert_msg(memcmp(now, opt_bytes, 16) == 0,
                      "the first 16 bytes of " MT_T_FOLDER " changed");
    }
    char *wx = NULL;
    ck_assert_msg(!mt_mem_any_wx(&wx), "writable and executable: %s", wx ? wx : "");
    char *rep = NULL;
    ck_assert_msg(mt_interp_guard_check(0, &rep) == 0, "the guard sees: %s", rep);
    free(rep);
}
