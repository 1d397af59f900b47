/* lesson.c — lesson files (Jupytext "percent" Python) → stages and steps. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "lesson.h"

#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <search.h>
#include <stdarg.h>
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
 * Metadata values are JSON, read by jansson.  Names go through the C
 * library's search tree, so even a 1 MiB file of one repeated title takes
 * milliseconds.
 */

#define SLUG_MAX 64          /* explicit slugs and labels */
#define SLUG_DERIVED_MAX 40  /* slugs and labels made from titles */

/* ---- small helpers ---------------------------------------------------- */

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
    char *out = mt_xmalloc((n < max ? n : max) + 1);
    size_t o = 0;
    int dash = 1;

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

/* The names given so far in one scope (a step's watch labels, a lesson's
 * step slugs), in the C library's search tree: a 1 MiB lesson of one
 * repeated title holds tens of thousands of them.  Each entry also keeps the
 * next suffix to try for names derived from it, so n copies of one title
 * cost O(n log n), not O(n²). */
typedef struct named {
    const char *s;    /* borrowed from the step or watch it names */
    int next;         /* s-next is the next derived name to try */
} named;

typedef struct namer {
    void *root;
} namer;

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(((const named *)a)->s, ((const named *)b)->s);
}

/* The entry of s, added if new (*added says which). */
static named *
namer_entry(namer *nm, const char *s, int *added)
{
    named *e = mt_xmalloc(sizeof *e);
    *e = (named){s, 2};
    named **found = tsearch(e, &nm->root, name_cmp);
    if (found == NULL) {
        mt_oom();
    }
    *added = *found == e;
    if (!*added) {
        free(e);
    }
    return *found;
}

/* Reserve s (borrowed: it must outlive nm); 1 if new, 0 if taken. */
static int
namer_take(namer *nm, const char *s)
{
    int added;
    namer_entry(nm, s, &added);
    return added;
}

/* A new name, reserved: base if free, else base-2, base-3, ...
 * Malloc'ed; the caller keeps it for as long as nm lives. */
static char *
namer_unique(namer *nm, const char *base)
{
    char *name = mt_xstrdup(base);
    int added;
    named *e = namer_entry(nm, name, &added);
    if (added) {
        return name;
    }
    free(name);
    for (;; e->next++) {
        name = mt_xasprintf("%s-%d", base, e->next);
        if (namer_take(nm, name)) {
            e->next++;
            return name;
        }
        free(name);
    }
}

static void
namer_free(namer *nm)
{
    tdestroy(nm->root, free);
    nm->root = NULL;
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
    json_t *val;
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
    int in_cell;         /* 0 none, 1 markdown, 2 code, 3 not for this CPython */
    mt_str md;           /* markdown cell text */
    size_t code_start;   /* code cell: first non-blank line... */
    size_t code_end;     /* ...and the end of the last one */
    int code_line;
    marker cur;
    int ex_role;         /* the cell's part of an exercise (EX_*) */
    size_t cap_ex;
} parser;

/* Keep the first refusal, "path:line: message"; returns -1. */
__attribute__((format(printf, 3, 4)))
static int
refuse(parser *p, int lineno, const char *fmt, ...)
{
    if (p->err == NULL) {
        va_list ap;
        va_start(ap, fmt);
        char *msg = mt_xvasprintf(fmt, ap);
        va_end(ap);
        p->err = mt_xasprintf("%s:%d: %s", p->path, lineno, msg);
        free(msg);
    }
    return -1;
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

/* The JSON type of v, as a lesson writer would name it. */
static const char *
json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    default:
        return "null";
    }
}

/* One JSON value at the start of s[0..n), the bytes after it left alone.
 * Returns a new reference with *end just past the value; or NULL with *end
 * just past the fault and jansson's reason in e->text.  Jansson allocates
 * through mt_xmalloc, so running out of memory aborts here too. */
static json_t *
json_value(const char *s, size_t n, size_t *end, json_error_t *e)
{
    json_set_alloc_funcs(mt_xmalloc, free);
    json_t *v = json_loadb(s, n, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK
                           | JSON_REJECT_DUPLICATES, e);
    *end = e->position > 0 ? (size_t)e->position : 0;
    return v;
}

static void
marker_clear(marker *m)
{
    for (size_t i = 0; i < m->nkv; i++) {
        json_decref(m->kvs[i].val);
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
                return refuse(p, ln->no, "two cell types in the cell marker "
                              "(column %zu)", i + 1);
            }
            if (st == M_META) {
                return refuse(p, ln->no, "the cell type must come before "
                              "key=value metadata (column %zu)", i + 1);
            }
            size_t j = i + 1;
            while (j < n && s[j] != ']' && !is_space(s[j])) {
                j++;
            }
            if (j >= n || s[j] != ']') {
                return refuse(p, ln->no, "unclosed '[' in the cell marker "
                              "(column %zu)", i + 1);
            }
            size_t tlen = j - i - 1;
            if ((tlen == 8 && memcmp(s + i + 1, "markdown", 8) == 0)
                || (tlen == 2 && memcmp(s + i + 1, "md", 2) == 0)) {
                m->markdown = 1;
            } else {
                return refuse(p, ln->no, "unknown cell type [%.*s] (write "
                              "[markdown] for text, nothing for code)",
                              (int)(tlen > 40 ? 40 : tlen), s + i + 1);
            }
            i = j + 1;
            if (i < n && !is_space(s[i])) {
                return refuse(p, ln->no, "expected a space after [%.*s] "
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
                return refuse(p, ln->no, "%.*s= has no value (values are "
                              "JSON, e.g. %.*s=\"text\")", (int)keylen, key,
                              (int)keylen, key);
            }
            for (size_t q = 0; q < m->nkv; q++) {
                if (m->kvs[q].keylen == keylen
                    && memcmp(m->kvs[q].key, key, keylen) == 0) {
                    return refuse(p, ln->no, "%.*s= is given twice",
                                  (int)keylen, key);
                }
            }
            size_t end = 0;
            json_error_t je;
            json_t *val = json_value(s + v, n - v, &end, &je);
            if (val == NULL) {
                int quote = end > 0 && s[v + end - 1] == '\'';
                return refuse(p, ln->no, "bad JSON value for %.*s= (column "
                              "%zu): %s%s", (int)keylen, key, v + end,
                              je.text, quote ? " (JSON strings take double "
                              "quotes)" : "");
            }
            i = v + end;
            if (i < n && !is_space(s[i])) {
                json_decref(val);
                return refuse(p, ln->no, "bad JSON value for %.*s= (column "
                              "%zu): unexpected text after the value",
                              (int)keylen, key, i + 1);
            }
            if (m->nkv == cap) {
                cap = cap ? cap * 2 : 4;
                m->kvs = mt_xrealloc(m->kvs, cap * sizeof *m->kvs);
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
            return refuse(p, ln->no, "unexpected '%.*s' after %s (column "
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
meta_tags(parser *p, int lineno, const json_t *v, mt_step *st)
{
    const char *seen = NULL;
    size_t i;
    const json_t *t;

    if (!json_is_array(v)) {
        return refuse(p, lineno, "tags= must be an array of strings, not "
                      "a %s", json_kind(v));
    }
    json_array_foreach(v, i, t) {
        if (!json_is_string(t)) {
            return refuse(p, lineno, "tags= item %zu is a %s, not a string",
                          i + 1, json_kind(t));
        }
        const char *tag = json_string_value(t);
        for (size_t k = 0; k < sizeof kind_tags / sizeof kind_tags[0]; k++) {
            if (strcmp(tag, kind_tags[k].tag) != 0) {
                continue;
            }
            if (seen != NULL) {
                return refuse(p, lineno, "two kind tags \"%s\" and \"%s\" "
                              "(a step is one of explore, patch, revert)",
                              seen, tag);
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
        return refuse(p, lineno, "watch item %zu: the expression is empty",
                      idx);
    }
    for (size_t i = 0; i < elen; i++) {
        if ((unsigned char)expr[i] < 0x20 || expr[i] == 0x7F) {
            return refuse(p, lineno, "watch item %zu: the expression must be "
                          "one line without control characters", idx);
        }
    }
    if (llen == 0) {
        return refuse(p, lineno, "watch item %zu: the layout name is empty",
                      idx);
    }
    for (size_t i = 0; i < llen; i++) {
        if ((unsigned char)layout[i] <= 0x20 || layout[i] == 0x7F) {
            return refuse(p, lineno, "watch item %zu: the layout name \"%.*s\""
                          " has a space or control character", idx,
                          (int)(llen > 40 ? 40 : llen), layout);
        }
    }
    w->expr = mt_xstrndup(expr, elen);
    w->layout = mt_xstrndup(layout, llen);
    return 0;
}

/* A length must be a whole number (integer) of bytes in range. */
static int
watch_len(parser *p, int lineno, size_t idx, long long v, int integer,
          mt_watch *w)
{
    if (!integer || v < 1 || v > MT_WATCH_MAX_LEN) {
        return refuse(p, lineno, "watch item %zu: the length must be a whole "
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
    long long v = 0;
    for (size_t i = 0; i < tlen && v <= MT_WATCH_MAX_LEN; i++) {
        v = v * 10 + (tail[i] - '0');
    }
    if (watch_len(p, lineno, idx, v, 1, w) < 0) {
        return -1;
    }
    return watch_set(p, lineno, idx, w, s, (size_t)(c2 - s), c2 + 1,
                     (size_t)(c1 - c2 - 1));
shape:
    return refuse(p, lineno, "watch item %zu: \"%.60s\" is not "
                  "\"EXPR:LAYOUT\" or \"EXPR:LAYOUT:LEN\"", idx, s);
}

static int
watch_from_object(parser *p, int lineno, size_t idx, const json_t *o,
                  mt_watch *w)
{
    const char *expr = NULL;
    const char *layout = NULL;
    const char *k;
    const json_t *v;

    json_object_foreach((json_t *)o, k, v) {
        if (strcmp(k, "expr") == 0 || strcmp(k, "layout") == 0
            || strcmp(k, "label") == 0) {
            if (!json_is_string(v)) {
                return refuse(p, lineno, "watch item %zu: \"%s\" must be a "
                              "string, not a %s", idx, k, json_kind(v));
            }
            const char *str = json_string_value(v);
            if (k[1] == 'x') {
                expr = str;
            } else if (k[1] == 'a' && k[2] == 'y') {
                layout = str;
            } else {
                size_t ln = strlen(str);
                if (!is_slug(str, ln) || ln > SLUG_MAX) {
                    return refuse(p, lineno, "watch item %zu: label "
                                  "\"%.60s\" must be 1 to %d of a-z, 0-9 "
                                  "and -", idx, str, SLUG_MAX);
                }
                w->label = mt_xstrdup(str);
            }
        } else if (strcmp(k, "len") == 0) {
            if (!json_is_number(v)) {
                return refuse(p, lineno, "watch item %zu: \"len\" must be a "
                              "number, not a %s", idx, json_kind(v));
            }
            if (watch_len(p, lineno, idx, json_integer_value(v),
                          json_is_integer(v), w) < 0) {
                return -1;
            }
        } else if (strcmp(k, "verify") == 0) {
            if (!json_is_boolean(v)) {
                return refuse(p, lineno, "watch item %zu: \"verify\" must be "
                              "true or false, not a %s", idx, json_kind(v));
            }
            w->verify = json_is_true(v);
        } else {
            return refuse(p, lineno, "watch item %zu: unknown key \"%.40s\" "
                          "(known: expr, layout, len, label, verify)", idx,
                          k);
        }
    }
    if (expr == NULL || layout == NULL) {
        return refuse(p, lineno, "watch item %zu: \"%s\" is missing", idx,
                      expr == NULL ? "expr" : "layout");
    }
    return watch_set(p, lineno, idx, w, expr, strlen(expr), layout,
                     strlen(layout));
}

/* Name every item of one scope uniquely: slot(items, i) is where item i's
 * name goes (NULL until given).  Given names are kept and must differ; the
 * others get derive(items, i) (malloc'ed), with -2, -3, ... appended when
 * it is taken.  Returns -1, or the index of the first given name that
 * repeats an earlier one (nothing is derived then). */
static long
name_all(void *items, size_t n, char **(*slot)(void *, size_t),
         char *(*derive)(void *, size_t))
{
    namer nm = {0};
    long dup = -1;

    for (size_t i = 0; i < n && dup < 0; i++) {
        const char *given = *slot(items, i);
        if (given != NULL && !namer_take(&nm, given)) {
            dup = (long)i;
        }
    }
    for (size_t i = 0; i < n && dup < 0; i++) {
        char **name = slot(items, i);
        if (*name == NULL) {
            char *base = derive(items, i);
            *name = namer_unique(&nm, base);
            free(base);
        }
    }
    namer_free(&nm);
    return dup;
}

static char **
watch_label(void *watches, size_t i)
{
    return &((mt_watch *)watches)[i].label;
}

/* A label from the watch's layout, else its expression, else "watch". */
static char *
watch_label_base(void *watches, size_t i)
{
    const mt_watch *w = &((mt_watch *)watches)[i];
    char *base = slugify(w->layout, SLUG_DERIVED_MAX);
    if (base[0] == '\0') {
        free(base);
        base = slugify(w->expr, SLUG_DERIVED_MAX);
    }
    if (base[0] == '\0') {
        free(base);
        base = mt_xstrdup("watch");
    }
    return base;
}

static int
meta_watch(parser *p, int lineno, const json_t *v, mt_step *st)
{
    size_t i;
    const json_t *it;

    if (!json_is_array(v)) {
        return refuse(p, lineno, "watch= must be an array, not a %s",
                      json_kind(v));
    }
    if (json_array_size(v) == 0) {
        return 0;
    }
    st->watches = mt_xcalloc(json_array_size(v), sizeof *st->watches);
    json_array_foreach(v, i, it) {
        mt_watch *w = &st->watches[i];
        st->nwatches = i + 1;
        w->len = -1;
        w->verify = 1;
        int r;
        if (json_is_string(it)) {
            r = watch_from_string(p, lineno, i + 1, json_string_value(it), w);
        } else if (json_is_object(it)) {
            r = watch_from_object(p, lineno, i + 1, it, w);
        } else {
            r = refuse(p, lineno, "watch item %zu is a %s; write "
                       "\"EXPR:LAYOUT[:LEN]\" or {\"expr\": ..., "
                       "\"layout\": ...}", i + 1, json_kind(it));
        }
        if (r < 0) {
            return -1;
        }
    }
    long dup = name_all(st->watches, st->nwatches, watch_label,
                        watch_label_base);
    if (dup >= 0) {
        return refuse(p, lineno, "watch label \"%s\" is used twice in this "
                      "step", st->watches[dup].label);
    }
    return 0;
}

static int
meta_code(parser *p, const marker *m, mt_step *st)
{
    for (size_t i = 0; i < m->nkv; i++) {
        const kv *e = &m->kvs[i];
        const json_t *v = e->val;
        if (kv_is(e, "tags")) {
            if (meta_tags(p, m->line, v, st) < 0) {
                return -1;
            }
        } else if (kv_is(e, "slug")) {
            if (!json_is_string(v)) {
                return refuse(p, m->line, "slug= must be a string, not a %s",
                              json_kind(v));
            }
            const char *slug = json_string_value(v);
            size_t n = strlen(slug);
            if (!is_slug(slug, n) || n > SLUG_MAX) {
                return refuse(p, m->line, "bad slug \"%.60s\": 1 to %d of "
                              "a-z, 0-9 and -", slug, SLUG_MAX);
            }
            st->slug = mt_xstrdup(slug);
        } else if (kv_is(e, "watch")) {
            if (meta_watch(p, m->line, v, st) < 0) {
                return -1;
            }
        } else if (kv_is(e, "timeout")) {
            if (!json_is_number(v) || !(json_number_value(v) > 0)
                || !(json_number_value(v) <= MT_TIMEOUT_MAX)) {
                return refuse(p, m->line, "timeout= must be a number of "
                              "seconds above 0 and at most 86400");
            }
            st->timeout = json_number_value(v);
        } else {
            return refuse(p, m->line, "unknown key %.*s= on a code cell "
                          "(known: tags, slug, watch, timeout)",
                          (int)(e->keylen > 40 ? 40 : e->keylen), e->key);
        }
    }
    return 0;
}

/* ---- cells --------------------------------------------------------------- */

/* Append text to the narrative, a blank line between cells. */
static void
pending_add(parser *p, const char *s, size_t n)
{
    if (n == 0) {
        return;
    }
    if (p->pending.len > 0) {
        mt_str_add(&p->pending, "\n\n");
    }
    mt_str_addn(&p->pending, s, n);
}

/* Copy text[start..end) dropping the "\r" of "\r\n". */
static char *
copy_code(const char *text, size_t start, size_t end)
{
    char *out = mt_xmalloc(end - start + 1);
    size_t o = 0;
    for (size_t i = start; i < end; i++) {
        if (text[i] == '\r' && i + 1 < end && text[i + 1] == '\n') {
            continue;
        }
        out[o++] = text[i];
    }
    out[o] = '\0';
    return out;
}

/* ---- exercises ------------------------------------------------------------ */

/* The part of an exercise a cell is, from its tags: none, or one of these
 * (the table gives the tag and the cell type it goes on). */
enum { EX_NONE, EX_TASK, EX_HINT, EX_STARTER, EX_CHECK };

static const struct {
    const char *tag;
    int markdown;
} ex_parts[] = {
    [EX_TASK] = {"exercise", 1},
    [EX_HINT] = {"hint", 1},
    [EX_STARTER] = {"starter", 0},
    [EX_CHECK] = {"check", 0},
};
#define EX_NPARTS (sizeof ex_parts / sizeof ex_parts[0])

/* The exercise part named by m's tags (EX_NONE when none), or -1 refused:
 * two parts on one cell, or a part on the wrong type of cell. */
static int
ex_part_of(parser *p, const marker *m)
{
    int part = EX_NONE;
    for (size_t i = 0; i < m->nkv; i++) {
        size_t k;
        const json_t *t;
        if (!kv_is(&m->kvs[i], "tags") || !json_is_array(m->kvs[i].val)) {
            continue;
        }
        json_array_foreach(m->kvs[i].val, k, t) {
            for (int e = EX_TASK; e < (int)EX_NPARTS; e++) {
                if (!json_is_string(t) || strcmp(json_string_value(t), ex_parts[e].tag) != 0) {
                    continue;
                }
                if (part != EX_NONE && part != e) {
                    return refuse(p, m->line, "two exercise tags \"%s\" and \"%s\" (a cell "
                                  "is one of exercise, hint, starter, check)",
                                  ex_parts[part].tag, ex_parts[e].tag);
                }
                part = e;
            }
        }
    }
    if (part != EX_NONE && ex_parts[part].markdown != m->markdown) {
        return refuse(p, m->line, "tags=[\"%s\"] goes on a %s cell", ex_parts[part].tag,
                      ex_parts[part].markdown ? "[markdown]" : "code");
    }
    return part;
}

/* The exercise being read is complete: does it have every part? */
static int
ex_finish(parser *p)
{
    if (p->l->nexercises == 0) {
        return 0;
    }
    const mt_exercise *ex = &p->l->exercises[p->l->nexercises - 1];
    const char *missing = ex->nhints == 0 ? "hint cell (tags=[\"hint\"])"
                          : ex->starter == NULL ? "starter cell (tags=[\"starter\"])"
                          : ex->check == NULL ? "check cell (tags=[\"check\"])" : NULL;
    if (missing != NULL) {
        return refuse(p, ex->line, "exercise %d.%zu \"%s\" has no %s", p->l->number,
                      p->l->nexercises, ex->title, missing);
    }
    return 0;
}

/* The metadata of an exercise cell: tags everywhere, slug= on the task,
 * timeout= on the check; markdown cells ignore the rest, as elsewhere. */
static int
ex_meta(parser *p, const marker *m, int part, mt_exercise *ex)
{
    for (size_t i = 0; i < m->nkv; i++) {
        const kv *e = &m->kvs[i];
        const json_t *v = e->val;
        if (kv_is(e, "tags")) {
            if (!json_is_array(v)) {
                return refuse(p, m->line, "tags= must be an array of strings, not a %s",
                              json_kind(v));
            }
        } else if (part == EX_TASK && kv_is(e, "slug")) {
            const char *slug = json_is_string(v) ? json_string_value(v) : "";
            if (!is_slug(slug, strlen(slug)) || strlen(slug) > SLUG_MAX) {
                return refuse(p, m->line, "slug= of an exercise must be a string of 1 to %d "
                              "of a-z, 0-9 and -", SLUG_MAX);
            }
            ex->slug = mt_xstrdup(slug);
        } else if (part == EX_CHECK && kv_is(e, "timeout")) {
            if (!json_is_number(v) || !(json_number_value(v) > 0)
                || !(json_number_value(v) <= MT_TIMEOUT_MAX)) {
                return refuse(p, m->line, "timeout= must be a number of seconds above 0 "
                              "and at most 86400");
            }
            ex->timeout = json_number_value(v);
        } else if (!m->markdown) {
            return refuse(p, m->line, "unknown key %.*s= on a %s cell (known: tags%s)",
                          (int)(e->keylen > 40 ? 40 : e->keylen), e->key, ex_parts[part].tag,
                          part == EX_CHECK ? ", timeout" : "");
        }
    }
    return 0;
}

/* A cell marker at or after the first exercise: a part of one. */
static int
ex_cell_start(parser *p, int part)
{
    mt_lesson *l = p->l;
    const marker *m = &p->cur;
    if (part == EX_NONE) {
        return refuse(p, m->line, "after the first exercise only exercise, hint, starter "
                      "and check cells may follow (exercises end a lesson)");
    }
    if (part == EX_TASK) {
        if (ex_finish(p) < 0) {
            return -1;
        }
        if (m->title == NULL) {
            return refuse(p, m->line, "an exercise needs a title: # %%%% Title [markdown] "
                          "tags=[\"exercise\"]");
        }
        if (l->nexercises == MT_LESSON_MAX_EXERCISES) {
            return refuse(p, m->line, "more than %d exercises in one lesson",
                          MT_LESSON_MAX_EXERCISES);
        }
        if (l->nexercises == p->cap_ex) {
            p->cap_ex = p->cap_ex ? p->cap_ex * 2 : 4;
            l->exercises = mt_xrealloc(l->exercises, p->cap_ex * sizeof *l->exercises);
        }
        mt_exercise *ex = &l->exercises[l->nexercises++];
        memset(ex, 0, sizeof *ex);
        ex->line = m->line;
        ex->title = mt_xstrndup(m->title, m->title_len);
    } else if (l->nexercises == 0) {
        return refuse(p, m->line, "a %s cell before any exercise cell (tags=[\"exercise\"] "
                      "on a [markdown] cell starts one)", ex_parts[part].tag);
    }
    mt_exercise *ex = &l->exercises[l->nexercises - 1];
    if ((part == EX_STARTER && ex->starter != NULL) || (part == EX_CHECK && ex->check != NULL)) {
        return refuse(p, m->line, "exercise %d.%zu has a %s cell already", l->number,
                      l->nexercises, ex_parts[part].tag);
    }
    p->ex_role = part;
    p->in_cell = m->markdown ? 1 : 2;
    p->code_line = 0;
    return ex_meta(p, m, part, ex);
}

/* The exercise cell being read is complete: text is a markdown cell's
 * (n bytes), or NULL for code. */
static int
ex_cell_end(parser *p, const char *text, size_t n)
{
    mt_exercise *ex = &p->l->exercises[p->l->nexercises - 1];
    int part = p->ex_role;
    p->ex_role = EX_NONE;
    if (text != NULL ? n == 0 : p->code_line == 0) {
        return refuse(p, p->cur.line, "empty %s cell", ex_parts[part].tag);
    }
    if (part == EX_TASK) {
        ex->task = mt_xstrndup(text, n);
    } else if (part == EX_HINT) {
        ex->hints = mt_xrealloc(ex->hints, (ex->nhints + 1) * sizeof *ex->hints);
        ex->hints[ex->nhints++] = mt_xstrndup(text, n);
    } else {
        /* The starter keeps its trailing newline: it becomes a file. */
        char *code = copy_code(p->text, p->code_start, p->code_end);
        if (part == EX_STARTER) {
            ex->starter = mt_xasprintf("%s\n", code);
            free(code);
        } else {
            ex->check = code;
            ex->check_line = p->code_line;
        }
    }
    return 0;
}

/* After the whole file: the last exercise complete, no step after the
 * first exercise, slugs given or derived, unique. */
static int
ex_done(parser *p)
{
    mt_lesson *l = p->l;
    if (ex_finish(p) < 0) {
        return -1;
    }
    for (size_t i = 0; l->nexercises > 0 && i < l->nsteps; i++) {
        if (l->steps[i].line > l->exercises[0].line) {
            return refuse(p, l->steps[i].line, "a step after the first exercise "
                          "(exercises end a lesson)");
        }
    }
    for (size_t i = 0; i < l->nexercises; i++) {
        mt_exercise *ex = &l->exercises[i];
        if (ex->slug == NULL) {
            ex->slug = slugify(ex->title, SLUG_DERIVED_MAX);
            if (ex->slug[0] == '\0') {
                free(ex->slug);
                ex->slug = mt_xasprintf("exercise-%zu", i + 1);
            }
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(l->exercises[j].slug, ex->slug) == 0) {
                return refuse(p, ex->line, "exercise slug \"%s\" is already used by "
                              "exercise %d.%zu", ex->slug, l->number, j + 1);
            }
        }
    }
    return 0;
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
        if (p->ex_role != EX_NONE) {
            rc = ex_cell_end(p, s, n);
        } else {
            pending_add(p, s, n);
        }
        free(p->md.s);
        memset(&p->md, 0, sizeof p->md);
    } else if (p->in_cell == 2 && p->ex_role != EX_NONE) {
        rc = ex_cell_end(p, NULL, 0);
    } else if (p->in_cell == 2) {
        mt_step *st = &p->l->steps[p->l->nsteps - 1];
        if (p->code_line == 0) {
            /* An empty code cell ("# %%" at the end of a notebook) is
             * dropped, unless it says something. */
            if (p->cur.title != NULL || p->cur.nkv > 0) {
                rc = refuse(p, p->cur.line, "code cell without code (remove "
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
        }
    }
    p->in_cell = 0;
    marker_clear(&p->cur);
    return rc;
}

/* ---- cells for some CPython versions ------------------------------------
 *
 * python=">=3.14" on a cell marker keeps the cell only on those versions:
 * one or more comparisons joined by ",", each an operator (==, !=, >=, <=,
 * >, <; none means ==) and a version 3.N, all of which must hold.  Cells
 * for other versions are dropped whole, as if they were not there. */

static int lesson_minor = -1;    /* the CPython lessons are read for: 3.N */

void
mt_lesson_for_python(int minor)
{
    lesson_minor = minor;
}

/* Whether range (python=) holds for 3.minor.  Returns 1 or 0, or -1 when
 * range is not a range, with *why (static) saying why. */
static int
python_range(const char *range, int minor, const char **why)
{
    int holds = 1, terms = 0;
    const char *s = range;
    for (;;) {
        while (*s == ' ') {
            s++;
        }
        static const char *const ops[] = {"==", "!=", ">=", "<=", ">", "<", ""};
        size_t o = 0;
        while (strncmp(s, ops[o], strlen(ops[o])) != 0) {
            o++;
        }
        s += strlen(ops[o]);
        char *end;
        if (strncmp(s, "3.", 2) != 0 || s[2] < '0' || s[2] > '9') {
            *why = "each part is a comparison with a version 3.N, e.g. \">=3.14\"";
            return -1;
        }
        long v = strtol(s + 2, &end, 10);
        int ok[] = {minor == v, minor != v, minor >= v, minor <= v, minor > v, minor < v,
                    minor == v};
        holds &= ok[o];
        terms++;
        s = end;
        while (*s == ' ') {
            s++;
        }
        if (*s == '\0') {
            break;
        }
        if (*s != ',') {
            *why = "parts are joined by \",\", e.g. \">=3.12,<3.14\"";
            return -1;
        }
        s++;
    }
    return terms > 0 ? holds : -1;
}

/* Take python= out of the cell's marker.  Returns 1 when the cell is for
 * the CPython lessons are read for (or has no python=), 0 when not (or
 * when no version was chosen: then only the shared cells are read), -1 on
 * a bad value. */
static int
cell_for_python(parser *p, marker *m)
{
    int keep = 1;
    for (size_t i = 0; i < m->nkv; i++) {
        if (!kv_is(&m->kvs[i], "python")) {
            continue;
        }
        const json_t *v = m->kvs[i].val;
        const char *why = "it must be a string";
        int r = json_is_string(v) ? python_range(json_string_value(v), lesson_minor, &why) : -1;
        if (r < 0) {
            return refuse(p, m->line, "bad python=: %s", why);
        }
        keep = lesson_minor >= 0 && r;      /* no version chosen: shared cells only */
        json_decref(m->kvs[i].val);
        m->kvs[i--] = m->kvs[--m->nkv];
    }
    return keep;
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
    int keep = cell_for_python(p, &p->cur);
    if (keep < 0) {
        return -1;
    }
    if (!keep) {
        p->in_cell = 3;        /* its lines are read and dropped */
        return 0;
    }
    int part = ex_part_of(p, &p->cur);
    if (part < 0) {
        return -1;
    }
    /* After the first exercise, a bare "# %%" (what a notebook editor
     * leaves at the end) is still allowed: it is dropped when empty. */
    if (part != EX_NONE
        || (p->l->nexercises > 0 && (p->cur.markdown || p->cur.title || p->cur.nkv))) {
        return ex_cell_start(p, part);
    }
    if (p->cur.markdown) {
        p->in_cell = 1;
        return 0;
    }
    p->in_cell = 2;
    p->code_line = 0;
    if (p->l->nsteps == p->cap_steps) {
        p->cap_steps = p->cap_steps ? p->cap_steps * 2 : 8;
        p->l->steps = mt_xrealloc(p->l->steps,
                                  p->cap_steps * sizeof *p->l->steps);
    }
    mt_step *st = &p->l->steps[p->l->nsteps++];
    memset(st, 0, sizeof *st);
    st->kind = MT_STEP_EXPLORE;
    st->line = ln->no;
    st->title = mt_xstrndup(p->cur.title != NULL ? p->cur.title : "",
                            p->cur.title_len);
    st->narrative = mt_str_take(&p->pending);
    return meta_code(p, &p->cur, st);
}

static int
cell_line(parser *p, const line *ln)
{
    if (p->in_cell == 3) {
        return 0;
    }
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
            return refuse(p, ln->no, "markdown line must be '#' alone or "
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
        refuse(p, lineno, "header %s: is empty", key);
        return NULL;
    }
    const char *rest = NULL;
    size_t rest_n = 0;
    char *val = NULL;
    if (s[0] == '"') {
        size_t end = 0;
        json_error_t je;
        json_t *j = json_value(s, n, &end, &je);
        if (j == NULL) {
            refuse(p, lineno, "header %s: bad double-quoted string: %s", key,
                   je.text);
            return NULL;
        }
        val = mt_xstrdup(json_string_value(j));
        json_decref(j);
        rest = s + end;
        rest_n = n - end;
    } else if (s[0] == '\'') {
        mt_str b = {0};
        size_t i = 1;
        for (;;) {
            if (i >= n) {
                free(b.s);
                refuse(p, lineno, "header %s: unclosed ' quote", key);
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
            refuse(p, lineno, "header %s: quote a value that starts with "
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
                refuse(p, lineno, "header %s: quote a value with ': ' in it "
                       "(YAML reads it as a mapping)", key);
                return NULL;
            }
        }
        val = mt_xstrndup(s, end);
    }
    if (rest != NULL) {
        rest = trim(rest, &rest_n);
        if (rest_n > 0 && rest[0] != '#') {
            free(val);
            refuse(p, lineno, "header %s: unexpected text after the quoted "
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
                return refuse(p, open_line, "the header has no title: line");
            }
            return 0;
        }
        if (line_is(&ln, "#")) {
            continue;
        }
        if (is_blank(ln.s, ln.n) || is_marker(&ln)) {
            return refuse(p, open_line, "the header is not closed: a '# ---' "
                          "line must come before line %d", ln.no);
        }
        if (ln.n < 2 || ln.s[0] != '#' || ln.s[1] != ' ') {
            return refuse(p, ln.no, "header line must be '# key: value' (a "
                          "commented YAML line) or end the header with "
                          "'# ---'");
        }
        const char *c = ln.s + 2;
        size_t n = ln.n - 2;
        if (c[0] == '\t') {
            return refuse(p, ln.no, "tab in header indentation (YAML takes "
                          "spaces)");
        }
        if (c[0] == ' ') {
            if (!block) {
                return refuse(p, ln.no, "unexpected indented header line (only"
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
            return refuse(p, ln.no, "header line must be '# key: value'");
        }
        const char *val = c + k + 1;
        size_t vn = n - k - 1;
        block = 0;
        if (k == 5 && memcmp(c, "title", 5) == 0) {
            if (p->l->title != NULL) {
                return refuse(p, ln.no, "header title: is given twice");
            }
            p->l->title = yaml_scalar(p, ln.no, "title", val, vn);
            if (p->l->title == NULL) {
                return -1;
            }
        } else if (k == 7 && memcmp(c, "summary", 7) == 0) {
            if (seen_summary) {
                return refuse(p, ln.no, "header summary: is given twice");
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
            return refuse(p, ln.no, "unknown header key '%.*s' (known: title, "
                          "summary, jupyter)", (int)(k > 40 ? 40 : k), c);
        }
    }
    return refuse(p, open_line, "the header is not closed by a '# ---' line");
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
        *slug = mt_xstrndup(base + 3, n - 6);
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
    for (size_t i = 0; i < l->nexercises; i++) {
        mt_exercise *ex = &l->exercises[i];
        free(ex->title);
        free(ex->slug);
        free(ex->task);
        for (size_t k = 0; k < ex->nhints; k++) {
            free(ex->hints[k]);
        }
        free(ex->hints);
        free(ex->starter);
        free(ex->check);
    }
    free(l->exercises);
    free(l->path);
    free(l->slug);
    free(l->title);
    free(l->summary);
    free(l->outro);
    free(l);
}

static char **
step_slug(void *steps, size_t i)
{
    return &((mt_step *)steps)[i].slug;
}

/* A slug from the step's title, else "step-N". */
static char *
step_slug_base(void *steps, size_t i)
{
    char *base = slugify(((mt_step *)steps)[i].title, SLUG_DERIVED_MAX);
    if (base[0] == '\0') {
        free(base);
        base = mt_xasprintf("step-%zu", i + 1);
    }
    return base;
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
        refuse(&p, 1, "file is larger than 1 MiB, the limit for a lesson");
        goto fail;
    }
    nul = memchr(p.text, '\0', p.len);
    if (nul != NULL) {
        refuse(&p, line_at(p.text, (size_t)(nul - p.text)), "NUL byte");
        goto fail;
    }
    if (mt_utf8_check(p.text, p.len, &bad) < 0) {
        int no = line_at(p.text, bad);
        size_t ls = bad;
        while (ls > 0 && p.text[ls - 1] != '\n') {
            ls--;
        }
        refuse(&p, no, "invalid UTF-8 (byte 0x%02x, column %zu)",
               (unsigned char)p.text[bad], bad - ls + 1);
        goto fail;
    }
    p.l = mt_xcalloc(1, sizeof *p.l);
    if (lesson_name(p.path, &p.l->number, &p.l->slug) < 0) {
        refuse(&p, 1, "the file name must be NN-slug.py (two digits, '-', "
               "then a-z, 0-9 and -)");
        goto fail;
    }
    p.l->path = mt_xstrdup(p.path);
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
            refuse(&p, ln.no, "text before the first cell (cells start with "
                   "a '# %%%%' line; the header goes between '# ---' lines)");
            goto fail;
        }
    }
    if (cell_end(&p) < 0) {
        goto fail;
    }
    if (p.l->title == NULL) {
        refuse(&p, 1, "no title: a lesson starts with a header '# ---', "
               "'# title: ...', '# ---'");
        goto fail;
    }
    if (p.l->nsteps == 0) {
        refuse(&p, 1, "no code cell: a lesson needs at least one step");
        goto fail;
    }
    if (p.l->summary == NULL) {
        p.l->summary = mt_xstrdup("");
    }
    p.l->outro = mt_str_take(&p.pending);
    long dup = name_all(p.l->steps, p.l->nsteps, step_slug, step_slug_base);
    if (dup >= 0) {
        refuse(&p, p.l->steps[dup].line, "slug \"%s\" is already used by "
               "another step", p.l->steps[dup].slug);
        goto fail;
    }
    if (ex_done(&p) < 0) {
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
    char *buf = NULL;
    size_t len = 0;

    *err = NULL;
    if (mt_read_file(path, MT_LESSON_MAX_BYTES, &buf, &len) < 0) {
        if (errno == EFBIG) {
            *err = mt_xasprintf("%s:1: file is larger than 1 MiB, the limit "
                                "for a lesson", path);
        } else if (errno == EINVAL) {
            *err = mt_xasprintf("%s:1: not a regular file (a FIFO, a device "
                                "or a socket): not read", path);
        } else {
            *err = mt_xasprintf("%s:1: cannot open (%s)", path,
                                strerror(errno));
        }
        return NULL;
    }
    mt_lesson *l = mt_lesson_parse(path, buf, len, err);
    free(buf);
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
            *err = mt_xasprintf("%s: no such lessons folder", dir);
        } else if (errno == ENOTDIR) {
            *err = mt_xasprintf("%s: not a folder", dir);
        } else {
            *err = mt_xasprintf("%s: cannot open the lessons folder (%s)", dir,
                             strerror(errno));
        }
        return -1;
    }
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (e == NULL) {
            if (errno != 0) {
                *err = mt_xasprintf("%s: cannot read the folder (%s)", dir,
                                 strerror(errno));
                goto out;
            }
            break;
        }
        if (ignored_name(e->d_name)) {
            continue;
        }
        if (nnames == cap) {
            cap = cap ? cap * 2 : 16;
            names = mt_xrealloc(names, cap * sizeof *names);
        }
        names[nnames++] = mt_xstrdup(e->d_name);
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
                *err = mt_xasprintf("%s%s%s:1: not a lesson file name: expected"
                                 " NN-slug.py (two digits, '-', then a-z, "
                                 "0-9 and -)", dir, sep, names[i]);
            } else {
                *err = mt_xasprintf("%s%s%s:1: stray file in the lessons folder"
                                 " (only NN-slug.py lessons, README* and "
                                 "dotfiles belong there)", dir, sep,
                                 names[i]);
            }
            goto out;
        }
        if (i > 0 && lesson_name(names[i - 1], &prev, NULL) == 0
            && prev == num) {
            *err = mt_xasprintf("%s%s%s:1: stage number %02d is also used by "
                             "%s", dir, sep, names[i], num, names[i - 1]);
            goto out;
        }
    }
    if (nnames == 0) {
        *err = mt_xasprintf("%s: no lessons in this folder (lessons are files "
                         "named NN-slug.py)", dir);
        goto out;
    }
    v = mt_xcalloc(nnames, sizeof *v);
    for (size_t i = 0; i < nnames; i++) {
        char *path = mt_xasprintf("%s%s%s", dir, sep, names[i]);
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
out:
    mt_lessons_free(v, nv);
    for (size_t i = 0; i < nnames; i++) {
        free(names[i]);
    }
    free(names);
    closedir(d);
    return rc;
}
