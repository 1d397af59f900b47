/* mem.h — safe reads of this process's own memory, mapping permissions, diffs. */
#ifndef MT_MEM_H
#define MT_MEM_H

#include <stddef.h>
#include <stdint.h>

/* Read up to len bytes at addr into buf without ever faulting.
 * Uses process_vm_readv on the process itself; when the kernel refuses it
 * (EPERM, ENOSYS) falls back to pread on /proc/self/mem.  When ok is not
 * NULL, ok[i] is set to 1 for every byte read and 0 for every unreadable
 * byte (whose buf[i] is set to 0).  Returns the number of readable bytes. */
size_t mt_mem_read(uintptr_t addr, void *buf, size_t len, uint8_t *ok);

/* Force (on != 0) or stop forcing the /proc/self/mem fallback; for tests. */
void mt_mem_force_fallback(int on);

/* Mapping questions are answered by the PROCMAP_QUERY ioctl where the
 * kernel has it (Linux 6.11), else by reading /proc/self/maps as text.
 * Force (on != 0) the text, for tests. */
void mt_mem_force_maps_text(int on);

/* One mapping of /proc/self/maps. */
typedef struct mt_mapping {
    uintptr_t start, end;
    uint64_t offset;         /* file offset of start */
    char perms[5];           /* "r-xp", NUL-terminated */
    char path[256];          /* "" for anonymous mappings */
} mt_mapping;

/* Find the mapping holding addr.  Returns 0 and fills *m, or -1 when addr
 * is not mapped. */
int mt_mem_mapping(uintptr_t addr, mt_mapping *m);

/* Permissions of the mapping holding addr, as "r-xp", or "----" when not
 * mapped.  perms must hold 5 bytes. */
void mt_mem_perms(uintptr_t addr, char perms[5]);

/* Return 1 if any mapping is both writable and executable (and, when where
 * is not NULL, a malloc'ed description of the first one, caller frees),
 * else 0. */
int mt_mem_any_wx(char **where);

/* Every mapping that is both writable and executable: a malloc'ed array
 * (caller frees; may be NULL when *n is 0) of *n entries. */
mt_mapping *mt_mem_wx_list(size_t *n);

/* The pristine bytes of code at `at`: read from the file its mapping comes
 * from, at the same offset (code is not relocated, so the file is the
 * truth, whenever it is asked).  Returns 0, or -1 when the mapping has no
 * file or it cannot be read. */
int mt_mem_file_bytes(uintptr_t at, uint8_t *out, size_t n);

/* Write len bytes over memory that may be read-only (code).  The
 * permissions of every page in the range are read from /proc/self/maps
 * first, made writable for the copy, then put back exactly as they were.
 * Returns 0, or -1 with a malloc'ed message in *err (caller frees). */
int mt_mem_write_protected(uintptr_t addr, const void *bytes, size_t len,
                           char **err);

/* changed[i] = (a[i] != b[i]) for i < n.  Returns the number changed. */
size_t mt_mem_diff(const uint8_t *a, const uint8_t *b, size_t n,
                   uint8_t *changed);

#endif
