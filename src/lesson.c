/* lesson.c — lesson files (Jupytext "percent" Python) → stages and steps. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "lesson.h"

#include "json.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A lesson file is read line by line, once.  The optional header ("# ---"
 * block) gives the title and summary.  Each "# %%" marker starts a cell;
 * markdown cells pile up in `pending` until the next code cell, which
 * becomes a step with that pile as its narrative.  What is left at the end is
 * the outro.  Default slugs and watch labels are derived afterwards, when
 * every explicit one is known, so a derived name never takes an explicit one.
 * Everything is linear in the input (names go through a hash set), so a
 * 1 MiB file takes milliseconds.
 */

#define SLUG_MAX 64          /* explicit slugs and labels */
#define SLUG_DERIVED_MAX 40  /* slugs and labels made from titles */

/* ---- small helpers ---------------------------------------------------- */

static char *
dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static char *
dup_s(const char *s)
{
    return dup_n(s, strlen(s));
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static char *
fmt_alloc(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (s != NULL) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return s;
}

static int
is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t') {
            return 0;
        }
    }
    return 1;
}

static int
is_space(char c)
{
    return c == ' ' || c == '\t';
}

static int
is_slug_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static int
is_slug(const char *s, size_t n)
{
    if (n == 0) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_slug_char(s[i])) {
            return 0;
        }
    }
    return 1;
}

static int
is_ident_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int
is_ident_char(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9') || c == '-';
}

/* Lower-case ASCII letters and digits; every other run becomes one '-'.
 * At most max bytes, no '-' at either end.  "" when nothing is left. */
static char *
slugify(const char *s, size_t max)
{
    size_t n = strlen(s);
    char *out = malloc((n < max ? n : max) + 1);
    size_t o = 0;
    int dash = 1;

    if (out == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n && o < max; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
        }
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            out[o++] = c;
            dash = 0;
        } else if (!dash) {
            out[o++] = '-';
            dash = 1;
        }
    }
    while (o > 0 && out[o - 1] == '-') {
        o--;
    }
    out[o] = '\0';
    return out;
}

/* A set of owned strings, each with an int (open addressing, FNV-1a). */
typedef struct nameset {
    char **keys;
    int *vals;
    size_t cap;
    size_t n;
} nameset;

static uint64_t
name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s != '\0'; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return h;
}

static size_t
ns_slot(const nameset *ns, const char *key)
{
    size_t i = (size_t)name_hash(key) & (ns->cap - 1);
    while (ns->keys[i] != NULL && strcmp(ns->keys[i], key) != 0) {
        i = (i + 1) & (ns->cap - 1);
    }
    return i;
}

/* The value stored for key, or NULL. */
static int *
ns_get(const nameset *ns, const char *key)
{
    if (ns->cap == 0) {
        return NULL;
    }
    size_t i = ns_slot(ns, key);
    return ns->keys[i] != NULL ? &ns->vals[i] : NULL;
}

/* Add key with val: 1 if added, 0 if it was there, -1 out of memory. */
static int
ns_add(nameset *ns, const char *key, int val)
{
    if ((ns->n + 1) * 2 > ns->cap) {
        nameset big = {0};
        big.cap = ns->cap ? ns->cap * 2 : 16;
        big.keys = calloc(big.cap, sizeof *big.keys);
        big.vals = calloc(big.cap, sizeof *big.vals);
        if (big.keys == NULL || big.vals == NULL) {
            free(big.keys);
            free(big.vals);
            return -1;
        }
        for (size_t i = 0; i < ns->cap; i++) {
            if (ns->keys[i] != NULL) {
                size_t j = ns_slot(&big, ns->keys[i]);
                big.keys[j] = ns->keys[i];
                big.vals[j] = ns->vals[i];
            }
        }
        big.n = ns->n;
        free(ns->keys);
        free(ns->vals);
        *ns = big;
    }
    size_t i = ns_slot(ns, key);
    if (ns->keys[i] != NULL) {
        return 0;
    }
    ns->keys[i] = dup_s(key);
    if (ns->keys[i] == NULL) {
        return -1;
    }
    ns->vals[i] = val;
    ns->n++;
    return 1;
}

static void
ns_free(nameset *ns)
{
    for (size_t i = 0; i < ns->cap; i++) {
        free(ns->keys[i]);
    }
    free(ns->keys);
    free(ns->vals);
    memset(ns, 0, sizeof *ns);
}

/* Names handed out so far (used) and, per base name, the next suffix to
 * try (next), so n copies of one title cost O(n), not O(n²). */
typedef struct namer {
    nameset used;
    nameset next;
} namer;

/* Reserve base as given; 1 if new, 0 if taken, -1 out of memory. */
static int
namer_take(namer *nm, const char *base)
{
    return ns_add(&nm->used, base, 0);
}

/* A new name: base, else base-2, base-3, ...  NULL if out of memory. */
static char *
namer_unique(namer *nm, const char *base)
{
    int r = ns_add(&nm->used, base, 0);
    if (r != 0) {
        return r > 0 ? dup_s(base) : NULL;
    }
    int *nextp = ns_get(&nm->next, base);
    int k = nextp != NULL ? *nextp : 2;
    for (;; k++) {
        char *name = fmt_alloc("%s-%d", base, k);
        if (name == NULL) {
            return NULL;
        }
        r = ns_add(&nm->used, name, 0);
        if (r < 0) {
            free(name);
            return NULL;
        }
        if (r > 0) {
            nextp = ns_get(&nm->next, base);
            if (nextp != NULL) {
                *nextp = k + 1;
            } else if (ns_add(&nm->next, base, k + 1) < 0) {
                free(name);
                return NULL;
            }
            return name;
        }
        free(name);
    }
}

static void
namer_free(namer *nm)
{
    ns_free(&nm->used);
    ns_free(&nm->next);
}

/* ---- the parser --------------------------------------------------------- */

/* One line of the file, without its "\n" and a "\r" before it. */
typedef struct line {
    const char *s;
    size_t n;
    size_t off;      /* offset of s in the text */
    int no;          /* 1-based */
} line;

/* One key=value of a cell marker; key points into the text. */
typedef struct kv {
    const char *key;
    size_t keylen;
    mt_json *val;
} kv;

/* A parsed "# %%" line. */
typedef struct marker {
    int line;
    int markdown;
    const char *title;
    size_t title_len;
    kv *kvs;
    size_t nkv;
} marker;

typedef struct parser {
    const char *path;
    const char *text;
    size_t len;
    size_t pos;          /* start of the next line */
    int lineno;          /* number of the last line read */
    char *err;
    mt_lesson *l;
    size_t cap_steps;
    mt_str pending;      /* markdown since the last code cell */
    /* the cell being read */
    int in_cell;         /* 0 none, 1 markdown, 2 code */
    mt_str md;           /* markdown cell text */
    size_t code_start;   /* code cell: first non-blank line... */
    size_t code_end;     /* ...and the end of the last one */
    int code_line;
    marker cur;
} parser;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
perr(parser *p, int lineno, const char *fmt, ...)
{
    if (p->err != NULL) {
        return -1;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return -1;
    }
    char *msg = malloc((size_t)n + 1);
    if (msg == NULL) {
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
    p->err = fmt_alloc("%s:%d: %s", p->path, lineno, msg);
    free(msg);
    return -1;
}

static int
oom(parser *p)
{
    return perr(p, p->lineno, "out of memory");
}

static int
next_line(parser *p, line *ln)
{
    if (p->pos >= p->len) {
        return 0;
    }
    const char *s = p->text + p->pos;
    size_t rest = p->len - p->pos;
    const char *nl = memchr(s, '\n', rest);
    size_t n = nl != NULL ? (size_t)(nl - s) : rest;
    ln->s = s;
    ln->off = p->pos;
    ln->n = n;
    if (n > 0 && s[n - 1] == '\r') {
        ln->n--;
    }
    p->pos += nl != NULL ? n + 1 : n;
    ln->no = ++p->lineno;
    return 1;
}

/* 1-based line of byte offset off. */
static int
line_at(const char *text, size_t off)
{
    int no = 1;
    const char *s = text;
    const char *end = text + off;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if (nl == NULL) {
            break;
        }
        no++;
        s = nl + 1;
    }
    return no;
}

/* Does the line (right-trimmed) read exactly word? */
static int
line_is(const line *ln, const char *word)
{
    size_t n = ln->n;
    while (n > 0 && is_space(ln->s[n - 1])) {
        n--;
    }
    return n == strlen(word) && memcmp(ln->s, word, n) == 0;
}

static int
is_marker(const line *ln)
{
    return ln->n >= 4 && memcmp(ln->s, "# %%", 4) == 0
           && (ln->n == 4 || is_space(ln->s[4]));
}

static void
marker_clear(marker *m)
{
    for (size_t i = 0; i < m->nkv; i++) {
        mt_json_free(m->kvs[i].val);
    }
    free(m->kvs);
    memset(m, 0, sizeof *m);
}

/* "# %% [title words] [[markdown]] [key=JSON ...]" */
static int
parse_marker(parser *p, const line *ln, marker *m)
{
    enum { M_TITLE, M_TYPE, M_META } st = M_TITLE;
    const char *s = ln->s;
    size_t n = ln->n;
    size_t i = 4;
    size_t cap = 0;

    memset(m, 0, sizeof *m);
    m->line = ln->no;
    for (;;) {
        while (i < n && is_space(s[i])) {
            i++;
        }
        if (i >= n) {
            return 0;
        }
        if (s[i] == '[') {
            if (st == M_TYPE) {
                return perr(p, ln->no, "two cell types in the cell marker "
                            "(column %zu)", i + 1);
            }
            if (st == M_META) {
                return perr(p, ln->no, "the cell type must come before "
                            "key=value metadata (column %zu)", i + 1);
            }
            size_t j = i + 1;
            while (j < n && s[j] != ']' && !is_space(s[j])) {
                j++;
            }
            if (j >= n || s[j] != ']') {
                return perr(p, ln->no, "unclosed '[' in the cell marker "
                            "(column %zu)", i + 1);
            }
            size_t tlen = j - i - 1;
            if ((tlen == 8 && memcmp(s + i + 1, "markdown", 8) == 0)
                || (tlen == 2 && memcmp(s + i + 1, "md", 2) == 0)) {
                m->markdown = 1;
            } else {
                return perr(p, ln->no, "unknown cell type [%.*s] (write "
                            "[markdown] for text, nothing for code)",
                            (int)(tlen > 40 ? 40 : tlen), s + i + 1);
            }
            i = j + 1;
            if (i < n && !is_space(s[i])) {
                return perr(p, ln->no, "expected a space after [%.*s] "
                            "(column %zu)", (int)tlen, s + i - tlen - 1,
                            i + 1);
            }
            st = M_TYPE;
            continue;
        }
        size_t k = i;
        if (is_ident_start(s[k])) {
            while (k < n && is_ident_char(s[k])) {
                k++;
            }
        }
        if (k > i && k < n && s[k] == '=') {
            const char *key = s + i;
            size_t keylen = k - i;
            size_t v = k + 1;
            if (v >= n || is_space(s[v])) {
                return perr(p, ln->no, "%.*s= has no value (values are "
                            "JSON, e.g. %.*s=\"text\")", (int)keylen, key,
                            (int)keylen, key);
            }
            for (size_t q = 0; q < m->nkv; q++) {
                if (m->kvs[q].keylen == keylen
                    && memcmp(m->kvs[q].key, key, keylen) == 0) {
                    return perr(p, ln->no, "%.*s= is given twice",
                                (int)keylen, key);
                }
            }
            mt_json *val = NULL;
            size_t end = 0;
            char *jerr = NULL;
            if (mt_json_parse(s + v, n - v, &end, &val, &jerr) < 0) {
                perr(p, ln->no, "bad JSON value for %.*s= (column %zu): %s",
                     (int)keylen, key, v + end + 1,
                     jerr != NULL ? jerr : "out of memory");
                free(jerr);
                return -1;
            }
            i = v + end;
            if (i < n && !is_space(s[i])) {
                mt_json_free(val);
                return perr(p, ln->no, "bad JSON value for %.*s= (column "
                            "%zu): unexpected text after the value",
                            (int)keylen, key, i + 1);
            }
            if (m->nkv == cap) {
                size_t ncap = cap ? cap * 2 : 4;
                kv *nk = realloc(m->kvs, ncap * sizeof *nk);
                if (nk == NULL) {
                    mt_json_free(val);
                    return oom(p);
                }
                m->kvs = nk;
                cap = ncap;
            }
            m->kvs[m->nkv++] = (kv){key, keylen, val};
            st = M_META;
            continue;
        }
        size_t j = i;
        while (j < n && !is_space(s[j])) {
            j++;
        }
        if (st != M_TITLE) {
            return perr(p, ln->no, "unexpected '%.*s' after %s (column "
                        "%zu; metadata is key=JSON, the title comes "
                        "first)", (int)(j - i > 40 ? 40 : j - i), s + i,
                        st == M_TYPE ? "the cell type" : "the metadata",
                        i + 1);
        }
        if (m->title == NULL) {
            m->title = s + i;
        }
        m->title_len = (size_t)(s + j - m->title);
        i = j;
    }
}

static int
kv_is(const kv *e, const char *key)
{
    return e->keylen == strlen(key) && memcmp(e->key, key, e->keylen) == 0;
}

/* ---- code cell metadata -------------------------------------------------- */

static const struct {
    const char *tag;
    mt_step_kind kind;
} kind_tags[] = {
    {"explore", MT_STEP_EXPLORE},
    {"patch", MT_STEP_PATCH},
    {"revert", MT_STEP_REVERT},
};

static int
meta_tags(parser *p, int lineno, const mt_json *v, mt_step *st)
{
    const char *seen = NULL;

    if (v->type != MT_JSON_ARRAY) {
        return perr(p, lineno, "tags= must be an array of strings, not "
                    "a %s", mt_json_type_name(v->type));
    }
    for (size_t i = 0; i < v->n; i++) {
        const mt_json *t = &v->items[i];
        if (t->type != MT_JSON_STRING) {
            return perr(p, lineno, "tags= item %zu is a %s, not a string",
                        i + 1, mt_json_type_name(t->type));
        }
        for (size_t k = 0; k < sizeof kind_tags / sizeof kind_tags[0]; k++) {
            if (strcmp(t->string, kind_tags[k].tag) != 0) {
                continue;
            }
            if (seen != NULL) {
                return perr(p, lineno, "two kind tags \"%s\" and \"%s\" "
                            "(a step is one of explore, patch, revert)",
                            seen, t->string);
            }
            seen = kind_tags[k].tag;
            st->kind = kind_tags[k].kind;
        }
    }
    return 0;
}

/* Trim spaces and tabs off both ends of s[0..*n); returns the new start. */
static const char *
trim(const char *s, size_t *n)
{
    while (*n > 0 && is_space(s[0])) {
        s++;
        (*n)--;
    }
    while (*n > 0 && is_space(s[*n - 1])) {
        (*n)--;
    }
    return s;
}

static int
all_digits(const char *s, size_t n)
{
    if (n == 0) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}

/* Fill w's expr and layout from the two strings, after checking them. */
static int
watch_set(parser *p, int lineno, size_t idx, mt_watch *w, const char *expr,
          size_t elen, const char *layout, size_t llen)
{
    expr = trim(expr, &elen);
    layout = trim(layout, &llen);
    if (elen == 0) {
        return perr(p, lineno, "watch item %zu: the expression is empty",
                    idx);
    }
    for (size_t i = 0; i < elen; i++) {
        if ((unsigned char)expr[i] < 0x20 || expr[i] == 0x7F) {
            return perr(p, lineno, "watch item %zu: the expression must be "
                        "one line without control characters", idx);
        }
    }
    if (llen == 0) {
        return perr(p, lineno, "watch item %zu: the layout name is empty",
                    idx);
    }
    for (size_t i = 0; i < llen; i++) {
        if ((unsigned char)layout[i] <= 0x20 || layout[i] == 0x7F) {
            return perr(p, lineno, "watch item %zu: the layout name \"%.*s\""
                        " has a space or control character", idx,
                        (int)(llen > 40 ? 40 : llen), layout);
        }
    }
    w->expr = dup_n(expr, elen);
    w->layout = dup_n(layout, llen);
    if (w->expr == NULL || w->layout == NULL) {
        return oom(p);
    }
    return 0;
}

static int
watch_len(parser *p, int lineno, size_t idx, double v, int integer,
          mt_watch *w)
{
    if (!integer || v < 1 || v > MT_WATCH_MAX_LEN) {
        return perr(p, lineno, "watch item %zu: the length must be a whole "
                    "number of bytes from 1 to %ld", idx,
                    (long)MT_WATCH_MAX_LEN);
    }
    w->len = (long)v;
    return 0;
}

/* "EXPR:LAYOUT" or "EXPR:LAYOUT:LEN", split from the right. */
static int
watch_from_string(parser *p, int lineno, size_t idx, const char *s,
                  mt_watch *w)
{
    size_t n = strlen(s);
    const char *c1 = NULL;
    const char *c2 = NULL;

    for (size_t i = n; i > 0; i--) {
        if (s[i - 1] == ':') {
            c1 = s + i - 1;
            break;
        }
    }
    if (c1 == NULL) {
        goto shape;
    }
    size_t tlen = n - (size_t)(c1 + 1 - s);
    const char *tail = trim(c1 + 1, &tlen);
    if (!all_digits(tail, tlen)) {
        return watch_set(p, lineno, idx, w, s, (size_t)(c1 - s), c1 + 1,
                         n - (size_t)(c1 + 1 - s));
    }
    for (const char *q = c1; q > s; q--) {
        if (q[-1] == ':') {
            c2 = q - 1;
            break;
        }
    }
    if (c2 == NULL) {
        goto shape;
    }
    double v = 0;
    for (size_t i = 0; i < tlen && v <= MT_WATCH_MAX_LEN; i++) {
        v = v * 10 + (tail[i] - '0');
    }
    if (watch_len(p, lineno, idx, v, 1, w) < 0) {
        return -1;
    }
    return watch_set(p, lineno, idx, w, s, (size_t)(c2 - s), c2 + 1,
                     (size_t)(c1 - c2 - 1));
shape:
    return perr(p, lineno, "watch item %zu: \"%.60s\" is not "
                "\"EXPR:LAYOUT\" or \"EXPR:LAYOUT:LEN\"", idx, s);
}

static int
watch_from_object(parser *p, int lineno, size_t idx, const mt_json *o,
                  mt_watch *w)
{
    const mt_json *expr = NULL;
    const mt_json *layout = NULL;

    for (size_t i = 0; i < o->n; i++) {
        const char *k = o->keys[i];
        const mt_json *v = &o->items[i];
        if (strcmp(k, "expr") == 0 || strcmp(k, "layout") == 0
            || strcmp(k, "label") == 0) {
            if (v->type != MT_JSON_STRING) {
                return perr(p, lineno, "watch item %zu: \"%s\" must be a "
                            "string, not a %s", idx, k,
                            mt_json_type_name(v->type));
            }
            if (k[1] == 'x') {
                expr = v;
            } else if (k[1] == 'a' && k[2] == 'y') {
                layout = v;
            } else {
                size_t ln = strlen(v->string);
                if (!is_slug(v->string, ln) || ln > SLUG_MAX) {
                    return perr(p, lineno, "watch item %zu: label \"%.60s\""
                                " must be 1 to %d of a-z, 0-9 and -", idx,
                                v->string, SLUG_MAX);
                }
                w->label = dup_s(v->string);
                if (w->label == NULL) {
                    return oom(p);
                }
            }
        } else if (strcmp(k, "len") == 0) {
            if (v->type != MT_JSON_NUMBER) {
                return perr(p, lineno, "watch item %zu: \"len\" must be a "
                            "number, not a %s", idx,
                            mt_json_type_name(v->type));
            }
            if (watch_len(p, lineno, idx, v->number, v->integer, w) < 0) {
                return -1;
            }
        } else if (strcmp(k, "verify") == 0) {
            if (v->type != MT_JSON_BOOL) {
                return perr(p, lineno, "watch item %zu: \"verify\" must be "
                            "true or false, not a %s", idx,
                            mt_json_type_name(v->type));
            }
            w->verify = v->boolean;
        } else {
            return perr(p, lineno, "watch item %zu: unknown key \"%.40s\" "
                        "(known: expr, layout, len, label, verify)", idx, k);
        }
    }
    if (expr == NULL || layout == NULL) {
        return perr(p, lineno, "watch item %zu: \"%s\" is missing", idx,
                    expr == NULL ? "expr" : "layout");
    }
    return watch_set(p, lineno, idx, w, expr->string, strlen(expr->string),
                     layout->string, strlen(layout->string));
}

/* Give every watch without a label one made from its layout (or its
 * expression), unique within the step. */
static int
watch_labels(parser *p, int lineno, mt_step *st)
{
    namer nm = {0};
    int rc = -1;

    for (size_t i = 0; i < st->nwatches; i++) {
        const char *label = st->watches[i].label;
        if (label == NULL) {
            continue;
        }
        int r = namer_take(&nm, label);
        if (r < 0) {
            oom(p);
            goto out;
        }
        if (r == 0) {
            perr(p, lineno, "watch label \"%s\" is used twice in this step",
                 label);
            goto out;
        }
    }
    for (size_t i = 0; i < st->nwatches; i++) {
        mt_watch *w = &st->watches[i];
        if (w->label != NULL) {
            continue;
        }
        char *base = slugify(w->layout, SLUG_DERIVED_MAX);
        if (base != NULL && base[0] == '\0') {
            free(base);
            base = slugify(w->expr, SLUG_DERIVED_MAX);
        }
        if (base != NULL && base[0] == '\0') {
            free(base);
            base = dup_s("watch");
        }
        if (base == NULL) {
            oom(p);
            goto out;
        }
        w->label = namer_unique(&nm, base);
        free(base);
        if (w->label == NULL) {
            oom(p);
            goto out;
        }
    }
    rc = 0;
out:
    namer_free(&nm);
    return rc;
}

static int
meta_watch(parser *p, int lineno, const mt_json *v, mt_step *st)
{
    if (v->type != MT_JSON_ARRAY) {
        return perr(p, lineno, "watch= must be an array, not a %s",
                    mt_json_type_name(v->type));
    }
    if (v->n == 0) {
        return 0;
    }
    st->watches = calloc(v->n, sizeof *st->watches);
    if (st->watches == NULL) {
        return oom(p);
    }
    for (size_t i = 0; i < v->n; i++) {
        const mt_json *it = &v->items[i];
        mt_watch *w = &st->watches[i];
        st->nwatches = i + 1;
        w->len = -1;
        w->verify = 1;
        int r;
        if (it->type == MT_JSON_STRING) {
            r = watch_from_string(p, lineno, i + 1, it->string, w);
        } else if (it->type == MT_JSON_OBJECT) {
            r = watch_from_object(p, lineno, i + 1, it, w);
        } else {
            r = perr(p, lineno, "watch item %zu is a %s; write "
                     "\"EXPR:LAYOUT[:LEN]\" or {\"expr\": ..., \"layout\": "
                     "...}", i + 1, mt_json_type_name(it->type));
        }
        if (r < 0) {
            return -1;
        }
    }
    return watch_labels(p, lineno, st);
}

static int
meta_code(parser *p, const marker *m, mt_step *st)
{
    for (size_t i = 0; i < m->nkv; i++) {
        const kv *e = &m->kvs[i];
        const mt_json *v = e->val;
        if (kv_is(e, "tags")) {
            if (meta_tags(p, m->line, v, st) < 0) {
                return -1;
            }
        } else if (kv_is(e, "slug")) {
            if (v->type != MT_JSON_STRING) {
                return perr(p, m->line, "slug= must be a string, not a %s",
                            mt_json_type_name(v->type));
            }
            size_t n = strlen(v->string);
            if (!is_slug(v->string, n) || n > SLUG_MAX) {
                return perr(p, m->line, "bad slug \"%.60s\": 1 to %d of "
                            "a-z, 0-9 and -", v->string, SLUG_MAX);
            }
            st->slug = dup_s(v->string);
            if (st->slug == NULL) {
                return oom(p);
            }
        } else if (kv_is(e, "watch")) {
            if (meta_watch(p, m->line, v, st) < 0) {
                return -1;
            }
        } else if (kv_is(e, "timeout")) {
            if (v->type != MT_JSON_NUMBER || !(v->number > 0)
                || !isfinite(v->number)) {
                return perr(p, m->line, "timeout= must be a number of "
                            "seconds above 0");
            }
            st->timeout = v->number;
        } else {
            return perr(p, m->line, "unknown key %.*s= on a code cell "
                        "(known: tags, slug, watch, timeout)",
                        (int)(e->keylen > 40 ? 40 : e->keylen), e->key);
        }
    }
    return 0;
}

/* ---- cells --------------------------------------------------------------- */

/* Append text to the narrative, a blank line between cells. */
static int
pending_add(parser *p, const char *s, size_t n)
{
    if (n == 0) {
        return 0;
    }
    if (p->pending.len > 0) {
        mt_str_add(&p->pending, "\n\n");
    }
    mt_str_addn(&p->pending, s, n);
    return 0;
}

/* Copy text[start..end) dropping the "\r" of "\r\n". */
static char *
copy_code(const char *text, size_t start, size_t end)
{
    char *out = malloc(end - start + 1);
    size_t o = 0;
    if (out == NULL) {
        return NULL;
    }
    for (size_t i = start; i < end; i++) {
        if (text[i] == '\r' && i + 1 < end && text[i + 1] == '\n') {
            continue;
        }
        out[o++] = text[i];
    }
    out[o] = '\0';
    return out;
}

/* The cell being read is complete. */
static int
cell_end(parser *p)
{
    int rc = 0;

    if (p->in_cell == 1) {
        /* md holds the lines, each ending "\n": drop the empty ones at
         * either end. */
        const char *s = p->md.s != NULL ? p->md.s : "";
        size_t n = p->md.len;
        while (n > 0 && s[0] == '\n') {
            s++;
            n--;
        }
        while (n > 0 && s[n - 1] == '\n') {
            n--;
        }
        rc = pending_add(p, s, n);
        free(p->md.s);
        memset(&p->md, 0, sizeof p->md);
    } else if (p->in_cell == 2) {
        mt_step *st = &p->l->steps[p->l->nsteps - 1];
        if (p->code_line == 0) {
            /* An empty code cell ("# %%" at the end of a notebook) is
             * dropped, unless it says something. */
            if (p->cur.title != NULL || p->cur.nkv > 0) {
                rc = perr(p, p->cur.line, "code cell without code (remove "
                          "it, or make it [markdown])");
            } else {
                /* its narrative goes on to what follows (pending is empty:
                 * a code cell adds nothing to it) */
                free(p->pending.s);
                p->pending = (mt_str){st->narrative, strlen(st->narrative),
                                      strlen(st->narrative) + 1};
                st->narrative = NULL;
                free(st->title);
                free(st->slug);
                free(st->narrative);
                free(st->watches);
                memset(st, 0, sizeof *st);
                p->l->nsteps--;
            }
        } else {
            st->code_line = p->code_line;
            st->code = copy_code(p->text, p->code_start, p->code_end);
            if (st->code == NULL) {
                rc = oom(p);
            }
        }
    }
    p->in_cell = 0;
    marker_clear(&p->cur);
    return rc;
}

/* A "# %%" line: finish the previous cell, start this one. */
static int
cell_start(parser *p, const line *ln)
{
    if (cell_end(p) < 0) {
        return -1;
    }
    if (parse_marker(p, ln, &p->cur) < 0) {
        return -1;
    }
    if (p->cur.markdown) {
        p->in_cell = 1;
        return 0;
    }
    p->in_cell = 2;
    p->code_line = 0;
    if (p->l->nsteps == p->cap_steps) {
        size_t ncap = p->cap_steps ? p->cap_steps * 2 : 8;
        mt_step *ns = realloc(p->l->steps, ncap * sizeof *ns);
        if (ns == NULL) {
            return oom(p);
        }
        p->l->steps = ns;
        p->cap_steps = ncap;
    }
    mt_step *st = &p->l->steps[p->l->nsteps++];
    memset(st, 0, sizeof *st);
    st->kind = MT_STEP_EXPLORE;
    st->line = ln->no;
    st->title = dup_n(p->cur.title != NULL ? p->cur.title : "",
                      p->cur.title_len);
    st->narrative = mt_str_take(&p->pending);
    if (st->title == NULL || st->narrative == NULL) {
        return oom(p);
    }
    return meta_code(p, &p->cur, st);
}

static int
cell_line(parser *p, const line *ln)
{
    if (p->in_cell == 1) {
        const char *text;
        size_t n;
        if (is_blank(ln->s, ln->n)) {
            text = "";
            n = 0;
        } else if (ln->n == 1 && ln->s[0] == '#') {
            text = "";
            n = 0;
        } else if (ln->n >= 2 && ln->s[0] == '#' && ln->s[1] == ' ') {
            text = ln->s + 2;
            n = ln->n - 2;
        } else {
            return perr(p, ln->no, "markdown line must be '#' alone or "
                        "start with '# '");
        }
        mt_str_addn(&p->md, text, n);
        mt_str_addc(&p->md, '\n');
        return 0;
    }
    if (is_blank(ln->s, ln->n)) {
        return 0;
    }
    if (p->code_line == 0) {
        p->code_line = ln->no;
        p->code_start = ln->off;
    }
    p->code_end = ln->off + ln->n;
    return 0;
}

/* ---- header -------------------------------------------------------------- */

/* A YAML scalar on one line, of the kinds JSON and YAML read the same way:
 * plain, 'single' or "double" quoted.  Returns a new string or NULL. */
static char *
yaml_scalar(parser *p, int lineno, const char *key, const char *s, size_t n)
{
    s = trim(s, &n);
    if (n == 0) {
        perr(p, lineno, "header %s: is empty", key);
        return NULL;
    }
    const char *rest = NULL;
    size_t rest_n = 0;
    char *val = NULL;
    if (s[0] == '"') {
        mt_json *j = NULL;
        size_t end = 0;
        char *jerr = NULL;
        if (mt_json_parse(s, n, &end, &j, &jerr) < 0) {
            perr(p, lineno, "header %s: bad double-quoted string: %s", key,
                 jerr != NULL ? jerr : "out of memory");
            free(jerr);
            return NULL;
        }
        val = j->string;
        j->string = NULL;
        mt_json_free(j);
        rest = s + end;
        rest_n = n - end;
    } else if (s[0] == '\'') {
        mt_str b = {0};
        size_t i = 1;
        for (;;) {
            if (i >= n) {
                free(b.s);
                perr(p, lineno, "header %s: unclosed ' quote", key);
                return NULL;
            }
            if (s[i] == '\'') {
                if (i + 1 < n && s[i + 1] == '\'') {
                    i++;
                } else {
                    break;
                }
            }
            mt_str_addc(&b, s[i]);
            i++;
        }
        val = mt_str_take(&b);
        rest = s + i + 1;
        rest_n = n - i - 1;
    } else {
        if (strchr("[]{}#&*!|>%@`,\"'", s[0]) != NULL
            || ((s[0] == '-' || s[0] == '?' || s[0] == ':')
                && (n == 1 || is_space(s[1])))) {
            perr(p, lineno, "header %s: quote a value that starts with "
                 "'%c'", key, s[0]);
            return NULL;
        }
        size_t end = n;
        for (size_t i = 1; i < n; i++) {
            if (s[i] == '#' && is_space(s[i - 1])) {
                end = i;
                break;
            }
        }
        trim(s, &end);
        for (size_t i = 0; i < end; i++) {
            if (s[i] == ':' && (i + 1 == end || is_space(s[i + 1]))) {
                perr(p, lineno, "header %s: quote a value with ': ' in it "
                     "(YAML reads it as a mapping)", key);
                return NULL;
            }
        }
        val = dup_n(s, end);
    }
    if (val == NULL) {
        oom(p);
        return NULL;
    }
    if (rest != NULL) {
        rest = trim(rest, &rest_n);
        if (rest_n > 0 && rest[0] != '#') {
            free(val);
            perr(p, lineno, "header %s: unexpected text after the quoted "
                 "value", key);
            return NULL;
        }
    }
    return val;
}

/* The "# ---" block; the first line was "# ---". */
static int
parse_header(parser *p, int open_line)
{
    line ln;
    int block = 0;        /* the last key takes indented lines (jupyter:) */
    int seen_summary = 0;

    while (next_line(p, &ln)) {
        if (line_is(&ln, "# ---")) {
            if (p->l->title == NULL) {
                return perr(p, open_line, "the header has no title: line");
            }
            return 0;
        }
        if (line_is(&ln, "#")) {
            continue;
        }
        if (is_blank(ln.s, ln.n) || is_marker(&ln)) {
            return perr(p, open_line, "the header is not closed: a '# ---' "
                        "line must come before line %d", ln.no);
        }
        if (ln.n < 2 || ln.s[0] != '#' || ln.s[1] != ' ') {
            return perr(p, ln.no, "header line must be '# key: value' (a "
                        "commented YAML line) or end the header with "
                        "'# ---'");
        }
        const char *c = ln.s + 2;
        size_t n = ln.n - 2;
        if (c[0] == '\t') {
            return perr(p, ln.no, "tab in header indentation (YAML takes "
                        "spaces)");
        }
        if (c[0] == ' ') {
            if (!block) {
                return perr(p, ln.no, "unexpected indented header line (only"
                            " the jupyter: block has indented lines)");
            }
            continue;
        }
        if (c[0] == '#') {
            continue;    /* a YAML comment */
        }
        size_t k = 0;
        if (is_ident_start(c[0])) {
            while (k < n && (is_ident_char(c[k]))) {
                k++;
            }
        }
        if (k == 0 || k >= n || c[k] != ':' || (k + 1 < n && c[k + 1] != ' ')) {
            return perr(p, ln.no, "header line must be '# key: value'");
        }
        const char *val = c + k + 1;
        size_t vn = n - k - 1;
        block = 0;
        if (k == 5 && memcmp(c, "title", 5) == 0) {
            if (p->l->title != NULL) {
                return perr(p, ln.no, "header title: is given twice");
            }
            p->l->title = yaml_scalar(p, ln.no, "title", val, vn);
            if (p->l->title == NULL) {
                return -1;
            }
        } else if (k == 7 && memcmp(c, "summary", 7) == 0) {
            if (seen_summary) {
                return perr(p, ln.no, "header summary: is given twice");
            }
            char *s = yaml_scalar(p, ln.no, "summary", val, vn);
            if (s == NULL) {
                return -1;
            }
            free(p->l->summary);
            p->l->summary = s;
            seen_summary = 1;
        } else if (k == 7 && memcmp(c, "jupyter", 7) == 0) {
            block = 1;    /* Jupytext's own metadata: ignored */
        } else {
            return perr(p, ln.no, "unknown header key '%.*s' (known: title, "
                        "summary, jupyter)", (int)(k > 40 ? 40 : k), c);
        }
    }
    return perr(p, open_line, "the header is not closed by a '# ---' line");
}

/* ---- files --------------------------------------------------------------- */

/* "NN-slug.py" → number and slug (malloc'ed); -1 if the name is not one. */
static int
lesson_name(const char *path, int *number, char **slug)
{
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    size_t n = strlen(base);
    if (n < 7 || base[0] < '0' || base[0] > '9' || base[1] < '0'
        || base[1] > '9' || base[2] != '-' || strcmp(base + n - 3, ".py") != 0
        || !is_slug(base + 3, n - 6)) {
        return -1;
    }
    *number = (base[0] - '0') * 10 + (base[1] - '0');
    if (slug != NULL) {
        *slug = dup_n(base + 3, n - 6);
        if (*slug == NULL) {
            return -1;
        }
    }
    return 0;
}

void
mt_lesson_free(mt_lesson *l)
{
    if (l == NULL) {
        return;
    }
    for (size_t i = 0; i < l->nsteps; i++) {
        mt_step *st = &l->steps[i];
        for (size_t k = 0; k < st->nwatches; k++) {
            free(st->watches[k].expr);
            free(st->watches[k].layout);
            free(st->watches[k].label);
        }
        free(st->watches);
        free(st->title);
        free(st->slug);
        free(st->narrative);
        free(st->code);
    }
    free(l->steps);
    free(l->path);
    free(l->slug);
    free(l->title);
    free(l->summary);
    free(l->outro);
    free(l);
}

/* Default step slugs: from the title, else "step-N"; unique. */
static int
step_slugs(parser *p)
{
    mt_lesson *l = p->l;
    namer nm = {0};
    int rc = -1;

    for (size_t i = 0; i < l->nsteps; i++) {
        if (l->steps[i].slug == NULL) {
            continue;
        }
        int r = namer_take(&nm, l->steps[i].slug);
        if (r < 0) {
            oom(p);
            goto out;
        }
        if (r == 0) {
            perr(p, l->steps[i].line, "slug \"%s\" is already used by "
                 "another step", l->steps[i].slug);
            goto out;
        }
    }
    for (size_t i = 0; i < l->nsteps; i++) {
        mt_step *st = &l->steps[i];
        if (st->slug != NULL) {
            continue;
        }
        char *base = slugify(st->title, SLUG_DERIVED_MAX);
        if (base != NULL && base[0] == '\0') {
            free(base);
            base = fmt_alloc("step-%zu", i + 1);
        }
        if (base == NULL) {
            oom(p);
            goto out;
        }
        st->slug = namer_unique(&nm, base);
        free(base);
        if (st->slug == NULL) {
            oom(p);
            goto out;
        }
    }
    rc = 0;
out:
    namer_free(&nm);
    return rc;
}

mt_lesson *
mt_lesson_parse(const char *path, const char *text, size_t len, char **err)
{
    parser p = {0};
    line ln;
    const char *nul;
    size_t bad;

    p.path = path != NULL ? path : "(lesson)";
    p.text = text != NULL ? text : "";
    p.len = text != NULL ? len : 0;
    *err = NULL;

    if (p.len > MT_LESSON_MAX_BYTES) {
        perr(&p, 1, "file is larger than 1 MiB, the limit for a lesson");
        goto fail;
    }
    nul = memchr(p.text, '\0', p.len);
    if (nul != NULL) {
        perr(&p, line_at(p.text, (size_t)(nul - p.text)), "NUL byte");
        goto fail;
    }
    if (mt_json_check_utf8(p.text, p.len, &bad) < 0) {
        int no = line_at(p.text, bad);
        size_t ls = bad;
        while (ls > 0 && p.text[ls - 1] != '\n') {
            ls--;
        }
        perr(&p, no, "invalid UTF-8 (byte 0x%02x, column %zu)",
             (unsigned char)p.text[bad], bad - ls + 1);
        goto fail;
    }
    p.l = calloc(1, sizeof *p.l);
    if (p.l == NULL) {
        oom(&p);
        goto fail;
    }
    if (lesson_name(p.path, &p.l->number, &p.l->slug) < 0) {
        perr(&p, 1, "the file name must be NN-slug.py (two digits, '-', "
             "then a-z, 0-9 and -)");
        goto fail;
    }
    p.l->path = dup_s(p.path);
    if (p.l->path == NULL) {
        oom(&p);
        goto fail;
    }
    if (p.len >= 3 && memcmp(p.text, "\xEF\xBB\xBF", 3) == 0) {
        p.pos = 3;    /* a byte order mark */
    }

    /* Header, then blank lines, then cells. */
    int first = 1;
    while (next_line(&p, &ln)) {
        if (first && line_is(&ln, "# ---")) {
            first = 0;
            if (parse_header(&p, ln.no) < 0) {
                goto fail;
            }
            continue;
        }
        first = 0;
        if (is_marker(&ln)) {
            if (cell_start(&p, &ln) < 0) {
                goto fail;
            }
        } else if (p.in_cell != 0) {
            if (cell_line(&p, &ln) < 0) {
                goto fail;
            }
        } else if (!is_blank(ln.s, ln.n)) {
            perr(&p, ln.no, "text before the first cell (cells start with "
                 "a '# %%%%' line; the header goes between '# ---' lines)");
            goto fail;
        }
    }
    if (cell_end(&p) < 0) {
        goto fail;
    }
    if (p.l->title == NULL) {
        perr(&p, 1, "no title: a lesson starts with a header '# ---', "
             "'# title: ...', '# ---'");
        goto fail;
    }
    if (p.l->nsteps == 0) {
        perr(&p, 1, "no code cell: a lesson needs at least one step");
        goto fail;
    }
    if (p.l->summary == NULL) {
        p.l->summary = dup_s("");
    }
    p.l->outro = mt_str_take(&p.pending);
    if (p.l->summary == NULL || p.l->outro == NULL) {
        oom(&p);
        goto fail;
    }
    if (step_slugs(&p) < 0) {
        goto fail;
    }
    return p.l;
fail:
    marker_clear(&p.cur);
    free(p.pending.s);
    free(p.md.s);
    mt_lesson_free(p.l);
    *err = p.err;
    return NULL;
}

mt_lesson *
mt_lesson_load(const char *path, char **err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;
    mt_lesson *l = NULL;

    *err = NULL;
    if (f == NULL) {
        *err = fmt_alloc("%s:1: cannot open (%s)", path, strerror(errno));
        return NULL;
    }
    /* Read at most one byte more than the limit: enough to refuse. */
    buf = malloc(MT_LESSON_MAX_BYTES + 1);
    if (buf == NULL) {
        *err = fmt_alloc("%s:1: out of memory", path);
        goto out;
    }
    len = fread(buf, 1, MT_LESSON_MAX_BYTES + 1, f);
    if (ferror(f)) {
        *err = fmt_alloc("%s:1: cannot read (%s)", path, strerror(errno));
        goto out;
    }
    l = mt_lesson_parse(path, buf, len, err);
out:
    free(buf);
    fclose(f);
    return l;
}

void
mt_lessons_free(mt_lesson **v, size_t n)
{
    if (v == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        mt_lesson_free(v[i]);
    }
    free(v);
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
ignored_name(const char *name)
{
    return name[0] == '.' || strcmp(name, "__pycache__") == 0
           || strncmp(name, "README", 6) == 0;
}

int
mt_lessons_load_dir(const char *dir, mt_lesson ***out, size_t *n, char **err)
{
    DIR *d = NULL;
    char **names = NULL;
    size_t nnames = 0;
    size_t cap = 0;
    mt_lesson **v = NULL;
    size_t nv = 0;
    int rc = -1;
    const char *sep = "/";
    size_t dlen = strlen(dir);

    *out = NULL;
    *n = 0;
    *err = NULL;
    if (dlen > 0 && dir[dlen - 1] == '/') {
        sep = "";
    }
    d = opendir(dir);
    if (d == NULL) {
        if (errno == ENOENT) {
            *err = fmt_alloc("%s: no such lessons folder", dir);
        } else if (errno == ENOTDIR) {
            *err = fmt_alloc("%s: not a folder", dir);
        } else {
            *err = fmt_alloc("%s: cannot open the lessons folder (%s)", dir,
                             strerror(errno));
        }
        return -1;
    }
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (e == NULL) {
            if (errno != 0) {
                *err = fmt_alloc("%s: cannot read the folder (%s)", dir,
                                 strerror(errno));
                goto out;
            }
            break;
        }
        if (ignored_name(e->d_name)) {
            continue;
        }
        if (nnames == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nn = realloc(names, ncap * sizeof *nn);
            if (nn == NULL) {
                goto oom;
            }
            names = nn;
            cap = ncap;
        }
        names[nnames] = dup_s(e->d_name);
        if (names[nnames] == NULL) {
            goto oom;
        }
        nnames++;
    }
    if (nnames > 0) {
        qsort(names, nnames, sizeof *names, cmp_names);
    }
    /* Names first: cheap, and a stray file is reported before a parse. */
    for (size_t i = 0; i < nnames; i++) {
        int num;
        int prev;
        size_t ln = strlen(names[i]);
        if (lesson_name(names[i], &num, NULL) < 0) {
            if (ln >= 3 && strcmp(names[i] + ln - 3, ".py") == 0) {
                *err = fmt_alloc("%s%s%s:1: not a lesson file name: expected"
                                 " NN-slug.py (two digits, '-', then a-z, "
                                 "0-9 and -)", dir, sep, names[i]);
            } else {
                *err = fmt_alloc("%s%s%s:1: stray file in the lessons folder"
                                 " (only NN-slug.py lessons, README* and "
                                 "dotfiles belong there)", dir, sep,
                                 names[i]);
            }
            goto out;
        }
        if (i > 0 && lesson_name(names[i - 1], &prev, NULL) == 0
            && prev == num) {
            *err = fmt_alloc("%s%s%s:1: stage number %02d is also used by "
                             "%s", dir, sep, names[i], num, names[i - 1]);
            goto out;
        }
    }
    if (nnames == 0) {
        *err = fmt_alloc("%s: no lessons in this folder (lessons are files "
                         "named NN-slug.py)", dir);
        goto out;
    }
    v = calloc(nnames, sizeof *v);
    if (v == NULL) {
        goto oom;
    }
    for (size_t i = 0; i < nnames; i++) {
        char *path = fmt_alloc("%s%s%s", dir, sep, names[i]);
        if (path == NULL) {
            goto oom;
        }
        v[nv] = mt_lesson_load(path, err);
        free(path);
        if (v[nv] == NULL) {
            goto out;
        }
        nv++;
    }
    *out = v;
    *n = nv;
    v = NULL;
    rc = 0;
    goto out;
oom:
    *err = fmt_alloc("%s: out of memory", dir);
out:
    mt_lessons_free(v, nv);
    for (size_t i = 0; i < nnames; i++) {
        free(names[i]);
    }
    free(names);
    closedir(d);
    return rc;
}
