/* export_fmt.c — the export formats: one renderer per format over a
 * region's styled document (txt, md, html, svg, ansi) or its data (json). */
#include "export_fmt.h"
#include "layout.h"
#include "view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the terminal's default colours (-1 in the palette) become where
 * there is no terminal, and the cell grid of the SVG. */
static const struct canvas {
    const char *bg, *fg;       /* default background and text colour */
    const char *font;          /* CSS/SVG font-family list, monospace last */
    int html_px;               /* HTML font size */
    int svg_px, cell_w, line_h, pad, baseline;  /* SVG grid, in px */
} canvas = {
    .bg = "#1c1c1c",
    .fg = "#d0d0d0",
    .font = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace",
    .html_px = 14,
    .svg_px = 15, .cell_w = 9, .line_h = 20, .pad = 12, .baseline = 15,
};

/* ---- escaping ------------------------------------------------------------ */

/* Whether s[0..n) is valid UTF-8: text read from memory need not be. */
static int
utf8_ok(const char *s, size_t n)
{
    size_t bad;
    return mt_utf8_check(s, n, &bad) == 0;
}

void
mt_export_xml_escape(mt_str *out, const char *s, size_t n)
{
    int ok = utf8_ok(s, n);
    size_t plain = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        switch (c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        default:
            /* XML 1.0 has no control characters but tab and newline. */
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f || (c >= 0x80 && !ok)) {
                rep = "?";
            }
        }
        if (rep != NULL) {
            mt_str_addn(out, s + plain, i - plain);
            mt_str_add(out, rep);
            plain = i + 1;
        }
    }
    mt_str_addn(out, s + plain, n - plain);
}

static void
xml_str(mt_str *out, const char *s)
{
    mt_export_xml_escape(out, s, strlen(s));
}

static void
json_string(mt_str *out, const char *s)
{
    size_t n = strlen(s);
    int ok = utf8_ok(s, n);
    mt_str_addc(out, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            mt_str_addc(out, '\\');
            mt_str_addc(out, (char)c);
        } else if (c == '\n') {
            mt_str_add(out, "\\n");
        } else if (c == '\t') {
            mt_str_add(out, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            mt_str_addf(out, "\\u%04x", c);
        } else if (c >= 0x80 && !ok) {
            mt_str_add(out, "\\ufffd");
        } else {
            mt_str_addc(out, (char)c);
        }
    }
    mt_str_addc(out, '"');
}

/* ---- document lines ------------------------------------------------------ */

/* How much of a line is drawn: spans [0, *nspans), the last one cut to
 * *lastlen bytes.  Trailing blanks are dropped, as mt_doc_text does, so
 * every format shows the same columns as the txt. */
static void
line_visible(const mt_line *l, size_t *nspans, size_t *lastlen)
{
    for (size_t j = l->n; j > 0; j--) {
        const char *t = l->spans[j - 1].text;
        size_t n = strlen(t);
        while (n > 0 && t[n - 1] == ' ') {
            n--;
        }
        if (n > 0) {
            *nspans = j;
            *lastlen = n;
            return;
        }
    }
    *nspans = 0;
    *lastlen = 0;
}

/* Span j of a line, cut as line_visible says. */
static size_t
span_len(const mt_line *l, size_t j, size_t nspans, size_t lastlen)
{
    return j + 1 == nspans ? lastlen : strlen(l->spans[j].text);
}

static int
blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ') {
            return 0;
        }
    }
    return 1;
}

static int
same_rgb(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Decimal v: the hot paths stay clear of printf. */
static void
add_int(mt_str *out, long long v)
{
    char buf[24];
    char *p = buf + sizeof buf;
    unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (v < 0) {
        *--p = '-';
    }
    mt_str_addn(out, p, (size_t)(buf + sizeof buf - p));
}

/* The class attribute's value of a span: role name, then f1..f6. */
static void
add_classes(mt_str *out, const mt_span *sp)
{
    mt_str_add(out, mt_role_name((mt_role)sp->role));
    if (sp->field > 0) {
        mt_str_add(out, " f");
        add_int(out, sp->field);
    }
}

/* ---- txt, md --------------------------------------------------------------- */

static void
render_txt(mt_str *out, const mt_export_info *info, const mt_region_result *g,
           int after, const mt_doc *doc)
{
    (void)info;
    (void)g;
    (void)after;
    char *t = mt_doc_text(doc);
    mt_str_add(out, t);
    free(t);
}

/* Text for a Markdown line, with the characters that would start
 * emphasis, code or HTML escaped. */
static void
md_escape(mt_str *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\n') {
            mt_str_addc(out, ' ');
            continue;
        }
        if (strchr("\\`*_<>", *s) != NULL) {
            mt_str_addc(out, '\\');
        }
        mt_str_addc(out, *s);
    }
}

static void
render_md(mt_str *out, const mt_export_info *info, const mt_region_result *g,
          int after, const mt_doc *doc)
{
    char *t = mt_doc_text(doc);
    /* A fence longer than any run of backticks in the dump. */
    int run = 0, longest = 0;
    for (const char *p = t; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        longest = run > longest ? run : longest;
    }
    int fence = longest >= 3 ? longest + 1 : 3;
    mt_str_addf(out, "Stage %d `%s` · step %d `%s` · region `%s` · **%s** · CPython ",
                info->stage, info->stage_slug, info->step, info->step_slug, g->label,
                after ? "after" : "before");
    md_escape(out, info->python);
    mt_str_add(out, " · ");
    md_escape(out, info->arch);
    mt_str_add(out, "\n\n");
    mt_str_addf(out, "%.*stext\n", fence, "``````````````````````````````");
    mt_str_add(out, t);
    mt_str_addf(out, "%.*s\n", fence, "``````````````````````````````");
    free(t);
}

/* ---- html ------------------------------------------------------------------ */

/* CSS declarations of one style. */
static void
css_decls(mt_str *out, mt_style s)
{
    if (s.reverse) {
        mt_str_addf(out, "color:%s;background:%s;", canvas.bg, s.rgb ? s.rgb : canvas.fg);
    } else if (s.rgb != NULL) {
        mt_str_addf(out, "color:%s;", s.rgb);
    }
    if (s.bold) {
        mt_str_add(out, "font-weight:bold;");
    }
    if (s.underline) {
        mt_str_add(out, "text-decoration:underline;");
    }
}

static void
css_build(mt_str *out, const char *scope)
{
    mt_str_addf(out,
                "%s .mt-dump{margin:0;padding:12px 16px;background:%s;color:%s;"
                "font-family:%s;font-size:%dpx;line-height:1.35;white-space:pre;"
                "overflow-x:auto;border-radius:4px}\n",
                scope, canvas.bg, canvas.fg, canvas.font, canvas.html_px);
    for (int r = 0; r < MT_R_COUNT; r++) {
        mt_style s = mt_style_of((mt_role)r, 0);
        mt_str d = {0};
        css_decls(&d, s);
        if (d.len > 0) {
            mt_str_addf(out, "%s .%s{%s}\n", scope, mt_role_name((mt_role)r), d.s);
        }
        free(d.s);
        /* The field colours, where the palette lays one over this role. */
        for (int f = 1; f <= MT_FIELD_COLOURS; f++) {
            mt_style fs = mt_style_of((mt_role)r, f);
            if (same_rgb(fs.rgb, s.rgb) || fs.rgb == NULL) {
                continue;
            }
            mt_str_addf(out, "%s .%s.f%d{%s:%s}\n", scope, mt_role_name((mt_role)r), f,
                        fs.reverse ? "background" : "color", fs.rgb);
        }
    }
}

void
mt_export_css(mt_str *out, const char *scope)
{
    /* The same rules for every file of an export: made once. */
    static char *cache, *cache_scope;
    if (cache == NULL || strcmp(cache_scope, scope) != 0) {
        mt_str b = {0};
        css_build(&b, scope);
        free(cache);
        free(cache_scope);
        cache = mt_str_take(&b);
        cache_scope = mt_xstrdup(scope);
    }
    mt_str_add(out, cache);
}

void
mt_export_html_pre(mt_str *out, const mt_doc *d)
{
    mt_str_add(out, "<pre class=\"mt-dump\">");
    for (size_t i = 0; i < d->n; i++) {
        const mt_line *l = &d->lines[i];
        size_t ns, last;
        line_visible(l, &ns, &last);
        if (i > 0) {
            mt_str_addc(out, '\n');
        }
        for (size_t j = 0; j < ns; j++) {
            const mt_span *sp = &l->spans[j];
            size_t n = span_len(l, j, ns, last);
            if (blank(sp->text, n)) {
                mt_str_addn(out, sp->text, n);
                continue;
            }
            mt_str_add(out, "<span class=\"");
            add_classes(out, sp);
            mt_str_add(out, "\">");
            mt_export_xml_escape(out, sp->text, n);
            mt_str_add(out, "</span>");
        }
    }
    mt_str_add(out, "</pre>");
}

static void
render_html(mt_str *out, const mt_export_info *info, const mt_region_result *g,
            int after, const mt_doc *doc)
{
    /* XHTML-valid so that any XML tool reads it; the fragment between the
     * markers carries its own style and can be pasted alone. */
    mt_str_add(out, "<!DOCTYPE html>\n"
                    "<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n"
                    "<head>\n<meta charset=\"utf-8\"/>\n<title>");
    char *title = mt_xasprintf("Stage %d %s · step %d %s · %s · %s", info->stage,
                               info->stage_slug, info->step, info->step_slug, g->label,
                               after ? "after" : "before");
    xml_str(out, title);
    free(title);
    mt_str_addf(out, "</title>\n</head>\n<body style=\"margin:0;padding:16px;background:%s\">\n",
                canvas.bg);
    mt_str_add(out, "<!-- fragment: from here to \"end of fragment\", paste into slides -->\n"
                    "<div class=\"mt-export\">\n<style>\n");
    mt_export_css(out, ".mt-export");
    mt_str_add(out, "</style>\n");
    mt_export_html_pre(out, doc);
    mt_str_add(out, "\n</div>\n<!-- end of fragment -->\n</body>\n</html>\n");
}

/* ---- svg ------------------------------------------------------------------- */

/* Presentation attributes (not CSS: slide tools import those best). */
static void
svg_text_attrs(mt_str *out, mt_style s)
{
    const char *fill = s.reverse ? canvas.bg : s.rgb ? s.rgb : canvas.fg;
    if (strcmp(fill, canvas.fg) != 0) {
        mt_str_add(out, " fill=\"");
        mt_str_add(out, fill);
        mt_str_addc(out, '"');
    }
    if (s.bold) {
        mt_str_add(out, " font-weight=\"bold\"");
    }
    if (s.underline) {
        mt_str_add(out, " text-decoration=\"underline\"");
    }
}

static void
svg_class(mt_str *out, const mt_span *sp)
{
    mt_str_add(out, " class=\"");
    add_classes(out, sp);
    mt_str_addc(out, '"');
}

static void
render_svg(mt_str *out, const mt_export_info *info, const mt_region_result *g,
           int after, const mt_doc *doc)
{
    (void)info;
    int cols = 0;
    for (size_t i = 0; i < doc->n; i++) {
        const mt_line *l = &doc->lines[i];
        size_t ns, last;
        line_visible(l, &ns, &last);
        int w = 0;
        for (size_t j = 0; j < ns; j++) {
            w += mt_utf8_width(l->spans[j].text, span_len(l, j, ns, last));
        }
        cols = w > cols ? w : cols;
    }
    int width = 2 * canvas.pad + cols * canvas.cell_w;
    int height = 2 * canvas.pad + (int)doc->n * canvas.line_h;
    mt_str_addf(out,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
                "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"%s\" font-size=\"%d\">\n"
                "<title>",
                width, height, width, height, canvas.font, canvas.svg_px);
    char *title = mt_view_region_title(g, after);
    xml_str(out, title);
    free(title);
    mt_str_addf(out, "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"%s\"/>\n", width,
                height, canvas.bg);

    for (size_t i = 0; i < doc->n; i++) {
        const mt_line *l = &doc->lines[i];
        size_t ns, last;
        line_visible(l, &ns, &last);
        if (ns == 0) {
            continue;
        }
        int top = canvas.pad + (int)i * canvas.line_h;
        /* Reverse video: a cell-exact box under the span. */
        int col = 0;
        for (size_t j = 0; j < ns; j++) {
            const mt_span *sp = &l->spans[j];
            int w = mt_utf8_width(sp->text, span_len(l, j, ns, last));
            mt_style s = mt_style_of((mt_role)sp->role, sp->field);
            if (s.reverse && w > 0) {
                mt_str_add(out, "<rect");
                svg_class(out, sp);
                mt_str_addf(out, " x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>\n",
                            canvas.pad + col * canvas.cell_w, top, w * canvas.cell_w,
                            canvas.line_h, s.rgb ? s.rgb : canvas.fg);
            }
            col += w;
        }
        /* The text: every run of non-blanks placed on its own cell, so no
         * font's advance width can move a column. */
        mt_str_addf(out, "<text y=\"%d\" fill=\"%s\" xml:space=\"preserve\">",
                    top + canvas.baseline, canvas.fg);
        col = 0;
        for (size_t j = 0; j < ns; j++) {
            const mt_span *sp = &l->spans[j];
            const char *t = sp->text;
            size_t n = span_len(l, j, ns, last);
            mt_style s = mt_style_of((mt_role)sp->role, sp->field);
            size_t k = 0;
            while (k < n) {
                if (t[k] == ' ') {
                    col++;
                    k++;
                    continue;
                }
                size_t e = k;
                while (e < n && t[e] != ' ') {
                    e++;
                }
                mt_str_add(out, "<tspan x=\"");
                add_int(out, canvas.pad + col * canvas.cell_w);
                mt_str_addc(out, '"');
                svg_class(out, sp);
                svg_text_attrs(out, s);
                mt_str_addc(out, '>');
                mt_export_xml_escape(out, t + k, e - k);
                mt_str_add(out, "</tspan>");
                col += mt_utf8_width(t + k, e - k);
                k = e;
            }
        }
        mt_str_add(out, "</text>\n");
    }
    mt_str_add(out, "</svg>\n");
}

/* ---- ansi ------------------------------------------------------------------ */

/* The SGR sequence of a style into buf ("" for the plain style).  Dim is
 * left out: with 256 colours the grey already says "aside" (doc.h). */
static void
sgr(char *buf, size_t n, mt_style s)
{
    int len = snprintf(buf, n, "\033[0");
    if (s.bold) {
        len += snprintf(buf + len, n - (size_t)len, ";1");
    }
    if (s.underline) {
        len += snprintf(buf + len, n - (size_t)len, ";4");
    }
    if (s.reverse) {
        len += snprintf(buf + len, n - (size_t)len, ";7");
    }
    if (s.fg >= 0) {
        len += snprintf(buf + len, n - (size_t)len, ";38;5;%d", s.fg);
    }
    if (len == 3) {
        buf[0] = '\0';
        return;
    }
    snprintf(buf + len, n - (size_t)len, "m");
}

/* The SGR of a span's role and field colour, made once per pair. */
static const char *
sgr_of(const mt_span *sp)
{
    static char cache[MT_R_COUNT][MT_FIELD_COLOURS + 1][40];
    static char made[MT_R_COUNT][MT_FIELD_COLOURS + 1];
    int r = sp->role < MT_R_COUNT ? sp->role : MT_R_TEXT;
    int f = sp->field <= MT_FIELD_COLOURS ? sp->field : 0;
    if (!made[r][f]) {
        sgr(cache[r][f], sizeof cache[r][f], mt_style_of((mt_role)r, f));
        made[r][f] = 1;
    }
    return cache[r][f];
}

static void
render_ansi(mt_str *out, const mt_export_info *info, const mt_region_result *g,
            int after, const mt_doc *doc)
{
    (void)info;
    (void)g;
    (void)after;
    for (size_t i = 0; i < doc->n; i++) {
        const mt_line *l = &doc->lines[i];
        size_t ns, last;
        line_visible(l, &ns, &last);
        char cur[64] = "";
        int cur_shows = 0;     /* the current style paints blanks too */
        for (size_t j = 0; j < ns; j++) {
            const mt_span *sp = &l->spans[j];
            size_t n = span_len(l, j, ns, last);
            mt_style s = mt_style_of((mt_role)sp->role, sp->field);
            int shows = s.reverse || s.underline;
            if (blank(sp->text, n) && !shows && !cur_shows) {
                /* Blanks show no colour: keep the current one. */
                mt_str_addn(out, sp->text, n);
                continue;
            }
            const char *want = sgr_of(sp);
            if (strcmp(want, cur) != 0) {
                mt_str_add(out, *want ? want : "\033[0m");
                snprintf(cur, sizeof cur, "%s", want);
                cur_shows = shows;
            }
            mt_str_addn(out, sp->text, n);
        }
        if (*cur) {
            mt_str_add(out, "\033[0m");
        }
        mt_str_addc(out, '\n');
    }
}

/* ---- json ------------------------------------------------------------------ */

static void
jw_item(mt_export_jw *w, const char *key)
{
    if (w->depth > 0) {
        int d = w->depth - 1;
        if (w->count[d] > 0) {
            mt_str_addc(w->out, ',');
        }
        if (w->inl[d]) {
            if (w->count[d] > 0) {
                mt_str_addc(w->out, ' ');
            }
        } else {
            mt_str_addc(w->out, '\n');
            for (int i = 0; i < w->depth; i++) {
                mt_str_add(w->out, "  ");
            }
        }
        w->count[d]++;
    }
    if (key != NULL) {
        mt_str_addc(w->out, '"');
        mt_str_add(w->out, key);
        mt_str_add(w->out, "\": ");
    }
}

void
mt_export_jw_open(mt_export_jw *w, const char *key, char kind, int inl)
{
    jw_item(w, key);
    mt_str_addc(w->out, kind);
    if (w->depth < (int)sizeof w->count / (int)sizeof w->count[0]) {
        w->count[w->depth] = 0;
        /* Everything inside an inline container is inline too. */
        w->inl[w->depth] = (char)(inl || (w->depth > 0 && w->inl[w->depth - 1]));
        w->close[w->depth] = kind == '{' ? '}' : ']';
        w->depth++;
    }
}

void
mt_export_jw_close(mt_export_jw *w)
{
    if (w->depth == 0) {
        return;
    }
    int d = --w->depth;
    if (!w->inl[d] && w->count[d] > 0) {
        mt_str_addf(w->out, "\n%*s", 2 * d, "");
    }
    mt_str_addc(w->out, w->close[d]);
}

void
mt_export_jw_str(mt_export_jw *w, const char *key, const char *s)
{
    jw_item(w, key);
    json_string(w->out, s);
}

void
mt_export_jw_int(mt_export_jw *w, const char *key, long long v)
{
    jw_item(w, key);
    add_int(w->out, v);
}

void
mt_export_jw_bool(mt_export_jw *w, const char *key, int v)
{
    jw_item(w, key);
    mt_str_add(w->out, v ? "true" : "false");
}

void
mt_export_jw_null(mt_export_jw *w, const char *key)
{
    jw_item(w, key);
    mt_str_add(w->out, "null");
}

static const char *const kind_names[] = {
    [MT_FK_INT] = "int",         [MT_FK_UINT] = "uint",
    [MT_FK_HEX] = "hex",         [MT_FK_DIGIT] = "digit",
    [MT_FK_PTR] = "ptr",         [MT_FK_OBJPTR] = "objptr",
    [MT_FK_TYPEPTR] = "typeptr", [MT_FK_FUNCPTR] = "funcptr",
    [MT_FK_STRUCTPTR] = "structptr", [MT_FK_CSTR] = "cstr",
    [MT_FK_BYTES] = "bytes",     [MT_FK_CODE] = "code",
};

static const char *
kind_name(uint32_t k)
{
    return k < sizeof kind_names / sizeof kind_names[0] && kind_names[k] ? kind_names[k]
                                                                         : "unknown";
}

/* Bytes as lower-case hex, "??" for each unreadable one. */
static char *
hex_of(const uint8_t *b, const uint8_t *ok, size_t off, size_t n)
{
    char *s = mt_xmalloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        if (ok != NULL && !ok[off + i]) {
            memcpy(s + 2 * i, "??", 2);
        } else {
            s[2 * i] = "0123456789abcdef"[b[off + i] >> 4];
            s[2 * i + 1] = "0123456789abcdef"[b[off + i] & 15];
        }
    }
    s[2 * n] = '\0';
    return s;
}

static int
byte_changed(const mt_region_result *g, size_t i)
{
    return g->before[i] != g->after[i] || g->ok_before[i] != g->ok_after[i];
}

static void
json_insns(mt_export_jw *w, const char *key, const mt_region_result *g, int after)
{
    const mt_insn_result *in = after ? g->insn_after : g->insn_before;
    uint32_t n = after ? g->ninsn_after : g->ninsn_before;
    mt_export_jw_open(w, key, '[', 0);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t off = in[i].address - g->address;
        size_t size = in[i].size;
        if (off > g->len) {
            off = g->len;
        }
        if (off + size > g->len) {
            size = g->len - off;
        }
        char *addr = mt_xasprintf("0x%llx", (unsigned long long)in[i].address);
        char *bytes = hex_of(after ? g->after : g->before, after ? g->ok_after : g->ok_before,
                             off, size);
        mt_export_jw_open(w, NULL, '{', 1);
        mt_export_jw_int(w, "offset", (long long)off);
        mt_export_jw_str(w, "address", addr);
        mt_export_jw_int(w, "size", in[i].size);
        mt_export_jw_str(w, "bytes", bytes);
        mt_export_jw_str(w, "text", in[i].text);
        mt_export_jw_str(w, "target", in[i].target);
        mt_export_jw_close(w);
        free(addr);
        free(bytes);
    }
    mt_export_jw_close(w);
}

void
mt_export_json_region(mt_export_jw *w, const char *key, const mt_region_result *g)
{
    char *addr = mt_xasprintf("0x%llx", (unsigned long long)g->address);
    char *before = hex_of(g->before, g->ok_before, 0, g->len);
    char *after = hex_of(g->after, g->ok_after, 0, g->len);
    mt_export_jw_open(w, key, '{', 0);
    mt_export_jw_str(w, "label", g->label);
    mt_export_jw_str(w, "expr", g->expr);
    mt_export_jw_str(w, "layout", g->layout);
    mt_export_jw_str(w, "symbol", g->symbol);
    mt_export_jw_str(w, "address", addr);
    mt_export_jw_int(w, "length", g->len);
    mt_export_jw_bool(w, "is_code", (int)g->is_code);
    if (g->is_code) {
        mt_export_jw_open(w, "perms", '{', 1);
        mt_export_jw_str(w, "before", g->perms_before);
        mt_export_jw_str(w, "after", g->perms_after);
        mt_export_jw_close(w);
    } else {
        mt_export_jw_null(w, "perms");
    }
    mt_export_jw_str(w, "before", before);
    mt_export_jw_str(w, "after", after);
    mt_export_jw_open(w, "changed", '[', 1);
    for (size_t i = 0; i < g->len; i++) {
        if (byte_changed(g, i)) {
            mt_export_jw_int(w, NULL, (long long)i);
        }
    }
    mt_export_jw_close(w);
    mt_export_jw_open(w, "fields", '[', 0);
    for (uint32_t i = 0; i < g->nfields; i++) {
        const mt_field_result *f = &g->fields[i];
        int ch = 0;
        for (size_t b = f->offset; b < (size_t)f->offset + f->size && b < g->len; b++) {
            ch |= byte_changed(g, b);
        }
        mt_export_jw_open(w, NULL, '{', 1);
        mt_export_jw_str(w, "name", f->name);
        mt_export_jw_int(w, "offset", f->offset);
        mt_export_jw_int(w, "size", f->size);
        mt_export_jw_str(w, "kind", kind_name(f->kind));
        mt_export_jw_bool(w, "volatile", (f->flags & MT_FF_VOLATILE) != 0);
        mt_export_jw_bool(w, "changed", ch);
        mt_export_jw_str(w, "value_before", f->value_before);
        mt_export_jw_str(w, "value_after", f->value_after);
        mt_export_jw_str(w, "decoded_before", f->decoded_before);
        mt_export_jw_str(w, "decoded_after", f->decoded_after);
        mt_export_jw_close(w);
    }
    mt_export_jw_close(w);
    if (g->is_code) {
        mt_export_jw_open(w, "instructions", '{', 0);
        json_insns(w, "before", g, 0);
        json_insns(w, "after", g, 1);
        mt_export_jw_close(w);
    } else {
        mt_export_jw_null(w, "instructions");
    }
    mt_export_jw_close(w);
    free(addr);
    free(before);
    free(after);
}

static void
render_json(mt_str *out, const mt_export_info *info, const mt_region_result *g,
            int after, const mt_doc *doc)
{
    (void)doc;
    mt_export_jw w = {.out = out};
    mt_export_jw_open(&w, NULL, '{', 0);
    mt_export_jw_str(&w, "schema", "ministry-tutor-export");
    mt_export_jw_int(&w, "schema_version", MT_EXPORT_SCHEMA_VERSION);
    mt_export_jw_str(&w, "kind", "region");
    mt_export_jw_int(&w, "stage", info->stage);
    mt_export_jw_str(&w, "stage_slug", info->stage_slug);
    mt_export_jw_int(&w, "step", info->step);
    mt_export_jw_str(&w, "step_slug", info->step_slug);
    mt_export_jw_str(&w, "step_title", info->step_title);
    mt_export_jw_str(&w, "python", info->python);
    mt_export_jw_str(&w, "arch", info->arch);
    mt_export_jw_str(&w, "view", after ? "after" : "before");
    mt_export_json_region(&w, "region", g);
    mt_export_jw_close(&w);
    mt_str_addc(out, '\n');
}

/* ---- the table ------------------------------------------------------------- */

const mt_export_fmt mt_export_fmts[] = {
    {"txt", render_txt},
    {"md", render_md},
    {"html", render_html},
    {"svg", render_svg},
    {"ansi", render_ansi},
    {"json", render_json},
};
const size_t mt_export_nfmts = sizeof mt_export_fmts / sizeof mt_export_fmts[0];

int
mt_export_parse_formats(const char *list, unsigned *mask, char **err)
{
    *mask = 0;
    if (list == NULL) {
        *mask = (1u << mt_export_nfmts) - 1;
        return 0;
    }
    const char *p = list;
    for (;;) {
        size_t n = strcspn(p, ",");
        size_t i = 0;
        while (i < mt_export_nfmts
               && (strlen(mt_export_fmts[i].name) != n || strncmp(p, mt_export_fmts[i].name, n) != 0)) {
            i++;
        }
        if (i == mt_export_nfmts) {
            mt_str known = {0};
            for (size_t k = 0; k < mt_export_nfmts; k++) {
                mt_str_addf(&known, "%s%s", k ? "," : "", mt_export_fmts[k].name);
            }
            *err = n == 0 ? mt_xasprintf("--format '%s' has an empty entry (formats: %s)", list,
                                         known.s)
                          : mt_xasprintf("--format: unknown format '%.*s' (formats: %s)", (int)n,
                                         p, known.s);
            free(known.s);
            *mask = 0;
            return -1;
        }
        *mask |= 1u << i;
        if (p[n] == '\0') {
            return 0;
        }
        p += n + 1;
    }
}

int
mt_export_check_formats(const char *formats, char **err)
{
    unsigned mask;
    return mt_export_parse_formats(formats, &mask, err);
}

char *
mt_export_render(const char *format, const mt_export_info *info,
                 const mt_region_result *g, int after, size_t *len)
{
    for (size_t i = 0; i < mt_export_nfmts; i++) {
        if (strcmp(format, mt_export_fmts[i].name) == 0) {
            mt_doc *doc = mt_view_region(g, after);
            mt_str out = {0};
            mt_export_fmts[i].render(&out, info, g, after, doc);
            mt_doc_free(doc);
            *len = out.len;
            return mt_str_take(&out);
        }
    }
    return NULL;
}
