/* check_main.c — the test runner: every suite of tests/check_*.c, one summary. */
#include "pyver.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define MT_SUITE(fn) Suite *fn(void);
#include "suites.h"
#undef MT_SUITE

static const struct {
    const char *name;
    Suite *(*make)(void);
} suites[] = {
#define MT_SUITE(fn) {#fn, fn},
#include "suites.h"
#undef MT_SUITE
};

#include "lesson.h"

int
main(int argc, char **argv)
{
    /* check_ministry [WORD]: only the suites whose function name holds WORD
     * (also from $MT_SUITE), e.g. "mem" runs mt_mem_suite. */
    const char *only = argc > 1 ? argv[1] : getenv("MT_SUITE");
    /* This binary's engine is one CPython's: lessons read in-process read
     * as that version's worker reads them. */
    mt_lesson_for_python(PY_MINOR_VERSION);
    SRunner *sr = NULL;
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        if (only != NULL && *only != '\0' && strstr(suites[i].name, only) == NULL) {
            continue;
        }
        Suite *s = suites[i].make();
        if (sr == NULL) {
            sr = srunner_create(s);
        } else {
            srunner_add_suite(sr, s);
        }
    }
    if (sr == NULL) {
        return EXIT_FAILURE;
    }
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
