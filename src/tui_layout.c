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
mt_tui_layout_columns(mt_tui_layout *lo, int cols, int rows, int code_width)
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

void
mt_tui_layout_rows(mt_tui_layout *lo, const mt_tui_needs *nd)
{
    if (lo->too_small) {
        return;
    }
    int body = lo->rows - 2;
    int narr_need = 1 + max_int(nd->narr_lines, 1);
    int code_need = nd->code_lines > 0 ? 1 + nd->code_lines : 0;
    int out_need = nd->out_lines > 0 ? 1 + nd->out_lines : 0;
    int mem_need = nd->mem_lines > 0 ? 1 + nd->mem_lines : 0;

    int upper_need, upper_min;
    if (lo->text_beside) {
        upper_need = max_int(narr_need, code_need + out_need);
        upper_min = (code_need > 0 ? 2 : 0) + (out_need > 0 ? 2 : 0);
    } else {
        upper_need = narr_need + code_need + out_need;
        upper_min = 3 + (code_need > 0 ? 2 : 0) + (out_need > 0 ? 2 : 0);
    }
    upper_min = max_int(upper_min, 2);

    int mem = 0;
    if (mem_need > 0) {
        if (upper_need + mem_need <= body) {
            mem = body - upper_need;     /* the spare rows below the dump */
        } else {
            mem = min_int(mem_need, max_int(body - upper_need, body * 2 / 5));
        }
        mem = max_int(min_int(mem, body - upper_min), 2);
    }
    int upper = body - mem;

    if (lo->text_beside) {
        int need[2] = {code_need, out_need}, got[2];
        int mins[2] = {code_need > 0 ? 2 : 0, out_need > 0 ? 2 : 0};
        mt_tui_share(upper, 2, need, mins, got);
        lo->narrative.y = 1;
        lo->narrative.h = upper;
        lo->code.y = 1;
        lo->code.h = got[0];
        lo->output.y = 1 + got[0];
        lo->output.h = got[1];
    } else {
        /* In order of priority: the code, what it printed, the story; but
         * the story and the output keep a fair share of a crowded screen
         * (a quarter and a sixth), so a long cell cannot squeeze them to a
         * line each. */
        int need[3] = {code_need, out_need, narr_need}, got[3];
        int mins[3] = {code_need > 0 ? 2 : 0,
                       out_need > 0 ? min_int(out_need, max_int(2, upper / 6 + 1)) : 0,
                       min_int(narr_need, max_int(3, upper / 4 + 1))};
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
