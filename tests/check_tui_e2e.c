/* check_tui_e2e.c — the real binary ($MT_BIN) driven in tmux: what the
 * screen shows, the keys, the prompt, quitting, signals, sizes, colour,
 * and the plain fallback.  Each test has its own tmux server (a private
 * socket) and folder, both removed at the end. */
#include "pyver.h"

#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "doc.h"
#include "util.h"

static char sock[64];
static char dir[64];
static const char *bin;
static char *lessons;            /* MINISTRY_LESSONS=… for the binary */

static void e2e_teardown(void);

/* A failed assertion ends the test's process with _exit(), and a timeout
 * with SIGKILL, both skipping the checked teardown; so a small process
 * waits for the test's end and cleans up after it whichever way it went. */
static void
arm_reaper(void)
{
    pid_t test = getpid();
    fflush(NULL);
    pid_t r = fork();
    if (r != 0) {
        return;
    }
    setpgid(0, 0);   /* out of the test's process group, which check kills */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == test) {
        int sig;
        sigwait(&set, &sig);
    }
    e2e_teardown();
    _exit(0);
}

static void
e2e_setup(void)
{
    bin = getenv("MT_BIN");
    ck_assert_msg(bin != NULL && access(bin, X_OK) == 0,
                  "MT_BIN must name the built binary (make check sets it)");
    /* The source tree's lessons, wherever the binary was built. */
    const char *src = getenv("MT_SRCDIR");
    lessons = mt_xasprintf("%s/lessons", src ? src : ".");
    setenv("MINISTRY_LESSONS", lessons, 1);
    snprintf(sock, sizeof sock, "mt-test-%ld", (long)getpid());
    snprintf(dir, sizeof dir, "/tmp/mt-e2e-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    arm_reaper();
}

static int
tmux(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run one tmux command on the private server; returns its exit status. */
static int
tmux(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *args = mt_xvasprintf(fmt, ap);
    va_end(ap);
    char *cmd = mt_xasprintf("tmux -L %s -f /dev/null %s >/dev/null 2>&1", sock, args);
    int rc = system(cmd);
    free(cmd);
    free(args);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static char *
run_out(const char *cmd)
{
    FILE *f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    mt_str s = {0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        mt_str_addn(&s, buf, n);
    }
    pclose(f);
    return mt_str_take(&s);
}

static char *
tmux_out(const char *args)
{
    char *cmd = mt_xasprintf("tmux -L %s -f /dev/null %s 2>/dev/null", sock, args);
    char *out = run_out(cmd);
    free(cmd);
    return out;
}

/* End the private server and remove its socket (tmux leaves it) and our
 * folder.  Harmless when run twice (the reaper runs it again). */
static void
e2e_teardown(void)
{
    tmux("kill-server");
    const char *tmpdir = getenv("TMUX_TMPDIR");
    char *sock_path = mt_xasprintf("%s/tmux-%ld/%s", tmpdir && *tmpdir ? tmpdir : "/tmp",
                                   (long)getuid(), sock);
    unlink(sock_path);
    free(sock_path);
    if (dir[0] != '\0') {
        /* The killed panes' tutors save their state on the way out, so a
         * first rm -rf can race with their last write: try again briefly. */
        char *cmd = mt_xasprintf("for i in 1 2 3 4 5 6 7 8 9 10; do "
                                 "rm -rf '%s' 2>/dev/null; [ -e '%s' ] || exit 0; sleep 0.2; "
                                 "done; exit 1", dir, dir);
        if (system(cmd) != 0) {
            /* a leftover folder in /tmp is not a test failure */
        }
        free(cmd);
        dir[0] = '\0';
    }
    free(lessons);
    lessons = NULL;
}

static char *
path_in(const char *name)
{
    return mt_xasprintf("%s/%s", dir, name);
}

static char *
read_text(const char *name)
{
    char *p = path_in(name);
    char *text = NULL;
    size_t len;
    if (mt_read_file(p, 1 << 20, &text, &len) < 0) {
        text = NULL;
    }
    free(p);
    return text;
}

/* Start the binary with args in a cols × rows pane, in our folder, with a
 * private state home; env is extra "NAME=value" words (or ""), pre is
 * shell run first.  Its stderr goes to err, its exit status to exit. */
static void
start_full(int cols, int rows, const char *pre, const char *env, const char *args)
{
    char *script = path_in("run.sh");
    FILE *f = fopen(script, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "cd '%s' || exit 1\n"
            "ulimit -c 0\n"
            "trap : INT\n"       /* dash would die of a Ctrl-C sent as SIGINT */
            "%s\n"
            "env -u NO_COLOR LC_ALL=C.UTF-8 MINISTRY_LESSONS='%s' XDG_STATE_HOME='%s/state' "
            "%s '%s' %s 2>'%s/err'\n"
            "echo \"EXIT=$?\" > '%s/exit.tmp' && mv '%s/exit.tmp' '%s/exit'\n"
            "exec sleep 180\n",     /* a bound on a server a killed test leaves */
            dir, pre ? pre : "", lessons, dir, env, bin, args, dir, dir, dir, dir);
    fclose(f);
    /* A server just killed may still be going away: try for a while. */
    double end = mt_now() + 10;
    while (tmux("new-session -d -s t -x %d -y %d 'sh %s'", cols, rows, script) != 0) {
        ck_assert_msg(mt_now() < end, "tmux new-session keeps failing");
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    free(script);
}

static void
start(int cols, int rows, const char *env, const char *args)
{
    start_full(cols, rows, NULL, env, args);
}

static char *
screen(int escapes)
{
    return tmux_out(escapes ? "capture-pane -p -e -t t" : "capture-pane -p -t t");
}

static void
pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* Poll the screen until it holds needle (and, unless NULL, also needle2)
 * and has stopped changing (so a redraw is not caught half done); fail
 * with the last screen after secs. */
static char *
wait_screen2(const char *needle, const char *needle2, double secs)
{
    double end = mt_now() + secs;
    char *s = NULL;
    for (;;) {
        free(s);
        s = screen(0);
        if (strstr(s, needle) != NULL && (needle2 == NULL || strstr(s, needle2) != NULL)) {
            pause_ms(60);
            char *again = screen(0);
            if (strcmp(again, s) == 0) {
                free(again);
                return s;
            }
            free(again);
            continue;
        }
        if (mt_now() > end) {
            break;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    ck_abort_msg("after %.0f s the screen still lacks \"%s\"%s%s:\n%s", secs, needle,
                 needle2 ? " and " : "", needle2 ? needle2 : "", s);
    return NULL;
}

static char *
wait_screen(const char *needle, double secs)
{
    return wait_screen2(needle, NULL, secs);
}

/* Poll the screen until needle is gone and the screen has stopped
 * changing (so a redraw is not caught half done); returns that screen. */
static char *
wait_gone(const char *needle, double secs)
{
    double end = mt_now() + secs;
    for (;;) {
        char *s = screen(0);
        if (strstr(s, needle) == NULL) {
            pause_ms(60);
            char *again = screen(0);
            if (strcmp(again, s) == 0) {
                free(again);
                return s;
            }
            free(again);
            free(s);
            continue;
        }
        if (mt_now() > end) {
            ck_abort_msg("after %.0f s the screen still has \"%s\":\n%s", secs, needle, s);
        }
        free(s);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Poll the screen until at least n of its lines read exactly want (see
 * count_lines); returns that screen, or fails with it after secs. */
static int count_lines(const char *s, const char *want);

static char *
wait_lines(const char *want, int n, double secs)
{
    double end = mt_now() + secs;
    for (;;) {
        char *s = screen(0);
        if (count_lines(s, want) >= n) {
            return s;
        }
        if (mt_now() > end) {
            ck_abort_msg("after %.0f s the screen has not %d line(s) \"%s\":\n%s", secs, n,
                         want, s);
        }
        free(s);
        pause_ms(50);
    }
}

/* Poll the screen until it differs from before (or secs pass). */
static void
wait_change(const char *before, double secs)
{
    double end = mt_now() + secs;
    for (;;) {
        char *s = screen(0);
        int same = strcmp(s, before) == 0;
        free(s);
        if (!same || mt_now() > end) {
            return;
        }
        pause_ms(50);
    }
}

/* Wait for the binary to end; returns its exit status. */
static int
wait_exit(double secs)
{
    double end = mt_now() + secs;
    for (;;) {
        char *t = read_text("exit");
        if (t != NULL) {
            int st = -1;
            ck_assert_int_eq(sscanf(t, "EXIT=%d", &st), 1);
            free(t);
            return st;
        }
        if (mt_now() > end) {
            char *s = screen(0);
            ck_abort_msg("still running after %.0f s:\n%s", secs, s);
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static int
exited(void)
{
    char *p = path_in("exit");
    int e = access(p, F_OK) == 0;
    free(p);
    return e;
}

/* Whether the pane is in the alternate screen (curses is still on). */
static int
alternate_on(void)
{
    char *s = tmux_out("display -p -t t '#{alternate_on}'");
    int on = s[0] == '1';
    free(s);
    return on;
}

static void
keys(const char *k)
{
    ck_assert_int_eq(tmux("send-keys -t t %s", k), 0);
}

/* Type text literally (no key names). */
static void
type(const char *text)
{
    ck_assert_int_eq(tmux("send-keys -t t -l '%s'", text), 0);
}

/* The pid of the first ministry-tutor whose parent is ppid, or -1. */
static long
child_named(long ppid_want, const char *comm)
{
    DIR *d = opendir("/proc");
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    long found = -1;
    while ((e = readdir(d)) != NULL && found < 0) {
        char *p = mt_xasprintf("/proc/%s/stat", e->d_name);
        char *text = NULL;
        size_t len;
        if (mt_read_file(p, 4096, &text, &len) == 0) {
            char *rp = strrchr(text, ')');
            long ppid = 0;
            if (rp != NULL && sscanf(rp + 2, "%*c %ld", &ppid) == 1 && ppid == ppid_want
                && strstr(text, comm) != NULL) {
                found = atol(e->d_name);
            }
        }
        free(text);
        free(p);
    }
    closedir(d);
    return found;
}

/* The pid of the binary: the child of the pane's shell. */
static long
tui_pid(void)
{
    char *s = tmux_out("display -p -t t '#{pane_pid}'");
    long shell = atol(s);
    free(s);
    long pid = child_named(shell, "(ministry-tutor)");
    ck_assert_msg(pid > 0, "no ministry-tutor under the pane's shell %ld", shell);
    return pid;
}

/* Lines of s whose text, blanks trimmed, is exactly want (after a "│"
 * rule, if the pane stands beside the narrative). */
static int
count_lines(const char *s, const char *want)
{
    int n = 0;
    for (const char *p = s; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char *line = mt_xstrndup(p, len);
        char *t = strstr(line, "\xe2\x94\x82");     /* │ */
        t = t ? t + 3 : line;
        while (*t == ' ') {
            t++;
        }
        size_t tl = strlen(t);
        while (tl > 0 && t[tl - 1] == ' ') {
            t[--tl] = '\0';
        }
        n += strcmp(t, want) == 0;
        free(line);
        p = e ? e + 1 : p + len;
    }
    return n;
}

/* The largest number after "ob_refcnt" on the screen: the after view's. */
static long
max_refcnt(const char *s)
{
    long best = -1;
    for (const char *p = s; (p = strstr(p, "ob_refcnt")) != NULL; p += 9) {
        long v = strtol(p + 9, NULL, 10);
        best = v > best ? v : best;
    }
    return best;
}

/* ---- every step on stage: the change and the output in sight ------------- */

/* What the plain text says a step shows: its output lines, and whether
 * the first region with a change marks bytes (^^) and a field (* was). */
typedef struct truth {
    int stage, step, nsteps;
    char **out;
    int nout;
    int marker, was;
} truth;

/* Digits and hex numbers become '#': addresses and counts differ from
 * run to run, the words around them do not.  Trailing blanks go. */
static char *
norm(const char *s, size_t n)
{
    mt_str o = {0};
    for (size_t i = 0; i < n;) {
        /* A word that is a number, hex or not (0x7f…, e9, 1000000083). */
        size_t j = i;
        int digit = 0;
        if ((s[i] == '+' || s[i] == '-') && i + 1 < n && isdigit((unsigned char)s[i + 1])) {
            j++;      /* a sign goes with its number */
        }
        while (j < n && (isalnum((unsigned char)s[j]) || s[j] == '.')) {
            digit |= isdigit((unsigned char)s[j]);
            j++;
        }
        if (j > i) {
            int hex = j - i <= 2;
            for (size_t k = i; k < j && hex; k++) {
                hex = strchr("0123456789abcdef", s[k]) != NULL;
            }
            if (digit || hex) {
                mt_str_addn(&o, "#", 1);
            } else {
                mt_str_addn(&o, s + i, j - i);
            }
            i = j;
        } else {
            mt_str_addn(&o, s + i++, 1);
        }
    }
    char *t = mt_str_take(&o);
    size_t tl = t ? strlen(t) : 0;
    while (tl > 0 && t[tl - 1] == ' ') {
        t[--tl] = '\0';
    }
    return t ? t : mt_xstrdup("");
}

static size_t
plain_truth(truth **out)
{
    char *cmd = mt_xasprintf("'%s' --plain 2>/dev/null", bin);
    char *text = run_out(cmd);
    free(cmd);
    truth *v = NULL;
    size_t n = 0, cap = 0;
    int stage = 0, after = 0, first_done = 0, in_first = 0;
    for (char *p = text; *p;) {
        char *e = strchr(p, '\n');
        if (e) {
            *e = '\0';
        }
        int k, m;
        if (sscanf(p, "\xe2\x95\x90\xe2\x95\x90 Stage %d/", &k) == 1) {
            stage = k;
        } else if (sscanf(p, "\xe2\x94\x80\xe2\x94\x80 Step %d/%d", &k, &m) == 2) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                v = mt_xrealloc(v, cap * sizeof *v);
            }
            v[n++] = (truth){stage, k, m, NULL, 0, 0, 0};
            after = first_done = in_first = 0;
        } else if (n > 0 && strncmp(p, "  | ", 4) == 0 && p[4] != '\0') {
            truth *t = &v[n - 1];
            t->out = mt_xrealloc(t->out, (size_t)(t->nout + 1) * sizeof *t->out);
            t->out[t->nout++] = norm(p + 4, strlen(p + 4));
        } else if (n > 0 && strstr(p, " \xc2\xb7 after \xc2\xb7 ") != NULL) {
            after = 1;
            first_done |= in_first;
        } else if (n > 0 && strstr(p, " \xc2\xb7 before \xc2\xb7 ") != NULL) {
            after = 0;
            first_done |= in_first;
        } else if (n > 0 && after && !first_done && strstr(p, "^^") != NULL) {
            v[n - 1].marker = in_first = 1;
        } else if (n > 0 && after && in_first && !first_done && strstr(p, "* was") != NULL) {
            v[n - 1].was = 1;
        }
        p = e ? e + 1 : p + strlen(p);
    }
    free(text);
    *out = v;
    return n;
}

/* Whether the screen shows output line want (normalised) in full, or cut
 * at a pane's edge with a › after as much of it as fits. */
static int
shows_line(const char *s, const char *want)
{
    size_t wl = strlen(want), probe = wl < 12 ? wl : 12;
    for (const char *p = s; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char *line = norm(p, len);
        for (char *at = line; *at; at++) {
            if (strncmp(at, want, probe) != 0) {
                continue;
            }
            if (strncmp(at, want, wl) == 0) {
                free(line);
                return 1;
            }
            size_t al = strlen(at);
            const char *clip = "\xe2\x80\xba";      /* › */
            if (al >= 3 && strcmp(at + al - 3, clip) == 0) {
                size_t k = al - 3;
                while (k > 0 && at[k - 1] == ' ') {
                    k--;
                }
                /* The word the edge cut normalises otherwise than whole
                 * ("f›" of "for" is a hex number; "(libpython3.14.so.1.0+›"
                 * of "(libpython3.14.so.1.0+0x…)" is not "(##)"): it is not
                 * compared, what comes before it is. */
                while (k > 0 && (isalnum((unsigned char)at[k - 1]) || strchr("#.+-", at[k - 1]))) {
                    k--;
                }
                if (k <= wl && strncmp(at, want, k) == 0) {
                    free(line);
                    return 1;
                }
            }
        }
        free(line);
        p = e ? e + 1 : p + len;
    }
    return 0;
}

/* Through every step of every stage at one size with n: with no other key
 * pressed, each step's first output line (all of them when the output
 * pane needs no scrolling) is in sight, whole or cut with a ›, and so is
 * its first change: the ^^ under the bytes and the field with what it
 * was. */
static void
sweep(int cols, int rows)
{
    truth *tv;
    size_t nt = plain_truth(&tv);
    ck_assert_msg(nt >= 40, "the plain text has only %zu steps", nt);
    start(cols, rows, "", "--stage 1");
    for (size_t i = 0; i < nt; i++) {
        truth *t = &tv[i];
        char *stage = mt_xasprintf("Stage %d/", t->stage);
        char *step = mt_xasprintf(" Step %d/%d ", t->step, t->nsteps);
        char *s = wait_screen2(stage, step, 60);
        const char *scroll_out = NULL;
        const char *o = strstr(s, "output \xc2\xb7 ");
        o = o ? o : strstr(s, " ms \xe2\x94\x80");     /* the short title */
        if (o != NULL) {
            const char *nl = strchr(o, '\n');
            const char *slash = strchr(o, '/');
            scroll_out = slash != NULL && slash < nl ? slash : NULL;
        }
        for (int j = 0; j < t->nout && (j == 0 || scroll_out == NULL); j++) {
            ck_assert_msg(shows_line(s, t->out[j]), "%dx%d stage %d step %d: output line \"%s\" "
                          "not in sight:\n%s", cols, rows, t->stage, t->step, t->out[j], s);
        }
        if (t->marker) {
            ck_assert_msg(strstr(s, "^^") != NULL, "%dx%d stage %d step %d: the changed bytes "
                          "are not in sight:\n%s", cols, rows, t->stage, t->step, s);
        }
        if (t->was) {
            ck_assert_msg(strstr(s, "* was") != NULL, "%dx%d stage %d step %d: the changed "
                          "field is not in sight:\n%s", cols, rows, t->stage, t->step, s);
        }
        free(s);
        /* On: past a stage's last step come its end and the next opening. */
        keys("n");
        if (t->step == t->nsteps && i + 1 < nt) {
            free(wait_screen(" End ", 60));
            keys("n");
            free(wait_screen(" Opening ", 60));
            keys("n");
        }
        free(stage);
        free(step);
    }
    keys("q");
    ck_assert_int_eq(wait_exit(60), 0);
    for (size_t i = 0; i < nt; i++) {
        for (int j = 0; j < tv[i].nout; j++) {
            free(tv[i].out[j]);
        }
        free(tv[i].out);
    }
    free(tv);
}

START_TEST(test_e2e_sweep_100x30)
{
    sweep(100, 30);
}
END_TEST

START_TEST(test_e2e_sweep_80x24)
{
    sweep(80, 24);
}
END_TEST

START_TEST(test_e2e_sweep_60x20)
{
    sweep(60, 20);
}
END_TEST

/* Side by side: the before and after halves, each step's change in sight. */
START_TEST(test_e2e_sweep_120x40)
{
    sweep(120, 40);
}
END_TEST

/* The issue's own checks, and a resize in the middle of a step. */
START_TEST(test_e2e_change_in_sight)
{
    /* 100x30, stage 3 step 3: nb_add, with what it was. */
    start(100, 30, "", "--stage 3 --step 3");
    char *s = wait_screen2(" Step 3/", "nb_add", 30);
    const char *nb = strstr(s, "nb_add ");
    ck_assert_msg(nb != NULL && strstr(nb, "* was long_add") != NULL,
                  "nb_add and what it was are not in sight:\n%s", s);
    free(s);
    /* Wider and taller: still the change, side by side. */
    tmux("resize-window -t t -x 200 -y 60");
    s = wait_screen("nb-slots \xc2\xb7 before", 20);
    free(s);
    s = wait_screen("* was long_add", 20);
    free(s);
    /* Down to 60x20: the change stays in sight. */
    tmux("resize-window -t t -x 60 -y 20");
    s = wait_screen2("* was", "^^", 20);
    free(s);
    keys("q");
    ck_assert_int_eq(wait_exit(30), 0);
}
END_TEST

START_TEST(test_e2e_binary_op_in_full)
{
    start(100, 30, "", "--stage 4 --step 1");
    char *s = wait_screen2(" Step 1/", "two + two:", 30);
    ck_assert_msg(strstr(s, "BINARY_OP                0 (+)") != NULL,
                  "BINARY_OP is not shown in full:\n%s", s);
    free(s);
    keys("q");
    ck_assert_int_eq(wait_exit(30), 0);
}
END_TEST

START_TEST(test_e2e_ob_type_80x24)
{
    /* The step that overwrites ob_type (the 4th when the issue was
     * written, the 6th since the lesson gained steps). */
    start(80, 24, "", "--stage 5 --step 6");
    char *s = wait_screen2(" Step 6/", "Overwrite ob_type", 30);
    const char *row = strstr(s, "8     8  ob_type");
    ck_assert_msg(row != NULL && strstr(row, "\xe2\x86\x92 int2") != NULL
                  && strstr(row, "* was int") != NULL,
                  "the changed ob_type row is not in sight:\n%s", s);
    free(s);
    keys("q");
    ck_assert_int_eq(wait_exit(30), 0);
}
END_TEST

START_TEST(test_e2e_side_by_side_change)
{
    /* 120x40, stage 2 step 5: the one changed byte is tp_version_tag, far
     * down a 408-byte dump; it opens there, before and after level. */
    start(120, 40, "", "--stage 2 --step 5");
    char *s = wait_screen2(" Step 5/", "4  tp_version_tag", 30);
    const char *row = strstr(s, "4  tp_version_tag");
    const char *nl = strchr(row, '\n');
    const char *again = strstr(row + 1, "4  tp_version_tag");
    ck_assert_msg(again != NULL && again < nl && strstr(again, "* was") < strchr(again, '\n'),
                  "before and after of tp_version_tag are not on one row:\n%s", s);
    free(s);
    /* d: the whole dump, from its top (Home); ] steps from change to
     * change until the changed field is in sight. */
    keys("d");
    free(wait_screen("the whole dump", 10));
    keys("Home");
    s = wait_gone("* was", 10);
    int presses = 0;
    while (strstr(s, "* was") == NULL) {
        ck_assert_msg(++presses <= 3, "] never reached the changed field:\n%s", s);
        keys("]");
        wait_change(s, 10);
        free(s);
        s = screen(0);
    }
    free(s);
    keys("d");
    s = wait_screen("lines not shown", 10);
    free(s);
    keys("q");
    ck_assert_int_eq(wait_exit(30), 0);
}
END_TEST

/* ---- the screen ------------------------------------------------------------ */

START_TEST(test_e2e_open_stage)
{
    start(120, 40, "", "--stage 1");
    char *s = wait_screen2("Every object keeps count", "00000000: ", 20);
    ck_assert_ptr_nonnull(strstr(s, "Stage 1/"));
    ck_assert_ptr_nonnull(strstr(s, "Step 1/"));
    ck_assert_ptr_nonnull(strstr(s, "pristine"));
    ck_assert_ptr_nonnull(strstr(s, "Python " MT_T_PYVER "."));     /* the worker's */
    ck_assert_ptr_nonnull(strstr(s, "ob_type"));
    ck_assert_ptr_nonnull(strstr(s, "\xe2\x86\x92 int"));              /* → int */
    ck_assert_ptr_nonnull(strstr(s, "import sys"));                    /* the code */
    ck_assert_ptr_nonnull(strstr(s, "sys.getrefcount(2) ="));          /* its output */
    /* 120 columns: before and after side by side, on the same row. */
    const char *b = strstr(s, "int-2 \xc2\xb7 before \xc2\xb7 PyLongObject");
    ck_assert_msg(b != NULL, "%s", s);
    const char *nl = strchr(b, '\n');
    const char *a = strstr(b, "int-2 \xc2\xb7 after \xc2\xb7 PyLongObject");
    ck_assert_msg(a != NULL && a < nl, "before and after are not side by side:\n%s", s);
    /* Talk mode: no key hints, no welcome. */
    ck_assert_ptr_null(strstr(s, "Welcome"));
    ck_assert_ptr_null(strstr(s, "n next"));
    free(s);
    ck_assert_int_eq(exited(), 0);
}
END_TEST

START_TEST(test_e2e_next_prev_keys)
{
    start(120, 40, "", "--stage 1");
    free(wait_screen2("Step 1/5", "00000000: ", 20));
    keys("n");
    free(wait_screen("Step 2/5", 20));
    keys("NPage");
    char *s3 = wait_screen2("Step 3/5", "Take", 20);
    long after3 = max_refcnt(s3);
    free(s3);
    keys("Space");
    free(wait_screen("Step 4/5", 20));
    keys("Enter");
    free(wait_screen("Step 5/5", 20));
    keys("Right");
    free(wait_screen("End of stage 1", 20));
    keys("p");
    free(wait_screen("Step 5/5", 20));
    keys("PPage");
    free(wait_screen("Step 4/5", 20));
    keys("Left");
    /* Back at step 3, replayed: a thousand references again. */
    free(wait_screen("Step 3/5", 20));
    keys("BSpace");
    char *s2 = wait_screen2("Step 2/5", "ctypes", 20);
    long after2 = max_refcnt(s2);
    free(s2);
    /* Going back restored step 2's state: the thousand references that
     * step 3 took are not there. */
#if PY_VERSION_HEX >= 0x030C0000
    /* An immortal 2: its count is the same whatever step took what. */
    ck_assert_msg(after3 > 0 && after3 == after2,
                  "ob_refcnt after step 3: %ld, after going back to step 2: %ld", after3, after2);
#else
    ck_assert_msg(after3 > 0 && after2 > 0 && after3 - after2 >= 900,
                  "ob_refcnt after step 3: %ld, after going back to step 2: %ld", after3, after2);
#endif
    /* F5 and Esc (clickers) never quit: the next key still works. */
    keys("F5");
    keys("Escape");
    keys("n");
    free(wait_screen("Step 3/5", 20));
    ck_assert_int_eq(exited(), 0);
    keys("1");
    free(wait_screen("Step 1/5", 20));
}
END_TEST

START_TEST(test_e2e_prompt_history)
{
    start(100, 30, "", "--stage 1");
    char *s = wait_screen("Step 1/5", 20);
    ck_assert_int_eq(count_lines(s, "5"), 0);
    free(s);
    keys(":");
    free(wait_screen(">>> ", 10));
    type("2 + 3");
    keys("Enter");
    free(wait_screen(">>> 2 + 3", 20));
    s = wait_lines("5", 1, 10);
    ck_assert_msg(count_lines(s, "5") == 1, "more than one 5 after 2 + 3:\n%s", s);
    free(s);
    /* ↑ brings the line back from the history. */
    keys(":");
    keys("Up");
    keys("Enter");
    free(wait_lines("5", 2, 10));       /* ↑ brought 2 + 3 back and it ran */
    /* Esc leaves the prompt without running anything, and never quits. */
    keys(":");
    type("1/0");
    keys("Escape");
    keys("n");
    s = wait_screen("Step 2/5", 20);
    ck_assert_ptr_null(strstr(s, "ZeroDivisionError"));
    free(s);
}
END_TEST

START_TEST(test_e2e_prompt_patched_stage5)
{
    start(120, 40, "", "--stage 5");
    char *s = wait_screen2("Stage 5/", "pristine", 20);
    int fours = count_lines(s, "4");
    free(s);
    /* Pristine: 2 + 2 is 4. */
    keys(":");
    type("2 + 2");
    keys("Enter");
    free(wait_screen(">>> 2 + 2", 20));
    free(wait_lines("4", fours + 1, 10));
    /* Step on until the patch is live. */
    double end = mt_now() + 40;
    for (;;) {
        s = screen(0);
        if (strstr(s, "PATCHED") != NULL) {
            break;
        }
        ck_assert_msg(mt_now() < end && strstr(s, "End of stage") == NULL,
                      "stage 5 never showed PATCHED:\n%s", s);
        free(s);
        char *before = screen(0);
        keys("n");
        wait_change(before, 20);     /* the step moved on */
        free(before);
    }
    int fives = count_lines(s, "5");
    free(s);
    keys(":");
    type("2 + 2");
    keys("Enter");
    s = wait_lines("5", fives + 1, 20);    /* 2 + 2 is 5 while patched */
    ck_assert_ptr_nonnull(strstr(s, "PATCHED"));
    free(s);
    /* q puts everything back: status 0, and nothing loud said on the way
     * out (a restore the lesson missed would be). */
    keys("q");
    ck_assert_int_eq(wait_exit(30), 0);
    char *err = read_text("err");
    ck_assert_msg(err != NULL && *err == '\0', "stderr: %s", err ? err : "(none)");
    free(err);
    ck_assert_int_eq(alternate_on(), 0);
}
END_TEST

START_TEST(test_e2e_quit)
{
    start(120, 40, "", "--stage 1");
    free(wait_screen("00000000: ", 20));
    ck_assert_int_eq(alternate_on(), 1);
    keys("q");
    ck_assert_int_eq(wait_exit(20), 0);
    ck_assert_int_eq(alternate_on(), 0);
    char *err = read_text("err");
    ck_assert_msg(err != NULL && *err == '\0', "stderr: %s", err ? err : "(none)");
    free(err);
}
END_TEST

START_TEST(test_e2e_too_small_and_resize)
{
    start(30, 8, "", "--stage 1");
    char *s = wait_screen2("needs at least 60\xc3\x97" "20,", "this terminal is 30\xc3\x97" "8", 20);
    free(s);
    tmux("resize-window -t t -x 120 -y 40");
    free(wait_screen2("Every object keeps count", "00000000: ", 20));
    /* q works while the screen is too small, and the status is 0. */
    tmux("resize-window -t t -x 30 -y 8");
    free(wait_screen("this terminal is 30\xc3\x97" "8", 20));
    keys("q");
    ck_assert_int_eq(wait_exit(20), 0);
    ck_assert_int_eq(alternate_on(), 0);
}
END_TEST

START_TEST(test_e2e_resize_layouts)
{
    /* A step whose dump changes: stage 1's first, where 2's count moves
     * (3.11); from 3.12, whose immortal 2 keeps its count, the swap of its
     * ob_type in stage 5. */
#if PY_VERSION_HEX >= 0x030C0000
    start(80, 40, "", "--stage 5 --step 6");
    char *s = wait_screen2("00000000: ", "Step 6/", 20);
    const char *title = "Two becomes a different kind of int";
#else
    start(80, 40, "", "--stage 1");
    char *s = wait_screen2("00000000: ", "Step 1/5", 20);
    const char *title = "Every object keeps count";
#endif
    /* 80 columns: stacked, and the dump does not fit, so it opens on the
     * after view's change (its header and the ^^ line in sight); the
     * before view is not beside it. */
    const char *a0 = strstr(s, "int-2 \xc2\xb7 after \xc2\xb7");
    ck_assert_msg(a0 != NULL, "the after view is not in sight:\n%s", s);
    ck_assert_msg(strstr(a0, "^^") != NULL, "the change is not in sight:\n%s", s);
    const char *line = a0;
    while (line > s && line[-1] != '\n') {
        line--;
    }
    const char *b = strstr(line, "int-2 \xc2\xb7 before \xc2\xb7");
    ck_assert_msg(b == NULL || b > strchr(a0, '\n'), "side by side at 80 columns:\n%s", s);
    free(s);
    tmux("resize-window -t t -x 200 -y 60");
    s = wait_screen("int-2 \xc2\xb7 after \xc2\xb7", 20);
    b = strstr(s, "int-2 \xc2\xb7 before \xc2\xb7");
    ck_assert_msg(b != NULL && strstr(b, "int-2 \xc2\xb7 after \xc2\xb7") < strchr(b, '\n'),
                  "not side by side at 200 columns:\n%s", s);
    free(s);
    tmux("resize-window -t t -x 30 -y 8");
    free(wait_screen("this terminal is 30\xc3\x97" "8", 20));
    tmux("resize-window -t t -x 120 -y 40");
    free(wait_screen(title, 20));
    keys("q");
    ck_assert_int_eq(wait_exit(20), 0);
}
END_TEST

/* Every SGR parameter list in s; colour ones counted. */
static void
sgr_counts(const char *s, int *colour, int *reverse)
{
    *colour = *reverse = 0;
    for (const char *p = s; (p = strstr(p, "\033[")) != NULL;) {
        p += 2;
        const char *q = p;
        while ((*q >= '0' && *q <= '9') || *q == ';') {
            q++;
        }
        if (*q != 'm') {
            continue;
        }
        char *params = mt_xstrndup(p, (size_t)(q - p));
        char *save = NULL;
        for (char *t = strtok_r(params, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
            int v = atoi(t);
            /* 39 and 49 are "default colour": tmux writes them after every
             * reset, colour or not. */
            if ((v >= 30 && v <= 38) || (v >= 40 && v <= 48) || (v >= 90 && v <= 97)
                || (v >= 100 && v <= 107)) {
                (*colour)++;
                if (v == 38 || v == 48) {
                    break;   /* the rest are its colour's numbers */
                }
            }
            *reverse += v == 7;
        }
        free(params);
        p = q;
    }
}

START_TEST(test_e2e_no_color)
{
    int colour, reverse;
    /* Without NO_COLOR the screen has colour... */
    start(120, 40, "", "--stage 1");
    free(wait_screen("00000000: ", 20));
    char *s = screen(1);
    sgr_counts(s, &colour, &reverse);
    ck_assert_msg(colour > 0, "no colour at all without NO_COLOR");
    free(s);
    keys("q");
    ck_assert_int_eq(wait_exit(20), 0);
    tmux("kill-server");
    char *p = path_in("exit");
    unlink(p);
    free(p);

    /* ...with NO_COLOR=1 none, and the changed bytes still stand out. */
    start(120, 40, "NO_COLOR=1", "--stage 1");
    free(wait_screen("00000000: ", 20));
    s = screen(1);
    sgr_counts(s, &colour, &reverse);
    ck_assert_msg(colour == 0, "%d colour codes under NO_COLOR", colour);
    ck_assert_msg(reverse > 0, "no reverse video under NO_COLOR");
    free(s);
}
END_TEST

/* Whether the SGR sequences of s set a basic foreground colour c (30 + c
 * or 90 + c) anywhere. */
static int
sets_basic_fg(const char *s, int c)
{
    for (const char *p = s; (p = strstr(p, "\033[")) != NULL;) {
        p += 2;
        const char *q = p;
        while ((*q >= '0' && *q <= '9') || *q == ';') {
            q++;
        }
        if (*q == 'm') {
            char *params = mt_xstrndup(p, (size_t)(q - p));
            char *save = NULL;
            for (char *t = strtok_r(params, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
                int v = atoi(t);
                if (v == 38 || v == 48) {
                    strtok_r(NULL, ";", &save);      /* 5 */
                    strtok_r(NULL, ";", &save);      /* the index */
                } else if (v == 30 + c || v == 90 + c) {
                    free(params);
                    return 1;
                }
            }
            free(params);
        }
        p = q;
    }
    return 0;
}

static void
restart_clean(void)
{
    tmux("kill-server");
    char *p = path_in("exit");
    unlink(p);
    free(p);
}

START_TEST(test_e2e_themes)
{
    /* --theme light on a 256-colour terminal paints the light theme's own
     * background; --theme dark and MINISTRY_THEME the dark one's; with no
     * theme asked for, the terminal keeps its background. */
    static const struct {
        const char *env, *args;
        int theme;       /* -1: none painted */
    } runs[] = {
        {"TERM=tmux-256color", "--stage 1 --theme light", MT_THEME_LIGHT},
        {"TERM=tmux-256color MINISTRY_THEME=light", "--stage 1", MT_THEME_LIGHT},
        {"TERM=tmux-256color", "--stage 1 --theme dark", MT_THEME_DARK},
        {"TERM=tmux-256color", "--stage 1", -1},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        start(100, 30, runs[i].env, runs[i].args);
        free(wait_screen("00000000: ", 20));
        char *s = screen(1);
        for (int th = 0; th < MT_THEME_COUNT; th++) {
            char *bg = mt_xasprintf("48;5;%dm", mt_palette_of((mt_theme)th)->bg.fg);
            ck_assert_msg((strstr(s, bg) != NULL) == (th == runs[i].theme),
                          "%s %s: background %s %s", runs[i].env, runs[i].args, bg,
                          th == runs[i].theme ? "missing" : "painted");
            free(bg);
        }
        free(s);
        keys("q");
        ck_assert_int_eq(wait_exit(20), 0);
        restart_clean();
    }
    /* 8 colours, light theme: no label is drawn in white (it would vanish
     * on a light terminal), and there is colour. */
    start(100, 30, "TERM=screen", "--stage 1 --theme light");
    free(wait_screen("00000000: ", 20));
    char *s = screen(1);
    int colour, reverse;
    sgr_counts(s, &colour, &reverse);
    ck_assert_int_gt(colour, 0);
    ck_assert_msg(!sets_basic_fg(s, 7), "white text under the light theme on 8 colours");
    free(s);
    keys("q");
    ck_assert_int_eq(wait_exit(20), 0);
}
END_TEST

START_TEST(test_e2e_goto_and_clock)
{
    start(100, 30, "", "--stage 1");
    free(wait_screen2(" Step 1/", "00000000: ", 20));
    /* g 3.4: stage 3, step 4, from anywhere. */
    keys("g");
    free(wait_screen("go to: ", 10));
    type("3.4");
    keys("Enter");
    free(wait_screen2("Stage 3/", " Step 4/", 30));
    /* A stage that is not there is said so; nothing moves. */
    keys("g");
    type("9.1");
    keys("Enter");
    char *s = wait_screen("is not a stage", 10);
    ck_assert_ptr_nonnull(strstr(s, " Step 4/"));
    free(s);
    /* t: the time since the start in the status line, ticking on its own. */
    keys("t");
    s = wait_screen(" \xc2\xb7 Python", 10);
    free(s);
    char *first = screen(0);
    char *line = mt_xstrndup(first, (size_t)(strchr(first, '\n') - first));
    ck_assert_msg(strstr(line, ":") != NULL, "no clock in the status line: %s", line);
    wait_change(first, 5);
    char *later = screen(0);
    ck_assert_msg(strncmp(first, later, (size_t)(strchr(first, '\n') - first)) != 0,
                  "the clock did not move:\n%s", later);
    free(first);
    free(later);
    free(line);
    keys("t");
    s = screen(0);
    free(s);
    keys("q");
    ck_assert_int_eq(wait_exit(20), 0);
}
END_TEST

START_TEST(test_e2e_notes)
{
    /* --notes in a second pane follows the interface: the narrative of the
     * step it is at. */
    start(100, 45, "", "--stage 2 --step 2");
    free(wait_screen2(" Step 2/", "00000000: ", 20));
    char *script = path_in("notes.sh");
    FILE *f = fopen(script, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "cd '%s' || exit 1\n"
            "env -u NO_COLOR LC_ALL=C.UTF-8 MINISTRY_LESSONS='%s' XDG_STATE_HOME='%s/state' "
            "'%s' --notes 2>'%s/notes-err'\n"
            "exec sleep 180\n",
            dir, lessons, dir, bin, dir);
    fclose(f);
    ck_assert_int_eq(tmux("split-window -v -l 14 -t t 'sh %s'", script), 0);
    free(script);
    double end = mt_now() + 20;
    char *s = NULL;
    for (;;) {
        free(s);
        s = tmux_out("capture-pane -p -t t.1");
        if (strstr(s, "Notes \xc2\xb7 Stage 2/") != NULL && strstr(s, "Step 2/") != NULL) {
            break;
        }
        ck_assert_msg(mt_now() < end, "the notes do not show step 2:\n%s", s);
        pause_ms(100);
    }
    free(s);
    s = NULL;
    /* The interface moves on; the notes follow without a key. */
    ck_assert_int_eq(tmux("send-keys -t t.0 n"), 0);
    end = mt_now() + 30;
    for (;;) {
        free(s);
        s = tmux_out("capture-pane -p -t t.1");
        if (strstr(s, "Step 3/") != NULL && strstr(s, "Step 2/") == NULL) {
            break;
        }
        ck_assert_msg(mt_now() < end, "the notes did not follow to step 3:\n%s", s);
        pause_ms(100);
    }
    free(s);
    ck_assert_int_eq(tmux("send-keys -t t.1 q"), 0);
    ck_assert_int_eq(tmux("send-keys -t t.0 q"), 0);
    ck_assert_int_eq(wait_exit(20), 0);
}
END_TEST

START_TEST(test_e2e_help_scrolls_context_keys)
{
    /* 60x20: the help does not fit, so it scrolls (its last key reachable)
     * rather than losing keys; + widens the context around a change. */
    start(60, 20, "", "--stage 3 --step 3");
    free(wait_screen2(" Step 3/", "* was", 30));
    keys("?");
    char *s = wait_screen(" more, any other key closes", 10);
    ck_assert_ptr_null(strstr(s, "ignored: presentation"));
    free(s);
    for (int i = 0; i < 30; i++) {
        keys("j");
    }
    free(wait_screen("ignored: presentation", 10));
    keys("x");
    s = wait_gone("more, any other key closes", 10);
    ck_assert_ptr_nonnull(strstr(s, "00000010: "));   /* the row after the change */
    free(s);
    keys("+");
    free(wait_screen("the changes with 2 rows around each", 10));
    keys("-");
    keys("-");
    s = wait_screen("the changes with 0 rows around each", 10);
    ck_assert_msg(strstr(s, "00000010: ") == NULL, "a row of context with none asked:\n%s", s);
    ck_assert_ptr_nonnull(strstr(s, "* was long_add"));
    free(s);
    keys("q");
    ck_assert_int_eq(wait_exit(20), 0);
}
END_TEST

START_TEST(test_e2e_zoom_collapse_sideways)
{
    /* 60x20, stage 7 step 2: code lines wider than the screen end in ›. */
    start(60, 20, "", "--stage 7 --step 2");
    char *s = wait_screen2(" Step 2/", "code \xc2\xb7 ", 30);
    ck_assert_msg(strstr(s, "\xe2\x80\xba\n") != NULL, "no cut line marked:\n%s", s);
    free(s);
    /* Tab to the code pane, > scrolls it sideways: a ‹ at its left edge. */
    for (int i = 0; i < 4; i++) {
        s = screen(0);
        int on_code = 0;
        /* The focused pane's title is in reverse video: find it by SGR 7. */
        char *e = screen(1);
        const char *c = strstr(e, "code \xc2\xb7");
        const char *r = c ? c : e;
        while (r > e && *r != '\n') {
            r--;
        }
        on_code = c != NULL && strstr(r, "\033[7m") != NULL && strstr(r, "\033[7m") < c;
        free(e);
        free(s);
        if (on_code) {
            break;
        }
        keys("Tab");
        pause_ms(200);
    }
    keys("'>'");
    s = wait_screen("\xe2\x80\xb9", 10);
    free(s);
    keys("'<'");
    free(wait_gone("\xe2\x80\xb9", 10));
    /* z: the focused pane alone on the screen, and back. */
    keys("z");
    s = wait_gone("\xe2\x94\x80 memory", 10);
    ck_assert_msg(strstr(s, "code \xc2\xb7") != NULL, "the zoomed pane is not the code:\n%s", s);
    ck_assert_ptr_null(strstr(s, "output \xc2\xb7"));
    free(s);
    keys("z");
    free(wait_screen("output \xc2\xb7", 10));
    /* c: the code collapses to its title row; its lines go to the others. */
    s = screen(0);
    ck_assert_ptr_nonnull(strstr(s, "optimize_t = ctypes.CFUNCTYPE"));
    free(s);
    keys("c");
    s = wait_gone("optimize_t = ctypes.CFUNCTYPE", 10);
    ck_assert_ptr_nonnull(strstr(s, "code \xc2\xb7"));
    free(s);
    keys("c");
    free(wait_screen("optimize_t = ctypes.CFUNCTYPE", 10));
    keys("q");
    ck_assert_int_eq(wait_exit(20), 0);
}
END_TEST

START_TEST(test_e2e_ascii_locale)
{
    /* A locale that is not UTF-8: ASCII rules and marks, nothing else. */
    start(120, 40, "LC_ALL=C", "--stage 1");
    char *s = wait_screen2("00000000: ", "Step 1/5", 20);
    for (const char *p = s; *p; p++) {
        ck_assert_msg((unsigned char)*p < 0x80, "non-ASCII byte in:\n%s", s);
    }
    ck_assert_ptr_nonnull(strstr(s, "- Step 1/5 - Meet the object 2 ---"));
    ck_assert_ptr_nonnull(strstr(s, " > int"));
    ck_assert_ptr_nonnull(strstr(s, "int-2 - before - PyLongObject"));
    free(s);
}
END_TEST

/* ---- ways out --------------------------------------------------------------- */

START_TEST(test_e2e_ctrl_c)
{
    start(120, 40, "", "--stage 1");
    free(wait_screen("00000000: ", 20));
    double t0 = mt_now();
    keys("C-c");
    ck_assert_int_eq(wait_exit(10), 0);
    ck_assert_msg(mt_now() - t0 < 3.0, "Ctrl-C took %.1f s", mt_now() - t0);
    ck_assert_int_eq(alternate_on(), 0);
    char *err = read_text("err");
    ck_assert_msg(err != NULL && *err == '\0', "stderr: %s", err ? err : "(none)");
    free(err);
}
END_TEST

START_TEST(test_e2e_ctrl_c_while_running)
{
    /* A prompt entry that never ends: Ctrl-C raises KeyboardInterrupt in
     * it, as in Python's REPL, and the lesson stays where it was. */
    start(120, 40, "MINISTRY_STEP_TIMEOUT=60", "--stage 1 --step 2");
    free(wait_screen2(" Step 2/", "00000000: ", 20));
    long pid = tui_pid();
    keys(":");
    type("while True: pass");
    keys("Enter");
    free(wait_screen("... ", 10));        /* a block: it waits for its empty line */
    keys("Enter");
    free(wait_screen("running", 10));
    double t0 = mt_now();
    keys("C-c");
    char *s = wait_screen("KeyboardInterrupt", 10);
    ck_assert_msg(mt_now() - t0 < 3.0, "Ctrl-C took %.1f s", mt_now() - t0);
    ck_assert_ptr_nonnull(strstr(s, " Step 2/"));
    ck_assert_ptr_null(strstr(s, "fresh worker"));
    free(s);
    ck_assert_int_eq(exited(), 0);
    ck_assert_int_eq(tui_pid(), pid);
    /* The namespace lived through it: the step's names are still there. */
    keys(":");
    type("\"PyObject\" in dir()");
    keys("Enter");
    free(wait_lines("True", 1, 20));
    keys("q");
    ck_assert_int_eq(wait_exit(20), 0);
}
END_TEST

START_TEST(test_e2e_ctrl_c_uninterruptible)
{
    /* An entry Ctrl-C cannot reach (SIGINT blocked, as in C code): after a
     * grace period the worker is ended, its faulthandler traceback shown,
     * and a fresh one replays the stage to the same step; a key typed
     * meanwhile is dropped. */
    start(120, 40, "MINISTRY_STEP_TIMEOUT=60", "--stage 1 --step 3");
    free(wait_screen2(" Step 3/", "00000000: ", 20));
    keys(":");
    type("import signal, time; signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}); "
         "time.sleep(50)");
    keys("Enter");
    free(wait_screen("running", 10));
    keys("C-c");
    pause_ms(200);
    keys("n");                            /* typed during the reset */
    char *s = wait_screen2("replayed stage 1 to where it was", "00000000: ", 30);
    ck_assert_ptr_nonnull(strstr(s, "Ctrl-C could not stop that entry"));
    ck_assert_ptr_nonnull(strstr(s, " Step 3/"));
    ck_assert_ptr_nonnull(strstr(s, "SIGABRT"));          /* ended for faulthandler */
    free(s);
    pause_ms(500);
    s = screen(0);
    ck_assert_msg(strstr(s, " Step 3/") != NULL, "the key typed meanwhile was replayed:\n%s", s);
    free(s);
    keys("q");
    ck_assert_int_eq(wait_exit(20), 0);
}
END_TEST

START_TEST(test_e2e_timeout)
{
    /* An entry past its time limit: reported with faulthandler's
     * traceback, and the lesson is put back where it was. */
    start(120, 60, "MINISTRY_STEP_TIMEOUT=1", "--stage 1 --step 2");
    free(wait_screen2(" Step 2/", "00000000: ", 20));
    keys(":");
    type("while True: pass");
    keys("Enter");
    keys("Enter");
    char *s = wait_screen2("time limit", "replayed stage 1 to where it was", 30);
    ck_assert_ptr_nonnull(strstr(s, " Step 2/"));
    ck_assert_msg(strstr(s, "File \"<prompt>\", line 1") != NULL,
                  "faulthandler's traceback is not shown:\n%s", s);
    free(s);
    keys("n");
    free(wait_screen2(" Step 3/", "00000000: ", 20));
    keys("q");
    ck_assert_int_eq(wait_exit(20), 0);
}
END_TEST

START_TEST(test_e2e_prompt_like_python)
{
    start(120, 60, "", "--stage 1 --step 2");
    free(wait_screen2(" Step 2/", "00000000: ", 20));
    /* The value of the last expression is echoed, as the REPL does, and
     * the memory pane shows what the entry did to the watched int. */
    keys(":");
    type("t = [2] * 1000; sys.getrefcount(2) > 1000");
    keys("Enter");
    char *s = wait_lines("True", 1, 20);
#if PY_VERSION_HEX < 0x030C0000
    /* (From 3.12 the entry's thousand references leave the immortal 2's
     * count as it was: nothing to show.) */
    ck_assert_ptr_nonnull(strstr(s, "after your entry"));
    ck_assert_ptr_nonnull(strstr(s, "* was"));
#endif
    free(s);
    /* A SyntaxError: once, without the host's frames. */
    keys(":");
    type("2 +* 2");
    keys("Enter");
    s = wait_screen("SyntaxError: invalid syntax", 20);
    const char *first = strstr(s, "SyntaxError");
    ck_assert_msg(strstr(first + 1, "SyntaxError") == NULL, "SyntaxError twice:\n%s", s);
    ck_assert_ptr_null(strstr(s, "ministry-host"));
    ck_assert_ptr_null(strstr(s, "During handling"));
    free(s);
    /* A block goes on until an empty line; the next line comes indented. */
    keys(":");
    type("for i in range(3):");
    keys("Enter");
    free(wait_screen("... ", 10));
    type("print(\"row\", i * 7)");
    keys("Enter");
    keys("Enter");
    s = wait_screen("row 14", 20);
    ck_assert_int_eq(count_lines(s, "row 7"), 1);
    ck_assert_int_eq(count_lines(s, "...     print(\"row\", i * 7)"), 1);
    free(s);
    /* A block dropped half typed says KeyboardInterrupt, as the REPL does. */
    keys(":");
    type("if True:");
    keys("Enter");
    free(wait_screen("... ", 10));
    keys("Escape");
    free(wait_lines("KeyboardInterrupt", 1, 10));
    /* help() is there. */
    keys(":");
    type("help(abs)");
    keys("Enter");
    free(wait_screen("Return the absolute value of the argument.", 20));
    keys("q");
    ck_assert_int_eq(wait_exit(20), 0);
}
END_TEST

START_TEST(test_e2e_sigint_sigterm)
{
    /* SIGINT from outside: a clean quit, status 0. */
    start(120, 40, "", "--stage 1");
    free(wait_screen("00000000: ", 20));
    ck_assert_int_eq(kill((pid_t)tui_pid(), SIGINT), 0);
    ck_assert_int_eq(wait_exit(10), 0);
    ck_assert_int_eq(alternate_on(), 0);
    tmux("kill-server");
    char *p = path_in("exit");
    unlink(p);
    free(p);
    /* SIGTERM: clean too, with the conventional 128 + 15. */
    start(120, 40, "", "--stage 1");
    free(wait_screen("00000000: ", 20));
    ck_assert_int_eq(kill((pid_t)tui_pid(), SIGTERM), 0);
    ck_assert_int_eq(wait_exit(10), 128 + SIGTERM);
    ck_assert_int_eq(alternate_on(), 0);
}
END_TEST

START_TEST(test_e2e_crash_restores_terminal)
{
    /* A crash of the TUI itself: the terminal comes back, then the signal
     * ends the process as it would have (128 + SIGSEGV from the shell). */
    start(120, 40, "", "--stage 1");
    free(wait_screen("00000000: ", 20));
    ck_assert_int_eq(alternate_on(), 1);
    ck_assert_int_eq(kill((pid_t)tui_pid(), SIGSEGV), 0);
    ck_assert_int_eq(wait_exit(10), 128 + SIGSEGV);
    ck_assert_int_eq(alternate_on(), 0);
}
END_TEST

START_TEST(test_e2e_worker_crash)
{
    /* The lesson's interpreter dies on a prompt entry (a NULL read through
     * ctypes): the TUI stays up, says so, and a fresh worker replays the
     * stage to the step it was at. */
    start(120, 40, "", "--stage 1 --step 2");
    free(wait_screen("Step 2/5", 20));
    keys(":");
    type("import ctypes; ctypes.string_at(0)");
    keys("Enter");
    char *s = wait_screen2("replayed stage 1 to where it was", "00000000: ", 30);
    ck_assert_ptr_nonnull(strstr(s, "SIGSEGV"));
    ck_assert_ptr_nonnull(strstr(s, "Step 2/5"));
    free(s);
    keys("n");
    free(wait_screen2("Step 3/5", "00000000: ", 20));
    ck_assert_int_eq(exited(), 0);

    /* A worker killed while idle is found dead at the next request. */
    /* The worker's command name: "ministry-worker-3.X", cut to 15. */
    long worker = child_named(tui_pid(), "(ministry-worke");
    ck_assert_int_gt(worker, 0);
    ck_assert_int_eq(kill((pid_t)worker, SIGKILL), 0);
    keys("n");
    s = wait_screen2("worker crashed", "SIGKILL", 20);
    free(s);
    ck_assert_int_eq(exited(), 0);
    keys("n");
    free(wait_screen2("Step 1/5", "00000000: ", 20));
    keys("q");
    ck_assert_int_eq(wait_exit(20), 0);
}
END_TEST

/* ---- overlays, export, learner mode ------------------------------------- */

START_TEST(test_e2e_help_blank_list)
{
    start(120, 40, "", "--stage 1");
    free(wait_screen("00000000: ", 20));
    keys("'?'");
    char *s = wait_screen("quit (everything is put back first)", 10);
    ck_assert_ptr_nonnull(strstr(s, "PgDn"));
    ck_assert_ptr_nonnull(strstr(s, "F5 Esc"));
    free(s);
    keys("x");           /* any key closes it, and does nothing else */
    s = wait_gone("put back first", 10);
    ck_assert_ptr_nonnull(strstr(s, "Step 1/5"));
    free(s);
    keys(".");
    s = wait_gone("Stage 1/", 10);
    ck_assert_msg(strstr(s, "0000") == NULL && strstr(s, "import") == NULL, "not blank:\n%s", s);
    free(s);
    keys("n");           /* unblanks, without moving on */
    s = wait_screen("Stage 1/", 10);
    ck_assert_ptr_nonnull(strstr(s, "Step 1/5"));
    free(s);
    keys("l");
    s = wait_screen("trampoline", 10);
    ck_assert_ptr_nonnull(strstr(s, "refcount"));
    free(s);
    keys("Down");
    keys("Enter");
    free(wait_screen2("Stage 2/", "Step 1/", 20));
}
END_TEST

START_TEST(test_e2e_export)
{
    start(120, 40, "", "--stage 1");
    free(wait_screen("00000000: ", 20));
    keys("e");
    free(wait_screen("export to: ./ministry-export", 10));
    keys("Enter");
    char *s = wait_screen("ministry-export/01-refcount", 20);
    ck_assert_msg(strstr(s, "exported") != NULL, "%s", s);
    free(s);
    char *pattern = mt_xasprintf("%s/ministry-export/01-refcount/*", dir);
    glob_t g;
    ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
    ck_assert_uint_ge(g.gl_pathc, 2);
    globfree(&g);
    free(pattern);
}
END_TEST

START_TEST(test_e2e_learner_resume)
{
    start(120, 40, "", "");
    free(wait_screen2("Welcome", "Opening", 20));
    keys("n");
    /* After the first key, the key hints take the welcome's place. */
    char *s = wait_screen2("Step 1/5", "n next", 20);
    ck_assert_ptr_null(strstr(s, "Welcome"));
    free(s);
    keys("n");
    free(wait_screen("Step 2/5", 20));
    keys("q");
    ck_assert_int_eq(wait_exit(20), 0);
    char *state = read_text("state/ministry-tutor/state");
    ck_assert_msg(state != NULL && strstr(state, "stage 1\nstep 2\n") != NULL, "%s",
                  state ? state : "(no state file)");
    free(state);
    tmux("kill-server");
    char *p = path_in("exit");
    unlink(p);
    free(p);

    /* The next run resumes there, with no welcome; finishing the stage
     * marks it done in the lesson list. */
    start(120, 40, "", "");
    s = wait_screen2("Step 2/5", "ctypes", 20);
    ck_assert_ptr_null(strstr(s, "Welcome"));
    free(s);
    keys("n n n n");
    free(wait_screen("End of stage 1", 30));
    keys("l");
    s = wait_screen("trampoline", 10);
    ck_assert_msg(strstr(s, "\xe2\x9c\x93 \xe2\x96\xb8 1") != NULL, "no done mark:\n%s", s);
    free(s);
    keys("Escape q");
    ck_assert_int_eq(wait_exit(20), 0);
    state = read_text("state/ministry-tutor/state");
    ck_assert_msg(strstr(state, "done 1\n") != NULL, "%s", state);
    free(state);
}
END_TEST

START_TEST(test_e2e_corrupt_state)
{
    char *sd = path_in("state/ministry-tutor");
    char *cmd = mt_xasprintf("mkdir -p '%s' && printf 'version 1\\nstage 9x\\n' > '%s/state'", sd,
                             sd);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(sd);
    start(120, 40, "", "");
    free(wait_screen2("Stage 1/", "Opening", 20));
    keys("q");
    ck_assert_int_eq(wait_exit(20), 0);
}
END_TEST

/* ---- no terminal: the plain text ----------------------------------------- */

START_TEST(test_e2e_plain_when_not_a_terminal)
{
    char *cmd = mt_xasprintf("'%s' --stage 1 < /dev/null 2>&1", bin);
    char *out = run_out(cmd);
    free(cmd);
    ck_assert_ptr_nonnull(strstr(out, "Stage 1/"));
    ck_assert_ptr_nonnull(strstr(out, "00000000: "));
    ck_assert_ptr_null(strchr(out, '\033'));
    free(out);
}
END_TEST

START_TEST(test_e2e_plain_when_term_dumb)
{
    /* In a real terminal, but TERM=dumb: every byte written is plain. */
    char *go = path_in("go");
    char *pre = mt_xasprintf("while [ ! -e '%s' ]; do sleep 0.05; done", go);
    start_full(120, 40, pre, "TERM=dumb", "--stage 1");
    char *raw = path_in("raw");
    ck_assert_int_eq(tmux("pipe-pane -o -t t 'cat > %s'", raw), 0);
    FILE *f = fopen(go, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(wait_exit(30), 0);
    free(wait_screen("00000000: ", 5));
    tmux("pipe-pane -t t");
    char *text = read_text("raw");
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(strstr(text, "Stage 1/"));
    ck_assert_ptr_nonnull(strstr(text, "00000000: "));
    ck_assert_msg(strchr(text, '\033') == NULL, "escape codes in TERM=dumb output");
    free(text);
    free(raw);
    free(pre);
    free(go);
}
END_TEST

Suite *
mt_tui_e2e_suite(void)
{
    Suite *s = suite_create("tui-e2e");
    TCase *tc = tcase_create("screen");
    tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, test_e2e_open_stage);
    tcase_add_test(tc, test_e2e_next_prev_keys);
    tcase_add_test(tc, test_e2e_prompt_history);
    tcase_add_test(tc, test_e2e_prompt_patched_stage5);
    tcase_add_test(tc, test_e2e_quit);
    tcase_add_test(tc, test_e2e_too_small_and_resize);
    tcase_add_test(tc, test_e2e_resize_layouts);
    tcase_add_test(tc, test_e2e_no_color);
    tcase_add_test(tc, test_e2e_ascii_locale);
    tcase_add_test(tc, test_e2e_themes);
    tcase_add_test(tc, test_e2e_goto_and_clock);
    tcase_add_test(tc, test_e2e_notes);
    tcase_add_test(tc, test_e2e_help_scrolls_context_keys);
    tcase_add_test(tc, test_e2e_zoom_collapse_sideways);
    tcase_add_test(tc, test_e2e_ctrl_c);
    tcase_add_test(tc, test_e2e_ctrl_c_while_running);
    tcase_add_test(tc, test_e2e_ctrl_c_uninterruptible);
    tcase_add_test(tc, test_e2e_prompt_like_python);
    tcase_add_test(tc, test_e2e_timeout);
    tcase_add_test(tc, test_e2e_sigint_sigterm);
    tcase_add_test(tc, test_e2e_crash_restores_terminal);
    tcase_add_test(tc, test_e2e_worker_crash);
    tcase_add_test(tc, test_e2e_help_blank_list);
    tcase_add_test(tc, test_e2e_export);
    tcase_add_test(tc, test_e2e_learner_resume);
    tcase_add_test(tc, test_e2e_corrupt_state);
    tcase_add_test(tc, test_e2e_plain_when_not_a_terminal);
    tcase_add_test(tc, test_e2e_plain_when_term_dumb);
    tcase_add_test(tc, test_e2e_change_in_sight);
    tcase_add_test(tc, test_e2e_binary_op_in_full);
    tcase_add_test(tc, test_e2e_ob_type_80x24);
    tcase_add_test(tc, test_e2e_side_by_side_change);
    suite_add_tcase(s, tc);
    /* Every step at each size: long, and slower still on a loaded machine. */
    tc = tcase_create("sweep");
    tcase_add_checked_fixture(tc, e2e_setup, e2e_teardown);
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, test_e2e_sweep_100x30);
    tcase_add_test(tc, test_e2e_sweep_80x24);
    tcase_add_test(tc, test_e2e_sweep_60x20);
    tcase_add_test(tc, test_e2e_sweep_120x40);
    suite_add_tcase(s, tc);
    return s;
}
