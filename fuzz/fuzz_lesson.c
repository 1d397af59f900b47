/* fuzz_lesson.c — libFuzzer harness: any bytes through mt_lesson_parse. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "lesson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse the input as a lesson file; a lesson must come with no message and
 * a refusal with one, and both are freed (LeakSanitizer checks the rest). */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *err = NULL;
    mt_lesson *l = mt_lesson_parse("fuzz/01-fuzz.py", (const char *)data,
                                   size, &err);
    if ((l == NULL) == (err == NULL)) {
        abort();
    }
    mt_lesson_free(l);
    free(err);
    return 0;
}
