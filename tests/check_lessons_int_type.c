/* check_lessons_int_type.c — the lessons that patch int's type, stages 2
 * (dictproxy), 3 (tp-as-number) and 4 (dis): each patch has the effect its
 * lesson claims, the watched regions show the change where the C headers
 * put the field, and leaving is pristine. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <opcode.h>

#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"
#include "pyver.h"
#include "result.h"
#include "symbols.h"
#include "util.h"

/* Run `src` in the stage's namespace and require its stdout to be `want`. */
static void
prompt_is(mt_session *s, const char *src, const char *want)
{
    char *out = mt_test_prompt(s, src, 0);
    ck_assert_msg(strcmp(out, want) == 0, "`%s` printed \"%s\", not \"%s\"", src, out, want);
    free(out);
}

static void
eval_is(const char *expr, const char *want)
{
    char *got = mt_test_eval(expr);
    ck_assert_msg(strcmp(got, want) == 0, "`%s` is %s, not %s", expr, got, want);
    free(got);
}

/* Move the open stage forward to the step named slug, running the steps in
 * between (none of them may fail); returns that step's result (caller
 * frees).  Never goes back, so the stage is not left on the way. */
static mt_step_result *
run_to(mt_session *s, const mt_app *app, int n, const char *slug)
{
    int k = mt_test_step(app, n, slug);
    mt_step_result *r = mt_session_goto(s, mt_test_stage(app, n), k);
    ck_assert_msg(r->status == MT_ST_OK && r->step == k, "stage %d to step %s failed:\n%s%s",
                  n, slug, r->traceback, r->notes);
    return r;
}

static const mt_region_result *
region(const mt_step_result *r, const char *label)
{
    for (uint32_t i = 0; i < r->nregions; i++) {
        if (strcmp(r->regions[i].label, label) == 0) {
            return &r->regions[i];
        }
    }
    ck_abort_msg("step %d has no region labelled %s", r->step + 1, label);
    return NULL;
}

static const mt_field_result *
field(const mt_region_result *g, const char *name)
{
    for (uint32_t i = 0; i < g->nfields; i++) {
        if (strcmp(g->fields[i].name, name) == 0) {
            return &g->fields[i];
        }
    }
    ck_abort_msg("region %s has no field %s", g->label, name);
    return NULL;
}

/* The line of text that contains needle, as a new string. */
static char *
line_with(const char *text, const char *needle)
{
    const char *p = strstr(text, needle);
    ck_assert_msg(p != NULL, "no line with %s in:\n%s", needle, text);
    const char *b = p, *e = p;
    while (b > text && b[-1] != '\n') {
        b--;
    }
    while (*e && *e != '\n') {
        e++;
    }
    return mt_xasprintf("%.*s", (int)(e - b), b);
}

/* ---- stage 2: dictproxy ------------------------------------------------- */

START_TEST(test_dictproxy_effects)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    size_t si = mt_test_stage(&app, 2);
    mt_result_free(mt_session_goto(s, si, -1));

    /* A warm caller of the test's own, specialised before anything is
     * patched: it holds int.__add__ in an inline cache. */
    free(mt_test_prompt(s, "def w(x, y): return x.__add__(y)", 0));
    free(mt_test_prompt(s, "for i in range(300): w(i, 1)", 0));
    prompt_is(s, "print([i.opname for i in __import__('dis').get_instructions(w, "
                 "adaptive=True) if 'METHOD' in i.opname])",
              PY_VERSION_HEX >= 0x030C0000 ? "['LOAD_ATTR_METHOD_NO_DICT']\n"   /* 3.12 merged */
                                           : "['LOAD_METHOD_NO_DICT']\n");

    /* The dict write alone: the entry is new, the caches still old. */
    mt_step_result *r = run_to(s, &app, 2, "write-dict");
    ck_assert_ptr_nonnull(strstr(r->out, "is doublethink_add: True"));
    mt_result_free(r);
    ck_assert(PyFunction_Check(PyDict_GetItemString(mt_t_int_dict(), "__add__")));
    prompt_is(s, "print(w(2, 2))", "4\n");

    /* After PyType_Modified every lookup by name sees the new method, warm
     * code included; the operator does not. */
    r = run_to(s, &app, 2, "type-modified");
    const mt_field_result *tag = field(region(r, "int-type"), "tp_version_tag");
    ck_assert_str_ne(tag->value_before, tag->value_after);
    mt_result_free(r);
    prompt_is(s, "print(int.__add__(2, 2), (2).__add__(2), w(2, 2), int.__add__(2, 3))",
              "5 5 5 5\n");
    prompt_is(s, "print(method_add(2, 2), class_add(2, 2))", "5 5\n");
    prompt_is(s, "print(two + two, eval('two + two'))", "4 4\n");
    eval_is("int.__add__(2, 2)", "5");
    eval_is("2 + 2", "4");

    /* The subclass given the function through type.__setattr__ obeys. */
    mt_result_free(run_to(s, &app, 2, "why-slot"));
    prompt_is(s, "print(Loyal(2) + Loyal(2), Loyal(2) + Loyal(3))", "5 5\n");

    /* Restored: the warm callers find the original again. */
    mt_result_free(run_to(s, &app, 2, "restore"));
    prompt_is(s, "print(int.__add__(2, 2), (2).__add__(2), w(2, 2))", "4 4 4\n");
    prompt_is(s, "print(method_add(2, 2), class_add(2, 2))", "4 4\n");
    free(mt_test_leave(s));
    mt_test_assert_pristine();
    mt_session_free(s);
}
END_TEST

/* ---- stage 3: tp-as-number ---------------------------------------------- */

START_TEST(test_tp_as_number_effects)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    uintptr_t long_add;
    const char *why;
    /* The slot's function: long_add, or from 3.14 its wrapper long_add_method. */
    ck_assert_msg(mt_sym_lookup(MT_T_NB_ADD, &long_add, &why) == 0, "long_add: %s", why);

    /* The explore step names long_add through the debug symbols. */
    mt_step_result *r = run_to(s, &app, 3, "number-slots");
    ck_assert_ptr_nonnull(strstr(r->out, "which is long_add"));
    ck_assert_str_eq(field(region(r, "nb-slots"), "nb_add")->decoded_before, MT_T_NB_ADD);
    mt_result_free(r);

    /* The patch changes exactly the bytes of nb_add, at the offset C's
     * headers give, and the host sees long_add leave. */
    r = run_to(s, &app, 3, "swap-nb-add");
    const mt_region_result *g = region(r, "nb-slots");
    ck_assert_uint_eq(g->address, (uintptr_t)PyLong_Type.tp_as_number);
    size_t at = offsetof(PyNumberMethods, nb_add);
    size_t nchanged = 0;
    for (uint32_t i = 0; i < g->len; i++) {
        if (g->before[i] != g->after[i]) {
            ck_assert_msg(i >= at && i < at + sizeof(binaryfunc),
                          "byte %u changed, outside nb_add", i);
            nchanged++;
        }
    }
    ck_assert_uint_gt(nchanged, 0);
    const mt_field_result *f = field(g, "nb_add");
    ck_assert_uint_eq(f->offset, at);
    ck_assert_str_eq(f->decoded_before, MT_T_NB_ADD);
    ck_assert_str_ne(f->decoded_after, MT_T_NB_ADD);
    mt_result_free(r);
    ck_assert((uintptr_t)PyLong_Type.tp_as_number->nb_add != long_add);

    prompt_is(s, "print(eval('two + two'), eval('2 + 3'), eval('3 + 3'))", "5 5 6\n");
    prompt_is(s, "print(eval('two + 0.5'), eval('two * two'), 2.5 + two)", "2.5 4 4.5\n");

    /* Warm code adds exact ints itself and never reads nb_add. */
    free(mt_test_prompt(s, "def w(a, b): return a + b", 0));
    free(mt_test_prompt(s, "for i in range(100): w(i, 1)", 0));
    prompt_is(s, "print(w(two, two), eval('two + two'))", "4 5\n");

    mt_result_free(run_to(s, &app, 3, "restore"));
    ck_assert((uintptr_t)PyLong_Type.tp_as_number->nb_add == long_add);
    prompt_is(s, "print(eval('two + two'))", "4\n");
    free(mt_test_leave(s));
    mt_test_assert_pristine();
    mt_session_free(s);
}
END_TEST

/* ---- stage 4: dis ------------------------------------------------------- */

START_TEST(test_dis_effects)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);

    mt_step_result *r = run_to(s, &app, 4, "dis-two");
    /* 2 + 2 as the folded 4: LOAD_CONST (3.11), RETURN_CONST (3.12,
     * 3.13), LOAD_SMALL_INT carrying it (3.14+). */
    char *l = line_with(r->out, PY_VERSION_HEX >= 0x030E0000   ? "LOAD_SMALL_INT"
                                : PY_VERSION_HEX >= 0x030C0000 ? "RETURN_CONST"
                                                               : "LOAD_CONST");
    ck_assert_msg(strstr(l, "4") != NULL, "2 + 2 was not folded: %s", l);
    free(l);
    l = line_with(r->out, "BINARY_OP");
    ck_assert_msg(strstr(l, "0 (+)") != NULL, "%s", l);
    free(l);
    ck_assert_ptr_nonnull(strstr(r->out, "LOAD_NAME                0 (two)"));
    mt_result_free(r);

    /* Warm-up rewrites the BINARY_OP opcode byte of co_code_adaptive into
     * BINARY_OP_ADD_INT (numbers from CPython's opcode.h). */
    r = run_to(s, &app, 4, "warm-up");
    ck_assert_ptr_nonnull(strstr(r->out, "BINARY_OP_ADD_INT"));
    const mt_region_result *g = region(r, "add-code");
    size_t code_at = offsetof(PyCodeObject, co_code_adaptive);
    int found = 0;
    for (size_t i = code_at; i + 1 < g->len; i += 2) {   /* a _Py_CODEUNIT */
        if (g->before[i] == BINARY_OP && g->after[i] == BINARY_OP_ADD_INT) {
            found = 1;
        }
    }
    ck_assert_msg(found, "no BINARY_OP -> BINARY_OP_ADD_INT byte in the add-code dump");
    const mt_field_result *f = field(g, "co_code_adaptive");
    ck_assert_uint_eq(f->offset, code_at);
    ck_assert_str_ne(f->value_before, f->value_after);
    mt_result_free(r);

    /* The fast path checks the operands' types (tests/check_truth.c counts
     * the misses). */
    r = run_to(s, &app, 4, "exact-int");
    ck_assert_ptr_nonnull(strstr(r->out, "add(2, 2) = 4 with BINARY_OP_ADD_INT"));
    ck_assert_ptr_nonnull(strstr(r->out, "add(Comrade(2), int(2)) = {5}"));
    mt_result_free(r);
    free(mt_test_leave(s));
    mt_test_assert_pristine();
    mt_session_free(s);
}
END_TEST

/* ---- end to end --------------------------------------------------------- */

/* `--plain --stage N` exits 0, and its notes report nothing the host had
 * to put back (checked in the text too: the exit status alone does not
 * count a RESTORE on leaving). */
START_TEST(test_plain_stage_exits_0)
{
    int n = 2 + _i;
    const char *bin = getenv("MT_BIN");
    const char *src = getenv("MT_SRCDIR");
    char *cmd = mt_xasprintf("'%s' --plain --stage %d --lessons '%s/lessons' 2>&1",
                             bin ? bin : "build/ministry-tutor", n, src ? src : ".");
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    mt_str b = {0};
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, p)) > 0) {
        mt_str_addn(&b, buf, got);
    }
    int st = pclose(p);
    char *out = mt_str_take(&b);
    size_t len = strlen(out);
    const char *tail = len > 1000 ? out + len - 1000 : out;
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "`%s` exited with %d:\n%s", cmd,
                  WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), tail);
    const char *bad[] = {"RESTORED", "WARNING", "Traceback"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (strstr(out, bad[i]) != NULL) {
            char *l = line_with(out, bad[i]);
            ck_abort_msg("`%s` printed: %.500s", cmd, l);
        }
    }
    ck_assert_msg(strstr(out, "[pristine]") != NULL, "`%s` showed no step: %s", cmd, tail);
    free(out);
    free(cmd);
}
END_TEST

Suite *
mt_lessons_int_type_suite(void)
{
    Suite *s = suite_create("lessons-int-type");
    TCase *tc = tcase_create("effects");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_dictproxy_effects);
    tcase_add_test(tc, test_tp_as_number_effects);
    tcase_add_test(tc, test_dis_effects);
    tcase_add_loop_test(tc, test_plain_stage_exits_0, 0, 3);
    suite_add_tcase(s, tc);
    return s;
}
