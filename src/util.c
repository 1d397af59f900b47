/* util.c — allocation that never returns NULL, formatted and growing strings,
 * whole-file reads, UTF-8 checks and width, a monotonic clock. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

void (*mt_fatal_hook)(void);

_Noreturn void
mt_oom(void)
{
    if (mt_fatal_hook != NULL) {
        mt_fatal_hook();
    }
    static const char msg[] = "ministry-tutor: out of memory\n";
    (void)!write(2, msg, sizeof msg - 1);
    abort();
}

void *
mt_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        mt_oom();
    }
    return p;
}

void *
mt_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) {
        mt_oom();
    }
    return p;
}

void *
mt_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) {
        mt_oom();
    }
    return q;
}

char *
mt_xstrdup(const char *s)
{
    return mt_xstrndup(s, strlen(s));
}

char *
mt_xstrndup(const char *s, size_t n)
{
    char *p = mt_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
mt_xvasprintf(const char *fmt, va_list ap)
{
    char *p = NULL;
    if (vasprintf(&p, fmt, ap) < 0) {
        mt_oom();
    }
    return p;
}

char *
mt_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = mt_xvasprintf(fmt, ap);
    va_end(ap);
    return p;
}

static void
str_grow(mt_str *b, size_t more)
{
    if (b->len + more + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        while (cap < b->len + more + 1) {
            cap *= 2;
        }
        b->s = mt_xrealloc(b->s, cap);
        b->cap = cap;
    }
}

void
mt_str_addn(mt_str *b, const char *s, size_t n)
{
    str_grow(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void
mt_str_add(mt_str *b, const char *s)
{
    mt_str_addn(b, s, strlen(s));
}

void
mt_str_addc(mt_str *b, char c)
{
    mt_str_addn(b, &c, 1);
}

void
mt_str_vaddf(mt_str *b, const char *fmt, va_list ap)
{
    char *p = mt_xvasprintf(fmt, ap);
    mt_str_add(b, p);
    free(p);
}

void
mt_str_addf(mt_str *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mt_str_vaddf(b, fmt, ap);
    va_end(ap);
}

char *
mt_str_take(mt_str *b)
{
    char *s = b->s ? b->s : mt_xstrdup("");
    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

int
mt_read_file(const char *path, size_t max, char **out, size_t *len)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer.  What is not
     * a regular file is refused before a byte is read. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        goto fail;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    if (st.st_size > (off_t)max) {
        errno = EFBIG;
        goto fail;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = mt_xmalloc(cap + 1);
    for (;;) {
        if (n == cap) {
            if (n > max) {
                free(buf);
                errno = EFBIG;
                goto fail;
            }
            cap *= 2;
            buf = mt_xrealloc(buf, cap + 1);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            free(buf);
            goto fail;
        }
        if (r == 0) {
            break;
        }
        n += (size_t)r;
    }
    if (n > max) {
        free(buf);
        errno = EFBIG;
        goto fail;
    }
    close(fd);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
fail:;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

/* The length of the valid UTF-8 sequence at s[0..len), or 0 if there is
 * none (s[0] >= 0x80). */
static size_t
utf8_seq(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;
    uint32_t min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len < n) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return n;
}

int
mt_utf8_check(const char *s, size_t len, size_t *bad)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = u[i] < 0x80 ? 1 : utf8_seq(u + i, len - i);
        if (n == 0) {
            *bad = i;
            return -1;
        }
        i += n;
    }
    return 0;
}

int
mt_utf8_width(const char *s, size_t n)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    int w = 0;
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            w += c >= 0x20;
            i++;
            continue;
        }
        /* Decode one UTF-8 sequence by hand: the locale may not be UTF-8. */
        size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        uint32_t cp = k == 4 ? c & 7u : k == 3 ? c & 15u : k == 2 ? c & 31u : '?';
        for (size_t j = 1; j < k && i + j < n; j++) {
            cp = cp << 6 | ((unsigned char)s[i + j] & 63u);
        }
        int cw = wcwidth((wchar_t)cp);
        w += cw < 0 ? 1 : cw;
        i += k;
    }
    return w;
}

double
mt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
