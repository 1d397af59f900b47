/* doc.c — the styled document model, its plain-text form and the palette. */
#include "doc.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mt_doc *
mt_doc_new(void)
{
    return mt_xcalloc(1, sizeof(mt_doc));
}

void
mt_doc_free(mt_doc *d)
{
    if (d == NULL) {
        return;
    }
    for (size_t i = 0; i < d->n; i++) {
        for (size_t j = 0; j < d->lines[i].n; j++) {
            free(d->lines[i].spans[j].text);
        }
        free(d->lines[i].spans);
    }
    free(d->lines);
    free(d);
}

void
mt_doc_newline(mt_doc *d)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->lines = mt_xrealloc(d->lines, d->cap * sizeof *d->lines);
    }
    memset(&d->lines[d->n++], 0, sizeof(mt_line));
}

void
mt_doc_addn(mt_doc *d, mt_role role, int field, const char *s, size_t n)
{
    if (d->n == 0) {
        mt_doc_newline(d);
    }
    if (n == 0) {
        return;
    }
    mt_line *l = &d->lines[d->n - 1];
    /* Adjacent text of one style is one span: renderers stay simple. */
    if (l->n > 0 && l->spans[l->n - 1].role == role && l->spans[l->n - 1].field == field) {
        mt_span *sp = &l->spans[l->n - 1];
        size_t old = strlen(sp->text);
        sp->text = mt_xrealloc(sp->text, old + n + 1);
        memcpy(sp->text + old, s, n);
        sp->text[old + n] = '\0';
        return;
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->spans = mt_xrealloc(l->spans, l->cap * sizeof *l->spans);
    }
    l->spans[l->n].role = (uint8_t)role;
    l->spans[l->n].field = (uint8_t)field;
    l->spans[l->n].text = mt_xstrndup(s, n);
    l->n++;
}

void
mt_doc_add(mt_doc *d, mt_role role, int field, const char *s)
{
    mt_doc_addn(d, role, field, s, strlen(s));
}

void
mt_doc_addf(mt_doc *d, mt_role role, int field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = mt_xvasprintf(fmt, ap);
    va_end(ap);
    mt_doc_add(d, role, field, s);
    free(s);
}

void
mt_doc_append(mt_doc *d, const mt_doc *src)
{
    for (size_t i = 0; i < src->n; i++) {
        mt_doc_newline(d);
        for (size_t j = 0; j < src->lines[i].n; j++) {
            const mt_span *sp = &src->lines[i].spans[j];
            mt_doc_add(d, sp->role, sp->field, sp->text);
        }
    }
}

int
mt_doc_line_width(const mt_line *l)
{
    int w = 0;
    for (size_t j = 0; j < l->n; j++) {
        w += mt_utf8_width(l->spans[j].text, strlen(l->spans[j].text));
    }
    return w;
}

int
mt_doc_width(const mt_doc *d)
{
    int w = 0;
    for (size_t i = 0; i < d->n; i++) {
        int lw = mt_doc_line_width(&d->lines[i]);
        w = lw > w ? lw : w;
    }
    return w;
}

char *
mt_doc_text(const mt_doc *d)
{
    mt_str b = {0};
    for (size_t i = 0; i < d->n; i++) {
        size_t start = b.len;
        for (size_t j = 0; j < d->lines[i].n; j++) {
            mt_str_add(&b, d->lines[i].spans[j].text);
        }
        /* No trailing blanks: they only make diffs of exports noisy. */
        while (b.len > start && b.s[b.len - 1] == ' ') {
            b.s[--b.len] = '\0';
        }
        mt_str_addc(&b, '\n');
    }
    return mt_str_take(&b);
}

static const char *const role_names[MT_R_COUNT] = {
    [MT_R_TEXT] = "text",           [MT_R_HEADING] = "heading",
    [MT_R_EMPH] = "emph",           [MT_R_STRONG] = "strong",
    [MT_R_CODE] = "code",           [MT_R_ADDRESS] = "address",
    [MT_R_OFFSET] = "offset",       [MT_R_BYTE] = "byte",
    [MT_R_CHANGED] = "changed-byte", [MT_R_UNREADABLE] = "unreadable",
    [MT_R_ASCII] = "ascii",         [MT_R_MARKER] = "marker",
    [MT_R_FIELD] = "field",         [MT_R_VALUE] = "value",
    [MT_R_POINTER] = "pointer",     [MT_R_COMMENT] = "comment",
    [MT_R_INSN] = "insn",           [MT_R_PERMS] = "perms",
    [MT_R_PY_KEYWORD] = "py-keyword", [MT_R_PY_BUILTIN] = "py-builtin",
    [MT_R_PY_NAME] = "py-name",     [MT_R_PY_NUMBER] = "py-number",
    [MT_R_PY_STRING] = "py-string", [MT_R_PY_COMMENT] = "py-comment",
    [MT_R_PY_OP] = "py-op",         [MT_R_OUTPUT] = "output",
    [MT_R_ERROR] = "error",         [MT_R_WARNING] = "warning",
    [MT_R_NOTE] = "note",           [MT_R_PATCHED] = "patched",
    [MT_R_PRISTINE] = "pristine",
};

const char *
mt_role_name(mt_role r)
{
    return r < MT_R_COUNT && role_names[r] ? role_names[r] : "text";
}

/* ---- the palette ---------------------------------------------------------- */

/* C(xterm-256 index, basic colour, its RGB), then bold, dim, reverse,
 * underline.  Each RGB is the index's own colour (checked by a test);
 * every colour passes 4.5:1 on its theme's background (so does a test). */
#define C(i, b, rgb) (i), (b), (rgb)
#define NONE C(-1, -1, NULL)

static const mt_palette palettes[MT_THEME_COUNT] = {
    [MT_THEME_DARK] = {
        .name = "dark",
        .bg = {C(234, -1, "#1c1c1c"), 0, 0, 0, 0},
        .fg = {C(252, -1, "#d0d0d0"), 0, 0, 0, 0},
        .roles = {
            [MT_R_TEXT] = {NONE, 0, 0, 0, 0},
            [MT_R_HEADING] = {C(220, 3, "#ffd700"), 1, 0, 0, 0},
            [MT_R_EMPH] = {NONE, 0, 0, 0, 1},
            [MT_R_STRONG] = {NONE, 1, 0, 0, 0},
            [MT_R_CODE] = {C(114, 2, "#87d787"), 0, 0, 0, 0},
            [MT_R_ADDRESS] = {C(245, -1, "#8a8a8a"), 0, 0, 0, 0},
            [MT_R_OFFSET] = {C(245, -1, "#8a8a8a"), 0, 0, 0, 0},
            [MT_R_BYTE] = {NONE, 0, 0, 0, 0},
            [MT_R_CHANGED] = {NONE, 1, 0, 1, 0},
            [MT_R_UNREADABLE] = {C(203, 1, "#ff5f5f"), 0, 1, 0, 0},
            [MT_R_ASCII] = {C(245, -1, "#8a8a8a"), 0, 0, 0, 0},
            [MT_R_MARKER] = {C(203, 1, "#ff5f5f"), 1, 0, 0, 0},
            [MT_R_FIELD] = {NONE, 0, 0, 0, 0},
            [MT_R_VALUE] = {NONE, 0, 0, 0, 0},
            [MT_R_POINTER] = {C(81, 6, "#5fd7ff"), 0, 0, 0, 0},
            [MT_R_COMMENT] = {C(245, -1, "#8a8a8a"), 0, 1, 0, 0},
            [MT_R_INSN] = {C(180, 3, "#d7af87"), 0, 0, 0, 0},
            [MT_R_PERMS] = {C(213, 5, "#ff87ff"), 1, 0, 0, 0},
            [MT_R_PY_KEYWORD] = {C(204, 5, "#ff5f87"), 1, 0, 0, 0},
            [MT_R_PY_BUILTIN] = {C(81, 6, "#5fd7ff"), 0, 0, 0, 0},
            [MT_R_PY_NAME] = {NONE, 0, 0, 0, 0},
            [MT_R_PY_NUMBER] = {C(141, 5, "#af87ff"), 0, 0, 0, 0},
            [MT_R_PY_STRING] = {C(186, 3, "#d7d787"), 0, 0, 0, 0},
            [MT_R_PY_COMMENT] = {C(245, -1, "#8a8a8a"), 0, 0, 0, 0},
            [MT_R_PY_OP] = {NONE, 0, 0, 0, 0},
            [MT_R_OUTPUT] = {NONE, 0, 0, 0, 0},
            [MT_R_ERROR] = {C(203, 1, "#ff5f5f"), 0, 0, 0, 0},
            [MT_R_WARNING] = {C(214, 3, "#ffaf00"), 1, 0, 0, 0},
            [MT_R_NOTE] = {C(245, -1, "#8a8a8a"), 0, 0, 0, 0},
            [MT_R_PATCHED] = {C(203, 1, "#ff5f5f"), 1, 0, 1, 0},
            [MT_R_PRISTINE] = {C(34, 2, "#00af00"), 1, 0, 0, 0},
        },
        /* Six that stay apart from each other and from the greys. */
        .fields = {
            {C(75, 6, "#5fafff"), 0, 0, 0, 0},
            {C(114, 2, "#87d787"), 0, 0, 0, 0},
            {C(214, 3, "#ffaf00"), 0, 0, 0, 0},
            {C(176, 5, "#d787d7"), 0, 0, 0, 0},
            {C(80, 6, "#5fd7d7"), 0, 0, 0, 0},
            {C(210, 1, "#ff8787"), 0, 0, 0, 0},
        },
    },
    [MT_THEME_LIGHT] = {
        .name = "light",
        .bg = {C(231, -1, "#ffffff"), 0, 0, 0, 0},
        .fg = {C(234, -1, "#1c1c1c"), 0, 0, 0, 0},
        .roles = {
            [MT_R_TEXT] = {NONE, 0, 0, 0, 0},
            [MT_R_HEADING] = {C(94, -1, "#875f00"), 1, 0, 0, 0},
            [MT_R_EMPH] = {NONE, 0, 0, 0, 1},
            [MT_R_STRONG] = {NONE, 1, 0, 0, 0},
            [MT_R_CODE] = {C(22, 2, "#005f00"), 0, 0, 0, 0},
            [MT_R_ADDRESS] = {C(242, -1, "#6c6c6c"), 0, 0, 0, 0},
            [MT_R_OFFSET] = {C(242, -1, "#6c6c6c"), 0, 0, 0, 0},
            [MT_R_BYTE] = {NONE, 0, 0, 0, 0},
            [MT_R_CHANGED] = {NONE, 1, 0, 1, 0},
            [MT_R_UNREADABLE] = {C(160, 1, "#d70000"), 0, 1, 0, 0},
            [MT_R_ASCII] = {C(242, -1, "#6c6c6c"), 0, 0, 0, 0},
            [MT_R_MARKER] = {C(160, 1, "#d70000"), 1, 0, 0, 0},
            [MT_R_FIELD] = {NONE, 0, 0, 0, 0},
            [MT_R_VALUE] = {NONE, 0, 0, 0, 0},
            [MT_R_POINTER] = {C(25, 4, "#005faf"), 0, 0, 0, 0},
            [MT_R_COMMENT] = {C(242, -1, "#6c6c6c"), 0, 1, 0, 0},
            [MT_R_INSN] = {C(130, -1, "#af5f00"), 0, 0, 0, 0},
            [MT_R_PERMS] = {C(127, 5, "#af00af"), 1, 0, 0, 0},
            [MT_R_PY_KEYWORD] = {C(125, 5, "#af005f"), 1, 0, 0, 0},
            [MT_R_PY_BUILTIN] = {C(25, 4, "#005faf"), 0, 0, 0, 0},
            [MT_R_PY_NAME] = {NONE, 0, 0, 0, 0},
            [MT_R_PY_NUMBER] = {C(55, 5, "#5f00af"), 0, 0, 0, 0},
            [MT_R_PY_STRING] = {C(58, 2, "#5f5f00"), 0, 0, 0, 0},
            [MT_R_PY_COMMENT] = {C(242, -1, "#6c6c6c"), 0, 0, 0, 0},
            [MT_R_PY_OP] = {NONE, 0, 0, 0, 0},
            [MT_R_OUTPUT] = {NONE, 0, 0, 0, 0},
            [MT_R_ERROR] = {C(124, 1, "#af0000"), 0, 0, 0, 0},
            [MT_R_WARNING] = {C(130, 1, "#af5f00"), 1, 0, 0, 0},
            [MT_R_NOTE] = {C(242, -1, "#6c6c6c"), 0, 0, 0, 0},
            [MT_R_PATCHED] = {C(160, 1, "#d70000"), 1, 0, 1, 0},
            [MT_R_PRISTINE] = {C(28, 2, "#008700"), 1, 0, 0, 0},
        },
        .fields = {
            {C(26, 4, "#005fd7"), 0, 0, 0, 0},
            {C(28, 2, "#008700"), 0, 0, 0, 0},
            {C(130, 1, "#af5f00"), 0, 0, 0, 0},
            {C(127, 5, "#af00af"), 0, 0, 0, 0},
            {C(23, 4, "#005f5f"), 0, 0, 0, 0},
            {C(160, 1, "#d70000"), 0, 0, 0, 0},
        },
    },
};
#undef NONE
#undef C

const mt_palette *
mt_palette_of(mt_theme t)
{
    return (unsigned)t < MT_THEME_COUNT ? &palettes[t] : &palettes[MT_THEME_DARK];
}

int
mt_theme_parse(const char *name, mt_theme *t)
{
    for (int i = 0; i < MT_THEME_COUNT; i++) {
        if (name != NULL && strcmp(name, palettes[i].name) == 0) {
            *t = (mt_theme)i;
            return 0;
        }
    }
    return -1;
}

int
mt_theme_default(mt_theme *t, char **err)
{
    const char *env = getenv(MT_THEME_ENV);
    *t = MT_THEME_DARK;
    if (env == NULL || *env == '\0') {
        return 0;
    }
    if (mt_theme_parse(env, t) < 0) {
        *err = mt_xasprintf("%s='%s' is not a theme (themes: dark, light)", MT_THEME_ENV, env);
        return -1;
    }
    return 0;
}

mt_style
mt_palette_style(const mt_palette *p, mt_role role, int field)
{
    mt_style s = role < MT_R_COUNT ? p->roles[role] : p->roles[MT_R_TEXT];
    if (field > 0 && (role == MT_R_BYTE || role == MT_R_FIELD || role == MT_R_CHANGED)) {
        const mt_style *f = &p->fields[(field - 1) % MT_FIELD_COLOURS];
        s.fg = f->fg;
        s.fg8 = f->fg8;
        s.rgb = f->rgb;
    }
    return s;
}

mt_style
mt_style_of(mt_role role, int field)
{
    return mt_palette_style(&palettes[MT_THEME_DARK], role, field);
}
