/* check_lesson.c — lesson parser: fields of a full lesson, every refusal with
 * its "path:line:", folders, speed. */
#include "pyver.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lesson.h"

/* tests/lessons/<sub>, from $MT_SRCDIR (set by make check) or ".". */
static char *
fixture(const char *sub)
{
    const char *root = getenv("MT_SRCDIR");
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/tests/lessons/%s",
             root != NULL && *root != '\0' ? root : ".", sub);
    return buf;
}

static mt_lesson *
parse_str(const char *path, const char *text, char **err)
{
    return mt_lesson_parse(path, text, strlen(text), err);
}

/* The message must start with prefix and contain word. */
static void
check_err(const char *err, const char *prefix, const char *word)
{
    ck_assert_msg(err != NULL, "no error message (wanted %s ... %s)", prefix,
                  word);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
                  "message \"%s\" does not start with \"%s\"", err, prefix);
    ck_assert_msg(strstr(err + strlen(prefix), word) != NULL,
                  "message \"%s\" does not mention \"%s\"", err, word);
}

static void
expect_reject(const char *path, const char *text, size_t len,
              const char *prefix, const char *word)
{
    char *err = NULL;
    mt_lesson *l = mt_lesson_parse(path, text, len, &err);
    ck_assert_msg(l == NULL, "accepted; wanted \"%s ... %s\"", prefix, word);
    check_err(err, prefix, word);
    free(err);
}

#define REJECT(text, prefix, word) \
    expect_reject("t/01-x.py", (text), strlen(text), (prefix), (word))

#define HDR "# ---\n# title: T\n# ---\n"

/* ---- a full lesson --------------------------------------------------- */

START_TEST(test_full_example)
{
    char path[4200];
    char *err = NULL;
    snprintf(path, sizeof path, "%s", fixture("good/01-example.py"));
    mt_lesson *l = mt_lesson_load(path, &err);
    ck_assert_msg(l != NULL, "%s", err != NULL ? err : "?");
    ck_assert_ptr_null(err);

    ck_assert_str_eq(l->path, path);
    ck_assert_int_eq(l->number, 1);
    ck_assert_str_eq(l->slug, "example");
    ck_assert_str_eq(l->title, "Reference counts: the header");
    ck_assert_str_eq(l->summary, "What 'two' looks like in memory");
    ck_assert_str_eq(l->outro, "That is all.\n\nSee you in stage 2.");
    /* the empty "# %%" at the end is not a step */
    ck_assert_uint_eq(l->nsteps, 4);

    const mt_step *s = &l->steps[0];
    ck_assert_str_eq(s->title, "Look at two");
    ck_assert_str_eq(s->slug, "look-at-two");
    ck_assert_int_eq(s->line, 23);
    ck_assert_int_eq(s->code_line, 24);
    ck_assert_str_eq(s->narrative,
                     "# Reference counts\n\nEvery object starts with a "
                     "header.\n\n  Indented markdown stays indented.");
    ck_assert_str_eq(s->code, "import sys\ntwo = 2\n\nprint(sys.getrefcount"
                     "(two))");
    ck_assert_int_eq(s->kind, MT_STEP_EXPLORE);
    ck_assert(s->timeout == 2.5);
    ck_assert_uint_eq(s->nwatches, 2);
    ck_assert_str_eq(s->watches[0].expr, "id(2)");
    ck_assert_str_eq(s->watches[0].layout, "PyLongObject");
    ck_assert_int_eq(s->watches[0].len, -1);
    ck_assert_str_eq(s->watches[0].label, "pylongobject");
    ck_assert_int_eq(s->watches[0].verify, 1);
    ck_assert_str_eq(s->watches[1].expr, "id(int)");
    ck_assert_str_eq(s->watches[1].layout, "PyTypeObject");
    ck_assert_int_eq(s->watches[1].len, 64);
    ck_assert_str_eq(s->watches[1].label, "pytypeobject");

    s = &l->steps[1];
    ck_assert_str_eq(s->title, "Take a reference");
    ck_assert_str_eq(s->slug, "take-ref");
    ck_assert_int_eq(s->line, 32);
    ck_assert_int_eq(s->code_line, 33);
    ck_assert_str_eq(s->narrative, "Now take a reference.");
    ck_assert_str_eq(s->code, "refs = [two] * 3");
    ck_assert_int_eq(s->kind, MT_STEP_PATCH);
    ck_assert(s->timeout == 0);
    ck_assert_uint_eq(s->nwatches, 3);
    ck_assert_str_eq(s->watches[0].expr, "id(two)");
    ck_assert_str_eq(s->watches[0].layout, "PyObject");
    ck_assert_int_eq(s->watches[0].len, 16);
    ck_assert_str_eq(s->watches[0].label, "pyobject");
    ck_assert_int_eq(s->watches[0].verify, 0);
    /* split from the right: the expression keeps its colons */
    ck_assert_str_eq(s->watches[1].expr, "{1: 2}[1]");
    ck_assert_str_eq(s->watches[1].layout, "raw");
    ck_assert_int_eq(s->watches[1].len, 8);
    ck_assert_str_eq(s->watches[1].label, "raw");
    ck_assert_int_eq(s->watches[1].verify, 1);
    ck_assert_str_eq(s->watches[2].expr, "d[1:2]");
    ck_assert_str_eq(s->watches[2].layout, "PyObject");
    ck_assert_int_eq(s->watches[2].len, -1);
    /* a derived label steps around the explicit "pyobject" */
    ck_assert_str_eq(s->watches[2].label, "pyobject-2");

    s = &l->steps[2];
    ck_assert_str_eq(s->title, "");
    ck_assert_str_eq(s->slug, "step-3");
    ck_assert_int_eq(s->line, 35);
    ck_assert_int_eq(s->code_line, 37);
    ck_assert_str_eq(s->narrative, "");
    ck_assert_str_eq(s->code, "del refs");
    ck_assert_int_eq(s->kind, MT_STEP_REVERT);
    ck_assert_uint_eq(s->nwatches, 2);
    ck_assert_str_eq(s->watches[0].label, "pyobject");
    ck_assert_str_eq(s->watches[1].label, "pyobject-2");

    s = &l->steps[3];
    ck_assert_str_eq(s->title, "Look at two");
    ck_assert_str_eq(s->slug, "look-at-two-2");
    ck_assert_int_eq(s->kind, MT_STEP_EXPLORE);
    ck_assert_uint_eq(s->nwatches, 0);
    ck_assert_ptr_null(s->watches);
    ck_assert_str_eq(s->code, "print(two)");
    mt_lesson_free(l);
}
END_TEST

START_TEST(test_watch_split_right)
{
    char *err = NULL;
    mt_lesson *l = parse_str(
        "t/03-split.py",
        HDR "# %% watch=[\"{1: 2}[1]:raw:8\", \"{1: 2}[1]:raw\", "
            "\"a:b:c:PyObject: 24\", \"f(x, y) : PyLongObject\"]\nx\n",
        &err);
    ck_assert_msg(l != NULL, "%s", err != NULL ? err : "?");
    ck_assert_int_eq(l->number, 3);
    ck_assert_str_eq(l->slug, "split");
    const mt_step *s = &l->steps[0];
    ck_assert_uint_eq(s->nwatches, 4);
    ck_assert_str_eq(s->watches[0].expr, "{1: 2}[1]");
    ck_assert_str_eq(s->watches[0].layout, "raw");
    ck_assert_int_eq(s->watches[0].len, 8);
    ck_assert_str_eq(s->watches[1].expr, "{1: 2}[1]");
    ck_assert_str_eq(s->watches[1].layout, "raw");
    ck_assert_int_eq(s->watches[1].len, -1);
    ck_assert_str_eq(s->watches[1].label, "raw-2");
    ck_assert_str_eq(s->watches[2].expr, "a:b:c");
    ck_assert_str_eq(s->watches[2].layout, "PyObject");
    ck_assert_int_eq(s->watches[2].len, 24);
    ck_assert_str_eq(s->watches[3].expr, "f(x, y)");
    ck_assert_str_eq(s->watches[3].layout, "PyLongObject");
    mt_lesson_free(l);
}
END_TEST

START_TEST(test_small_forms)
{
    /* No header title → error; header + CRLF lines + BOM + jupyter block
     * are fine; code keeps inner blank lines and drops the \r. */
    char *err = NULL;
    const char *text =
        "\xEF\xBB\xBF# ---\r\n# title: 'It''s two'\r\n# jupyter:\r\n"
        "#   anything: [goes, here]\r\n# ---\r\n\r\n"
        "# %% Same\r\nif x:\r\n\r\n    y\r\n# %% Same\r\nz\r\n"
        "# %% SAME\r\nw\r\n";
    mt_lesson *l = parse_str("t/07-forms.py", text, &err);
    ck_assert_msg(l != NULL, "%s", err != NULL ? err : "?");
    ck_assert_str_eq(l->title, "It's two");
    ck_assert_str_eq(l->summary, "");
    ck_assert_str_eq(l->outro, "");
    ck_assert_uint_eq(l->nsteps, 3);
    ck_assert_str_eq(l->steps[0].code, "if x:\n\n    y");
    ck_assert_str_eq(l->steps[0].slug, "same");
    ck_assert_str_eq(l->steps[1].slug, "same-2");
    ck_assert_str_eq(l->steps[2].slug, "same-3");
    ck_assert_int_eq(l->steps[2].line, 13);
    mt_lesson_free(l);

    /* a derived slug does not take an explicit one further down */
    l = parse_str("t/07-forms.py",
                  HDR "# %% A b\nx\n# %% slug=\"a-b\"\ny\n", &err);
    ck_assert_msg(l != NULL, "%s", err != NULL ? err : "?");
    ck_assert_str_eq(l->steps[0].slug, "a-b-2");
    ck_assert_str_eq(l->steps[1].slug, "a-b");
    mt_lesson_free(l);
}
END_TEST

/* ---- refusals, each with its path:line: ------------------------------- */

static const struct {
    const char *file;
    int line;
    const char *word;
} bad_files[] = {
    {"01-unknown-key.py", 5, "colour="},
    {"02-bad-json.py", 8, "bad JSON"},
    {"03-two-kinds.py", 8, "two kind tags"},
    {"04-bad-slug.py", 5, "bad slug"},
    {"05-markdown-no-hash.py", 8, "markdown line"},
    {"06-text-before.py", 5, "text before the first cell"},
    {"07-no-code.py", 1, "no code cell"},
    {"08-bad-utf8.py", 6, "UTF-8"},
    {"09-unknown-header.py", 3, "'author'"},
    {"10-dup-slug.py", 8, "\"a\" is already used"},
    {"11-watch-shape.py", 5, "EXPR:LAYOUT"},
    {"12-header-open.py", 1, "not closed"},
};

START_TEST(test_bad_fixture)
{
    char rel[256];
    char prefix[4300];
    char *err = NULL;
    snprintf(rel, sizeof rel, "bad/%s", bad_files[_i].file);
    const char *path = fixture(rel);
    snprintf(prefix, sizeof prefix, "%s:%d: ", path, bad_files[_i].line);
    mt_lesson *l = mt_lesson_load(path, &err);
    ck_assert_msg(l == NULL, "%s accepted", path);
    check_err(err, prefix, bad_files[_i].word);
    free(err);
}
END_TEST

START_TEST(test_reject_inline)
{
    /* unknown key on a code cell, not on a markdown cell */
    REJECT(HDR "\n# %% Title foo=1\nx\n", "t/01-x.py:5: ", "foo=");
    /* bad JSON values */
    REJECT(HDR "# %% tags=['patch']\nx\n", "t/01-x.py:4: ", "double quotes");
    REJECT(HDR "# %% timeout=5s\nx\n", "t/01-x.py:4: ", "bad JSON");
    REJECT(HDR "# %% tags=[\"a\",]\nx\n", "t/01-x.py:4: ", "bad JSON");
    REJECT(HDR "# %% tags=\nx\n", "t/01-x.py:4: ", "no value");
    REJECT(HDR "# %% [markdown] a={\"k\": 1, \"k\": 2}\n# t\n# %%\nx\n",
           "t/01-x.py:4: ", "duplicate object key");
    /* wrong types and values */
    REJECT(HDR "# %% tags=\"patch\"\nx\n", "t/01-x.py:4: ", "array");
    REJECT(HDR "# %% timeout=0\nx\n", "t/01-x.py:4: ", "timeout=");
    REJECT(HDR "# %% timeout=-1\nx\n", "t/01-x.py:4: ", "timeout=");
    REJECT(HDR "# %% slug=\"\"\nx\n", "t/01-x.py:4: ", "bad slug");
    REJECT(HDR "# %% slug=\"a b\"\nx\n", "t/01-x.py:4: ", "bad slug");
    REJECT(HDR "# %% tags=[\"explore\",\"patch\"]\nx\n", "t/01-x.py:4: ",
           "two kind tags");
    REJECT(HDR "# %% watch=[\"x:raw:0\"]\nx\n", "t/01-x.py:4: ", "length");
    REJECT(HDR "# %% watch=[\"x:raw:99999999999\"]\nx\n", "t/01-x.py:4: ",
           "length");
    REJECT(HDR "# %% watch=[\"x:8\"]\nx\n", "t/01-x.py:4: ", "EXPR:LAYOUT");
    REJECT(HDR "# %% watch=[\":raw\"]\nx\n", "t/01-x.py:4: ", "expression");
    REJECT(HDR "# %% watch=[\"x:\"]\nx\n", "t/01-x.py:4: ", "layout");
    REJECT(HDR "# %% watch=[{\"expr\": \"x\"}]\nx\n", "t/01-x.py:4: ",
           "\"layout\" is missing");
    REJECT(HDR "# %% watch=[{\"expr\": \"x\", \"layout\": \"raw\", "
           "\"len\": 1.5}]\nx\n", "t/01-x.py:4: ", "length");
    REJECT(HDR "# %% watch=[{\"expr\": \"x\", \"layout\": \"raw\", "
           "\"size\": 1}]\nx\n", "t/01-x.py:4: ", "\"size\"");
    REJECT(HDR "# %% watch=[{\"expr\": \"x\", \"layout\": \"raw\", "
           "\"verify\": 1}]\nx\n", "t/01-x.py:4: ", "verify");
    REJECT(HDR "# %% watch=[{\"expr\": \"x\", \"layout\": \"a\", \"label\": "
           "\"l\"}, {\"expr\": \"y\", \"layout\": \"b\", \"label\": \"l\"}]"
           "\nx\n", "t/01-x.py:4: ", "used twice");
    REJECT(HDR "# %% watch=[\"a\\nb:raw\"]\nx\n", "t/01-x.py:4: ", "one line");
    REJECT(HDR "# %% watch=[1]\nx\n", "t/01-x.py:4: ", "number");
    /* marker shape */
    REJECT(HDR "# %% [code]\nx\n", "t/01-x.py:4: ", "[code]");
    REJECT(HDR "# %% tags=[] Title\nx\n", "t/01-x.py:4: ", "'Title'");
    REJECT(HDR "# %% [markdown] [markdown]\n# a\n", "t/01-x.py:4: ",
           "two cell types");
    REJECT(HDR "# %% a=1 a=2 [markdown]\n# t\n", "t/01-x.py:4: ",
           "twice");
    /* markdown lines */
    REJECT(HDR "# %% [markdown]\n# ok\n#not ok\n# %%\nx\n",
           "t/01-x.py:6: ", "markdown line");
    /* text before the first cell */
    REJECT("x = 1\n# %%\nx\n", "t/01-x.py:1: ", "before the first cell");
    REJECT(HDR "\n\n# a comment\n# %%\nx\n", "t/01-x.py:6: ",
           "before the first cell");
    /* header */
    REJECT("# ---\n# summary: s\n# ---\n# %%\nx\n", "t/01-x.py:1: ",
           "no title");
    REJECT("# %%\nx\n", "t/01-x.py:1: ", "no title");
    REJECT("# ---\n# title: a: b\n# ---\n# %%\nx\n", "t/01-x.py:2: ",
           "quote");
    REJECT("# ---\n# title: T\n# title: U\n# ---\n# %%\nx\n",
           "t/01-x.py:3: ", "twice");
    REJECT("# ---\n# title: T\n#   indented: no\n# ---\n# %%\nx\n",
           "t/01-x.py:3: ", "indented");
    REJECT("# ---\n# title: \"T\n# ---\n# %%\nx\n", "t/01-x.py:2: ",
           "double-quoted");
    REJECT("# ---\n# title:\n# ---\n# %%\nx\n", "t/01-x.py:2: ", "empty");
    /* no code cell; an empty code cell with a title is an error */
    REJECT(HDR "# %% [markdown]\n# words\n", "t/01-x.py:1: ", "no code cell");
    REJECT(HDR "", "t/01-x.py:1: ", "no code cell");
    REJECT(HDR "# %% Empty\n\n# %%\nx\n", "t/01-x.py:4: ", "without code");
    /* file names */
    expect_reject("t/1-x.py", HDR "# %%\nx\n", strlen(HDR "# %%\nx\n"),
                  "t/1-x.py:1: ", "NN-slug.py");
    expect_reject("t/01-X.py", HDR "# %%\nx\n", strlen(HDR "# %%\nx\n"),
                  "t/01-X.py:1: ", "NN-slug.py");
    expect_reject("01-x.txt", HDR "# %%\nx\n", strlen(HDR "# %%\nx\n"),
                  "01-x.txt:1: ", "NN-slug.py");
}
END_TEST

START_TEST(test_reject_bytes)
{
    /* NUL on line 5, anywhere in the line */
    static const char nul[] = HDR "# %%\nx = 1\0\n";
    expect_reject("t/01-x.py", nul, sizeof nul - 1, "t/01-x.py:5: ",
                  "NUL byte");
    /* invalid UTF-8: a stray continuation byte, an overlong '/', a
     * surrogate, a truncated sequence at the end */
    REJECT(HDR "# %%\nx = 1\n# \x80\n", "t/01-x.py:6: ", "UTF-8");
    REJECT(HDR "# %%\nx = '\xC0\xAF'\n", "t/01-x.py:5: ", "UTF-8");
    REJECT(HDR "# %%\nx = '\xED\xA0\x80'\n", "t/01-x.py:5: ", "UTF-8");
    REJECT(HDR "# %%\nx = '\xE2\x82", "t/01-x.py:5: ", "UTF-8");
    /* valid UTF-8 is fine, in code, markdown and titles */
    char *err = NULL;
    mt_lesson *l = parse_str("t/01-x.py",
                             "# ---\n# title: Größe → 𝟚\n# ---\n"
                             "# %% Ünïcode\nx = '€'\n", &err);
    ck_assert_msg(l != NULL, "%s", err != NULL ? err : "?");
    ck_assert_str_eq(l->title, "Größe → 𝟚");
    ck_assert_str_eq(l->steps[0].slug, "n-code");
    mt_lesson_free(l);
}
END_TEST

/* A lesson of exactly n bytes: many one-line steps, all titled alike (the
 * worst case for unique slugs). */
static char *
big_lesson(size_t n)
{
    char *buf = malloc(n + 1);
    static const char cell[] = "# %% Same title watch=[\"x:raw\",\"x:raw\"]\n"
                               "x = 1\n";
    size_t o = 0;
    memcpy(buf, HDR, strlen(HDR));
    o = strlen(HDR);
    while (o + sizeof cell - 1 <= n) {
        memcpy(buf + o, cell, sizeof cell - 1);
        o += sizeof cell - 1;
    }
    while (o < n) {
        buf[o++] = '\n';
    }
    buf[n] = '\0';
    return buf;
}

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

START_TEST(test_size_limit_and_speed)
{
    char *err = NULL;
    char *buf = big_lesson(MT_LESSON_MAX_BYTES + 1);

    double t0 = now();
    mt_lesson *l = mt_lesson_parse("t/01-x.py", buf, MT_LESSON_MAX_BYTES + 1,
                                   &err);
    double refused = now() - t0;
    ck_assert_ptr_null(l);
    check_err(err, "t/01-x.py:1: ", "1 MiB");
    free(err);
    err = NULL;

    /* exactly at the limit: parsed, and quickly (tens of thousands of
     * steps named same-title, same-title-2, ...) */
    t0 = now();
    l = mt_lesson_parse("t/01-x.py", buf, MT_LESSON_MAX_BYTES, &err);
    double parsed = now() - t0;
    ck_assert_msg(l != NULL, "%s", err != NULL ? err : "?");
    ck_assert_uint_gt(l->nsteps, 20000);
    ck_assert_str_eq(l->steps[0].slug, "same-title");
    ck_assert_str_eq(l->steps[l->nsteps - 1].watches[1].label, "raw-2");
    char last[64];
    snprintf(last, sizeof last, "same-title-%zu", l->nsteps);
    ck_assert_str_eq(l->steps[l->nsteps - 1].slug, last);
    mt_lesson_free(l);
    free(buf);
    ck_assert_msg(refused < 0.01, "refusing took %.3f s", refused);
    /* generous, for sanitizer builds: quadratic work would take minutes */
    ck_assert_msg(parsed < 1.0, "parsing 1 MiB took %.3f s", parsed);
}
END_TEST

/* ---- folders ------------------------------------------------------------ */

static char tmpdir[256];

static void
mk_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mt-lesson-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
put_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void
rm_tmp(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static void
expect_dir_err(const char *prefix, const char *word)
{
    mt_lesson **v = NULL;
    size_t n = 99;
    char *err = NULL;
    ck_assert_int_eq(mt_lessons_load_dir(tmpdir, &v, &n, &err), -1);
    ck_assert_ptr_null(v);
    ck_assert_uint_eq(n, 0);
    check_err(err, prefix, word);
    free(err);
}

#define LESSON HDR "# %%\nx\n"

START_TEST(test_dir_good)
{
    mt_lesson **v = NULL;
    size_t n = 0;
    char *err = NULL;
    ck_assert_msg(mt_lessons_load_dir(fixture("good"), &v, &n, &err) == 0,
                  "%s", err != NULL ? err : "?");
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(v[0]->number, 1);
    ck_assert_str_eq(v[0]->slug, "example");
    ck_assert_int_eq(v[1]->number, 2);
    ck_assert_str_eq(v[1]->title, "Minimal");
    mt_lessons_free(v, n);

    /* sorted by number whatever the directory order; README*, dotfiles and
     * __pycache__ are left alone; a trailing '/' is fine */
    mk_tmp();
    put_file("07-last.py", LESSON);
    put_file("02-first.py", LESSON);
    put_file("README.txt", "not a lesson");
    put_file(".hidden", "not a lesson");
    char sub[300];
    snprintf(sub, sizeof sub, "%s/__pycache__", tmpdir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    snprintf(sub, sizeof sub, "%s/", tmpdir);
    ck_assert_msg(mt_lessons_load_dir(sub, &v, &n, &err) == 0, "%s",
                  err != NULL ? err : "?");
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(v[0]->number, 2);
    ck_assert_int_eq(v[1]->number, 7);
    char want[400];
    snprintf(want, sizeof want, "%s/07-last.py", tmpdir);
    ck_assert_str_eq(v[1]->path, want);
    mt_lessons_free(v, n);
    rm_tmp();
}
END_TEST

START_TEST(test_dir_bad)
{
    char prefix[400];

    /* missing folder */
    mk_tmp();
    rm_tmp();
    snprintf(prefix, sizeof prefix, "%s: ", tmpdir);
    expect_dir_err(prefix, "no such");

    /* empty folder; one with only a README */
    mk_tmp();
    snprintf(prefix, sizeof prefix, "%s: ", tmpdir);
    expect_dir_err(prefix, "no lessons");
    put_file("README.md", "hello");
    expect_dir_err(prefix, "no lessons");
    rm_tmp();

    /* duplicate numbers */
    mk_tmp();
    put_file("01-a.py", LESSON);
    put_file("01-b.py", LESSON);
    snprintf(prefix, sizeof prefix, "%s/01-b.py:1: ", tmpdir);
    expect_dir_err(prefix, "01-a.py");
    rm_tmp();

    /* stray non-lesson file; a .py with a bad name */
    mk_tmp();
    put_file("01-a.py", LESSON);
    put_file("notes.txt", "x");
    snprintf(prefix, sizeof prefix, "%s/notes.txt:1: ", tmpdir);
    expect_dir_err(prefix, "stray file");
    rm_tmp();
    mk_tmp();
    put_file("01-a.py", LESSON);
    put_file("2-b.py", LESSON);
    snprintf(prefix, sizeof prefix, "%s/2-b.py:1: ", tmpdir);
    expect_dir_err(prefix, "NN-slug.py");
    rm_tmp();

    /* a parse error in one lesson names that file and line */
    mk_tmp();
    put_file("01-a.py", LESSON);
    put_file("02-b.py", HDR "# %% bogus=1\nx\n");
    snprintf(prefix, sizeof prefix, "%s/02-b.py:4: ", tmpdir);
    expect_dir_err(prefix, "bogus=");
    rm_tmp();

    /* a file over the limit is refused before it is read whole */
    mk_tmp();
    char *big = big_lesson(MT_LESSON_MAX_BYTES + 5);
    put_file("01-a.py", big);
    free(big);
    snprintf(prefix, sizeof prefix, "%s/01-a.py:1: ", tmpdir);
    expect_dir_err(prefix, "1 MiB");
    rm_tmp();
}
END_TEST

START_TEST(test_load_missing_file)
{
    char *err = NULL;
    ck_assert_ptr_null(mt_lesson_load("/nonexistent/01-x.py", &err));
    check_err(err, "/nonexistent/01-x.py:1: ", "cannot open");
    free(err);
}
END_TEST

/* ---- JSON values (jansson) -------------------------------------------- */

START_TEST(test_json_values)
{
    char *err = NULL;
    mt_lesson *l = parse_str("t/01-x.py",
                             "# ---\n# title: \"Gr\\u00f6\\u00dfe \\ud83d\\ude00\"\n"
                             "# ---\n# %% T slug=\"a\\u002db\" timeout=1.5e0  "
                             "watch=[{\"expr\": \"x\", \"layout\": \"raw\", "
                             "\"len\": 8, \"verify\": false}]\t\nx\n", &err);
    ck_assert_msg(l != NULL, "%s", err != NULL ? err : "?");
    ck_assert_str_eq(l->title, "Gr\xC3\xB6\xC3\x9F" "e \xF0\x9F\x98\x80");
    ck_assert_str_eq(l->steps[0].slug, "a-b");
    ck_assert(l->steps[0].timeout == 1.5);
    ck_assert_int_eq(l->steps[0].watches[0].len, 8);
    ck_assert_int_eq(l->steps[0].watches[0].verify, 0);
    mt_lesson_free(l);

    /* what strict JSON refuses, with the column of the fault */
    REJECT(HDR "# %% tags=['patch']\nx\n", "t/01-x.py:4: ", "(column 12)");
    REJECT(HDR "# %% slug=\"\\u0000\"\nx\n", "t/01-x.py:4: ", "bad JSON");
    REJECT(HDR "# %% slug=\"\\ud800\"\nx\n", "t/01-x.py:4: ", "bad JSON");
    REJECT(HDR "# %% timeout=01\nx\n", "t/01-x.py:4: ", "bad JSON");
    REJECT(HDR "# %% tags=[\"a\"]]\nx\n", "t/01-x.py:4: ", "unexpected text");
    REJECT(HDR "# %% tags=[1 2]\nx\n", "t/01-x.py:4: ", "bad JSON");
    REJECT(HDR "# %% watch=[{\"expr\": \"x\", \"layout\": \"raw\", "
           "\"len\": 8.0}]\nx\n", "t/01-x.py:4: ", "length");
}
END_TEST

/* python= keeps a cell only on the versions it names: narrative, steps
 * and outro each as that version reads them; bad ranges refused. */
START_TEST(test_python_ranges)
{
    static const char text[] =
        HDR
        "# %% [markdown]\n# Shared.\n"
        "# %% [markdown] python=\"<3.12\"\n# Old counts.\n"
        "# %% [markdown] python=\">=3.12\"\n# Immortal.\n"
        "# %% Count slug=\"count\" python=\"3.11\"\nold = 1\n"
        "# %% Count slug=\"count\" python=\">=3.13, <3.14\"\nmid = 1\n"
        "# %% Count slug=\"count\" python=\">3.13\"\nnew = 1\n"
        "# %% Always\nx = 1\n"
        "# %% [markdown] python=\"!=3.15\"\n# Not on 3.15.\n";
    static const struct {
        int minor;
        const char *narrative, *code, *outro;
    } want[] = {
        {11, "Shared.\n\nOld counts.", "old = 1", "Not on 3.15."},
        {13, "Shared.\n\nImmortal.", "mid = 1", "Not on 3.15."},
        {14, "Shared.\n\nImmortal.", "new = 1", "Not on 3.15."},
        {15, "Shared.\n\nImmortal.", "new = 1", ""},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char *err = NULL;
        mt_lesson_for_python(want[i].minor);
        mt_lesson *l = parse_str("t/01-x.py", text, &err);
        ck_assert_msg(l != NULL, "3.%d: %s", want[i].minor, err);
        ck_assert_uint_eq(l->nsteps, 2);
        ck_assert_str_eq(l->steps[0].slug, "count");
        ck_assert_str_eq(l->steps[0].narrative, want[i].narrative);
        ck_assert_str_eq(l->steps[0].code, want[i].code);
        ck_assert_str_eq(l->steps[1].code, "x = 1");
        ck_assert_str_eq(l->outro, want[i].outro);
        mt_lesson_free(l);
    }
    REJECT(HDR "# %% A python=3.14\nx = 1\n", "t/01-x.py:4: ", "python=");
    REJECT(HDR "# %% A python=\"3\"\nx = 1\n", "t/01-x.py:4: ", "3.N");
    REJECT(HDR "# %% A python=\"~3.14\"\nx = 1\n", "t/01-x.py:4: ", "3.N");
    REJECT(HDR "# %% A python=\">=3.12;<3.14\"\nx = 1\n", "t/01-x.py:4: ", "\",\"");
    REJECT(HDR "# %% A python=\"\"\nx = 1\n", "t/01-x.py:4: ", "python=");
    mt_lesson_for_python(PY_MINOR_VERSION);
}
END_TEST

Suite *mt_lesson_suite(void);

Suite *
mt_lesson_suite(void)
{
    Suite *s = suite_create("lesson");
    TCase *tc = tcase_create("parse");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_full_example);
    tcase_add_test(tc, test_watch_split_right);
    tcase_add_test(tc, test_small_forms);
    tcase_add_loop_test(tc, test_bad_fixture, 0,
                        (int)(sizeof bad_files / sizeof bad_files[0]));
    tcase_add_test(tc, test_reject_inline);
    tcase_add_test(tc, test_reject_bytes);
    tcase_add_test(tc, test_size_limit_and_speed);
    suite_add_tcase(s, tc);

    tc = tcase_create("folders");
    tcase_add_test(tc, test_dir_good);
    tcase_add_test(tc, test_dir_bad);
    tcase_add_test(tc, test_load_missing_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("json");
    tcase_add_test(tc, test_json_values);
    tcase_add_test(tc, test_python_ranges);
    suite_add_tcase(s, tc);
    return s;
}
