/* symbols.c (bench) — time to open libpython's debug symbols and resolve
 * long_add and the folding site through src/symbols.c, cold or warm. */
#include <Python.h>

#include "symbols.h"

/* Where 2 + 2 is folded, a static function (as src/ministry.c says):
 * the AST optimiser up to 3.13, the CFG optimiser's block pass from 3.14. */
#if PY_VERSION_HEX >= 0x030E0000
#define FOLDER "optimize_basic_block"
#else
#define FOLDER "_PyAST_Optimize"
#endif

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Usage: bench-symbols cold|warm
 * One measurement in this fresh process.  cold: the debug file is first
 * evicted from the page cache (posix_fadvise DONTNEED; mincore tells how
 * much was left); warm: it is first read once so that it is all cached.
 * Prints one tab-separated line:
 *   mode resident_pct first_ms again_us name_ms
 * first_ms: mt_sym_debug_ready + both lookups, the first use in a process;
 * again_us: both lookups once more; name_ms: the first address → name
 * (which sorts the table).  Exit 1 when a symbol cannot be resolved. */

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Percentage of the file's pages in the page cache, or -1. */
static double
resident_pct(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat stb;
    double pct = -1;
    if (fd < 0 || fstat(fd, &stb) < 0 || stb.st_size == 0) {
        goto out;
    }
    void *m = mmap(NULL, (size_t)stb.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        goto out;
    }
    long pg = sysconf(_SC_PAGESIZE);
    size_t npages = ((size_t)stb.st_size + (size_t)pg - 1) / (size_t)pg;
    unsigned char *vec = malloc(npages);
    if (vec != NULL && mincore(m, (size_t)stb.st_size, vec) == 0) {
        size_t in = 0;
        for (size_t i = 0; i < npages; i++) {
            in += vec[i] & 1;
        }
        pct = 100.0 * (double)in / (double)npages;
    }
    free(vec);
    munmap(m, (size_t)stb.st_size);
out:
    if (fd >= 0) {
        close(fd);
    }
    return pct;
}

/* Evict (cold) or load (warm) the whole file in the page cache. */
static void
prepare(const char *path, int cold)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return;
    }
    if (cold) {
        fdatasync(fd);
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    } else {
        char buf[1 << 16];
        while (read(fd, buf, sizeof buf) > 0) {
        }
    }
    close(fd);
}

int
main(int argc, char **argv)
{
    const char *why = NULL;
    uintptr_t a1 = 0, a2 = 0;
    char path[4096], name[256];

    if (argc != 2 || (strcmp(argv[1], "cold") != 0 && strcmp(argv[1], "warm") != 0)) {
        fprintf(stderr, "usage: bench-symbols cold|warm\n");
        return 2;
    }
    int cold = strcmp(argv[1], "cold") == 0;
    (void)Py_GetVersion();     /* libpython is loaded here, as in the worker */

    /* The debug file's name from the loaded library's build-id, without
     * opening it through the service (that is what is being timed). */
    const char *hex = mt_sym_libpython_build_id();
    if (strlen(hex) < 3) {
        fprintf(stderr, "bench-symbols: no build-id for libpython\n");
        return 1;
    }
    snprintf(path, sizeof path, "%s/.build-id/%.2s/%s.debug", mt_sym_debug_dir(), hex, hex + 2);
    prepare(path, cold);
    double resident = resident_pct(path);

    double t0 = now_ms();
    int rc = mt_sym_debug_ready(&why);
    rc |= mt_sym_lookup("long_add", &a1, &why);
    rc |= mt_sym_lookup(FOLDER, &a2, &why);
    double t1 = now_ms();
    rc |= mt_sym_lookup("long_add", &a1, &why);
    rc |= mt_sym_lookup(FOLDER, &a2, &why);
    double t2 = now_ms();
    rc |= mt_sym_name(a1, name, sizeof name);
    double t3 = now_ms();
    if (rc != 0 || strcmp(name, "long_add") != 0) {
        fprintf(stderr, "bench-symbols: %s\n", why ? why : "long_add did not name itself");
        return 1;
    }
    printf("%s\t%.1f\t%.3f\t%.1f\t%.3f\n", argv[1], resident, t1 - t0, (t2 - t1) * 1e3,
           t3 - t2);
    return 0;
}
