/* check_truth.c — the facts the lessons state, checked against the
 * interpreter itself rather than against the lessons' own printing: where
 * 2's count starts, how many misses a specialised instruction takes, what
 * BINARY_OP_ADD_INT checks, who makes a ctypes callback's page r-xs, how
 * long a code object's bytecode is, and what a cached .pyc keeps. */
#define PY_SSIZE_T_CLEAN
#include <patchlevel.h>
/* The internal header gives 3.11's starting count of static objects,
 * _PyObject_IMMORTAL_INIT; it needs Py_BUILD_CORE. */
#if PY_VERSION_HEX < 0x030C0000
#define Py_BUILD_CORE 1
#endif
#include <Python.h>
#if PY_VERSION_HEX < 0x030C0000
#include <internal/pycore_object.h>
#endif

#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "pyver.h"
#include "layout.h"
#include "result.h"
#include "symbols.h"
#include "util.h"
#include "doc.h"
#include "view.h"

/* ---- helpers ------------------------------------------------------------ */

/* Move the open stage forward to step `slug` (none of the steps on the way
 * may fail); the caller frees the result. */
static mt_step_result *
run_to(mt_session *s, const mt_app *app, int n, const char *slug)
{
    int k = mt_test_step(app, n, slug);
    mt_step_result *r = mt_session_goto(s, mt_test_stage(app, n), k);
    ck_assert_msg(r->status == MT_ST_OK && r->step == k, "stage %d to step %s failed:\n%s%s%s",
                  n, slug, r->err, r->traceback, r->notes);
    return r;
}

static const mt_region_result *
region(const mt_step_result *r, const char *label)
{
    for (uint32_t i = 0; i < r->nregions; i++) {
        if (strcmp(r->regions[i].label, label) == 0) {
            return &r->regions[i];
        }
    }
    ck_abort_msg("step %d has no region labelled %s", r->step + 1, label);
    return NULL;
}

/* Field `name` of g, or NULL. */
static const mt_field_result *
field_or_null(const mt_region_result *g, const char *name)
{
    for (uint32_t i = 0; i < g->nfields; i++) {
        if (strcmp(g->fields[i].name, name) == 0) {
            return &g->fields[i];
        }
    }
    return NULL;
}

static const mt_field_result *
field(const mt_region_result *g, const char *name)
{
    const mt_field_result *f = field_or_null(g, name);
    ck_assert_msg(f != NULL, "region %s has no field %s", g->label, name);
    return f;
}

static void
has(const char *text, const char *want)
{
    ck_assert_msg(strstr(text, want) != NULL, "expected \"%s\" in:\n%s", want, text);
}

/* The integer that follows the first `prefix` in text. */
static long long
number_after(const char *text, const char *prefix)
{
    const char *p = strstr(text, prefix);
    ck_assert_msg(p != NULL, "no \"%s\" in:\n%s", prefix, text);
    char *end;
    long long v = strtoll(p + strlen(prefix), &end, 10);
    ck_assert_msg(end != p + strlen(prefix), "no number after \"%s\" in:\n%s", prefix, text);
    return v;
}

/* The line of text holding needle, as a new string. */
static char *
line_with(const char *text, const char *needle)
{
    const char *p = strstr(text, needle);
    ck_assert_msg(p != NULL, "no line with \"%s\" in:\n%s", needle, text);
    const char *b = p, *e = p;
    while (b > text && b[-1] != '\n') {
        b--;
    }
    while (*e && *e != '\n') {
        e++;
    }
    return mt_xasprintf("%.*s", (int)(e - b), b);
}

/* One prompt line in the stage's namespace, its stdout as a number. */
static long long
prompt_number(mt_session *s, const char *src)
{
    char *out = mt_test_prompt(s, src, 0);
    char *end;
    long long v = strtoll(out, &end, 10);
    ck_assert_msg(end != out, "`%s` printed \"%s\", not a number", src, out);
    free(out);
    return v;
}

/* Run `script` with the system's python3.11 (the same CPython, as a plain
 * process: no host, no seccomp filter of ours unless this process has
 * one); returns its stdout and stderr (malloc'ed). */
static char *
stock_python(const char *script)
{
    char path[] = "/tmp/mt-truth-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, script, strlen(script)), (ssize_t)strlen(script));
    close(fd);
    char *cmd = mt_xasprintf("'%s' -I '%s' 2>&1", MT_PY_PROGRAM, path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    mt_str b = {0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
        mt_str_addn(&b, buf, n);
    }
    int st = pclose(p);
    unlink(path);
    free(cmd);
    char *out = mt_str_take(&b);
    ck_assert_msg(st == 0, "%s failed:\n%s", MT_PY_PROGRAM, out);
    return out;
}

/* This process's seccomp mode from /proc/self/status (0: none, 2: filter). */
static int
own_seccomp_mode(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    ck_assert_ptr_nonnull(f);
    char line[256];
    int mode = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "Seccomp: %d", &mode) == 1) {
            break;
        }
    }
    fclose(f);
    return mode;
}

/* The value a ctypes callback's page has, as a script prints it. */
static const char callback_page_py[] =
    "import ctypes\n"
    "cb = ctypes.CFUNCTYPE(ctypes.c_int)(lambda: 1)\n"
    "at = ctypes.cast(cb, ctypes.c_void_p).value\n"
    "for line in open('/proc/self/maps'):\n"
    "    lo, hi = (int(x, 16) for x in line.split()[0].split('-'))\n"
    "    if lo <= at < hi:\n"
    "        print('page', line.split()[1], line.split()[5:])\n"
    "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('Seccomp:')])\n";

#if PY_VERSION_HEX < 0x030C0000   /* 3.11's opnames and miss counter */
/* The adaptive bytecode's first cache entry after the instruction `op` of
 * f: the counter of misses left (CPython keeps it first in every cache). */
static const char counter_py[] =
    "import dis\n"
    "def first_cache(f, op):\n"
    "    i = next(i for i in dis.get_instructions(f, adaptive=True) if i.opname == op)\n"
    "    return int.from_bytes(f.__code__._co_code_adaptive[i.offset + 2:i.offset + 4],"
    " 'little')\n";
#endif

/* ---- stage 1: where 2's count starts ------------------------------------ */

/* The file offset of address a in its mapping, and the file's path. */
static int
file_of(uintptr_t a, char *path, size_t pn, off_t *off)
{
    FILE *f = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    int found = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long lo, hi, fo;
        char p[512] = "";
        if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %511s", &lo, &hi, &fo, p) >= 3
            && lo <= a && a < hi && p[0] == '/') {
            snprintf(path, pn, "%s", p);
            *off = (off_t)(fo + (a - lo));
            found = 0;
            break;
        }
    }
    fclose(f);
    return found;
}

START_TEST(test_refcount_start)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);

    /* The printed counts are the dump's plus the cell's own code object,
     * which holds the constant 2 while it runs. */
    mt_step_result *r = run_to(s, &app, 1, "take-refs");
    const mt_field_result *rc = field(region(r, "int-2"), "ob_refcnt");
    long long dump_before = strtoll(rc->value_before, NULL, 10);
    long long dump_after = strtoll(rc->value_after, NULL, 10);
    long long said_before = number_after(r->out, "ob_refcnt went from ");
    long long said_after = number_after(r->out, " to ");
#if PY_VERSION_HEX < 0x030C0000
    const long long held = 1;
#else
    const long long held = 0;    /* immortal: references do not count */
#endif
    ck_assert_int_eq(said_before - dump_before, held);
    ck_assert_int_eq(said_after - dump_after, held);
    has(r->out, "holds 2 in its co_consts: True");
    mt_result_free(r);

    /* The starting count: what the library file holds for 2, read here
     * without the lesson's help, and on 3.11 the header's constant. */
    r = run_to(s, &app, 1, "billion");
    long long start = number_after(r->out, "the file holds its ob_refcnt as ");
    long long live = number_after(r->out, "the live ob_refcnt is ");
    long long diff = number_after(r->out, "difference: ");
    ck_assert_int_eq(diff, live - start);

    PyObject *two = PyLong_FromLong(2);
    char path[512];
    off_t off;
    ck_assert_int_eq(file_of((uintptr_t)two, path, sizeof path, &off), 0);
    Py_DECREF(two);
    FILE *lib = fopen(path, "rb");
    ck_assert_ptr_nonnull(lib);
    Py_ssize_t on_disk = 0;
    ck_assert_int_eq(fseeko(lib, off, SEEK_SET), 0);
    ck_assert_uint_eq(fread(&on_disk, sizeof on_disk, 1, lib), 1);
    fclose(lib);
    ck_assert_int_eq(start, on_disk);
#if PY_VERSION_HEX < 0x030C0000
    PyObject init = _PyObject_IMMORTAL_INIT(&PyLong_Type);
    ck_assert_int_eq(start, init.ob_refcnt);
    ck_assert_int_gt(diff, 0);
#else
    ck_assert_int_eq(diff, 0);
#endif
    mt_result_free(r);
    free(mt_test_leave(s));
    mt_session_free(s);
}
END_TEST

/* ---- stage 2: the misses of a warm method lookup ------------------------ */

#if PY_VERSION_HEX < 0x030C0000   /* 3.11's opnames and miss counter */
START_TEST(test_method_misses)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    mt_result_free(run_to(s, &app, 2, "witnesses"));
    free(mt_test_prompt(s, counter_py, 0));
    long long left_m = prompt_number(s, "print(first_cache(method_add, 'LOAD_METHOD_NO_DICT'))");
    long long left_c = prompt_number(s, "print(first_cache(class_add, 'LOAD_METHOD_CLASS'))");
    ck_assert_int_eq(left_m, 53);      /* Python/specialize.c, miss_counter_start() */
    ck_assert_int_eq(left_c, 53);

    mt_step_result *r = run_to(s, &app, 2, "type-modified");
    char *l = line_with(r->out, "method_add(2, 2) gave {5}");
    ck_assert_int_eq(number_after(l, "missed "), left_m);
    has(l, "became LOAD_METHOD_ADAPTIVE");
    has(l, "later LOAD_METHOD_NO_DICT");
    free(l);
    l = line_with(r->out, "class_add(2, 2) gave {5}");
    ck_assert_int_eq(number_after(l, "missed "), left_c);
    free(l);
    mt_result_free(r);
    free(mt_test_leave(s));
    mt_session_free(s);
}
END_TEST
#endif

START_TEST(test_forbiddenfruit_and_method_cache)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    mt_step_result *r = run_to(s, &app, 2, "follow-mapping");
    has(r->out, "PyDict_SetItem into a temporary dict finds the same: True");
    mt_result_free(r);
    free(mt_test_leave(s));
    mt_test_assert_pristine();
    mt_session_free(s);

#if PY_VERSION_HEX < 0x030C0000
    /* Stage 2's claim about the talk: in a fresh python3.11 a raw dict
     * write shows through int.__add__ at once, unless a lookup cached it
     * (the lesson says so of 3.11; later type caches differ). */
    static const char py[] =
        "import ctypes, gc\n"
        "real = gc.get_referents(int.__dict__)[0]\n"
        "orig = real['__add__']\n"
        "for prime in (False, True):\n"
        "    if prime:\n"
        "        int.__add__(2, 2)\n"
        "    real['__add__'] = lambda a, b: 5 if a == b == 2 else orig(a, b)\n"
        "    print('primed' if prime else 'fresh', int.__add__(2, 2))\n"
        "    real['__add__'] = orig\n"
        "    ctypes.pythonapi.PyType_Modified(ctypes.py_object(int))\n";
    char *out = stock_python(py);
    has(out, "fresh 5\nprimed 4\n");
    free(out);
#endif
}
END_TEST

/* ---- stage 3: the subclass on the right goes first ---------------------- */

START_TEST(test_subclass_rule)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    mt_step_result *r = run_to(s, &app, 3, "number-slots");
    has(r->out, "3 + Right(2) = Right.__radd__(2, 3) was asked first");
    mt_result_free(r);
    free(mt_test_leave(s));
    mt_session_free(s);
}
END_TEST

/* ---- stage 4: what BINARY_OP_ADD_INT checks, and the bytecode's length -- */

#if PY_VERSION_HEX < 0x030C0000   /* 3.11's opnames and miss counter */
START_TEST(test_add_int_checks)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    mt_result_free(run_to(s, &app, 4, "warm-up"));
    free(mt_test_prompt(s, counter_py, 0));
    long long left = prompt_number(s, "print(first_cache(add, 'BINARY_OP_ADD_INT'))");

    /* Exact ints never miss: the counter stays where specialisation put it. */
    free(mt_test_prompt(s, "for i in range(500): add(i, 2)", 0));
    ck_assert_int_eq(prompt_number(s, "print(first_cache(add, 'BINARY_OP_ADD_INT'))"), left);

    /* Each check on its own: a subclass on the left, a bool (an int
     * subclass) on the right of an exact int.  Both miss, as many times as
     * the counter allows. */
    mt_step_result *r = run_to(s, &app, 4, "exact-int");
    char *l = line_with(r->out, "fails 'the left is exactly int'");
    has(l, "add(Comrade(2), int(2)) = {5}");
    has(l, "BINARY_OP_ADD_INT became BINARY_OP_ADAPTIVE");
    ck_assert_int_eq(number_after(l, "after "), left);
    free(l);
    l = line_with(r->out, "fails 'the right has the left's type'");
    has(l, "add(int(2), bool(True)) = {3}");
    has(l, "BINARY_OP_ADD_INT became BINARY_OP_ADAPTIVE");
    ck_assert_int_eq(number_after(l, "after "), left);
    free(l);
    mt_result_free(r);
    free(mt_test_leave(s));
    mt_session_free(s);
}
END_TEST
#endif

START_TEST(test_tail_extent)
{
    const mt_layout *code = mt_layout_find("PyCodeObject");
    ck_assert_ptr_nonnull(code);
    size_t base = offsetof(PyCodeObject, co_code_adaptive);
    ck_assert_uint_eq((size_t)PyCode_Type.tp_basicsize, base);
    ck_assert_uint_eq(code->fields[code->nfields - 1].offset, base);
    uint8_t bytes[512] = {0}, ok[512];
    memset(ok, 1, sizeof ok);
    for (Py_ssize_t n = 0; n < 20; n++) {
        memcpy(bytes + offsetof(PyVarObject, ob_size), &n, sizeof n);
        mt_tail_extent x;
        ck_assert_int_eq(mt_layout_tail_extent(code, bytes, ok, code->size, &x), 0);
        ck_assert_uint_eq(x.items, (size_t)n);
        ck_assert_uint_eq(x.own, (size_t)n * sizeof(uint16_t) /* a _Py_CODEUNIT */);
        ck_assert_uint_eq(base + x.own + x.pad, (size_t)_PyObject_VAR_SIZE(&PyCode_Type, n));
        ck_assert_uint_lt(x.pad, sizeof(void *));
    }
    ok[offsetof(PyVarObject, ob_size)] = 0;
    mt_tail_extent x;
    ck_assert_int_eq(mt_layout_tail_extent(code, bytes, ok, code->size, &x), -1);
    ck_assert_int_eq(mt_layout_tail_extent(mt_layout_find("code"), bytes, NULL, 16, &x), -1);
    ck_assert_int_eq(mt_layout_tail_extent(mt_layout_find("PyLongObject"), bytes, NULL, 28, &x),
                     -1);
}
END_TEST

/* The rows of a code dump from the bytecode's start cover the region, in
 * order: the bytecode (Py_SIZE code units), padding, beyond. */
static void
assert_tail_rows(const mt_region_result *g, size_t units, int want_beyond)
{
    const mt_field_result *cc = field(g, "co_code_adaptive");
    ck_assert_uint_eq(cc->offset, offsetof(PyCodeObject, co_code_adaptive));
    if (cc->offset + units * sizeof(uint16_t) >= g->len) {
        /* Bytecode longer than the dump (3.14's two + two is 10 code
         * units): the row runs to the region's end, nothing follows. */
        ck_assert_uint_eq(cc->offset + cc->size, g->len);
        return;
    }
    ck_assert_uint_eq(cc->size, units * sizeof(uint16_t) /* a _Py_CODEUNIT */);
    ck_assert_msg(!(cc->flags & MT_FF_TAIL), "the bytecode row still runs to the region's end");
    size_t at = cc->offset + cc->size;
    size_t alloc = (size_t)_PyObject_VAR_SIZE(&PyCode_Type, (Py_ssize_t)units);
    const mt_field_result *pad = field_or_null(g, "padding");
    if (alloc > at) {
        ck_assert_ptr_nonnull(pad);
        ck_assert_uint_eq(pad->offset, at);
        ck_assert_uint_eq(pad->offset + pad->size, alloc < g->len ? alloc : g->len);
        at = pad->offset + pad->size;
    } else {
        ck_assert_ptr_null(pad);
    }
    const mt_field_result *beyond = field_or_null(g, "beyond");
    if (want_beyond) {
        ck_assert_ptr_nonnull(beyond);
        ck_assert_uint_eq(beyond->offset, at);
        at += beyond->size;
    } else {
        ck_assert_ptr_null(beyond);
    }
    ck_assert_uint_eq(at, g->len);

    /* The view names the rows it has (3.15's f needs no padding: its
     * allocation ends where its bytecode does). */
    mt_doc *d = mt_view_region(g, 1);
    char *text = mt_doc_text(d);
    if (pad != NULL) {
        has(text, "padding");
    }
    if (beyond != NULL) {
        has(text, "beyond");
    }
    free(text);
    mt_doc_free(d);
}

START_TEST(test_bytecode_length)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    mt_step_result *r = run_to(s, &app, 4, "bytes");
    long long units = prompt_number(s, "print(len(code.co_code) // 2)");
    ck_assert_int_eq(units, prompt_number(s, "print(len(code._co_code_adaptive) // 2)"));
    const mt_region_result *g = region(r, "code-two");
    ck_assert_int_eq(strtoll(field(g, "ob_size")->value_after, NULL, 10), units);
    assert_tail_rows(g, (size_t)units, 0);
    size_t base = offsetof(PyCodeObject, co_code_adaptive), own = (size_t)units * 2;
    char *said = mt_xasprintf("ob_size = %lld code units: the object is %zu + %zu = %zu bytes, "
                              "allocated as %zu", units, base, own, base + own,
                              (size_t)_PyObject_VAR_SIZE(&PyCode_Type, units));
    has(r->out, said);
    free(said);
    mt_result_free(r);
    free(mt_test_leave(s));

    /* Stage 6's f is three code units: its dump reaches past the object. */
    r = run_to(s, &app, 6, "compiled");
    units = prompt_number(s, "print(len(f.__code__.co_code) // 2)");
    assert_tail_rows(region(r, "f-code"), (size_t)units, 1);
    mt_result_free(r);
    free(mt_test_leave(s));
    mt_session_free(s);
}
END_TEST

/* ---- stage 7: the callback's page, and cached bytecode ------------------- */

/* Without our filter a stock python3.11 gets an anonymous rwxp page. */
START_TEST(test_callback_page_stock)
{
    if (own_seccomp_mode() != 0) {
        /* CK_FORK=no and an engine already started: no clean process here. */
        fprintf(stderr, "test_callback_page_stock: this process is filtered, skipped\n");
        return;
    }
    char *out = stock_python(callback_page_py);
    /* An anonymous rwxp page, unless libffi has static trampolines (3.4+
     * as Debian 13 and forky build it): then its own r-xp code. */
    if (strstr(out, "page r-xp") == NULL || strstr(out, "libffi.so") == NULL) {
        has(out, "page rwxp []");
    }
    has(out, "['0']");
    free(out);
}
END_TEST

/* Under the host's filter the same script gets libffi's two views of a
 * memfd, and the lesson shows the pieces. */
START_TEST(test_callback_page_filtered)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    ck_assert_int_eq(own_seccomp_mode(), 2);
    char *out = stock_python(callback_page_py);   /* inherits the filter */
    int static_tramp = strstr(out, "page r-xp") != NULL && strstr(out, "libffi.so") != NULL;
    if (!static_tramp) {
        has(out, "page r-xs ['/memfd:libffi', '(deleted)']");
    }
    has(out, "['2']");
    free(out);

    mt_step_result *r = run_to(s, &app, 7, "w-xor-x");
    has(r->out, "Seccomp: 2");
    char *l = line_with(r->out, "noop's page:");
    if (static_tramp) {
        /* libffi's own code: nothing was mapped, and the step says so. */
        has(l, " r-xp ");
        has(l, "libffi.so");
        free(l);
        has(r->out, "libffi's own code: a static trampoline");
    } else {
        has(l, " r-xs ");
        has(l, "memfd:libffi");
        free(l);
        l = line_with(r->out, "same file:");
        has(l, " rw-s ");
        free(l);
    }
    has(r->out, "mmap(PROT_READ|PROT_WRITE|PROT_EXEC): EPERM");
    mt_result_free(r);
    free(mt_test_leave(s));
    mt_test_assert_pristine();
    mt_session_free(s);
}
END_TEST

START_TEST(test_cached_bytecode)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    uintptr_t site;
    const char *why;
    ck_assert_msg(mt_sym_lookup(MT_T_FOLDER, &site, &why) == 0, "%s", why);

    mt_step_result *r = run_to(s, &app, 7, "cache-before");
    has(r->out, "sys.dont_write_bytecode = True");
    has(r->out, "two_plus_two in the cache: co_consts " MT_T_F_FOLDED " - folded");
    mt_result_free(r);
    char *dir = mt_test_prompt(s, "print(cache_dir, end='')", 0);

    /* With the optimiser off, import still reads the folded cache; a cache
     * written now keeps the addition. */
    r = run_to(s, &app, 7, "cache-during");
    has(r->out, "imported now: co_consts " MT_T_F_FOLDED " - inside the swap two_plus_two() = 4");
    has(r->out, "rewritten now, the cache holds co_consts " MT_T_F_UNFOLDED " - adds at run time");
    mt_result_free(r);

    /* The optimiser back on, the cache still brings the addition in. */
    r = run_to(s, &app, 7, "two-answers");
    has(r->out, "doublespeak from its cache: co_consts " MT_T_F_UNFOLDED
                " - inside the swap 5   outside 4");
    mt_result_free(r);
    struct stat st;
    ck_assert_msg(stat(dir, &st) != 0, "%s is still there", dir);
    free(dir);
    free(mt_test_leave(s));
    mt_test_assert_pristine();
    mt_session_free(s);
}
END_TEST

/* Left before "two-answers" removes it, the stage's .pyc folder still goes
 * when the stage does (as tempfile.TemporaryDirectory's would). */
START_TEST(test_cache_folder_goes_with_stage)
{
    mt_app app;
    mt_session *s = mt_test_engine(&app);
    mt_step_result *r = run_to(s, &app, 7, "cache-before");
    mt_result_free(r);
    char *dir = mt_test_prompt(s, "print(cache_dir, end='')", 0);
    struct stat st;
    ck_assert_msg(stat(dir, &st) == 0, "%s was never made", dir);
    free(mt_test_leave(s));
    ck_assert_msg(stat(dir, &st) != 0, "%s outlived the stage", dir);
    free(dir);
    mt_test_assert_pristine();
    mt_session_free(s);
}
END_TEST

Suite *
mt_truth_suite(void)
{
    Suite *s = suite_create("truth");
    TCase *tc = tcase_create("facts");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_refcount_start);
#if PY_VERSION_HEX < 0x030C0000
    /* 3.11's specialised opnames and its miss counter in the first cache
     * entry: 3.12 changed both, and the lessons say "on 3.11". */
    tcase_add_test(tc, test_method_misses);
    tcase_add_test(tc, test_add_int_checks);
#endif
    tcase_add_test(tc, test_forbiddenfruit_and_method_cache);
    tcase_add_test(tc, test_subclass_rule);
    tcase_add_test(tc, test_tail_extent);
    tcase_add_test(tc, test_bytecode_length);
    tcase_add_test(tc, test_callback_page_stock);
    tcase_add_test(tc, test_callback_page_filtered);
    tcase_add_test(tc, test_cached_bytecode);
    tcase_add_test(tc, test_cache_folder_goes_with_stage);
    suite_add_tcase(s, tc);
    return s;
}
