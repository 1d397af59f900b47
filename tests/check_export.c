/* check_export.c — the exporters: golden files over a fixed synthetic step,
 * XML/HTML/SVG/PNG checks with xmllint and rsvg-convert, JSON against
 * docs/export-schema.json with python3-jsonschema (tests/validate_export.py),
 * and --export end to end on the real binary. */
#include <cairo.h>
#include "pyver.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "doc.h"
#include "export.h"
#include "layout.h"
#include "lesson.h"
#include "result.h"
#include "util.h"

/* ---- helpers ------------------------------------------------------------- */

static const char *
srcdir(void)
{
    const char *s = getenv("MT_SRCDIR");
    return s && *s ? s : ".";
}

static char *
bin_path(void)
{
    const char *b = getenv("MT_BIN");
    return b && *b ? mt_xstrdup(b) : mt_xasprintf("%s/build/ministry-tutor", srcdir());
}

static char *
slurp(const char *path, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    if (mt_read_file(path, (size_t)64 << 20, &buf, &n) < 0) {
        return NULL;
    }
    if (len) {
        *len = n;
    }
    return buf;
}

static void
spit(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static char *
tmpdir(void)
{
    char t[] = "/tmp/mt-export-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(t));
    return mt_xstrdup(t);
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void
rm_rf(char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

/* Run argv (argv[0] looked up in PATH) with stdout and stderr into files
 * under a scratch folder; *out and *err (optional) get what they said.
 * Returns the exit status, or 128 + signal. */
static int
run_argv(char *const argv[], char **out, char **err)
{
    char *scratch = tmpdir();
    char *po = mt_xasprintf("%s/out", scratch), *pe = mt_xasprintf("%s/err", scratch);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fo = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int fi = open("/dev/null", O_RDONLY);
        if (fo < 0 || fe < 0 || fi < 0) {
            _exit(127);
        }
        dup2(fi, 0);
        dup2(fo, 1);
        dup2(fe, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    char *o = slurp(po, NULL), *e = slurp(pe, NULL);
    if (out) {
        *out = o ? o : mt_xstrdup("");
    } else {
        free(o);
    }
    if (err) {
        *err = e ? e : mt_xstrdup("");
    } else {
        free(e);
    }
    free(po);
    free(pe);
    rm_rf(scratch);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ministry-tutor with up to 14 arguments (NULL-terminated). */
static int
run_mt(char **out, char **err, const char *a0, ...)
{
    char *bin = bin_path();
    char *argv[16] = {bin};
    int n = 1;
    va_list ap;
    va_start(ap, a0);
    for (const char *a = a0; a != NULL; a = va_arg(ap, const char *)) {
        ck_assert_int_lt(n, 15);
        argv[n++] = (char *)a;
    }
    va_end(ap);
    argv[n] = NULL;
    int rc = run_argv(argv, out, err);
    free(bin);
    return rc;
}

static int
count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) {
        n += *s == '\n';
    }
    return n;
}

static int
ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Sorted names in dir (not . and ..); returns the count, *names malloc'ed. */
static int
list_dir(const char *dir, char ***names)
{
    struct dirent **v;
    int n = scandir(dir, &v, NULL, alphasort);
    ck_assert_msg(n >= 0, "cannot list %s: %s", dir, strerror(errno));
    char **out = mt_xcalloc((size_t)n + 1, sizeof *out);
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(v[i]->d_name, ".") != 0 && strcmp(v[i]->d_name, "..") != 0) {
            out[k++] = mt_xstrdup(v[i]->d_name);
        }
        free(v[i]);
    }
    free(v);
    *names = out;
    return k;
}

static void
free_names(char **names, int n)
{
    for (int i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

/* xmllint over a file: 0 when it parses with nothing said. */
static void
assert_xml(const char *path, int html)
{
    char *argv[] = {"xmllint", "--noout", html ? "--html" : "--nonet", (char *)path, NULL};
    char *err;
    int rc = run_argv(argv, NULL, &err);
    ck_assert_msg(rc == 0 && *err == '\0', "xmllint %s%s: status %d: %s", html ? "--html " : "",
                  path, rc, err);
    free(err);
}

/* ---- JSON: jansson reads it, python3-jsonschema checks the schema ---- */

/* Run tests/validate_export.py on n files.  Returns its exit status; *why
 * gets what it said (malloc'ed). */
static int
validate_files(char **paths, int n, char **why)
{
    char *script = mt_xasprintf("%s/tests/validate_export.py", srcdir());
    char *schema = mt_xasprintf("%s/docs/export-schema.json", srcdir());
    char **argv = mt_xcalloc((size_t)n + 4, sizeof *argv);
    argv[0] = "/usr/bin/python3";
    argv[1] = script;
    argv[2] = schema;
    for (int i = 0; i < n; i++) {
        argv[3 + i] = paths[i];
    }
    int rc = run_argv(argv, NULL, why);
    ck_assert_msg(rc == 0 || rc == 1, "validate_export.py: status %d: %s", rc, *why);
    free(argv);
    free(schema);
    free(script);
    return rc;
}

/* 0 when text is valid against the schema, else -1 with *why. */
static int
check_schema(const char *text, size_t len, char **why)
{
    char *dir = tmpdir();
    char *path = mt_xasprintf("%s/file.json", dir);
    spit(path, text, len);
    int rc = validate_files(&path, 1, why);
    free(path);
    rm_rf(dir);
    return rc == 0 ? 0 : -1;
}

static void
assert_schema(const char *text, size_t len, const char *what)
{
    char *why = NULL;
    int rc = check_schema(text, len, &why);
    ck_assert_msg(rc == 0, "%s: %s", what, why);
    free(why);
}

/* One JSON document, all of text; a new reference. */
static json_t *
parse_json(const char *text, size_t len)
{
    json_error_t e;
    json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
    ck_assert_msg(v != NULL, "JSON does not parse at byte %d: %s", e.position, e.text);
    return v;
}

/* The string at key of object o. */
static const char *
str_at(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    ck_assert_msg(json_is_string(v), "\"%s\" is not a string", key);
    return json_string_value(v);
}

/* ---- the synthetic step ---------------------------------------------------- */

/* Two regions at fixed addresses: the int 2 with its refcount taken and its
 * digit made 5, and 20 bytes of a function whose first 5 bytes became a
 * jmp rel32 (the last 4 unreadable). */
static const uint8_t int_before[28] = {
    0x6c, 0xca, 0x9a, 0x3b, 0, 0, 0, 0, 0x00, 0xa0, 0x55, 0x55, 0x55, 0x55, 0, 0,
    1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0,
};
static const uint8_t code_before[20] = {
    0xf3, 0x0f, 0x1e, 0xfa, 0x41, 0x57, 0x41, 0x56, 0x41, 0x55, 0x41, 0x54, 0x55, 0x53,
    0x48, 0x83, 0, 0, 0, 0,
};
static const uint8_t jump[5] = {0xe9, 0xfb, 0x0f, 0x00, 0x00};   /* jmp +0xffb */

#define INT_ADDR 0x7f0000001000ull
#define CODE_ADDR 0x7f0000002000ull

static const mt_export_info fixed_info = {
    .stage = 7,
    .stage_slug = "trampoline",
    .step = 1,
    .step_slug = "install-jump",
    .step_title = "Install the jump",
    .python = "3.11.2 (main, Mar 13 2023, 12:18:29) [GCC 12.2.0]",
    .arch = "x86_64",
};

static uint8_t *
dup_bytes(const uint8_t *b, size_t n)
{
    uint8_t *p = mt_xmalloc(n);
    memcpy(p, b, n);
    return p;
}

static void
set_field(mt_field_result *f, const char *name, uint32_t off, uint32_t size, uint32_t kind,
          uint32_t flags, const char *vb, const char *va, const char *db, const char *da)
{
    f->name = mt_xstrdup(name);
    f->offset = off;
    f->size = size;
    f->kind = kind;
    f->flags = flags;
    f->value_before = mt_xstrdup(vb);
    f->value_after = mt_xstrdup(va);
    f->decoded_before = mt_xstrdup(db);
    f->decoded_after = mt_xstrdup(da);
}

static void
set_insn(mt_insn_result *in, uint64_t off, uint32_t size, const char *text, const char *target)
{
    in->address = CODE_ADDR + off;
    in->size = size;
    in->text = mt_xstrdup(text);
    in->target = mt_xstrdup(target);
}

static mt_step_result *
fixture(void)
{
    mt_step_result *r = mt_result_new();
    r->stage = 7;
    r->step = 0;
    r->patched = 1;
    r->nregions = 2;
    r->regions = mt_xcalloc(2, sizeof *r->regions);

    mt_region_result *g = &r->regions[0];
    g->label = mt_xstrdup("int-2");
    g->expr = mt_xstrdup("id(2)");
    g->layout = mt_xstrdup("PyLongObject");
    g->symbol = mt_xstrdup("_PyRuntime");
    g->address = INT_ADDR;
    g->len = sizeof int_before;
    g->before = dup_bytes(int_before, g->len);
    g->after = dup_bytes(int_before, g->len);
    g->after[0] = 0x6d;
    g->after[24] = 5;
    g->ok_before = mt_xmalloc(g->len);
    g->ok_after = mt_xmalloc(g->len);
    memset(g->ok_before, 1, g->len);
    memset(g->ok_after, 1, g->len);
    g->nfields = 4;
    g->fields = mt_xcalloc(4, sizeof *g->fields);
    set_field(&g->fields[0], "ob_refcnt", 0, 8, MT_FK_INT, MT_FF_VOLATILE, "1000000108",
              "1000000109", "", "");
    set_field(&g->fields[1], "ob_type", 8, 8, MT_FK_TYPEPTR, 0, "0x55555555a000",
              "0x55555555a000", "int", "int");
    set_field(&g->fields[2], "ob_size", 16, 8, MT_FK_INT, 0, "1", "1", "", "");
    set_field(&g->fields[3], "ob_digit[0]", 24, 4, MT_FK_DIGIT, 0, "2", "5", "", "");

    g = &r->regions[1];
    g->label = mt_xstrdup("ast-opt");
    g->expr = mt_xstrdup("ministry.symbol('_PyAST_Optimize')");
    g->layout = mt_xstrdup("code");
    g->symbol = mt_xstrdup("_PyAST_Optimize");
    g->address = CODE_ADDR;
    g->len = sizeof code_before;
    g->is_code = 1;
    g->before = dup_bytes(code_before, g->len);
    g->after = dup_bytes(code_before, g->len);
    memcpy(g->after, jump, sizeof jump);
    g->ok_before = mt_xmalloc(g->len);
    g->ok_after = mt_xmalloc(g->len);
    memset(g->ok_before, 1, g->len);
    memset(g->ok_after, 1, g->len);
    memset(g->ok_before + 16, 0, 4);
    memset(g->ok_after + 16, 0, 4);
    memcpy(g->perms_before, "r-xp", 5);
    memcpy(g->perms_after, "r-xp", 5);
    g->nfields = 1;
    g->fields = mt_xcalloc(1, sizeof *g->fields);
    set_field(&g->fields[0], "code", 0, 16, MT_FK_CODE, MT_FF_TAIL, "", "", "", "");
    static const struct {
        uint64_t off;
        uint32_t size;
        const char *text;
    } common[] = {{6, 2, "push r14"}, {8, 2, "push r13"}, {10, 2, "push r12"},
                  {12, 1, "push rbp"}, {13, 1, "push rbx"}};
    g->ninsn_before = g->ninsn_after = 7;
    g->insn_before = mt_xcalloc(7, sizeof *g->insn_before);
    g->insn_after = mt_xcalloc(7, sizeof *g->insn_after);
    set_insn(&g->insn_before[0], 0, 4, "endbr64", "");
    set_insn(&g->insn_before[1], 4, 2, "push r15", "");
    set_insn(&g->insn_after[0], 0, 5, "jmp 0x7f0000003000", "mt_noopt");
    set_insn(&g->insn_after[1], 5, 1, "push rdi", "");
    for (int i = 0; i < 5; i++) {
        set_insn(&g->insn_before[i + 2], common[i].off, common[i].size, common[i].text, "");
        set_insn(&g->insn_after[i + 2], common[i].off, common[i].size, common[i].text, "");
    }
    return r;
}

static const char *const formats[] = {"txt", "md", "html", "svg", "ansi", "json"};

static const char *const view_names[] = {"before", "after", "diff"};

/* Render region i of the fixture, view (MT_EXPORT_BEFORE, _AFTER, _DIFF)
 * in format fmt, drawn as opts says (NULL: the defaults). */
static char *
render_with(const mt_step_result *r, int i, int view, const char *fmt,
            const mt_export_opts *opts, size_t *len)
{
    char *s = mt_export_render(fmt, &fixed_info, &r->regions[i], view, opts, len);
    ck_assert_msg(s != NULL, "no renderer for %s", fmt);
    if (strcmp(fmt, "png") != 0) {
        ck_assert_uint_eq(strlen(s), *len);
    }
    return s;
}

static char *
render(const mt_step_result *r, int i, int view, const char *fmt, size_t *len)
{
    return render_with(r, i, view, fmt, NULL, len);
}

/* Compare with tests/golden/export-<label>-<view>.<fmt>; MT_UPDATE_GOLDEN=1
 * writes the golden instead (check the diff before committing it). */
static void
assert_golden(const mt_step_result *r, int i, int view, const char *fmt)
{
    size_t len;
    char *got = render(r, i, view, fmt, &len);
    char *path = mt_xasprintf("%s/tests/golden/export-%s-%s.%s", srcdir(), r->regions[i].label,
                              view_names[view], fmt);
    const char *upd = getenv("MT_UPDATE_GOLDEN");
    if (upd != NULL && strcmp(upd, "1") == 0) {
        spit(path, got, len);
    }
    size_t glen;
    char *want = slurp(path, &glen);
    ck_assert_msg(want != NULL, "no golden file %s (MT_UPDATE_GOLDEN=1 writes it)", path);
    if (glen != len || memcmp(want, got, len) != 0) {
        size_t k = 0;
        while (k < len && k < glen && want[k] == got[k]) {
            k++;
        }
        ck_abort_msg("%s differs at byte %zu: got \"%.40s\", want \"%.40s\" "
                     "(MT_UPDATE_GOLDEN=1 rewrites the goldens)",
                     path, k, got + k, want + k);
    }
    free(want);
    free(path);
    free(got);
}

static void
golden_all(const char *fmt)
{
    mt_step_result *r = fixture();
    for (int i = 0; i < 2; i++) {
        /* json has no diff: before and after are in every file. */
        for (int view = 0; view < (strcmp(fmt, "json") == 0 ? 2 : 3); view++) {
            assert_golden(r, i, view, fmt);
        }
    }
    mt_result_free(r);
}

/* Write a rendered fixture file to a scratch folder for the command-line
 * tools; returns its path (the folder is dir). */
static char *
render_to_file(const mt_step_result *r, int i, int after, const char *fmt, const char *dir)
{
    size_t len;
    char *s = render(r, i, after, fmt, &len);
    char *path = mt_xasprintf("%s/%s-%s.%s", dir, r->regions[i].label, view_names[after], fmt);
    spit(path, s, len);
    free(s);
    return path;
}

/* ---- golden files, one format each ------------------------------------------ */

START_TEST(test_golden_txt)
{
    golden_all("txt");
    /* The txt is the document's text: the marker line sits under the two
     * changed bytes of the int, and the header names the absolute base. */
    mt_step_result *r = fixture();
    size_t len;
    char *t = render(r, 0, 1, "txt", &len);
    ck_assert_ptr_nonnull(strstr(t, "int-2 · after · PyLongObject at 0x7f0000001000 in _PyRuntime · 28 bytes\n"));
    ck_assert_ptr_nonnull(strstr(t, "00000000: 6d ca 9a 3b 00 00 00 00 00 a0 55 55 55 55 00 00  "
                                    "m..;......UUUU..\n          ^^\n"));
    ck_assert_ptr_nonnull(strstr(t, "00000010: 01 00 00 00 00 00 00 00 05 00 00 00"));
    ck_assert_ptr_nonnull(strstr(t, "ob_digit[0]  5  * was 2"));
    free(t);
    t = render(r, 1, 1, "txt", &len);
    ck_assert_ptr_nonnull(strstr(t, "00000000: e9 fb 0f 00 00 57"));
    ck_assert_ptr_nonnull(strstr(t, "\n          ^^ ^^ ^^ ^^ ^^\n"));
    ck_assert_ptr_nonnull(strstr(t, "00000010: ?? ?? ?? ??"));
    ck_assert_ptr_nonnull(strstr(t, "page r-xp"));
    ck_assert_ptr_nonnull(strstr(t, "jmp 0x7f0000003000 → mt_noopt"));
    free(t);
    t = render(r, 1, 0, "txt", &len);
    ck_assert_ptr_null(strstr(t, "^^"));
    free(t);
    /* The diff: before and after side by side, the changes marked in both
     * halves. */
    t = render(r, 1, MT_EXPORT_DIFF, "txt", &len);
    ck_assert_ptr_nonnull(strstr(t, "ast-opt · before · "));
    ck_assert_ptr_nonnull(strstr(t, "  │  ast-opt · after · "));
    ck_assert_ptr_nonnull(strstr(t, "\n          ^^ ^^ ^^ ^^ ^^"));
    ck_assert_ptr_nonnull(strstr(t, "  │            ^^ ^^ ^^ ^^ ^^\n"));
    free(t);
    mt_result_free(r);
}
END_TEST

START_TEST(test_golden_md)
{
    golden_all("md");
    mt_step_result *r = fixture();
    size_t len, tlen;
    char *md = render(r, 1, 1, "md", &len);
    char *txt = render(r, 1, 1, "txt", &tlen);
    /* Provenance line, blank line, fenced txt. */
    static const char head[] = "Stage 7 `trampoline` · step 1 `install-jump` · region `ast-opt` · "
                               "**after** · CPython 3.11.2 (main, Mar 13 2023, 12:18:29) "
                               "[GCC 12.2.0] · x86\\_64\n\n```text\n";
    ck_assert_msg(strncmp(md, head, strlen(head)) == 0, "md starts: %.200s", md);
    char *body = strstr(md, "```text\n") + 8;
    ck_assert_int_eq(strncmp(body, txt, tlen), 0);
    ck_assert_str_eq(body + tlen, "```\n");
    free(md);
    free(txt);
    mt_result_free(r);
}
END_TEST

START_TEST(test_golden_html)
{
    golden_all("html");
    mt_step_result *r = fixture();
    char *dir = tmpdir();
    for (int i = 0; i < 2; i++) {
        for (int after = 0; after < 2; after++) {
            char *p = render_to_file(r, i, after, "html", dir);
            assert_xml(p, 0);
            assert_xml(p, 1);
            free(p);
        }
    }
    size_t len;
    char *h = render(r, 0, 1, "html", &len);
    /* The changed bytes keep their field's colour slot; the CSS for them
     * comes from the palette. */
    ck_assert_ptr_nonnull(strstr(h, "<span class=\"changed-byte f1\">6d</span>"));
    ck_assert_ptr_nonnull(strstr(h, "<span class=\"changed-byte f4\">05</span>"));
    ck_assert_ptr_nonnull(strstr(h, "<span class=\"byte f1\">ca</span>"));
    mt_style cs = mt_style_of(MT_R_CHANGED, 1);
    char *rule = mt_xasprintf(".mt-export .changed-byte.f1{background:%s}", cs.rgb);
    ck_assert_msg(strstr(h, rule) != NULL, "no rule %s", rule);
    free(rule);
    ck_assert_ptr_nonnull(strstr(h, "<!-- fragment:"));
    ck_assert_ptr_null(strstr(h, "<script"));
    ck_assert_ptr_null(strstr(h, "@font-face"));
    ck_assert_ptr_null(strstr(h, "http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<link"));
    free(h);
    h = render(r, 0, 0, "html", &len);
    ck_assert_ptr_null(strstr(h, "<span class=\"changed-byte"));
    free(h);
    rm_rf(dir);
    mt_result_free(r);
}
END_TEST

START_TEST(test_golden_svg)
{
    golden_all("svg");
    mt_step_result *r = fixture();
    char *dir = tmpdir();
    for (int i = 0; i < 2; i++) {
        for (int after = 0; after < 2; after++) {
            char *p = render_to_file(r, i, after, "svg", dir);
            assert_xml(p, 0);
            free(p);
        }
    }
    size_t len;
    char *s = render(r, 1, 1, "svg", &len);
    /* The jump's five bytes, in the hex row and in the instruction list: a
     * box each and dark text on it. */
    int boxes = 0;
    for (const char *p = s; (p = strstr(p, "<rect class=\"changed-byte f1\"")) != NULL; p++) {
        boxes++;
    }
    ck_assert_int_eq(boxes, 10);
    ck_assert_ptr_nonnull(strstr(s, "class=\"changed-byte f1\" fill=\"#1c1c1c\" "
                                    "font-weight=\"bold\">e9</tspan>"));
    ck_assert_ptr_nonnull(strstr(s, "class=\"unreadable\""));
    free(s);

    /* It renders: rsvg-convert makes a PNG of the image's size. */
    char *svg = render_to_file(r, 1, 1, "svg", dir);
    char *png = mt_xasprintf("%s/out.png", dir);
    char *argv[] = {"rsvg-convert", "-o", png, svg, NULL};
    char *err;
    int rc = run_argv(argv, NULL, &err);
    ck_assert_msg(rc == 0, "rsvg-convert: status %d: %s", rc, err);
    free(err);
    size_t plen;
    char *bytes = slurp(png, &plen);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_uint_gt(plen, 1000);
    ck_assert_int_eq(memcmp(bytes, "\x89PNG\r\n\x1a\n", 8), 0);
    free(bytes);
    free(png);
    free(svg);
    rm_rf(dir);
    mt_result_free(r);
}
END_TEST

START_TEST(test_golden_ansi)
{
    golden_all("ansi");
    mt_step_result *r = fixture();
    size_t len;
    char *a = render(r, 0, 1, "ansi", &len);
    /* The changed byte in SGR from the palette: bold, reverse, field colour. */
    mt_style cs = mt_style_of(MT_R_CHANGED, 1);
    ck_assert(cs.bold && cs.reverse && cs.fg >= 0);
    char *want = mt_xasprintf("\033[0;1;7;38;5;%dm6d", cs.fg);
    ck_assert_msg(strstr(a, want) != NULL, "no changed byte in SGR");
    free(want);
    /* Every line that sets a style ends with the style reset. */
    for (char *line = a; *line;) {
        char *e = strchr(line, '\n');
        ck_assert_ptr_nonnull(e);
        *e = '\0';
        const char *esc = strrchr(line, '\033');
        if (esc != NULL) {
            ck_assert_msg(strncmp(esc, "\033[0m", 4) == 0, "no reset at the end of \"%s\"", line);
        }
        line = e + 1;
    }
    free(a);
    mt_result_free(r);
}
END_TEST

/* Bytes from a "hex" string of the export ("??" → -1). */
static void
assert_hex(const char *hex, const uint8_t *b, const uint8_t *ok, size_t n)
{
    ck_assert_uint_eq(strlen(hex), 2 * n);
    for (size_t i = 0; i < n; i++) {
        if (!ok[i]) {
            ck_assert_int_eq(strncmp(hex + 2 * i, "??", 2), 0);
        } else {
            unsigned v;
            ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
            ck_assert_uint_eq(v, b[i]);
        }
    }
}

START_TEST(test_golden_json)
{
    golden_all("json");
    mt_step_result *r = fixture();
    for (int i = 0; i < 2; i++) {
        const mt_region_result *g = &r->regions[i];
        size_t len;
        char *text = render(r, i, 1, "json", &len);
        assert_schema(text, len, g->label);
        json_t *v = parse_json(text, len);
        ck_assert_str_eq(str_at(v, "view"), "after");
        ck_assert_int_eq(json_integer_value(json_object_get(v, "stage")), 7);
        const json_t *reg = json_object_get(v, "region");
        ck_assert_str_eq(str_at(reg, "label"), g->label);
        char *addr = mt_xasprintf("0x%llx", (unsigned long long)g->address);
        ck_assert_str_eq(str_at(reg, "address"), addr);
        free(addr);
        ck_assert_int_eq(json_integer_value(json_object_get(reg, "length")), (int)g->len);
        assert_hex(str_at(reg, "before"), g->before, g->ok_before, g->len);
        assert_hex(str_at(reg, "after"), g->after, g->ok_after, g->len);
        const json_t *ch = json_object_get(reg, "changed");
        size_t k = 0;
        for (size_t b = 0; b < g->len; b++) {
            if (g->before[b] != g->after[b]) {
                ck_assert_uint_lt(k, json_array_size(ch));
                ck_assert_int_eq(json_integer_value(json_array_get(ch, k++)), (int)b);
            }
        }
        ck_assert_uint_eq(k, json_array_size(ch));
        const json_t *fields = json_object_get(reg, "fields");
        ck_assert_uint_eq(json_array_size(fields), g->nfields);
        for (uint32_t f = 0; f < g->nfields; f++) {
            ck_assert_str_eq(str_at(json_array_get(fields, f), "name"), g->fields[f].name);
            ck_assert_str_eq(str_at(json_array_get(fields, f), "value_after"),
                             g->fields[f].value_after);
        }
        const json_t *ins = json_object_get(reg, "instructions");
        if (g->is_code) {
            ck_assert_str_eq(str_at(json_object_get(reg, "perms"), "after"), "r-xp");
            const json_t *a = json_object_get(ins, "after");
            ck_assert_uint_eq(json_array_size(a), g->ninsn_after);
            ck_assert_str_eq(str_at(json_array_get(a, 0), "bytes"), "e9fb0f0000");
            ck_assert_str_eq(str_at(json_array_get(a, 0), "target"), "mt_noopt");
        } else {
            ck_assert(json_is_null(ins));
            ck_assert(json_is_null(json_object_get(reg, "perms")));
        }
        json_decref(v);
        free(text);
    }
    mt_result_free(r);
}
END_TEST

/* The checker can say no: a broken file fails the schema. */
START_TEST(test_schema_rejects)
{
    mt_step_result *r = fixture();
    size_t len;
    char *text = render(r, 0, 1, "json", &len);
    static const struct {
        const char *from, *to;
    } breaks[] = {
        {"\"view\": \"after\"", "\"view\": \"later\""},
        {"\"length\": 28", "\"length\": \"28\""},
        {"\"before\": \"6cca", "\"before\": \"zzca"},
        {"\"schema_version\": 1", "\"schema_version\": 2"},
        {"\"label\": \"int-2\",", "\"label\": \"int-2\", \"extra\": 1,"},
        {"\"kind\": \"typeptr\"", "\"kind\": \"pointer\""},
    };
    for (size_t i = 0; i < sizeof breaks / sizeof breaks[0]; i++) {
        char *at = strstr(text, breaks[i].from);
        ck_assert_msg(at != NULL, "no %s", breaks[i].from);
        char *bad = mt_xasprintf("%.*s%s%s", (int)(at - text), text, breaks[i].to,
                                 at + strlen(breaks[i].from));
        char *why = NULL;
        ck_assert_msg(check_schema(bad, strlen(bad), &why) < 0, "accepted: %s", breaks[i].to);
        /* refused by the schema, not by a validator that failed to start */
        ck_assert_msg(strstr(why, "file.json: $") != NULL, "%s: %s", breaks[i].to, why);
        free(why);
        free(bad);
    }
    free(text);
    mt_result_free(r);
}
END_TEST

/* The example in docs/export-schema.md is a valid file. */
START_TEST(test_schema_doc_example)
{
    char *path = mt_xasprintf("%s/docs/export-schema.md", srcdir());
    char *md = slurp(path, NULL);
    ck_assert_msg(md != NULL, "cannot read %s", path);
    char *start = strstr(md, "\n```json\n");
    ck_assert_ptr_nonnull(start);
    start += 9;
    char *end = strstr(start, "\n```\n");
    ck_assert_ptr_nonnull(end);
    assert_schema(start, (size_t)(end - start), path);
    free(md);
    free(path);
}
END_TEST

/* Text read from memory can hold anything: the XML stays valid, the md
 * fence stays closed, the JSON stays JSON. */
START_TEST(test_hostile_text)
{
    mt_step_result *r = fixture();
    mt_field_result *f = &r->regions[0].fields[1];
    free(f->decoded_after);
    f->decoded_after = mt_xstrdup("\"<lambda> & ```\x01\xff\"");
    char *dir = tmpdir();
    char *p = render_to_file(r, 0, 1, "svg", dir);
    assert_xml(p, 0);
    free(p);
    p = render_to_file(r, 0, 1, "html", dir);
    assert_xml(p, 0);
    free(p);
    size_t len;
    char *md = render(r, 0, 1, "md", &len);
    ck_assert_ptr_nonnull(strstr(md, "\n\n````text\n"));
    ck_assert(ends_with(md, "\n````\n"));
    free(md);
    char *js = render(r, 0, 1, "json", &len);
    assert_schema(js, len, "hostile");
    ck_assert_ptr_nonnull(strstr(js, "\"decoded_after\": \"\\\"<lambda> & ```\\u0001\\ufffd\\\"\""));
    free(js);
    rm_rf(dir);
    mt_result_free(r);
}
END_TEST

START_TEST(test_check_formats)
{
    char *err = NULL;
    ck_assert_int_eq(mt_export_check_formats(NULL, &err), 0);
    ck_assert_int_eq(mt_export_check_formats("txt,md,html,svg,png,ansi,json", &err), 0);
    ck_assert_int_eq(mt_export_check_formats("json", &err), 0);
    static const char *const bad[][2] = {
        {"txt,pdf", "'pdf'"}, {"", "empty"}, {"txt,", "empty"}, {",txt", "empty"},
        {"TXT", "'TXT'"}, {"txt md", "'txt md'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err = NULL;
        ck_assert_int_eq(mt_export_check_formats(bad[i][0], &err), -1);
        ck_assert_msg(err != NULL && strstr(err, bad[i][1]) != NULL, "\"%s\": %s", bad[i][0],
                      err ? err : "(no message)");
        free(err);
    }
    size_t len;
    mt_step_result *r = fixture();
    ck_assert_ptr_null(mt_export_render("pdf", &fixed_info, &r->regions[0], 1, NULL, &len));
    ck_assert_ptr_null(mt_export_render("json", &fixed_info, &r->regions[0], MT_EXPORT_DIFF,
                                        NULL, &len));
    mt_result_free(r);
}
END_TEST

static mt_lesson *
fixture_lesson(void)
{
    static const char text[] = "# ---\n# title: Fixture\n# ---\n\n"
                               "# %% Install the jump slug=\"install-jump\" tags=[\"patch\"]\n"
                               "pass\n";
    char *err = NULL;
    mt_lesson *l = mt_lesson_parse("lessons/07-trampoline.py", text, strlen(text), &err);
    ck_assert_msg(l != NULL, "%s", err ? err : "");
    return l;
}

/* The API the TUI's `e` key uses: names, counts, --force. */
START_TEST(test_export_step_api)
{
    mt_lesson *l = fixture_lesson();
    mt_step_result *r = fixture();
    char *dir = tmpdir();
    char *sub = mt_xasprintf("%s/deck/dumps", dir);
    char *err = NULL;
    int n = mt_export_step(l, 0, r, sub, NULL, 0, &err);
    /* Without --format: every format but png, three views each, json two. */
    ck_assert_msg(n == 2 * (3 * 5 + 2), "wrote %d: %s", n, err ? err : "");
    char *folder = mt_xasprintf("%s/07-trampoline", sub);
    char **names;
    int k = list_dir(folder, &names);
    ck_assert_int_eq(k, 34);
    for (int i = 0; i < 2; i++) {
        for (int view = 0; view < 3; view++) {
            for (size_t f = 0; f < 6; f++) {
                if (view == MT_EXPORT_DIFF && strcmp(formats[f], "json") == 0) {
                    continue;
                }
                char *want = mt_xasprintf("01-install-jump-%s-%s.%s", r->regions[i].label,
                                          view_names[view], formats[f]);
                int found = 0;
                for (int j = 0; j < k; j++) {
                    found |= strcmp(names[j], want) == 0;
                }
                ck_assert_msg(found, "no %s", want);
                free(want);
            }
        }
    }
    free_names(names, k);

    /* The file holds exactly what mt_export_render gives. */
    char *path = mt_xasprintf("%s/01-install-jump-ast-opt-after.txt", folder);
    size_t len, flen;
    char *want = render(r, 1, 1, "txt", &len);
    char *got = slurp(path, &flen);
    ck_assert_uint_eq(len, flen);
    ck_assert_int_eq(memcmp(want, got, len), 0);
    free(got);

    /* Without force: refused before anything is written. */
    spit(path, "sentinel", 8);
    err = NULL;
    ck_assert_int_eq(mt_export_step(l, 0, r, sub, "json,txt", 0, &err), -1);
    ck_assert_msg(err && strstr(err, "exists") && strstr(err, "--force"), "%s", err);
    free(err);
    got = slurp(path, &flen);
    ck_assert_uint_eq(flen, 8);
    free(got);
    /* With force: replaced. */
    err = NULL;
    ck_assert_int_eq(mt_export_step(l, 0, r, sub, "txt", 1, &err), 6);
    got = slurp(path, &flen);
    ck_assert_uint_eq(flen, len);
    free(got);
    free(want);
    free(path);

    err = NULL;
    ck_assert_int_eq(mt_export_step(l, 0, r, sub, "txt,bmp", 1, &err), -1);
    ck_assert_ptr_nonnull(strstr(err, "bmp"));
    free(err);
    err = NULL;
    ck_assert_int_eq(mt_export_step(l, 3, r, sub, NULL, 1, &err), -1);
    free(err);

    /* A folder under a regular file cannot be made. */
    char *file = mt_xasprintf("%s/plain-file", dir);
    spit(file, "x", 1);
    char *under = mt_xasprintf("%s/sub", file);
    err = NULL;
    ck_assert_int_eq(mt_export_step(l, 0, r, under, NULL, 1, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_null(strchr(err, '\n'));
    free(err);
    free(under);
    free(file);

    free(folder);
    free(sub);
    rm_rf(dir);
    mt_result_free(r);
    mt_lesson_free(l);
}
END_TEST

/* ---- the binary, end to end --------------------------------------------------- */

/* Every file of an export folder checked by its kind; counts per extension
 * of the -before and -after files into before[] / after[]. */
static void
check_export_tree(const char *dir, int before[6], int after[6])
{
    char **stages;
    int ns = list_dir(dir, &stages);
    char **json = NULL;
    int njson = 0;
    for (int s = 0; s < ns; s++) {
        char *p = mt_xasprintf("%s/%s", dir, stages[s]);
        if (strcmp(stages[s], "index.html") == 0) {
            assert_xml(p, 0);
            assert_xml(p, 1);
            free(p);
            continue;
        }
        char **files;
        int nf = list_dir(p, &files);
        int has_stage_json = 0;
        for (int f = 0; f < nf; f++) {
            char *fp = mt_xasprintf("%s/%s", p, files[f]);
            size_t len;
            char *text = slurp(fp, &len);
            ck_assert_ptr_nonnull(text);
            ck_assert_uint_gt(len, 0);
            if (ends_with(files[f], ".json")) {
                json = mt_xrealloc(json, ((size_t)njson + 1) * sizeof *json);
                json[njson++] = mt_xstrdup(fp);
                has_stage_json |= strcmp(files[f], "stage.json") == 0;
            } else if (ends_with(files[f], ".svg")) {
                assert_xml(fp, 0);
            } else if (ends_with(files[f], ".html")) {
                assert_xml(fp, 0);
            } else if (ends_with(files[f], ".md")) {
                ck_assert_ptr_nonnull(strstr(text, "\n```text\n"));
                ck_assert(ends_with(text, "\n```\n"));
            }
            for (int k = 0; k < 6; k++) {
                char *b = mt_xasprintf("-before.%s", formats[k]);
                char *a = mt_xasprintf("-after.%s", formats[k]);
                before[k] += ends_with(files[f], b);
                after[k] += ends_with(files[f], a);
                free(a);
                free(b);
            }
            free(text);
            free(fp);
        }
        ck_assert_msg(has_stage_json, "%s has no stage.json", p);
        free_names(files, nf);
        free(p);
    }
    free_names(stages, ns);
    /* every JSON file against the schema, in one run of the validator */
    char *why = NULL;
    ck_assert_msg(validate_files(json, njson, &why) == 0, "%s", why);
    free(why);
    free_names(json, njson);
}

/* Files below dir, recursively. */
static int counted;
static int
count_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)p;
    (void)st;
    (void)ftw;
    counted += flag == FTW_F;
    return 0;
}

static int
count_files(const char *dir)
{
    counted = 0;
    nftw(dir, count_one, 16, FTW_PHYS);
    return counted;
}

START_TEST(test_e2e_stage1)
{
    char *dir = tmpdir();
    char *out = mt_xasprintf("%s/slides", dir);
    char *o, *e;
    int rc = run_mt(&o, &e, "--export", out, "--stage", "1", NULL);
    ck_assert_msg(rc == 0, "status %d: %s", rc, e);
    ck_assert_str_eq(o, "");
    int n = count_files(out);
    char *summary = mt_xasprintf("ministry-tutor: wrote %d files to %s\n", n, out);
    ck_assert_msg(strstr(e, summary) != NULL, "stderr: %s (want %s)", e, summary);
    free(summary);
    int before[6] = {0}, after[6] = {0};
    check_export_tree(out, before, after);
    for (int k = 0; k < 6; k++) {
        ck_assert_msg(before[k] > 0 && before[k] == after[k], "%s: %d before, %d after",
                      formats[k], before[k], after[k]);
    }
    /* The index links the files and stays self-contained. */
    char *ipath = mt_xasprintf("%s/index.html", out);
    char *index = slurp(ipath, NULL);
    ck_assert_ptr_nonnull(index);
    ck_assert_ptr_nonnull(strstr(index, "href=\"01-refcount/01-meet-two-int-2-after.svg\""));
    /* Stage 1 changes 2's count on 3.11; from 3.12 2 is immortal and no
     * byte of the stage changes. */
    if (PY_VERSION_HEX < 0x030C0000) {
        ck_assert_ptr_nonnull(strstr(index, "<span class=\"changed-byte f1\">"));
    }
    ck_assert_ptr_null(strstr(index, "<script"));
    ck_assert_ptr_null(strstr(index, "<link"));
    ck_assert_ptr_null(strstr(index, "url("));
    free(index);
    free(ipath);
    char **names;
    int ns = list_dir(out, &names);
    ck_assert_int_eq(ns, 2);
    ck_assert_str_eq(names[0], "01-refcount");
    ck_assert_str_eq(names[1], "index.html");
    free_names(names, ns);
    free(o);
    free(e);

    /* --step: that step only, the ones before it run quietly. */
    char *out2 = mt_xasprintf("%s/one", dir);
    rc = run_mt(&o, &e, "--export", out2, "--stage", "1", "--step", "3", "--format", "txt", NULL);
    ck_assert_msg(rc == 0, "status %d: %s", rc, e);
    char *folder = mt_xasprintf("%s/01-refcount", out2);
    ns = list_dir(folder, &names);
    ck_assert_int_ge(ns, 3);
    for (int i = 0; i < ns; i++) {
        ck_assert_msg(strncmp(names[i], "03-", 3) == 0 || strcmp(names[i], "stage.json") == 0,
                      "%s", names[i]);
        ck_assert(ends_with(names[i], ".txt") || strcmp(names[i], "stage.json") == 0);
    }
    free_names(names, ns);
    free(folder);
    free(out2);
    free(o);
    free(e);
    free(out);
    rm_rf(dir);
}
END_TEST

START_TEST(test_e2e_all_stages)
{
    char *o, *e;
    ck_assert_int_eq(run_mt(&o, &e, "--list", NULL), 0);
    int nstages = 0;      /* the stage lines: the interpreters follow a blank line */
    for (const char *p = o; *p >= '0' && *p <= '9'; p = strchr(p, '\n') + 1) {
        nstages++;
    }
    ck_assert_int_ge(nstages, 1);
    free(o);
    free(e);
    char *dir = tmpdir();
    int rc = run_mt(&o, &e, "--export", dir, "--format", "json,txt", NULL);
    ck_assert_msg(rc == 0, "status %d: %s", rc, e);
    char **names;
    int n = list_dir(dir, &names);
    int folders = 0;
    for (int i = 0; i < n; i++) {
        struct stat st;
        char *p = mt_xasprintf("%s/%s", dir, names[i]);
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            folders++;
            ck_assert_msg(names[i][0] >= '0' && names[i][0] <= '9' && names[i][2] == '-', "%s",
                          names[i]);
        }
        free(p);
    }
    ck_assert_int_eq(folders, nstages);
    free_names(names, n);
    int before[6] = {0}, after[6] = {0};
    check_export_tree(dir, before, after);
    ck_assert_int_gt(before[0], 0);
    ck_assert_int_eq(before[2], 0);
    free(o);
    free(e);
    rm_rf(dir);
}
END_TEST

START_TEST(test_e2e_force)
{
    char *dir = tmpdir();
    char *o, *e;
    ck_assert_int_eq(run_mt(&o, &e, "--export", dir, "--stage", "1", "--format", "txt", NULL), 0);
    free(o);
    free(e);
    char *victim = mt_xasprintf("%s/01-refcount/01-meet-two-int-2-after.txt", dir);
    char *index = mt_xasprintf("%s/index.html", dir);
    spit(victim, "sentinel", 8);
    spit(index, "index!", 6);
    /* No --force: status 1, the first existing file named, nothing touched. */
    int rc = run_mt(&o, &e, "--export", dir, "--stage", "1", "--format", "txt,json", NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(e, "exists") != NULL && strstr(e, "--force") != NULL, "%s", e);
    ck_assert_int_eq(count_lines(e), 1);
    size_t len;
    char *t = slurp(victim, &len);
    ck_assert_str_eq(t, "sentinel");
    free(t);
    t = slurp(index, &len);
    ck_assert_str_eq(t, "index!");
    free(t);
    char *json = mt_xasprintf("%s/01-refcount/01-meet-two-int-2-after.json", dir);
    ck_assert_int_ne(access(json, F_OK), 0);
    free(o);
    free(e);
    /* --force: replaced. */
    rc = run_mt(&o, &e, "--export", dir, "--stage", "1", "--format", "txt,json", "--force", NULL);
    ck_assert_msg(rc == 0, "%s", e);
    t = slurp(victim, &len);
    ck_assert_ptr_nonnull(strstr(t, "int-2 · after · PyLongObject at 0x"));
    free(t);
    /* Files are overwritten in place: an older, longer file is cut to the
     * new length, nothing of it left at the end. */
    char *big = mt_xmalloc(200000);
    memset(big, 'x', 200000);
    spit(victim, big, 200000);
    free(big);
    free(o);
    free(e);
    rc = run_mt(&o, &e, "--export", dir, "--stage", "1", "--format", "txt,json", "--force", NULL);
    ck_assert_msg(rc == 0, "%s", e);
    t = slurp(victim, &len);
    ck_assert_uint_lt(len, 200000);
    ck_assert_uint_eq(len, strlen(t));
    ck_assert_ptr_null(strstr(t, "xxxx"));
    free(t);
    ck_assert_int_eq(access(json, F_OK), 0);
    free(json);
    free(o);
    free(e);
    free(victim);
    free(index);
    rm_rf(dir);
}
END_TEST

START_TEST(test_e2e_unwritable)
{
    char *dir = tmpdir();
    char *file = mt_xasprintf("%s/file", dir);
    spit(file, "x", 1);
    char *targets[] = {
        mt_xasprintf("%s/sub", file),          /* under a regular file */
        mt_xasprintf("%s/sub/deeper", file),
        mt_xstrdup(file),                      /* a file, not a folder */
    };
    for (size_t i = 0; i < 3; i++) {
        char *o, *e;
        int rc = run_mt(&o, &e, "--export", targets[i], "--stage", "1", NULL);
        ck_assert_msg(rc == 1, "%s: status %d", targets[i], rc);
        ck_assert_msg(count_lines(e) == 1 && strncmp(e, "ministry-tutor: ", 16) == 0
                          && strstr(e, targets[i]) != NULL,
                      "%s: stderr %s", targets[i], e);
        free(o);
        free(e);
        free(targets[i]);
    }
    free(file);
    rm_rf(dir);
}
END_TEST

START_TEST(test_e2e_bad_format)
{
    char *dir = tmpdir();
    char *o, *e;
    int rc = run_mt(&o, &e, "--export", dir, "--format", "txt,pdf", NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_ptr_nonnull(strstr(e, "'pdf'"));
    char **names;
    int n = list_dir(dir, &names);
    ck_assert_int_eq(n, 0);
    free_names(names, n);
    free(o);
    free(e);
    rm_rf(dir);
}
END_TEST

/* A step that crashes the worker or raises: status 1, the reason on
 * stderr, nothing written. */
START_TEST(test_e2e_step_fails)
{
    static const struct {
        const char *code, *why;
    } cases[] = {
        {"import ctypes\nctypes.string_at(0)\n", "the worker crashed"},
        {"raise ValueError('boom')\n", "it raised"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *dir = tmpdir();
        char *lessons = mt_xasprintf("%s/lessons", dir);
        ck_assert_int_eq(mkdir(lessons, 0755), 0);
        char *text = mt_xasprintf(
            "# ---\n# title: Fails\n# ---\n\n"
            "# %%%% Look slug=\"look\" tags=[\"explore\"] "
            "watch=[{\"expr\": \"id(2)\", \"layout\": \"PyLongObject\", \"label\": \"int-2\"}]\n"
            "x = 1\n\n# %%%% Fail slug=\"fail\" tags=[\"explore\"]\n%s",
            cases[i].code);
        char *path = mt_xasprintf("%s/01-fails.py", lessons);
        spit(path, text, strlen(text));
        char *out = mt_xasprintf("%s/out", dir);
        char *o, *e;
        int rc = run_mt(&o, &e, "--lessons", lessons, "--export", out, NULL);
        ck_assert_msg(rc == 1, "status %d: %s", rc, e);
        ck_assert_msg(strstr(e, cases[i].why) != NULL && strstr(e, "nothing exported") != NULL,
                      "stderr: %s", e);
        ck_assert_msg(access(out, F_OK) != 0, "%s was made", out);
        free(o);
        free(e);
        free(out);
        free(path);
        free(text);
        free(lessons);
        rm_rf(dir);
    }
}
END_TEST

/* The bytes of a txt dump's hex rows ("00000010: 01 ?? …"): returns the
 * count; b[i] = -1 for ??. */
static size_t
txt_bytes(const char *txt, int *b, size_t max)
{
    size_t n = 0;
    for (const char *line = txt; *line;) {
        const char *e = strchr(line, '\n');
        size_t len = e ? (size_t)(e - line) : strlen(line);
        unsigned off;
        char colon;
        if (len >= 10 && sscanf(line, "%8x%c", &off, &colon) == 2 && colon == ':'
            && line[9] == ' ' && off == n) {
            for (size_t i = 0; i < 16 && 10 + 3 * i + 2 <= len; i++) {
                const char *h = line + 10 + 3 * i;
                unsigned v;
                if (h[0] == '?' && h[1] == '?') {
                    b[n++] = -1;
                } else if (h[0] != ' ' && sscanf(h, "%2x", &v) == 1 && n < max) {
                    b[n++] = (int)v;
                } else {
                    break;
                }
            }
        }
        line = e ? e + 1 : line + len;
    }
    return n;
}

/* Where a jump starts in bytes b (n of them) at offset at: its length
 * (E9 rel32: 5, FF 25 00000000 abs64: 14), or 0. */
static size_t
jump_at(const int *b, size_t n, size_t at)
{
    if (at < n && b[at] == 0xe9 && at + 5 <= n) {
        return 5;
    }
    if (at + 14 <= n && b[at] == 0xff && b[at + 1] == 0x25 && b[at + 2] == 0 && b[at + 3] == 0
        && b[at + 4] == 0 && b[at + 5] == 0) {
        return 14;
    }
    return 0;
}

START_TEST(test_e2e_stage7_jump)
{
    char *lesson = mt_xasprintf("%s/lessons/07-trampoline.py", srcdir());
    if (access(lesson, F_OK) != 0) {
        fprintf(stderr, "SKIP test_e2e_stage7_jump: %s does not exist yet\n", lesson);
        free(lesson);
        return;
    }
    free(lesson);
    char *dir = tmpdir();
    char *o, *e;
    int rc = run_mt(&o, &e, "--export", dir, "--stage", "7", "--format", "txt", NULL);
    ck_assert_msg(rc == 0, "status %d: %s", rc, e);
    free(o);
    free(e);
    char *folder = mt_xasprintf("%s/07-trampoline", dir);
    char **names;
    int n = list_dir(folder, &names);
    int patched = 0, pairs = 0;
    for (int i = 0; i < n; i++) {
        if (!ends_with(names[i], "-before.txt")) {
            continue;
        }
        char *pb = mt_xasprintf("%s/%s", folder, names[i]);
        char *pa = mt_xstrdup(pb);
        strcpy(pa + strlen(pa) - strlen("before.txt"), "after.txt");
        size_t lb, la;
        char *tb = slurp(pb, &lb), *ta = slurp(pa, &la);
        ck_assert_msg(tb && ta, "%s has no after", pb);
        /* The region that dumps the folder itself (its name may carry a
         * compiler suffix: optimize_basic_block.lto_priv.0). */
        const char *eol = strchr(ta, '\n');
        const char *sym = strstr(ta, " in " MT_T_FOLDER);
        if (sym != NULL && sym < eol) {
            pairs++;
            int b[4096], a[4096];
            size_t nb = txt_bytes(tb, b, 4096), na = txt_bytes(ta, a, 4096);
            ck_assert_uint_eq(nb, na);
            ck_assert_uint_gt(nb, 0);
            size_t first = nb, last = 0;
            for (size_t k = 0; k < nb; k++) {
                if (a[k] != b[k]) {
                    first = k < first ? k : first;
                    last = k;
                }
            }
            if (first < nb) {
                /* Patch (jump in after) or restore (jump in before): the
                 * bytes differ only inside the jump. */
                size_t ja = jump_at(a, na, first), jb = jump_at(b, nb, first);
                size_t jl = ja ? ja : jb;
                ck_assert_msg(jl > 0, "%s: bytes differ from +%zu but no jump starts there",
                              names[i], first);
                ck_assert_msg(last < first + jl, "%s: +%zu differs, past the %zu-byte jump at +%zu",
                              names[i], last, jl, first);
                patched += ja > 0;
            }
        }
        free(tb);
        free(ta);
        free(pa);
        free(pb);
    }
    ck_assert_msg(pairs > 0, "no " MT_T_FOLDER " region in %s", folder);
    ck_assert_msg(patched > 0, "no step wrote the jump over " MT_T_FOLDER);
    free_names(names, n);
    free(folder);
    rm_rf(dir);
}
END_TEST

Suite *mt_export_suite(void);

/* ---- slides: pairs that line up, context, themes, png, the hand-out ---------- */

/* The size an SVG declares on its root element. */
static void
svg_dims(const char *svg, int *w, int *h)
{
    const char *root = strstr(svg, "<svg ");
    ck_assert_ptr_nonnull(root);
    ck_assert_int_eq(sscanf(strstr(root, " width=\""), " width=\"%d\"", w), 1);
    ck_assert_int_eq(sscanf(strstr(root, " height=\""), " height=\"%d\"", h), 1);
}

/* The y of the text line of each 16-byte row an SVG shows ("00000010:"
 * as its first run), into ys[offset / 16] (-1 where the row is not
 * shown); returns how many rows were found. */
static int
svg_row_ys(const char *svg, int *ys, int max)
{
    for (int i = 0; i < max; i++) {
        ys[i] = -1;
    }
    int found = 0;
    for (const char *p = svg; (p = strstr(p, "<text y=\"")) != NULL; p++) {
        int y;
        ck_assert_int_eq(sscanf(p, "<text y=\"%d\"", &y), 1);
        const char *t = strstr(p, "<tspan");
        const char *end = strstr(p, "</text>");
        if (t == NULL || t > end) {
            continue;
        }
        t = strchr(t, '>') + 1;
        unsigned off;
        char colon;
        if (sscanf(t, "%8x%c", &off, &colon) == 2 && colon == ':' && t[9] == '<'
            && off % 16 == 0 && (int)(off / 16) < max) {
            ys[off / 16] = y;
            found++;
        }
    }
    return found;
}

START_TEST(test_pairs_line_up)
{
    /* Every format's before and after of the fixture: one size, one row
     * layout. */
    mt_step_result *r = fixture();
    for (int i = 0; i < 2; i++) {
        size_t lb, la;
        char *b = render(r, i, 0, "svg", &lb), *a = render(r, i, 1, "svg", &la);
        int wb, hb, wa, ha;
        svg_dims(b, &wb, &hb);
        svg_dims(a, &wa, &ha);
        ck_assert_int_eq(wb, wa);
        ck_assert_int_eq(hb, ha);
        int yb[4], ya[4];
        ck_assert_int_eq(svg_row_ys(b, yb, 4), 2);
        ck_assert_int_eq(svg_row_ys(a, ya, 4), 2);
        for (int k = 0; k < 4; k++) {
            ck_assert_int_eq(yb[k], ya[k]);
        }
        free(b);
        free(a);
        /* The txt has as many lines; the html's box is one size. */
        b = render(r, i, 0, "txt", &lb);
        a = render(r, i, 1, "txt", &la);
        ck_assert_int_eq(count_lines(b), count_lines(a));
        free(b);
        free(a);
        b = render(r, i, 0, "html", &lb);
        a = render(r, i, 1, "html", &la);
        const char *sb = strstr(b, "<pre class=\"mt-dump\" style=\"");
        const char *sa = strstr(a, "<pre class=\"mt-dump\" style=\"");
        ck_assert_ptr_nonnull(sb);
        ck_assert_ptr_nonnull(sa);
        size_t n = strcspn(sb + 28, "\"");
        ck_assert_uint_eq(n, strcspn(sa + 28, "\""));
        ck_assert_int_eq(strncmp(sb + 28, sa + 28, n), 0);
        free(b);
        free(a);
    }
    mt_result_free(r);
}
END_TEST

/* A PyTypeObject-sized region, 26 rows, with one byte changed at 384
 * (as tp_version_tag does), and 8-byte fields all along. */
static mt_step_result *
big_fixture(void)
{
    mt_step_result *r = mt_result_new();
    r->stage = 2;
    r->nregions = 1;
    r->regions = mt_xcalloc(1, sizeof *r->regions);
    mt_region_result *g = &r->regions[0];
    g->label = mt_xstrdup("int-type");
    g->expr = mt_xstrdup("int");
    g->layout = mt_xstrdup("PyTypeObject");
    g->symbol = mt_xstrdup("PyLong_Type");
    g->address = INT_ADDR;
    g->len = 416;
    g->before = mt_xcalloc(g->len, 1);
    g->after = mt_xcalloc(g->len, 1);
    g->ok_before = mt_xmalloc(g->len);
    g->ok_after = mt_xmalloc(g->len);
    memset(g->ok_before, 1, g->len);
    memset(g->ok_after, 1, g->len);
    g->before[384] = 0x1b;
    g->after[384] = 0xb6;
    g->nfields = 52;
    g->fields = mt_xcalloc(52, sizeof *g->fields);
    for (uint32_t f = 0; f < 52; f++) {
        char name[16];
        snprintf(name, sizeof name, "tp_f%u", f);
        set_field(&g->fields[f], name, 8 * f, 8, MT_FK_HEX, 0, f == 48 ? "0x1b" : "0",
                  f == 48 ? "0xb6" : "0", "", "");
    }
    return r;
}

/* Lines of txt that are rows of bytes ("000001a0: ..."). */
static int
byte_rows(const char *txt)
{
    int n = 0;
    for (const char *line = txt; *line;) {
        unsigned off;
        char colon;
        n += strchr("0123456789abcdef", *line) != NULL && sscanf(line, "%8x%c", &off, &colon) == 2
             && colon == ':';
        const char *e = strchr(line, '\n');
        line = e ? e + 1 : line + strlen(line);
    }
    return n;
}

START_TEST(test_context)
{
    mt_step_result *r = big_fixture();
    mt_export_opts o = MT_EXPORT_OPTS_DEFAULT;
    size_t len;
    /* --context 1 on a one-byte change: three rows, the rest elided, and
     * only the fields of those rows. */
    o.context = 1;
    char *t = render_with(r, 0, 1, "txt", &o, &len);
    ck_assert_int_le(byte_rows(t), 5);
    ck_assert_int_eq(byte_rows(t), 3);
    ck_assert_ptr_nonnull(strstr(t, "\n00000170: "));
    ck_assert_ptr_nonnull(strstr(t, "\n00000180: "));
    ck_assert_ptr_nonnull(strstr(t, "\n00000190: "));
    ck_assert_ptr_nonnull(strstr(t, "⋮ 23 rows not shown\n"));
    ck_assert_ptr_nonnull(strstr(t, "⋮ 46 fields not shown\n"));
    ck_assert_ptr_nonnull(strstr(t, "tp_f48"));
    ck_assert_ptr_nonnull(strstr(t, "0xb6  * was 0x1b"));
    ck_assert_ptr_null(strstr(t, "tp_f45 "));
    free(t);
    /* The picture is small: header, 3 rows, marker, elision, table. */
    char *svg = render_with(r, 0, 1, "svg", &o, &len);
    int w, h;
    svg_dims(svg, &w, &h);
    ck_assert_int_le(h, 2 * 12 + 20 * 16);
    free(svg);
    /* The json keeps every byte whatever the context. */
    char *js = render_with(r, 0, 1, "json", &o, &len);
    json_t *v = parse_json(js, len);
    const json_t *reg = json_object_get(v, "region");
    ck_assert_uint_eq(strlen(str_at(reg, "after")), 2 * 416);
    ck_assert_uint_eq(json_array_size(json_object_get(reg, "fields")), 52);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(reg, "picture"),
                                                        "context")), 1);
    json_decref(v);
    free(js);

    /* The default: 26 rows is more than 8, so the change and 2 rows either
     * side (rows 22..25); --context 0 the changed row; all every row. */
    o.context = MT_VIEW_CONTEXT_AUTO;
    t = render_with(r, 0, 0, "txt", &o, &len);
    ck_assert_msg(byte_rows(t) == 4, "%s", t);
    free(t);
    o.context = 0;
    t = render_with(r, 0, 1, "txt", &o, &len);
    ck_assert_int_eq(byte_rows(t), 1);
    free(t);
    o.context = MT_VIEW_CONTEXT_ALL;
    t = render_with(r, 0, 1, "txt", &o, &len);
    ck_assert_int_eq(byte_rows(t), 26);
    ck_assert_ptr_null(strstr(t, "not shown"));
    free(t);
    /* Nothing changed: shown whole. */
    r->regions[0].after[384] = 0x1b;
    o.context = 1;
    t = render_with(r, 0, 1, "txt", &o, &len);
    ck_assert_int_eq(byte_rows(t), 26);
    free(t);
    mt_result_free(r);

    /* A small region (2 rows) is whole by default. */
    r = fixture();
    t = render(r, 0, 1, "txt", &len);
    ck_assert_int_eq(byte_rows(t), 2);
    free(t);
    mt_result_free(r);
}
END_TEST

START_TEST(test_theme_light)
{
    mt_step_result *r = fixture();
    mt_export_opts o = MT_EXPORT_OPTS_DEFAULT;
    o.theme = MT_THEME_LIGHT;
    const mt_palette *lp = mt_palette_of(MT_THEME_LIGHT), *dp = mt_palette_of(MT_THEME_DARK);
    size_t len;
    char *svg = render_with(r, 0, 1, "svg", &o, &len);
    char *bg = mt_xasprintf("<rect width=\"699\" height=\"244\" fill=\"%s\"/>", lp->bg.rgb);
    ck_assert_msg(strstr(svg, bg) != NULL, "no light background %s", bg);
    free(bg);
    char *text = mt_xasprintf("<text y=\"27\" fill=\"%s\"", lp->fg.rgb);
    ck_assert_ptr_nonnull(strstr(svg, text));
    free(text);
    /* The changed byte: background-coloured text on its field's colour. */
    char *box = mt_xasprintf("fill=\"%s\"/>", lp->fields[0].rgb);
    ck_assert_ptr_nonnull(strstr(svg, box));
    free(box);
    char *dark = mt_xasprintf("<rect width=\"699\" height=\"244\" fill=\"%s\"/>", dp->bg.rgb);
    ck_assert_ptr_null(strstr(svg, dark));
    free(dark);
    ck_assert_ptr_null(strstr(svg, dp->roles[MT_R_HEADING].rgb));
    free(svg);
    char *html = render_with(r, 0, 1, "html", &o, &len);
    char *rule = mt_xasprintf("background:%s;color:%s;", lp->bg.rgb, lp->fg.rgb);
    ck_assert_ptr_nonnull(strstr(html, rule));
    free(rule);
    rule = mt_xasprintf("background:%s;color:%s;", dp->bg.rgb, dp->fg.rgb);
    ck_assert_ptr_null(strstr(html, rule));
    free(rule);
    free(html);
    char *ansi = render_with(r, 0, 1, "ansi", &o, &len);
    char *sgr = mt_xasprintf("38;5;%dm", lp->roles[MT_R_HEADING].fg);
    ck_assert_ptr_nonnull(strstr(ansi, sgr));
    free(sgr);
    free(ansi);
    mt_result_free(r);
}
END_TEST

/* A PNG's size, read back by cairo (the library that wrote it). */
static cairo_status_t
png_read(void *closure, unsigned char *data, unsigned int length)
{
    const char **p = closure;
    memcpy(data, *p, length);
    *p += length;
    return CAIRO_STATUS_SUCCESS;
}

static void
png_dims(const char *png, size_t len, int *w, int *h)
{
    ck_assert_uint_gt(len, 33);
    ck_assert_int_eq(memcmp(png, "\x89PNG\r\n\x1a\n", 8), 0);
    ck_assert_int_eq(memcmp(png + 12, "IHDR", 4), 0);
    const char *p = png;
    cairo_surface_t *s = cairo_image_surface_create_from_png_stream(png_read, &p);
    ck_assert_int_eq(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    ck_assert_uint_le((size_t)(p - png), len);
    *w = cairo_image_surface_get_width(s);
    *h = cairo_image_surface_get_height(s);
    /* The header says the same as the decoder. */
    const unsigned char *u = (const unsigned char *)png + 16;
    ck_assert_int_eq(*w, u[0] << 24 | u[1] << 16 | u[2] << 8 | u[3]);
    ck_assert_int_eq(*h, u[4] << 24 | u[5] << 16 | u[6] << 8 | u[7]);
    cairo_surface_destroy(s);
}

START_TEST(test_png)
{
    mt_step_result *r = fixture();
    mt_export_opts o = MT_EXPORT_OPTS_DEFAULT;
    for (int scale = 1; scale <= 3; scale++) {
        o.scale = scale;
        for (int i = 0; i < 2; i++) {
            for (int view = 0; view < 3; view++) {
                size_t slen, plen;
                char *svg = render_with(r, i, view, "svg", &o, &slen);
                char *png = render_with(r, i, view, "png", &o, &plen);
                int sw, sh, pw, ph;
                svg_dims(svg, &sw, &sh);
                png_dims(png, plen, &pw, &ph);
                ck_assert_int_eq(pw, sw * scale);
                ck_assert_int_eq(ph, sh * scale);
                free(svg);
                free(png);
            }
        }
    }
    /* The picture is drawn, not blank: the dark background in the corner,
     * some pixel of a heading's colour. */
    o.scale = 1;
    size_t plen;
    char *png = render_with(r, 0, 1, "png", &o, &plen);
    const char *p = png;
    cairo_surface_t *s = cairo_image_surface_create_from_png_stream(png_read, &p);
    const unsigned char *px = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    uint32_t corner = *(const uint32_t *)px & 0xffffff;
    ck_assert_uint_eq(corner, 0x1c1c1c);
    int heading = 0;
    for (int y = 12; y < 32; y++) {
        for (int x = 12; x < 60; x++) {
            heading |= (*(const uint32_t *)(px + y * stride + 4 * x) & 0xffffff) == 0xffd700;
        }
    }
    ck_assert_msg(heading, "no pixel of the heading's #ffd700 where 'int-2' is drawn");
    cairo_surface_destroy(s);
    free(png);
    mt_result_free(r);
}
END_TEST

/* Every region of every stage: before and after SVGs of one size with
 * every row of bytes at the same y, and their json row layouts equal. */
static void
check_pairs_tree(const char *dir, int *pairs)
{
    char **stages;
    int ns = list_dir(dir, &stages);
    for (int s = 0; s < ns; s++) {
        if (strcmp(stages[s], "index.html") == 0) {
            continue;
        }
        char *folder = mt_xasprintf("%s/%s", dir, stages[s]);
        char **files;
        int nf = list_dir(folder, &files);
        for (int f = 0; f < nf; f++) {
            if (!ends_with(files[f], "-before.svg")) {
                continue;
            }
            size_t stem = strlen(files[f]) - strlen("-before.svg");
            char *bp = mt_xasprintf("%s/%s", folder, files[f]);
            char *ap = mt_xasprintf("%s/%.*s-after.svg", folder, (int)stem, files[f]);
            char *bj = mt_xasprintf("%s/%.*s-before.json", folder, (int)stem, files[f]);
            char *aj = mt_xasprintf("%s/%.*s-after.json", folder, (int)stem, files[f]);
            char *b = slurp(bp, NULL), *a = slurp(ap, NULL);
            ck_assert_msg(b != NULL && a != NULL, "%s: no pair", bp);
            int wb, hb, wa, ha;
            svg_dims(b, &wb, &hb);
            svg_dims(a, &wa, &ha);
            ck_assert_msg(wb == wa && hb == ha, "%s: %dx%d, after %dx%d", bp, wb, hb, wa, ha);
            enum { MAXROWS = 4096 };
            int *yb = mt_xcalloc(MAXROWS, sizeof *yb), *ya = mt_xcalloc(MAXROWS, sizeof *ya);
            int nb = svg_row_ys(b, yb, MAXROWS), na = svg_row_ys(a, ya, MAXROWS);
            ck_assert_int_gt(nb, 0);
            ck_assert_int_eq(nb, na);
            /* The json says where the rows are: the same for both, and
             * where the SVG drew them (text baseline 15 px below the top). */
            size_t lb = 0, la = 0;
            char *jbt = slurp(bj, &lb), *jat = slurp(aj, &la);
            json_t *jb = parse_json(jbt, lb), *ja = parse_json(jat, la);
            const json_t *pb = json_object_get(json_object_get(jb, "region"), "picture");
            const json_t *pa = json_object_get(json_object_get(ja, "region"), "picture");
            ck_assert_int_eq(json_integer_value(json_object_get(pb, "width")), wb);
            ck_assert_int_eq(json_integer_value(json_object_get(pb, "height")), hb);
            const json_t *rb = json_object_get(pb, "rows"), *ra = json_object_get(pa, "rows");
            ck_assert_uint_eq(json_array_size(rb), json_array_size(ra));
            int bytes_rows = 0;
            for (size_t k = 0; k < json_array_size(rb); k++) {
                const json_t *ib = json_array_get(rb, k), *ia = json_array_get(ra, k);
                ck_assert_str_eq(str_at(ib, "kind"), str_at(ia, "kind"));
                int y = (int)json_integer_value(json_object_get(ib, "y"));
                ck_assert_int_eq(y, (int)json_integer_value(json_object_get(ia, "y")));
                if (strcmp(str_at(ib, "kind"), "bytes") == 0) {
                    int off = (int)json_integer_value(json_object_get(ib, "offset"));
                    ck_assert_int_lt(off / 16, MAXROWS);
                    ck_assert_msg(yb[off / 16] == y + 15 && ya[off / 16] == y + 15,
                                  "%s: row %x at y %d (before) and %d (after), json says %d",
                                  bp, off, yb[off / 16], ya[off / 16], y + 15);
                    bytes_rows++;
                }
            }
            ck_assert_int_eq(bytes_rows, nb);
            for (int k = 0; k < MAXROWS; k++) {
                ck_assert_int_eq(yb[k], ya[k]);
            }
            (*pairs)++;
            json_decref(jb);
            json_decref(ja);
            free(jbt);
            free(jat);
            free(yb);
            free(ya);
            free(b);
            free(a);
            free(bp);
            free(ap);
            free(bj);
            free(aj);
        }
        free_names(files, nf);
        free(folder);
    }
    free_names(stages, ns);
}

START_TEST(test_e2e_pairs_every_stage)
{
    static const char *const contexts[] = {NULL, "all"};
    for (size_t c = 0; c < 2; c++) {
        char *dir = tmpdir();
        char *o, *e;
        int rc = contexts[c] ? run_mt(&o, &e, "--export", dir, "--format", "svg,json",
                                      "--context", contexts[c], NULL)
                             : run_mt(&o, &e, "--export", dir, "--format", "svg,json", NULL);
        ck_assert_msg(rc == 0, "status %d: %s", rc, e);
        int pairs = 0;
        check_pairs_tree(dir, &pairs);
        ck_assert_int_ge(pairs, 20);
        free(o);
        free(e);
        rm_rf(dir);
    }
}
END_TEST

START_TEST(test_e2e_png_and_theme)
{
    /* --format svg,png: a valid PNG beside every SVG, twice its size;
     * --theme light: SVGs on the light background. */
    char *dir = tmpdir();
    char *o, *e;
    int rc = run_mt(&o, &e, "--export", dir, "--stage", "1", "--format", "svg,png", "--theme",
                    "light", NULL);
    ck_assert_msg(rc == 0, "status %d: %s", rc, e);
    char *folder = mt_xasprintf("%s/01-refcount", dir);
    char **files;
    int nf = list_dir(folder, &files), pngs = 0;
    char *light = mt_xasprintf("fill=\"%s\"/>", mt_palette_of(MT_THEME_LIGHT)->bg.rgb);
    for (int f = 0; f < nf; f++) {
        if (!ends_with(files[f], ".svg")) {
            continue;
        }
        char *sp = mt_xasprintf("%s/%s", folder, files[f]);
        char *pp = mt_xasprintf("%s/%.*s.png", folder, (int)strlen(files[f]) - 4, files[f]);
        size_t plen;
        char *svg = slurp(sp, NULL), *png = slurp(pp, &plen);
        ck_assert_msg(png != NULL, "no %s", pp);
        ck_assert_ptr_nonnull(strstr(svg, light));
        int sw, sh, pw, ph;
        svg_dims(svg, &sw, &sh);
        png_dims(png, plen, &pw, &ph);
        ck_assert_int_eq(pw, 2 * sw);
        ck_assert_int_eq(ph, 2 * sh);
        pngs++;
        free(svg);
        free(png);
        free(sp);
        free(pp);
    }
    ck_assert_int_gt(pngs, 0);
    free(light);
    free_names(files, nf);
    free(folder);
    free(o);
    free(e);
    rm_rf(dir);
}
END_TEST

START_TEST(test_e2e_slide_options)
{
    static const char *const bad[][3] = {
        {"--context", "some", "--context"}, {"--context", "-1", "--context"},
        {"--scale", "0", "--scale"},        {"--scale", "9", "--scale"},
        {"--theme", "solarized", "--theme"},
    };
    char *dir = tmpdir();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *o, *e;
        int rc = run_mt(&o, &e, "--export", dir, bad[i][0], bad[i][1], NULL);
        ck_assert_msg(rc == 2, "%s %s: status %d", bad[i][0], bad[i][1], rc);
        ck_assert_msg(strstr(e, bad[i][2]) != NULL && strstr(e, bad[i][1]) != NULL, "%s", e);
        free(o);
        free(e);
    }
    char *o, *e;
    ck_assert_int_eq(run_mt(&o, &e, "--plain", "--context", "2", NULL), 2);
    free(o);
    free(e);
    setenv("MINISTRY_THEME", "sepia", 1);
    ck_assert_int_eq(run_mt(&o, &e, "--export", dir, NULL), 2);
    ck_assert_ptr_nonnull(strstr(e, "MINISTRY_THEME='sepia'"));
    free(o);
    free(e);
    /* The environment's theme is the default; --theme wins over it. */
    setenv("MINISTRY_THEME", "light", 1);
    char *d1 = mt_xasprintf("%s/env", dir), *d2 = mt_xasprintf("%s/flag", dir);
    ck_assert_int_eq(run_mt(&o, &e, "--export", d1, "--stage", "1", "--step", "1", "--format",
                            "svg", NULL), 0);
    free(o);
    free(e);
    ck_assert_int_eq(run_mt(&o, &e, "--export", d2, "--stage", "1", "--step", "1", "--format",
                            "svg", "--theme", "dark", NULL), 0);
    free(o);
    free(e);
    unsetenv("MINISTRY_THEME");
    char *p1 = mt_xasprintf("%s/01-refcount/01-meet-two-int-2-before.svg", d1);
    char *p2 = mt_xasprintf("%s/01-refcount/01-meet-two-int-2-before.svg", d2);
    char *s1 = slurp(p1, NULL), *s2 = slurp(p2, NULL);
    ck_assert_ptr_nonnull(s1);
    ck_assert_ptr_nonnull(s2);
    ck_assert_ptr_nonnull(strstr(s1, "fill=\"#ffffff\"/>"));
    ck_assert_ptr_nonnull(strstr(s2, "fill=\"#1c1c1c\"/>"));
    free(s1);
    free(s2);
    free(p1);
    free(p2);
    free(d1);
    free(d2);
    rm_rf(dir);
}
END_TEST

/* ---- index.html in a real browser ------------------------------------------- */

/* What a page says about itself once laid out at width × 900 in headless
 * Chromium: "scrollWidth clientWidth;" then, per pair, the before's and
 * after's <pre> boxes "left,top,width,height,left,top,width,height". */
static char *
chromium_probe(const char *page, int width)
{
    static const char probe[] =
        "<script>window.addEventListener('load',function(){"
        "var d=document.documentElement,r=[];"
        "document.querySelectorAll('.pair').forEach(function(p){"
        "var q=p.querySelectorAll('pre'),a=q[0].getBoundingClientRect(),"
        "b=q[1].getBoundingClientRect();"
        "r.push([a.left,a.top,a.width,a.height,b.left,b.top,b.width,b.height]"
        ".map(Math.round).join(','));});"
        "document.body.setAttribute('data-probe',d.scrollWidth+' '+d.clientWidth+';'"
        "+r.join(';'));});</script>";
    char *html = slurp(page, NULL);
    ck_assert_ptr_nonnull(html);
    char *body = strstr(html, "</body>");
    ck_assert_ptr_nonnull(body);
    char *dir = tmpdir();
    char *probed = mt_xasprintf("%s/probe.html", dir);
    char *with = mt_xasprintf("%.*s%s%s", (int)(body - html), html, probe, body);
    spit(probed, with, strlen(with));
    char *profile = mt_xasprintf("%s/profile", dir);
    char *udd = mt_xasprintf("--user-data-dir=%s", profile);
    char *size = mt_xasprintf("--window-size=%d,900", width);
    char *url = mt_xasprintf("file://%s", probed);
    char *argv[] = {"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", udd, size,
                    "--virtual-time-budget=5000", "--dump-dom", url, NULL};
    char *out, *err;
    int rc = run_argv(argv, &out, &err);
    ck_assert_msg(rc == 0, "chromium: status %d: %.500s", rc, err);
    char *at = strstr(out, "data-probe=\"");
    ck_assert_msg(at != NULL, "chromium did not run the probe: %.300s", err);
    at += 12;
    char *res = mt_xstrndup(at, strcspn(at, "\""));
    free(out);
    free(err);
    free(url);
    free(size);
    free(udd);
    free(profile);
    free(with);
    free(probed);
    free(html);
    rm_rf(dir);
    return res;
}

START_TEST(test_e2e_index_in_chromium)
{
    char *dir = tmpdir();
    char *o, *e;
    /* Stage 2 holds PyTypeObject, the widest dump. */
    int rc = run_mt(&o, &e, "--export", dir, "--stage", "2", "--format", "html,svg", NULL);
    ck_assert_msg(rc == 0, "status %d: %s", rc, e);
    free(o);
    free(e);
    char *page = mt_xasprintf("%s/index.html", dir);
    static const int widths[] = {1280, 1920, 800};
    for (size_t w = 0; w < 3; w++) {
        char *res = chromium_probe(page, widths[w]);
        int sw, cw, used;
        ck_assert_int_eq(sscanf(res, "%d %d;%n", &sw, &cw, &used), 2);
        /* No horizontal scrolling: the page is no wider than the window. */
        ck_assert_msg(sw <= cw, "at %d px the page is %d px wide in a %d px viewport", widths[w],
                      sw, cw);
        int pairs = 0;
        for (const char *p = res + used; *p;) {
            int b[4], a[4], n;
            ck_assert_int_eq(sscanf(p, "%d,%d,%d,%d,%d,%d,%d,%d%n", &b[0], &b[1], &b[2], &b[3],
                                    &a[0], &a[1], &a[2], &a[3], &n), 8);
            /* One size; side by side at the same height from 900 px up,
             * else one above the other. */
            ck_assert_int_eq(b[2], a[2]);
            ck_assert_int_eq(b[3], a[3]);
            if (widths[w] > 900) {
                ck_assert_msg(b[1] == a[1] && a[0] >= b[0] + b[2],
                              "at %d px: before at %d,%d, after at %d,%d", widths[w], b[0], b[1],
                              a[0], a[1]);
            } else {
                ck_assert_int_eq(b[0], a[0]);
                ck_assert_int_ge(a[1], b[1] + b[3]);
            }
            pairs++;
            p += n;
            p += *p == ';';
        }
        ck_assert_int_ge(pairs, 5);
        free(res);
    }
    free(page);
    rm_rf(dir);
}
END_TEST

Suite *
mt_export_suite(void)
{
    Suite *s = suite_create("export");
    TCase *g = tcase_create("golden");
    tcase_set_timeout(g, 30);
    tcase_add_test(g, test_golden_txt);
    tcase_add_test(g, test_golden_md);
    tcase_add_test(g, test_golden_html);
    tcase_add_test(g, test_golden_svg);
    tcase_add_test(g, test_golden_ansi);
    tcase_add_test(g, test_golden_json);
    tcase_add_test(g, test_schema_rejects);
    tcase_add_test(g, test_schema_doc_example);
    tcase_add_test(g, test_hostile_text);
    tcase_add_test(g, test_check_formats);
    tcase_add_test(g, test_export_step_api);
    tcase_add_test(g, test_pairs_line_up);
    tcase_add_test(g, test_context);
    tcase_add_test(g, test_theme_light);
    tcase_add_test(g, test_png);
    suite_add_tcase(s, g);
    TCase *e = tcase_create("binary");
    tcase_set_timeout(e, 120);
    tcase_add_test(e, test_e2e_stage1);
    tcase_add_test(e, test_e2e_all_stages);
    tcase_add_test(e, test_e2e_force);
    tcase_add_test(e, test_e2e_unwritable);
    tcase_add_test(e, test_e2e_bad_format);
    tcase_add_test(e, test_e2e_step_fails);
    tcase_add_test(e, test_e2e_stage7_jump);
    tcase_add_test(e, test_e2e_pairs_every_stage);
    tcase_add_test(e, test_e2e_png_and_theme);
    tcase_add_test(e, test_e2e_slide_options);
    tcase_add_test(e, test_e2e_index_in_chromium);
    suite_add_tcase(s, e);
    return s;
}
