/* result.c — step results: construction, notes, and their wire encoding. */
#include "result.h"
#include "util.h"
#include "wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decoded arrays are bounded by what the bytes can hold: a count larger
 * than the bytes left is malformed before anything is allocated. */
#define MT_MIN_ITEM 4

mt_step_result *
mt_result_new(void)
{
    mt_step_result *r = mt_xcalloc(1, sizeof *r);
    r->step = -1;
    r->out = mt_xstrdup("");
    r->err = mt_xstrdup("");
    r->traceback = mt_xstrdup("");
    r->code_roles = mt_xstrdup("");
    r->notes = mt_xstrdup("");
    return r;
}

static void
insns_free(mt_insn_result *v, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        free(v[i].text);
        free(v[i].target);
    }
    free(v);
}

void
mt_result_free(mt_step_result *r)
{
    if (r == NULL) {
        return;
    }
    for (uint32_t i = 0; i < r->nregions; i++) {
        mt_region_result *g = &r->regions[i];
        free(g->label);
        free(g->expr);
        free(g->layout);
        free(g->symbol);
        free(g->before);
        free(g->after);
        free(g->ok_before);
        free(g->ok_after);
        for (uint32_t j = 0; j < g->nfields; j++) {
            mt_field_result *f = &g->fields[j];
            free(f->name);
            free(f->value_before);
            free(f->value_after);
            free(f->decoded_before);
            free(f->decoded_after);
        }
        free(g->fields);
        insns_free(g->insn_before, g->ninsn_before);
        insns_free(g->insn_after, g->ninsn_after);
    }
    free(r->regions);
    free(r->out);
    free(r->err);
    free(r->traceback);
    free(r->code_roles);
    free(r->notes);
    free(r);
}

void
mt_result_note(mt_step_result *r, const char *fmt, ...)
{
    size_t len = strlen(r->notes);
    mt_str notes = {r->notes, len, len + 1};
    va_list ap;
    va_start(ap, fmt);
    mt_str_vaddf(&notes, fmt, ap);
    va_end(ap);
    mt_str_addc(&notes, '\n');
    r->notes = mt_str_take(&notes);
}

static void
put_insns(mt_wbuf *b, const mt_insn_result *v, uint32_t n)
{
    mt_wire_u32(b, n);
    for (uint32_t i = 0; i < n; i++) {
        mt_wire_u64(b, v[i].address);
        mt_wire_u32(b, v[i].size);
        mt_wire_str(b, v[i].text);
        mt_wire_str(b, v[i].target);
    }
}

uint8_t *
mt_result_encode(const mt_step_result *r, size_t *len)
{
    mt_wbuf b = {0};
    mt_wire_u32(&b, (uint32_t)r->stage);
    mt_wire_u32(&b, (uint32_t)r->step);
    mt_wire_u32(&b, r->status);
    mt_wire_u32(&b, r->patched);
    mt_wire_u32(&b, r->restored);
    mt_wire_f64(&b, r->seconds);
    mt_wire_str(&b, r->out);
    mt_wire_str(&b, r->err);
    mt_wire_str(&b, r->traceback);
    mt_wire_str(&b, r->code_roles);
    mt_wire_str(&b, r->notes);
    mt_wire_u32(&b, r->nregions);
    for (uint32_t i = 0; i < r->nregions; i++) {
        const mt_region_result *g = &r->regions[i];
        mt_wire_str(&b, g->label);
        mt_wire_str(&b, g->expr);
        mt_wire_str(&b, g->layout);
        mt_wire_str(&b, g->symbol);
        mt_wire_u64(&b, g->address);
        mt_wire_u32(&b, g->is_code);
        mt_wire_bytes(&b, g->before, g->len);
        mt_wire_bytes(&b, g->after, g->len);
        mt_wire_bytes(&b, g->ok_before, g->len);
        mt_wire_bytes(&b, g->ok_after, g->len);
        mt_wire_str(&b, g->perms_before);
        mt_wire_str(&b, g->perms_after);
        mt_wire_u32(&b, g->nfields);
        for (uint32_t j = 0; j < g->nfields; j++) {
            const mt_field_result *f = &g->fields[j];
            mt_wire_str(&b, f->name);
            mt_wire_u32(&b, f->offset);
            mt_wire_u32(&b, f->size);
            mt_wire_u32(&b, f->kind);
            mt_wire_u32(&b, f->flags);
            mt_wire_str(&b, f->value_before);
            mt_wire_str(&b, f->value_after);
            mt_wire_str(&b, f->decoded_before);
            mt_wire_str(&b, f->decoded_after);
        }
        put_insns(&b, g->insn_before, g->ninsn_before);
        put_insns(&b, g->insn_after, g->ninsn_after);
    }
    *len = b.len;
    return b.data;
}

static int
get_count(mt_rbuf *rd, uint32_t *n)
{
    *n = mt_wire_get_u32(rd);
    if (rd->bad || (size_t)*n > rd->left / MT_MIN_ITEM) {
        rd->bad = 1;
        *n = 0;
        return -1;
    }
    return 0;
}

static void
get_perms(mt_rbuf *rd, char out[5])
{
    char *s = mt_wire_get_str(rd);
    snprintf(out, 5, "%s", s);
    free(s);
}

static mt_insn_result *
get_insns(mt_rbuf *rd, uint32_t *n)
{
    if (get_count(rd, n) < 0) {
        return NULL;
    }
    mt_insn_result *v = mt_xcalloc(*n, sizeof *v);
    for (uint32_t i = 0; i < *n; i++) {
        v[i].address = mt_wire_get_u64(rd);
        v[i].size = mt_wire_get_u32(rd);
        v[i].text = mt_wire_get_str(rd);
        v[i].target = mt_wire_get_str(rd);
    }
    return v;
}

mt_step_result *
mt_result_decode(const uint8_t *buf, size_t len)
{
    mt_rbuf rd = {buf, len, 0};
    mt_step_result *r = mt_xcalloc(1, sizeof *r);
    r->stage = (int32_t)mt_wire_get_u32(&rd);
    r->step = (int32_t)mt_wire_get_u32(&rd);
    r->status = mt_wire_get_u32(&rd);
    r->patched = mt_wire_get_u32(&rd);
    r->restored = mt_wire_get_u32(&rd);
    r->seconds = mt_wire_get_f64(&rd);
    r->out = mt_wire_get_str(&rd);
    r->err = mt_wire_get_str(&rd);
    r->traceback = mt_wire_get_str(&rd);
    r->code_roles = mt_wire_get_str(&rd);
    r->notes = mt_wire_get_str(&rd);
    if (get_count(&rd, &r->nregions) < 0) {
        goto bad;
    }
    r->regions = mt_xcalloc(r->nregions, sizeof *r->regions);
    for (uint32_t i = 0; i < r->nregions && !rd.bad; i++) {
        mt_region_result *g = &r->regions[i];
        size_t n[4];
        g->label = mt_wire_get_str(&rd);
        g->expr = mt_wire_get_str(&rd);
        g->layout = mt_wire_get_str(&rd);
        g->symbol = mt_wire_get_str(&rd);
        g->address = mt_wire_get_u64(&rd);
        g->is_code = mt_wire_get_u32(&rd);
        g->before = mt_wire_get_bytes(&rd, &n[0]);
        g->after = mt_wire_get_bytes(&rd, &n[1]);
        g->ok_before = mt_wire_get_bytes(&rd, &n[2]);
        g->ok_after = mt_wire_get_bytes(&rd, &n[3]);
        g->len = (uint32_t)n[0];
        if (n[1] != n[0] || n[2] != n[0] || n[3] != n[0]) {
            rd.bad = 1;
        }
        get_perms(&rd, g->perms_before);
        get_perms(&rd, g->perms_after);
        if (get_count(&rd, &g->nfields) < 0) {
            break;
        }
        g->fields = mt_xcalloc(g->nfields, sizeof *g->fields);
        for (uint32_t j = 0; j < g->nfields; j++) {
            mt_field_result *f = &g->fields[j];
            f->name = mt_wire_get_str(&rd);
            f->offset = mt_wire_get_u32(&rd);
            f->size = mt_wire_get_u32(&rd);
            f->kind = mt_wire_get_u32(&rd);
            f->flags = mt_wire_get_u32(&rd);
            f->value_before = mt_wire_get_str(&rd);
            f->value_after = mt_wire_get_str(&rd);
            f->decoded_before = mt_wire_get_str(&rd);
            f->decoded_after = mt_wire_get_str(&rd);
            if ((uint64_t)f->offset + f->size > g->len) {
                rd.bad = 1;
            }
        }
        g->insn_before = get_insns(&rd, &g->ninsn_before);
        g->insn_after = get_insns(&rd, &g->ninsn_after);
    }
    if (rd.bad || rd.left != 0) {
        goto bad;
    }
    return r;
bad:
    mt_result_free(r);
    return NULL;
}

const char *
mt_result_tb_last(const char *tb, size_t *n)
{
    size_t len = strlen(tb);
    while (len > 0 && tb[len - 1] == '\n') {
        len--;
    }
    const char *last = tb + len;
    while (last > tb && last[-1] != '\n') {
        last--;
    }
    *n = (size_t)(tb + len - last);
    return last;
}
