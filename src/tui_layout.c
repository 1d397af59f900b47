/* tui_layout.c — where each pane of the TUI goes: plain arithmetic on the
 * terminal size and what the step's documents need, no curses. */
#include "tui.h"

#include <string.h>

static int
min_int(int a, int b)
{
    return a < b ? a : b;
}

static int
max_int(int a, int b)
{
    return a > b ? a : b;
}

void
mt_tui_share(int total, int n, const int *need, const int *min, int *got)
{
    int sum = 0, last = -1;
    for (int i = 0; i < n; i++) {
        got[i] = 0;
        sum += need[i];
        if (need[i] > 0) {
            last = i;
        }
    }
    if (total <= 0 || last < 0) {
        return;
    }
    if (sum <= total) {
        /* Everyone fits; the spare rows go to the last part shown. */
        for (int i = 0; i < n; i++) {
            got[i] = need[i];
        }
        got[last] += total - sum;
        return;
    }
    /* The minimums first, then whole needs, both in order of priority. */
    int left = total;
    for (int i = 0; i < n; i++) {
        got[i] = min_int(min_int(need[i], min[i]), left);
        left -= got[i];
    }
    for (int i = 0; i < n && left > 0; i++) {
        int more = min_int(need[i] - got[i], left);
        got[i] += more;
        left -= more;
    }
}

void
mt_tui_layout_columns(mt_tui_layout *lo, int cols, int rows, int code_width, int out_width)
{
    memset(lo, 0, sizeof *lo);
    lo->cols = cols;
    lo->rows = rows;
    if (cols < MT_TUI_MIN_COLS || rows < MT_TUI_MIN_ROWS) {
        lo->too_small = 1;
        return;
    }
    lo->status = (mt_tui_rect){0, 0, 1, cols};
    lo->message = (mt_tui_rect){rows - 1, 0, 1, cols};

    /* The code column: its widest line and a blank either side. */
    int code_w = code_width + 2;
    int narr_w = cols - 1 - code_w;
    if (code_width > 0 && narr_w >= MT_TUI_NARR_MIN) {
        lo->text_beside = 1;
        narr_w = min_int(narr_w, MT_TUI_NARR_MAX);
        lo->narrative = (mt_tui_rect){0, 0, 0, narr_w};
        lo->code = (mt_tui_rect){0, narr_w + 1, 0, cols - narr_w - 1};
        lo->output = lo->code;
        if (out_width + 2 > lo->code.w) {
            lo->out_below = 1;
            lo->output = (mt_tui_rect){0, 0, 0, cols};
        }
    } else {
        narr_w = cols;
        lo->narrative = (mt_tui_rect){0, 0, 0, cols};
        lo->code = lo->narrative;
        lo->output = lo->narrative;
    }
    lo->narr_width = min_int(narr_w, MT_TUI_NARR_MAX) - 2;

    /* One blank column on the left, the gap between the halves. */
    lo->half = (cols - 1 - MT_TUI_GAP) / 2;
    lo->side_by_side = lo->half >= MT_TUI_DUMP_MIN;
    if (!lo->side_by_side) {
        lo->half = cols - 1;
    }
    lo->memory = (mt_tui_rect){0, 0, 0, cols};
}

/* Rows a pane asks for: its title and lines (at least `least` of them),
 * just the title when collapsed, nothing when it has no lines and need
 * not be shown. */
static int
pane_need(int lines, int least, int collapsed)
{
    if (lines <= 0 && least == 0) {
        return 0;
    }
    return collapsed ? 1 : 1 + max_int(lines, least);
}

static int
pane_min(int need, int least)
{
    return need == 1 ? 1 : need > 0 ? min_int(need, least) : 0;
}

void
mt_tui_layout_rows(mt_tui_layout *lo, const mt_tui_needs *nd)
{
    if (lo->too_small) {
        return;
    }
    int body = lo->rows - 2;
    if (nd->zoom > 0) {
        /* One pane alone, across the whole screen. */
        mt_tui_rect *r[] = {&lo->narrative, &lo->code, &lo->output, &lo->memory};
        for (int p = 0; p < MT_TUI_PANES; p++) {
            r[p]->h = 0;
        }
        mt_tui_rect *z = r[min_int(nd->zoom, MT_TUI_PANES) - 1];
        *z = (mt_tui_rect){1, 0, body, lo->cols};
        lo->text_beside = lo->out_below = 0;
        if (z == &lo->narrative) {
            lo->narr_width = min_int(lo->cols, MT_TUI_NARR_MAX) - 2;
        }
        return;
    }
    unsigned c = nd->collapsed;
    int narr_need = pane_need(nd->narr_lines, 1, c & (1u << MT_TUI_NARR));
    int code_need = pane_need(nd->code_lines, 0, c & (1u << MT_TUI_CODE));
    int out_need = pane_need(nd->out_lines, 0, c & (1u << MT_TUI_OUT));
    int mem_need = pane_need(nd->mem_lines, 0, c & (1u << MT_TUI_MEM));
    int code_min = pane_min(code_need, 2), out_min = pane_min(out_need, 2);

    int upper_need, upper_min;
    if (lo->text_beside && !lo->out_below) {
        upper_need = max_int(narr_need, code_need + out_need);
        upper_min = code_min + out_min;
    } else if (lo->text_beside) {
        upper_need = max_int(narr_need, code_need) + out_need;
        upper_min = max_int(code_min, pane_min(narr_need, 2)) + out_min;
    } else {
        upper_need = narr_need + code_need + out_need;
        upper_min = pane_min(narr_need, 3) + code_min + out_min;
    }
    upper_min = max_int(upper_min, 2);

    int mem = 0;
    if (mem_need == 1) {
        mem = 1;
    } else if (mem_need > 0) {
        if (upper_need + mem_need <= body) {
            mem = body - upper_need;     /* the spare rows below the dump */
        } else {
            mem = min_int(mem_need, max_int(body - upper_need, body * 2 / 5));
            if (1 + nd->mem_first <= body * 2 / 3) {
                mem = max_int(mem, min_int(mem_need, 1 + nd->mem_first));
            } else if (nd->mem_change > 0 && 1 + nd->mem_change <= body * 2 / 3) {
                /* Not whole from its header: two thirds, which hold the
                 * change itself (its changed bytes through its field)
                 * with what they can of the rows above it. */
                mem = max_int(mem, min_int(mem_need, body * 2 / 3));
            }
        }
        mem = max_int(min_int(mem, body - upper_min), 2);
    }
    int upper = body - mem;
    if (mem == 1 && upper_need < upper) {
        /* A collapsed memory pane sits on the message line. */
        mem = body - upper_need;
        upper = upper_need;
    }

    if (lo->text_beside && !lo->out_below) {
        /* What the step printed keeps a third of a crowded column (all it
         * needs, if less). */
        int need[2] = {code_need, out_need}, got[2];
        int mins[2] = {code_min,
                       out_need > 1 ? min_int(out_need, max_int(out_min, upper / 3)) : out_min};
        mt_tui_share(upper, 2, need, mins, got);
        lo->narrative.y = 1;
        lo->narrative.h = upper;
        lo->code.y = 1;
        lo->code.h = got[0];
        lo->output.y = 1 + got[0];
        lo->output.h = got[1];
    } else if (lo->text_beside) {
        /* The narrative and the code side by side, the output under both:
         * the output keeps a third of a crowded screen. */
        int top_need = max_int(narr_need, code_need);
        int need[2] = {top_need, out_need}, got[2];
        int mins[2] = {min_int(top_need, max_int(2, upper - max_int(out_min, upper / 3))),
                       out_need > 0 ? min_int(out_need, max_int(out_min, upper / 3)) : 0};
        mt_tui_share(upper, 2, need, mins, got);
        if (got[1] == 0 && out_need == 0) {
            got[0] = upper;
        }
        lo->narrative.y = 1;
        lo->narrative.h = got[0];
        lo->code.y = 1;
        lo->code.h = got[0];
        lo->output.y = 1 + got[0];
        lo->output.h = got[1];
    } else {
        /* In order of priority: the code, what it printed, the story; but
         * on a crowded screen the output keeps a third (all it needs, if
         * less) and the story a quarter, so that a long cell cannot squeeze
         * them to a line each. */
        int need[3] = {code_need, out_need, narr_need}, got[3];
        int mins[3] = {code_min,
                       out_need > 1 ? min_int(out_need, max_int(2, upper / 3)) : out_min,
                       narr_need > 1 ? min_int(narr_need, max_int(3, upper / 4 + 1)) : 1};
        mt_tui_share(upper, 3, need, mins, got);
        lo->narrative.y = 1;
        lo->narrative.h = got[2];
        lo->code.y = 1 + got[2];
        lo->code.h = got[0];
        lo->output.y = 1 + got[2] + got[0];
        lo->output.h = got[1];
    }
    lo->memory.y = 1 + upper;
    lo->memory.h = mem;
}

int
mt_tui_wrap(const int *cols, const unsigned char *spaces, int ncols, int w, int indent,
            int *starts, int max)
{
    int n = 0, i = 0, total = cols[ncols];
    if (max <= 0) {
        return 0;
    }
    if (indent > w / 2) {
        indent = w / 2;
    }
    starts[n++] = 0;
    while (n < max) {
        int row_w = n == 1 ? w : w - indent;
        int start = cols[i];
        if (row_w < 1 || total - start <= row_w) {
            break;
        }
        /* The last character that still fits, then back to a space. */
        int j = i;
        while (j < ncols && cols[j + 1] - start <= row_w) {
            j++;
        }
        int brk = j;
        for (int k = j; k > i && cols[k] - start > row_w / 2; k--) {
            if (spaces[k - 1]) {
                brk = k;
                break;
            }
        }
        if (brk <= i) {
            brk = i + 1;
        }
        i = brk;
        /* A row never starts with the spaces it was broken at. */
        while (i < ncols && spaces[i]) {
            i++;
        }
        if (i >= ncols) {
            break;
        }
        starts[n++] = cols[i];
    }
    return n;
}
