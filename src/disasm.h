/* disasm.h — capstone: machine code bytes → x86-64 instructions. */
#ifndef MT_DISASM_H
#define MT_DISASM_H

#include <stddef.h>
#include <stdint.h>

typedef struct mt_insn {
    uint64_t address;
    uint8_t size;
    uint8_t bytes[16];
    char text[112];          /* "jmp 0x7f…" or "push rbp" (Intel syntax) */
    uint64_t target;         /* direct branch/call target, or 0 */
} mt_insn;

/* Decode up to max instructions from code (len bytes, loaded at addr).
 * Decoding stops at the first byte capstone cannot decode.  Returns the
 * number of instructions written to out. */
size_t mt_disasm(const uint8_t *code, size_t len, uint64_t addr,
                 mt_insn *out, size_t max);

/* Capstone's version as "5.0" into buf; returns 0, -1 if unavailable. */
int mt_disasm_version(char *buf, size_t n);

#endif
