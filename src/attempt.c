/* attempt.c — an exercise attempt request and its wire form. */
#include "attempt.h"

#include <stdlib.h>
#include <string.h>

void
mt_attempt_encode(mt_wbuf *b, const mt_attempt *a)
{
    mt_wire_u32(b, (uint32_t)a->stage);
    mt_wire_u32(b, (uint32_t)a->index);
    mt_wire_str(b, a->path);
    mt_wire_str(b, a->source);
    mt_wire_str(b, a->check);
    mt_wire_str(b, a->check_file);
    mt_wire_u32(b, (uint32_t)a->check_line);
    mt_wire_f64(b, a->timeout);
}

int
mt_attempt_decode(const uint8_t *p, size_t n, mt_attempt *a)
{
    mt_rbuf r = {p, n, 0};
    a->stage = (int)mt_wire_get_u32(&r);
    a->index = (int)mt_wire_get_u32(&r);
    a->path = mt_wire_get_str(&r);
    a->source = mt_wire_get_str(&r);
    a->check = mt_wire_get_str(&r);
    a->check_file = mt_wire_get_str(&r);
    a->check_line = (int)mt_wire_get_u32(&r);
    a->timeout = mt_wire_get_f64(&r);
    if (r.bad || r.left != 0 || !(a->timeout >= 0 && a->timeout <= 86400)
        || a->check_line < 0) {
        mt_attempt_clear(a);
        return -1;
    }
    return 0;
}

void
mt_attempt_clear(mt_attempt *a)
{
    free(a->path);
    free(a->source);
    free(a->check);
    free(a->check_file);
    memset(a, 0, sizeof *a);
}
