/* tui_notes.c — speaker notes: the lesson's prose for where the interface
 * in another terminal is, following it as it moves (--notes). */
#include "tui_screen.h"

#include "app.h"
#include "doc.h"
#include "state.h"
#include "util.h"
#include "view.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

/* The notes are read, not presented: a comfortable line, not the screen's
 * whole width. */
#define NOTES_WIDTH 100

static volatile sig_atomic_t notes_signal;
static int notes_pipe[2] = {-1, -1};

static void
on_signal(int sig)
{
    int saved = errno;
    notes_signal = sig;
    (void)!write(notes_pipe[1], "", 1);
    errno = saved;
}

typedef struct notes {
    mt_app *app;
    char *path;
    int stage, step;           /* from the position file; stage 0: none yet */
    mt_doc *doc;               /* what the notes show, wrapped at `width` */
    int width;
    int scroll;
} notes;

static void
lit(mt_doc *d, mt_role role, const char *text)
{
    mt_doc_newline(d);
    mt_doc_add(d, role, 0, text);
}

static void
add_markdown(mt_doc *d, const char *md, int width)
{
    mt_doc *m = mt_view_markdown(md, width);
    mt_doc_append(d, m);
    mt_doc_free(m);
}

/* The notes for the position: the step's title and narrative, then what
 * comes next (the opening and end pages: the stage's summary or last
 * words). */
static void
build(notes *n, int width)
{
    mt_doc_free(n->doc);
    n->doc = mt_doc_new();
    n->width = width;
    n->scroll = 0;
    mt_doc *d = n->doc;
    long si = n->stage > 0 ? mt_app_stage_index(n->app, n->stage) : -1;
    if (si < 0) {
        lit(d, MT_R_HEADING, "Speaker notes");
        lit(d, MT_R_TEXT, "");
        add_markdown(d, "Waiting for `ministry-tutor` (talk mode or lessons) in another "
                        "terminal: these notes follow it from step to step.", width);
        return;
    }
    const mt_lesson *l = n->app->lessons[si];
    int k = n->step - 1;      /* -1 opening, nsteps end */
    const char *dot = mt_view_dot();
    if (k >= 0 && (size_t)k < l->nsteps) {
        mt_doc_newline(d);
        mt_doc_addf(d, MT_R_HEADING, 0, "Step %d/%zu %s %s", k + 1, l->nsteps, dot,
                    l->steps[k].title);
        lit(d, MT_R_TEXT, "");
        add_markdown(d, l->steps[k].narrative, width);
    } else if (k < 0) {
        lit(d, MT_R_HEADING, l->title);
        lit(d, MT_R_TEXT, "");
        add_markdown(d, l->summary, width);
    } else {
        mt_doc_newline(d);
        mt_doc_addf(d, MT_R_HEADING, 0, "End of stage %d", l->number);
        lit(d, MT_R_TEXT, "");
        add_markdown(d, l->outro, width);
    }
    lit(d, MT_R_TEXT, "");
    mt_doc_newline(d);
    mt_doc_add(d, MT_R_STRONG, 0, "Next: ");
    if (k + 1 < (int)l->nsteps) {
        mt_doc_addf(d, MT_R_TEXT, 0, "step %d %s %s", k + 2, dot, l->steps[k + 1].title);
    } else if (k + 1 == (int)l->nsteps) {
        mt_doc_add(d, MT_R_TEXT, 0, "the end of the stage (everything put back)");
    } else if ((size_t)si + 1 < n->app->nlessons) {
        const mt_lesson *nl = n->app->lessons[si + 1];
        mt_doc_addf(d, MT_R_TEXT, 0, "stage %d %s %s", nl->number, dot, nl->title);
    } else {
        mt_doc_add(d, MT_R_TEXT, 0, "nothing: that was the last stage");
    }
}

static void
draw(notes *n)
{
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    int width = (cols < NOTES_WIDTH ? cols : NOTES_WIDTH) - 2;
    if (n->doc == NULL || n->width != width) {
        build(n, width > 10 ? width : 10);
    }
    erase();
    curs_set(0);
    /* The top line: where the talk is, in reverse video. */
    long si = n->stage > 0 ? mt_app_stage_index(n->app, n->stage) : -1;
    char *top;
    if (si >= 0) {
        const mt_lesson *l = n->app->lessons[si];
        top = mt_xasprintf(" Notes %s Stage %d/%zu %s %s ", mt_view_dot(), l->number,
                           n->app->nlessons, mt_view_dot(), l->title);
    } else {
        top = mt_xasprintf(" Notes ");
    }
    attr_t a;
    short pair;
    mt_tui_attr(MT_R_HEADING, 0, &a, &pair);
    attr_set(a ^ A_REVERSE, pair, NULL);
    move(0, 0);
    hline(' ', cols);
    mt_tui_put(0, 0, cols, 0, MT_R_HEADING, 0, A_REVERSE | A_BOLD, top, strlen(top), NULL);
    free(top);
    int body = rows - 1;
    int max = (int)n->doc->n - body;
    n->scroll = n->scroll > max ? max : n->scroll;
    n->scroll = n->scroll < 0 ? 0 : n->scroll;
    for (int i = 0; i < body && (size_t)(n->scroll + i) < n->doc->n; i++) {
        mt_tui_put_line(1 + i, 1, cols - 2, &n->doc->lines[n->scroll + i], 0);
    }
    refresh();
}

/* Read the position again; rebuild the notes when it moved. */
static void
reload(notes *n)
{
    int stage, step;
    if (mt_state_position_load(n->path, &stage, &step) == 0
        && (stage != n->stage || step != n->step)) {
        n->stage = stage;
        n->step = step;
        mt_doc_free(n->doc);
        n->doc = NULL;
    }
}

int
mt_tui_notes_main(mt_app *app)
{
    notes n = {.app = app};
    char *err = NULL;
    const char *term = getenv("TERM");
    if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO) || term == NULL || *term == '\0'
        || strcmp(term, "dumb") == 0) {
        fprintf(stderr, "ministry-tutor: --notes needs a terminal to follow the interface in\n");
        return 1;
    }
    n.path = mt_state_position_path(&err);
    if (n.path == NULL || mt_state_dir_ensure(n.path, &err) < 0) {
        fprintf(stderr, "ministry-tutor: --notes: %s\n", err);
        free(err);
        free(n.path);
        return 1;
    }
    /* The folder is watched, not the file: the file is replaced by a
     * rename at every move. */
    int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    char *folder = mt_xstrdup(n.path);
    *strrchr(folder, '/') = '\0';
    if (ino < 0 || inotify_add_watch(ino, folder, IN_MOVED_TO | IN_CLOSE_WRITE) < 0
        || pipe2(notes_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        fprintf(stderr, "ministry-tutor: --notes: cannot watch %s: %s\n", folder,
                strerror(errno));
        free(folder);
        free(n.path);
        if (ino >= 0) {
            close(ino);
        }
        return 1;
    }
    free(folder);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    SCREEN *scr = newterm(NULL, stdout, stdin);
    if (scr == NULL) {
        fprintf(stderr, "ministry-tutor: --notes: this terminal (TERM=%s) is not known to "
                        "curses\n", getenv("TERM") ? getenv("TERM") : "");
        close(ino);
        free(n.path);
        return 1;
    }
    set_term(scr);
    mt_tui_screen_setup(app->opts.theme, app->opts.theme_chosen);

    n.stage = 0;
    reload(&n);
    draw(&n);
    int quit = 0;
    while (!quit && !notes_signal) {
        struct pollfd p[3] = {{.fd = STDIN_FILENO, .events = POLLIN},
                              {.fd = ino, .events = POLLIN},
                              {.fd = notes_pipe[0], .events = POLLIN}};
        if (poll(p, 3, -1) < 0 && errno != EINTR) {
            break;
        }
        if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
            break;
        }
        char buf[4096];
        while (read(ino, buf, sizeof buf) > 0) {
        }
        reload(&n);
        wint_t ch;
        int rc;
        while ((rc = get_wch(&ch)) != ERR) {
            if (rc == KEY_CODE_YES) {
                n.scroll += ch == KEY_DOWN ? 1 : ch == KEY_UP ? -1 : ch == KEY_NPAGE ? 10
                            : ch == KEY_PPAGE ? -10 : 0;
            } else if (ch == 'q' || ch == 0x03) {
                quit = 1;
            } else if (ch == 'j' || ch == ' ') {
                n.scroll += ch == ' ' ? 10 : 1;
            } else if (ch == 'k') {
                n.scroll--;
            }
        }
        draw(&n);
    }
    endwin();
    delscreen(scr);
    close(ino);
    close(notes_pipe[0]);
    close(notes_pipe[1]);
    mt_doc_free(n.doc);
    free(n.path);
    return notes_signal == SIGTERM || notes_signal == SIGHUP ? 128 + notes_signal : 0;
}
