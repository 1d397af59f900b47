/* export_fmt.c — the export formats: one renderer per format over a
 * region's styled document (txt, md, html, svg, png, ansi) or its data
 * (json), and the aligned before, after and diff views they draw. */
#include "export_fmt.h"
#include "layout.h"
#include "view.h"

#include <cairo.h>
#include <dlfcn.h>
#include <librsvg/rsvg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The cell grid of the SVG (and so of the PNG), the HTML font.  The
 * colours come from the theme's palette (doc.h). */
static const struct canvas {
    const char *font;          /* CSS/SVG font-family list, monospace last */
    int html_px;               /* HTML font size */
    int svg_px, cell_w, line_h, pad, baseline;  /* SVG grid, in px */
} canvas = {
    .font = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace",
    .html_px = 14,
    .svg_px = 15, .cell_w = 9, .line_h = 20, .pad = 12, .baseline = 15,
};

/* The columns between before and after in the diff picture: "  │  ". */
#define DIFF_GAP 5

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

/* ---- the views ------------------------------------------------------------ */

const char *
mt_export_view_name(int view)
{
    return view == MT_EXPORT_DIFF ? "diff" : view == MT_EXPORT_AFTER ? "after" : "before";
}

/* Columns a line shows (trailing blanks dropped, as every format does). */
static int
visible_width(const mt_line *l)
{
    size_t ns, last;
    line_visible(l, &ns, &last);
    int w = 0;
    for (size_t j = 0; j < ns; j++) {
        w += mt_utf8_width(l->spans[j].text, span_len(l, j, ns, last));
    }
    return w;
}

static int
doc_cols(const mt_doc *d)
{
    int cols = 0;
    for (size_t i = 0; i < d->n; i++) {
        int w = visible_width(&d->lines[i]);
        cols = w > cols ? w : cols;
    }
    return cols;
}

/* Line i of a beside b: a's spans, blanks to column `at`, the gap, b's. */
static mt_doc *
beside(const mt_doc *a, const mt_doc *b, int at)
{
    mt_doc *d = mt_doc_new();
    size_t n = a->n > b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++) {
        mt_doc_newline(d);
        int w = 0;
        if (i < a->n) {
            const mt_line *l = &a->lines[i];
            size_t ns, last;
            line_visible(l, &ns, &last);
            for (size_t j = 0; j < ns; j++) {
                const mt_span *sp = &l->spans[j];
                size_t len = span_len(l, j, ns, last);
                mt_doc_addn(d, (mt_role)sp->role, sp->field, sp->text, len);
                w += mt_utf8_width(sp->text, len);
            }
        }
        for (; w < at; w++) {
            mt_doc_add(d, MT_R_TEXT, 0, " ");
        }
        mt_doc_add(d, MT_R_COMMENT, 0, mt_view_ascii() ? "  |  " : "  \u2502  ");
        if (i < b->n) {
            const mt_line *l = &b->lines[i];
            for (size_t j = 0; j < l->n; j++) {
                mt_doc_add(d, (mt_role)l->spans[j].role, l->spans[j].field, l->spans[j].text);
            }
        }
    }
    return d;
}

void
mt_export_views_make(mt_export_views *vs, const mt_region_result *g,
                     const mt_export_opts *opts)
{
    memset(vs, 0, sizeof *vs);
    mt_view_opts vo = {.aligned = 1, .mark_before = 0, .context = opts->context};
    vs->docs[MT_EXPORT_BEFORE] = mt_view_region_with(g, 0, &vo, &vs->rows[0]);
    vs->docs[MT_EXPORT_AFTER] = mt_view_region_with(g, 1, &vo, &vs->rows[1]);
    /* The diff marks the changes in the before half too. */
    vo.mark_before = 1;
    mt_doc *marked = mt_view_region_with(g, 0, &vo, NULL);
    int cols = doc_cols(vs->docs[0]), ca = doc_cols(vs->docs[1]);
    cols = ca > cols ? ca : cols;
    vs->docs[MT_EXPORT_DIFF] = beside(marked, vs->docs[MT_EXPORT_AFTER], cols);
    mt_doc_free(marked);
    size_t n = vs->docs[0]->n > vs->docs[1]->n ? vs->docs[0]->n : vs->docs[1]->n;
    for (int k = 0; k < 3; k++) {
        vs->v[k] = (mt_export_view){
            .g = g,
            .view = k,
            .doc = vs->docs[k],
            .rows = vs->rows[k == MT_EXPORT_AFTER],
            .cols = k == MT_EXPORT_DIFF ? 2 * cols + DIFF_GAP : cols,
            .nrows = (int)n,
            .opts = opts,
            .before = &vs->v[MT_EXPORT_BEFORE],
        };
    }
}

void
mt_export_views_free(mt_export_views *vs)
{
    for (int k = 0; k < 3; k++) {
        mt_doc_free(vs->docs[k]);
    }
    free(vs->rows[0]);
    free(vs->rows[1]);
    memset(vs, 0, sizeof *vs);
}

/* ---- txt, md --------------------------------------------------------------- */

static int
render_txt(mt_str *out, const mt_export_info *info, const mt_export_view *v, char **err)
{
    (void)info;
    (void)err;
    char *t = mt_doc_text(v->doc);
    mt_str_add(out, t);
    free(t);
    return 0;
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

static int
render_md(mt_str *out, const mt_export_info *info, const mt_export_view *v, char **err)
{
    (void)err;
    const mt_region_result *g = v->g;
    char *t = mt_doc_text(v->doc);
    /* A fence longer than any run of backticks in the dump. */
    int run = 0, longest = 0;
    for (const char *p = t; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        longest = run > longest ? run : longest;
    }
    int fence = longest >= 3 ? longest + 1 : 3;
    mt_str_addf(out, "Stage %d `%s` · step %d `%s` · region `%s` · **%s** · CPython ",
                info->stage, info->stage_slug, info->step, info->step_slug, g->label,
                mt_export_view_name(v->view));
    md_escape(out, info->python);
    mt_str_add(out, " · ");
    md_escape(out, info->arch);
    mt_str_add(out, "\n\n");
    mt_str_addf(out, "%.*stext\n", fence, "``````````````````````````````");
    mt_str_add(out, t);
    mt_str_addf(out, "%.*s\n", fence, "``````````````````````````````");
    free(t);
    return 0;
}

/* ---- html ------------------------------------------------------------------ */

/* CSS declarations of one style. */
static void
css_decls(mt_str *out, const mt_palette *p, mt_style s)
{
    if (s.reverse) {
        mt_str_addf(out, "color:%s;background:%s;", p->bg.rgb, s.rgb ? s.rgb : p->fg.rgb);
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
css_build(mt_str *out, const char *scope, const mt_palette *p)
{
    mt_str_addf(out,
                "%s .mt-dump{margin:0;padding:12px 16px;background:%s;color:%s;"
                "font-family:%s;font-size:%dpx;line-height:1.35;white-space:pre;"
                "overflow-x:auto;border-radius:4px}\n",
                scope, p->bg.rgb, p->fg.rgb, canvas.font, canvas.html_px);
    for (int r = 0; r < MT_R_COUNT; r++) {
        mt_style s = mt_palette_style(p, (mt_role)r, 0);
        mt_str d = {0};
        css_decls(&d, p, s);
        if (d.len > 0) {
            mt_str_addf(out, "%s .%s{%s}\n", scope, mt_role_name((mt_role)r), d.s);
        }
        free(d.s);
        /* The field colours, where the palette lays one over this role. */
        for (int f = 1; f <= MT_FIELD_COLOURS; f++) {
            mt_style fs = mt_palette_style(p, (mt_role)r, f);
            if (same_rgb(fs.rgb, s.rgb) || fs.rgb == NULL) {
                continue;
            }
            mt_str_addf(out, "%s .%s.f%d{%s:%s}\n", scope, mt_role_name((mt_role)r), f,
                        fs.reverse ? "background" : "color", fs.rgb);
        }
    }
}

void
mt_export_css(mt_str *out, const char *scope, mt_theme t)
{
    /* The same rules for every file of an export: made once a theme. */
    static char *cache[MT_THEME_COUNT], *cache_scope[MT_THEME_COUNT];
    const mt_palette *p = mt_palette_of(t);
    t = (unsigned)t < MT_THEME_COUNT ? t : MT_THEME_DARK;
    if (cache[t] == NULL || strcmp(cache_scope[t], scope) != 0) {
        mt_str b = {0};
        css_build(&b, scope, p);
        free(cache[t]);
        free(cache_scope[t]);
        cache[t] = mt_str_take(&b);
        cache_scope[t] = mt_xstrdup(scope);
    }
    mt_str_add(out, cache[t]);
}

void
mt_export_html_pre(mt_str *out, const mt_doc *d, int cols, int nrows)
{
    /* The frame in cells, so a pair's boxes are one size whatever their
     * last lines hold (1.35 is the rule's line-height). */
    mt_str_addf(out, "<pre class=\"mt-dump\" style=\"width:%dch;height:%d.%02dem\">", cols,
                nrows * 135 / 100, nrows * 135 % 100);
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

static int
render_html(mt_str *out, const mt_export_info *info, const mt_export_view *v, char **err)
{
    (void)err;
    const mt_region_result *g = v->g;
    const mt_palette *p = mt_palette_of(v->opts->theme);
    /* XHTML-valid so that any XML tool reads it; the fragment between the
     * markers carries its own style and can be pasted alone. */
    mt_str_add(out, "<!DOCTYPE html>\n"
                    "<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n"
                    "<head>\n<meta charset=\"utf-8\"/>\n<title>");
    char *title = mt_xasprintf("Stage %d %s · step %d %s · %s · %s", info->stage,
                               info->stage_slug, info->step, info->step_slug, g->label,
                               mt_export_view_name(v->view));
    xml_str(out, title);
    free(title);
    mt_str_addf(out, "</title>\n</head>\n<body style=\"margin:0;padding:16px;background:%s\">\n",
                p->bg.rgb);
    mt_str_add(out, "<!-- fragment: from here to \"end of fragment\", paste into slides -->\n"
                    "<div class=\"mt-export\">\n<style>\n");
    mt_export_css(out, ".mt-export", v->opts->theme);
    mt_str_add(out, "</style>\n");
    if (v->pre != NULL) {
        mt_str_add(out, v->pre);
    } else {
        mt_export_html_pre(out, v->doc, v->cols, v->nrows);
    }
    mt_str_add(out, "\n</div>\n<!-- end of fragment -->\n</body>\n</html>\n");
    return 0;
}

/* ---- svg ------------------------------------------------------------------- */

/* Presentation attributes (not CSS: slide tools import those best). */
static void
svg_text_attrs(mt_str *out, const mt_palette *p, mt_style s)
{
    const char *fill = s.reverse ? p->bg.rgb : s.rgb ? s.rgb : p->fg.rgb;
    if (strcmp(fill, p->fg.rgb) != 0) {
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

/* The picture's size in px: the frame of cells and a padding around it. */
static void
svg_size(const mt_export_view *v, int *width, int *height)
{
    *width = 2 * canvas.pad + v->cols * canvas.cell_w;
    *height = 2 * canvas.pad + v->nrows * canvas.line_h;
}

static int
render_svg(mt_str *out, const mt_export_info *info, const mt_export_view *v, char **err)
{
    (void)info;
    (void)err;
    const mt_doc *doc = v->doc;
    const mt_palette *p = mt_palette_of(v->opts->theme);
    int width, height;
    svg_size(v, &width, &height);
    mt_str_addf(out,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
                "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"%s\" font-size=\"%d\">\n"
                "<title>",
                width, height, width, height, canvas.font, canvas.svg_px);
    char *title = mt_xasprintf("%s %s %s %s %s", v->g->label, mt_view_dot(), v->g->layout,
                               mt_view_dot(), mt_export_view_name(v->view));
    xml_str(out, title);
    free(title);
    mt_str_addf(out, "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"%s\"/>\n", width,
                height, p->bg.rgb);

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
            mt_style s = mt_palette_style(p, (mt_role)sp->role, sp->field);
            if (s.reverse && w > 0) {
                mt_str_add(out, "<rect");
                svg_class(out, sp);
                mt_str_addf(out, " x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>\n",
                            canvas.pad + col * canvas.cell_w, top, w * canvas.cell_w,
                            canvas.line_h, s.rgb ? s.rgb : p->fg.rgb);
            }
            col += w;
        }
        /* The text: every run of non-blanks placed on its own cell, so no
         * font's advance width can move a column. */
        mt_str_addf(out, "<text y=\"%d\" fill=\"%s\" xml:space=\"preserve\">",
                    top + canvas.baseline, p->fg.rgb);
        col = 0;
        for (size_t j = 0; j < ns; j++) {
            const mt_span *sp = &l->spans[j];
            const char *t = sp->text;
            size_t n = span_len(l, j, ns, last);
            mt_style s = mt_palette_style(p, (mt_role)sp->role, sp->field);
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
                svg_text_attrs(out, p, s);
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
    return 0;
}

/* ---- png ------------------------------------------------------------------- */

/* librsvg and cairo are opened the first time a PNG is drawn, not linked:
 * with the forty libraries they pull in (glib, pango, harfbuzz, ICU, X11 …)
 * they made every start of the program, --list and --version included,
 * take about 6 ms more, for what only --export's png needs.  dlsym on the
 * handle searches librsvg and the libraries it loaded, cairo and glib among
 * them.  The types are the headers' own. */
#define RSVG_SONAME "librsvg-2.so.2"
static struct {
    int tried;
    char *why;                      /* malloc'ed, kept: why they cannot be used */
    __typeof__(rsvg_handle_new_from_data) *handle_new_from_data;
    __typeof__(rsvg_handle_render_document) *render_document;
    __typeof__(cairo_image_surface_create) *image_surface_create;
    __typeof__(cairo_create) *create;
    __typeof__(cairo_surface_flush) *surface_flush;
    __typeof__(cairo_surface_write_to_png_stream) *write_to_png_stream;
    __typeof__(cairo_status_to_string) *status_to_string;
    __typeof__(cairo_destroy) *destroy;
    __typeof__(cairo_surface_destroy) *surface_destroy;
    __typeof__(g_object_unref) *object_unref;
    __typeof__(g_error_free) *error_free;
} R;

/* Opens librsvg once: 0, or -1 with *err (malloc'ed) saying why not. */
static int
rsvg_open(char **err)
{
    if (!R.tried) {
        R.tried = 1;
        void *h = dlopen(RSVG_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (h == NULL) {
            R.why = mt_xasprintf("PNG needs librsvg: %s", dlerror());
            goto out;
        }
        const char *missing = NULL;
#define SYM(field, name)                                                          \
        if ((*(void **)&R.field = dlsym(h, name)) == NULL && missing == NULL) { \
            missing = name;                                                       \
        }
        SYM(handle_new_from_data, "rsvg_handle_new_from_data")
        SYM(render_document, "rsvg_handle_render_document")
        SYM(image_surface_create, "cairo_image_surface_create")
        SYM(create, "cairo_create")
        SYM(surface_flush, "cairo_surface_flush")
        SYM(write_to_png_stream, "cairo_surface_write_to_png_stream")
        SYM(status_to_string, "cairo_status_to_string")
        SYM(destroy, "cairo_destroy")
        SYM(surface_destroy, "cairo_surface_destroy")
        SYM(object_unref, "g_object_unref")
        SYM(error_free, "g_error_free")
#undef SYM
        if (missing != NULL) {
            R.why = mt_xasprintf("PNG needs librsvg: %s has no %s", RSVG_SONAME, missing);
        }
    }
out:
    if (R.why != NULL) {
        *err = mt_xstrdup(R.why);
        return -1;
    }
    return 0;
}

static cairo_status_t
png_write(void *closure, const unsigned char *data, unsigned int length)
{
    mt_str_addn(closure, (const char *)data, length);
    return CAIRO_STATUS_SUCCESS;
}

/* The SVG drawn by librsvg onto a cairo image surface, scale pixels per
 * SVG pixel, written as PNG by cairo. */
static int
render_png(mt_str *out, const mt_export_info *info, const mt_export_view *v, char **err)
{
    if (rsvg_open(err) != 0) {
        return -1;
    }
    mt_str svg = {0};
    render_svg(&svg, info, v, err);
    int width, height, rc = -1;
    svg_size(v, &width, &height);
    int scale = v->opts->scale;
    GError *ge = NULL;
    RsvgHandle *h = R.handle_new_from_data((const guint8 *)svg.s, svg.len, &ge);
    cairo_surface_t *surf = NULL;
    cairo_t *cr = NULL;
    if (h == NULL) {
        *err = mt_xasprintf("librsvg cannot read the SVG: %s", ge ? ge->message : "unknown error");
        goto done;
    }
    surf = R.image_surface_create(CAIRO_FORMAT_ARGB32, width * scale, height * scale);
    cr = R.create(surf);
    RsvgRectangle viewport = {0, 0, (double)width * scale, (double)height * scale};
    if (!R.render_document(h, cr, &viewport, &ge)) {
        *err = mt_xasprintf("librsvg cannot draw the SVG: %s", ge ? ge->message : "unknown error");
        goto done;
    }
    R.surface_flush(surf);
    cairo_status_t st = R.write_to_png_stream(surf, png_write, out);
    if (st != CAIRO_STATUS_SUCCESS) {
        *err = mt_xasprintf("cairo cannot write the PNG: %s", R.status_to_string(st));
        goto done;
    }
    rc = 0;
done:
    if (cr != NULL) {
        R.destroy(cr);
    }
    if (surf != NULL) {
        R.surface_destroy(surf);
    }
    if (h != NULL) {
        R.object_unref(h);
    }
    if (ge != NULL) {
        R.error_free(ge);
    }
    free(svg.s);
    return rc;
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

/* The SGR of a span's role and field colour in theme t, made once per
 * pair.  The terminal keeps its own background and default colour. */
static const char *
sgr_of(const mt_span *sp, mt_theme t)
{
    static char cache[MT_THEME_COUNT][MT_R_COUNT][MT_FIELD_COLOURS + 1][40];
    static char made[MT_THEME_COUNT][MT_R_COUNT][MT_FIELD_COLOURS + 1];
    int r = sp->role < MT_R_COUNT ? sp->role : MT_R_TEXT;
    int f = sp->field <= MT_FIELD_COLOURS ? sp->field : 0;
    t = (unsigned)t < MT_THEME_COUNT ? t : MT_THEME_DARK;
    if (!made[t][r][f]) {
        sgr(cache[t][r][f], sizeof cache[t][r][f],
            mt_palette_style(mt_palette_of(t), (mt_role)r, f));
        made[t][r][f] = 1;
    }
    return cache[t][r][f];
}

static int
render_ansi(mt_str *out, const mt_export_info *info, const mt_export_view *v, char **err)
{
    (void)info;
    (void)err;
    const mt_doc *doc = v->doc;
    const mt_palette *p = mt_palette_of(v->opts->theme);
    for (size_t i = 0; i < doc->n; i++) {
        const mt_line *l = &doc->lines[i];
        size_t ns, last;
        line_visible(l, &ns, &last);
        char cur[64] = "";
        int cur_shows = 0;     /* the current style paints blanks too */
        for (size_t j = 0; j < ns; j++) {
            const mt_span *sp = &l->spans[j];
            size_t n = span_len(l, j, ns, last);
            mt_style s = mt_palette_style(p, (mt_role)sp->role, sp->field);
            int shows = s.reverse || s.underline;
            if (blank(sp->text, n) && !shows && !cur_shows) {
                /* Blanks show no colour: keep the current one. */
                mt_str_addn(out, sp->text, n);
                continue;
            }
            const char *want = sgr_of(sp, v->opts->theme);
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
    return 0;
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

/* The pictures' rows, theme-independent: where each line of the SVG (and,
 * times the scale, the PNG) sits and what it shows, so a slide built by
 * hand can line up before and after too. */
static void
json_layout(mt_export_jw *w, const mt_export_view *v)
{
    int width, height;
    svg_size(v, &width, &height);
    mt_export_jw_open(w, "picture", '{', 0);
    if (v->opts->context == MT_VIEW_CONTEXT_ALL) {
        mt_export_jw_str(w, "context", "all");
    } else if (v->opts->context == MT_VIEW_CONTEXT_AUTO) {
        mt_export_jw_str(w, "context", "auto");
    } else {
        mt_export_jw_int(w, "context", v->opts->context);
    }
    mt_export_jw_int(w, "width", width);
    mt_export_jw_int(w, "height", height);
    mt_export_jw_int(w, "diff_width", 2 * canvas.pad + (2 * v->cols + DIFF_GAP) * canvas.cell_w);
    mt_export_jw_int(w, "padding", canvas.pad);
    mt_export_jw_int(w, "cell_width", canvas.cell_w);
    mt_export_jw_int(w, "line_height", canvas.line_h);
    mt_export_jw_int(w, "font_size", canvas.svg_px);
    mt_export_jw_open(w, "rows", '[', 0);
    for (int i = 0; i < v->nrows && i < (int)v->doc->n; i++) {
        const mt_view_row *r = &v->rows[i];
        mt_export_jw_open(w, NULL, '{', 1);
        mt_export_jw_int(w, "y", canvas.pad + i * canvas.line_h);
        mt_export_jw_str(w, "kind", mt_view_row_kind_name(r->kind));
        switch (r->kind) {
        case MT_VR_BYTES:
        case MT_VR_MARKER:
            mt_export_jw_int(w, "offset", r->offset);
            break;
        case MT_VR_ELIDED:
        case MT_VR_FIELDS_ELIDED:
            mt_export_jw_int(w, "offset", r->offset);
            mt_export_jw_int(w, "count", r->count);
            break;
        case MT_VR_FIELD:
            mt_export_jw_str(w, "field", v->g->fields[r->index].name);
            break;
        default:
            break;
        }
        mt_export_jw_close(w);
    }
    mt_export_jw_close(w);
    mt_export_jw_close(w);
}

static void json_region(mt_export_jw *w, const char *key, const mt_region_result *g,
                        const mt_export_opts *opts, const mt_export_view *bv);

void
mt_export_json_region(mt_export_jw *w, const char *key, const mt_region_result *g,
                      const mt_export_opts *opts)
{
    json_region(w, key, g, opts, NULL);
}

void
mt_export_json_region_of(mt_export_jw *w, const char *key, const mt_export_view *before)
{
    json_region(w, key, before->g, before->opts, before);
}

/* bv: g's before view, or NULL to build the views here. */
static void
json_region(mt_export_jw *w, const char *key, const mt_region_result *g,
            const mt_export_opts *opts, const mt_export_view *bv)
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
    if (bv != NULL) {
        json_layout(w, bv);
    } else {
        mt_export_views vs;
        mt_export_views_make(&vs, g, opts);
        json_layout(w, &vs.v[MT_EXPORT_BEFORE]);
        mt_export_views_free(&vs);
    }
    mt_export_jw_close(w);
    free(addr);
    free(before);
    free(after);
}

static int
render_json(mt_str *out, const mt_export_info *info, const mt_export_view *v, char **err)
{
    (void)err;
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
    mt_export_jw_str(&w, "view", mt_export_view_name(v->view));
    mt_export_json_region_of(&w, "region", v->before);
    mt_export_jw_close(&w);
    mt_str_addc(out, '\n');
    return 0;
}

/* ---- the table ------------------------------------------------------------- */

const mt_export_fmt mt_export_fmts[] = {
    {"txt", 1, 1, render_txt},
    {"md", 1, 1, render_md},
    {"html", 1, 1, render_html},
    {"svg", 1, 1, render_svg},
    /* Rasterising takes some 25 times as long as all the rest: asked for
     * by name. */
    {"png", 1, 0, render_png},
    {"ansi", 1, 1, render_ansi},
    {"json", 0, 1, render_json},
};
const size_t mt_export_nfmts = sizeof mt_export_fmts / sizeof mt_export_fmts[0];

int
mt_export_parse_formats(const char *list, unsigned *mask, char **err)
{
    *mask = 0;
    if (list == NULL) {
        for (size_t i = 0; i < mt_export_nfmts; i++) {
            *mask |= mt_export_fmts[i].by_default ? 1u << i : 0;
        }
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
                 const mt_region_result *g, int view, const mt_export_opts *opts,
                 size_t *len)
{
    static const mt_export_opts defaults = MT_EXPORT_OPTS_DEFAULT;
    *len = 0;
    for (size_t i = 0; i < mt_export_nfmts; i++) {
        const mt_export_fmt *f = &mt_export_fmts[i];
        if (strcmp(format, f->name) != 0 || view < 0 || view > MT_EXPORT_DIFF
            || (view == MT_EXPORT_DIFF && !f->diff)) {
            continue;
        }
        mt_export_views vs;
        mt_export_views_make(&vs, g, opts ? opts : &defaults);
        mt_str out = {0};
        char *err = NULL;
        int rc = f->render(&out, info, &vs.v[view], &err);
        mt_export_views_free(&vs);
        free(err);
        if (rc < 0) {
            free(out.s);
            return NULL;
        }
        *len = out.len;
        return mt_str_take(&out);
    }
    return NULL;
}
