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

/* Send one frame (u32 length, payload) on fd; retries short writes and
 * EINTR.  Returns 0 or -1 (errno set). */
int mt_wire_send(int fd, const void *p, size_t n);

/* Receive one frame into a malloc'ed buffer.  Returns 0, 1 on a clean EOF
 * before any byte, -1 on error or a frame over 256 MiB. */
int mt_wire_recv(int fd, uint8_t **p, size_t *n);

#endif
