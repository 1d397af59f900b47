/* check_lessons.c — every lesson found, run whole in-process: no step fails,
 * leaving puts everything back by the lesson's own revert steps, and the
 * same after an exception raised right after each patch step. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "util.h"

/* Stage numbers come from the lessons; the loop index is the position. */
START_TEST(test_stage_whole)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    if ((size_t)_i >= app.nlessons) {
        mt_session_free(s);
        return;    /* fewer lessons than slots */
    }
    int n = app.lessons[_i]->number;
    mt_test_assert_pristine();
    free(mt_test_run(s, &app, n, -1));
    free(mt_test_leave(s));
    mt_test_assert_pristine();
    mt_session_free(s);
}
END_TEST

/* After each patch step, raise in the lesson's namespace, then leave: the
 * revert steps run and the interpreter is pristine. */
START_TEST(test_stage_exception_after_patch)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    if ((size_t)_i >= app.nlessons) {
        mt_session_free(s);
        return;
    }
    const mt_lesson *l = app.lessons[_i];
    int patches = 0;
    for (size_t k = 0; k < l->nsteps; k++) {
        if (l->steps[k].kind != MT_STEP_PATCH) {
            continue;
        }
        patches++;
        free(mt_test_run(s, &app, l->number, (int)k));
        char *tb = mt_test_prompt(s, "raise RuntimeError('a failure in the middle')", 1);
        ck_assert_ptr_nonnull(strstr(tb, "RuntimeError"));
        free(tb);
        free(mt_test_leave(s));
        mt_test_assert_pristine();
    }
    (void)patches;
    mt_session_free(s);
}
END_TEST

Suite *
mt_lessons_suite(void)
{
    Suite *s = suite_create("lessons");
    TCase *tc = tcase_create("lessons");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_stage_whole, 0, 7);
    tcase_add_loop_test(tc, test_stage_exception_after_patch, 0, 7);
    suite_add_tcase(s, tc);
    return s;
}
