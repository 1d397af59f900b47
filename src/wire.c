/* wire.c — length-prefixed binary messages between frontend and worker. */
#include "wire.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static void
put(mt_wbuf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n) {
            cap *= 2;
        }
        b->data = mt_xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void
mt_wire_u32(mt_wbuf *b, uint32_t v)
{
    put(b, &v, sizeof v);
}

void
mt_wire_u64(mt_wbuf *b, uint64_t v)
{
    put(b, &v, sizeof v);
}

void
mt_wire_f64(mt_wbuf *b, double v)
{
    put(b, &v, sizeof v);
}

void
mt_wire_bytes(mt_wbuf *b, const void *p, size_t n)
{
    mt_wire_u32(b, (uint32_t)n);
    put(b, p, n);
}

void
mt_wire_str(mt_wbuf *b, const char *s)
{
    s = s ? s : "";
    mt_wire_bytes(b, s, strlen(s));
}

static int
take(mt_rbuf *r, void *out, size_t n)
{
    if (r->bad || r->left < n) {
        r->bad = 1;
        memset(out, 0, n);
        return -1;
    }
    memcpy(out, r->p, n);
    r->p += n;
    r->left -= n;
    return 0;
}

uint32_t
mt_wire_get_u32(mt_rbuf *r)
{
    uint32_t v;
    take(r, &v, sizeof v);
    return v;
}

uint64_t
mt_wire_get_u64(mt_rbuf *r)
{
    uint64_t v;
    take(r, &v, sizeof v);
    return v;
}

double
mt_wire_get_f64(mt_rbuf *r)
{
    double v;
    take(r, &v, sizeof v);
    return v;
}

uint8_t *
mt_wire_get_bytes(mt_rbuf *r, size_t *n)
{
    uint32_t len = mt_wire_get_u32(r);
    if (r->bad || r->left < len) {
        r->bad = 1;
        len = 0;
    }
    uint8_t *p = mt_xmalloc((size_t)len + 1);
    if (len > 0) {
        take(r, p, len);
    }
    p[len] = '\0';
    if (n != NULL) {
        *n = len;
    }
    return p;
}

char *
mt_wire_get_str(mt_rbuf *r)
{
    size_t n;
    char *s = (char *)mt_wire_get_bytes(r, &n);
    if (memchr(s, '\0', n) != NULL) {
        r->bad = 1;
    }
    return s;
}

/* Write the iovecs whole, retrying short writes and EINTR. */
static int
writev_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

/* Returns bytes read (== n), 0 on EOF before any byte, -1 on error/short. */
static ssize_t
read_all(int fd, void *p, size_t n)
{
    uint8_t *q = p;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, q + got, n - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return -1;
        }
        if (r == 0) {
            if (got == 0) {
                return 0;
            }
            errno = EPROTO;
            return -1;
        }
        got += (size_t)r;
    }
    return (ssize_t)got;
}

int
mt_wire_send(int fd, const void *p, size_t n)
{
    uint32_t len = (uint32_t)n;
    if (n > MT_WIRE_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    /* One write for length and payload: a request is then one message in
     * the socket's queue, not two. */
    struct iovec iov[2] = {{&len, sizeof len}, {(void *)p, n}};
    return writev_all(fd, iov, n > 0 ? 2 : 1);
}

int
mt_wire_send_tagged(int fd, uint32_t tag, const void *p, size_t n)
{
    uint32_t len = (uint32_t)(n + sizeof tag);
    if (n > MT_WIRE_MAX - sizeof tag) {
        errno = EMSGSIZE;
        return -1;
    }
    struct iovec iov[3] = {{&len, sizeof len}, {&tag, sizeof tag}, {(void *)p, n}};
    return writev_all(fd, iov, n > 0 ? 3 : 2);
}

int
mt_wire_recv(int fd, uint8_t **p, size_t *n)
{
    uint32_t len;
    ssize_t r = read_all(fd, &len, sizeof len);
    if (r == 0) {
        return 1;
    }
    if (r < 0) {
        return -1;
    }
    if (len > MT_WIRE_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    uint8_t *buf = mt_xmalloc((size_t)len + 1);
    if (len > 0 && read_all(fd, buf, len) != (ssize_t)len) {
        free(buf);
        if (errno == 0) {
            errno = EPROTO;
        }
        return -1;
    }
    buf[len] = '\0';
    *p = buf;
    *n = len;
    return 0;
}

int
mt_wire_rx_read(mt_wire_rx *rx, int fd)
{
    for (;;) {
        uint8_t *into;
        size_t want;
        if (rx->hgot < sizeof rx->hdr) {
            into = rx->hdr + rx->hgot;
            want = sizeof rx->hdr - rx->hgot;
        } else {
            if (rx->got == rx->len) {
                return 1;
            }
            /* The buffer grows with what arrives, not with what the
             * header claims: a forged length costs nothing until the
             * bytes come. */
            if (rx->got == rx->cap) {
                size_t cap = rx->cap ? 2 * rx->cap : 65536;
                if (cap > rx->len + 1) {
                    cap = rx->len + 1;
                }
                rx->buf = mt_xrealloc(rx->buf, cap);
                rx->cap = cap;
            }
            into = rx->buf + rx->got;
            want = (rx->cap < rx->len ? rx->cap : rx->len) - rx->got;
        }
        ssize_t r = recv(fd, into, want, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        }
        if (r < 0) {
            return -1;
        }
        if (r == 0) {
            errno = rx->hgot == 0 ? 0 : EPROTO;
            return -1;
        }
        if (rx->hgot < sizeof rx->hdr) {
            rx->hgot += (size_t)r;
            if (rx->hgot == sizeof rx->hdr) {
                uint32_t len;
                memcpy(&len, rx->hdr, sizeof len);
                if (len > MT_WIRE_MAX) {
                    errno = EMSGSIZE;
                    return -1;
                }
                rx->len = len;
                rx->got = 0;
            }
        } else {
            rx->got += (size_t)r;
        }
        rx->last_byte = mt_now();
    }
}

uint8_t *
mt_wire_rx_take(mt_wire_rx *rx, size_t *n)
{
    uint8_t *p = rx->buf ? rx->buf : mt_xmalloc(1);
    if (rx->cap < rx->len + 1) {
        p = mt_xrealloc(p, rx->len + 1);
    }
    p[rx->len] = '\0';
    *n = rx->len;
    rx->buf = NULL;
    rx->cap = rx->got = rx->len = rx->hgot = 0;
    return p;
}

void
mt_wire_rx_reset(mt_wire_rx *rx)
{
    free(rx->buf);
    memset(rx, 0, sizeof *rx);
}
