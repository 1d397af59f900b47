/* check_doc.c — the palette: every role of both themes readable on its
 * background (WCAG contrast computed here), each RGB the colour of its
 * xterm-256 index, 8-colour fallbacks that cannot vanish, theme names and
 * the environment variable. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"

/* ---- colour arithmetic, written from the specifications ------------------- */

/* "#rrggbb" as 0xrrggbb; fails the test on anything else. */
static unsigned
parse_rgb(const char *s)
{
    ck_assert_ptr_nonnull(s);
    ck_assert_msg(strlen(s) == 7 && s[0] == '#', "bad colour '%s'", s);
    char *end;
    unsigned long v = strtoul(s + 1, &end, 16);
    ck_assert_msg(*end == '\0', "bad colour '%s'", s);
    return (unsigned)v;
}

/* The colour xterm gives index i (16..255): the 6×6×6 cube, then the
 * 24 greys.  (xterm's 256colres.pl.) */
static unsigned
xterm_rgb(int i)
{
    static const unsigned level[6] = {0x00, 0x5f, 0x87, 0xaf, 0xd7, 0xff};
    ck_assert_int_ge(i, 16);
    ck_assert_int_le(i, 255);
    if (i >= 232) {
        unsigned g = 8 + 10 * (unsigned)(i - 232);
        return g << 16 | g << 8 | g;
    }
    i -= 16;
    return level[i / 36] << 16 | level[i / 6 % 6] << 8 | level[i % 6];
}

/* WCAG 2.x relative luminance of 0xrrggbb. */
static double
luminance(unsigned rgb)
{
    double c[3];
    for (int k = 0; k < 3; k++) {
        double v = ((rgb >> (16 - 8 * k)) & 0xff) / 255.0;
        c[k] = v <= 0.03928 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
    }
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

static double
contrast(unsigned a, unsigned b)
{
    double la = luminance(a), lb = luminance(b);
    return la > lb ? (la + 0.05) / (lb + 0.05) : (lb + 0.05) / (la + 0.05);
}

/* ---- the tests ---------------------------------------------------------- */

START_TEST(test_contrast_formula)
{
    /* The formula itself, on the values WCAG's own examples give. */
    ck_assert(fabs(contrast(0x000000, 0xffffff) - 21.0) < 1e-9);
    ck_assert(fabs(contrast(0x777777, 0xffffff) - 4.48) < 0.01);
    ck_assert(fabs(contrast(0xffd700, 0xffffff) - 1.40) < 0.01);
}
END_TEST

/* The colour a style draws in: its own, else the theme's foreground. */
static unsigned
drawn(const mt_palette *p, mt_style s)
{
    return parse_rgb(s.rgb != NULL ? s.rgb : p->fg.rgb);
}

START_TEST(test_contrast_every_role)
{
    mt_theme t = (mt_theme)_i;
    const mt_palette *p = mt_palette_of(t);
    unsigned bg = parse_rgb(p->bg.rgb);
    ck_assert_msg(contrast(drawn(p, p->fg), bg) >= 4.5, "%s: text %.2f:1", p->name,
                  contrast(drawn(p, p->fg), bg));
    for (int r = 0; r < MT_R_COUNT; r++) {
        for (int f = 0; f <= MT_FIELD_COLOURS; f++) {
            mt_style s = mt_palette_style(p, (mt_role)r, f);
            /* Reverse video swaps text and box: contrast is symmetric. */
            double c = contrast(drawn(p, s), bg);
            ck_assert_msg(c >= 4.5, "%s theme: %s (field %d) %s on %s is %.2f:1", p->name,
                          mt_role_name((mt_role)r), f, s.rgb ? s.rgb : p->fg.rgb, p->bg.rgb, c);
        }
    }
}
END_TEST

START_TEST(test_rgb_is_the_index)
{
    mt_theme t = (mt_theme)_i;
    const mt_palette *p = mt_palette_of(t);
    const mt_style *all[2 + MT_R_COUNT + MT_FIELD_COLOURS];
    size_t n = 0;
    all[n++] = &p->bg;
    all[n++] = &p->fg;
    for (int r = 0; r < MT_R_COUNT; r++) {
        all[n++] = &p->roles[r];
    }
    for (int f = 0; f < MT_FIELD_COLOURS; f++) {
        all[n++] = &p->fields[f];
    }
    for (size_t i = 0; i < n; i++) {
        const mt_style *s = all[i];
        if (s->fg < 0) {
            ck_assert_ptr_null(s->rgb);
            continue;
        }
        ck_assert_msg(parse_rgb(s->rgb) == xterm_rgb(s->fg),
                      "%s theme: %s is not xterm colour %d (#%06x)", p->name, s->rgb, s->fg,
                      xterm_rgb(s->fg));
        ck_assert_int_ge(s->fg8, -1);
        ck_assert_int_le(s->fg8, 7);
    }
}
END_TEST

START_TEST(test_eight_colours)
{
    /* On 8 colours: no grey label as basic white (white on white on a
     * light terminal), no colour that vanishes into its theme's
     * background. */
    static const int bad[MT_THEME_COUNT][3] = {
        [MT_THEME_DARK] = {0, 4, -2},
        [MT_THEME_LIGHT] = {3, 6, 7},
    };
    for (int t = 0; t < MT_THEME_COUNT; t++) {
        const mt_palette *p = mt_palette_of((mt_theme)t);
        for (int r = 0; r < MT_R_COUNT; r++) {
            for (int f = 0; f <= MT_FIELD_COLOURS; f++) {
                mt_style s = mt_palette_style(p, (mt_role)r, f);
                ck_assert_msg(s.fg8 != 7 || t != MT_THEME_LIGHT, "%s", mt_role_name((mt_role)r));
                for (int k = 0; k < 3; k++) {
                    ck_assert_msg(s.fg8 != bad[t][k], "%s theme: %s (field %d) is basic colour %d",
                                  p->name, mt_role_name((mt_role)r), f, s.fg8);
                }
            }
        }
        /* The greys keep the terminal's own foreground in both themes. */
        ck_assert_int_eq(p->roles[MT_R_COMMENT].fg8, -1);
        ck_assert_int_eq(p->roles[MT_R_ADDRESS].fg8, -1);
        ck_assert_int_eq(p->roles[MT_R_OFFSET].fg8, -1);
        ck_assert_int_eq(p->roles[MT_R_NOTE].fg8, -1);
    }
}
END_TEST

START_TEST(test_themes_differ)
{
    const mt_palette *d = mt_palette_of(MT_THEME_DARK), *l = mt_palette_of(MT_THEME_LIGHT);
    ck_assert_str_eq(d->name, "dark");
    ck_assert_str_eq(l->name, "light");
    /* Light is light, dark is dark. */
    ck_assert(luminance(parse_rgb(l->bg.rgb)) > 0.8);
    ck_assert(luminance(parse_rgb(d->bg.rgb)) < 0.05);
    /* Field colours stay apart within a theme. */
    for (int t = 0; t < MT_THEME_COUNT; t++) {
        const mt_palette *p = mt_palette_of((mt_theme)t);
        for (int a = 0; a < MT_FIELD_COLOURS; a++) {
            for (int b = a + 1; b < MT_FIELD_COLOURS; b++) {
                ck_assert_int_ne(p->fields[a].fg, p->fields[b].fg);
            }
        }
    }
    /* mt_style_of is the dark theme; changed bytes stand out without
     * colour in both. */
    ck_assert_str_eq(mt_style_of(MT_R_BYTE, 2).rgb, d->fields[1].rgb);
    ck_assert(mt_palette_style(l, MT_R_CHANGED, 2).reverse);
    ck_assert_str_eq(mt_palette_style(l, MT_R_CHANGED, 2).rgb, l->fields[1].rgb);
    ck_assert_ptr_eq(mt_palette_of((mt_theme)99), d);
}
END_TEST

START_TEST(test_theme_names_and_env)
{
    mt_theme t = MT_THEME_DARK;
    char *err = NULL;
    ck_assert_int_eq(mt_theme_parse("light", &t), 0);
    ck_assert_int_eq(t, MT_THEME_LIGHT);
    ck_assert_int_eq(mt_theme_parse("dark", &t), 0);
    ck_assert_int_eq(t, MT_THEME_DARK);
    ck_assert_int_eq(mt_theme_parse("Light", &t), -1);
    ck_assert_int_eq(mt_theme_parse(NULL, &t), -1);

    unsetenv(MT_THEME_ENV);
    ck_assert_int_eq(mt_theme_default(&t, &err), 0);
    ck_assert_int_eq(t, MT_THEME_DARK);
    setenv(MT_THEME_ENV, "light", 1);
    ck_assert_int_eq(mt_theme_default(&t, &err), 0);
    ck_assert_int_eq(t, MT_THEME_LIGHT);
    setenv(MT_THEME_ENV, "", 1);
    ck_assert_int_eq(mt_theme_default(&t, &err), 0);
    ck_assert_int_eq(t, MT_THEME_DARK);
    setenv(MT_THEME_ENV, "solarized", 1);
    ck_assert_int_eq(mt_theme_default(&t, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "MINISTRY_THEME='solarized'"));
    ck_assert_ptr_nonnull(strstr(err, "dark, light"));
    free(err);
    unsetenv(MT_THEME_ENV);
}
END_TEST

Suite *
mt_doc_suite(void)
{
    Suite *s = suite_create("doc");
    TCase *tc = tcase_create("palette");
    tcase_add_test(tc, test_contrast_formula);
    tcase_add_loop_test(tc, test_contrast_every_role, 0, MT_THEME_COUNT);
    tcase_add_loop_test(tc, test_rgb_is_the_index, 0, MT_THEME_COUNT);
    tcase_add_test(tc, test_eight_colours);
    tcase_add_test(tc, test_themes_differ);
    tcase_add_test(tc, test_theme_names_and_env);
    suite_add_tcase(s, tc);
    return s;
}
