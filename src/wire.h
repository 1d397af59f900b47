/* wire.h — length-prefixed binary messages: a growing buffer to write, a
 * bounded cursor to read. */
#ifndef MT_WIRE_H
#define MT_WIRE_H

#include <stddef.h>
#include <stdint.h>

typedef struct mt_wbuf {
    uint8_t *data;
    size_t len, cap;
} mt_wbuf;

void mt_wire_u32(mt_wbuf *b, uint32_t v);
void mt_wire_u64(mt_wbuf *b, uint64_t v);
void mt_wire_f64(mt_wbuf *b, double v);
void mt_wire_bytes(mt_wbuf *b, const void *p, size_t n);   /* u32 len + bytes */
void mt_wire_str(mt_wbuf *b, const char *s);               /* NULL as "" */

/* A read cursor; once a read runs past the end, `bad` is set and every
 * later read returns zeros/empty strings. */
typedef struct mt_rbuf {
    const uint8_t *p;
    size_t left;
    int bad;
} mt_rbuf;

uint32_t mt_wire_get_u32(mt_rbuf *r);
uint64_t mt_wire_get_u64(mt_rbuf *r);
double mt_wire_get_f64(mt_rbuf *r);
/* New malloc'ed copy with a NUL after it; *n gets the length. */
uint8_t *mt_wire_get_bytes(mt_rbuf *r, size_t *n);
char *mt_wire_get_str(mt_rbuf *r);

/* The largest frame either side sends or accepts. */
#define MT_WIRE_MAX (256u << 20)

/* Send one frame (u32 length, payload) on fd; retries short writes and
 * EINTR.  Returns 0 or -1 (errno set). */
int mt_wire_send(int fd, const void *p, size_t n);

/* As mt_wire_send, with a u32 tag in front of the payload (the frame's
 * payload is then n + 4 bytes). */
int mt_wire_send_tagged(int fd, uint32_t tag, const void *p, size_t n);

/* Receive one frame into a malloc'ed buffer.  Returns 0, 1 on a clean EOF
 * before any byte, -1 on error or a frame over 256 MiB. */
int mt_wire_recv(int fd, uint8_t **p, size_t *n);

/* A frame being received without blocking: bytes are taken as they come,
 * and the buffer grows with them, not with what the header claims. */
typedef struct mt_wire_rx {
    uint8_t hdr[4];
    size_t hgot;             /* header bytes so far */
    uint8_t *buf;            /* payload so far (got of len bytes) */
    size_t len, got, cap;
    double last_byte;        /* mt_now() of the last byte received */
} mt_wire_rx;

/* Read what fd has now (never blocks).  Returns 1 when a frame is whole
 * (take it with mt_wire_rx_take), 0 when more must come, -1 on error with
 * errno: 0 for EOF between frames, EPROTO for EOF inside one, EMSGSIZE for
 * a header over MT_WIRE_MAX. */
int mt_wire_rx_read(mt_wire_rx *rx, int fd);

/* Whether a frame has started (some bytes of it received). */
static inline int
mt_wire_rx_partial(const mt_wire_rx *rx)
{
    return rx->hgot > 0;
}

/* The whole frame (malloc'ed, NUL after its *n bytes; caller frees); rx is
 * ready for the next one. */
uint8_t *mt_wire_rx_take(mt_wire_rx *rx, size_t *n);

/* Forget a partial frame and free its buffer. */
void mt_wire_rx_reset(mt_wire_rx *rx);

#endif
