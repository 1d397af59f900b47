/* tramp.c — a jump written over the first bytes of a function, and taken back (stage 7). */
#include "tramp.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "util.h"

/* x86-64 encodings; the lengths follow from the instruction formats. */
enum {
    JMP_REL32 = 0xE9,        /* jmp rel32: E9 + 4-byte displacement */
    JMP_REL32_LEN = 5,
    JMP_IND = 0xFF,          /* jmp qword ptr [rip+0]: FF 25 + disp32 0 */
    JMP_IND_MODRM = 0x25,
    JMP_ABS_LEN = 14         /* the 6-byte jmp, then the 8-byte address */
};

static void
set_err(char **err, char *msg)
{
    if (err != NULL) {
        *err = msg;
    } else {
        free(msg);
    }
}

/* "e9 12 34 56 78" for a message; malloc'ed. */
static char *
hex(const uint8_t *b, size_t n)
{
    char *s = mt_xmalloc(n * 3 + 1);
    s[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        snprintf(s + 3 * i, 4, i + 1 < n ? "%02x " : "%02x", b[i]);
    }
    return s;
}

/* Encodes the jump at src to dst into out (see tramp.h); returns its
 * length: 5 (E9 rel32) or 14 (FF 25 00000000 + absolute address). */
size_t
mt_tramp_encode(uint64_t src, uint64_t dst, int force_far,
                uint8_t out[MT_TRAMP_MAX])
{
    /* The displacement counts from the end of the 5-byte instruction; the
     * unsigned difference, read as signed, is exact for any two addresses
     * less than 2^63 apart. */
    int64_t rel = (int64_t)(dst - (src + JMP_REL32_LEN));

    if (!force_far && rel >= INT32_MIN && rel <= INT32_MAX) {
        int32_t rel32 = (int32_t)rel;
        out[0] = JMP_REL32;
        memcpy(out + 1, &rel32, sizeof rel32);    /* little-endian host */
        return JMP_REL32_LEN;
    }
    out[0] = JMP_IND;
    out[1] = JMP_IND_MODRM;
    memset(out + 2, 0, 4);
    memcpy(out + 6, &dst, sizeof dst);
    return JMP_ABS_LEN;
}

/* Writes the jump at `at`, keeping the original bytes in t; see tramp.h.
 * t is changed only on success.  *err is malloc'ed, caller frees. */
int
mt_tramp_install(mt_tramp *t, uintptr_t at, uintptr_t to, int force_far,
                 char **err)
{
    mt_tramp n;
    uint8_t check[MT_TRAMP_MAX];
    char *werr = NULL;

    if (err != NULL) {
        *err = NULL;
    }
    if (t->installed) {
        set_err(err, mt_xasprintf("a jump is already installed at 0x%" PRIxPTR
                                  "; remove it first", t->at));
        return -1;
    }
    memset(&n, 0, sizeof n);
    n.at = at;
    n.to = to;
    n.len = mt_tramp_encode(at, to, force_far, n.written);
    if (mt_mem_read(at, n.saved, n.len, NULL) != n.len) {
        set_err(err, mt_xasprintf("cannot read the %zu bytes at 0x%" PRIxPTR
                                  " that the jump would replace", n.len, at));
        return -1;
    }
    if (mt_mem_write_protected(at, n.written, n.len, &werr) != 0) {
        set_err(err, mt_xasprintf("writing the jump at 0x%" PRIxPTR ": %s", at,
                                  werr != NULL ? werr : "failed"));
        free(werr);
        return -1;
    }
    if (mt_mem_read(at, check, n.len, NULL) != n.len
        || memcmp(check, n.written, n.len) != 0) {
        /* Not what we wrote: put the original back and say so. */
        mt_mem_write_protected(at, n.saved, n.len, NULL);
        set_err(err, mt_xasprintf("the jump written at 0x%" PRIxPTR
                                  " did not read back", at));
        return -1;
    }
    n.installed = 1;
    *t = n;
    return 0;
}

/* Puts the saved bytes back, refusing when t is not installed or when the
 * jump was overwritten since; see tramp.h.  *err is malloc'ed. */
int
mt_tramp_remove(mt_tramp *t, char **err)
{
    uint8_t now[MT_TRAMP_MAX];
    char *werr = NULL;

    if (err != NULL) {
        *err = NULL;
    }
    if (!t->installed) {
        set_err(err, mt_xasprintf("no jump is installed here: nothing to remove"));
        return -1;
    }
    size_t got = mt_mem_read(t->at, now, t->len, NULL);
    if (got != t->len || memcmp(now, t->written, t->len) != 0) {
        char *was = hex(t->written, t->len);
        char *is = hex(now, got);
        set_err(err, mt_xasprintf("the bytes at 0x%" PRIxPTR " are no longer the "
                                  "jump written there (wrote %s, now %s); memory "
                                  "left as it is", t->at, was,
                                  got == t->len ? is : "unreadable"));
        free(was);
        free(is);
        return -1;
    }
    if (mt_mem_write_protected(t->at, t->saved, t->len, &werr) != 0) {
        set_err(err, mt_xasprintf("restoring the bytes at 0x%" PRIxPTR ": %s", t->at,
                                  werr != NULL ? werr : "failed"));
        free(werr);
        return -1;
    }
    if (mt_mem_read(t->at, now, t->len, NULL) != t->len
        || memcmp(now, t->saved, t->len) != 0) {
        set_err(err, mt_xasprintf("the original bytes at 0x%" PRIxPTR
                                  " did not read back", t->at));
        return -1;
    }
    t->installed = 0;
    return 0;
}
