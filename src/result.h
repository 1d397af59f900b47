/* result.h — what running a step produced: plain data, sent from the worker
 * to the frontend and rendered by every frontend and exporter. */
#ifndef MT_RESULT_H
#define MT_RESULT_H

#include <stddef.h>
#include <stdint.h>

/* One field of a watched region, shown before and after the step. */
typedef struct mt_field_result {
    char *name;
    uint32_t offset, size;
    uint32_t kind;           /* mt_field_kind */
    uint32_t flags;          /* MT_FF_* */
    char *value_before, *value_after;
    char *decoded_before, *decoded_after;
} mt_field_result;

/* One instruction of a code region. */
typedef struct mt_insn_result {
    uint64_t address;
    uint32_t size;
    char *text;              /* "jmp 0x7f…" */
    char *target;            /* symbol the branch lands on, or "" */
} mt_insn_result;

/* A watched region: its bytes before and after the step. */
typedef struct mt_region_result {
    char *label;             /* "int-2" — for file names and headings */
    char *expr;              /* the watch expression as written */
    char *layout;            /* layout name */
    char *symbol;            /* what the address is ("_PyAST_Optimize"), or "" */
    uint64_t address;
    uint32_t len;
    uint32_t is_code;        /* machine code: permissions and instructions */
    uint8_t *before, *after; /* len bytes each */
    uint8_t *ok_before, *ok_after; /* 1 = readable */
    char perms_before[5], perms_after[5];
    mt_field_result *fields;
    uint32_t nfields;
    mt_insn_result *insn_before, *insn_after;
    uint32_t ninsn_before, ninsn_after;
} mt_region_result;

enum mt_status {
    MT_ST_OK = 0,            /* ran to the end */
    MT_ST_ERROR = 1,         /* Python raised: see traceback */
    MT_ST_CRASH = 2,         /* the worker died: see notes */
    MT_ST_TIMEOUT = 3,       /* the step ran past its time limit */
    MT_ST_FAIL = 4,          /* the session could not do what was asked */
    MT_ST_MORE = 5           /* a prompt entry is not finished: more lines */
};

enum { MT_RESTORED_LOST = 2 };

/* What one request to the worker produced. */
typedef struct mt_step_result {
    int32_t stage;           /* stage number (1-7), 0 when none */
    int32_t step;            /* step index (0-based), -1 when none */
    uint32_t status;         /* enum mt_status */
    uint32_t patched;        /* a patch is live now */
    uint32_t restored;       /* the host had to step in: after a step (a W+X
                                mapping), or when the stage was left (what
                                the lesson's reverts missed);
                                MT_RESTORED_LOST when it could not put
                                everything back: the worker ends after this
                                result, and the next request starts a fresh
                                one */
    double seconds;          /* time the step's code took */
    char *out, *err;         /* captured stdout, stderr */
    char *traceback;         /* "" when none */
    char *code_roles;        /* one role letter per byte of the code */
    char *notes;             /* what the session did (restores: loudly) */
    mt_region_result *regions;
    uint32_t nregions;
} mt_step_result;

/* New empty result (all strings ""): never NULL (aborts on OOM). */
mt_step_result *mt_result_new(void);
void mt_result_free(mt_step_result *r);

/* Append s to r->notes on a line of its own. */
void mt_result_note(mt_step_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Whether r reports the worker's death (crashed, or killed for time): the
 * next request starts a fresh worker. */
static inline int
mt_result_is_death(const mt_step_result *r)
{
    return r->status == MT_ST_CRASH || r->status == MT_ST_TIMEOUT;
}

/* The last non-empty line of a traceback (its "Type: message"), without
 * its newline: *n bytes at the pointer returned (into tb). */
const char *mt_result_tb_last(const char *tb, size_t *n);

/* Serialise r into a malloc'ed buffer (*len bytes).  Caller frees. */
uint8_t *mt_result_encode(const mt_step_result *r, size_t *len);

/* Decode what mt_result_encode made.  Returns a new result, or NULL when
 * the bytes are malformed (never reads past len). */
mt_step_result *mt_result_decode(const uint8_t *buf, size_t len);

/* The printable role letters of code_roles. */
enum {
    MT_TOK_PLAIN = ' ', MT_TOK_KEYWORD = 'k', MT_TOK_BUILTIN = 'b',
    MT_TOK_NAME = 'n', MT_TOK_NUMBER = 'd', MT_TOK_STRING = 's',
    MT_TOK_COMMENT = 'c', MT_TOK_OP = 'o'
};

#endif
