/* util.h — small helpers every module uses: allocation that never returns
 * NULL, formatted strings, a growing string, UTF-8. */
#ifndef MT_UTIL_H
#define MT_UTIL_H

#include <stdarg.h>
#include <stddef.h>

/* Allocation failure restores the terminal (through the hook the TUI sets)
 * and aborts: there is no useful way on from there.  The one way to fail
 * for running out of memory: nothing checks mt_x* results for NULL. */
void *mt_xmalloc(size_t n);
void *mt_xcalloc(size_t n, size_t size);
void *mt_xrealloc(void *p, size_t n);
char *mt_xstrdup(const char *s);
char *mt_xstrndup(const char *s, size_t n);
char *mt_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *mt_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* That failure, for a library call that reports running out of memory by
 * returning NULL (tsearch). */
_Noreturn void mt_oom(void);

/* Called before aborting on OOM; the TUI points it at its terminal restore. */
extern void (*mt_fatal_hook)(void);

/* A growing NUL-terminated string. */
typedef struct mt_str {
    char *s;
    size_t len, cap;
} mt_str;

void mt_str_add(mt_str *b, const char *s);
void mt_str_addn(mt_str *b, const char *s, size_t n);
void mt_str_addf(mt_str *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mt_str_vaddf(mt_str *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void mt_str_addc(mt_str *b, char c);
/* Take the string (never NULL: "" when empty); b is left empty. */
char *mt_str_take(mt_str *b);

/* Read a whole regular file into a malloc'ed NUL-terminated buffer,
 * refusing files over max bytes.  A FIFO, device or socket is refused at
 * once, never waited on.  Returns 0, or -1 with errno set (EFBIG when too
 * big, EISDIR for a folder, EINVAL for anything else not a regular
 * file). */
int mt_read_file(const char *path, size_t max, char **out, size_t *len);

/* Check that s[0..len) is valid UTF-8 (no overlong forms, surrogates or
 * code points above U+10FFFF).  Returns 0, or -1 with *bad = offset of the
 * first byte of the bad sequence. */
int mt_utf8_check(const char *s, size_t len, size_t *bad);

/* Display width in terminal columns of UTF-8 text (n bytes). */
int mt_utf8_width(const char *s, size_t n);

/* Monotonic seconds. */
double mt_now(void);

#endif
