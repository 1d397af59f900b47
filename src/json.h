/* json.h — a small strict JSON value parser (RFC 8259) for lesson metadata. */
#ifndef MT_JSON_H
#define MT_JSON_H

#include <stddef.h>

typedef enum mt_json_type {
    MT_JSON_NULL,
    MT_JSON_BOOL,
    MT_JSON_NUMBER,
    MT_JSON_STRING,
    MT_JSON_ARRAY,
    MT_JSON_OBJECT
} mt_json_type;

/* A parsed value.  A tree owns everything below it. */
typedef struct mt_json mt_json;
struct mt_json {
    mt_json_type type;
    int boolean;       /* BOOL: 0 or 1 */
    double number;     /* NUMBER */
    int integer;       /* NUMBER written without fraction or exponent */
    char *string;      /* STRING: UTF-8, NUL-terminated, no NUL inside */
    size_t n;          /* ARRAY, OBJECT: number of items */
    mt_json *items;    /* ARRAY items; OBJECT values (in file order) */
    char **keys;       /* OBJECT keys, n of them (unique) */
};

/* Deepest nesting of arrays and objects accepted. */
#define MT_JSON_MAX_DEPTH 32

/* Parse one JSON value at the start of s (len bytes, need not be
 * NUL-terminated), after optional JSON whitespace; the bytes after the value
 * are left alone, so a value can be taken out of a longer line.  Returns 0
 * with a new tree in *out (free with mt_json_free) and the offset just past
 * the value in *end; or -1 with *end = offset of the fault and *err = a
 * malloc'ed message without position (caller frees).  Strings must be valid
 * UTF-8; "\u0000", lone surrogates, duplicate object keys and nesting deeper
 * than MT_JSON_MAX_DEPTH are refused. */
int mt_json_parse(const char *s, size_t len, size_t *end, mt_json **out,
                  char **err);

/* Free a tree from mt_json_parse (NULL is fine). */
void mt_json_free(mt_json *v);

/* The value of key in an OBJECT (borrowed), or NULL if absent or v is not
 * an object. */
const mt_json *mt_json_get(const mt_json *v, const char *key);

/* "null", "boolean", "number", "string", "array" or "object". */
const char *mt_json_type_name(mt_json_type t);

/* Check that s[0..len) is valid UTF-8 (no overlong forms, surrogates or code
 * points above U+10FFFF).  Returns 0, or -1 with *bad = offset of the first
 * byte of the bad sequence. */
int mt_json_check_utf8(const char *s, size_t len, size_t *bad);

#endif
