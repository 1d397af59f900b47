/* watch.c — --exercise N.K: the learner's file, opened in their editor and
 * watched with inotify; every save is checked again (debounced) and the
 * verdict printed; keys reveal hints, reopen the editor, check, quit. */
#include "exercise.h"
#include "util.h"
#include "view.h"
#include "worker.h"

#include <errno.h>
#include <langinfo.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* Saves come in bursts (write, then rename; several writes): the check
 * runs once the file has been quiet this long. */
#define DEBOUNCE_SECONDS 0.2

typedef struct watch {
    mt_app *app;
    mt_exercise_ref ref;
    char *path;
    const char *name;            /* the file's name in its folder */
    int ino;                     /* inotify fd */
    int keys;                    /* stdin still read */
    int raw;                     /* stdin is a terminal we put in raw mode */
    struct termios cooked;
    size_t hints_shown;
    int checks;
    int width;
    int utf8;
} watch;

static volatile sig_atomic_t stop;     /* the signal that ends the watch */

static void
on_signal(int sig)
{
    stop = sig;
    mt_worker_interrupted = 1;   /* a check running now ends at once */
}

static int
text_width(void)
{
    struct winsize ws;
    int w = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
    return w < 40 ? 40 : w > 100 ? 100 : w;
}

/* Keys one at a time, no echo; cooked again for the editor and at the end. */
static void
term_raw(watch *wt, int on)
{
    if (!wt->raw) {
        return;
    }
    struct termios t = wt->cooked;
    if (on) {
        t.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
    }
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
}

/* "── title ────" across the width. */
static void
rule(const watch *wt, const char *title)
{
    const char *ch = wt->utf8 ? "─" : "-";
    int w = mt_utf8_width(title, strlen(title));
    printf("%s%s %s ", ch, ch, title);
    for (int i = w + 4; i < wt->width; i++) {
        fputs(ch, stdout);
    }
    putchar('\n');
}

static void
put_markdown(const watch *wt, const char *md)
{
    mt_doc *d = mt_view_markdown(md, wt->width);
    char *t = mt_doc_text(d);
    fputs(t, stdout);
    if (*t && t[strlen(t) - 1] != '\n') {
        putchar('\n');
    }
    free(t);
    mt_doc_free(d);
}

static void
keys_line(const watch *wt)
{
    size_t n = wt->ref.ex->nhints;
    if (!wt->keys) {
        printf("Watching %s; Ctrl-C stops.\n", wt->path);
    } else if (wt->hints_shown < n) {
        printf("h hint (%zu of %zu)   e edit   c check   q quit\n", wt->hints_shown + 1, n);
    } else {
        printf("h (all %zu hints shown)   e edit   c check   q quit\n", n);
    }
    fflush(stdout);
}

static void
check(watch *wt)
{
    char stamp[16];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%H:%M:%S", localtime(&now));
    char *title = mt_xasprintf("check %d %s %s", ++wt->checks, wt->utf8 ? "·" : "-", stamp);
    putchar('\n');
    rule(wt, title);
    free(title);
    fflush(stdout);
    mt_step_result *r = mt_exercise_check(wt->app, &wt->ref, wt->path);
    char *details = mt_exercise_details(r);
    char *verdict = mt_exercise_verdict(&wt->ref, r);
    int solved = mt_exercise_solved(r);
    printf("%s%s%s %s\n", details, *details ? "\n" : "",
           solved ? (wt->utf8 ? "✓" : "[ok]") : (wt->utf8 ? "✗" : "[x]"), verdict);
    if (solved) {
        mt_exercise_record(&wt->ref);
        printf("Recorded.  Keep editing to try another way, or q to quit.\n");
    }
    free(details);
    free(verdict);
    mt_result_free(r);
    keys_line(wt);
}

static void
hint(watch *wt)
{
    const mt_exercise *ex = wt->ref.ex;
    if (wt->hints_shown >= ex->nhints) {
        printf("\nNo more hints: that was all %zu.\n", ex->nhints);
    } else {
        char *title = mt_xasprintf("hint %zu of %zu", wt->hints_shown + 1, ex->nhints);
        putchar('\n');
        rule(wt, title);
        free(title);
        put_markdown(wt, ex->hints[wt->hints_shown++]);
    }
    keys_line(wt);
}

/* $VISUAL, else $EDITOR, or NULL. */
static const char *
editor(void)
{
    const char *e = getenv("VISUAL");
    if (e == NULL || *e == '\0') {
        e = getenv("EDITOR");
    }
    return e != NULL && *e != '\0' ? e : NULL;
}

/* Run the editor on the file, in the foreground, through the shell (the
 * variable may hold arguments: "code --wait").  Returns its exit status,
 * or -1 when it could not be started. */
static int
edit(watch *wt, const char *ed)
{
    term_raw(wt, 0);
    fflush(NULL);
    struct sigaction ign, old_int;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGINT, &ign, &old_int);     /* Ctrl-C in the editor is the editor's */
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        char *cmd = mt_xasprintf("%s \"$1\"", ed);
        execl("/bin/sh", "sh", "-c", cmd, "sh", wt->path, (char *)NULL);
        _exit(127);
    }
    int st = -1;
    while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    sigaction(SIGINT, &old_int, NULL);
    term_raw(wt, 1);
    return pid < 0 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
edit_and_check(watch *wt)
{
    const char *ed = editor();
    if (ed == NULL) {
        printf("\nNo $VISUAL or $EDITOR: edit %s in any editor; every save is checked.\n",
               wt->path);
        keys_line(wt);
        return;
    }
    int rc = edit(wt, ed);
    if (rc != 0) {
        printf("\nThe editor (%s) ended with status %d.\n", ed, rc);
    }
    check(wt);
}

/* Drain the inotify queue; whether our file was written or moved in. */
static int
file_saved(watch *wt)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int hit = 0;
    for (;;) {
        ssize_t n = read(wt->ino, buf, sizeof buf);
        if (n <= 0) {
            return hit;
        }
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            hit |= ev->len > 0 && strcmp(ev->name, wt->name) == 0;
            p += sizeof *ev + ev->len;
        }
    }
}

/* One key; returns 1 to quit. */
static int
key(watch *wt, char c)
{
    switch (c) {
    case 'h': case 'H': hint(wt); break;
    case 'e': case 'E': edit_and_check(wt); break;
    case 'c': case 'C': case '\n': case '\r': check(wt); break;
    case 'q': case 'Q': case 4: return 1;      /* 4: Ctrl-D */
    default: break;
    }
    return 0;
}

static int
loop(watch *wt)
{
    double due = 0;                    /* when the pending check runs; 0: none */
    while (!stop) {
        struct pollfd p[2] = {{.fd = wt->ino, .events = POLLIN},
                              {.fd = wt->keys ? STDIN_FILENO : -1, .events = POLLIN}};
        int timeout = -1;
        if (due > 0) {
            double left = due - mt_now();
            timeout = left <= 0 ? 0 : (int)(left * 1000) + 1;
        }
        int n = poll(p, 2, timeout);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            fprintf(stderr, "ministry-tutor: poll: %s\n", strerror(errno));
            return 1;
        }
        if (p[0].revents & POLLIN && file_saved(wt)) {
            due = mt_now() + DEBOUNCE_SECONDS;
        }
        if (p[1].revents & (POLLIN | POLLHUP)) {
            char c;
            ssize_t got = read(STDIN_FILENO, &c, 1);
            if (got <= 0) {
                wt->keys = 0;          /* end of input: watch on, without keys */
                keys_line(wt);
            } else if (key(wt, c)) {
                return 0;
            }
        }
        if (due > 0 && mt_now() >= due) {
            due = 0;
            check(wt);
        }
    }
    return 0;
}

int
mt_exercise_watch_main(mt_app *app)
{
    watch wt = {.app = app, .ino = -1};
    char *err = NULL;
    int rc = 1;

    if (mt_exercise_find(app, app->opts.exercise, &wt.ref, &err) < 0) {
        fprintf(stderr, "ministry-tutor: %s\n", err);
        free(err);
        return 2;
    }
    wt.path = mt_exercise_path(&wt.ref, &err);
    int wrote = wt.path != NULL ? mt_exercise_start_file(&wt.ref, wt.path, &err) : -1;
    if (wrote < 0) {
        fprintf(stderr, "ministry-tutor: %s\n", err);
        goto out;
    }
    /* The folder, not the file: editors that save by renaming a new file
     * over the old one would end a watch on the file itself. */
    char *slash = strrchr(wt.path, '/');
    wt.name = slash + 1;
    *slash = '\0';
    wt.ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (wt.ino < 0 || inotify_add_watch(wt.ino, wt.path, IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
        err = mt_xasprintf("cannot watch %s: %s", wt.path, strerror(errno));
        *slash = '/';
        fprintf(stderr, "ministry-tutor: %s\n", err);
        goto out;
    }
    *slash = '/';

    wt.utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    mt_view_set_ascii(!wt.utf8);
    wt.width = text_width();
    wt.keys = 1;
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &wt.cooked) == 0) {
        wt.raw = 1;
        term_raw(&wt, 1);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    const mt_exercise *ex = wt.ref.ex;
    char *title = mt_xasprintf("Exercise %d.%d %s %s", wt.ref.lesson->number, wt.ref.index,
                               wt.utf8 ? "·" : "-", ex->title);
    rule(&wt, title);
    free(title);
    put_markdown(&wt, ex->task);
    printf("\n%s %s\n", wrote ? "Your file, from the starter:" : "Your file, as you left it:",
           wt.path);
    if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && editor() != NULL) {
        edit_and_check(&wt);
    } else {
        if (editor() == NULL) {
            printf("Edit it in any editor ($VISUAL or $EDITOR would open it here); every "
                   "save is checked.\n");
        }
        check(&wt);
    }
    rc = loop(&wt);
    term_raw(&wt, 0);
    if (stop) {
        printf("\n");
        rc = 128 + stop;               /* as every mode a signal ends */
    }
out:
    if (wt.ino >= 0) {
        close(wt.ino);
    }
    free(err);
    free(wt.path);
    return rc;
}
