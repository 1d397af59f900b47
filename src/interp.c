/* interp.c — the embedded CPython: isolated start-up, lesson
 * namespaces, captured cells, tokenize roles, and the host's pristine guard. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "interp.h"
#include "mem.h"
#include "ministry.h"
#include "result.h"
#include "symbols.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

/* Helpers the host runs inside the interpreter: src/host_helpers.py, its
 * bytes embedded at build time (xxd -i).  They are the plumbing around a
 * cell (capture, traceback, tokenize), never lesson content. */
static const unsigned char helper_src[] = {
#include "host_helpers.inc"
    , '\0'
};

static PyObject *helpers;      /* new reference: the helper module */
#ifndef MT_PY_PROGRAM
#define MT_PY_PROGRAM \
    "/usr/bin/python" Py_STRINGIFY(PY_MAJOR_VERSION) "." Py_STRINGIFY(PY_MINOR_VERSION)
#endif

static int fault_fd = -1;     /* where faulthandler writes */
static int want_site;         /* --site: import site, system site-packages */

struct mt_ns {
    PyObject *dict;            /* new reference */
};

/* libffi (every ctypes CFUNCTYPE) maps its closures writable and
 * executable at once, unless that mmap is refused: then it maps one memfd
 * twice, a writable view and an executable one.  Refuse any mmap asking
 * for PROT_WRITE|PROT_EXEC at an address of the kernel's choosing (what
 * libffi does), so that no callback leaves a W+X mapping behind.  Fixed
 * placements are let through: valgrind, which runs inside this process,
 * places its own mappings (some RWX) with MAP_FIXED, and the client's
 * too, so under valgrind callbacks are W+X again (the guard says so).
 * mprotect is not filtered: the trampoline lessons make a code page
 * writable on purpose, for the length of a step.  Returns 0, or -1 when
 * the kernel refuses the filter (errno set). */
static int
forbid_wx_mmap(void)
{
#if defined(__x86_64__)
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* prot, the low half of args[2] (little-endian) */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
        BPF_STMT(BPF_ALU | BPF_AND | BPF_K, PROT_WRITE | PROT_EXEC),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROT_WRITE | PROT_EXEC, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* flags, the low half of args[3] */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[3])),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, MAP_FIXED | MAP_FIXED_NOREPLACE, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
    };
    struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        return -1;
    }
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0 ? -1 : 0;
#else
    return 0;
#endif
}

int
mt_interp_init(int fd, char **err)
{
    PyStatus st;
    PyConfig config;

    if (forbid_wx_mmap() < 0) {
        /* Not fatal: the guard still reports any W+X mapping, loudly. */
        fprintf(stderr, "ministry-tutor: cannot refuse W+X mmap (%s): ctypes callbacks "
                        "will leave writable+executable memory\n", strerror(errno));
    }
    if (PyImport_AppendInittab("ministry", mt_ministry_init) < 0
        || PyImport_AppendInittab("doublescript", mt_ministry_doublescript_init) < 0) {
        *err = mt_xstrdup("cannot register the ministry and doublescript modules");
        return -1;
    }
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = want_site;  /* site-packages must not change a lesson */
    config.write_bytecode = 0;       /* no .pyc, patched or not */
    config.install_signal_handlers = 0;  /* Ctrl-C belongs to the frontend */
    config.buffered_stdio = 0;
    /* The interpreter this libpython belongs to, not whatever python3.X
     * comes first on the user's PATH: the prefix is computed from it. */
    st = PyConfig_SetBytesString(&config, &config.program_name, MT_PY_PROGRAM);
    if (PyStatus_Exception(st)) {
        goto fail;
    }
    st = Py_InitializeFromConfig(&config);
    if (PyStatus_Exception(st)) {
        goto fail;
    }
    PyConfig_Clear(&config);

    PyObject *code = Py_CompileString((const char *)helper_src, "<ministry-host>",
                                      Py_file_input);
    if (code != NULL) {
        helpers = PyImport_ExecCodeModule("_ministry_host", code);
        Py_DECREF(code);
    }
    if (helpers == NULL) {
        PyErr_Print();
        *err = mt_xstrdup("the host's helper code did not load");
        return -1;
    }
    /* faulthandler: a crash in a step leaves a Python traceback behind. */
    fault_fd = fd;
    PyObject *fh = PyImport_ImportModule("faulthandler");
    if (fh != NULL) {
        PyObject *r = fault_fd >= 0
            ? PyObject_CallMethod(fh, "enable", "(ii)", fault_fd, 1)
            : PyObject_CallMethod(fh, "enable", NULL);
        Py_XDECREF(r);
        Py_DECREF(fh);
    }
    PyErr_Clear();
    return 0;
fail:
    *err = mt_xasprintf("CPython did not start: %s%s%s",
                        st.func ? st.func : "", st.func ? ": " : "",
                        st.err_msg ? st.err_msg : "unknown error");
    PyConfig_Clear(&config);
    return -1;
}

void
mt_interp_join_threads(void)
{
    PyObject *name = PyUnicode_FromString("threading");
    PyObject *th = name != NULL ? PyImport_GetModule(name) : NULL;   /* new; NULL: never imported */
    Py_XDECREF(name);
    if (th != NULL) {
        PyObject *r = PyObject_CallMethod(th, "_shutdown", NULL);
        if (r == NULL) {
            PyErr_WriteUnraisable(th);
        }
        Py_XDECREF(r);
        Py_DECREF(th);
    }
    PyErr_Clear();
}

int
mt_interp_fini(void)
{
    Py_CLEAR(helpers);
    return Py_FinalizeEx();
}

const char *
mt_interp_version(void)
{
    return Py_GetVersion();      /* a constant of the library: no init needed */
}

void *
mt_interp_nb_add(void)
{
    return (void *)PyLong_Type.tp_as_number->nb_add;
}

mt_ns *
mt_interp_ns_new(const char *name)
{
    if (helpers == NULL) {
        return NULL;
    }
    mt_ns *ns = mt_xcalloc(1, sizeof *ns);
    ns->dict = PyDict_New();
    PyObject *n = PyUnicode_FromString(name);
    PyDict_SetItemString(ns->dict, "__name__", n);
    Py_XDECREF(n);
    PyDict_SetItemString(ns->dict, "__builtins__", PyEval_GetBuiltins());
    return ns;
}

void
mt_interp_ns_free(mt_ns *ns)
{
    if (ns == NULL) {
        return;
    }
    /* Clear first: lesson objects may refer back to the namespace. */
    PyDict_Clear(ns->dict);
    Py_DECREF(ns->dict);
    free(ns);
}

/* str(o) as a malloc'ed UTF-8 string ("" on failure). */
static char *
str_of(PyObject *o)
{
    const char *s = o != NULL && PyUnicode_Check(o) ? PyUnicode_AsUTF8(o) : NULL;
    if (s == NULL) {
        PyErr_Clear();
        return mt_xstrdup("");
    }
    return mt_xstrdup(s);
}

/* The current exception as "Type: message", cleared. */
static char *
exc_line(void)
{
    PyObject *t, *e, *tb;
    PyErr_Fetch(&t, &e, &tb);
    PyErr_NormalizeException(&t, &e, &tb);
    Py_XDECREF(t);
    Py_XDECREF(tb);
    if (e == NULL) {
        return mt_xstrdup("unknown error");
    }
    PyObject *s = PyObject_Str(e);
    char *msg = str_of(s);
    char *line = mt_xasprintf("%s: %s", Py_TYPE(e)->tp_name, msg);
    Py_XDECREF(s);
    free(msg);
    Py_DECREF(e);
    PyErr_Clear();
    return line;
}

/* What a helper that runs code returned: (out, err, tb) from run, and
 * (out, err, tb, more) from prompt (more may then be NULL).  r is a new
 * reference, stolen. */
static int
take_run(PyObject *r, char **out, char **err, char **tb, int *more)
{
    Py_ssize_t want = more != NULL ? 4 : 3;
    if (r == NULL || !PyTuple_Check(r) || PyTuple_GET_SIZE(r) != want) {
        *out = mt_xstrdup("");
        *err = mt_xstrdup("");
        char *line = r == NULL ? exc_line() : mt_xstrdup("bad helper result");
        *tb = mt_xasprintf("the host could not run the cell: %s\n", line);
        free(line);
        Py_XDECREF(r);
        return -1;
    }
    *out = str_of(PyTuple_GET_ITEM(r, 0));
    *err = str_of(PyTuple_GET_ITEM(r, 1));
    *tb = str_of(PyTuple_GET_ITEM(r, 2));
    if (more != NULL) {
        *more = PyObject_IsTrue(PyTuple_GET_ITEM(r, 3)) == 1;
    }
    Py_DECREF(r);
    return **tb ? -1 : 0;
}

int
mt_interp_run(mt_ns *ns, const char *code, const char *filename,
              int firstline, char **out, char **err, char **tb)
{
    /* Blank lines in front keep the lesson's own line numbers: the code
     * compiled is exactly the cell's code. */
    int pad = firstline > 1 ? firstline - 1 : 0;
    size_t n = strlen(code);
    char *src = mt_xmalloc((size_t)pad + n + 1);
    memset(src, '\n', (size_t)pad);
    memcpy(src + pad, code, n + 1);
    int rc = take_run(PyObject_CallMethod(helpers, "run", "(ssO)", src, filename, ns->dict),
                      out, err, tb, NULL);
    free(src);
    return rc;
}

int
mt_interp_prompt(mt_ns *ns, const char *src, char **out, char **err, char **tb, int *more)
{
    *more = 0;
    return take_run(PyObject_CallMethod(helpers, "prompt", "(sO)", src, ns->dict),
                    out, err, tb, more);
}

/* Watch expressions are evaluated before and after every step that has
 * them: each is compiled once.  Borrowed reference, or NULL with the
 * SyntaxError set. */
static PyObject *
watch_code(const char *expr)
{
    static PyObject *cache;    /* {expression: code}, new reference */
    if (cache == NULL && (cache = PyDict_New()) == NULL) {
        return NULL;
    }
    PyObject *code = PyDict_GetItemString(cache, expr);
    if (code == NULL) {
        code = Py_CompileString(expr, "<watch>", Py_eval_input);
        if (code == NULL || PyDict_SetItemString(cache, expr, code) < 0) {
            Py_XDECREF(code);
            return NULL;
        }
        Py_DECREF(code);       /* the cache holds it */
    }
    return code;
}

int
mt_interp_address(mt_ns *ns, const char *expr, uintptr_t *addr, char **err)
{
    PyObject *code = watch_code(expr);
    PyObject *v = code != NULL ? PyEval_EvalCode(code, ns->dict, ns->dict) : NULL;
    PyObject *i = v != NULL ? PyNumber_Index(v) : NULL;
    Py_XDECREF(v);
    if (i == NULL) {
        *err = exc_line();
        return -1;
    }
    unsigned long long a = PyLong_AsUnsignedLongLongMask(i);
    Py_DECREF(i);
    if (PyErr_Occurred()) {
        *err = exc_line();
        return -1;
    }
    *addr = (uintptr_t)a;
    return 0;
}

char *
mt_interp_code_roles(const char *code)
{
    PyObject *r = helpers ? PyObject_CallMethod(helpers, "roles", "(s)", code) : NULL;
    char *s = r != NULL ? str_of(r) : NULL;
    Py_XDECREF(r);
    PyErr_Clear();
    if (s == NULL || strlen(s) != strlen(code)) {
        free(s);
        s = mt_xstrdup(code);
        memset(s, MT_TOK_PLAIN, strlen(s));
    }
    return s;
}

/* ---- the pristine guard ------------------------------------------------ */

/* The host's own eye, which trusts no lesson and no script.  When the
 * worker starts (before anything ran) it records a baseline of:
 *   - every small int, -5 to 256: its type, and its value bytes (the size
 *     and the first digit, everything after the header);
 *   - int's type object, slot by slot (type_slots), and its
 *     PyNumberMethods, slot by slot (number_slots);
 *   - every entry of int.__dict__;
 *   - the W+X mappings there already;
 * and it knows the first bytes of every patch site (patch_sites) from the
 * library file on disk.  A check compares all of it, names what differs,
 * and, asked to, puts it back; what cannot be put back it says, and the
 * check returns 2: the worker is then replaced before the next stage. */

#define MT_GUARD_CODE 16
#define MT_SMALL_FIRST (-5)
#define MT_SMALL_LAST 256
#define MT_NSMALL (MT_SMALL_LAST - MT_SMALL_FIRST + 1)

/* A small int's value bytes: from the end of the object header to the end
 * of its first digit (ob_size or lv_tag, then ob_digit[0]). */
#if PY_VERSION_HEX >= 0x030C0000
#define MT_DIGIT_OFF offsetof(PyLongObject, long_value.ob_digit)
#else
#define MT_DIGIT_OFF offsetof(PyLongObject, ob_digit)
#endif
#define MT_VALUE_OFF sizeof(PyObject)
#define MT_VALUE_LEN (MT_DIGIT_OFF + sizeof(digit) - sizeof(PyObject))

/* Functions a lesson (or no_folding()) may write a jump over, compared
 * with the library file.  A site is looked up on the versions from
 * `since` up to, not including, `before` (0: no bound); a name the loaded
 * library does not have is skipped.  A new CPython's sites go here. */
static const struct patch_site {
    const char *name;
    unsigned long since, before;
} patch_sites[] = {
    {"_PyAST_Optimize", 0, 0x030E0000},         /* the AST constant folder */
    {"optimize_basic_block", 0x030E0000, 0},    /* where folding is from 3.14 */
    {"PyCode_Optimize", 0, 0},                  /* the talk's peephole stub */
    {"long_add", 0, 0},                         /* what int + int calls */
};
#define MT_NSITES (sizeof patch_sites / sizeof patch_sites[0])

/* int's type object, field by field: what no lesson may leave changed.
 * (Reference count, flags, version tag, caches and subclass lists move by
 * themselves and are not compared.) */
#define TS(f) {#f, offsetof(PyTypeObject, f), sizeof(((PyTypeObject *)0)->f)}
static const struct field {
    const char *name;
    size_t off, size;
} type_slots[] = {
    {"ob_type", offsetof(PyObject, ob_type), sizeof(PyTypeObject *)},
    TS(tp_name), TS(tp_basicsize), TS(tp_itemsize), TS(tp_dealloc), TS(tp_repr),
    TS(tp_as_number), TS(tp_as_sequence), TS(tp_as_mapping), TS(tp_hash), TS(tp_call),
    TS(tp_str), TS(tp_getattro), TS(tp_setattro), TS(tp_as_buffer), TS(tp_traverse),
    TS(tp_clear), TS(tp_richcompare), TS(tp_iter), TS(tp_iternext), TS(tp_methods),
    TS(tp_members), TS(tp_getset), TS(tp_base), TS(tp_descr_get), TS(tp_descr_set),
    TS(tp_dictoffset), TS(tp_init), TS(tp_alloc), TS(tp_new), TS(tp_free), TS(tp_is_gc),
    TS(tp_finalize), TS(tp_vectorcall),
};
#undef TS

/* int's PyNumberMethods, slot by slot. */
#define NS(f) {#f, offsetof(PyNumberMethods, f), sizeof(void *)}
static const struct field number_slots[] = {
    NS(nb_add), NS(nb_subtract), NS(nb_multiply), NS(nb_remainder), NS(nb_divmod),
    NS(nb_power), NS(nb_negative), NS(nb_positive), NS(nb_absolute), NS(nb_bool),
    NS(nb_invert), NS(nb_lshift), NS(nb_rshift), NS(nb_and), NS(nb_xor), NS(nb_or),
    NS(nb_int), NS(nb_reserved), NS(nb_float), NS(nb_inplace_add), NS(nb_inplace_subtract),
    NS(nb_inplace_multiply), NS(nb_inplace_remainder), NS(nb_inplace_power),
    NS(nb_inplace_lshift), NS(nb_inplace_rshift), NS(nb_inplace_and), NS(nb_inplace_xor),
    NS(nb_inplace_or), NS(nb_floor_divide), NS(nb_true_divide), NS(nb_inplace_floor_divide),
    NS(nb_inplace_true_divide), NS(nb_index), NS(nb_matrix_multiply),
    NS(nb_inplace_matrix_multiply),
};
#undef NS
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* int's dict, borrowed.  From 3.12 a static builtin type keeps its dict in
 * the interpreter's state, not in tp_dict; PyType_GetDict hands a new
 * reference to it, which the interpreter keeps alive anyway. */
static PyObject *
int_dict(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *d = PyType_GetDict(&PyLong_Type);
    Py_XDECREF(d);
    return d;
#else
    return PyLong_Type.tp_dict;
#endif
}

struct guarded {
    int known;                          /* 0 not looked up, 1 found, -1 not */
    uintptr_t at;
    uint8_t want[MT_GUARD_CODE];        /* from the library file */
};

static struct {
    int taken;
    struct {
        PyObject *at;                   /* borrowed: the cached object */
        PyTypeObject *type;
        uint8_t value[MT_VALUE_LEN];
    } small[MT_NSMALL];
    uint8_t type[sizeof(PyTypeObject)]; /* int's type object, by value */
    PyNumberMethods number;             /* int's slots, by value */
    PyObject *dict;                     /* new ref: a copy of int.__dict__ */
    struct guarded code[MT_NSITES];
    mt_mapping *wx_before;              /* W+X mappings no lesson made */
    size_t nwx_before;
} guard;

void
mt_interp_guard_baseline(void)
{
    if (guard.taken) {
        return;
    }
    for (int i = 0; i < MT_NSMALL; i++) {
        PyObject *o = PyLong_FromLong(MT_SMALL_FIRST + i);
        guard.small[i].at = o;
        guard.small[i].type = o ? Py_TYPE(o) : NULL;
        if (o != NULL) {
            memcpy(guard.small[i].value, (char *)o + MT_VALUE_OFF, MT_VALUE_LEN);
            Py_DECREF(o);      /* cached: the interpreter keeps it */
        }
    }
    PyErr_Clear();
    memcpy(guard.type, &PyLong_Type, sizeof guard.type);
    guard.number = *PyLong_Type.tp_as_number;
    guard.dict = PyDict_Copy(int_dict());
    guard.wx_before = mt_mem_wx_list(&guard.nwx_before);
    guard.taken = 1;
}

/* A function pointer as the report names it: "long_add" or
 * "0x7f… (libffi…)". */
static void
fn_name(const void *p, char *buf, size_t n)
{
    uintptr_t at;
    memcpy(&at, p, sizeof at);
    if (at == 0) {
        snprintf(buf, n, "NULL");
    } else if (mt_sym_name(at, buf, n) < 0) {
        mt_sym_describe(at, buf, n);
    }
}

/* Compare fields of `now` with `was` (nf of them); report each that
 * differs as "<what>'s <field> is X, not Y", put back when restore. */
static int
check_fields(uint8_t *now, const uint8_t *was, const struct field *f, size_t nf,
             const char *what, int restore, mt_str *rep)
{
    int bad = 0;
    for (size_t i = 0; i < nf; i++) {
        if (memcmp(now + f[i].off, was + f[i].off, f[i].size) == 0) {
            continue;
        }
        bad = 1;
        if (f[i].size == sizeof(void *) && strcmp(f[i].name, "tp_basicsize") != 0
            && strcmp(f[i].name, "tp_itemsize") != 0 && strcmp(f[i].name, "tp_dictoffset") != 0) {
            char a[160], b[160];
            fn_name(now + f[i].off, a, sizeof a);
            fn_name(was + f[i].off, b, sizeof b);
            mt_str_addf(rep, "%s's %s is %s, not %s%s\n", what, f[i].name, a, b,
                        restore ? ": restored" : "");
        } else {
            mt_str_addf(rep, "%s's %s changed%s\n", what, f[i].name,
                        restore ? ": restored" : "");
        }
        if (restore) {
            memcpy(now + f[i].off, was + f[i].off, f[i].size);
        }
    }
    return bad;
}

/* The small ints: type, then value. */
static int
check_small_ints(int restore, mt_str *rep)
{
    int bad = 0;
    for (int i = 0; i < MT_NSMALL; i++) {
        PyObject *o = guard.small[i].at;
        long v = MT_SMALL_FIRST + i;
        if (o == NULL) {
            continue;
        }
        if (Py_TYPE(o) != guard.small[i].type) {
            bad = 1;
            mt_str_addf(rep, "ob_type of the small int %ld is %s, not int%s\n", v,
                        Py_TYPE(o)->tp_name, restore ? ": restored" : "");
            if (restore) {
                /* The reference the patch took on the swapped-in type is
                 * not ours to drop: we cannot know it was taken. */
                Py_SET_TYPE(o, guard.small[i].type);
            }
        }
        uint8_t *now = (uint8_t *)o + MT_VALUE_OFF;
        if (memcmp(now, guard.small[i].value, MT_VALUE_LEN) != 0) {
            bad = 1;
            long holds = 0;
            int known = Py_TYPE(o) == &PyLong_Type;
            if (known) {
                holds = PyLong_AsLong(o);
                known = !(holds == -1 && PyErr_Occurred());
                PyErr_Clear();
            }
            if (known) {
                mt_str_addf(rep, "the small int %ld holds %ld (its size and digit were "
                                 "overwritten)%s\n", v, holds, restore ? ": restored" : "");
            } else {
                mt_str_addf(rep, "the small int %ld: its size and digit were overwritten%s\n",
                            v, restore ? ": restored" : "");
            }
            if (restore) {
                memcpy(now, guard.small[i].value, MT_VALUE_LEN);
            }
        }
    }
    return bad;
}

/* The first bytes of every patch site against the library file.  Their
 * names come from the debug file, which is not opened just to look: a
 * check that will not restore skips them until something else has loaded
 * it.  Returns 0, 1 (differences, restored when asked) or 2 (one could
 * not be put back). */
static int
check_code(int restore, mt_str *rep)
{
    int bad = 0;
    for (size_t i = 0; i < MT_NSITES; i++) {
        const struct patch_site *ps = &patch_sites[i];
        if (PY_VERSION_HEX < ps->since || (ps->before != 0 && PY_VERSION_HEX >= ps->before)) {
            continue;
        }
        uint8_t now[MT_GUARD_CODE];
        struct guarded *g = &guard.code[i];
        if (!g->known && (restore || mt_sym_debug_loaded())) {
            const char *why;
            g->known = mt_sym_lookup(ps->name, &g->at, &why) == 0
                       && mt_mem_file_bytes(g->at, g->want, MT_GUARD_CODE) == 0 ? 1 : -1;
        }
        if (g->known != 1 || mt_mem_read(g->at, now, MT_GUARD_CODE, NULL) != MT_GUARD_CODE
            || memcmp(now, g->want, MT_GUARD_CODE) == 0) {
            continue;
        }
        bad = bad > 1 ? bad : 1;
        char *e = NULL;
        int rc = restore ? mt_mem_write_protected(g->at, g->want, MT_GUARD_CODE, &e) : 0;
        if (rc < 0) {
            bad = 2;
        }
        mt_str_addf(rep, "the first %d bytes of %s differ from the library file%s%s\n",
                    MT_GUARD_CODE, ps->name,
                    !restore ? "" : rc == 0 ? ": restored" : ": NOT restored: ", e ? e : "");
        free(e);
    }
    return bad;
}

static int wx_enforce(mt_str *rep);

static int
guard_run(int restore, mt_str *rep)
{
    int bad = check_small_ints(restore, rep);

    /* int's type object, and the number slots it points to. */
    bad |= check_fields((uint8_t *)&PyLong_Type, guard.type, type_slots, NELEM(type_slots),
                        "int", restore, rep);
    if (PyLong_Type.tp_as_number != NULL) {
        bad |= check_fields((uint8_t *)PyLong_Type.tp_as_number, (const uint8_t *)&guard.number,
                            number_slots, NELEM(number_slots), "int", restore, rep);
    }

    /* int.__dict__, entry by entry. */
    PyObject *d = int_dict(), *k, *v;
    Py_ssize_t pos = 0;
    int dict_bad = 0;
    while (PyDict_Next(guard.dict, &pos, &k, &v)) {
        if (PyDict_GetItem(d, k) != v) {
            dict_bad = 1;
            mt_str_addf(rep, "int.__dict__[%s] is not the original%s\n",
                        PyUnicode_AsUTF8(k), restore ? ": restored" : "");
        }
    }
    if (PyDict_Size(d) != PyDict_Size(guard.dict)) {
        dict_bad = 1;
        mt_str_addf(rep, "int.__dict__ has %zd entries, not %zd%s\n", PyDict_Size(d),
                    PyDict_Size(guard.dict), restore ? ": restored" : "");
    }
    if (dict_bad && restore) {
        PyDict_Clear(d);
        PyDict_Update(d, guard.dict);
        PyType_Modified(&PyLong_Type);
    }
    bad |= dict_bad;

    int code = check_code(restore, rep);
    int wx = 0;
    if (restore) {
        wx = wx_enforce(rep);
    }
    bad = bad || code || wx > 0 ? 1 : 0;
    int lost = code == 2 || wx == -1;

    /* And, when leaving, the sum itself, compiled fresh: the last word
     * after every repair above (a compile per step would cost more than
     * all the other checks together). */
    if (restore) {
        PyObject *r = PyRun_String("2 + 2", Py_eval_input, PyEval_GetBuiltins(), NULL);
        if (r == NULL || !PyLong_CheckExact(r) || PyLong_AsLong(r) != 4) {
            bad = lost = 1;
            mt_str_add(rep, "2 + 2 is not 4 (compiled fresh), after every repair\n");
        }
        Py_XDECREF(r);
        PyErr_Clear();
    }
    return lost ? 2 : bad;
}

/* Whether this process runs under valgrind, which keeps its translation
 * cache in mappings that are writable and executable by design, made as
 * it goes (its preload library is in LD_PRELOAD). */
static int
under_valgrind(void)
{
    static int known = -1;
    if (known < 0) {
        const char *pre = getenv("LD_PRELOAD");
        known = pre != NULL && strstr(pre, "vgpreload") != NULL;
    }
    return known;
}

/* Take write permission from every W+X mapping that was not there at the
 * baseline (under valgrind, anonymous ones are valgrind's own: left be).
 * Returns how many were found, or -1 when one could not be mended. */
static int
wx_enforce(mt_str *rep)
{
    size_t n;
    int fixed = 0, lost = 0;
    mt_mapping *v = mt_mem_wx_list(&n);
    for (size_t i = 0; i < n; i++) {
        int old = 0;
        for (size_t j = 0; j < guard.nwx_before; j++) {
            old |= guard.wx_before[j].start == v[i].start && guard.wx_before[j].end == v[i].end;
        }
        if (old || (under_valgrind() && v[i].path[0] != '/')) {
            continue;
        }
        int prot = (v[i].perms[0] == 'r' ? PROT_READ : 0) | PROT_EXEC;
        int rc = mprotect((void *)v[i].start, v[i].end - v[i].start, prot);
        mt_str_addf(rep, "a mapping was writable and executable: %lx-%lx %s %s: %s\n",
                    (unsigned long)v[i].start, (unsigned long)v[i].end, v[i].perms,
                    v[i].path[0] ? v[i].path : "[anonymous]",
                    rc == 0 ? "write permission taken away: restored" : "NOT restored");
        fixed++;
        lost |= rc != 0;
    }
    free(v);
    return lost ? -1 : fixed;
}

int
mt_interp_wx_enforce(mt_str *rep)
{
    int n = wx_enforce(rep);
    return n < 0 ? 1 : n;
}

int
mt_interp_guard_check(int restore, char **report)
{
    mt_str rep = {0};
    if (!guard.taken) {
        *report = mt_xstrdup("");
        return 0;
    }
    int bad = guard_run(restore, &rep);
    *report = mt_str_take(&rep);
    return bad;
}

int
mt_interp_patched(void)
{
    char *rep = NULL;
    int bad = mt_interp_guard_check(0, &rep);
    free(rep);
    return bad != 0;
}

void
mt_interp_want_site(int on)
{
    want_site = on;
}

/* Put dir (borrowed) in front of sys.path.  0, or -1 with an exception. */
static int
path_prepend(PyObject *dir)
{
    PyObject *path = PySys_GetObject("path");      /* borrowed */
    if (path == NULL || !PyList_Check(path)) {
        PyErr_SetString(PyExc_RuntimeError, "sys.path is not a list");
        return -1;
    }
    return PyList_Insert(path, 0, dir);
}

/* What `python3 FILE` and `python3 -m` put in front of sys.path: the
 * folder of the file with symbolic links resolved, or the current folder.
 * file NULL: the current folder.  0, or -1 with an exception. */
static int
path_zero(const char *file)
{
    PyObject *dir = NULL;
    if (file == NULL) {
        PyObject *os = PyImport_ImportModule("os");
        if (os != NULL) {
            dir = PyObject_CallMethod(os, "getcwd", NULL);
            Py_DECREF(os);
        }
    } else {
        PyObject *osp = PyImport_ImportModule("os.path");
        PyObject *real = osp != NULL ? PyObject_CallMethod(osp, "realpath", "(s)", file) : NULL;
        if (real != NULL) {
            dir = PyObject_CallMethod(osp, "dirname", "(O)", real);
            Py_DECREF(real);
        }
        Py_XDECREF(osp);
    }
    if (dir == NULL) {
        return -1;
    }
    int rc = path_prepend(dir);
    Py_DECREF(dir);
    return rc;
}

/* The exit status for the SystemExit being raised, as python3 computes it
 * (3.11's _Py_HandleSystemExit): from the value as raised, not normalised
 * — an exception's `code`, or the bare value sys.exit() gave — None 0, an
 * int itself, anything else (a tuple, sys.exit(()) included) printed to
 * stderr and 1.  A message runpy made for a module it could not find names
 * the host, not sys.executable.  Clears the exception. */
static int
system_exit_status(void)
{
    PyObject *t, *e, *tb;
    PyErr_Fetch(&t, &e, &tb);
    Py_XDECREF(t);
    Py_XDECREF(tb);
    int status = 1;
    int inst = e != NULL && PyExceptionInstance_Check(e);
    PyObject *code = inst ? PyObject_GetAttrString(e, "code") : Py_XNewRef(e);
    PyObject *ctx = inst ? PyException_GetContext(e) : NULL;   /* new */
    if (code == NULL || code == Py_None) {
        status = 0;
    } else if (PyLong_Check(code)) {
        status = (int)PyLong_AsLong(code);
    } else if (ctx != NULL && strcmp(Py_TYPE(ctx)->tp_name, "_Error") == 0
               && PyUnicode_Check(code)) {
        /* runpy: sys.exit("%s: %s" % (sys.executable, exc)) */
        PyObject *why = PyObject_Str(ctx);
        fprintf(stderr, "ministry-tutor: %s\n", why != NULL ? PyUnicode_AsUTF8(why) : "?");
        Py_XDECREF(why);
    } else {
        PyObject_Print(code, stderr, Py_PRINT_RAW);
        fputc('\n', stderr);
    }
    Py_XDECREF(ctx);
    Py_XDECREF(code);
    Py_XDECREF(e);
    PyErr_Clear();
    return status;
}

/* --run FILE and -m MODULE: sys.argv and sys.path as python3 sets them,
 * the optimiser held off with nofold, then the file or the module as
 * __main__.  Returns the exit status. */
static int
run_program(const char *file, const char *module, int argc, char **argv, int nofold)
{
    PyObject *args = PyList_New(0);
    for (int i = 0; args != NULL && i < argc; i++) {
        PyObject *s = PyUnicode_DecodeFSDefault(argv[i]);
        if (s == NULL || PyList_Append(args, s) < 0) {
            Py_CLEAR(args);
        }
        Py_XDECREF(s);
    }
    if (args == NULL || PySys_SetObject("argv", args) < 0 || path_zero(file) < 0) {
        Py_XDECREF(args);
        PyErr_Print();
        return 1;
    }
    int held = 0;
    if (nofold) {
        char *e = NULL;
        if (mt_ministry_fold(0, &e) < 0) {
            fprintf(stderr, "ministry-tutor: --no-fold: %s\n", e);
            free(e);
            Py_DECREF(args);
            return 1;
        }
        held = 1;
    }
    /* The optimiser stays off while the program is compiled and runs: code
     * it compiles at run time (imports, eval, exec) is unfolded too. */
    PyObject *r;
    if (file != NULL) {
        PyObject *abs = NULL, *osp = PyImport_ImportModule("os.path");
        if (osp != NULL) {
            abs = PyObject_CallMethod(osp, "abspath", "(s)", file);  /* __file__ */
            Py_DECREF(osp);
        }
        r = abs != NULL ? PyObject_CallMethod(helpers, "main_code", "(OO)", abs, args) : NULL;
        Py_XDECREF(abs);
        if (r != NULL && PyCode_Check(r)) {
            /* Run here, as python3 runs a file: no handler between the
             * script and this function (see system_exit_status). */
            PyObject *main = PyImport_AddModule("__main__");      /* borrowed */
            PyObject *ns = main != NULL ? PyModule_GetDict(main) : NULL;
            PyObject *v = ns != NULL ? PyEval_EvalCode(r, ns, ns) : NULL;
            Py_DECREF(r);
            r = v != NULL ? Py_None : NULL;
            Py_XINCREF(r);
            Py_XDECREF(v);
        }
    } else {
        PyObject *runpy = PyImport_ImportModule("runpy");
        r = runpy != NULL ? PyObject_CallMethod(runpy, "_run_module_as_main", "(sO)", module,
                                                Py_True)
                          : NULL;
        Py_XDECREF(runpy);
        if (r != NULL) {
            Py_DECREF(r);
            r = Py_NewRef(Py_None);
        }
    }
    Py_DECREF(args);
    int status = 0;
    if (r == NULL) {
        if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
            status = system_exit_status();
        } else {
            PyErr_Print();
            status = 1;
        }
    } else if (PyUnicode_Check(r)) {
        /* The script did not compile (a one-line reason), or raised (its
         * traceback is already on stderr). */
        const char *why = PyUnicode_AsUTF8(r);
        if (why != NULL && *why) {
            fprintf(stderr, "ministry-tutor: --run %s\n", why);
        }
        status = 1;
    }
    Py_XDECREF(r);
    if (held) {
        char *e = NULL;
        if (mt_ministry_fold(1, &e) < 0) {
            fprintf(stderr, "ministry-tutor: %s\n", e);
            free(e);
            status = status ? status : 1;
        }
    }
    fflush(stdout);
    return status;
}

int
mt_interp_run_main(const char *path, int argc, char **argv, int nofold)
{
    return run_program(path, NULL, argc, argv, nofold);
}

int
mt_interp_run_module(const char *module, int argc, char **argv, int nofold)
{
    return run_program(NULL, module, argc, argv, nofold);
}
