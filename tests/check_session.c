/* check_session.c — the session's way back: a lesson whose patches are
 * never reverted is put back by the session (watched regions) and by the
 * host's guard, loudly, and the interpreter ends pristine. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "harness.h"
#include "interp.h"
#include "layout.h"
#include "mem.h"
#include "session.h"
#include "util.h"

START_TEST(test_unreverted_is_restored)
{
    /* The engine with the real lessons first: this takes the baselines. */
    mt_app real;
    mt_session *s0 = mt_test_engine(&real);
    mt_session_free(s0);

    mt_app app;
    memset(&app, 0, sizeof app);
    const char *src = getenv("MT_SRCDIR");
    char *dir = mt_xasprintf("%s/tests/lessons/unreverted", src ? src : ".");
    char *err = NULL;
    app.opts.lessons_dir = dir;
    ck_assert_msg(mt_app_load(&app, &err) == 0, "%s", err ? err : "");
    mt_session *s = mt_session_new(app.lessons, app.nlessons);

    /* The offset the fixture typed (96) must be tp_as_number's here. */
    ck_assert_uint_eq(offsetof(PyTypeObject, tp_as_number), 96);
    void *float_add = (void *)PyFloat_Type.tp_as_number->nb_add;

    mt_step_result *r = mt_session_goto(s, 0, 2);
    ck_assert_msg(r->status == MT_ST_OK, "%s", r->traceback);
    ck_assert_str_eq(r->out, "5\n");
    mt_result_free(r);
    r = mt_session_goto(s, 0, 1);   /* back: leave (restore), replay 0..1 */
    ck_assert_msg(r->status == MT_ST_OK, "%s", r->traceback);
    ck_assert_msg(strstr(r->notes, "RESTORED by the host's guard: int.__dict__[__add__]")
                      != NULL, "notes: %s", r->notes);
    ck_assert_uint_eq(r->patched, 1);
    /* The region really changed: nb_add's bytes are marked. */
    ck_assert_uint_eq(r->nregions, 1);
    const mt_region_result *g = &r->regions[0];
    size_t off = offsetof(PyNumberMethods, nb_add);
    ck_assert_int_ne(memcmp(g->before + off, g->after + off, sizeof(void *)), 0);
    mt_result_free(r);
    ck_assert_ptr_ne((void *)PyFloat_Type.tp_as_number->nb_add, float_add);
    ck_assert_ptr_ne(Py_TYPE(PyLong_FromLong(2)), &PyLong_Type);

    r = mt_session_leave(s);
    /* The watched regions are put back first, naming the fields. */
    ck_assert_msg(strstr(r->notes, "RESTORED: nb_add of float-slots") != NULL,
                  "notes: %s", r->notes);
    ck_assert_msg(strstr(r->notes, "RESTORED: ob_type of int-2") != NULL,
                  "notes: %s", r->notes);
    ck_assert_uint_eq(r->patched, 0);
    ck_assert_uint_eq(r->restored, 1);
    mt_result_free(r);

    ck_assert_ptr_eq((void *)PyFloat_Type.tp_as_number->nb_add, float_add);
    mt_test_assert_pristine();
    mt_session_free(s);
    mt_app_free(&app);
    mt_app_free(&real);
    free(dir);
}
END_TEST

/* A step that leaves a mapping writable and executable: the host takes
 * the write permission away right after the step, and says so. */
START_TEST(test_wx_after_step_is_taken_away)
{
    mt_app real;
    mt_session *s0 = mt_test_engine(&real);
    mt_session_free(s0);

    mt_app app;
    memset(&app, 0, sizeof app);
    const char *src = getenv("MT_SRCDIR");
    char *dir = mt_xasprintf("%s/tests/lessons/unreverted", src ? src : ".");
    char *err = NULL;
    app.opts.lessons_dir = dir;
    ck_assert_msg(mt_app_load(&app, &err) == 0, "%s", err ? err : "");
    mt_session *s = mt_session_new(app.lessons, app.nlessons);
    mt_step_result *r = mt_session_goto(s, 1, 0);
    ck_assert_msg(r->status == MT_ST_OK, "%s", r->traceback);
    ck_assert_str_eq(r->out, "0 rwxp\n");
    ck_assert_msg(strstr(r->notes, "RESTORED by the host after the step: a mapping was "
                                   "writable and executable") != NULL, "notes: %s", r->notes);
    ck_assert_uint_eq(r->restored, 1);
    char *wx = NULL;
    ck_assert_msg(!mt_mem_any_wx(&wx), "still W+X: %s", wx ? wx : "");
    mt_result_free(r);
    mt_session_free(s);
    mt_app_free(&app);
    mt_app_free(&real);
    free(dir);
    mt_test_assert_pristine();
}
END_TEST

/* Going back replays: step 1 again after step 2 shows step 1's result. */
START_TEST(test_goto_back_replays)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    mt_step_result *r = mt_session_goto(s, 0, 2);
    ck_assert_ptr_nonnull(strstr(r->out, PY_VERSION_HEX >= 0x030C0000 ? "(+0)" : "(+1000)"));
    mt_result_free(r);
    r = mt_session_goto(s, 0, 0);
    ck_assert_int_eq(r->step, 0);
    ck_assert_ptr_nonnull(strstr(r->out, "sys.getrefcount(2)"));
    mt_result_free(r);
    /* The namespace is fresh: step 3's list is gone. */
    r = mt_session_prompt(s, "'twos' in globals()");
    ck_assert_str_eq(r->out, "False\n");
    mt_result_free(r);
    mt_session_free(s);
    mt_app_free(&app);
}
END_TEST

START_TEST(test_prompt_repr_and_error)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    mt_result_free(mt_session_goto(s, 0, 0));
    mt_step_result *r = mt_session_prompt(s, "two + 3");
    ck_assert_str_eq(r->out, "5\n");
    mt_result_free(r);
    r = mt_session_prompt(s, "x = 7");
    ck_assert_str_eq(r->out, "");
    ck_assert_int_eq(r->status, MT_ST_OK);
    mt_result_free(r);
    r = mt_session_prompt(s, "1 / 0");
    ck_assert_int_eq(r->status, MT_ST_ERROR);
    ck_assert_ptr_nonnull(strstr(r->traceback, "ZeroDivisionError"));
    mt_result_free(r);
    mt_session_free(s);
    mt_app_free(&app);
}
END_TEST

Suite *
mt_session_suite(void)
{
    Suite *s = suite_create("session");
    TCase *tc = tcase_create("way-back");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_unreverted_is_restored);
    tcase_add_test(tc, test_wx_after_step_is_taken_away);
    tcase_add_test(tc, test_goto_back_replays);
    tcase_add_test(tc, test_prompt_repr_and_error);
    suite_add_tcase(s, tc);
    return s;
}
