/* tui.c — the ncurses frontend: lessons step by step for learners, talk
 * mode for speakers, every step run by the worker and shown as the same
 * styled documents as --plain. */
#include "tui.h"
#include "tui_screen.h"

#include "app.h"
#include "doc.h"
#include "export.h"
#include "state.h"
#include "util.h"
#include "view.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>

/* ---- the screen's data model --------------------------------------------

   A position is (stage index, k): k = -1 is the stage's opening page (its
   title and summary, no step run), 0..nsteps-1 a step, nsteps its closing
   page (the stage has been left: everything put back).  Each position has
   one result from the worker and the documents built from it once, when it
   arrives; drawing only copies documents to the screen. */

enum pane {
    P_NARR = MT_TUI_NARR, P_CODE = MT_TUI_CODE, P_OUT = MT_TUI_OUT, P_MEM = MT_TUI_MEM,
    P_COUNT = MT_TUI_PANES
};

enum mode { M_NORMAL, M_HELP, M_LIST, M_BLANK, M_PROMPT, M_EXPORT, M_GOTO };

enum row_kind { ROW_LINE, ROW_BLANK, ROW_SKIP, ROW_NOTE };

/* One row of the memory pane: a line of a region's before and/or after
 * document (-1: none), or the seg-th row of such a line wrapped; a `*`
 * standing for `count` lines left out (repeats, or far from any change);
 * a note that a region has no change. */
typedef struct mem_row {
    int kind;
    int region;
    int before, after;
    int bseg, aseg;            /* which row of the wrapped line; -1: none */
    int changed;               /* part of a change */
    int count;
} mem_row;

/* The memory pane's two views. */
enum mem_view { MV_AUTO, MV_CHANGES, MV_WHOLE };

typedef struct tui {
    mt_app *app;
    mt_worker *w;
    int talk;                  /* --stage: for an audience */
    int hint;                  /* learner's first run: show the welcome */
    size_t si;
    int k;
    mt_step_result *res;       /* what the worker said about this position */
    int patched;
    char py[32], arch[72];

    char *narr_md;             /* markdown of the narrative pane, between */
    mt_doc *narr_head, *narr_tail; /* lines taken as they are (titles) */
    mt_doc *narr;
    int narr_w;                /* the width narr was wrapped at */
    char *titles[P_COUNT];
    char *short_titles[P_COUNT];   /* when the title does not fit; may be NULL */
    int out_error;             /* the output pane reports a failure */
    mt_doc *code, *out, *log;  /* log: the prompt's transcript */
    uint32_t nreg;
    mt_doc **before, **after;
    mem_row *mem;
    size_t nmem;
    int mem_sbs;               /* mem was built side by side */
    int mem_changes;           /* mem shows only the changes */
    int mem_any;               /* some region changed */
    int mem_first;             /* rows from the first change's region header
                                  through its first changed field: 0 none */
    int mem_change;            /* rows from its first changed row through
                                  that field */
    enum mem_view mem_view;    /* the presenter's choice (d), kept */
    int mem_ctx;               /* rows of context around a change */
    int mem_user;              /* scrolled by hand since the position came */
    int code_width, out_width;
    size_t code_si;            /* the stage stage_code_w was measured for */
    int stage_code_w;          /* widest code line of the stage: a still divider */

    mt_tui_layout lo;
    int scroll[P_COUNT];
    int hscroll[P_COUNT];      /* columns scrolled off the left (code, output) */
    int visible[P_COUNT];      /* content rows on screen */
    int focus;
    unsigned collapsed;        /* bit (1 << pane): title only */
    int zoom;                  /* pane + 1 alone on the screen; 0: none */
    enum mode mode;
    mt_tui_edit prompt, dir, where;
    char *more;                /* the prompt entry's lines so far, each with
                                  its newline, while it asks for more */
    char *msg;
    int msg_error;
    int list_sel;
    int help_top;              /* the help's first row shown */

    char *state_path;
    char *pos_path;            /* where --notes learns the position; NULL */
    mt_state st;
    int state_warned;
    int quit;
    double t0;                 /* when the interface started */
    int clock;                 /* the elapsed time shown in the status line */
} tui;

/* ---- keys ----------------------------------------------------------------- */

typedef enum act {
    ACT_NONE, ACT_NEXT, ACT_PREV, ACT_STAGE, ACT_RESTART, ACT_PROMPT, ACT_EXPORT,
    ACT_LIST, ACT_HELP, ACT_BLANK, ACT_QUIT, ACT_INTERRUPT, ACT_UP, ACT_DOWN,
    ACT_TOP, ACT_BOTTOM, ACT_FOCUS, ACT_REDRAW, ACT_LEFT, ACT_RIGHT, ACT_ZOOM, ACT_COLLAPSE,
    ACT_DUMP, ACT_NEXT_CHANGE, ACT_PREV_CHANGE, ACT_GOTO, ACT_CLOCK, ACT_MORE_CTX,
    ACT_LESS_CTX, ACT_COUNT
} act;

/* What each action does, for the help overlay, in its order. */
static const struct {
    act a;
    const char *what;
} actions[] = {
    {ACT_NEXT, "next step"},
    {ACT_PREV, "previous step (the stage is replayed up to it)"},
    {ACT_STAGE, "jump to that stage (this one is put back first)"},
    {ACT_GOTO, "go to a stage and step: g 3.5"},
    {ACT_RESTART, "restart this stage"},
    {ACT_PROMPT, "Python prompt in the lesson's namespace (\xe2\x86\x91\xe2\x86\x93 history)"},
    {ACT_EXPORT, "export this step's dumps (txt md html svg ansi json)"},
    {ACT_LIST, "lesson list, with the stages done"},
    {ACT_BLANK, "blank the screen until the next key"},
    {ACT_CLOCK, "show or hide the time since the start"},
    {ACT_UP, "scroll the focused pane"},
    {ACT_TOP, "top / bottom of the focused pane"},
    {ACT_LEFT, "scroll the focused code or output sideways"},
    {ACT_FOCUS, "focus the next pane"},
    {ACT_ZOOM, "zoom the focused pane to the whole screen and back"},
    {ACT_COLLAPSE, "collapse the focused pane to its title and back"},
    {ACT_NEXT_CHANGE, "next / previous change in the memory pane"},
    {ACT_DUMP, "memory: only the changes / the whole dump"},
    {ACT_MORE_CTX, "more / fewer rows around each change"},
    {ACT_REDRAW, "redraw the screen"},
    {ACT_HELP, "this help"},
    {ACT_QUIT, "quit (everything is put back first)"},
    {ACT_NONE, "ignored: presentation clickers send them"},
};

/* The key bindings.  fn: a curses function key (KEY_*) rather than a
 * character.  A NULL name keeps a binding out of the help (a twin of one
 * already listed). */
static const struct binding {
    unsigned code;
    int fn;
    act a;
    const char *name;
} bindings[] = {
    {'n', 0, ACT_NEXT, "n"},
    {KEY_RIGHT, 1, ACT_NEXT, "\xe2\x86\x92"},
    {' ', 0, ACT_NEXT, "Space"},
    {KEY_NPAGE, 1, ACT_NEXT, "PgDn"},
    {'\r', 0, ACT_NEXT, "Enter"},
    {'\n', 0, ACT_NEXT, NULL},
    {KEY_ENTER, 1, ACT_NEXT, NULL},
    {'p', 0, ACT_PREV, "p"},
    {KEY_LEFT, 1, ACT_PREV, "\xe2\x86\x90"},
    {KEY_BACKSPACE, 1, ACT_PREV, "Backspace"},
    {0x7f, 0, ACT_PREV, NULL},
    {0x08, 0, ACT_PREV, NULL},
    {KEY_PPAGE, 1, ACT_PREV, "PgUp"},
    {'1', 0, ACT_STAGE, "1-9"},
    {'2', 0, ACT_STAGE, NULL},
    {'3', 0, ACT_STAGE, NULL},
    {'4', 0, ACT_STAGE, NULL},
    {'5', 0, ACT_STAGE, NULL},
    {'6', 0, ACT_STAGE, NULL},
    {'7', 0, ACT_STAGE, NULL},
    {'8', 0, ACT_STAGE, NULL},
    {'9', 0, ACT_STAGE, NULL},
    {'r', 0, ACT_RESTART, "r"},
    {'g', 0, ACT_GOTO, "g"},
    {'t', 0, ACT_CLOCK, "t"},
    {':', 0, ACT_PROMPT, ":"},
    {'e', 0, ACT_EXPORT, "e"},
    {'l', 0, ACT_LIST, "l"},
    {'.', 0, ACT_BLANK, "."},
    {'b', 0, ACT_BLANK, "b"},
    {KEY_UP, 1, ACT_UP, "\xe2\x86\x91"},
    {KEY_DOWN, 1, ACT_DOWN, "\xe2\x86\x93"},
    {'k', 0, ACT_UP, "k"},
    {'j', 0, ACT_DOWN, "j"},
    {KEY_HOME, 1, ACT_TOP, "Home"},
    {KEY_END, 1, ACT_BOTTOM, "End"},
    {'<', 0, ACT_LEFT, "<"},
    {'>', 0, ACT_RIGHT, ">"},
    {KEY_SLEFT, 1, ACT_LEFT, NULL},
    {KEY_SRIGHT, 1, ACT_RIGHT, NULL},
    {'\t', 0, ACT_FOCUS, "Tab"},
    {'z', 0, ACT_ZOOM, "z"},
    {'c', 0, ACT_COLLAPSE, "c"},
    {']', 0, ACT_NEXT_CHANGE, "]"},
    {'[', 0, ACT_PREV_CHANGE, "["},
    {'d', 0, ACT_DUMP, "d"},
    {'+', 0, ACT_MORE_CTX, "+"},
    {'=', 0, ACT_MORE_CTX, NULL},
    {'-', 0, ACT_LESS_CTX, "-"},
    {0x0c, 0, ACT_REDRAW, "Ctrl-L"},
    {'?', 0, ACT_HELP, "?"},
    {'q', 0, ACT_QUIT, "q"},
    {0x03, 0, ACT_INTERRUPT, "Ctrl-C"},
    {KEY_F(5), 1, ACT_NONE, "F5"},
    {0x1b, 0, ACT_NONE, "Esc"},
};

static act
lookup(int fn, unsigned code)
{
    for (size_t i = 0; i < sizeof bindings / sizeof bindings[0]; i++) {
        if (bindings[i].fn == fn && bindings[i].code == code) {
            return bindings[i].a;
        }
    }
    return ACT_NONE;
}

/* ---- terminal etiquette --------------------------------------------------- */

static volatile sig_atomic_t curses_on;
static volatile sig_atomic_t got_signal;
static volatile sig_atomic_t busy_worker;   /* pid of a worker running a request */
static volatile sig_atomic_t busy_prompt;   /* ... and the request is a prompt entry */
static int sig_pipe[2] = {-1, -1};

static void
restore_terminal(void)
{
    if (curses_on) {
        curses_on = 0;
        endwin();
    }
}

/* SIGINT, SIGTERM, SIGHUP: noted, and the main loop quits cleanly.  A
 * request in flight is not waited for: its worker is ended, and its
 * patches end with it (they live in that process only).  A prompt entry
 * running is the exception: SIGINT goes on to it. */
static void
on_quit_signal(int sig)
{
    int saved = errno;
    if (sig == SIGINT && busy_prompt && busy_worker > 0) {
        /* Ctrl-C on a running prompt entry: KeyboardInterrupt in it, as in
         * Python's REPL; a second one gives up on it (see worker.h). */
        if (!mt_worker_nudged) {
            kill((pid_t)busy_worker, SIGINT);
            mt_worker_nudged = 1;
        } else {
            mt_worker_nudged = 2;
        }
        errno = saved;
        return;
    }
    got_signal = sig;
    if (busy_worker > 0) {
        kill((pid_t)busy_worker, SIGKILL);
    }
    if (sig_pipe[1] >= 0) {
        (void)!write(sig_pipe[1], "", 1);
    }
    errno = saved;
}

/* A crash of the TUI itself: give the terminal back, then let the default
 * action (a core dump) happen as if we had not been here.  endwin is not
 * async-signal-safe; a broken terminal is the worse outcome. */
static void
on_crash(int sig)
{
    restore_terminal();
    signal(sig, SIG_DFL);
    raise(sig);
}

static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGQUIT, SIGTRAP,
                                    SIGSYS};
static const int quit_signals[] = {SIGINT, SIGTERM, SIGHUP};

static void
install_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_RESETHAND | SA_NODEFER;
    for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++) {
        sigaction(crash_signals[i], &sa, NULL);
    }
    sa.sa_handler = on_quit_signal;
    sa.sa_flags = 0;          /* no SA_RESTART: wake the poll */
    for (size_t i = 0; i < sizeof quit_signals / sizeof quit_signals[0]; i++) {
        sigaction(quit_signals[i], &sa, NULL);
    }
    /* A worker that died between requests must come back as EPIPE and a
     * report, not as a signal that ends the TUI. */
    signal(SIGPIPE, SIG_IGN);
    mt_fatal_hook = restore_terminal;
}

static void
remove_handlers(void)
{
    for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++) {
        signal(crash_signals[i], SIG_DFL);
    }
    for (size_t i = 0; i < sizeof quit_signals / sizeof quit_signals[0]; i++) {
        signal(quit_signals[i], SIG_DFL);
    }
    signal(SIGPIPE, SIG_DFL);
    mt_fatal_hook = NULL;
}

/* While the worker runs a request no key is read, so Ctrl-C is let
 * through as SIGINT (and only Ctrl-C: no suspend, no quit character); the
 * handler above ends the request.  Raw keys again afterwards. */
static struct termios saved_tio;
static int tio_saved;

static void
busy_begin(mt_worker *w, int prompt)
{
    mt_worker_nudged = 0;
    busy_prompt = prompt;
    busy_worker = mt_worker_pid(w);
    tio_saved = 0;
    if (!curses_on || tcgetattr(STDIN_FILENO, &saved_tio) < 0) {
        return;
    }
    struct termios tio = saved_tio;
    tio.c_lflag |= ISIG;
    tio.c_cc[VQUIT] = _POSIX_VDISABLE;
    tio.c_cc[VSUSP] = _POSIX_VDISABLE;
#ifdef VDSUSP
    tio.c_cc[VDSUSP] = _POSIX_VDISABLE;
#endif
    tio.c_cc[VINTR] = 0x03;
    tio_saved = tcsetattr(STDIN_FILENO, TCSANOW, &tio) == 0;
}

static void
busy_end(void)
{
    if (tio_saved) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
        tio_saved = 0;
    }
    busy_worker = 0;
    busy_prompt = 0;
    mt_worker_nudged = 0;
}

/* ---- documents for a position ---------------------------------------------- */

static const mt_lesson *
lesson(const tui *t)
{
    return t->app->lessons[t->si];
}

static int
is_step(const tui *t)
{
    return t->k >= 0 && (size_t)t->k < lesson(t)->nsteps;
}

static int
is_marker_line(const mt_line *l)
{
    if (l->n == 0) {
        return 0;
    }
    for (size_t i = 0; i < l->n; i++) {
        if (l->spans[i].role != MT_R_MARKER) {
            return 0;
        }
    }
    return 1;
}

static int
clamp(int v, int lo, int hi)
{
    return v > hi ? (hi > lo ? hi : lo) : v < lo ? lo : v;
}

/* ---- the memory pane's rows ------------------------------------------------

   A region's before and after documents are read by their roles, never
   re-derived: a line with a changed byte or a marker ("^^", "* was") is a
   change; a line starting with an offset and a colon is an xxd row; one
   starting "  +N" is an instruction at offset N.  Side by side, lines of
   the same offset face each other (the after view's ^^ lines face a
   blank).  The pane shows the whole dump, with repeated xxd rows squeezed
   into a `*` as xxd -a does, or only the changes with mem_ctx rows of
   context around them; stacked, the changes view shows the after view
   alone, since each changed field there says what it was. */

static int
line_changed(const mt_line *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->spans[i].role == MT_R_CHANGED || l->spans[i].role == MT_R_MARKER) {
            return 1;
        }
    }
    return 0;
}

static int
line_blank(const mt_line *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->spans[i].text[0] != '\0') {
            return 0;
        }
    }
    return 1;
}

static int
line_hex(const mt_line *l)
{
    return l->n > 0 && l->spans[0].role == MT_R_OFFSET && strlen(l->spans[0].text) > 8
           && l->spans[0].text[8] == ':';
}

static long
line_insn(const mt_line *l)
{
    if (l->n == 0 || l->spans[0].role != MT_R_OFFSET || strncmp(l->spans[0].text, "  +", 3) != 0) {
        return -1;
    }
    return strtol(l->spans[0].text + 3, NULL, 10);
}

/* Two xxd rows hold the same bytes (the offset aside). */
static int
same_bytes(const mt_line *x, const mt_line *y)
{
    if (x->n != y->n) {
        return 0;
    }
    for (size_t i = 1; i < x->n; i++) {
        if (strcmp(x->spans[i].text, y->spans[i].text) != 0) {
            return 0;
        }
    }
    return 1;
}

/* Columns a memory line's continuation rows start at, in a w-column
 * pane: under the value of a field row when that leaves room, else a
 * little in. */
static int
wrap_indent(const mt_line *l, int w)
{
    if (l->n >= 2 && l->spans[0].role == MT_R_OFFSET && l->spans[1].role == MT_R_FIELD) {
        int v = mt_tui_width(l->spans[0].text, strlen(l->spans[0].text))
                + mt_tui_width(l->spans[1].text, strlen(l->spans[1].text)) + 2;
        if (w - v >= 30) {
            return v;
        }
    }
    return 4;
}

#define MAX_SEGS 16

/* Where each row of line l wrapped at w columns starts; xxd rows are
 * never wrapped (their ASCII column is cut at the edge).  Returns the
 * number of rows (≥ 1). */
static int
line_wrap(const mt_line *l, int w, int *starts)
{
    starts[0] = 0;
    if (l == NULL || line_hex(l) || w < 8) {
        return 1;
    }
    int stack_cols[257];
    unsigned char stack_sp[256];
    int n = mt_tui_line_cols(l, stack_cols, stack_sp, 256);
    int *cols = stack_cols;
    unsigned char *sp = stack_sp;
    if (n > 256) {
        cols = mt_xmalloc(((size_t)n + 1) * sizeof *cols);
        sp = mt_xmalloc((size_t)n);
        mt_tui_line_cols(l, cols, sp, n);
    }
    int k = mt_tui_wrap(cols, sp, n, w, wrap_indent(l, w), starts, MAX_SEGS);
    if (cols != stack_cols) {
        free(cols);
        free(sp);
    }
    return k;
}

typedef struct line_pair {
    int b, a;
} line_pair;

/* Before and after lines of one region, level by offset. */
static size_t
align_lines(const mt_doc *b, const mt_doc *a, line_pair **out)
{
    size_t cap = b->n + a->n + 1, n = 0;
    line_pair *v = mt_xmalloc(cap * sizeof *v);
    size_t x = 0, y = 0;
    while (x < b->n || y < a->n) {
        if (y < a->n && is_marker_line(&a->lines[y])) {
            v[n++] = (line_pair){-1, (int)y++};
        } else if (x < b->n && y < a->n) {
            long ib = line_insn(&b->lines[x]), ia = line_insn(&a->lines[y]);
            if (ib >= 0 && (ia < 0 || ib < ia)) {
                v[n++] = (line_pair){(int)x++, -1};
            } else if (ia >= 0 && (ib < 0 || ia < ib)) {
                v[n++] = (line_pair){-1, (int)y++};
            } else {
                v[n++] = (line_pair){(int)x++, (int)y++};
            }
        } else {
            v[n++] = (line_pair){x < b->n ? (int)x++ : -1, y < a->n ? (int)y++ : -1};
        }
    }
    *out = v;
    return n;
}

static void
mem_add(tui *t, size_t *cap, mem_row row)
{
    if (t->nmem == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        t->mem = mt_xrealloc(t->mem, *cap * sizeof *t->mem);
    }
    t->mem[t->nmem++] = row;
}

/* Rows for the lines of one region: which == 0 both sides, 1 before
 * only, 2 after only; keep[i] says which pairs are shown (the others
 * become `*` rows), w the width lines wrap at. */
static void
mem_emit(tui *t, size_t *cap, uint32_t region, const line_pair *v, size_t n, const char *keep,
         const char *chg, int which, int w)
{
    const mt_doc *bd = t->before[region], *ad = t->after[region];
    size_t skipped = 0;
    for (size_t i = 0; i <= n; i++) {
        int bl = i < n && which != 2 ? v[i].b : -1;
        int al = i < n && which != 1 ? v[i].a : -1;
        if (i < n && bl < 0 && al < 0) {
            continue;
        }
        const mt_line *lb = bl >= 0 ? &bd->lines[bl] : NULL;
        const mt_line *la = al >= 0 ? &ad->lines[al] : NULL;
        int blank = i < n && (lb == NULL || line_blank(lb)) && (la == NULL || line_blank(la));
        if (blank && t->mem_changes) {
            continue;      /* a `*` run goes on across a blank line */
        }
        if (i < n && !keep[i]) {
            skipped++;
            continue;
        }
        if (skipped > 0) {
            mem_add(t, cap, (mem_row){ROW_SKIP, (int)region, -1, -1, -1, -1, 0, (int)skipped});
            skipped = 0;
        }
        if (i == n) {
            break;
        }
        if (blank) {
            mem_add(t, cap, (mem_row){ROW_BLANK, (int)region, -1, -1, -1, -1, 0, 0});
            continue;
        }
        int sb[MAX_SEGS], sa[MAX_SEGS];
        int nb = lb ? line_wrap(lb, w, sb) : 0, na = la ? line_wrap(la, w, sa) : 0;
        int nseg = nb > na ? nb : na;
        for (int k = 0; k < nseg; k++) {
            mem_add(t, cap, (mem_row){ROW_LINE, (int)region, k < nb ? bl : -1, k < na ? al : -1,
                                      k < nb ? k : -1, k < na ? k : -1, chg[i], 0});
        }
    }
}

/* The memory pane's rows: side by side or stacked, the whole dumps or
 * only their changes, lines wrapped at w columns. */
static void
build_mem(tui *t, int sbs, int changes, int w)
{
    size_t cap = 0;
    t->nmem = 0;
    t->mem_sbs = sbs;
    t->mem_changes = changes;
    t->mem_any = 0;
    for (uint32_t i = 0; i < t->nreg; i++) {
        const mt_doc *bd = t->before[i], *ad = t->after[i];
        line_pair *v;
        size_t n = align_lines(bd, ad, &v);
        char *chg = mt_xcalloc(n + 1, 1), *keep = mt_xcalloc(n + 1, 1);
        int any = 0;
        for (size_t j = 0; j < n; j++) {
            chg[j] = (v[j].a >= 0 && line_changed(&ad->lines[v[j].a]))
                     || (v[j].b >= 0 && line_changed(&bd->lines[v[j].b]));
            any |= chg[j];
        }
        t->mem_any |= any;
        if (changes) {
            /* The header, the changes and mem_ctx rows around them within
             * their section (sections end at blank lines), and the head
             * line of a section that shows anything. */
            size_t sec = 0;
            for (size_t j = 0; j <= n; j++) {
                const mt_line *lb = j < n && v[j].b >= 0 ? &bd->lines[v[j].b] : NULL;
                const mt_line *la = j < n && v[j].a >= 0 ? &ad->lines[v[j].a] : NULL;
                int blank = j == n || ((lb == NULL || line_blank(lb)) && (la == NULL || line_blank(la)));
                if (!blank) {
                    continue;
                }
                int shown = 0;
                for (size_t k = sec; k < j; k++) {
                    if (!chg[k]) {
                        continue;
                    }
                    size_t from = k >= sec + (size_t)t->mem_ctx ? k - (size_t)t->mem_ctx : sec;
                    for (size_t m = from; m < j && m <= k + (size_t)t->mem_ctx; m++) {
                        keep[m] = 1;
                    }
                    shown = 1;
                }
                if (shown && sec < j) {
                    const mt_line *h = v[sec].a >= 0 ? &ad->lines[v[sec].a]
                                                     : v[sec].b >= 0 ? &bd->lines[v[sec].b] : NULL;
                    keep[sec] |= h == NULL || !line_hex(h);
                }
                keep[j] = 1;     /* blank rows are dropped, not counted */
                sec = j + 1;
            }
            keep[0] = 1;
            if (!any) {
                /* Nothing changed: the header and a note, no `*` rows. */
                n = n > 0 ? 1 : 0;
            }
        } else {
            /* xxd -a: a run of rows repeating the one before it (changed
             * in neither view) becomes one `*`. */
            for (size_t j = 0; j < n; j++) {
                keep[j] = 1;
                if (j == 0 || chg[j] || chg[j - 1] || v[j].a < 0 || v[j].b < 0
                    || v[j - 1].a < 0 || v[j - 1].b < 0) {
                    continue;
                }
                const mt_line *b0 = &bd->lines[v[j - 1].b], *b1 = &bd->lines[v[j].b];
                const mt_line *a0 = &ad->lines[v[j - 1].a], *a1 = &ad->lines[v[j].a];
                if (line_hex(b1) && line_hex(b0) && same_bytes(b0, b1) && same_bytes(a0, a1)) {
                    keep[j] = 0;
                }
            }
        }
        if (i > 0) {
            mem_add(t, &cap, (mem_row){ROW_BLANK, (int)i, -1, -1, -1, -1, 0, 0});
        }
        if (sbs) {
            mem_emit(t, &cap, i, v, n, keep, chg, 0, w);
        } else if (changes) {
            mem_emit(t, &cap, i, v, n, keep, chg, 2, w);
        } else {
            mem_emit(t, &cap, i, v, n, keep, chg, 1, w);
            mem_add(t, &cap, (mem_row){ROW_BLANK, (int)i, -1, -1, -1, -1, 0, 0});
            mem_emit(t, &cap, i, v, n, keep, chg, 2, w);
        }
        if (changes && !any) {
            mem_add(t, &cap, (mem_row){ROW_NOTE, (int)i, -1, -1, -1, -1, 0, 0});
        }
        free(v);
        free(chg);
        free(keep);
    }
}

/* The row of the memory pane that a change starts on after row `from`
 * (dir 1) or before it (dir -1); -1 when there is none. */
static int
mem_change(const tui *t, int from, int dir)
{
    for (int i = from + dir; i >= 0 && i < (int)t->nmem; i += dir) {
        const mem_row *m = &t->mem[i];
        if (m->changed && (i == 0 || !t->mem[i - 1].changed || t->mem[i - 1].region != m->region)) {
            return i;
        }
    }
    return -1;
}

/* The first row of the view (before or after) of the region that row i
 * belongs to: its header line. */
static int
mem_header(const tui *t, int i)
{
    for (int j = i; j >= 0; j--) {
        const mem_row *m = &t->mem[j];
        if (m->kind == ROW_LINE && ((m->after == 0 && m->aseg == 0) || (m->before == 0 && m->bseg == 0))) {
            return j;
        }
    }
    return 0;
}

/* What it takes to show the first change whole: the rows from its
 * region's header through the first changed row that is not a byte row
 * (a field, with what it was, or an instruction), else through the
 * changed byte rows and their ^^.  *change gets the rows of the change
 * itself, from its first changed row. */
static int
mem_first_rows(const tui *t, int *change)
{
    int c = mem_change(t, -1, 1);
    *change = 0;
    if (c < 0) {
        return 0;
    }
    int h = mem_header(t, c), last = c;
    for (int i = c; i < (int)t->nmem && t->mem[i].region == t->mem[c].region; i++) {
        const mem_row *m = &t->mem[i];
        if (!m->changed) {
            continue;
        }
        last = i;
        const mt_line *l = m->after >= 0 ? &t->after[m->region]->lines[m->after]
                                         : &t->before[m->region]->lines[m->before];
        if (!line_hex(l) && !is_marker_line(l)) {
            while (i + 1 < (int)t->nmem && t->mem[i + 1].kind == ROW_LINE
                   && t->mem[i + 1].after == m->after && t->mem[i + 1].before == m->before) {
                last = ++i;       /* the rest of a wrapped field */
            }
            *change = last - c + 1;
            return last - h + 1;
        }
    }
    *change = last - c + 1;
    return last - h + 1;
}

static void
free_docs(tui *t)
{
    for (uint32_t i = 0; i < t->nreg; i++) {
        mt_doc_free(t->before[i]);
        mt_doc_free(t->after[i]);
    }
    free(t->before);
    free(t->after);
    t->before = t->after = NULL;
    t->nreg = 0;
    free(t->mem);
    t->mem = NULL;
    t->nmem = 0;
    mt_doc_free(t->narr);
    mt_doc_free(t->code);
    mt_doc_free(t->out);
    mt_doc_free(t->log);
    t->narr = t->code = t->out = t->log = NULL;
    free(t->narr_md);
    t->narr_md = NULL;
    mt_doc_free(t->narr_head);
    mt_doc_free(t->narr_tail);
    t->narr_head = t->narr_tail = NULL;
    for (int p = 0; p < P_COUNT; p++) {
        free(t->titles[p]);
        free(t->short_titles[p]);
        t->titles[p] = t->short_titles[p] = NULL;
    }
}

/* The output pane: what the position printed, then the prompt's log. */
static void
build_out(tui *t)
{
    mt_doc_free(t->out);
    t->out = t->res ? mt_view_output(t->res) : mt_doc_new();
    if (t->log != NULL && t->log->n > 0) {
        if (t->out->n > 0) {
            mt_doc_newline(t->out);
        }
        mt_doc_append(t->out, t->log);
    }
    t->out_width = mt_doc_width(t->out);
}

static const char *
file_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void set_msg(tui *t, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_msg(tui *t, int error, const char *fmt, ...)
{
    free(t->msg);
    t->msg = NULL;
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        t->msg = mt_xvasprintf(fmt, ap);
        va_end(ap);
    }
    t->msg_error = error;
}

static void relayout(tui *t);
static int content_lines(const tui *t, int p);

static const char *
ellipsis(void)
{
    return mt_tui_screen_utf8() ? "\xe2\x80\xa6" : "...";
}

/* A new line of d holding text as it is (no markdown). */
static void
lit(mt_doc *d, mt_role role, const char *text)
{
    mt_doc_newline(d);
    mt_doc_add(d, role, 0, text);
}

/* The memory pane's documents from the regions of r (borrowed), its title
 * ending in `what`: "" for a step, " your entry" after a prompt entry. */
static void
set_regions(tui *t, const mt_step_result *r, const char *what)
{
    for (uint32_t i = 0; i < t->nreg; i++) {
        mt_doc_free(t->before[i]);
        mt_doc_free(t->after[i]);
    }
    free(t->before);
    free(t->after);
    free(t->titles[P_MEM]);
    t->nreg = r->nregions;
    t->before = mt_xcalloc(t->nreg, sizeof *t->before);
    t->after = mt_xcalloc(t->nreg, sizeof *t->after);
    for (uint32_t i = 0; i < t->nreg; i++) {
        t->before[i] = mt_view_region(&r->regions[i], 0);
        t->after[i] = mt_view_region(&r->regions[i], 1);
    }
    t->titles[P_MEM] = mt_xasprintf("memory %s %u region%s %s before %s after%s",
                                    mt_tui_glyph_str(MT_G_DOT), t->nreg, t->nreg == 1 ? "" : "s",
                                    mt_tui_glyph_str(MT_G_DOT), "\xe2\x86\x92", what);
    t->mem_user = 0;
}

/* Make (si, k) the position, showing r (owned from now on; may be NULL). */
static void
set_position(tui *t, size_t si, int k, mt_step_result *r)
{
    free_docs(t);
    mt_result_free(t->res);
    t->res = r;
    t->si = si;
    t->k = k;
    const mt_lesson *l = lesson(t);
    if (r != NULL) {
        t->patched = r->patched != 0;
    }
    memset(t->scroll, 0, sizeof t->scroll);

    int crashed = r && mt_result_is_death(r);
    const char *dot = mt_tui_glyph_str(MT_G_DOT);
    mt_doc *head = t->narr_head = mt_doc_new();
    mt_doc *tail = t->narr_tail = mt_doc_new();
    if (is_step(t)) {
        const mt_step *st = &l->steps[k];
        t->titles[P_NARR] = mt_xasprintf("Step %d/%zu %s %s", k + 1, l->nsteps, dot, st->title);
        if (*st->narrative == '\0') {
            lit(head, MT_R_HEADING, st->title);
        }
        t->narr_md = mt_xstrdup(st->narrative);
        t->code = mt_view_code(st->code, r ? r->code_roles : NULL);
        t->titles[P_CODE] = mt_xasprintf("code %s %s:%d", dot, file_name(l->path), st->code_line);
        t->short_titles[P_CODE] = mt_xasprintf("%s:%d", file_name(l->path), st->code_line);
    } else if (k < 0) {
        /* The opening page: a title slide with the stage's steps. */
        t->titles[P_NARR] = mt_xasprintf("Stage %d %s %s", l->number, dot, l->slug);
        lit(head, MT_R_HEADING, l->title);
        lit(head, MT_R_TEXT, "");
        t->narr_md = mt_xstrdup(l->summary);
        lit(tail, MT_R_TEXT, "");
        lit(tail, MT_R_HEADING, "The steps");
        lit(tail, MT_R_TEXT, "");
        for (size_t i = 0; i < l->nsteps; i++) {
            mt_doc_newline(tail);
            mt_doc_addf(tail, MT_R_COMMENT, 0, "  %2zu. ", i + 1);
            mt_doc_add(tail, MT_R_TEXT, 0, l->steps[i].title);
        }
        if (!t->talk && l->nsteps > 0) {
            lit(tail, MT_R_TEXT, "");
            lit(tail, MT_R_TEXT, "Press ");
            mt_doc_add(tail, MT_R_CODE, 0, "n");
            mt_doc_add(tail, MT_R_TEXT, 0, " to run the first step.");
        }
        t->code = mt_doc_new();
    } else {
        /* The closing page: the lesson's last words, and what leaving did. */
        t->titles[P_NARR] = mt_xasprintf("End of stage %d %s %s", l->number, dot, l->slug);
        t->narr_md = mt_xstrdup(l->outro);
        if (r != NULL && r->status == MT_ST_OK && !r->patched) {
            lit(tail, MT_R_TEXT, "");
            lit(tail, MT_R_PRISTINE, "The stage has been left: everything it changed is as it was.");
        }
        /* The stage's exercises, and how to do them (not in talk mode). */
        for (size_t x = 0; !t->talk && x < l->nexercises; x++) {
            lit(tail, MT_R_TEXT, "");
            mt_doc_addf(tail, MT_R_STRONG, 0, "Exercise %d.%zu%s ", l->number, x + 1,
                        mt_state_solved(&t->st, l->number, (int)x + 1)
                            ? mt_tui_glyph_str(MT_G_DONE) : ":");
            mt_doc_add(tail, MT_R_TEXT, 0, l->exercises[x].title);
            lit(tail, MT_R_TEXT, "In another terminal: ");
            mt_doc_addf(tail, MT_R_CODE, 0, "ministry-tutor --exercise %d.%zu", l->number, x + 1);
        }
        if (!t->talk && si + 1 < t->app->nlessons) {
            const mt_lesson *nl = t->app->lessons[si + 1];
            lit(tail, MT_R_TEXT, "");
            lit(tail, MT_R_STRONG, "Next: ");
            mt_doc_addf(tail, MT_R_TEXT, 0, "stage %d, ", nl->number);
            mt_doc_add(tail, MT_R_EMPH, 0, nl->title);
            mt_doc_add(tail, MT_R_TEXT, 0, ".  Press ");
            mt_doc_add(tail, MT_R_CODE, 0, "n");
            mt_doc_add(tail, MT_R_TEXT, 0, ".");
        }
        t->code = mt_doc_new();
    }

    t->out_error = r && r->status != MT_ST_OK;
    if (crashed) {
        t->titles[P_OUT] = mt_xstrdup(r->status == MT_ST_TIMEOUT ? "the step ran too long"
                                                                 : "the worker crashed");
    } else if (r && r->status == MT_ST_ERROR) {
        t->titles[P_OUT] = mt_xstrdup("output · it raised");
    } else if (r && r->status == MT_ST_FAIL) {
        t->titles[P_OUT] = mt_xstrdup("output · failed");
    } else if (k >= (int)l->nsteps) {
        t->titles[P_OUT] = mt_xstrdup("leaving the stage");
    } else if (is_step(t) && r) {
        t->titles[P_OUT] = mt_xasprintf("output %s ran in %.1f ms", mt_tui_glyph_str(MT_G_DOT),
                                        r->seconds * 1e3);
        t->short_titles[P_OUT] = mt_xasprintf("%.1f ms", r->seconds * 1e3);
    } else {
        t->titles[P_OUT] = mt_xstrdup("output");
    }
    t->log = mt_doc_new();
    build_out(t);

    if (r != NULL && is_step(t)) {
        set_regions(t, r, "");
    }
    t->code_width = mt_doc_width(t->code);
    if (t->code_si != si + 1) {
        /* The divider stays where the stage's widest code puts it. */
        t->code_si = si + 1;
        t->stage_code_w = 0;
        for (size_t i = 0; i < l->nsteps; i++) {
            mt_doc *c = mt_view_code(l->steps[i].code, NULL);
            int cw = mt_doc_width(c);
            t->stage_code_w = cw > t->stage_code_w ? cw : t->stage_code_w;
            mt_doc_free(c);
        }
    }
    t->narr_w = -1;
    t->mem_user = 0;
    memset(t->hscroll, 0, sizeof t->hscroll);
    t->focus = t->nreg > 0 ? P_MEM : P_NARR;
    relayout(t);
    if (!t->talk && content_lines(t, P_NARR) > t->visible[P_NARR]) {
        t->focus = P_NARR;    /* a learner reads the story first */
    }
}

/* ---- layout ------------------------------------------------------------- */

static int
content_lines(const tui *t, int p)
{
    switch (p) {
    case P_NARR: return t->narr ? (int)t->narr->n : 0;
    case P_CODE: return t->code ? (int)t->code->n : 0;
    case P_OUT: return t->out ? (int)t->out->n : 0;
    default: return (int)t->nmem;
    }
}

static mt_tui_rect *
pane_rect(tui *t, int p)
{
    switch (p) {
    case P_NARR: return &t->lo.narrative;
    case P_CODE: return &t->lo.code;
    case P_OUT: return &t->lo.output;
    default: return &t->lo.memory;
    }
}

/* The rows of every pane for the current documents and memory view. */
static void
layout_rows(tui *t)
{
    mt_tui_needs nd = {
        .narr_lines = (int)t->narr->n,
        .code_lines = (int)t->code->n,
        .code_width = t->code_width,
        .out_lines = (int)t->out->n,
        .mem_lines = (int)t->nmem,
        .mem_first = t->mem_first,
        .mem_change = t->mem_change,
        .collapsed = t->collapsed,
        .zoom = t->zoom,
    };
    mt_tui_layout_rows(&t->lo, &nd);
    for (int p = 0; p < P_COUNT; p++) {
        mt_tui_rect *r = pane_rect(t, p);
        t->visible[p] = r->h > 1 ? r->h - 1 : 0;
    }
}

/* Columns a memory line may take: a half, or the pane, less a column for
 * the `›` of a cut line. */
static int
mem_width(const tui *t)
{
    return (t->lo.side_by_side ? t->lo.half : t->lo.memory.w - 2) - 1;
}

/* The memory rows at the layout's width, in the view asked for (auto:
 * the whole dumps when they fit the pane, else only their changes). */
static void
layout_memory(tui *t)
{
    int sbs = t->lo.side_by_side;
    int w = mem_width(t);
    int changes = t->mem_view == MV_CHANGES;
    build_mem(t, sbs, changes, w);
    t->mem_first = mem_first_rows(t, &t->mem_change);
    layout_rows(t);
    if (t->mem_view == MV_AUTO && t->mem_any && (int)t->nmem > t->visible[P_MEM]) {
        build_mem(t, sbs, 1, w);
        t->mem_first = mem_first_rows(t, &t->mem_change);
        layout_rows(t);
    }
}

/* Lay the panes out for the current terminal size: the narrative is
 * re-wrapped when its width changed and the memory rows rebuilt; the
 * dump opens on its first change unless it was scrolled by hand (then the
 * line at its top stays there). */
static void
relayout(tui *t)
{
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    int code_w = t->code->n > 0 ? (t->stage_code_w > t->code_width ? t->stage_code_w
                                                                   : t->code_width)
                                : 0;
    mem_row anchor = {0};
    int anchored = t->mem_user && t->nmem > 0 && t->scroll[P_MEM] < (int)t->nmem;
    if (anchored) {
        anchor = t->mem[t->scroll[P_MEM]];
    }
    mt_tui_layout_columns(&t->lo, cols, rows, code_w, t->out->n > 0 ? t->out_width : 0);
    if (t->lo.too_small) {
        return;
    }
    for (int pass = 0; pass < 2; pass++) {
        if (t->narr == NULL || t->narr_w != t->lo.narr_width) {
            mt_doc_free(t->narr);
            t->narr = mt_doc_new();
            mt_doc_append(t->narr, t->narr_head);
            mt_doc *md = mt_view_markdown(t->narr_md ? t->narr_md : "", t->lo.narr_width);
            mt_doc_append(t->narr, md);
            mt_doc_free(md);
            mt_doc_append(t->narr, t->narr_tail);
            t->narr_w = t->lo.narr_width;
        }
        layout_memory(t);
        if (t->narr_w == t->lo.narr_width) {
            break;      /* a zoomed narrative wraps wider: once more */
        }
    }
    for (int p = 0; p < P_COUNT; p++) {
        t->scroll[p] = clamp(t->scroll[p], 0, content_lines(t, p) - t->visible[p]);
    }
    int found = 0;
    if (anchored) {
        for (size_t i = 0; i < t->nmem && !found; i++) {
            const mem_row *m = &t->mem[i];
            if (m->region == anchor.region && m->kind == anchor.kind
                && (anchor.after >= 0 ? m->after == anchor.after : m->before == anchor.before)) {
                t->scroll[P_MEM] = clamp((int)i, 0, (int)t->nmem - t->visible[P_MEM]);
                found = 1;
            }
        }
    }
    if (!found && (int)t->nmem > t->visible[P_MEM]) {
        /* Open on the first change: from its region's header through its
         * first changed field when that fits, else up to that field. */
        int c = mem_change(t, -1, 1);
        t->scroll[P_MEM] = 0;
        if (c >= 0) {
            int h = mem_header(t, c), vis = t->visible[P_MEM];
            int top = t->mem_first <= vis ? h : h + t->mem_first - vis;
            t->scroll[P_MEM] = clamp(top, 0, (int)t->nmem - vis);
        }
    }
    if (pane_rect(t, t->focus)->h == 0) {
        t->focus = t->zoom > 0 ? t->zoom - 1 : P_NARR;
    }
}

/* ---- drawing ------------------------------------------------------------- */

static int
put_str(int y, int x, int w, mt_role role, attr_t extra, const char *s)
{
    return mt_tui_put(y, x, w, x, role, 0, extra, s, strlen(s), NULL);
}

static int
str_width(const char *s)
{
    return mt_tui_width(s, strlen(s));
}

/* A pane's title rule: "─ title ─────── 1-20/48 ↓ ─".  A title that does
 * not fit gives way to its short form, then is cut with an ellipsis. */
static void
draw_title(tui *t, int p, const char *title, mt_role role)
{
    const mt_tui_rect *r = pane_rect(t, p);
    if (r->h == 0) {
        return;
    }
    mt_tui_fill(r->y, r->x, r->w, MT_G_HLINE, MT_R_COMMENT, 0);
    char right[64] = "";
    int total = content_lines(t, p), vis = t->visible[p], top = t->scroll[p];
    if (total > vis && vis > 0) {
        snprintf(right, sizeof right, " %d-%d/%d %s%s ", top + 1, top + vis, total,
                 top > 0 ? mt_tui_glyph_str(MT_G_UP) : "",
                 top + vis < total ? mt_tui_glyph_str(MT_G_DOWN) : "");
    } else if (r->h == 1 && total > 0) {
        snprintf(right, sizeof right, " %d %s ", total, mt_tui_glyph_str(MT_G_DOWN));
    }
    int rw = str_width(right);
    int room = r->w - rw - 4;
    if (title != NULL && str_width(title) > room && t->short_titles[p] != NULL
        && title == t->titles[p]) {
        title = t->short_titles[p];
    }
    attr_t focus = p == t->focus && (total > vis || r->h == 1 || t->zoom) ? A_REVERSE : 0;
    int x = r->x + 1;
    x += put_str(r->y, x, r->w - rw - 3, role, focus, " ");
    int cut = 0;
    const char *tt = title ? title : "";
    x += mt_tui_put(r->y, x, room, x, role, 0, focus, tt, strlen(tt), &cut);
    if (cut && room > 1) {
        x--;
        x += put_str(r->y, x, 1, role, focus, ellipsis());
    }
    put_str(r->y, x, 1, role, focus, " ");
    if (rw > 0) {
        put_str(r->y, r->x + r->w - rw - 1, rw, MT_R_COMMENT, focus, right);
    }
}

/* The visible lines of a document in a pane, one column in from its edge,
 * scrolled hscroll columns to the right: `›` where a line goes on past the
 * right edge, `‹` where it began left of the left one. */
static void
draw_doc(tui *t, int p, const mt_doc *d)
{
    const mt_tui_rect *r = pane_rect(t, p);
    int skip = t->hscroll[p];
    for (int i = 0; i < t->visible[p]; i++) {
        size_t li = (size_t)(t->scroll[p] + i);
        if (li >= d->n) {
            break;
        }
        int y = r->y + 1 + i;
        if (mt_tui_put_slice(y, r->x + 1, r->w - 2, &d->lines[li], skip, 0)) {
            put_str(y, r->x + r->w - 1, 1, MT_R_COMMENT, 0, mt_tui_glyph_str(MT_G_CLIP));
        }
        if (skip > 0 && mt_doc_line_width(&d->lines[li]) > 0) {
            put_str(y, r->x, 1, MT_R_COMMENT, 0, mt_tui_glyph_str(MT_G_CLIP_LEFT));
        }
    }
}

/* One side of a memory row: segment seg of the line, wrapped at w. */
static void
draw_mem_line(int y, int x, int w, const mt_line *l, int seg)
{
    int starts[MAX_SEGS];
    int n = line_wrap(l, w, starts);
    if (seg >= n) {
        return;
    }
    int indent = seg > 0 ? wrap_indent(l, w) : 0;
    indent = indent > w / 2 ? w / 2 : indent;
    int width = seg + 1 < n ? starts[seg + 1] - starts[seg] : w - indent;
    width = width > w - indent ? w - indent : width;
    if (seg > 0 && indent >= 2) {
        put_str(y, x + indent - 2, 1, MT_R_COMMENT, 0, mt_tui_glyph_str(MT_G_CLIP));
    }
    if (mt_tui_put_slice(y, x + indent, width, l, starts[seg], 0) && seg + 1 >= n) {
        put_str(y, x + w, 1, MT_R_COMMENT, 0, mt_tui_glyph_str(MT_G_CLIP));
    }
}

static void
draw_memory(tui *t)
{
    const mt_tui_rect *r = &t->lo.memory;
    if (r->h == 0) {
        return;
    }
    draw_title(t, P_MEM, t->titles[P_MEM], MT_R_HEADING);
    int sbs = t->mem_sbs;
    int half = mem_width(t);
    int xl = r->x + 1, xr = r->x + 1 + t->lo.half + MT_TUI_GAP;
    int sep = r->x + 1 + t->lo.half + 1;
    for (int i = 0; i < t->visible[P_MEM]; i++) {
        size_t ri = (size_t)(t->scroll[P_MEM] + i);
        if (ri >= t->nmem) {
            break;
        }
        const mem_row *m = &t->mem[ri];
        int y = r->y + 1 + i;
        if (sbs && m->kind != ROW_BLANK) {
            put_str(y, sep, 1, MT_R_COMMENT, 0, mt_tui_glyph_str(MT_G_VLINE));
        }
        if (m->kind == ROW_SKIP) {
            char *what = mt_xasprintf("*  %d line%s not shown", m->count, m->count == 1 ? "" : "s");
            put_str(y, xl, half, MT_R_COMMENT, 0, what);
            if (sbs) {
                put_str(y, xr, half, MT_R_COMMENT, 0, what);
            }
            free(what);
        } else if (m->kind == ROW_NOTE) {
            put_str(y, sbs ? xr : xl, half, MT_R_COMMENT, 0, "  nothing here changed");
        } else if (m->kind == ROW_LINE) {
            if (m->before >= 0 && m->bseg >= 0) {
                draw_mem_line(y, xl, half, &t->before[m->region]->lines[m->before], m->bseg);
            }
            if (m->after >= 0 && m->aseg >= 0) {
                draw_mem_line(y, sbs ? xr : xl, half, &t->after[m->region]->lines[m->after],
                              m->aseg);
            }
        }
    }
}

/* The status line: stage, step, PATCHED or pristine, Python, arch. */
static void
draw_status(tui *t)
{
    const mt_tui_rect *r = &t->lo.status;
    const mt_lesson *l = lesson(t);
    const char *dot = mt_tui_glyph_str(MT_G_DOT);
    move(r->y, 0);
    attr_t a;
    short pair;
    mt_tui_attr(MT_R_TEXT, 0, &a, &pair);
    attr_set(a ^ A_REVERSE, pair, NULL);
    hline(' ', r->w);

    char clock[32] = "";
    if (t->clock) {
        long secs = (long)(mt_now() - t->t0);
        if (secs >= 3600) {
            snprintf(clock, sizeof clock, "%ld:%02ld:%02ld %s ", secs / 3600, secs / 60 % 60,
                     secs % 60, dot);
        } else {
            snprintf(clock, sizeof clock, "%02ld:%02ld %s ", secs / 60, secs % 60, dot);
        }
    }
    char *right = mt_xasprintf(" %sPython %s %s %s ", clock, t->py, dot, t->arch);
    const char *flag = t->patched ? " PATCHED " : " pristine ";
    int rw = str_width(right) + str_width(flag);
    char *stage = mt_xasprintf(" Stage %d/%zu %s %s ", l->number, t->app->nlessons, dot,
                               l->title);
    char *step;
    if (is_step(t)) {
        step = mt_xasprintf(" Step %d/%zu ", t->k + 1, l->nsteps);
    } else if (t->k < 0) {
        step = mt_xasprintf(" Opening ");
    } else {
        step = mt_xasprintf(" End ");
    }
    int room = r->w - rw - str_width(step) - 1, cut = 0;
    mt_tui_put(r->y, 0, room, 0, MT_R_HEADING, 0, A_REVERSE | A_BOLD, stage, strlen(stage), &cut);
    if (cut && room > 2) {
        put_str(r->y, room - 1, 1, MT_R_HEADING, A_REVERSE | A_BOLD, ellipsis());
    }
    int x = room + 1;
    put_str(r->y, x, r->w - x, MT_R_TEXT, A_REVERSE | A_BOLD, step);
    x = r->w - rw;
    x += put_str(r->y, x, r->w - x, t->patched ? MT_R_PATCHED : MT_R_PRISTINE, A_REVERSE, flag);
    put_str(r->y, x, r->w - x, MT_R_TEXT, A_REVERSE, right);
    free(right);
    free(stage);
    free(step);
}

/* The message line: a message, the prompt being edited, or the key hints
 * (learners) / a single "?" (talk mode). */
static void
draw_message(tui *t)
{
    const mt_tui_rect *r = &t->lo.message;
    int y = r->y;
    if (t->mode == M_PROMPT || t->mode == M_EXPORT || t->mode == M_GOTO) {
        const char *label = t->mode == M_PROMPT ? (t->more ? "... " : ">>> ")
                            : t->mode == M_GOTO ? "go to: " : "export to: ";
        mt_tui_edit *e = t->mode == M_PROMPT ? &t->prompt : t->mode == M_GOTO ? &t->where : &t->dir;
        const char *hint = t->mode == M_EXPORT ? "Enter writes, Esc cancels"
                           : t->mode == M_GOTO ? "stage or stage.step (3.5), Esc cancels"
                           : t->more ? "an empty line ends the block, Esc cancels"
                                     : "Enter runs, Esc cancels";
        int x = put_str(y, 1, r->w - 2, MT_R_PY_KEYWORD, 0, label);
        int hw = str_width(hint) + 2;
        int room = r->w - 2 - x - hw;
        if (room >= 30) {
            put_str(y, r->w - hw, hw, MT_R_COMMENT, 0, hint);
        } else {
            room += hw;
        }
        int cc = mt_tui_edit_cursor_col(e);
        /* Keep the cursor on screen: skip whole characters from the left. */
        const char *s = e->text ? e->text : "";
        while (cc >= room && *s) {
            const char *n = s + 1;
            while ((*n & 0xc0) == 0x80) {
                n++;
            }
            cc -= mt_tui_width(s, (size_t)(n - s));
            s = n;
        }
        put_str(y, 1 + x, room, MT_R_TEXT, 0, s);
        move(y, 1 + x + cc);
        return;
    }
    if (t->msg != NULL) {
        int cut = 0;
        mt_role role = t->msg_error ? MT_R_WARNING : MT_R_NOTE;
        mt_tui_put(y, 1, r->w - 2, 1, role, 0, 0, t->msg, strlen(t->msg), &cut);
        if (cut) {
            put_str(y, r->w - 2, 1, role, 0, ellipsis());
        }
        return;
    }
    if (t->talk) {
        put_str(y, r->w - 2, 1, MT_R_COMMENT, 0, "?");
        return;
    }
    static const struct {
        const char *key, *what;
    } hints[] = {
        {"n", "next"}, {"p", "back"}, {"r", "restart"}, {":", "python"},
        {"e", "export"}, {"l", "lessons"}, {"?", "help"}, {"q", "quit"},
    };
    int x = 1;
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++) {
        int w = str_width(hints[i].key) + str_width(hints[i].what) + 3;
        if (x + w >= r->w) {
            break;
        }
        x += put_str(y, x, r->w - x, MT_R_TEXT, A_REVERSE | A_BOLD, hints[i].key);
        x += put_str(y, x, r->w - x, MT_R_COMMENT, 0, " ");
        x += put_str(y, x, r->w - x, MT_R_COMMENT, 0, hints[i].what);
        x += put_str(y, x, r->w - x, MT_R_COMMENT, 0, "  ");
    }
}

/* A box in the middle of the screen; returns its inner rectangle. */
static mt_tui_rect
draw_box(int h, int w, const char *title)
{
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    h = h + 2 > rows ? rows - 2 : h;
    w = w + 4 > cols ? cols - 4 : w;
    int y = (rows - h - 2) / 2, x = (cols - w - 4) / 2;
    for (int i = 0; i < h + 2; i++) {
        move(y + i, x);
        attr_set(A_NORMAL, 0, NULL);
        hline(' ', w + 4);
        const char *l = mt_tui_glyph_str(i == 0 ? MT_G_CORNER_TL : i == h + 1 ? MT_G_CORNER_BL
                                                                               : MT_G_VLINE);
        const char *rr = mt_tui_glyph_str(i == 0 ? MT_G_CORNER_TR : i == h + 1 ? MT_G_CORNER_BR
                                                                                : MT_G_VLINE);
        put_str(y + i, x, 1, MT_R_HEADING, 0, l);
        put_str(y + i, x + w + 3, 1, MT_R_HEADING, 0, rr);
        if (i == 0 || i == h + 1) {
            mt_tui_fill(y + i, x + 1, w + 2, MT_G_HLINE, MT_R_HEADING, 0);
        }
    }
    if (title != NULL) {
        int tw = str_width(title) + 2;
        int tx = x + (w + 4 - tw) / 2;
        put_str(y, tx, tw, MT_R_HEADING, A_BOLD, " ");
        put_str(y, tx + 1, tw - 2, MT_R_HEADING, A_BOLD, title);
        put_str(y, tx + tw - 1, 1, MT_R_HEADING, A_BOLD, " ");
    }
    return (mt_tui_rect){y + 1, x + 2, h, w};
}

/* The names of the keys bound to action a, "n → Space PgDn Enter"; the
 * stage digits as the range the lessons have. */
static char *
keys_of(const tui *t, act a)
{
    if (a == ACT_STAGE) {
        return mt_xasprintf("1-%d", t->app->lessons[t->app->nlessons - 1]->number);
    }
    mt_str s = {0};
    for (size_t i = 0; i < sizeof bindings / sizeof bindings[0]; i++) {
        if (bindings[i].a == a && bindings[i].name != NULL) {
            mt_str_addf(&s, "%s%s", s.len ? " " : "", bindings[i].name);
        }
    }
    return mt_str_take(&s);
}

/* Actions shown on one row of the help with another: up with down. */
static const struct {
    act a, with;
} help_pairs[] = {
    {ACT_UP, ACT_DOWN}, {ACT_TOP, ACT_BOTTOM}, {ACT_QUIT, ACT_INTERRUPT},
    {ACT_LEFT, ACT_RIGHT}, {ACT_NEXT_CHANGE, ACT_PREV_CHANGE}, {ACT_MORE_CTX, ACT_LESS_CTX},
};

static void
draw_help(tui *t)
{
    size_t n = sizeof actions / sizeof actions[0];
    char *keys[sizeof actions / sizeof actions[0]];
    int kw = 0, ww = 0;
    for (size_t i = 0; i < n; i++) {
        act a = actions[i].a;
        keys[i] = keys_of(t, a);
        for (size_t j = 0; j < sizeof help_pairs / sizeof help_pairs[0]; j++) {
            if (help_pairs[j].a == a) {
                char *with = keys_of(t, help_pairs[j].with);
                char *both = mt_xasprintf("%s / %s", keys[i], with);
                free(keys[i]);
                free(with);
                keys[i] = both;
            }
        }
        kw = str_width(keys[i]) > kw ? str_width(keys[i]) : kw;
        ww = str_width(actions[i].what) > ww ? str_width(actions[i].what) : ww;
    }
    mt_tui_rect in = draw_box((int)n + 2, kw + ww + 3, "keys");
    /* On a small screen the list scrolls, its last row saying so. */
    int fits = in.h >= (int)n + 2;
    int rows = fits ? (int)n : in.h - 1;
    t->help_top = clamp(t->help_top, 0, (int)n - rows);
    for (int i = 0; i < rows && t->help_top + i < (int)n; i++) {
        size_t k = (size_t)(t->help_top + i);
        put_str(in.y + i, in.x, kw, MT_R_CODE, A_BOLD, keys[k]);
        int cut = 0, w = in.w - kw - 3;
        mt_tui_put(in.y + i, in.x + kw + 3, w, in.x + kw + 3, MT_R_TEXT, 0, 0, actions[k].what,
                   strlen(actions[k].what), &cut);
        if (cut && w > 1) {
            put_str(in.y + i, in.x + in.w - 1, 1, MT_R_COMMENT, 0, ellipsis());
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(keys[i]);
    }
    if (fits) {
        put_str(in.y + (int)n + 1, in.x, in.w, MT_R_COMMENT, 0,
                "No key moves on by itself.  Any key closes this help.");
    } else if (rows > 0) {
        char *more = mt_xasprintf("%d-%d/%zu  %s%s more, any other key closes", t->help_top + 1,
                                  t->help_top + rows, n, mt_tui_glyph_str(MT_G_UP),
                                  mt_tui_glyph_str(MT_G_DOWN));
        put_str(in.y + rows, in.x, in.w, MT_R_COMMENT, 0, more);
        free(more);
    }
}

/* "  3.1✓ 3.2": a lesson's exercises, solved ones marked (see
 * --exercises); "" when it has none. */
static char *
list_exercises(const tui *t, const mt_lesson *l)
{
    mt_str s = {0};
    for (size_t k = 0; k < l->nexercises; k++) {
        mt_str_addf(&s, "%s%d.%zu%s", k ? " " : "  ", l->number, k + 1,
                    mt_state_solved(&t->st, l->number, (int)k + 1)
                        ? mt_tui_glyph_str(MT_G_DONE) : "");
    }
    return mt_str_take(&s);
}

static void
draw_list(tui *t)
{
    int w = 0, sw = 0;
    size_t n = t->app->nlessons;
    /* Exercises may have been solved in another terminal since. */
    mt_state now;
    if (t->state_path != NULL && mt_state_load(t->state_path, &now) == 0) {
        memcpy(t->st.solved, now.solved, sizeof now.solved);
    }
    char **ex = mt_xcalloc(n, sizeof *ex);
    for (size_t i = 0; i < n; i++) {
        int lw = str_width(t->app->lessons[i]->slug);
        sw = lw > sw ? lw : sw;
        ex[i] = list_exercises(t, t->app->lessons[i]);
    }
    for (size_t i = 0; i < n; i++) {
        int lw = sw + str_width(t->app->lessons[i]->title) + str_width(ex[i]) + 10;
        w = lw > w ? lw : w;
    }
    mt_tui_rect in = draw_box((int)n + 2, w, "lessons");
    for (size_t i = 0; i < n && (int)i < in.h; i++) {
        const mt_lesson *l = t->app->lessons[i];
        attr_t sel = (int)i == t->list_sel ? A_REVERSE : 0;
        int y = in.y + (int)i;
        move(y, in.x);
        attr_set(sel, 0, NULL);
        hline(' ', in.w);
        int done = l->number >= 0 && l->number < MT_STATE_MAX_STAGES && t->st.done[l->number];
        put_str(y, in.x, 2, MT_R_PRISTINE, sel,
                done ? mt_tui_glyph_str(MT_G_DONE) : " ");
        put_str(y, in.x + 2, 2, MT_R_HEADING, sel,
                i == t->si ? mt_tui_glyph_str(MT_G_HERE) : " ");
        char *num = mt_xasprintf("%d", l->number);
        put_str(y, in.x + 4, 3, MT_R_HEADING, sel | A_BOLD, num);
        free(num);
        put_str(y, in.x + 7, in.w - 7, MT_R_COMMENT, sel, l->slug);
        put_str(y, in.x + 9 + sw, in.w - 9 - sw, MT_R_TEXT, sel, l->title);
        int tw = 9 + sw + str_width(l->title);
        put_str(y, in.x + tw, in.w - tw, MT_R_COMMENT, sel, ex[i]);
    }
    for (size_t i = 0; i < n; i++) {
        free(ex[i]);
    }
    free(ex);
    if (in.h >= (int)n + 2) {
        char *foot = mt_xasprintf("%s done   N.K exercise: --exercise N.K   Enter opens   "
                                  "Esc closes", mt_tui_glyph_str(MT_G_DONE));
        put_str(in.y + (int)n + 1, in.x, in.w, MT_R_COMMENT, 0, foot);
        free(foot);
    }
}

/* "needs at least 60×20, this terminal is 30×8": one line when it fits,
 * else a line per phrase (each wrapped if need be), centred. */
static void
draw_too_small(tui *t)
{
    const char *x = mt_tui_glyph_str(MT_G_TIMES);
    char *a = mt_xasprintf("needs at least %d%s%d,", MT_TUI_MIN_COLS, x, MT_TUI_MIN_ROWS);
    char *b = mt_xasprintf("this terminal is %d%s%d", t->lo.cols, x, t->lo.rows);
    char *all = mt_xasprintf("%s %s", a, b);
    int width = t->lo.cols > 2 ? t->lo.cols - 2 : 1;
    mt_doc *d = mt_doc_new();
    mt_doc_add(d, MT_R_COMMENT, 0, "ministry-tutor");
    const char *parts[2] = {a, b};
    int n = str_width(all) <= width ? 1 : 2;
    for (int i = 0; i < n; i++) {
        mt_doc *p = mt_view_markdown(n == 1 ? all : parts[i], width);
        mt_doc_append(d, p);
        mt_doc_free(p);
    }
    int top = (t->lo.rows - (int)d->n) / 2;
    for (size_t i = 0; i < d->n; i++) {
        int lw = mt_doc_line_width(&d->lines[i]);
        int xx = (t->lo.cols - lw) / 2;
        mt_tui_put_line(top + (int)i, xx < 0 ? 0 : xx, t->lo.cols, &d->lines[i], A_BOLD);
    }
    mt_doc_free(d);
    free(a);
    free(b);
    free(all);
}

static void
draw(tui *t)
{
    erase();
    curs_set(0);
    if (t->mode == M_BLANK) {
        return;
    }
    if (t->lo.too_small) {
        draw_too_small(t);
        return;
    }
    draw_status(t);

    const mt_tui_layout *lo = &t->lo;
    if (lo->narrative.h > 0) {
        draw_title(t, P_NARR, t->titles[P_NARR], MT_R_HEADING);
        draw_doc(t, P_NARR, t->narr);
    }
    if (lo->code.h > 0) {
        draw_title(t, P_CODE, t->titles[P_CODE], MT_R_HEADING);
        draw_doc(t, P_CODE, t->code);
    }
    if (lo->output.h > 0) {
        draw_title(t, P_OUT, t->titles[P_OUT], t->out_error ? MT_R_ERROR : MT_R_HEADING);
        draw_doc(t, P_OUT, t->out);
    }
    draw_memory(t);
    if (lo->text_beside) {
        /* The rule between the narrative and the code column. */
        int x = lo->narrative.w, y0 = lo->narrative.y, y1 = y0 + lo->narrative.h;
        for (int y = y0; y < y1; y++) {
            mt_tui_glyph g = MT_G_VLINE;
            if (y == y0) {
                g = MT_G_TEE_DOWN;
            } else if (!lo->out_below && lo->output.h > 0 && y == lo->output.y) {
                g = MT_G_TEE_RIGHT;
            }
            put_str(y, x, 1, MT_R_COMMENT, 0, mt_tui_glyph_str(g));
        }
        if (y1 < lo->message.y && (lo->out_below ? lo->output.h : lo->memory.h) > 0) {
            put_str(y1, x, 1, MT_R_COMMENT, 0, mt_tui_glyph_str(MT_G_TEE_UP));
        }
    }
    draw_message(t);
    if (t->mode == M_HELP) {
        draw_help(t);
    } else if (t->mode == M_LIST) {
        draw_list(t);
    }
    if (t->mode == M_PROMPT || t->mode == M_EXPORT || t->mode == M_GOTO) {
        draw_message(t);   /* leaves the cursor in the edited line */
        curs_set(1);
    }
}

static void
show(tui *t)
{
    draw(t);
    refresh();
}

/* ---- moving between positions --------------------------------------------- */

static void
save_state(tui *t)
{
    const mt_lesson *l = lesson(t);
    if (t->pos_path != NULL) {
        /* For --notes in another terminal; it is only a convenience, so a
         * failure is not worth a message. */
        char *err = NULL;
        if (mt_state_position_save(t->pos_path, l->number, t->k + 1, &err) < 0) {
            free(err);
        }
    }
    if (t->talk || t->state_path == NULL) {
        return;
    }
    t->st.stage = l->number;
    t->st.step = t->k + 1;
    if (t->k >= (int)l->nsteps && l->number >= 0 && l->number < MT_STATE_MAX_STAGES) {
        t->st.done[l->number] = 1;
    }
    char *err = NULL;
    if (mt_state_save(t->state_path, &t->st, &err) < 0) {
        if (!t->state_warned) {
            set_msg(t, 1, "progress not saved: %s", err);
            t->state_warned = 1;
        }
        free(err);
    }
}

/* Keys typed while the worker was being replaced were meant for a screen
 * that is gone: drop them. */
static void
drop_typeahead(void)
{
    if (curses_on) {
        flushinp();
    }
}

/* Go to (si, k), running what it takes in the worker. */
static void
go(tui *t, size_t si, int k)
{
    const mt_lesson *l = t->app->lessons[si];
    k = clamp(k, -1, (int)l->nsteps);
    set_msg(t, 0, NULL);
    mt_step_result *r;
    if (k >= 0 && k < (int)l->nsteps) {
        set_msg(t, 0, "running stage %d, step %d: %s%s", l->number, k + 1, l->steps[k].title,
                ellipsis());
    }
    if (curses_on) {
        show(t);
    }
    if (k == (int)l->nsteps) {
        busy_begin(t->w, 0);
        r = mt_worker_leave(t->w);
    } else {
        busy_begin(t->w, 0);
        r = mt_worker_goto(t->w, si, k);
    }
    busy_end();
    set_msg(t, 0, NULL);
    if (mt_result_is_death(r)) {
        set_msg(t, 1, "%s: a fresh worker is ready, back at the opening of stage %d.",
                r->status == MT_ST_TIMEOUT ? "The step ran past its time limit"
                                           : "The worker crashed",
                l->number);
        set_position(t, si, -1, r);
        save_state(t);
        drop_typeahead();
        return;
    }
    if (r->status != MT_ST_OK && k >= 0 && k < (int)l->nsteps && r->step >= 0
        && r->step < k) {
        k = r->step;   /* an earlier step raised on the way: show that one */
    }
    if (r->status == MT_ST_ERROR) {
        set_msg(t, 1, "Step %d raised: the traceback is in the output pane.", k + 1);
    } else if (r->status == MT_ST_FAIL) {
        set_msg(t, 1, "The session could not do that: see the output pane.");
    }
    set_position(t, si, k, r);
    save_state(t);
}

static void
next(tui *t)
{
    const mt_lesson *l = lesson(t);
    if (t->k < (int)l->nsteps) {
        go(t, t->si, t->k + 1);
    } else if (t->si + 1 < t->app->nlessons) {
        go(t, t->si + 1, -1);
    } else {
        set_msg(t, 0, "That was the last stage.  q quits, 1-%d opens a stage again.",
                t->app->lessons[t->app->nlessons - 1]->number);
    }
}

static void
prev(tui *t)
{
    if (t->k > -1) {
        go(t, t->si, t->k - 1);
    } else if (t->si > 0) {
        go(t, t->si - 1, (int)t->app->lessons[t->si - 1]->nsteps);
    } else {
        set_msg(t, 0, "This is the very beginning.");
    }
}

static void
jump(tui *t, int number)
{
    long si = mt_app_stage_index(t->app, number);
    if (si < 0) {
        set_msg(t, 1, "There is no stage %d (see l for the list).", number);
        return;
    }
    go(t, (size_t)si, 0);
}

/* Whether anything in the regions of r differs before and after. */
static int
regions_changed(const mt_step_result *r)
{
    for (uint32_t i = 0; i < r->nregions; i++) {
        const mt_region_result *g = &r->regions[i];
        if (memcmp(g->before, g->after, g->len) != 0
            || memcmp(g->ok_before, g->ok_after, g->len) != 0) {
            return 1;
        }
    }
    return 0;
}

/* Run the prompt entry src (its lines so far; line is the last one typed)
 * and put it and what it printed in the transcript.  An entry that wants
 * more lines keeps the prompt open ("... "); one whose worker died (a
 * crash, the time limit, Ctrl-C on C code) is reported, and a fresh worker
 * replays the stage to where it was. */
static void
run_prompt(tui *t, const char *src, const char *line)
{
    set_msg(t, 0, "running%s  (Ctrl-C interrupts)", ellipsis());
    show(t);
    busy_begin(t->w, 1);
    mt_step_result *r = mt_worker_prompt(t->w, src);
    busy_end();
    set_msg(t, 0, NULL);
    int first = t->more == NULL;
    free(t->more);
    t->more = NULL;
    mt_doc *entry = mt_doc_new();
    mt_doc_newline(entry);
    mt_doc_add(entry, MT_R_COMMENT, 0, first ? ">>> " : "... ");
    mt_doc_add(entry, MT_R_CODE, 0, line);       /* one line: the editor has no newline */
    mt_doc *o = mt_view_output(r);
    mt_doc_append(entry, o);
    mt_doc_free(o);
    if (mt_result_is_death(r)) {
        size_t si = t->si;
        int k = t->k;
        const char *why = r->status == MT_ST_TIMEOUT ? "That entry ran past its time limit"
                          : strstr(r->notes, "Ctrl-C could not") ? "Ctrl-C could not stop that entry"
                                                                 : "The worker died running that entry";
        mt_result_free(r);
        go(t, si, k);
        set_msg(t, 1, "%s: a fresh worker replayed stage %d to where it was.", why,
                lesson(t)->number);
        drop_typeahead();
    } else if (r->status == MT_ST_MORE) {
        t->more = mt_xasprintf("%s\n", src);
        t->mode = M_PROMPT;
        /* The next line starts indented as this one, one level more after
         * a colon, as Python's own REPL has it since 3.13. */
        size_t ind = strspn(line, " \t");
        size_t n = strlen(line);
        while (n > 0 && line[n - 1] == ' ') {
            n--;
        }
        char *pad = mt_xasprintf("%*s", (int)(ind + (n > 0 && line[n - 1] == ':' ? 4 : 0)), "");
        mt_tui_edit_set(&t->prompt, pad);
        free(pad);
        t->patched = r->patched != 0;
        mt_result_free(r);
    } else {
        t->patched = r->patched != 0;
        if (r->nregions > 0 && regions_changed(r)) {
            set_regions(t, r, " your entry");
        }
        mt_result_free(r);
    }
    mt_doc_append(t->log, entry);
    build_out(t);
    relayout(t);
    /* The entry in sight from its first line (its end, if it fits). */
    int total = content_lines(t, P_OUT), top = total - (int)entry->n;
    mt_doc_free(entry);
    t->scroll[P_OUT] = clamp(total - t->visible[P_OUT], 0, top > 0 ? top : 0);
}

/* g: "3.5" is stage 3, step 5; "3" stage 3 from step 1; "3.0" its opening
 * page. */
static void
go_to(tui *t, const char *where)
{
    char *end;
    long n = strtol(where, &end, 10), k = 1;
    int ok = end != where;
    if (ok && *end == '.') {
        const char *p = end + 1;
        k = strtol(p, &end, 10);
        ok = end != p;
    }
    while (ok && *end == ' ') {
        end++;
    }
    long si = ok && *end == '\0' ? mt_app_stage_index(t->app, (int)n) : -1;
    if (si < 0) {
        set_msg(t, 1, "go to: \"%s\" is not a stage (1-%d) or stage.step (3.5).", where,
                t->app->lessons[t->app->nlessons - 1]->number);
        return;
    }
    const mt_lesson *l = t->app->lessons[si];
    if (k < 0 || k > (long)l->nsteps) {
        set_msg(t, 1, "Stage %d has steps 1-%zu (0: its opening page).", l->number, l->nsteps);
        return;
    }
    go(t, (size_t)si, (int)k - 1);
}

static void
run_export(tui *t, const char *dir)
{
    const mt_lesson *l = lesson(t);
    char *err = NULL;
    if (t->res == NULL || t->res->nregions == 0) {
        set_msg(t, 0, "this step watches no memory: nothing to export");
        return;
    }
    mt_export_opts eo = MT_EXPORT_OPTS_DEFAULT;
    eo.python = mt_worker_python(t->w);
    int n = mt_export_step_with(l, t->k, t->res, dir, NULL, &eo, 1, &err);
    if (n < 0) {
        set_msg(t, 1, "export failed: %s", err);
        free(err);
    } else {
        set_msg(t, 0, "exported %d file%s to %s/%02d-%s/", n, n == 1 ? "" : "s", dir,
                l->number, l->slug);
    }
}

/* ---- keys ------------------------------------------------------------------- */

static void
scroll_by(tui *t, int d)
{
    int p = t->focus;
    t->scroll[p] = clamp(t->scroll[p] + d, 0, content_lines(t, p) - t->visible[p]);
    if (p == P_MEM) {
        t->mem_user = 1;
    }
}

/* Sideways, for the code and the output (the narrative and the memory
 * pane wrap their lines). */
static void
hscroll_by(tui *t, int d)
{
    int p = t->focus;
    if (p != P_CODE && p != P_OUT) {
        set_msg(t, 0, "< and > scroll the code or the output: Tab to one of them first.");
        return;
    }
    const mt_doc *doc = p == P_CODE ? t->code : t->out;
    int room = pane_rect(t, p)->w - 2;
    t->hscroll[p] = clamp(t->hscroll[p] + d, 0, mt_doc_width(doc) - room);
}

/* The next pane on screen (zoomed: the next pane, zoomed in its turn). */
static void
focus_next(tui *t)
{
    for (int i = 1; i <= P_COUNT; i++) {
        int p = (t->focus + i) % P_COUNT;
        if (t->zoom > 0 ? content_lines(t, p) > 0 : pane_rect(t, p)->h > 0) {
            t->focus = p;
            if (t->zoom > 0) {
                t->zoom = p + 1;
                relayout(t);
            }
            return;
        }
    }
}

/* Scroll the memory pane to the next (dir 1) or previous (-1) change. */
static void
change_by(tui *t, int dir)
{
    if (t->nmem == 0) {
        set_msg(t, 0, "This page shows no memory.");
        return;
    }
    int c = mem_change(t, t->scroll[P_MEM] + (dir > 0 ? 1 : 0), dir);
    if (c < 0) {
        set_msg(t, 0, t->mem_any ? "No change %s this one." : "Nothing in these regions changed.",
                dir > 0 ? "after" : "before");
        return;
    }
    t->focus = P_MEM;
    t->mem_user = 1;
    t->scroll[P_MEM] = clamp(c - 1, 0, (int)t->nmem - t->visible[P_MEM]);
}

/* Editing keys of the two prompts.  Returns 1 when Enter was pressed. */
static int
edit_key(tui *t, mt_tui_edit *e, int fn, unsigned c)
{
    if (fn) {
        switch (c) {
        case KEY_LEFT: mt_tui_edit_left(e); break;
        case KEY_RIGHT: mt_tui_edit_right(e); break;
        case KEY_HOME: mt_tui_edit_home(e); break;
        case KEY_END: mt_tui_edit_end(e); break;
        case KEY_BACKSPACE: mt_tui_edit_backspace(e); break;
        case KEY_DC: mt_tui_edit_delete(e); break;
        case KEY_UP: mt_tui_edit_older(e); break;
        case KEY_DOWN: mt_tui_edit_newer(e); break;
        case KEY_ENTER: return 1;
        default: break;
        }
        return 0;
    }
    switch (c) {
    case '\r':
    case '\n': return 1;
    case 0x1b:
    case 0x03:
    case 0x07:                                           /* Esc, Ctrl-C, Ctrl-G */
        t->mode = M_NORMAL;
        if (t->more != NULL) {
            /* A block dropped half typed: said as Python's REPL says it. */
            free(t->more);
            t->more = NULL;
            mt_doc_newline(t->log);
            mt_doc_add(t->log, MT_R_ERROR, 0, "KeyboardInterrupt");
            build_out(t);
            relayout(t);
            t->scroll[P_OUT] = clamp(content_lines(t, P_OUT) - t->visible[P_OUT], 0, 1 << 30);
        }
        break;
    case 0x7f:
    case 0x08: mt_tui_edit_backspace(e); break;
    case 0x01: mt_tui_edit_home(e); break;               /* Ctrl-A */
    case 0x05: mt_tui_edit_end(e); break;                /* Ctrl-E */
    case 0x02: mt_tui_edit_left(e); break;               /* Ctrl-B */
    case 0x06: mt_tui_edit_right(e); break;              /* Ctrl-F */
    case 0x04: mt_tui_edit_delete(e); break;             /* Ctrl-D */
    case 0x15: mt_tui_edit_kill_start(e); break;         /* Ctrl-U */
    case 0x0b: mt_tui_edit_kill_end(e); break;           /* Ctrl-K */
    case 0x10: mt_tui_edit_older(e); break;              /* Ctrl-P */
    case 0x0e: mt_tui_edit_newer(e); break;              /* Ctrl-N */
    default: mt_tui_edit_insert(e, c); break;
    }
    return 0;
}

static void
key_prompt(tui *t, int fn, unsigned c)
{
    mt_tui_edit *e = t->mode == M_PROMPT ? &t->prompt : t->mode == M_GOTO ? &t->where : &t->dir;
    if (!edit_key(t, e, fn, c)) {
        return;
    }
    enum mode m = t->mode;
    t->mode = M_NORMAL;
    char *text = mt_xstrdup(e->text ? e->text : "");
    if (m == M_PROMPT) {
        if (text[strspn(text, " \t")] == '\0') {
            text[0] = '\0';     /* a blank line ends a block */
        }
        mt_tui_edit_commit(e);
        if (*text || t->more != NULL) {
            char *src = mt_xasprintf("%s%s", t->more ? t->more : "", text);
            run_prompt(t, src, text);
            free(src);
        }
    } else if (m == M_GOTO) {
        mt_tui_edit_commit(e);
        go_to(t, text);
    } else {
        run_export(t, *text ? text : "./ministry-export");
    }
    free(text);
}

static void
key_list(tui *t, int fn, unsigned c)
{
    int n = (int)t->app->nlessons;
    if (fn && c == KEY_UP) {
        t->list_sel = (t->list_sel + n - 1) % n;
    } else if (fn && c == KEY_DOWN) {
        t->list_sel = (t->list_sel + 1) % n;
    } else if (!fn && c == 'k') {
        t->list_sel = (t->list_sel + n - 1) % n;
    } else if (!fn && c == 'j') {
        t->list_sel = (t->list_sel + 1) % n;
    } else if ((fn && c == KEY_ENTER) || (!fn && (c == '\r' || c == '\n'))) {
        t->mode = M_NORMAL;
        go(t, (size_t)t->list_sel, 0);
    } else if (!fn && c >= '1' && c <= '9') {
        t->mode = M_NORMAL;
        jump(t, (int)(c - '0'));
    } else if (!fn && c == 0x03) {
        t->quit = 1;
    } else if (!(fn && c == KEY_RESIZE)) {
        t->mode = M_NORMAL;
    }
}

static void
key(tui *t, int fn, unsigned c)
{
    if (fn && c == KEY_RESIZE) {
        relayout(t);
        return;
    }
    if (t->mode == M_BLANK) {
        t->mode = M_NORMAL;
        return;
    }
    if (t->mode == M_HELP) {
        int d = (fn && c == KEY_DOWN) || (!fn && c == 'j')   ? 1
                : (fn && c == KEY_UP) || (!fn && c == 'k')   ? -1
                : fn && c == KEY_NPAGE                        ? 10
                : fn && c == KEY_PPAGE                        ? -10
                                                              : 0;
        if (d != 0) {
            t->help_top += d;      /* clamped when drawn */
            return;
        }
        t->mode = M_NORMAL;
        if (!fn && c == 0x03) {
            t->quit = 1;
        }
        return;
    }
    if (t->mode == M_LIST) {
        key_list(t, fn, c);
        return;
    }
    if (t->mode == M_PROMPT || t->mode == M_EXPORT || t->mode == M_GOTO) {
        key_prompt(t, fn, c);
        return;
    }
    act a = lookup(fn, c);
    if (t->hint) {
        t->hint = 0;
        set_msg(t, 0, NULL);
    }
    if (t->lo.too_small && a != ACT_QUIT && a != ACT_INTERRUPT && a != ACT_REDRAW) {
        return;
    }
    if (a != ACT_NONE && a != ACT_UP && a != ACT_DOWN && a != ACT_TOP && a != ACT_BOTTOM
        && a != ACT_FOCUS && a != ACT_LEFT && a != ACT_RIGHT) {
        set_msg(t, 0, NULL);
    }
    switch (a) {
    case ACT_NONE: break;
    case ACT_NEXT: next(t); break;
    case ACT_PREV: prev(t); break;
    case ACT_STAGE: jump(t, (int)(c - '0')); break;
    case ACT_RESTART: go(t, t->si, 0); break;
    case ACT_PROMPT:
        mt_tui_edit_set(&t->prompt, "");
        t->mode = M_PROMPT;
        break;
    case ACT_EXPORT:
        if (!is_step(t) || t->res == NULL) {
            set_msg(t, 1, "Nothing to export on this page: go to a step first.");
            break;
        }
        mt_tui_edit_set(&t->dir, "./ministry-export");
        t->mode = M_EXPORT;
        break;
    case ACT_LIST:
        t->list_sel = (int)t->si;
        t->mode = M_LIST;
        break;
    case ACT_HELP:
        t->mode = M_HELP;
        t->help_top = 0;
        break;
    case ACT_GOTO:
        mt_tui_edit_set(&t->where, "");
        t->mode = M_GOTO;
        break;
    case ACT_CLOCK: t->clock = !t->clock; break;
    case ACT_BLANK: t->mode = M_BLANK; break;
    case ACT_QUIT:
    case ACT_INTERRUPT: t->quit = 1; break;
    case ACT_UP: scroll_by(t, -1); break;
    case ACT_DOWN: scroll_by(t, 1); break;
    case ACT_TOP: scroll_by(t, -(1 << 30)); break;
    case ACT_BOTTOM: scroll_by(t, 1 << 30); break;
    case ACT_FOCUS: focus_next(t); break;
    case ACT_LEFT: hscroll_by(t, -8); break;
    case ACT_RIGHT: hscroll_by(t, 8); break;
    case ACT_ZOOM:
        t->zoom = t->zoom > 0 ? 0 : t->focus + 1;
        relayout(t);
        break;
    case ACT_COLLAPSE:
        t->collapsed ^= 1u << t->focus;
        relayout(t);
        break;
    case ACT_DUMP:
        t->mem_view = t->mem_changes ? MV_WHOLE : MV_CHANGES;
        relayout(t);
        if (t->nmem > 0) {
            set_msg(t, 0, "memory: %s", t->mem_changes ? "only the changes (d: the whole dump)"
                                                       : "the whole dump (d: only the changes)");
        }
        break;
    case ACT_MORE_CTX:
    case ACT_LESS_CTX:
        t->mem_ctx = clamp(t->mem_ctx + (a == ACT_MORE_CTX ? 1 : -1), 0, 8);
        if (t->mem_view == MV_WHOLE) {
            t->mem_view = MV_CHANGES;
        }
        relayout(t);
        set_msg(t, 0, "memory: the changes with %d row%s around each", t->mem_ctx,
                t->mem_ctx == 1 ? "" : "s");
        break;
    case ACT_NEXT_CHANGE: change_by(t, 1); break;
    case ACT_PREV_CHANGE: change_by(t, -1); break;
    case ACT_REDRAW: clearok(curscr, TRUE); break;
    case ACT_COUNT: break;
    }
}

/* ---- start, loop, end ------------------------------------------------------- */

static void
tui_init(tui *t, mt_app *app)
{
    memset(t, 0, sizeof *t);
    t->app = app;
    t->talk = app->opts.stage > 0;
    t->narr_w = -1;
    t->mem_sbs = -1;
    t->mem_ctx = 1;
    t->t0 = mt_now();
    struct utsname u;
    snprintf(t->arch, sizeof t->arch, "%s", uname(&u) == 0 ? u.machine : "?");
}

static void
tui_free(tui *t)
{
    free_docs(t);
    mt_result_free(t->res);
    t->res = NULL;
    mt_tui_edit_free(&t->prompt);
    mt_tui_edit_free(&t->dir);
    mt_tui_edit_free(&t->where);
    free(t->more);
    free(t->msg);
    free(t->state_path);
    free(t->pos_path);
}

/* Curses on the terminal: raw keys (Ctrl-C arrives as a key, so the
 * lesson's interpreter never sees it), no echo, function keys decoded,
 * reads that never wait (the loop waits in poll). */
static SCREEN *
curses_start(FILE *out, FILE *in, const char *term, int theme, int paint)
{
    SCREEN *s = newterm(term, out, in);
    if (s == NULL) {
        return NULL;
    }
    set_term(s);
    curses_on = 1;
    mt_tui_screen_setup(theme, paint);
    return s;
}

/* Quit: put everything back, leave curses, and say on stderr only what
 * needs saying (a restore the lesson did not do itself, a failure). */
static int
finish(tui *t, int status)
{
    if (curses_on) {
        set_msg(t, 0, "putting everything back%s", ellipsis());
        t->mode = M_NORMAL;
        show(t);
    }
    save_state(t);
    busy_begin(t->w, 0);
    mt_step_result *q = mt_worker_quit(t->w);
    busy_end();
    t->w = NULL;
    restore_terminal();
    if (q != NULL) {
        int loud = q->status != MT_ST_OK || q->patched;
        for (const char *p = q->notes; *p && !loud; p = strchr(p, '\n') ? strchr(p, '\n') + 1
                                                                     : p + strlen(p)) {
            loud = strncmp(p, "RESTORE", 7) == 0 || strncmp(p, "WARNING", 7) == 0;
        }
        if (loud) {
            fprintf(stderr, "ministry-tutor: on the way out:\n%s", q->notes);
        }
        if (q->patched && status == 0) {
            fprintf(stderr, "ministry-tutor: the interpreter is still patched\n");
            status = 1;
        }
        mt_result_free(q);
    }
    return status;
}

int
mt_tui_main(mt_app *app)
{
    tui t;
    tui_init(&t, app);
    char *err = NULL;
    t.pos_path = mt_state_position_path(&err);
    free(err);
    err = NULL;
    if (!t.talk) {
        t.state_path = mt_state_path(&err);
        if (t.state_path == NULL) {
            set_msg(&t, 1, "%s", err);
            free(err);
            err = NULL;
        }
        t.hint = mt_state_load(t.state_path, &t.st) < 0;
    }

    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        fprintf(stderr, "ministry-tutor: pipe: %s\n", strerror(errno));
        tui_free(&t);
        return 1;
    }
    t.w = mt_worker_start(app->lessons, app->nlessons, &err);
    if (t.w == NULL) {
        fprintf(stderr, "ministry-tutor: %s\n", err);
        free(err);
        tui_free(&t);
        return 1;
    }
    const char *v = mt_worker_python(t.w);     /* from the worker's hello */
    snprintf(t.py, sizeof t.py, "%.*s", (int)strcspn(v, " "), v);
    install_handlers();
    SCREEN *scr = curses_start(stdout, stdin, NULL, app->opts.theme, app->opts.theme_chosen);
    if (scr == NULL) {
        remove_handlers();
        mt_step_result *q = mt_worker_quit(t.w);
        mt_result_free(q);
        tui_free(&t);
        fprintf(stderr, "ministry-tutor: this terminal (TERM=%s) is not known to curses; "
                        "showing the plain text instead\n", getenv("TERM"));
        return mt_plain_main(app);
    }

    /* Where to open: --stage/--step, else where the learner left off. */
    size_t si = 0;
    int k = -1;
    if (t.talk) {
        si = (size_t)mt_app_stage_index(app, app->opts.stage);
        k = app->opts.step > 0 ? app->opts.step - 1 : 0;
    } else if (t.st.stage > 0 && mt_app_stage_index(app, t.st.stage) >= 0) {
        si = (size_t)mt_app_stage_index(app, t.st.stage);
        k = t.st.step - 1;
    }
    t.si = si;
    t.k = -1;
    set_position(&t, si, -1, NULL);
    go(&t, si, k);
    if (t.hint && t.msg == NULL) {
        set_msg(&t, 0, "Welcome.  n or %s runs the next step, p or %s goes back, ? lists "
                       "every key.", "\xe2\x86\x92", "\xe2\x86\x90");
    }

    int status = 0;
    show(&t);
    while (!t.quit && !got_signal) {
        wint_t ch;
        int rc, any = 0;
        while (!t.quit && !got_signal && (rc = get_wch(&ch)) != ERR) {
            key(&t, rc == KEY_CODE_YES, (unsigned)ch);
            any = 1;
        }
        if (t.quit || got_signal) {
            break;
        }
        if (any) {
            show(&t);
        }
        struct pollfd p[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
                              {.fd = sig_pipe[0], .events = POLLIN}};
        /* Idle is idle: no timer, unless the clock is shown (then a wake
         * at each second it turns). */
        int wait = -1;
        if (t.clock) {
            double e = mt_now() - t.t0;
            wait = (int)((1.0 - (e - (double)(long)e)) * 1000) + 5;
        }
        int pr = poll(p, 2, wait);
        if (pr < 0 && errno != EINTR) {
            break;
        }
        if (pr == 0) {
            show(&t);
        }
        char drain[16];
        while (read(sig_pipe[0], drain, sizeof drain) > 0) {
        }
        if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
            got_signal = SIGHUP;   /* the terminal went away */
        }
    }
    /* Ctrl-C (the key, or SIGINT) is a normal way out; SIGTERM and SIGHUP
     * end with the conventional 128 + signal. */
    if (got_signal == SIGTERM || got_signal == SIGHUP) {
        status = 128 + got_signal;
    }
    status = finish(&t, status);
    delscreen(scr);
    remove_handlers();
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    sig_pipe[0] = sig_pipe[1] = -1;
    tui_free(&t);
    return status;
}

/* ---- benchmark -------------------------------------------------------------- */

double
mt_tui_bench_redraw(mt_app *app, const mt_step_result *r, size_t stage_index, int step,
                    int cols, int rows, int frames)
{
    if (stage_index >= app->nlessons || frames <= 0) {
        return -1;
    }
    FILE *out = fopen("/dev/null", "w");
    FILE *in = fopen("/dev/null", "r");
    if (out == NULL || in == NULL) {
        if (out) {
            fclose(out);
        }
        if (in) {
            fclose(in);
        }
        return -1;
    }
    /* The size goes in through LINES and COLUMNS (the caller's own are
     * put back), then resize_term makes sure of it. */
    const char *names[2] = {"LINES", "COLUMNS"};
    int values[2] = {rows, cols};
    char *was[2];
    for (int i = 0; i < 2; i++) {
        const char *v = getenv(names[i]);
        was[i] = v ? mt_xstrdup(v) : NULL;
        char num[16];
        snprintf(num, sizeof num, "%d", values[i]);
        setenv(names[i], num, 1);
    }
    SCREEN *s = curses_start(out, in, "xterm-256color", MT_THEME_DARK, 0);
    for (int i = 0; i < 2; i++) {
        if (was[i] != NULL) {
            setenv(names[i], was[i], 1);
        } else {
            unsetenv(names[i]);
        }
        free(was[i]);
    }
    if (s == NULL) {
        fclose(out);
        fclose(in);
        return -1;
    }
    resize_term(rows, cols);

    tui t;
    tui_init(&t, app);
    t.talk = 1;
    size_t len;
    uint8_t *buf = mt_result_encode(r, &len);
    mt_step_result *copy = mt_result_decode(buf, len);
    free(buf);
    set_position(&t, stage_index, step, copy);

    double t0 = mt_now();
    for (int i = 0; i < frames; i++) {
        clearok(curscr, TRUE);
        draw(&t);
        refresh();
    }
    double us = (mt_now() - t0) * 1e6 / frames;

    tui_free(&t);
    endwin();
    curses_on = 0;
    delscreen(s);
    fclose(out);
    fclose(in);
    return us;
}
