/* mem.c — safe reads of this process's own memory, /proc/self/maps, patching read-only pages. */
#include "mem.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

/* Reads go through process_vm_readv(getpid()): a bad address gives EFAULT,
 * never SIGSEGV.  Where the kernel refuses that call for the process itself
 * (seccomp, old kernels) reads switch, for good, to pread on /proc/self/mem.
 * That path would also see PROT_NONE pages (the kernel reads them with
 * FOLL_FORCE), so it only reads pages whose mapping is readable: both paths
 * then agree on what "readable" means. */

static int force_fallback;
static int vm_readv_refused;

static size_t
page_size(void)
{
    static size_t ps;
    if (ps == 0) {
        long v = sysconf(_SC_PAGESIZE);
        ps = v > 0 ? (size_t)v : 4096;
    }
    return ps;
}

/* Linux 6.11 answers questions about one mapping through an ioctl on
 * /proc/self/maps (PROCMAP_QUERY), without printing them all as text.
 * Older kernels (ENOTTY) get the text.  The UAPI struct is declared here
 * because Debian 12's headers predate it. */
struct mt_procmap_query {
    uint64_t size;
    uint64_t query_flags;
    uint64_t query_addr;
    uint64_t vma_start, vma_end, vma_flags, vma_page_size, vma_offset;
    uint64_t inode;
    uint32_t dev_major, dev_minor;
    uint32_t vma_name_size, build_id_size;
    uint64_t vma_name_addr, build_id_addr;
};
#define MT_PROCMAP_QUERY _IOWR('f', 17, struct mt_procmap_query)
enum {
    MT_PMQ_READ = 1, MT_PMQ_WRITE = 2, MT_PMQ_EXEC = 4, MT_PMQ_SHARED = 8,
    MT_PMQ_COVERING_OR_NEXT = 0x10
};

static int pmq_broken;          /* the kernel said no once: text from now on */
static int pmq_off;             /* forced off, for the tests */

void
mt_mem_force_maps_text(int on)
{
    pmq_off = on != 0;
}

/* The mapping at addr (or, with MT_PMQ_COVERING_OR_NEXT, the first one at
 * or after it) that has the flags asked for.  Returns 0 and fills *m, 1
 * when there is none, -1 when the kernel cannot answer this way. */
static int
pmq(uintptr_t addr, uint64_t flags, mt_mapping *m)
{
    static int fd = -1;
    static pid_t fd_pid;
    if (pmq_broken || pmq_off) {
        return -1;
    }
    if (fd < 0 || fd_pid != getpid()) {    /* "self" was whoever opened it */
        if (fd >= 0) {
            close(fd);
        }
        fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
        fd_pid = getpid();
        if (fd < 0) {
            pmq_broken = 1;
            return -1;
        }
    }
    struct mt_procmap_query q;
    memset(&q, 0, sizeof q);
    memset(m, 0, sizeof *m);
    q.size = sizeof q;
    q.query_flags = flags;
    q.query_addr = addr;
    q.vma_name_addr = (uint64_t)(uintptr_t)m->path;
    q.vma_name_size = sizeof m->path;
    if (ioctl(fd, MT_PROCMAP_QUERY, &q) < 0) {
        if (errno == ENOENT) {
            return 1;
        }
        if (errno == ENAMETOOLONG) {           /* a name longer than path[] */
            q.vma_name_addr = 0;
            q.vma_name_size = 0;
            if (ioctl(fd, MT_PROCMAP_QUERY, &q) == 0) {
                goto found;
            }
        }
        pmq_broken = 1;
        return -1;
    }
found:
    m->start = (uintptr_t)q.vma_start;
    m->end = (uintptr_t)q.vma_end;
    m->offset = q.vma_offset;
    m->perms[0] = q.vma_flags & MT_PMQ_READ ? 'r' : '-';
    m->perms[1] = q.vma_flags & MT_PMQ_WRITE ? 'w' : '-';
    m->perms[2] = q.vma_flags & MT_PMQ_EXEC ? 'x' : '-';
    m->perms[3] = q.vma_flags & MT_PMQ_SHARED ? 's' : 'p';
    m->perms[4] = '\0';
    return 0;
}

/* The whole of /proc/self/maps in one malloc'ed, NUL-terminated buffer
 * (caller frees), read with plain read(2) calls; NULL with errno set. */
static char *
maps_text(void)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return NULL;
    }
    size_t cap = 32768, len = 0;
    char *buf = mt_xmalloc(cap);
    for (;;) {
        if (cap - len < 4096) {
            cap *= 2;
            buf = mt_xrealloc(buf, cap);
        }
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            free(buf);
            buf = NULL;
            break;
        }
        if (r == 0) {
            buf[len] = '\0';
            break;
        }
        len += (size_t)r;
    }
    int e = errno;
    close(fd);
    errno = e;
    return buf;
}

static int
hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A hex number at *p; *p moves past it.  Returns -1 when there is none. */
static int
hex(const char **p, uint64_t *v)
{
    const char *q = *p;
    *v = 0;
    while (hexval(*q) >= 0) {
        *v = *v << 4 | (uint64_t)hexval(*q);
        q++;
    }
    if (q == *p) {
        return -1;
    }
    *p = q;
    return 0;
}

/* One line of maps, "start-end perms offset dev inode   path", into *m.
 * Returns 0, or -1 when the line is not one.  By hand: a dump reads this
 * file often, and sscanf/strtoull were most of a read. */
static int
maps_line(const char *p, const char *end, mt_mapping *m)
{
    uint64_t start, stop, offset;
    memset(m, 0, sizeof *m);
    if (hex(&p, &start) < 0 || *p != '-') {
        return -1;
    }
    p++;
    if (hex(&p, &stop) < 0 || end - p < 6 || p[0] != ' ' || p[5] != ' ') {
        return -1;
    }
    memcpy(m->perms, p + 1, 4);
    p += 6;
    if (hex(&p, &offset) < 0) {
        return -1;
    }
    m->start = (uintptr_t)start;
    m->end = (uintptr_t)stop;
    m->offset = offset;
    for (int field = 0; field < 2; field++) {      /* dev, inode */
        while (p < end && *p == ' ') {
            p++;
        }
        while (p < end && *p != ' ') {
            p++;
        }
    }
    while (p < end && *p == ' ') {
        p++;
    }
    size_t pl = (size_t)(end - p);
    if (pl >= sizeof m->path) {
        pl = sizeof m->path - 1;
    }
    memcpy(m->path, p, pl);
    m->path[pl] = '\0';
    return 0;
}

/* The mappings of /proc/self/maps for which keep(line) is true (all when
 * keep is NULL).  Returns a malloc'ed array (caller frees) and its length
 * in *n, or NULL with errno set. */
static mt_mapping *
maps_select(size_t *n, int (*keep)(const char *line))
{
    char *text = maps_text();
    mt_mapping *v = NULL;
    size_t len = 0, cap = 0;

    *n = 0;
    if (text == NULL) {
        return NULL;
    }
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        if (e == NULL) {
            e = p + strlen(p);
        }
        mt_mapping m;
        if ((keep == NULL || keep(p)) && maps_line(p, e, &m) == 0) {
            if (len == cap) {
                cap = cap ? cap * 2 : 64;
                v = mt_xrealloc(v, cap * sizeof *v);
            }
            v[len++] = m;
        }
        p = *e ? e + 1 : e;
    }
    free(text);
    if (v == NULL) {
        v = mt_xmalloc(sizeof *v);   /* empty but not an error */
    }
    *n = len;
    return v;
}

/* Whether a maps line's permissions are "?wx?", read without parsing it. */
static int
line_wx(const char *line)
{
    const char *sp = strchr(line, ' ');
    return sp != NULL && sp[1] != '\0' && sp[2] == 'w' && sp[3] == 'x';
}

/* All of /proc/self/maps, parsed.  Returns a malloc'ed array (caller frees)
 * and its length in *n, or NULL with errno set. */
static mt_mapping *
maps_load(size_t *n)
{
    return maps_select(n, NULL);
}

static const mt_mapping *
maps_find(const mt_mapping *v, size_t n, uintptr_t addr)
{
    for (size_t i = 0; i < n; i++) {
        if (addr >= v[i].start && addr < v[i].end) {
            return &v[i];
        }
    }
    return NULL;
}

static int
perms_prot(const char *perms)
{
    int prot = PROT_NONE;
    if (perms[0] == 'r') {
        prot |= PROT_READ;
    }
    if (perms[1] == 'w') {
        prot |= PROT_WRITE;
    }
    if (perms[2] == 'x') {
        prot |= PROT_EXEC;
    }
    return prot;
}

/* /proc/self/mem of this process, reopened after a fork (an fd opened by
 * the parent would keep reading the parent's memory). */
static int
self_mem_fd(void)
{
    static int fd = -1;
    static pid_t fd_pid;
    pid_t pid = getpid();
    if (fd >= 0 && fd_pid != pid) {
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
        fd_pid = pid;
    }
    return fd;
}

/* Reads [addr, addr+len) with process_vm_readv.  Returns bytes read (a
 * prefix), or -1 when the kernel refuses the call itself. */
static ssize_t
read_vm(uintptr_t addr, void *buf, size_t len)
{
    struct iovec local = {buf, len};
    struct iovec remote = {(void *)addr, len};
    ssize_t r = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    if (r < 0) {
        if (errno == EPERM || errno == ENOSYS) {
            return -1;
        }
        return 0;
    }
    return r;
}

/* The fallback: one page (or less) through /proc/self/mem, only when the
 * mapping is readable.  Returns bytes read. */
static size_t
read_proc(const mt_mapping *maps, size_t nmaps, uintptr_t addr, void *buf,
          size_t len)
{
    const mt_mapping *m = maps_find(maps, nmaps, addr);
    if (m == NULL || m->perms[0] != 'r') {
        return 0;
    }
    int fd = self_mem_fd();
    if (fd < 0) {
        return 0;
    }
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, (char *)buf + got, len - got,
                          (off_t)(addr + got));
        if (r <= 0) {
            if (r < 0 && errno == EINTR) {
                continue;
            }
            break;
        }
        got += (size_t)r;
    }
    return got;
}

/* Reads len bytes at addr, never faulting: see mem.h. */
size_t
mt_mem_read(uintptr_t addr, void *buf, size_t len, uint8_t *ok)
{
    uint8_t *out = buf;
    size_t total = 0, done = 0;
    size_t ps = page_size();
    mt_mapping *maps = NULL;
    size_t nmaps = 0;
    int fallback = force_fallback || vm_readv_refused;

    if (len == 0) {
        return 0;
    }
    if (addr + len < addr) {
        len = UINTPTR_MAX - addr;   /* do not wrap around */
    }
    if (!fallback) {
        /* One call for the common case: everything readable. */
        ssize_t r = read_vm(addr, buf, len);
        if (r < 0) {
            vm_readv_refused = 1;
            fallback = 1;
        } else {
            done = total = (size_t)r;
            if (ok != NULL) {
                memset(ok, 1, done);
            }
        }
    }
    if (fallback && done < len) {
        maps = maps_load(&nmaps);
    }
    /* The rest page by page, so one bad page does not hide the next. */
    while (done < len) {
        uintptr_t a = addr + done;
        size_t chunk = ps - (size_t)(a % ps);
        if (chunk > len - done) {
            chunk = len - done;
        }
        size_t got = 0;
        if (fallback) {
            got = read_proc(maps, nmaps, a, out + done, chunk);
        } else {
            ssize_t r = read_vm(a, out + done, chunk);
            got = r > 0 ? (size_t)r : 0;
        }
        memset(out + done + got, 0, chunk - got);
        if (ok != NULL) {
            memset(ok + done, 1, got);
            memset(ok + done + got, 0, chunk - got);
        }
        total += got;
        done += chunk;
    }
    free(maps);
    return total;
}

/* Forces (on != 0) the /proc/self/mem path for the tests. */
void
mt_mem_force_fallback(int on)
{
    force_fallback = on != 0;
}

/* Finds the mapping holding addr: 0 and *m, or -1. */
int
mt_mem_mapping(uintptr_t addr, mt_mapping *m)
{
    int q = pmq(addr, 0, m);
    if (q >= 0) {
        return q == 0 ? 0 : -1;
    }
    size_t n;
    mt_mapping *v = maps_load(&n);
    const mt_mapping *hit = v ? maps_find(v, n, addr) : NULL;
    int rc = -1;
    if (hit != NULL) {
        *m = *hit;
        rc = 0;
    }
    free(v);
    return rc;
}

/* Permissions of the mapping holding addr, "----" when unmapped. */
void
mt_mem_perms(uintptr_t addr, char perms[5])
{
    mt_mapping m;
    if (mt_mem_mapping(addr, &m) == 0) {
        memcpy(perms, m.perms, 5);
    } else {
        memcpy(perms, "----", 5);
    }
}

/* 1 if some mapping is writable and executable (described in *where,
 * malloc'ed, caller frees), else 0. */
int
mt_mem_any_wx(char **where)
{
    size_t n;
    mt_mapping *v = mt_mem_wx_list(&n);
    if (where != NULL) {
        *where = n > 0 ? mt_xasprintf("%" PRIxPTR "-%" PRIxPTR " %s %s", v[0].start, v[0].end,
                                      v[0].perms, v[0].path[0] ? v[0].path : "[anonymous]")
                       : NULL;
    }
    free(v);
    return n > 0;
}


/* Every mapping that is writable and executable: see mem.h. */
mt_mapping *
mt_mem_wx_list(size_t *n)
{
    mt_mapping m, *v = NULL;
    size_t len = 0;
    uintptr_t at = 0;
    int q;
    while ((q = pmq(at, MT_PMQ_COVERING_OR_NEXT | MT_PMQ_WRITE | MT_PMQ_EXEC, &m)) == 0) {
        v = mt_xrealloc(v, (len + 1) * sizeof *v);
        v[len++] = m;
        at = m.end;
    }
    if (q < 0 && len == 0) {
        free(v);
        return maps_select(n, line_wx);     /* an older kernel: the text */
    }
    *n = len;
    return v;
}

/* Writes over possibly read-only memory, restoring each page's permissions:
 * see mem.h.  The pages keep PROT_EXEC while writable, so code that runs
 * from them (another function on the same page) does not fault. */
int
mt_mem_write_protected(uintptr_t addr, const void *bytes, size_t len,
                       char **err)
{
    size_t ps = page_size();
    uintptr_t first = addr - addr % ps;
    size_t npages, nmaps = 0, changed = 0;
    int *prot = NULL;
    mt_mapping *maps = NULL;
    int rc = -1;

    if (err != NULL) {
        *err = NULL;
    }
    if (len == 0) {
        return 0;
    }
    if (addr + len < addr) {
        if (err != NULL) {
            *err = mt_xasprintf("write of %zu bytes at 0x%" PRIxPTR
                                " wraps around the address space", len, addr);
        }
        return -1;
    }
    npages = (addr + len - first + ps - 1) / ps;
    prot = mt_xcalloc(npages, sizeof *prot);
    maps = maps_load(&nmaps);
    if (maps == NULL) {
        if (err != NULL) {
            *err = mt_xasprintf("cannot read /proc/self/maps: %s", strerror(errno));
        }
        goto cleanup;
    }
    for (size_t i = 0; i < npages; i++) {
        uintptr_t pg = first + i * ps;
        const mt_mapping *m = maps_find(maps, nmaps, pg);
        if (m == NULL) {
            if (err != NULL) {
                *err = mt_xasprintf("page 0x%" PRIxPTR " is not mapped", pg);
            }
            goto cleanup;
        }
        prot[i] = perms_prot(m->perms);
    }
    for (changed = 0; changed < npages; changed++) {
        uintptr_t pg = first + changed * ps;
        if (prot[changed] & PROT_WRITE) {
            continue;
        }
        if (mprotect((void *)pg, ps, prot[changed] | PROT_READ | PROT_WRITE)
            != 0) {
            if (err != NULL) {
                *err = mt_xasprintf("mprotect(0x%" PRIxPTR ", writable): %s", pg,
                                    strerror(errno));
            }
            goto cleanup;
        }
    }
    memcpy((void *)addr, bytes, len);
    rc = 0;

cleanup:
    /* Put back exactly what each page had, also after a failure. */
    for (size_t i = 0; i < changed; i++) {
        uintptr_t pg = first + i * ps;
        if (prot[i] & PROT_WRITE) {
            continue;
        }
        if (mprotect((void *)pg, ps, prot[i]) != 0) {
            if (err != NULL && *err == NULL) {
                *err = mt_xasprintf("mprotect(0x%" PRIxPTR ") back to its "
                                    "permissions: %s", pg, strerror(errno));
            }
            rc = -1;
        }
    }
    free(prot);
    free(maps);
    return rc;
}

/* changed[i] = (a[i] != b[i]); returns the count. */
size_t
mt_mem_diff(const uint8_t *a, const uint8_t *b, size_t n, uint8_t *changed)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = a[i] != b[i];
        if (changed != NULL) {
            changed[i] = c;
        }
        count += c;
    }
    return count;
}

int
mt_mem_file_bytes(uintptr_t at, uint8_t *out, size_t n)
{
    mt_mapping m;
    if (mt_mem_mapping(at, &m) < 0 || m.path[0] != '/' || strstr(m.path, " (deleted)")) {
        return -1;
    }
    int fd = open(m.path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    ssize_t got = pread(fd, out, n, (off_t)(m.offset + (at - m.start)));
    close(fd);
    return got == (ssize_t)n ? 0 : -1;
}
