/* attempt.h — one attempt at an exercise as the frontend asks the worker
 * for it: plain data, and its wire form. */
#ifndef MT_ATTEMPT_H
#define MT_ATTEMPT_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* Everything the worker needs, so that it reads no file of its own: the
 * learner's source as it was when the frontend read it, and the check
 * from the lesson. */
typedef struct mt_attempt {
    int stage, index;        /* exercise N.K */
    char *path;              /* the learner's file, for tracebacks */
    char *source;            /* its text */
    char *check;             /* the exercise's check (Python) */
    char *check_file;        /* the lesson it comes from, for tracebacks */
    int check_line;          /* its first line in that file */
    double timeout;          /* seconds for the file and the check; 0: default */
} mt_attempt;

/* Append a's wire form to b. */
void mt_attempt_encode(mt_wbuf *b, const mt_attempt *a);

/* Read what mt_attempt_encode wrote (n bytes at p) into *a, whose strings
 * are then malloc'ed (free with mt_attempt_clear).  Returns 0, or -1 when
 * the bytes are malformed (*a is then cleared). */
int mt_attempt_decode(const uint8_t *p, size_t n, mt_attempt *a);

/* Free a's strings and zero it. */
void mt_attempt_clear(mt_attempt *a);

#endif
