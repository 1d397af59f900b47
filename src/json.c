/* json.c — a small strict JSON value parser (RFC 8259) for lesson metadata. */
#include "json.h"
#include "util.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parser state: the input, the position, the first error. */
typedef struct jp {
    const unsigned char *s;
    size_t len;
    size_t pos;
    char *err;
    size_t err_pos;
} jp;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int
jp_fail(jp *p, const char *fmt, ...)
{
    if (p->err != NULL) {
        return -1;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    p->err_pos = p->pos;
    if (n < 0) {
        return -1;
    }
    p->err = malloc((size_t)n + 1);
    if (p->err != NULL) {
        va_start(ap, fmt);
        vsnprintf(p->err, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void
jp_skip_ws(jp *p)
{
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            break;
        }
        p->pos++;
    }
}

/* Length of the UTF-8 sequence at s[0..len), or 0 if it is not valid. */
static size_t
utf8_seq(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        return 1;
    }
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
mt_json_check_utf8(const char *s, size_t len, size_t *bad)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_seq(u + i, len - i);
        if (n == 0) {
            if (bad != NULL) {
                *bad = i;
            }
            return -1;
        }
        i += n;
    }
    return 0;
}

static int
hex4(const unsigned char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= (uint32_t)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v |= (uint32_t)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            v |= (uint32_t)(c - 'A' + 10);
        } else {
            return -1;
        }
    }
    *out = v;
    return 0;
}

static size_t
utf8_encode(uint32_t cp, unsigned char *o)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parse a string at p->pos (on the opening quote) into a new C string. */
static char *
jp_string(jp *p)
{
    mt_str b = {0};
    p->pos++;
    mt_str_addn(&b, "", 0);
    for (;;) {
        if (p->pos >= p->len) {
            jp_fail(p, "unterminated string");
            goto fail;
        }
        unsigned char c = p->s[p->pos];
        if (c == '"') {
            p->pos++;
            return mt_str_take(&b);
        }
        if (c < 0x20) {
            jp_fail(p, "control character 0x%02x in string (write it as "
                    "an escape)", c);
            goto fail;
        }
        if (c == '\\') {
            if (p->pos + 1 >= p->len) {
                jp_fail(p, "unterminated string");
                goto fail;
            }
            unsigned char e = p->s[p->pos + 1];
            const char *simple = NULL;
            switch (e) {
            case '"': simple = "\""; break;
            case '\\': simple = "\\"; break;
            case '/': simple = "/"; break;
            case 'b': simple = "\b"; break;
            case 'f': simple = "\f"; break;
            case 'n': simple = "\n"; break;
            case 'r': simple = "\r"; break;
            case 't': simple = "\t"; break;
            default: break;
            }
            if (simple != NULL) {
                mt_str_addn(&b, simple, 1);
                p->pos += 2;
                continue;
            }
            if (e != 'u') {
                jp_fail(p, "unknown escape \\%c in string",
                        e >= 0x20 && e < 0x7F ? e : '?');
                goto fail;
            }
            uint32_t cp;
            if (p->pos + 6 > p->len || hex4(p->s + p->pos + 2, &cp) < 0) {
                jp_fail(p, "\\u needs four hex digits");
                goto fail;
            }
            size_t width = 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (p->pos + 12 > p->len || p->s[p->pos + 6] != '\\'
                    || p->s[p->pos + 7] != 'u'
                    || hex4(p->s + p->pos + 8, &lo) < 0
                    || lo < 0xDC00 || lo > 0xDFFF) {
                    jp_fail(p, "lone surrogate \\u%04X in string", cp);
                    goto fail;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                width = 12;
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                jp_fail(p, "lone surrogate \\u%04X in string", cp);
                goto fail;
            } else if (cp == 0) {
                jp_fail(p, "\\u0000 is not allowed in a string");
                goto fail;
            }
            unsigned char enc[4];
            mt_str_addn(&b, (const char *)enc, utf8_encode(cp, enc));
            p->pos += width;
            continue;
        }
        size_t n = utf8_seq(p->s + p->pos, p->len - p->pos);
        if (n == 0) {
            jp_fail(p, "invalid UTF-8 in string");
            goto fail;
        }
        /* Copy the run of plain bytes up to the next quote, escape or
         * control character in one go. */
        size_t start = p->pos;
        p->pos += n;
        while (p->pos < p->len) {
            unsigned char d = p->s[p->pos];
            if (d == '"' || d == '\\' || d < 0x20) {
                break;
            }
            if (d >= 0x80) {
                size_t m = utf8_seq(p->s + p->pos, p->len - p->pos);
                if (m == 0) {
                    break;
                }
                p->pos += m;
            } else {
                p->pos++;
            }
        }
        mt_str_addn(&b, (const char *)p->s + start, p->pos - start);
    }
fail:
    free(b.s);
    return NULL;
}

/* Parse a number at p->pos by the JSON grammar.  The value is computed here
 * rather than with strtod, which follows LC_NUMERIC (a TUI may set it). */
static int
jp_number(jp *p, mt_json *v)
{
    const unsigned char *s = p->s;
    size_t i = p->pos;
    int neg = 0;
    double mant = 0.0;
    long scale = 0;      /* decimal exponent applied to mant */
    int ndig = 0;        /* significant digits kept in mant */

    if (i < p->len && s[i] == '-') {
        neg = 1;
        i++;
    }
    if (i >= p->len || s[i] < '0' || s[i] > '9') {
        p->pos = i;
        return jp_fail(p, "expected a digit");
    }
    if (s[i] == '0') {
        i++;
        if (i < p->len && s[i] >= '0' && s[i] <= '9') {
            p->pos = i;
            return jp_fail(p, "leading zero in number");
        }
    } else {
        while (i < p->len && s[i] >= '0' && s[i] <= '9') {
            if (ndig < 17) {
                mant = mant * 10 + (s[i] - '0');
                if (mant != 0) {
                    ndig++;
                }
            } else {
                scale++;
            }
            i++;
        }
    }
    v->integer = 1;
    if (i < p->len && s[i] == '.') {
        v->integer = 0;
        i++;
        if (i >= p->len || s[i] < '0' || s[i] > '9') {
            p->pos = i;
            return jp_fail(p, "expected a digit after '.'");
        }
        while (i < p->len && s[i] >= '0' && s[i] <= '9') {
            if (ndig < 17) {
                mant = mant * 10 + (s[i] - '0');
                scale--;
                if (mant != 0) {
                    ndig++;
                }
            }
            i++;
        }
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        v->integer = 0;
        i++;
        int eneg = 0;
        if (i < p->len && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        if (i >= p->len || s[i] < '0' || s[i] > '9') {
            p->pos = i;
            return jp_fail(p, "expected a digit in the exponent");
        }
        long e = 0;
        while (i < p->len && s[i] >= '0' && s[i] <= '9') {
            if (e < 100000) {
                e = e * 10 + (s[i] - '0');
            }
            i++;
        }
        scale += eneg ? -e : e;
    }
    /* Powers of ten up to 1e22 are exact doubles, so the common cases
     * (1.5, 0.25, 30) come out correctly rounded. */
    double val = mant;
    if (val != 0) {
        long k = scale < 0 ? -scale : scale;
        double pow10 = 1.0;
        while (k > 0 && pow10 < 1e300) {
            pow10 *= 10;
            k--;
        }
        if (k > 0) {
            val = scale < 0 ? 0.0 : HUGE_VAL;
        } else {
            val = scale < 0 ? val / pow10 : val * pow10;
        }
    }
    v->type = MT_JSON_NUMBER;
    v->number = neg ? -val : val;
    p->pos = i;
    return 0;
}

static int jp_value(jp *p, mt_json *v, int depth);

static void
json_clear(mt_json *v)
{
    free(v->string);
    for (size_t i = 0; i < v->n; i++) {
        if (v->items != NULL) {
            json_clear(&v->items[i]);
        }
        if (v->keys != NULL) {
            free(v->keys[i]);
        }
    }
    free(v->items);
    free(v->keys);
    memset(v, 0, sizeof *v);
}

/* Parse an array or an object (p->pos on '[' or '{'). */
static int
jp_container(jp *p, mt_json *v, int depth, int object)
{
    size_t cap = 0;
    unsigned char close = object ? '}' : ']';

    if (depth >= MT_JSON_MAX_DEPTH) {
        return jp_fail(p, "nested deeper than %d levels", MT_JSON_MAX_DEPTH);
    }
    v->type = object ? MT_JSON_OBJECT : MT_JSON_ARRAY;
    p->pos++;
    jp_skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return 0;
    }
    for (;;) {
        if (v->n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            mt_json *ni = realloc(v->items, ncap * sizeof *ni);
            if (ni == NULL) {
                return jp_fail(p, "out of memory");
            }
            v->items = ni;
            if (object) {
                char **nk = realloc(v->keys, ncap * sizeof *nk);
                if (nk == NULL) {
                    return jp_fail(p, "out of memory");
                }
                v->keys = nk;
            }
            cap = ncap;
        }
        mt_json *item = &v->items[v->n];
        memset(item, 0, sizeof *item);
        if (object) {
            jp_skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != '"') {
                return jp_fail(p, "expected a \"key\" in object");
            }
            size_t key_pos = p->pos;
            char *key = jp_string(p);
            if (key == NULL) {
                return -1;
            }
            for (size_t i = 0; i < v->n; i++) {
                if (strcmp(v->keys[i], key) == 0) {
                    p->pos = key_pos;
                    jp_fail(p, "duplicate key \"%s\" in object", key);
                    free(key);
                    return -1;
                }
            }
            v->keys[v->n] = key;
            v->n++;    /* the slot now owns the key; item is zeroed */
            jp_skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') {
                return jp_fail(p, "expected ':' after object key");
            }
            p->pos++;
            if (jp_value(p, item, depth + 1) < 0) {
                return -1;
            }
        } else {
            v->n++;
            if (jp_value(p, item, depth + 1) < 0) {
                return -1;
            }
        }
        jp_skip_ws(p);
        if (p->pos >= p->len) {
            return jp_fail(p, "expected ',' or '%c'", close);
        }
        unsigned char c = p->s[p->pos];
        if (c == close) {
            p->pos++;
            return 0;
        }
        if (c != ',') {
            return jp_fail(p, "expected ',' or '%c'", close);
        }
        p->pos++;
    }
}

static int
jp_literal(jp *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) {
        return jp_fail(p, "expected a JSON value");
    }
    p->pos += n;
    return 0;
}

static int
jp_value(jp *p, mt_json *v, int depth)
{
    jp_skip_ws(p);
    if (p->pos >= p->len) {
        return jp_fail(p, "expected a JSON value");
    }
    unsigned char c = p->s[p->pos];
    switch (c) {
    case '{':
        return jp_container(p, v, depth, 1);
    case '[':
        return jp_container(p, v, depth, 0);
    case '"':
        v->type = MT_JSON_STRING;
        v->string = jp_string(p);
        return v->string == NULL ? -1 : 0;
    case 't':
        v->type = MT_JSON_BOOL;
        v->boolean = 1;
        return jp_literal(p, "true");
    case 'f':
        v->type = MT_JSON_BOOL;
        return jp_literal(p, "false");
    case 'n':
        v->type = MT_JSON_NULL;
        return jp_literal(p, "null");
    default:
        if (c == '-' || (c >= '0' && c <= '9')) {
            return jp_number(p, v);
        }
        if (c == '\'') {
            return jp_fail(p, "strings take double quotes in JSON");
        }
        return jp_fail(p, "expected a JSON value");
    }
}

int
mt_json_parse(const char *s, size_t len, size_t *end, mt_json **out,
              char **err)
{
    jp p = {.s = (const unsigned char *)s, .len = len};
    mt_json *v = calloc(1, sizeof *v);

    *out = NULL;
    if (v == NULL) {
        jp_fail(&p, "out of memory");
        goto fail;
    }
    if (jp_value(&p, v, 0) < 0) {
        goto fail;
    }
    *end = p.pos;
    *out = v;
    return 0;
fail:
    mt_json_free(v);
    *end = p.err_pos;
    if (err != NULL) {
        *err = p.err;
    } else {
        free(p.err);
    }
    return -1;
}

void
mt_json_free(mt_json *v)
{
    if (v == NULL) {
        return;
    }
    json_clear(v);
    free(v);
}

const mt_json *
mt_json_get(const mt_json *v, const char *key)
{
    if (v == NULL || v->type != MT_JSON_OBJECT) {
        return NULL;
    }
    for (size_t i = 0; i < v->n; i++) {
        if (strcmp(v->keys[i], key) == 0) {
            return &v->items[i];
        }
    }
    return NULL;
}

const char *
mt_json_type_name(mt_json_type t)
{
    static const char *const names[] = {
        [MT_JSON_NULL] = "null",
        [MT_JSON_BOOL] = "boolean",
        [MT_JSON_NUMBER] = "number",
        [MT_JSON_STRING] = "string",
        [MT_JSON_ARRAY] = "array",
        [MT_JSON_OBJECT] = "object",
    };
    if ((unsigned)t >= sizeof names / sizeof names[0]) {
        return "value";
    }
    return names[t];
}
