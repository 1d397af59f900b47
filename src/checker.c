/* checker.c — one attempt at an exercise, in the worker: the learner's
 * file, the check, the guard. */
#include "checker.h"
#include "interp.h"
#include "session.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* The last non-empty line of a traceback (its "Type: message"), malloc'ed. */
static char *
last_line(const char *tb)
{
    size_t n = strlen(tb);
    while (n > 0 && tb[n - 1] == '\n') {
        n--;
    }
    size_t s = n;
    while (s > 0 && tb[s - 1] != '\n') {
        s--;
    }
    return mt_xstrndup(tb + s, n - s);
}

/* The verdict a failed check gives: its assertion's message, or what it
 * raised.  *said is 1 when the check said what is wrong itself (an
 * assert, a NotImplementedError), 0 when it stopped on something else. */
static char *
check_failure(const char *tb, int *said)
{
    static const char assert_prefix[] = "AssertionError: ";
    static const char na_prefix[] = "NotImplementedError: ";
    char *line = last_line(tb);
    char *v;
    *said = 1;
    if (strncmp(line, assert_prefix, sizeof assert_prefix - 1) == 0) {
        v = mt_xstrdup(line + sizeof assert_prefix - 1);
    } else if (strcmp(line, "AssertionError") == 0) {
        v = mt_xstrdup("the check failed (its assert gives no message)");
    } else if (strncmp(line, na_prefix, sizeof na_prefix - 1) == 0) {
        v = mt_xasprintf("this exercise does not apply to Python %.*s: %s",
                         (int)strcspn(mt_interp_version(), " "), mt_interp_version(),
                         line + sizeof na_prefix - 1);
    } else {
        *said = 0;
        v = mt_xasprintf("the check stopped at %s", line);
    }
    free(line);
    return v;
}

/* Append what a run printed to r's out and err. */
static void
keep_output(mt_str *out, mt_str *err, char *o, char *e)
{
    mt_str_add(out, o);
    mt_str_add(err, e);
    free(o);
    free(e);
}

mt_step_result *
mt_checker_run(const mt_attempt *a)
{
    mt_step_result *r = mt_result_new();
    mt_str out = {0}, err = {0};
    char *o, *e, *tb = NULL, *verdict = NULL;

    r->stage = a->stage;
    if (mt_session_step_hook != NULL) {
        mt_session_step_hook(a->stage, -1,
                             a->timeout > 0 ? a->timeout : mt_session_default_timeout());
    }
    double t0 = mt_now();
    mt_ns *ns = mt_interp_ns_new("__main__");
    if (mt_interp_run(ns, a->source, a->path, 1, &o, &e, &tb) < 0) {
        r->status = MT_ST_ERROR;
        char *line = last_line(tb);
        verdict = mt_xasprintf("your file raised %s", line);
        free(line);
    }
    keep_output(&out, &err, o, e);
    if (r->status == MT_ST_OK) {
        free(tb);
        if (mt_interp_run(ns, a->check, a->check_file, a->check_line, &o, &e, &tb) < 0) {
            int said;
            r->status = MT_ST_FAIL;
            verdict = check_failure(tb, &said);
            if (said) {
                /* What the check said is the verdict: its traceback is
                 * the check's inside, not the learner's business. */
                tb[0] = '\0';
            }
        }
        keep_output(&out, &err, o, e);
    }
    r->seconds = mt_now() - t0;

    /* The guard's verdict, namespace and all still alive: what the
     * learner left changed is put back and named. */
    char *report = NULL;
    if (mt_interp_guard_check(1, &report) != 0) {
        r->restored = 1;
        if (r->status == MT_ST_OK) {
            r->status = MT_ST_FAIL;
            size_t n = strcspn(report, "\n");
            verdict = mt_xasprintf("the check passed, but the interpreter was not left as "
                                   "it was: %.*s", (int)n, report);
        }
    }
    mt_interp_ns_free(ns);
    mt_result_note(r, "%s", verdict != NULL ? verdict : "solved");
    if (report != NULL && *report != '\0') {
        mt_result_note(r, "The host's guard found, after your file and the check:\n%s",
                       report);
    }
    free(report);
    free(verdict);
    free(r->out);
    free(r->err);
    free(r->traceback);
    r->out = mt_str_take(&out);
    r->err = mt_str_take(&err);
    r->traceback = tb != NULL ? tb : mt_xstrdup("");
    return r;
}
