/* check_view.c — the styled document and the views built from results:
 * markdown without raw markers, code roles, region dumps with changed bytes
 * marked, unreadable bytes shown as ??, fields coloured consistently. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "result.h"
#include "util.h"
#include "view.h"

static char *
text_of(mt_doc *d)
{
    char *t = mt_doc_text(d);
    mt_doc_free(d);
    return t;
}

/* Count spans of role r (and, when text is not NULL, with that text). */
static int
count_role(const mt_doc *d, mt_role r, const char *text)
{
    int n = 0;
    for (size_t i = 0; i < d->n; i++) {
        for (size_t j = 0; j < d->lines[i].n; j++) {
            const mt_span *sp = &d->lines[i].spans[j];
            n += sp->role == r && (text == NULL || strcmp(sp->text, text) == 0);
        }
    }
    return n;
}

START_TEST(test_markdown)
{
    const char *md = "# The title\n\nSome *emphasis*, **strong** and `code`, and a\n"
                     "snake_case_name stays.\n\n- first item\n- second item\n\n"
                     "```\nraw = 1\n```\n";
    mt_doc *d = mt_view_markdown(md, 40);
    ck_assert_int_eq(count_role(d, MT_R_HEADING, "The title"), 1);
    ck_assert_int_eq(count_role(d, MT_R_EMPH, "emphasis"), 1);
    ck_assert_int_eq(count_role(d, MT_R_STRONG, "strong"), 1);
    ck_assert_int_eq(count_role(d, MT_R_CODE, "code"), 1);
    ck_assert_int_le(mt_doc_width(d), 40);
    char *t = text_of(d);
    ck_assert_msg(strchr(t, '#') == NULL && strchr(t, '*') == NULL && strchr(t, '`') == NULL,
                  "raw markers left: %s", t);
    ck_assert_ptr_nonnull(strstr(t, "snake_case_name"));
    ck_assert_ptr_nonnull(strstr(t, "  • first item\n  • second item\n"));
    ck_assert_ptr_nonnull(strstr(t, "    raw = 1\n"));
    free(t);
}
END_TEST

START_TEST(test_markdown_wraps_words)
{
    mt_doc *d = mt_view_markdown("one two three four five six seven eight nine ten", 12);
    for (size_t i = 0; i < d->n; i++) {
        ck_assert_int_le(mt_doc_line_width(&d->lines[i]), 12);
    }
    char *t = text_of(d);
    ck_assert_str_eq(t, "one two\nthree four\nfive six\nseven eight\nnine ten\n");
    free(t);
}
END_TEST

/* Punctuation glued to inline code stays on its line. */
START_TEST(test_markdown_glued_punctuation)
{
    mt_doc *d = mt_view_markdown("aaaa `bbbbbb`, cc", 11);
    char *t = text_of(d);
    ck_assert_str_eq(t, "aaaa\nbbbbbb, cc\n");
    free(t);
}
END_TEST

START_TEST(test_code_roles)
{
    const char *code = "if x:\n    y = 2  # c";
    const char *roles = "kk no\n    n o d  ccc";
    ck_assert_uint_eq(strlen(code), strlen(roles));
    mt_doc *d = mt_view_code(code, roles);
    ck_assert_uint_eq(d->n, 2);
    ck_assert_int_eq(count_role(d, MT_R_PY_KEYWORD, "if"), 1);
    ck_assert_int_eq(count_role(d, MT_R_PY_NUMBER, "2"), 1);
    ck_assert_int_eq(count_role(d, MT_R_PY_COMMENT, "# c"), 1);
    char *t = text_of(d);
    ck_assert_str_eq(t, "if x:\n    y = 2  # c\n");
    free(t);
}
END_TEST

/* A synthetic region: 20 bytes, two fields, byte 9 changed, 18-19 unreadable. */
static mt_region_result *
region(void)
{
    mt_region_result *g = mt_xcalloc(1, sizeof *g);
    g->label = mt_xstrdup("thing");
    g->expr = mt_xstrdup("id(thing)");
    g->layout = mt_xstrdup("PyObject");
    g->symbol = mt_xstrdup("");
    g->address = 0x7f0000001000;
    g->len = 20;
    g->before = mt_xcalloc(20, 1);
    g->after = mt_xcalloc(20, 1);
    g->ok_before = mt_xcalloc(20, 1);
    g->ok_after = mt_xcalloc(20, 1);
    for (int i = 0; i < 20; i++) {
        g->before[i] = g->after[i] = (uint8_t)('A' + i);
        g->ok_before[i] = g->ok_after[i] = i < 18;
    }
    g->after[9] = 0xee;
    g->nfields = 2;
    g->fields = mt_xcalloc(2, sizeof *g->fields);
    const char *names[] = {"ob_refcnt", "ob_type"};
    for (int i = 0; i < 2; i++) {
        mt_field_result *f = &g->fields[i];
        f->name = mt_xstrdup(names[i]);
        f->offset = (uint32_t)(8 * i);
        f->size = 8;
        f->value_before = mt_xstrdup(i ? "0x1" : "7");
        f->value_after = mt_xstrdup(i ? "0x2" : "7");
        f->decoded_before = mt_xstrdup(i ? "int" : "");
        f->decoded_after = mt_xstrdup(i ? "Int2" : "");
    }
    return g;
}

static void
region_free(mt_region_result *g)
{
    mt_step_result *r = mt_result_new();
    r->regions = g;
    r->nregions = 1;
    mt_result_free(r);
}

START_TEST(test_region_before_after)
{
    mt_region_result *g = region();
    mt_doc *b = mt_view_region(g, 0);
    mt_doc *a = mt_view_region(g, 1);
    ck_assert_int_eq(count_role(b, MT_R_CHANGED, NULL), 0);
    ck_assert_int_eq(count_role(b, MT_R_MARKER, NULL), 0);
    ck_assert_int_eq(count_role(a, MT_R_CHANGED, "ee"), 1);
    ck_assert_int_eq(count_role(b, MT_R_UNREADABLE, "??"), 2);
    char *tb = mt_doc_text(b), *ta = mt_doc_text(a);
    ck_assert_ptr_nonnull(strstr(tb, "0x7f0000001000"));
    ck_assert_ptr_nonnull(strstr(tb, "00000000: 41 42 43 44 45 46 47 48 49 4a 4b"));
    ck_assert_ptr_nonnull(strstr(tb, "00000010: 51 52 ?? ??"));
    ck_assert_ptr_nonnull(strstr(tb, "ABCDEFGHIJKLMNOP"));
    /* The ^^ sits under byte 9: 10 columns of offset, 3 per byte. */
    ck_assert_ptr_nonnull(strstr(ta, "00000000: 41 42 43 44 45 46 47 48 49 ee 4b"));
    char marker[64];
    snprintf(marker, sizeof marker, "\n%*s^^\n", 10 + 3 * 9, "");
    ck_assert_ptr_nonnull(strstr(ta, marker));
    ck_assert_ptr_nonnull(strstr(ta, "0x2 → Int2  * was int"));
    ck_assert_ptr_null(strstr(tb, "* was"));
    free(tb);
    free(ta);
    /* Bytes and field names share the field's colour slot. */
    ck_assert_int_eq(mt_view_field_colour(g, 0), 1);
    ck_assert_int_eq(mt_view_field_colour(g, 9), 2);
    ck_assert_int_eq(mt_view_field_colour(g, 17), 0);
    for (size_t i = 0; i < a->n; i++) {
        for (size_t j = 0; j < a->lines[i].n; j++) {
            const mt_span *sp = &a->lines[i].spans[j];
            if (sp->role == MT_R_FIELD) {
                ck_assert_int_eq(sp->field, strncmp(sp->text, "ob_type", 7) == 0 ? 2 : 1);
            }
            if (sp->role == MT_R_CHANGED && strcmp(sp->text, "ee") == 0) {
                ck_assert_int_eq(sp->field, 2);
            }
        }
    }
    mt_doc_free(b);
    mt_doc_free(a);
    region_free(g);
}
END_TEST

START_TEST(test_palette_roles)
{
    /* Every role has a name; changed bytes stand out without colour. */
    for (int r = 0; r < MT_R_COUNT; r++) {
        ck_assert_str_ne(mt_role_name((mt_role)r), "");
    }
    ck_assert_str_eq(mt_role_name(MT_R_CHANGED), "changed-byte");
    mt_style c = mt_style_of(MT_R_CHANGED, 3);
    ck_assert(c.reverse);
    ck_assert_int_eq(c.fg, mt_style_of(MT_R_BYTE, 3).fg);
    ck_assert_int_ne(mt_style_of(MT_R_BYTE, 1).fg, mt_style_of(MT_R_BYTE, 2).fg);
}
END_TEST

Suite *
mt_view_suite(void)
{
    Suite *s = suite_create("view");
    TCase *tc = tcase_create("documents");
    tcase_add_test(tc, test_markdown);
    tcase_add_test(tc, test_markdown_wraps_words);
    tcase_add_test(tc, test_markdown_glued_punctuation);
    tcase_add_test(tc, test_code_roles);
    tcase_add_test(tc, test_region_before_after);
    tcase_add_test(tc, test_palette_roles);
    suite_add_tcase(s, tc);
    return s;
}
