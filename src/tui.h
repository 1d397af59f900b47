/* tui.h — the ncurses frontend's curses-free parts: the layout arithmetic,
 * the one-line editor of the prompts, and a redraw benchmark.  Only the
 * tui*.c files include curses; this header does not. */
#ifndef MT_TUI_H
#define MT_TUI_H

#include <stddef.h>

#include "app.h"
#include "result.h"

/* ---- layout ------------------------------------------------------------

   The screen, top to bottom: the status line (1 row); the text panes — the
   narrative beside the code and its output when the code leaves room for
   a readable narrative column, else the three stacked; the memory pane,
   full width, with each region's before and after side by side when both
   halves can show a whole xxd row, else before above after; the message
   line (1 row).  Every pane's first row is its title rule. */

#define MT_TUI_MIN_COLS 60
#define MT_TUI_MIN_ROWS 20

/* Narrowest narrative column worth reading beside the code, and the
 * widest one (more only makes lines harder to follow). */
#define MT_TUI_NARR_MIN 38
#define MT_TUI_NARR_MAX 90

/* Columns a half of the side-by-side memory view needs: the offset and
 * sixteen bytes of an xxd row ("00000000: " + 16 × "xx "), so the ASCII
 * column may be cut but never a byte. */
#define MT_TUI_DUMP_MIN 58

/* Between the halves: " │ ". */
#define MT_TUI_GAP 3

/* The panes, in the order Tab visits them. */
typedef enum mt_tui_pane {
    MT_TUI_NARR, MT_TUI_CODE, MT_TUI_OUT, MT_TUI_MEM, MT_TUI_PANES
} mt_tui_pane;

/* A part of the screen in cells.  h == 0: not shown. */
typedef struct mt_tui_rect {
    int y, x, h, w;
} mt_tui_rect;

typedef struct mt_tui_layout {
    int cols, rows;
    int too_small;        /* below MT_TUI_MIN_COLS × MT_TUI_MIN_ROWS */
    int text_beside;      /* narrative left of code (and output) */
    int out_below;        /* beside, but the output is wider than the code
                             column: it spans the screen under both */
    int side_by_side;     /* each region's before | after */
    int narr_width;       /* wrap width for the narrative's markdown */
    int half;             /* side by side: width of each half */
    mt_tui_rect status, narrative, code, output, memory, message;
} mt_tui_layout;

/* What the current step's documents need, in rows (title rows not
 * counted) and columns, and how the presenter has arranged the panes. */
typedef struct mt_tui_needs {
    int narr_lines;       /* at the layout's narr_width */
    int code_lines;       /* 0: no code pane (a stage's opening or end) */
    int code_width;
    int out_lines;        /* 0: no output pane */
    int mem_lines;        /* in the layout's side-by-side or stacked form;
                             0: no memory pane */
    int mem_first;        /* of those, how many it takes to show the first
                             change whole (0: no change) */
    unsigned collapsed;   /* bit (1 << pane): shown as its title row only */
    int zoom;             /* pane + 1 filling the body alone; 0: none */
    int mem_change;       /* of mem_lines, the first change without its
                             region's header and the rows above it: from its
                             first changed row through its first changed
                             field (0: no change) */
} mt_tui_needs;

/* First phase: from the terminal size, the widest code line of the stage
 * (0: no code, so nothing to put the narrative beside; the stage's widest
 * keeps the divider still from step to step) and the widest output line
 * of the step, decide whether the screen is too small, the narrative's
 * place and wrap width, whether the output goes under the code or across
 * the screen, and side by side or stacked.  Fills the widths of lo; no
 * failure. */
void mt_tui_layout_columns(mt_tui_layout *lo, int cols, int rows, int code_width,
                           int out_width);

/* Second phase: the rows of every pane from what the documents need.  The
 * text panes get what they need and the memory pane the rest, down to the
 * bottom; when that is not enough the memory pane keeps two fifths of the
 * body (as much as it needs, if less) and the text panes share the rest,
 * the code first, then its output, then the narrative (the output keeps
 * a third of the text rows and the narrative a quarter), unless the
 * memory pane needs more to show its first change whole (up to two
 * thirds of the body).  Every shown pane
 * has at least its title row and one line (stacked, the narrative two);
 * a collapsed one only its title row; a zoomed one the whole body, full
 * width, and the others nothing. */
void mt_tui_layout_rows(mt_tui_layout *lo, const mt_tui_needs *needs);

/* Share total rows among n parts needing need[i] rows each, in order of
 * priority: first each its min[i] (no more than it needs), then whole
 * needs in order, as far as the rows go.  When all fit, the spare rows go
 * to the last part that needs any.  Writes got[]; no failure. */
void mt_tui_share(int total, int n, const int *need, const int *min, int *got);

/* Where a line of `width` columns is broken to fit w columns, the rows
 * after the first indented by `indent`: writes the column each row starts
 * at into starts[] (starts[0] = 0; at most max rows) and returns how many
 * rows.  Breaks after a space when one is in the second half of a row,
 * else at the edge.  cols[i] is the display column of character i's
 * start, ncols entries, cols[ncols] the line's width; spaces[i] says
 * whether character i is a space.  No failure. */
int mt_tui_wrap(const int *cols, const unsigned char *spaces, int ncols, int w, int indent,
                int *starts, int max);

/* ---- the one-line editor -------------------------------------------------

   The `:` Python prompt and the `e` export prompt: UTF-8 text with a
   cursor, and a history walked with ↑ and ↓. */

#define MT_TUI_HISTORY_MAX 200

typedef struct mt_tui_edit {
    char *text;           /* UTF-8, NUL-terminated, owned */
    size_t len, cap;
    size_t cursor;        /* byte offset, on a character boundary */
    char **hist;          /* oldest first, owned */
    size_t nhist;
    size_t hpos;          /* nhist: the draft being typed */
    char *draft;          /* what was typed before walking the history */
} mt_tui_edit;

/* Empty the line and put text (may be NULL) in it, cursor at its end; the
 * history is kept. */
void mt_tui_edit_set(mt_tui_edit *e, const char *text);

/* Insert one Unicode code point at the cursor. */
void mt_tui_edit_insert(mt_tui_edit *e, unsigned cp);

/* Editing keys.  Each is harmless at the ends of the line. */
void mt_tui_edit_backspace(mt_tui_edit *e);   /* the character before */
void mt_tui_edit_delete(mt_tui_edit *e);      /* the character under */
void mt_tui_edit_left(mt_tui_edit *e);
void mt_tui_edit_right(mt_tui_edit *e);
void mt_tui_edit_home(mt_tui_edit *e);
void mt_tui_edit_end(mt_tui_edit *e);
void mt_tui_edit_kill_start(mt_tui_edit *e);  /* Ctrl-U */
void mt_tui_edit_kill_end(mt_tui_edit *e);    /* Ctrl-K */

/* Walk the history: older (↑) and newer (↓); past the newest comes back
 * the draft.  Harmless at either end. */
void mt_tui_edit_older(mt_tui_edit *e);
void mt_tui_edit_newer(mt_tui_edit *e);

/* Remember the current text as the newest history entry (not when empty
 * or the same as the newest), oldest dropped past MT_TUI_HISTORY_MAX,
 * and leave the history walk. */
void mt_tui_edit_commit(mt_tui_edit *e);

/* Display columns of the text before the cursor. */
int mt_tui_edit_cursor_col(const mt_tui_edit *e);

/* Free the text and the history (e itself is the caller's). */
void mt_tui_edit_free(mt_tui_edit *e);

/* ---- benchmark ---------------------------------------------------------- */

/* Render the full screen for result r (step `step`, 0-based, of the lesson
 * at stage_index) `frames` times into an off-screen cols × rows terminal
 * (xterm-256color, output to /dev/null) and return the microseconds per
 * frame; each frame redraws every pane and forces a full repaint, as a
 * keypress after a screen clear would.  r is borrowed.  Returns -1 when
 * no off-screen terminal could be made. */
double mt_tui_bench_redraw(mt_app *app, const mt_step_result *r, size_t stage_index,
                           int step, int cols, int rows, int frames);

#endif
