/* symbols.c — address ↔ name for libpython: dladdr, then libelf over the build-id debug file. */
#include "symbols.h"
#include "util.h"

#include <dlfcn.h>
#include <elf.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <limits.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Data model.  One process-wide service, built in two lazy steps:
 *
 *  - base: where libpython is loaded (found with dladdr on an exported
 *    function), its extent, its build-id read from the loaded image's own
 *    PT_NOTE segment;
 *  - debug: the detached debug file <dir>/.build-id/xx/rest.debug opened
 *    with libelf (read, not mmap'ed, and kept open: symbol names point into
 *    the string table it read), its build-id checked, and an array of its
 *    FUNC and OBJECT symbols (value relative to the load base, size, name).
 *    Sorted by address (qsort) only when an address is first looked up
 *    there.
 *
 * Address → name: inside libpython, once the debug file is open, a binary
 * search of that table; anywhere else, or before, dladdr.
 *
 * Neither step runs before somebody asks.  The program has no threads, so
 * plain flags say which steps have run. */

/* An exported function that every libpython has: where dladdr starts. */
#define MT_SYM_ANCHOR "Py_Initialize"
/* The package stem when the library's own file name cannot tell. */
#define MT_SYM_PKG_DEFAULT "python3.11"

typedef struct sym_entry {
    uint64_t value;     /* relative to the load base */
    uint64_t size;
    const char *name;   /* into the string table libelf read */
    int global;
} sym_entry;

static struct {
    int base_done;
    char debug_dir[PATH_MAX];
    char lib_path[PATH_MAX];
    const char *lib_base;            /* basename inside lib_path */
    char pkg[64];                    /* "python3.11", from the file name */
    uint8_t build_id[64];
    size_t build_id_len;
    char build_id_hex[129];
    uintptr_t bias, lo, hi;          /* load base and extent */

    int debug_ok;
    int debug_tried;                 /* debug_init has run */
    char *debug_path;                /* malloc'ed, kept */
    char *why;
    int fd;
    Elf *elf;
    sym_entry *syms;
    size_t nsyms;
    int sorted;                      /* syms is in address order */
} S = {
    .fd = -1,
};

/* mt_sym_lookup's last reason, kept until the next call. */
static char lookup_why[1024];

/* ---- base: the loaded libpython ---------------------------------------- */

struct phdr_ctx {
    uintptr_t addr;
    int found;
};

/* Reads NT_GNU_BUILD_ID from the loaded image's PT_NOTE segments.  The
 * loaded image, not the file on disk, is what the debug file must match
 * (the file may have been upgraded since the process started). */
static void
note_build_id(const struct dl_phdr_info *info, const ElfW(Phdr) *ph)
{
    const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
    const uint8_t *end = p + ph->p_memsz;
    size_t align = ph->p_align == 8 ? 8 : 4;

    while (p + sizeof(ElfW(Nhdr)) <= end) {
        const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
        const uint8_t *name = p + sizeof *nh;
        const uint8_t *desc = name + ((nh->n_namesz + align - 1) & ~(align - 1));
        const uint8_t *next = desc + ((nh->n_descsz + align - 1) & ~(align - 1));
        if (next > end || next <= p) {
            return;
        }
        if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4
            && memcmp(name, "GNU", 4) == 0 && nh->n_descsz > 0
            && nh->n_descsz <= sizeof S.build_id) {
            memcpy(S.build_id, desc, nh->n_descsz);
            S.build_id_len = nh->n_descsz;
            for (size_t i = 0; i < nh->n_descsz; i++) {
                snprintf(S.build_id_hex + 2 * i, 3, "%02x", desc[i]);
            }
            return;
        }
        p = next;
    }
}

static int
phdr_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    struct phdr_ctx *ctx = data;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    (void)size;

    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD) {
            uintptr_t a = info->dlpi_addr + ph->p_vaddr;
            if (a < lo) {
                lo = a;
            }
            if (a + ph->p_memsz > hi) {
                hi = a + ph->p_memsz;
            }
        }
    }
    if (ctx->addr < lo || ctx->addr >= hi) {
        return 0;
    }
    S.bias = info->dlpi_addr;
    S.lo = lo;
    S.hi = hi;
    for (int i = 0; i < info->dlpi_phnum && S.build_id_len == 0; i++) {
        if (info->dlpi_phdr[i].p_type == PT_NOTE) {
            note_build_id(info, &info->dlpi_phdr[i]);
        }
    }
    ctx->found = 1;
    return 1;
}

static void
base_init(void)
{
    const char *dir = getenv("MINISTRY_DEBUG_DIR");
    Dl_info info;
    void *anchor;

    snprintf(S.pkg, sizeof S.pkg, "%s", MT_SYM_PKG_DEFAULT);
    snprintf(S.debug_dir, sizeof S.debug_dir, "%s",
             dir != NULL && *dir != '\0' ? dir : "/usr/lib/debug");
    S.lib_base = S.lib_path;
    anchor = dlsym(RTLD_DEFAULT, MT_SYM_ANCHOR);
    if (anchor == NULL || dladdr(anchor, &info) == 0 || info.dli_fname == NULL) {
        return;
    }
    snprintf(S.lib_path, sizeof S.lib_path, "%s", info.dli_fname);
    const char *slash = strrchr(S.lib_path, '/');
    S.lib_base = slash != NULL ? slash + 1 : S.lib_path;
    /* "libpython3.11.so.1.0" → "python3.11": the Debian package stem. */
    const char *stem = strncmp(S.lib_base, "lib", 3) == 0 ? S.lib_base + 3
                                                           : S.lib_base;
    const char *so = strstr(stem, ".so");
    if (strncmp(stem, "python", 6) == 0 && so != NULL) {
        snprintf(S.pkg, sizeof S.pkg, "%.*s", (int)(so - stem), stem);
    }

    struct phdr_ctx ctx = {(uintptr_t)anchor, 0};
    dl_iterate_phdr(phdr_cb, &ctx);
}

static void
base(void)
{
    if (!S.base_done) {
        S.base_done = 1;
        base_init();
    }
}

/* Returns the directory of the build-id debug tree. */
const char *
mt_sym_debug_dir(void)
{
    base();
    return S.debug_dir;
}

/* Returns the path of the loaded libpython ("" when unknown). */
const char *
mt_sym_libpython_path(void)
{
    base();
    return S.lib_path;
}

/* Returns the hex build-id of the loaded libpython ("" when unknown). */
const char *
mt_sym_libpython_build_id(void)
{
    base();
    return S.build_id_hex;
}

/* ---- debug: the detached symbol table ---------------------------------- */

/* "apt-get install python3.11-dbg=<version of libpython3.11>", the version
 * asked from dpkg now; without it, the plain package name.  Malloc'ed. */
static char *
install_command(void)
{
    char ver[128] = "";
    char cmd[256];

    snprintf(cmd, sizeof cmd,
             "dpkg-query -W -f='${Version}' lib%s 2>/dev/null", S.pkg);
    FILE *p = popen(cmd, "re");
    if (p != NULL) {
        size_t n = fread(ver, 1, sizeof ver - 1, p);
        ver[n] = '\0';
        pclose(p);
    }
    /* A Debian version is [A-Za-z0-9.+~:-]; anything else: do not trust. */
    if (ver[0] == '\0' || ver[strspn(ver, "abcdefghijklmnopqrstuvwxyz"
                                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789.+~:-")] != '\0') {
        ver[0] = '\0';
    }
    return mt_xasprintf("apt-get install %s-dbg%s%s", S.pkg, ver[0] ? "=" : "", ver);
}

/* S.why = what is missing, then the command that installs it. */
__attribute__((format(printf, 1, 2)))
static void
set_why(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *head = mt_xvasprintf(fmt, ap);
    va_end(ap);
    char *cmd = install_command();
    S.why = mt_xasprintf("%s; install them with: %s", head, cmd);
    free(head);
    free(cmd);
}

static int
cmp_entry(const void *a, const void *b)
{
    const sym_entry *x = a, *y = b;
    if (x->value != y->value) {
        return x->value < y->value ? -1 : 1;
    }
    if (x->global != y->global) {
        return x->global ? -1 : 1;      /* global names first */
    }
    return x->size > y->size ? -1 : x->size < y->size;
}

/* Fills S.syms from the SHT_SYMTAB of S.elf.  Returns 0 or -1. */
static int
load_symtab(void)
{
    Elf_Scn *scn = NULL;
    GElf_Shdr sh;

    while ((scn = elf_nextscn(S.elf, scn)) != NULL) {
        if (gelf_getshdr(scn, &sh) != NULL && sh.sh_type == SHT_SYMTAB) {
            break;
        }
    }
    if (scn == NULL || sh.sh_entsize == 0) {
        return -1;
    }
    Elf_Data *data = elf_getdata(scn, NULL);
    Elf_Scn *strscn = elf_getscn(S.elf, sh.sh_link);
    Elf_Data *strdata = strscn != NULL ? elf_getdata(strscn, NULL) : NULL;
    if (data == NULL || strdata == NULL || strdata->d_size == 0) {
        return -1;
    }
    const char *strs = strdata->d_buf;
    size_t strsize = strdata->d_size;
    size_t n = data->d_size / sh.sh_entsize;

    S.syms = mt_xmalloc(n * sizeof *S.syms);
    for (size_t i = 0; i < n; i++) {
        GElf_Sym sym;
        if (gelf_getsym(data, (int)i, &sym) == NULL) {
            continue;
        }
        int type = GELF_ST_TYPE(sym.st_info);
        if ((type != STT_FUNC && type != STT_OBJECT)
            || sym.st_shndx == SHN_UNDEF || sym.st_value == 0
            || sym.st_name == 0 || sym.st_name >= strsize) {
            continue;
        }
        sym_entry *e = &S.syms[S.nsyms++];
        e->value = sym.st_value;
        e->size = sym.st_size;
        e->name = strs + sym.st_name;
        e->global = GELF_ST_BIND(sym.st_info) != STB_LOCAL;
    }
    /* The string table must end in NUL for names to be safe to use. */
    return strs[strsize - 1] == '\0' ? 0 : -1;
}

static void
debug_init(void)
{
    const void *id = NULL;
    ssize_t idlen;
    char hex[129] = "";

    S.debug_tried = 1;
    base();
    if (S.lib_path[0] == '\0') {
        set_why("libpython is not loaded in this process");
        return;
    }
    if (S.build_id_len == 0) {
        set_why("%s has no build-id note, so no debug file can be "
                "matched to it", S.lib_path);
        return;
    }
    S.debug_path = mt_xasprintf("%s/.build-id/%.2s/%s.debug", S.debug_dir,
                                S.build_id_hex, S.build_id_hex + 2);
    S.fd = open(S.debug_path, O_RDONLY | O_CLOEXEC);
    if (S.fd < 0) {
        set_why("no debug symbols for %s (build-id %s): %s is missing",
                S.lib_path, S.build_id_hex, S.debug_path);
        goto fail;
    }
    elf_version(EV_CURRENT);
    /* Read, not mmap: faulting a 10 MB mapping in pulls whole read-ahead
     * windows from a cold disk; reading only the parts we need does not. */
    S.elf = elf_begin(S.fd, ELF_C_READ, NULL);
    if (S.elf == NULL || elf_kind(S.elf) != ELF_K_ELF) {
        set_why("%s is not an ELF file (%s)", S.debug_path, elf_errmsg(-1));
        goto fail;
    }
    idlen = dwelf_elf_gnu_build_id(S.elf, &id);
    if (idlen > 0) {
        for (ssize_t i = 0; i < idlen && i < 64; i++) {
            snprintf(hex + 2 * i, 3, "%02x", ((const uint8_t *)id)[i]);
        }
    }
    if (idlen != (ssize_t)S.build_id_len
        || memcmp(id, S.build_id, S.build_id_len) != 0) {
        set_why("debug symbols do not match the loaded libpython: %s "
                "has build-id %s, the library has %s", S.debug_path,
                idlen > 0 ? hex : "(none)", S.build_id_hex);
        goto fail;
    }
    if (load_symtab() != 0) {
        set_why("%s has no usable symbol table (.symtab)", S.debug_path);
        goto fail;
    }
    S.debug_ok = 1;
    return;

fail:
    free(S.syms);
    S.syms = NULL;
    S.nsyms = 0;
    if (S.elf != NULL) {
        elf_end(S.elf);
        S.elf = NULL;
    }
    if (S.fd >= 0) {
        close(S.fd);
        S.fd = -1;
    }
    /* debug_path stays: it names the file that was tried. */
}

/* Opens the debug symbols once: 0 when they match the loaded libpython,
 * else -1 with *why (borrowed, stable) naming what is missing and the
 * apt-get command. */
int
mt_sym_debug_ready(const char **why)
{
    if (!S.debug_tried) {
        debug_init();
    }
    if (why != NULL) {
        *why = S.debug_ok ? NULL : (S.why != NULL ? S.why : "");
    }
    return S.debug_ok ? 0 : -1;
}

/* Whether the debug file has been opened (or tried) in this process. */
int
mt_sym_debug_loaded(void)
{
    return S.debug_tried;
}

/* Path of the matching debug file, or NULL. */
const char *
mt_sym_debug_path(void)
{
    return mt_sym_debug_ready(NULL) == 0 ? S.debug_path : NULL;
}

/* How good a symbol-table name is as an answer for `name`: 0 exact, then
 * compiler clones by preference; -1 when it is not a form of name.  Split
 * parts (.part, .cold) are not entry points: last resort only. */
static int
name_rank(const char *sym, const char *name, size_t nlen)
{
    if (strncmp(sym, name, nlen) != 0) {
        return -1;
    }
    const char *suf = sym + nlen;
    if (*suf == '\0') {
        return 0;
    }
    if (*suf != '.') {
        return -1;
    }
    if (strncmp(suf, ".lto_priv.", 10) == 0) {
        return 1;
    }
    if (strstr(suf, ".part.") != NULL || strstr(suf, ".cold") != NULL) {
        return 3;
    }
    return 2;
}

/* Name → address: dlsym first, then the debug symbols; see symbols.h. */
int
mt_sym_lookup(const char *name, uintptr_t *addr, const char **why)
{
    const char *dwhy = NULL;

    base();
    /* RTLD_DEFAULT, not a handle on libpython: an executable that uses a
     * data symbol (PyLong_Type) holds a copy-relocated copy, and that copy
     * is the one libpython itself uses. */
    void *p = dlsym(RTLD_DEFAULT, name);
    if (p != NULL) {
        *addr = (uintptr_t)p;
        return 0;
    }
    if (mt_sym_debug_ready(&dwhy) != 0) {
        if (why != NULL) {
            snprintf(lookup_why, sizeof lookup_why,
                     "%.200s is not exported by %.100s and %.600s", name,
                     S.lib_base[0] ? S.lib_base : "libpython", dwhy);
            *why = lookup_why;
        }
        return -1;
    }
    size_t nlen = strlen(name);
    const sym_entry *best = NULL;
    int best_rank = 4;
    for (size_t i = 0; i < S.nsyms && best_rank > 0; i++) {
        int r = name_rank(S.syms[i].name, name, nlen);
        if (r >= 0 && r < best_rank) {
            best = &S.syms[i];
            best_rank = r;
        }
    }
    if (best == NULL) {
        if (why != NULL) {
            snprintf(lookup_why, sizeof lookup_why,
                     "no symbol named %.200s in %.100s or its debug "
                     "symbols %.600s",
                     name, S.lib_base, S.debug_path);
            *why = lookup_why;
        }
        return -1;
    }
    *addr = S.bias + (uintptr_t)best->value;
    return 0;
}

/* ---- address → name ---------------------------------------------------- */

/* The debug-file symbol holding addr (inside libpython), or NULL. */
static const sym_entry *
debug_symbol_at(uintptr_t addr)
{
    base();
    if (addr < S.lo || addr >= S.hi || mt_sym_debug_ready(NULL) != 0) {
        return NULL;
    }
    if (!S.sorted) {
        qsort(S.syms, S.nsyms, sizeof *S.syms, cmp_entry);
        S.sorted = 1;
    }
    uint64_t rel = addr - S.bias;
    size_t lo = 0, hi = S.nsyms;
    while (lo < hi) {                    /* first entry with value > rel */
        size_t mid = lo + (hi - lo) / 2;
        if (S.syms[mid].value <= rel) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    /* Walk back over the candidates that start at or before rel; a symbol
     * holds rel when rel is inside its size (or it has none and starts
     * there).  A global one is what dladdr would name, so it comes before
     * a local alias or a static nested in it.  Nested symbols are rare: a
     * short walk suffices. */
    const sym_entry *local = NULL;
    for (size_t i = lo, steps = 0; i > 0 && steps < 16; i--, steps++) {
        const sym_entry *e = &S.syms[i - 1];
        if (rel < e->value + e->size || (e->size == 0 && rel == e->value)) {
            if (e->global) {
                return e;
            }
            if (local == NULL) {
                local = e;
            }
        }
    }
    return local;
}

struct found {
    const char *name;       /* may carry a compiler suffix */
    uintptr_t sym_addr;
    size_t size;
    const char *file;       /* basename, or NULL */
    uintptr_t file_base;
};

/* What is known about addr: 2 symbol, 1 file only, 0 nothing. */
static int
find(uintptr_t addr, struct found *f)
{
    Dl_info info;
    const ElfW(Sym) *es = NULL;
    int have_dl;

    memset(f, 0, sizeof *f);
    base();
    int in_lib = S.hi != 0 && addr >= S.lo && addr < S.hi;
    /* Inside libpython, once its debug symbols are open, their sorted
     * table answers with a binary search: dladdr scans the library's whole
     * dynamic symbol table on every call (about 10 µs; a walkthrough asks
     * some 300 times).  It is not opened for this: before, dladdr. */
    if (in_lib && S.debug_ok) {
        const sym_entry *e = debug_symbol_at(addr);
        if (e != NULL) {
            f->name = e->name;
            f->sym_addr = S.bias + (uintptr_t)e->value;
            f->size = e->size;
            f->file = S.lib_base;
            f->file_base = S.bias;
            return 2;
        }
    }
    have_dl = dladdr1((void *)addr, &info, (void **)&es, RTLD_DL_SYMENT) != 0;
    if (have_dl && info.dli_fname != NULL && info.dli_fname[0] != '\0') {
        const char *slash = strrchr(info.dli_fname, '/');
        f->file = slash != NULL ? slash + 1 : info.dli_fname;
        f->file_base = (uintptr_t)info.dli_fbase;
    }
    if (in_lib) {
        f->file = S.lib_base;
        f->file_base = S.bias;
    }
    /* An exported symbol that really holds addr. */
    if (have_dl && info.dli_sname != NULL && es != NULL) {
        uintptr_t s = (uintptr_t)info.dli_saddr;
        if (addr < s + es->st_size || (es->st_size == 0 && addr == s)) {
            f->name = info.dli_sname;
            f->sym_addr = s;
            f->size = es->st_size;
            return 2;
        }
    }
    /* Inside libpython: the debug symbols know the static ones. */
    if (in_lib) {
        const sym_entry *e = debug_symbol_at(addr);
        if (e != NULL) {
            f->name = e->name;
            f->sym_addr = S.bias + (uintptr_t)e->value;
            f->size = e->size;
            return 2;
        }
    } else if (have_dl && info.dli_sname != NULL) {
        /* Elsewhere dladdr's nearest name is the best there is. */
        f->name = info.dli_sname;
        f->sym_addr = (uintptr_t)info.dli_saddr;
        f->size = es != NULL ? es->st_size : 0;
        return 2;
    }
    return f->file != NULL ? 1 : 0;
}

static size_t
plain_len(const char *name)
{
    const char *dot = strchr(name + (name[0] != '\0'), '.');
    return dot != NULL ? (size_t)(dot - name) : strlen(name);
}

/* Address → "name+0xoff (file+0xoff)"; see symbols.h. */
int
mt_sym_describe(uintptr_t addr, char *buf, size_t n)
{
    struct found f;
    int k = find(addr, &f);

    if (k == 2) {
        char off[32] = "";
        if (addr != f.sym_addr) {
            snprintf(off, sizeof off, "+0x%" PRIxPTR, addr - f.sym_addr);
        }
        if (f.file != NULL) {
            snprintf(buf, n, "%.*s%s (%s+0x%" PRIxPTR ")",
                     (int)plain_len(f.name), f.name, off, f.file,
                     addr - f.file_base);
        } else {
            snprintf(buf, n, "%.*s%s", (int)plain_len(f.name), f.name, off);
        }
        return 0;
    }
    if (k == 1) {
        snprintf(buf, n, "%s+0x%" PRIxPTR, f.file, addr - f.file_base);
        return 1;
    }
    snprintf(buf, n, "0x%" PRIxPTR, addr);
    return -1;
}

/* Just the symbol name holding addr, suffixes dropped. */
int
mt_sym_name(uintptr_t addr, char *buf, size_t n)
{
    struct found f;
    if (find(addr, &f) != 2) {
        if (n > 0) {
            buf[0] = '\0';
        }
        return -1;
    }
    snprintf(buf, n, "%.*s", (int)plain_len(f.name), f.name);
    return 0;
}

/* Size of the symbol starting exactly at addr, or 0. */
size_t
mt_sym_size(uintptr_t addr)
{
    struct found f;
    if (find(addr, &f) != 2 || f.sym_addr != addr) {
        return 0;
    }
    return f.size;
}
