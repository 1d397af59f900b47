/* tui_edit.c — the one-line editor behind the TUI's prompts: UTF-8 text,
 * a cursor, and a history; no curses. */
#include "tui.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static int
is_cont(char c)
{
    return ((unsigned char)c & 0xc0) == 0x80;
}

static void
reserve(mt_tui_edit *e, size_t more)
{
    if (e->text == NULL || e->len + more + 1 > e->cap) {
        e->cap = (e->len + more + 1) * 2;
        e->text = mt_xrealloc(e->text, e->cap);
        if (e->len == 0) {
            e->text[0] = '\0';
        }
    }
}

void
mt_tui_edit_set(mt_tui_edit *e, const char *text)
{
    size_t n = text ? strlen(text) : 0;
    e->len = 0;
    reserve(e, n);
    if (n > 0) {
        memcpy(e->text, text, n);
    }
    e->len = n;
    e->text[n] = '\0';
    e->cursor = n;
    e->hpos = e->nhist;
    free(e->draft);
    e->draft = NULL;
}

void
mt_tui_edit_insert(mt_tui_edit *e, unsigned cp)
{
    char b[4];
    size_t n;
    if (cp < 0x20 || cp == 0x7f || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) {
        return;    /* control characters and non-characters never go in */
    }
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | cp >> 18);
        b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    reserve(e, n);
    memmove(e->text + e->cursor + n, e->text + e->cursor, e->len - e->cursor + 1);
    memcpy(e->text + e->cursor, b, n);
    e->len += n;
    e->cursor += n;
}

/* Byte offset of the character before / after the cursor. */
static size_t
prev_char(const mt_tui_edit *e)
{
    size_t c = e->cursor;
    while (c > 0) {
        c--;
        if (!is_cont(e->text[c])) {
            break;
        }
    }
    return c;
}

static size_t
next_char(const mt_tui_edit *e)
{
    size_t c = e->cursor;
    if (c < e->len) {
        c++;
        while (c < e->len && is_cont(e->text[c])) {
            c++;
        }
    }
    return c;
}

/* Remove bytes [from, to) and leave the cursor at from. */
static void
cut(mt_tui_edit *e, size_t from, size_t to)
{
    if (e->text == NULL || to <= from) {
        return;
    }
    memmove(e->text + from, e->text + to, e->len - to + 1);
    e->len -= to - from;
    e->cursor = from;
}

void
mt_tui_edit_backspace(mt_tui_edit *e)
{
    cut(e, prev_char(e), e->cursor);
}

void
mt_tui_edit_delete(mt_tui_edit *e)
{
    cut(e, e->cursor, next_char(e));
}

void
mt_tui_edit_left(mt_tui_edit *e)
{
    e->cursor = prev_char(e);
}

void
mt_tui_edit_right(mt_tui_edit *e)
{
    e->cursor = next_char(e);
}

void
mt_tui_edit_home(mt_tui_edit *e)
{
    e->cursor = 0;
}

void
mt_tui_edit_end(mt_tui_edit *e)
{
    e->cursor = e->len;
}

void
mt_tui_edit_kill_start(mt_tui_edit *e)
{
    cut(e, 0, e->cursor);
}

void
mt_tui_edit_kill_end(mt_tui_edit *e)
{
    cut(e, e->cursor, e->len);
}

/* Show history entry i (or the draft when i == nhist). */
static void
show(mt_tui_edit *e, size_t i)
{
    const char *s = i < e->nhist ? e->hist[i] : e->draft;
    char *keep = e->draft;
    e->draft = NULL;
    size_t n = s ? strlen(s) : 0;
    e->len = 0;
    reserve(e, n);
    memcpy(e->text, s ? s : "", n + 1);
    e->len = e->cursor = n;
    e->draft = keep;
    e->hpos = i;
}

void
mt_tui_edit_older(mt_tui_edit *e)
{
    if (e->hpos == 0 || e->nhist == 0) {
        return;
    }
    if (e->hpos == e->nhist) {
        free(e->draft);
        e->draft = mt_xstrdup(e->text ? e->text : "");
    }
    show(e, e->hpos - 1);
}

void
mt_tui_edit_newer(mt_tui_edit *e)
{
    if (e->hpos >= e->nhist) {
        return;
    }
    show(e, e->hpos + 1);
    if (e->hpos == e->nhist) {
        free(e->draft);
        e->draft = NULL;
    }
}

void
mt_tui_edit_commit(mt_tui_edit *e)
{
    const char *t = e->text ? e->text : "";
    if (*t != '\0' && (e->nhist == 0 || strcmp(e->hist[e->nhist - 1], t) != 0)) {
        if (e->nhist == MT_TUI_HISTORY_MAX) {
            free(e->hist[0]);
            memmove(e->hist, e->hist + 1, (e->nhist - 1) * sizeof *e->hist);
            e->nhist--;
        }
        e->hist = mt_xrealloc(e->hist, (e->nhist + 1) * sizeof *e->hist);
        e->hist[e->nhist++] = mt_xstrdup(t);
    }
    e->hpos = e->nhist;
    free(e->draft);
    e->draft = NULL;
}

int
mt_tui_edit_cursor_col(const mt_tui_edit *e)
{
    return e->text ? mt_utf8_width(e->text, e->cursor) : 0;
}

void
mt_tui_edit_free(mt_tui_edit *e)
{
    free(e->text);
    for (size_t i = 0; i < e->nhist; i++) {
        free(e->hist[i]);
    }
    free(e->hist);
    free(e->draft);
    memset(e, 0, sizeof *e);
}
