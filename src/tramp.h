/* tramp.h — a jump written over the first bytes of a function, and taken
 * back: the trampoline of stage 7, in C. */
#ifndef MT_TRAMP_H
#define MT_TRAMP_H

#include <stddef.h>
#include <stdint.h>

#define MT_TRAMP_MAX 14

/* Encode a jump placed at src that lands on dst into out (MT_TRAMP_MAX
 * bytes).  When dst - (src + 5) fits in int32: E9 rel32 (5 bytes);
 * otherwise, or when force_far: FF 25 00000000 followed by the 8-byte
 * absolute address (14 bytes).  Returns the length written. */
size_t mt_tramp_encode(uint64_t src, uint64_t dst, int force_far,
                       uint8_t out[MT_TRAMP_MAX]);

/* One installed trampoline.  Plain value: the caller owns it. */
typedef struct mt_tramp {
    uintptr_t at, to;
    size_t len;
    uint8_t saved[MT_TRAMP_MAX];     /* original bytes */
    uint8_t written[MT_TRAMP_MAX];   /* the jump */
    int installed;
} mt_tramp;

/* Write a jump at `at` to `to` (see mt_tramp_encode), saving the original
 * bytes in t.  Page permissions are read from /proc/self/maps before and
 * restored after, page by page.  Installing an installed t is an error
 * that changes nothing.  Returns 0, or -1 with a malloc'ed *err. */
int mt_tramp_install(mt_tramp *t, uintptr_t at, uintptr_t to, int force_far,
                     char **err);

/* Put the saved bytes back.  Refuses (-1, *err says why, memory untouched)
 * when t is not installed or when the bytes at t->at are no longer the
 * jump it wrote. */
int mt_tramp_remove(mt_tramp *t, char **err);

#endif
