/* view.c — turns lessons and step results into styled documents. */
#include "view.h"
#include "layout.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ascii_only;

void
mt_view_set_ascii(int ascii)
{
    ascii_only = ascii;
}

int
mt_view_ascii(void)
{
    return ascii_only;
}

const char *
mt_view_arrow(void)
{
    return ascii_only ? "->" : "→";
}

const char *
mt_view_bullet(void)
{
    return ascii_only ? "*" : "•";
}

const char *
mt_view_dot(void)
{
    return ascii_only ? "-" : "·";
}

/* ---- markdown ---------------------------------------------------------- */

/* One inline run waiting to be wrapped. */
typedef struct run {
    mt_role role;
    char *text;
} run;

typedef struct runs {
    run *v;
    size_t n, cap;
} runs;

static void
runs_add(runs *rs, mt_role role, const char *s, size_t n)
{
    if (n == 0) {
        return;
    }
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 16;
        rs->v = mt_xrealloc(rs->v, rs->cap * sizeof *rs->v);
    }
    rs->v[rs->n].role = role;
    rs->v[rs->n].text = mt_xstrndup(s, n);
    rs->n++;
}

static void
runs_free(runs *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->v[i].text);
    }
    free(rs->v);
    rs->v = NULL;
    rs->n = rs->cap = 0;
}

/* Split inline markdown into runs: `code`, **strong**, *emph* / _emph_. */
static void
parse_inline(runs *rs, const char *s, mt_role base)
{
    const char *p = s, *plain = s;
    while (*p) {
        const char *close = NULL;
        mt_role role = base;
        size_t open = 0;
        if (*p == '`') {
            close = strchr(p + 1, '`');
            role = MT_R_CODE;
            open = 1;
        } else if (p[0] == '*' && p[1] == '*') {
            close = strstr(p + 2, "**");
            role = MT_R_STRONG;
            open = 2;
        } else if ((*p == '*' || *p == '_') && p[1] != ' ' && p[1] != '\0'
                   && (p == s || !isalnum((unsigned char)p[-1]))) {
            close = strchr(p + 1, *p);
            role = MT_R_EMPH;
            open = 1;
            /* snake_case words are not emphasis */
            if (close != NULL && *p == '_' && isalnum((unsigned char)close[1])) {
                close = NULL;
            }
        }
        if (close == NULL || close == p + open) {
            p++;
            continue;
        }
        runs_add(rs, base, plain, (size_t)(p - plain));
        runs_add(rs, role, p + open, (size_t)(close - p - open));
        p = close + open;
        plain = p;
    }
    runs_add(rs, base, plain, (size_t)(p - plain));
}

/* Lay runs out as words wrapped at width, each line starting with indent
 * (the first with first_prefix). */
static void
wrap_runs(mt_doc *d, const runs *rs, int width, const char *first_prefix,
          int indent)
{
    mt_doc_newline(d);
    mt_doc_add(d, MT_R_TEXT, 0, first_prefix);
    int col = indent;
    int at_start = 1;
    int blank = 0;      /* blanks seen since the last word, maybe in an earlier run */
    mt_role prev = MT_R_TEXT;
    for (size_t i = 0; i < rs->n; i++) {
        const char *t = rs->v[i].text;
        while (*t) {
            /* One word and the blanks before it. */
            while (*t == ' ') {
                blank = 1;
                t++;
            }
            const char *w = t;
            while (*t && *t != ' ') {
                t++;
            }
            size_t wl = (size_t)(t - w);
            if (wl == 0) {
                continue;
            }
            int ww = mt_utf8_width(w, wl);
            /* Text glued to this word in the next runs ("`code`," or
             * "**x**s") goes on the same line: count it in. */
            int glued = 0;
            if (*t == '\0') {
                for (size_t j = i + 1; j < rs->n; j++) {
                    const char *g = rs->v[j].text;
                    size_t gl = strcspn(g, " ");
                    glued += mt_utf8_width(g, gl);
                    if (g[gl] == ' ') {
                        break;
                    }
                }
            }
            int space = blank && !at_start;
            if (width > 0 && space && col + 1 + ww + glued > width) {
                mt_doc_newline(d);
                mt_doc_addf(d, MT_R_TEXT, 0, "%*s", indent, "");
                col = indent;
                space = 0;
            }
            if (space) {
                /* A blank between two words of one style has that style
                 * (a heading stays whole); otherwise it is plain. */
                mt_doc_add(d, rs->v[i].role == prev && prev != MT_R_CODE ? prev : MT_R_TEXT,
                           0, " ");
                col++;
            }
            mt_doc_addn(d, rs->v[i].role, 0, w, wl);
            col += ww;
            at_start = 0;
            blank = 0;
            prev = rs->v[i].role;
        }
    }
}

static void
flush_para(mt_doc *d, mt_str *para, int width, const char *prefix, int indent,
           mt_role base)
{
    if (para->len == 0) {
        return;
    }
    runs rs = {0};
    parse_inline(&rs, para->s, base);
    wrap_runs(d, &rs, width, prefix, indent);
    runs_free(&rs);
    para->len = 0;
    para->s[0] = '\0';
}

mt_doc *
mt_view_markdown(const char *md, int width)
{
    mt_doc *d = mt_doc_new();
    mt_str para = {0};
    char prefix[16] = "";
    int indent = 0;
    int in_fence = 0;
    int blank_pending = 0;
    const char *p = md;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char *line = mt_xstrndup(p, n);
        p = e ? e + 1 : p + n;
        char *t = line;
        while (*t == ' ') {
            t++;
        }
        if (strncmp(t, "```", 3) == 0) {
            flush_para(d, &para, width, prefix, indent, MT_R_TEXT);
            in_fence = !in_fence;
            free(line);
            continue;
        }
        if (in_fence) {
            mt_doc_newline(d);
            mt_doc_add(d, MT_R_CODE, 0, "    ");
            mt_doc_add(d, MT_R_CODE, 0, line);
            free(line);
            continue;
        }
        if (*t == '\0') {
            flush_para(d, &para, width, prefix, indent, MT_R_TEXT);
            prefix[0] = '\0';
            indent = 0;
            blank_pending = d->n > 0;
            free(line);
            continue;
        }
        int hashes = 0;
        while (t[hashes] == '#') {
            hashes++;
        }
        int bullet = (t[0] == '-' || t[0] == '*' || t[0] == '+') && t[1] == ' ';
        int numbered = 0;
        if (isdigit((unsigned char)t[0])) {
            char *q = t;
            while (isdigit((unsigned char)*q)) {
                q++;
            }
            numbered = (*q == '.' || *q == ')') && q[1] == ' ' ? (int)(q - t + 2) : 0;
        }
        if ((hashes > 0 && t[hashes] == ' ') || bullet || numbered) {
            flush_para(d, &para, width, prefix, indent, MT_R_TEXT);
            if (blank_pending) {
                mt_doc_newline(d);
                blank_pending = 0;
            }
        } else if (blank_pending && para.len == 0) {
            mt_doc_newline(d);
            blank_pending = 0;
        }
        if (hashes > 0 && t[hashes] == ' ') {
            mt_str h = {0};
            mt_str_add(&h, t + hashes + 1);
            flush_para(d, &h, width, "", 0, MT_R_HEADING);
            free(h.s);
            prefix[0] = '\0';
            indent = 0;
        } else if (bullet) {
            snprintf(prefix, sizeof prefix, "  %s ", mt_view_bullet());
            indent = 4;
            mt_str_add(&para, t + 2);
        } else if (numbered) {
            snprintf(prefix, sizeof prefix, "  %.*s ", numbered - 1, t);
            indent = numbered + 2;
            mt_str_add(&para, t + numbered);
        } else {
            if (para.len > 0) {
                mt_str_addc(&para, ' ');
            }
            mt_str_add(&para, t);
        }
        free(line);
    }
    flush_para(d, &para, width, prefix, indent, MT_R_TEXT);
    free(para.s);
    return d;
}

/* ---- code, output -------------------------------------------------------- */

static mt_role
token_role(char c)
{
    switch (c) {
    case MT_TOK_KEYWORD: return MT_R_PY_KEYWORD;
    case MT_TOK_BUILTIN: return MT_R_PY_BUILTIN;
    case MT_TOK_NAME: return MT_R_PY_NAME;
    case MT_TOK_NUMBER: return MT_R_PY_NUMBER;
    case MT_TOK_STRING: return MT_R_PY_STRING;
    case MT_TOK_COMMENT: return MT_R_PY_COMMENT;
    case MT_TOK_OP: return MT_R_PY_OP;
    default: return MT_R_PY_NAME;
    }
}

mt_doc *
mt_view_code(const char *code, const char *roles)
{
    mt_doc *d = mt_doc_new();
    size_t n = strlen(code);
    int usable = roles != NULL && strlen(roles) == n;
    mt_doc_newline(d);
    for (size_t i = 0; i < n;) {
        if (code[i] == '\n') {
            mt_doc_newline(d);
            i++;
            continue;
        }
        size_t j = i;
        char r = usable ? roles[i] : ' ';
        while (j < n && code[j] != '\n' && (!usable || roles[j] == r)) {
            j++;
        }
        /* Tabs would throw the columns off: four blanks instead. */
        for (size_t k = i; k < j; k++) {
            if (code[k] == '\t') {
                mt_doc_addn(d, token_role(r), 0, code + i, k - i);
                mt_doc_add(d, token_role(r), 0, "    ");
                i = k + 1;
            }
        }
        mt_doc_addn(d, token_role(r), 0, code + i, j - i);
        i = j;
    }
    return d;
}

static void
add_lines(mt_doc *d, mt_role role, const char *prefix, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        mt_doc_newline(d);
        if (prefix) {
            mt_doc_add(d, MT_R_COMMENT, 0, prefix);
        }
        mt_doc_addn(d, role, 0, p, n);
        p = e ? e + 1 : p + n;
    }
}

mt_doc *
mt_view_output(const mt_step_result *r)
{
    mt_doc *d = mt_doc_new();
    add_lines(d, MT_R_OUTPUT, NULL, r->out);
    add_lines(d, MT_R_ERROR, NULL, r->err);
    add_lines(d, MT_R_ERROR, NULL, r->traceback);
    const char *p = r->notes;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        int loud = n >= 7 && (strncmp(p, "RESTORE", 7) == 0 || strncmp(p, "WARNING", 7) == 0
                              || strncmp(p, "The wor", 7) == 0);
        mt_doc_newline(d);
        mt_doc_addn(d, loud ? MT_R_WARNING : MT_R_NOTE, 0, p, n);
        p = e ? e + 1 : p + n;
    }
    return d;
}

/* ---- regions ------------------------------------------------------------- */

int
mt_view_field_colour(const mt_region_result *g, size_t off)
{
    for (uint32_t i = 0; i < g->nfields; i++) {
        const mt_field_result *f = &g->fields[i];
        size_t end = f->offset + f->size;
        if (f->flags & MT_FF_TAIL) {
            end = g->len;
        }
        if (off >= f->offset && off < end) {
            return (int)(i % MT_FIELD_COLOURS) + 1;
        }
    }
    return 0;
}

char *
mt_view_region_title(const mt_region_result *g, int after)
{
    const char *dot = mt_view_dot();
    return mt_xasprintf("%s %s %s %s %s", g->label, dot, g->layout, dot,
                        after ? "after" : "before");
}

static int
field_changed(const mt_region_result *g, const mt_field_result *f)
{
    for (uint32_t i = f->offset; i < f->offset + f->size && i < g->len; i++) {
        if (g->before[i] != g->after[i] || g->ok_before[i] != g->ok_after[i]) {
            return 1;
        }
    }
    return 0;
}

static const char *const row_kind_names[MT_VR_COUNT] = {
    [MT_VR_HEADER] = "header",         [MT_VR_BYTES] = "bytes",
    [MT_VR_MARKER] = "marker",         [MT_VR_ELIDED] = "elided",
    [MT_VR_BLANK] = "blank",           [MT_VR_TABLE_HEAD] = "table-head",
    [MT_VR_FIELD] = "field",           [MT_VR_FIELDS_ELIDED] = "fields-elided",
    [MT_VR_INSN_HEAD] = "insn-head",   [MT_VR_INSN] = "insn",
    [MT_VR_INSNS_ELIDED] = "insns-elided",
};

const char *
mt_view_row_kind_name(int kind)
{
    return kind >= 0 && kind < MT_VR_COUNT ? row_kind_names[kind] : "blank";
}

/* The lines of a region view being built, with what each one is. */
typedef struct region_builder {
    mt_doc *d;
    mt_view_row *rows;
    size_t cap;
} region_builder;

/* Start a line of kind k. */
static void
rb_line(region_builder *rb, int kind, int index, uint32_t offset, uint32_t count)
{
    mt_doc_newline(rb->d);
    if (rb->d->n > rb->cap) {
        rb->cap = rb->cap ? 2 * rb->cap : 64;
        rb->rows = mt_xrealloc(rb->rows, rb->cap * sizeof *rb->rows);
    }
    rb->rows[rb->d->n - 1] = (mt_view_row){kind, index, offset, count};
}

static int
byte_changed(const mt_region_result *g, size_t i)
{
    return g->before[i] != g->after[i] || g->ok_before[i] != g->ok_after[i];
}

/* Which 16-byte rows of g a view shows (malloc'ed, one flag per row). */
static uint8_t *
rows_shown(const mt_region_result *g, int context)
{
    size_t nrows = (g->len + 15) / 16;
    uint8_t *show = mt_xcalloc(nrows ? nrows : 1, 1);
    uint8_t *changed = mt_xcalloc(nrows ? nrows : 1, 1);
    int any = 0;
    for (size_t i = 0; i < g->len; i++) {
        if (byte_changed(g, i)) {
            changed[i / 16] = 1;
            any = 1;
        }
    }
    if (context == MT_VIEW_CONTEXT_AUTO) {
        context = nrows <= MT_VIEW_CONTEXT_SMALL ? MT_VIEW_CONTEXT_ALL : MT_VIEW_CONTEXT_DEFAULT;
    }
    for (size_t r = 0; r < nrows; r++) {
        if (context < 0 || !any) {
            show[r] = 1;
            continue;
        }
        size_t lo = r > (size_t)context ? r - (size_t)context : 0;
        for (size_t k = lo; k <= r + (size_t)context && k < nrows && !show[r]; k++) {
            show[r] = changed[k];
        }
    }
    free(changed);
    return show;
}

/* Whether bytes [off, end) touch a shown row. */
static int
span_shown(const uint8_t *show, size_t len, size_t off, size_t end)
{
    if (end > len) {
        end = len;
    }
    if (end <= off) {
        return off < len ? show[off / 16] : 0;
    }
    for (size_t r = off / 16; r <= (end - 1) / 16; r++) {
        if (show[r]) {
            return 1;
        }
    }
    return 0;
}

/* The elision mark: "⋮" (":" in ASCII) under the offset column. */
static void
elided_line(region_builder *rb, int kind, uint32_t offset, uint32_t count, const char *what)
{
    rb_line(rb, kind, -1, offset, count);
    mt_doc_addf(rb->d, MT_R_COMMENT, 0, "%s %u %s%s not shown", mt_view_ascii() ? "      :" : "      ⋮",
                count, what, count == 1 ? "" : "s");
}

/* The instructions of one view that overlap shown rows, as indices (into
 * *out, malloc'ed); returns how many, and in *hidden how many are not. */
static uint32_t
insns_shown(const mt_region_result *g, int after, const uint8_t *show, uint32_t **out,
            uint32_t *hidden)
{
    const mt_insn_result *in = after ? g->insn_after : g->insn_before;
    uint32_t nin = after ? g->ninsn_after : g->ninsn_before;
    uint32_t n = 0;
    *out = mt_xcalloc(nin ? nin : 1, sizeof **out);
    for (uint32_t i = 0; i < nin; i++) {
        size_t off = (size_t)(in[i].address - g->address);
        if (span_shown(show, g->len, off, off + in[i].size)) {
            (*out)[n++] = i;
        }
    }
    *hidden = nin - n;
    return n;
}

mt_doc *
mt_view_region_with(const mt_region_result *g, int after, const mt_view_opts *o,
                    mt_view_row **rows)
{
    static const mt_view_opts plain = {0, 0, MT_VIEW_CONTEXT_ALL};
    if (o == NULL) {
        o = &plain;
    }
    region_builder rb = {mt_doc_new(), NULL, 0};
    mt_doc *d = rb.d;
    const uint8_t *b = after ? g->after : g->before;
    const uint8_t *ok = after ? g->ok_after : g->ok_before;
    const char *perms = after ? g->perms_after : g->perms_before;
    int mark = after || o->mark_before;
    uint8_t *show = rows_shown(g, o->context);

    rb_line(&rb, MT_VR_HEADER, -1, 0, 0);
    /* Which view comes first: a narrow pane cuts the end of this line. */
    mt_doc_addf(d, MT_R_HEADING, 0, "%s", g->label);
    mt_doc_addf(d, MT_R_COMMENT, 0, " %s ", mt_view_dot());
    mt_doc_add(d, MT_R_HEADING, 0, after ? "after" : "before");
    mt_doc_addf(d, MT_R_COMMENT, 0, " %s %s at ", mt_view_dot(), g->layout);
    mt_doc_addf(d, MT_R_ADDRESS, 0, "0x%012llx", (unsigned long long)g->address);
    if (*g->symbol) {
        mt_doc_add(d, MT_R_COMMENT, 0, " in ");
        mt_doc_add(d, MT_R_POINTER, 0, g->symbol);
    }
    mt_doc_addf(d, MT_R_COMMENT, 0, " %s %u bytes", mt_view_dot(), g->len);
    if (g->is_code) {
        mt_doc_addf(d, MT_R_COMMENT, 0, " %s page ", mt_view_dot());
        mt_doc_add(d, MT_R_PERMS, 0, perms);
    }

    /* xxd -g1: offset, 16 bytes, ASCII. */
    uint32_t hidden_from = 0, hidden = 0;
    for (uint32_t row = 0; row < g->len; row += 16) {
        if (!show[row / 16]) {
            hidden_from = hidden ? hidden_from : row;
            hidden++;
            continue;
        }
        if (hidden > 0) {
            elided_line(&rb, MT_VR_ELIDED, hidden_from, hidden, "row");
            hidden = 0;
        }
        int any = 0;
        rb_line(&rb, MT_VR_BYTES, -1, row, 0);
        mt_doc_addf(d, MT_R_OFFSET, 0, "%08x: ", row);
        for (uint32_t i = row; i < row + 16; i++) {
            if (i >= g->len) {
                mt_doc_add(d, MT_R_BYTE, 0, "   ");
                continue;
            }
            int changed = byte_changed(g, i);
            any |= changed;
            int fc = mt_view_field_colour(g, i);
            if (!ok[i]) {
                mt_doc_add(d, MT_R_UNREADABLE, 0, "??");
            } else {
                mt_doc_addf(d, changed && mark ? MT_R_CHANGED : MT_R_BYTE, fc, "%02x", b[i]);
            }
            mt_doc_add(d, MT_R_BYTE, 0, " ");
        }
        mt_doc_add(d, MT_R_BYTE, 0, " ");
        for (uint32_t i = row; i < row + 16 && i < g->len; i++) {
            char c = !ok[i] ? '?' : isprint(b[i]) ? (char)b[i] : '.';
            mt_doc_addn(d, MT_R_ASCII, 0, &c, 1);
        }
        if (any && (mark || o->aligned)) {
            rb_line(&rb, MT_VR_MARKER, -1, row, 0);
            mt_doc_add(d, MT_R_MARKER, 0, "          ");
            for (uint32_t i = row; i < row + 16 && i < g->len; i++) {
                mt_doc_add(d, MT_R_MARKER, 0, mark && byte_changed(g, i) ? "^^ " : "   ");
            }
        }
    }
    if (hidden > 0) {
        elided_line(&rb, MT_VR_ELIDED, hidden_from, hidden, "row");
    }

    /* pahole-style field table, the fields that overlap the rows shown;
     * machine code shows as instructions below. */
    uint32_t shown = 0;
    for (uint32_t i = 0; i < g->nfields; i++) {
        shown += g->fields[i].kind != MT_FK_CODE;
    }
    if (shown > 0) {
        int namew = 5;
        for (uint32_t i = 0; i < g->nfields; i++) {
            int w = (int)strlen(g->fields[i].name);
            namew = w > namew ? w : namew;
        }
        rb_line(&rb, MT_VR_BLANK, -1, 0, 0);
        rb_line(&rb, MT_VR_TABLE_HEAD, -1, 0, 0);
        mt_doc_addf(d, MT_R_COMMENT, 0, "  offset  size  %-*s  value", namew, "field");
        uint32_t skipped = 0, skipped_from = 0;
        for (uint32_t i = 0; i < g->nfields; i++) {
            const mt_field_result *f = &g->fields[i];
            if (f->kind == MT_FK_CODE) {
                continue;
            }
            size_t end = f->flags & MT_FF_TAIL ? g->len : (size_t)f->offset + f->size;
            if (!span_shown(show, g->len, f->offset, end)) {
                skipped_from = skipped ? skipped_from : f->offset;
                skipped++;
                continue;
            }
            if (skipped > 0) {
                elided_line(&rb, MT_VR_FIELDS_ELIDED, skipped_from, skipped, "field");
                skipped = 0;
            }
            int ch = after && field_changed(g, f);
            const char *val = after ? f->value_after : f->value_before;
            const char *dec = after ? f->decoded_after : f->decoded_before;
            rb_line(&rb, MT_VR_FIELD, (int)i, f->offset, 0);
            mt_doc_addf(d, MT_R_OFFSET, 0, "  %6u  %4u  ", f->offset, f->size);
            mt_doc_addf(d, MT_R_FIELD, (int)(i % MT_FIELD_COLOURS) + 1, "%-*s", namew, f->name);
            mt_doc_add(d, MT_R_VALUE, 0, "  ");
            if (*val) {
                mt_doc_add(d, ch ? MT_R_CHANGED : MT_R_VALUE, 0, val);
            }
            if (*dec) {
                mt_doc_addf(d, MT_R_POINTER, 0, " %s ", mt_view_arrow());
                mt_doc_add(d, MT_R_POINTER, 0, dec);
            }
            if (ch) {
                const char *was = *f->decoded_before ? f->decoded_before : f->value_before;
                mt_doc_add(d, MT_R_MARKER, 0, "  * was ");
                mt_doc_add(d, MT_R_MARKER, 0, was);
            }
        }
        if (skipped > 0) {
            elided_line(&rb, MT_VR_FIELDS_ELIDED, skipped_from, skipped, "field");
        }
    }

    const mt_insn_result *in = after ? g->insn_after : g->insn_before;
    uint32_t *idx, *other_idx, nhid, other_hid;
    uint32_t nin = insns_shown(g, after, show, &idx, &nhid);
    /* Aligned, both views get as many instruction lines as the longer. */
    uint32_t other = insns_shown(g, !after, show, &other_idx, &other_hid);
    uint32_t lines = o->aligned && other > nin ? other : nin;
    int elided = nhid > 0 || (o->aligned && other_hid > 0);
    free(other_idx);
    if (lines > 0 || (o->aligned && elided)) {
        rb_line(&rb, MT_VR_BLANK, -1, 0, 0);
        rb_line(&rb, MT_VR_INSN_HEAD, -1, 0, 0);
        mt_doc_add(d, MT_R_COMMENT, 0, "  instructions (capstone)");
        uint64_t base = g->address;
        for (uint32_t k = 0; k < lines; k++) {
            if (k >= nin) {
                rb_line(&rb, MT_VR_INSN, -1, 0, 0);
                continue;
            }
            const mt_insn_result *it = &in[idx[k]];
            rb_line(&rb, MT_VR_INSN, (int)idx[k], (uint32_t)(it->address - base), 0);
            mt_doc_addf(d, MT_R_OFFSET, 0, "  +%-4llu ", (unsigned long long)(it->address - base));
            for (uint32_t j = 0; j < 8; j++) {
                uint64_t off = it->address - base + j;
                if (j < it->size && off < g->len) {
                    int changed = mark && byte_changed(g, off);
                    mt_doc_addf(d, changed ? MT_R_CHANGED : MT_R_BYTE,
                                mt_view_field_colour(g, off), "%02x", b[off]);
                    mt_doc_add(d, MT_R_BYTE, 0, " ");
                } else {
                    mt_doc_add(d, MT_R_BYTE, 0, j < it->size ? ".. " : "   ");
                }
            }
            mt_doc_add(d, MT_R_INSN, 0, it->text);
            if (*it->target) {
                mt_doc_addf(d, MT_R_POINTER, 0, " %s ", mt_view_arrow());
                mt_doc_add(d, MT_R_POINTER, 0, it->target);
            }
        }
        if (elided) {
            if (nhid > 0) {
                elided_line(&rb, MT_VR_INSNS_ELIDED, 0, nhid, "instruction");
            } else {
                rb_line(&rb, MT_VR_INSNS_ELIDED, -1, 0, 0);
            }
        }
    }
    free(idx);
    free(show);
    if (rows != NULL) {
        *rows = rb.rows;
    } else {
        free(rb.rows);
    }
    return d;
}

mt_doc *
mt_view_region(const mt_region_result *g, int after)
{
    return mt_view_region_with(g, after, NULL, NULL);
}
