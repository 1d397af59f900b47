/* disasm.c — capstone: machine code bytes → x86-64 instructions (Intel syntax). */
#include "disasm.h"

#include <capstone/capstone.h>
#include <stdio.h>
#include <string.h>

/* One capstone handle for the process, opened on first use with details on
 * (needed for branch targets). */
static struct {
    int tried;
    int ok;
    csh handle;
} D;

/* Whether the handle is open (opening it the first time). */
static int
handle_ready(void)
{
    if (D.tried) {
        return D.ok;
    }
    D.tried = 1;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &D.handle) != CS_ERR_OK) {
        return 0;
    }
    if (cs_option(D.handle, CS_OPT_SYNTAX, CS_OPT_SYNTAX_INTEL) != CS_ERR_OK
        || cs_option(D.handle, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK) {
        cs_close(&D.handle);
        return 0;
    }
    D.ok = 1;
    return 1;
}

/* Appends s to the NUL-terminated text (size n), cutting what does not fit. */
static void
text_add(char *text, size_t n, const char *s)
{
    size_t len = strlen(text);
    size_t add = strlen(s);
    if (len + 1 >= n) {
        return;
    }
    if (add > n - 1 - len) {
        add = n - 1 - len;
    }
    memcpy(text + len, s, add);
    text[len + add] = '\0';
}

/* The target of a direct jmp/jcc/call (an immediate operand), else 0. */
static uint64_t
branch_target(csh h, const cs_insn *in)
{
    if (in->detail == NULL
        || !(cs_insn_group(h, in, CS_GRP_JUMP)
             || cs_insn_group(h, in, CS_GRP_CALL))) {
        return 0;
    }
    const cs_x86 *x = &in->detail->x86;
    if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM) {
        return (uint64_t)x->operands[0].imm;
    }
    return 0;
}

/* Decodes up to max instructions of code (loaded at addr) into out,
 * stopping at the first undecodable byte; returns how many.  Nothing to
 * free: out belongs to the caller. */
size_t
mt_disasm(const uint8_t *code, size_t len, uint64_t addr, mt_insn *out,
          size_t max)
{
    size_t n = 0;

    if (code == NULL || max == 0 || !handle_ready()) {
        return 0;
    }
    cs_insn *in = cs_malloc(D.handle);
    if (in != NULL) {
        const uint8_t *p = code;
        size_t left = len;
        uint64_t at = addr;
        while (n < max && cs_disasm_iter(D.handle, &p, &left, &at, in)) {
            mt_insn *o = &out[n++];
            memset(o, 0, sizeof *o);
            o->address = in->address;
            o->size = (uint8_t)in->size;
            memcpy(o->bytes, in->bytes,
                   in->size < sizeof o->bytes ? in->size : sizeof o->bytes);
            text_add(o->text, sizeof o->text, in->mnemonic);
            if (in->op_str[0] != '\0') {
                text_add(o->text, sizeof o->text, " ");
                text_add(o->text, sizeof o->text, in->op_str);
            }
            o->target = branch_target(D.handle, in);
        }
        cs_free(in, 1);
    }
    return n;
}

/* Capstone's version, "4.0", into buf. */
int
mt_disasm_version(char *buf, size_t n)
{
    int major = 0, minor = 0;
    cs_version(&major, &minor);
    if (major == 0) {
        return -1;
    }
    snprintf(buf, n, "%d.%d", major, minor);
    return 0;
}
