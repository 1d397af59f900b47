/* session.c — steps run in the embedded interpreter, their regions
 * snapshotted before and after, and every stage put back when it is left. */
#include "session.h"
#include "disasm.h"
#include "interp.h"
#include "layout.h"
#include "mem.h"
#include "symbols.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MT_REGION_MAX 4096     /* longest region a watch may ask for */
#define MT_INSN_MAX 32         /* instructions shown per code region */

/* Bytes of a region as they were when the stage first watched it. */
typedef struct pristine {
    uintptr_t addr;
    size_t len;
    const mt_layout *layout;
    char *label;
    uint8_t *bytes, *ok;
} pristine;

struct mt_session {
    mt_lesson *const *lessons;
    size_t nlessons;
    long cur;                  /* open stage index, -1 when none */
    int done;                  /* last step run, -1 when none */
    mt_ns *ns;
    unsigned long clock;       /* counts steps run in this stage */
    unsigned long *ran_at;     /* per step: clock when it last ran (0 never) */
    unsigned long last_patch;  /* clock of the last patch step */
    pristine *pris;
    size_t npris;
    int want_roles;            /* tokenize each step's code for colour */
    int stop_on_error;         /* refuse steps after a failed one */
    int failed;                /* a step of the open stage failed */
};

void (*mt_session_step_hook)(int stage, int step, double timeout);

double
mt_session_default_timeout(void)
{
    const char *e = getenv("MINISTRY_STEP_TIMEOUT");
    double t = e != NULL ? strtod(e, NULL) : 0;
    return t > 0 && t <= MT_TIMEOUT_MAX ? t : 10.0;   /* main.c refuses the rest */
}

mt_session *
mt_session_new(mt_lesson *const *lessons, size_t n)
{
    mt_session *s = mt_xcalloc(1, sizeof *s);
    s->lessons = lessons;
    s->nlessons = n;
    s->cur = -1;
    s->done = -1;
    return s;
}

void
mt_session_want_roles(mt_session *s, int on)
{
    s->want_roles = on;
}

void
mt_session_stop_on_error(mt_session *s, int on)
{
    s->stop_on_error = on;
}

void
mt_session_free(mt_session *s)
{
    if (s == NULL) {
        return;
    }
    mt_result_free(mt_session_leave(s));
    free(s);
}

/* ---- snapshots --------------------------------------------------------- */

/* One side (before or after) of a region. */
typedef struct snap {
    uint8_t *bytes, *ok;
    char perms[5];
    char **value, **decoded;    /* per field */
    mt_insn_result *insn;
    uint32_t ninsn;
} snap;

static void
snap_take(snap *sn, uintptr_t addr, size_t len, const mt_layout *l, int is_code)
{
    sn->bytes = mt_xcalloc(len, 1);
    sn->ok = mt_xcalloc(len, 1);
    mt_mem_read(addr, sn->bytes, len, sn->ok);
    if (is_code) {
        mt_mem_perms(addr, sn->perms);   /* a read of /proc/self/maps */
    }
    sn->value = mt_xcalloc(l->nfields, sizeof *sn->value);
    sn->decoded = mt_xcalloc(l->nfields, sizeof *sn->decoded);
    for (size_t i = 0; i < l->nfields; i++) {
        const mt_field *f = &l->fields[i];
        char v[256] = "", d[256] = "";
        if (f->offset + f->size <= len) {
            mt_layout_format(f, sn->bytes, sn->ok, v, sizeof v, d, sizeof d);
        }
        sn->value[i] = mt_xstrdup(v);
        sn->decoded[i] = mt_xstrdup(d);
    }
    if (is_code) {
        size_t good = 0;
        while (good < len && sn->ok[good]) {
            good++;
        }
        mt_insn insn[MT_INSN_MAX];
        size_t n = mt_disasm(sn->bytes, good, addr, insn, MT_INSN_MAX);
        sn->insn = mt_xcalloc(n, sizeof *sn->insn);
        sn->ninsn = (uint32_t)n;
        for (size_t i = 0; i < n; i++) {
            char name[256] = "";
            if (insn[i].target != 0) {
                mt_sym_name((uintptr_t)insn[i].target, name, sizeof name);
            }
            sn->insn[i].address = insn[i].address;
            sn->insn[i].size = insn[i].size;
            sn->insn[i].text = mt_xstrdup(insn[i].text);
            sn->insn[i].target = mt_xstrdup(name);
        }
    }
}

/* Field result for the bytes [off, off + size) of g, shown as bytes on
 * both sides; decoded says what they are.  Returns it (in g->fields). */
static mt_field_result *
bytes_row(mt_region_result *g, mt_field_result *fr, const char *name, size_t off,
          size_t size, unsigned flags, const char *decoded)
{
    const mt_field f = {name, (uint32_t)off, (uint32_t)size, MT_FK_BYTES, flags, NULL};
    char v[256], d[256];
    char *old = fr->name;      /* the tail row keeps its name: name may be it */
    fr->name = mt_xstrdup(name);
    free(old);
    fr->offset = f.offset;
    fr->size = f.size;
    fr->kind = f.kind;
    fr->flags = f.flags;
    mt_layout_format(&f, g->before, g->ok_before, v, sizeof v, d, sizeof d);
    free(fr->value_before);
    fr->value_before = mt_xstrdup(v);
    mt_layout_format(&f, g->after, g->ok_after, v, sizeof v, d, sizeof d);
    free(fr->value_after);
    fr->value_after = mt_xstrdup(v);
    free(fr->decoded_before);
    fr->decoded_before = mt_xstrdup(decoded);
    free(fr->decoded_after);
    fr->decoded_after = mt_xstrdup(decoded);
    return fr;
}

/* When the object's own tail (a code object's bytecode) ends inside the
 * region, the tail row shows only those bytes, and what follows gets rows
 * of its own: "padding" for the rest of the object's allocation, "beyond"
 * for bytes past it.  g->fields has room for two more rows. */
static void
split_tail(mt_region_result *g, const mt_layout *l)
{
    mt_tail_extent x;
    mt_field_result *tail = g->nfields ? &g->fields[g->nfields - 1] : NULL;
    if (tail == NULL || !(tail->flags & MT_FF_TAIL)
        || (mt_layout_tail_extent(l, g->after, g->ok_after, g->len, &x) < 0
            && mt_layout_tail_extent(l, g->before, g->ok_before, g->len, &x) < 0)) {
        return;
    }
    size_t at = tail->offset;
    if (at + x.own >= g->len) {
        return;             /* the region ends inside the object's own bytes */
    }
    char *what = mt_xasprintf("Py_SIZE = %zu %s", x.items, x.unit);
    bytes_row(g, tail, tail->name, at, x.own, tail->flags & ~(unsigned)MT_FF_TAIL, what);
    free(what);
    size_t end = at + x.own + x.pad < g->len ? at + x.own + x.pad : g->len;
    if (end > at + x.own) {
        bytes_row(g, &g->fields[g->nfields++], "padding", at + x.own, end - (at + x.own),
                  MT_FF_VOLATILE, "unused: the allocation rounded up");
    }
    if (end < g->len) {
        bytes_row(g, &g->fields[g->nfields++], "beyond", end, g->len - end,
                  MT_FF_VOLATILE, "past the object's allocation");
    }
}

/* Move both sides into the result's region g (fields from layout l). */
static void
region_fill(mt_region_result *g, const mt_layout *l, size_t len, snap *b, snap *a)
{
    g->len = (uint32_t)len;
    g->before = b->bytes;
    g->ok_before = b->ok;
    g->after = a->bytes;
    g->ok_after = a->ok;
    memcpy(g->perms_before, b->perms, 5);
    memcpy(g->perms_after, a->perms, 5);
    size_t nf = 0;
    g->fields = mt_xcalloc(l->nfields + 2, sizeof *g->fields);   /* split_tail */
    for (size_t i = 0; i < l->nfields; i++) {
        const mt_field *f = &l->fields[i];
        if (f->offset + f->size > len) {
            free(b->value[i]);
            free(b->decoded[i]);
            free(a->value[i]);
            free(a->decoded[i]);
            continue;
        }
        mt_field_result *fr = &g->fields[nf++];
        fr->name = mt_xstrdup(f->name);
        fr->offset = f->offset;
        fr->size = f->size;
        fr->kind = f->kind;
        fr->flags = f->flags;
        fr->value_before = b->value[i];
        fr->decoded_before = b->decoded[i];
        fr->value_after = a->value[i];
        fr->decoded_after = a->decoded[i];
    }
    g->nfields = (uint32_t)nf;
    split_tail(g, l);
    free(b->value);
    free(b->decoded);
    free(a->value);
    free(a->decoded);
    g->insn_before = b->insn;
    g->ninsn_before = b->ninsn;
    g->insn_after = a->insn;
    g->ninsn_after = a->ninsn;
}

static void
remember_pristine(mt_session *s, uintptr_t addr, size_t len, const mt_layout *l,
                  const char *label, const uint8_t *bytes, const uint8_t *ok)
{
    for (size_t i = 0; i < s->npris; i++) {
        if (s->pris[i].addr == addr && s->pris[i].len == len) {
            return;
        }
    }
    s->pris = mt_xrealloc(s->pris, (s->npris + 1) * sizeof *s->pris);
    pristine *p = &s->pris[s->npris++];
    p->addr = addr;
    p->len = len;
    p->layout = l;
    p->label = mt_xstrdup(label);
    p->bytes = mt_xmalloc(len);
    p->ok = mt_xmalloc(len);
    memcpy(p->bytes, bytes, len);
    memcpy(p->ok, ok, len);
}

/* Bytes of p that differ now, volatile fields and unreadable bytes
 * excepted; changed[] marks them.  Returns how many. */
static size_t
pristine_diff(const pristine *p, uint8_t *now, uint8_t *changed)
{
    uint8_t ok[MT_REGION_MAX];
    size_t n = 0;
    mt_mem_read(p->addr, now, p->len, ok);
    for (size_t i = 0; i < p->len; i++) {
        const mt_field *f = mt_layout_field_at(p->layout, i);
        changed[i] = p->ok[i] && ok[i] && now[i] != p->bytes[i]
                     && (f == NULL || !(f->flags & MT_FF_VOLATILE));
        n += changed[i];
    }
    return n;
}

static int
any_pristine_differs(mt_session *s)
{
    uint8_t now[MT_REGION_MAX], changed[MT_REGION_MAX];
    for (size_t i = 0; i < s->npris; i++) {
        if (pristine_diff(&s->pris[i], now, changed) > 0) {
            return 1;
        }
    }
    return 0;
}

/* ---- steps ------------------------------------------------------------- */

static void
take_output(mt_step_result *r, char *out, char *err, char *tb)
{
    free(r->out);
    free(r->err);
    free(r->traceback);
    r->out = out;
    r->err = err;
    r->traceback = tb;
}

static void
open_stage(mt_session *s, size_t si)
{
    const mt_lesson *l = s->lessons[si];
    char name[64];
    snprintf(name, sizeof name, "__lesson_%02d__", l->number);
    s->cur = (long)si;
    s->done = -1;
    s->failed = 0;
    s->clock = 0;
    s->last_patch = 0;
    s->ns = mt_interp_ns_new("__main__");
    (void)name;
    s->ran_at = mt_xcalloc(l->nsteps ? l->nsteps : 1, sizeof *s->ran_at);
}

/* Watch w's region at addr, len bytes: its before (moved from *before)
 * and its after, read now, into g. */
static void
region_add(mt_region_result *g, const mt_watch *w, const mt_layout *lay, uintptr_t addr,
           size_t len, snap *before)
{
    int is_code = strcmp(w->layout, "code") == 0;
    snap after = {0};
    snap_take(&after, addr, len, lay, is_code);
    char sym[256] = "";
    g->label = mt_xstrdup(w->label);
    g->expr = mt_xstrdup(w->expr);
    g->layout = mt_xstrdup(w->layout);
    mt_sym_name(addr, sym, sizeof sym);
    g->symbol = mt_xstrdup(sym);
    g->address = addr;
    g->is_code = is_code;
    region_fill(g, lay, len, before, &after);
}

static mt_step_result *
run_step(mt_session *s, int k)
{
    const mt_lesson *l = s->lessons[s->cur];
    const mt_step *st = &l->steps[k];
    mt_step_result *r = mt_result_new();
    r->stage = l->number;
    r->step = k;
    if (s->want_roles) {
        free(r->code_roles);
        r->code_roles = mt_interp_code_roles(st->code);
    }

    /* The time limit covers the watch expressions too: they are the
     * lesson's Python as much as the cell is, and may loop or crash. */
    if (mt_session_step_hook != NULL) {
        double limit = st->timeout > 0 ? st->timeout : mt_session_default_timeout();
        mt_session_step_hook(l->number, k, limit < MT_TIMEOUT_MAX ? limit : MT_TIMEOUT_MAX);
    }

    size_t nw = st->nwatches;
    r->regions = mt_xcalloc(nw, sizeof *r->regions);
    uintptr_t *addr = mt_xcalloc(nw ? nw : 1, sizeof *addr);
    int *known = mt_xcalloc(nw ? nw : 1, sizeof *known);
    snap *before = mt_xcalloc(nw ? nw : 1, sizeof *before);
    mt_str werr = {0};

    for (size_t i = 0; i < nw; i++) {
        const mt_watch *w = &st->watches[i];
        const mt_layout *lay = mt_layout_find(w->layout);
        char *e = NULL;
        if (lay == NULL) {
            continue;   /* refused when the lessons were loaded */
        }
        size_t len = w->len >= 0 ? (size_t)w->len : lay->size;
        if (len > MT_REGION_MAX) {
            len = MT_REGION_MAX;
        }
        if (mt_interp_address(s->ns, w->expr, &addr[i], &e) == 0) {
            known[i] = 1;
            snap_take(&before[i], addr[i], len, lay, strcmp(w->layout, "code") == 0);
        }
        free(e);   /* not known yet: the step may define it */
    }

    char *out, *err, *tb;
    double t0 = mt_now();
    int rc = mt_interp_run(s->ns, st->code, l->path, st->code_line, &out, &err, &tb);
    r->seconds = mt_now() - t0;
    take_output(r, out, err, tb);
    r->status = rc == 0 ? MT_ST_OK : MT_ST_ERROR;
    s->ran_at[k] = ++s->clock;
    if (st->kind == MT_STEP_PATCH) {
        s->last_patch = s->clock;
    }

    uint32_t ng = 0;
    for (size_t i = 0; i < nw; i++) {
        const mt_watch *w = &st->watches[i];
        const mt_layout *lay = mt_layout_find(w->layout);
        if (lay == NULL) {
            continue;
        }
        size_t len = w->len >= 0 ? (size_t)w->len : lay->size;
        if (len > MT_REGION_MAX) {
            len = MT_REGION_MAX;
        }
        int is_code = strcmp(w->layout, "code") == 0;
        if (!known[i]) {
            char *e = NULL;
            if (mt_interp_address(s->ns, w->expr, &addr[i], &e) < 0) {
                mt_str_addf(&werr, "%s:%d: watch `%s`: %s\n", l->path, st->line, w->expr, e);
                free(e);
                continue;
            }
            snap_take(&before[i], addr[i], len, lay, is_code);
        }
        if (w->verify) {
            remember_pristine(s, addr[i], len, lay, w->label, before[i].bytes, before[i].ok);
        }
        region_add(&r->regions[ng++], w, lay, addr[i], len, &before[i]);
    }
    r->nregions = ng;
    if (werr.len > 0) {
        /* A watch that cannot be evaluated is the lesson's error: say where. */
        char *msg = mt_str_take(&werr);
        char *tb2 = mt_xasprintf("%s%s", r->traceback, msg);
        free(r->traceback);
        r->traceback = tb2;
        free(msg);
        r->status = MT_ST_ERROR;
    }
    free(addr);
    free(known);
    free(before);
    /* Whatever a step did, no mapping stays writable and executable. */
    mt_str wx = {0};
    if (mt_interp_wx_enforce(&wx) > 0) {
        r->restored = 1;
        for (char *line = strtok(wx.s, "\n"); line != NULL; line = strtok(NULL, "\n")) {
            mt_result_note(r, "RESTORED by the host after the step: %s", line);
        }
    }
    free(wx.s);
    s->done = k;
    r->patched = (uint32_t)(mt_interp_patched() || any_pristine_differs(s));
    return r;
}

/* ---- leaving a stage ---------------------------------------------------- */

static void
restore_regions(mt_session *s, mt_step_result *r)
{
    uint8_t now[MT_REGION_MAX], changed[MT_REGION_MAX];
    for (size_t i = 0; i < s->npris; i++) {
        pristine *p = &s->pris[i];
        size_t n = pristine_diff(p, now, changed);
        if (n == 0) {
            continue;
        }
        mt_mapping m;
        int mapped = mt_mem_mapping(p->addr, &m) == 0;
        /* Only the interpreter's own static data and code are put back
         * byte by byte: heap memory may have been freed and reused. */
        r->restored = 1;
        if (!mapped || m.path[0] == '\0' || m.path[0] == '[') {
            mt_result_note(r, "WARNING: %zu bytes of %s at 0x%lx still differ from "
                           "pristine (heap memory: left alone)",
                           n, p->label, (unsigned long)p->addr);
            continue;
        }
        int failed = 0;
        for (size_t j = 0; j < p->len;) {
            if (!changed[j]) {
                j++;
                continue;
            }
            size_t e = j;
            while (e < p->len && changed[e]) {
                e++;
            }
            char *err = NULL;
            if (mt_mem_write_protected(p->addr + j, p->bytes + j, e - j, &err) < 0) {
                mt_result_note(r, "RESTORE FAILED: %s", err);
                failed = 1;
            }
            free(err);
            j = e;
        }
        if (!failed) {
            /* Name the fields, not just the bytes: that is what was missed. */
            mt_str names = {0};
            const mt_field *last = NULL;
            for (size_t j = 0; j < p->len; j++) {
                const mt_field *f = changed[j] ? mt_layout_field_at(p->layout, j) : NULL;
                if (f != NULL && f != last) {
                    mt_str_addf(&names, "%s%s", names.len ? ", " : "", f->name);
                    last = f;
                }
            }
            mt_result_note(r, "RESTORED: %s of %s (%s at 0x%lx, %zu byte%s) was still "
                           "changed after the stage's revert steps; put back from the "
                           "pristine snapshot", names.len ? names.s : "raw bytes",
                           p->label, p->layout->name, (unsigned long)p->addr, n,
                           n == 1 ? "" : "s");
            free(names.s);
        }
    }
}

mt_step_result *
mt_session_leave(mt_session *s)
{
    mt_step_result *r = mt_result_new();
    if (s->cur < 0) {
        return r;
    }
    const mt_lesson *l = s->lessons[s->cur];
    r->stage = l->number;

    /* Revert steps that have not run since the last patch. */
    if (s->last_patch > 0) {
        for (size_t k = 0; k < l->nsteps; k++) {
            if (l->steps[k].kind != MT_STEP_REVERT || s->ran_at[k] > s->last_patch) {
                continue;
            }
            mt_step_result *rr = run_step(s, (int)k);
            if (rr->status != MT_ST_OK) {
                size_t n;
                const char *last = mt_result_tb_last(rr->traceback, &n);
                mt_result_note(r, "revert step %zu (%s) raised: %.*s", k + 1,
                               l->steps[k].title, (int)n, last);
            } else {
                mt_result_note(r, "ran revert step %zu (%s)", k + 1, l->steps[k].title);
            }
            mt_result_free(rr);
        }
    }

    restore_regions(s, r);
    char *rep = NULL;
    int found = mt_interp_guard_check(1, &rep);
    if (found) {
        r->restored = 1;
        char *line = strtok(rep, "\n");
        for (; line != NULL; line = strtok(NULL, "\n")) {
            /* Lines the guard could mend say so; the rest are warnings. */
            mt_result_note(r, "%s by the host's guard: %s",
                           strstr(line, ": restored") ? "RESTORED" : "WARNING", line);
        }
    }
    free(rep);
    if (found == 2) {
        /* Not everything could be put back: this interpreter is done. */
        r->restored = MT_RESTORED_LOST;
        mt_result_note(r, "The host could not put everything back (above): a fresh worker "
                          "takes over before the next stage.");
    }

    mt_interp_ns_free(s->ns);
    s->ns = NULL;
    for (size_t i = 0; i < s->npris; i++) {
        free(s->pris[i].label);
        free(s->pris[i].bytes);
        free(s->pris[i].ok);
    }
    free(s->pris);
    s->pris = NULL;
    s->npris = 0;
    free(s->ran_at);
    s->ran_at = NULL;
    s->cur = -1;
    s->done = -1;
    r->patched = (uint32_t)mt_interp_patched();
    if (r->patched) {
        mt_result_note(r, "WARNING: the interpreter is still not pristine");
    }
    return r;
}

mt_step_result *
mt_session_goto(mt_session *s, size_t si, int k)
{
    if (si >= s->nlessons || k < -1 || k >= (int)s->lessons[si]->nsteps) {
        mt_step_result *r = mt_result_new();
        r->status = MT_ST_FAIL;
        mt_result_note(r, "no such stage or step");
        return r;
    }
    mt_step_result *notes = NULL;
    if (s->cur != (long)si || k <= s->done) {
        notes = mt_session_leave(s);
        if (notes->restored == MT_RESTORED_LOST) {
            return notes;     /* the next stage opens in a fresh worker */
        }
    }
    if (s->cur < 0) {
        open_stage(s, si);
    }
    mt_step_result *r = NULL;
    if (s->stop_on_error && s->failed && s->done < k) {
        r = mt_result_new();
        r->stage = s->lessons[si]->number;
        r->step = k;
        r->status = MT_ST_FAIL;
        mt_result_note(r, "not run: an earlier step of this stage failed");
    }
    while (r == NULL && s->done < k) {
        r = run_step(s, s->done + 1);
        if (r->status != MT_ST_OK) {
            s->failed = 1;
            if (s->done < k) {
                mt_result_note(r, "stopped at step %d: it raised", s->done + 1);
            }
        } else if (s->done < k) {
            mt_result_free(r);
            r = NULL;
        }
    }
    if (r == NULL) {
        r = mt_result_new();
        r->stage = s->lessons[si]->number;
        r->step = -1;
        r->patched = (uint32_t)mt_interp_patched();
    }
    if (notes != NULL) {
        if (*notes->notes) {
            char *n = mt_xasprintf("%s%s", notes->notes, r->notes);
            free(r->notes);
            r->notes = n;
        }
        mt_result_free(notes);
    }
    return r;
}

mt_step_result *
mt_session_prompt(mt_session *s, const char *src)
{
    mt_step_result *r = mt_result_new();
    if (s->ns == NULL) {
        s->ns = mt_interp_ns_new("__main__");
    }
    /* The regions the last step run watches, read around the entry, so
     * that the memory pane can show what the entry did to them. */
    const mt_step *st = s->cur >= 0 && s->done >= 0 ? &s->lessons[s->cur]->steps[s->done] : NULL;
    size_t nw = st ? st->nwatches : 0;
    uintptr_t *addr = mt_xcalloc(nw ? nw : 1, sizeof *addr);
    size_t *len = mt_xcalloc(nw ? nw : 1, sizeof *len);
    snap *before = mt_xcalloc(nw ? nw : 1, sizeof *before);
    for (size_t i = 0; i < nw; i++) {
        const mt_watch *w = &st->watches[i];
        const mt_layout *lay = mt_layout_find(w->layout);
        char *e = NULL;
        if (lay != NULL && mt_interp_address(s->ns, w->expr, &addr[i], &e) == 0) {
            len[i] = w->len >= 0 ? (size_t)w->len : lay->size;
            len[i] = len[i] > MT_REGION_MAX ? MT_REGION_MAX : len[i];
            snap_take(&before[i], addr[i], len[i], lay, strcmp(w->layout, "code") == 0);
        }
        free(e);
    }
    char *out, *err, *tb;
    int more = 0;
    int rc = mt_interp_prompt(s->ns, src, &out, &err, &tb, &more);
    take_output(r, out, err, tb);
    r->status = more ? MT_ST_MORE : rc == 0 ? MT_ST_OK : MT_ST_ERROR;
    r->regions = mt_xcalloc(nw ? nw : 1, sizeof *r->regions);
    for (size_t i = 0; i < nw; i++) {
        if (len[i] > 0) {
            region_add(&r->regions[r->nregions++], &st->watches[i],
                       mt_layout_find(st->watches[i].layout), addr[i], len[i], &before[i]);
        }
    }
    free(addr);
    free(len);
    free(before);
    if (s->cur >= 0) {
        r->stage = s->lessons[s->cur]->number;
        r->step = s->done;
    }
    r->patched = (uint32_t)(mt_interp_patched() || any_pristine_differs(s));
    return r;
}

/* Every watch must name a layout this build knows. */
static int
check_layouts(const mt_lesson *l, char **err)
{
    for (size_t k = 0; k < l->nsteps; k++) {
        const mt_step *st = &l->steps[k];
        for (size_t w = 0; w < st->nwatches; w++) {
            if (mt_layout_find(st->watches[w].layout) != NULL) {
                continue;
            }
            size_t n;
            const mt_layout *all = mt_layout_all(&n);
            mt_str known = {0};
            for (size_t i = 0; i < n; i++) {
                mt_str_addf(&known, "%s%s", i ? ", " : "", all[i].name);
            }
            *err = mt_xasprintf("%s:%d: unknown layout '%s' in watch `%s` (known: %s)",
                                l->path, st->line, st->watches[w].layout,
                                st->watches[w].expr, known.s);
            free(known.s);
            return -1;
        }
    }
    return 0;
}

int
mt_session_check(mt_lesson *const *lessons, size_t n, char **err)
{
    for (size_t i = 0; i < n; i++) {
        if (check_layouts(lessons[i], err) < 0) {
            return -1;
        }
    }
    return 0;
}
