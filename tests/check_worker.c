/* check_worker.c — the frontend and its worker end to end: walks of any
 * length and result size finish (no deadlock), signals end every walking
 * mode with 128 + the signal and leave no process behind, deaths are named
 * by how they happened, and a worker that breaks the protocol is ended. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

/* ---- helpers ------------------------------------------------------------ */

static char *
make_tmp(void)
{
    char tmpl[] = "/tmp/mt-worker-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    return mt_xstrdup(tmpl);
}

static void
put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* A lesson file dir/NN-sN.py of nsteps code cells, each with the metadata
 * cell_meta and the code `code`. */
static void
put_lesson(const char *dir, int stage, int nsteps, const char *cell_meta, const char *code)
{
    mt_str s = {0};
    mt_str_addf(&s, "# ---\n# title: Stage %d\n# ---\n", stage);
    for (int i = 1; i <= nsteps; i++) {
        mt_str_addf(&s, "# %%%% s%d %s\n%s\n", i, cell_meta, code);
    }
    char *path = mt_xasprintf("%s/%02d-s%d.py", dir, stage, stage);
    put_file(path, s.s);
    free(path);
    free(s.s);
}

static char *
slurp(const char *path)
{
    char *s = NULL;
    size_t n;
    if (mt_read_file(path, (size_t)128 << 20, &s, &n) < 0) {
        return mt_xstrdup("");
    }
    return s;
}

/* Start "$MT_BIN args" with stdout and stderr into dir/out and dir/err. */
static pid_t
spawn(const char *dir, const char *args)
{
    const char *bin = getenv("MT_BIN");
    char *cmd = mt_xasprintf("exec %s %s >%s/out 2>%s/err </dev/null",
                             bin ? bin : "build/ministry-tutor", args, dir, dir);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    free(cmd);
    return pid;
}

/* Wait up to secs for pid; its exit status (128 + signal when killed).
 * Past the limit it is killed and the test fails: a hang. */
static int
finish_within(pid_t pid, double secs, const char *what)
{
    double t0 = mt_now();
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        if (mt_now() - t0 > secs) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            ck_abort_msg("%s: still running after %g s", what, secs);
        }
        usleep(20000);
    }
}

/* Whether pid is a live process (not a zombie). */
static int
alive(pid_t pid)
{
    char *path = mt_xasprintf("/proc/%d/stat", (int)pid);
    char *st = slurp(path);
    free(path);
    const char *paren = strrchr(st, ')');
    int live = paren != NULL && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
    free(st);
    return live;
}

/* Wait up to secs for every pid to be gone. */
static int
gone_within(const pid_t *pids, int n, double secs)
{
    double t0 = mt_now();
    for (;;) {
        int any = 0;
        for (int i = 0; i < n; i++) {
            any |= alive(pids[i]);
        }
        if (!any) {
            return 1;
        }
        if (mt_now() - t0 > secs) {
            return 0;
        }
        usleep(20000);
    }
}

/* Wait for a step to write "worker-pid child-pid" into path. */
static void
read_pids(const char *path, pid_t pids[2])
{
    double t0 = mt_now();
    for (;;) {
        char *s = slurp(path);
        int a = 0, b = 0;
        int got = sscanf(s, "%d %d\n", &a, &b);
        int whole = strchr(s, '\n') != NULL;
        free(s);
        if (got == 2 && whole) {
            pids[0] = a;
            pids[1] = b;
            return;
        }
        ck_assert_msg(mt_now() - t0 < 30, "the step never wrote %s", path);
        usleep(20000);
    }
}

static void
rm_rf(const char *dir)
{
    char *cmd = mt_xasprintf("rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

static int
count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) {
        n++;
    }
    return n;
}

/* ---- walks of any length ------------------------------------------------------ */

/* 7 stages x 60 steps: past ~200 queued requests both processes used to
 * block in send, for ever. */
START_TEST(test_walk_many_steps)
{
    char *dir = make_tmp();
    char *les = mt_xasprintf("%s/lessons", dir);
    ck_assert_int_eq(mkdir(les, 0777), 0);
    for (int s = 1; s <= 7; s++) {
        put_lesson(les, s, 60, "", "x = 1");
    }
    char *args = mt_xasprintf("--plain --lessons %s", les);
    int rc = finish_within(spawn(dir, args), 60, "--plain over 7 x 60 steps");
    char *out = mt_xasprintf("%s/out", dir);
    char *text = slurp(out);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(count(text, "/60: s"), 420);
    free(text);
    free(args);
    args = mt_xasprintf("--export %s/x --format json --lessons %s", dir, les);
    rc = finish_within(spawn(dir, args), 60, "--export over 7 x 60 steps");
    ck_assert_int_eq(rc, 0);
    free(args);
    free(out);
    free(les);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* Results big enough that a few of them fill the socket: 200 steps of
 * 300 KB of output each, and 200 steps that each watch the largest region
 * a watch may ask for. */
START_TEST(test_walk_big_results)
{
    char *dir = make_tmp();
    char *les = mt_xasprintf("%s/lessons", dir);
    ck_assert_int_eq(mkdir(les, 0777), 0);
    put_lesson(les, 1, 200, "", "print('x' * 300000)");
    put_lesson(les, 2, 200,
               "watch=[\"id(globals().setdefault('buf', bytearray(1 << 20))):raw:1048576\"]",
               "buf[7] += 1");
    char *args = mt_xasprintf("--plain --stage 1 --lessons %s", les);
    int rc = finish_within(spawn(dir, args), 60, "--plain over 200 x 300 KB");
    ck_assert_int_eq(rc, 0);
    char *out = mt_xasprintf("%s/out", dir);
    struct stat st;
    ck_assert_int_eq(stat(out, &st), 0);
    ck_assert_int_ge(st.st_size, 200 * 300000);
    free(args);
    args = mt_xasprintf("--plain --stage 2 --lessons %s", les);
    rc = finish_within(spawn(dir, args), 60, "--plain over 200 big regions");
    char *text = slurp(out);
    ck_assert_int_eq(count(text, "raw · after"), 200);
    free(text);
    free(args);
    /* (Leaving stage 2 finds the heap around buf changed, which --export
     * refuses: stage 1 is the export's big walk.) */
    args = mt_xasprintf("--export %s/x --stage 1 --format txt --lessons %s", dir, les);
    rc = finish_within(spawn(dir, args), 120, "--export over 200 x 300 KB");
    ck_assert_int_eq(rc, 0);
    free(args);
    free(out);
    free(les);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* ---- signals -------------------------------------------------------------------- */

/* A step that forks a child and sleeps, both long; pids into dir/pids. */
static const char sleeper[] =
    "import os, time\n"
    "child = os.fork()\n"
    "if child == 0:\n"
    "    time.sleep(120)\n"
    "    os._exit(0)\n"
    "with open(os.environ['MT_TEST_PIDS'] + '.tmp', 'w') as f:\n"
    "    f.write(f'{os.getpid()} {child}\\n')\n"
    "os.rename(os.environ['MT_TEST_PIDS'] + '.tmp', os.environ['MT_TEST_PIDS'])\n"
    "time.sleep(120)";

/* SIGINT and SIGTERM end --plain and --export at once, with 130 and 143,
 * and neither the worker nor a child its step forked is left. */
START_TEST(test_signal_ends_walk)
{
    static const struct {
        int export;
        int sig;
    } cases[] = {
        {0, SIGINT}, {0, SIGTERM}, {1, SIGINT}, {1, SIGTERM}, {0, SIGHUP},
    };
    int i = _i;
    char *dir = make_tmp();
    char *les = mt_xasprintf("%s/lessons", dir);
    ck_assert_int_eq(mkdir(les, 0777), 0);
    put_lesson(les, 1, 2, "timeout=300", sleeper);
    char *pids_path = mt_xasprintf("%s/pids", dir);
    setenv("MT_TEST_PIDS", pids_path, 1);
    char *mode = cases[i].export ? mt_xasprintf("--export %s/x", dir) : mt_xstrdup("--plain");
    char *args = mt_xasprintf("%s --lessons %s", mode, les);
    pid_t fe = spawn(dir, args);
    pid_t pids[2];
    read_pids(pids_path, pids);
    ck_assert(alive(pids[0]) && alive(pids[1]));
    double t0 = mt_now();
    kill(fe, cases[i].sig);
    int rc = finish_within(fe, 10, "the frontend after a signal");
    ck_assert_int_eq(rc, 128 + cases[i].sig);
    ck_assert_msg(mt_now() - t0 < 3, "ending took %g s", mt_now() - t0);
    ck_assert_msg(gone_within(pids, 2, 2), "worker %d or its child %d outlived the frontend",
                  (int)pids[0], (int)pids[1]);
    char *errp = mt_xasprintf("%s/err", dir);
    char *err = slurp(errp);
    ck_assert_msg(strstr(err, "interrupted in stage 1") != NULL, "stderr: %s", err);
    free(err);
    free(errp);
    unsetenv("MT_TEST_PIDS");
    free(mode);
    free(args);
    free(pids_path);
    free(les);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* ---- deaths, named by how they happened ------------------------------------- */

/* The step forks a child that holds the socket open, then segfaults: the
 * report is the SIGSEGV, at once (not a time-out seconds later), and the
 * child goes with the worker's process group. */
START_TEST(test_fork_then_segfault)
{
    char *dir = make_tmp();
    char *les = mt_xasprintf("%s/lessons", dir);
    ck_assert_int_eq(mkdir(les, 0777), 0);
    char *pids_path = mt_xasprintf("%s/pids", dir);
    char *code = mt_xasprintf("import os, time, ctypes\n"
                              "child = os.fork()\n"
                              "if child == 0:\n"
                              "    time.sleep(120)\n"
                              "    os._exit(0)\n"
                              "open('%s', 'w').write(f'{os.getpid()} {child}\\n')\n"
                              "ctypes.string_at(8)",
                              pids_path);
    put_lesson(les, 1, 1, "timeout=30", code);
    char *args = mt_xasprintf("--plain --lessons %s", les);
    double t0 = mt_now();
    int rc = finish_within(spawn(dir, args), 20, "--plain, fork then SIGSEGV");
    double secs = mt_now() - t0;
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(secs < 5, "the death took %g s to be seen", secs);
    pid_t pids[2];
    read_pids(pids_path, pids);
    ck_assert_msg(gone_within(pids, 2, 2), "the forked child %d outlived its worker",
                  (int)pids[1]);
    char *p = mt_xasprintf("%s/out", dir);
    char *out = slurp(p);
    ck_assert_msg(strstr(out, "killed by signal 11 (SIGSEGV") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "time limit") == NULL, "%s", out);
    free(out);
    free(p);
    free(args);
    free(code);
    free(pids_path);
    free(les);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* A step writes a forged frame header to the worker's socket: the frontend
 * neither allocates what it claims nor waits for it; it says "protocol
 * error" and ends that worker. */
START_TEST(test_forged_header)
{
    static const char *const claims[] = {"200 << 20", "0xffffffff"};
    char *dir = make_tmp();
    char *les = mt_xasprintf("%s/lessons", dir);
    ck_assert_int_eq(mkdir(les, 0777), 0);
    char *code = mt_xasprintf("import os, stat, struct\n"
                              "for fd in range(3, 256):\n"
                              "    try:\n"
                              "        if stat.S_ISSOCK(os.fstat(fd).st_mode):\n"
                              "            os.write(fd, struct.pack('<I', %s))\n"
                              "    except OSError:\n"
                              "        pass",
                              claims[_i]);
    put_lesson(les, 1, 2, "", code);
    char *args = mt_xasprintf("--plain --lessons %s", les);
    double t0 = mt_now();
    int rc = finish_within(spawn(dir, args), 30, "--plain after a forged header");
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(mt_now() - t0 < 10, "took %g s", mt_now() - t0);
    char *p = mt_xasprintf("%s/out", dir);
    char *out = slurp(p);
    ck_assert_msg(strstr(out, "Protocol error from the worker") != NULL, "%s", out);
    free(p);
    p = mt_xasprintf("%s/err", dir);
    char *err = slurp(p);
    ck_assert_msg(strstr(err, "broke the protocol") != NULL, "%s", err);
    free(err);
    free(out);
    free(p);
    free(args);
    free(code);
    free(les);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* A result over the wire limit (a 300 MB print) is reported as such, not
 * as a worker that died idle with status 0. */
START_TEST(test_result_over_limit)
{
    char *dir = make_tmp();
    char *les = mt_xasprintf("%s/lessons", dir);
    ck_assert_int_eq(mkdir(les, 0777), 0);
    put_lesson(les, 1, 1, "", "print('x' * 300_000_000)");
    char *args = mt_xasprintf("--plain --lessons %s", les);
    int rc = finish_within(spawn(dir, args), 60, "--plain of a 300 MB print");
    ck_assert_int_eq(rc, 1);
    char *p = mt_xasprintf("%s/out", dir);
    char *out = slurp(p);
    ck_assert_msg(strstr(out, "more than the 256 MiB a result may be") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "idle") == NULL, "%s", out);
    free(out);
    free(p);
    free(args);
    free(les);
    rm_rf(dir);
    free(dir);
}
END_TEST


/* ---- --run -------------------------------------------------------------------- */

/* A --run script that loops for ever after forking a child: SIGTERM to the
 * frontend ends it with 143 and takes the worker and its child; SIGKILL to
 * the frontend still takes the worker (parent-death signal). */
START_TEST(test_run_dies_with_frontend)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGKILL};
    int sig = sigs[_i];
    char *dir = make_tmp();
    char *pids_path = mt_xasprintf("%s/pids", dir);
    char *script = mt_xasprintf("%s/loop.py", dir);
    char *code = mt_xasprintf("import os, time\n"
                              "child = os.fork()\n"
                              "if child == 0:\n"
                              "    time.sleep(120)\n"
                              "    os._exit(0)\n"
                              "open('%s.tmp', 'w').write(f'{os.getpid()} {child}\\n')\n"
                              "os.rename('%s.tmp', '%s')\n"
                              "while True:\n"
                              "    pass\n",
                              pids_path, pids_path, pids_path);
    put_file(script, code);
    char *args = mt_xasprintf("--run %s", script);
    pid_t fe = spawn(dir, args);
    pid_t pids[2];
    read_pids(pids_path, pids);
    kill(fe, sig);
    int rc = finish_within(fe, 10, "--run after a signal to the frontend");
    ck_assert_int_eq(rc, 128 + sig);
    ck_assert_msg(gone_within(pids, sig == SIGKILL ? 1 : 2, 3),
                  "the worker %d (or its child %d) outlived the frontend", (int)pids[0],
                  (int)pids[1]);
    if (sig == SIGKILL) {
        kill(pids[1], SIGKILL);     /* a killed frontend cannot take the child */
    }
    free(args);
    free(code);
    free(script);
    free(pids_path);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* Exit statuses and what is printed for them, as /usr/bin/python3.11
 * gives them for the same file. */
START_TEST(test_run_exit_status_as_python)
{
    static const char *const bodies[] = {
        "sys.exit(())", "sys.exit((3,))", "sys.exit(3)", "sys.exit('bye')", "sys.exit(None)",
        "raise SystemExit", "raise SystemExit(())", "sys.exit(-1)", "sys.exit([2])", "1 / 0",
        "try:\n    sys.exit(())\nexcept SystemExit:\n    raise",
    };
    const char *py = "/usr/bin/python3.11";
    if (access(py, X_OK) != 0) {
        return;
    }
    char *dir = make_tmp();
    char *script = mt_xasprintf("%s/exit.py", dir);
    char *body = mt_xasprintf("import sys\n%s\n", bodies[_i]);
    put_file(script, body);
    char *args = mt_xasprintf("--run %s", script);
    int mt = finish_within(spawn(dir, args), 30, "--run");
    char *errp = mt_xasprintf("%s/err", dir);
    char *mt_err = slurp(errp);
    char *cmd = mt_xasprintf("%s %s >/dev/null 2>%s", py, script, errp);
    int st = system(cmd);
    int want = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    char *py_err = slurp(errp);
    ck_assert_msg(mt == want, "%s: status %d, python3.11 gives %d", bodies[_i], mt, want);
    ck_assert_msg(strcmp(mt_err, py_err) == 0, "%s: stderr\n%s\nnot as python3.11's\n%s",
                  bodies[_i], mt_err, py_err);
    free(cmd);
    free(py_err);
    free(mt_err);
    free(errp);
    free(args);
    free(body);
    free(script);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* --run ends as python3 ends: atexit handlers run, a non-daemon thread
 * finishes, a file left unclosed is flushed. */
START_TEST(test_run_finalises)
{
    char *dir = make_tmp();
    char *script = mt_xasprintf("%s/fin.py", dir);
    char *data = mt_xasprintf("%s/unclosed.txt", dir);
    char *code = mt_xasprintf("import atexit, threading, time\n"
                              "atexit.register(lambda: print('atexit ran'))\n"
                              "def late():\n"
                              "    time.sleep(0.3)\n"
                              "    print('thread done')\n"
                              "threading.Thread(target=late).start()\n"
                              "f = open('%s', 'w')\n"
                              "f.write('unclosed data\\n')\n",
                              data);
    put_file(script, code);
    char *args = mt_xasprintf("--run %s", script);
    ck_assert_int_eq(finish_within(spawn(dir, args), 30, "--run"), 0);
    char *outp = mt_xasprintf("%s/out", dir);
    char *out = slurp(outp);
    ck_assert_str_eq(out, "thread done\natexit ran\n");
    char *d = slurp(data);
    ck_assert_str_eq(d, "unclosed data\n");
    free(d);
    free(out);
    free(outp);
    free(args);
    free(code);
    free(data);
    free(script);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* The teardown after the program gets a step's time limit: an atexit
 * handler that never returns ends the run with 1 and a line saying so,
 * after the handlers before it ran; threads are waited for as python3
 * does, whatever the limit. */
START_TEST(test_run_teardown_bounded)
{
    char *dir = make_tmp();
    char *script = mt_xasprintf("%s/hang.py", dir);
    put_file(script, "import atexit, threading, time\n"
                     "atexit.register(lambda: [None for _ in iter(int, 1)])\n"
                     "atexit.register(lambda: print('last handler ran', flush=True))\n"
                     "threading.Thread(target=lambda: (time.sleep(1.5), print('thread done',"
                     " flush=True))).start()\n");
    char *args = mt_xasprintf("--run %s", script);
    setenv("MINISTRY_STEP_TIMEOUT", "1", 1);
    double t0 = mt_now();
    int rc = finish_within(spawn(dir, args), 30, "--run with a hanging atexit handler");
    double secs = mt_now() - t0;
    unsetenv("MINISTRY_STEP_TIMEOUT");
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(secs >= 2.4 && secs < 10, "took %g s", secs);
    char *p = mt_xasprintf("%s/out", dir);
    char *out = slurp(p);
    ck_assert_str_eq(out, "thread done\nlast handler ran\n");
    free(p);
    p = mt_xasprintf("%s/err", dir);
    char *err = slurp(p);
    ck_assert_msg(strstr(err, "did not finish shutting down within its time limit") != NULL,
                  "%s", err);
    free(err);
    free(out);
    free(p);
    free(args);
    free(script);
    rm_rf(dir);
    free(dir);
}
END_TEST

/* On a terminal the script's process group holds it, as a shell gives it
 * to a job: input() reads what is typed, and Ctrl-C ends the script with
 * 130 (script(1) gives the run a pseudo-terminal). */
START_TEST(test_run_on_a_terminal)
{
    if (system("command -v script >/dev/null 2>&1") != 0) {
        return;
    }
    char *dir = make_tmp();
    char *in = mt_xasprintf("%s/in.py", dir), *loop = mt_xasprintf("%s/loop.py", dir);
    put_file(in, "x = input('name? ')\nprint('hello', x)\n");
    put_file(loop, "import time\nprint('looping', flush=True)\nwhile True:\n    time.sleep(0.1)\n");
    const char *bin = getenv("MT_BIN");
    static const struct {
        const char *script, *keys, *want;
    } cases[] = {
        {"in.py", "abc\\n", "hello abc\r\nrc=0"},
        {"loop.py", "\\003", "rc=130"},
    };
    for (int i = 0; i < 2; i++) {
        char *cmd = mt_xasprintf("cd %s && (sleep 1.5; printf '%s'; sleep 1) | timeout -s KILL 30 "
                                 "script -qfc '%s --run %s; echo rc=$?' /dev/null >tty.out",
                                 dir, cases[i].keys, bin ? bin : "build/ministry-tutor",
                                 cases[i].script);
        ck_assert_int_eq(system(cmd), 0);
        char *p = mt_xasprintf("%s/tty.out", dir);
        char *out = slurp(p);
        ck_assert_msg(strstr(out, cases[i].want) != NULL, "%s: '%s' not in:\n%s",
                      cases[i].script, cases[i].want, out);
        free(out);
        free(p);
        free(cmd);
    }
    free(in);
    free(loop);
    rm_rf(dir);
    free(dir);
}
END_TEST

Suite *
mt_worker_suite(void)
{
    Suite *s = suite_create("worker");
    TCase *walk = tcase_create("walk");
    tcase_set_timeout(walk, 300);
    tcase_add_test(walk, test_walk_many_steps);
    tcase_add_test(walk, test_walk_big_results);
    suite_add_tcase(s, walk);
    TCase *sig = tcase_create("signals");
    tcase_set_timeout(sig, 120);
    tcase_add_loop_test(sig, test_signal_ends_walk, 0, 5);
    suite_add_tcase(s, sig);
    TCase *death = tcase_create("deaths");
    tcase_set_timeout(death, 120);
    tcase_add_test(death, test_fork_then_segfault);
    tcase_add_loop_test(death, test_forged_header, 0, 2);
    tcase_add_test(death, test_result_over_limit);
    suite_add_tcase(s, death);
    TCase *run = tcase_create("run");
    tcase_set_timeout(run, 120);
    tcase_add_loop_test(run, test_run_dies_with_frontend, 0, 3);
    tcase_add_loop_test(run, test_run_exit_status_as_python, 0, 11);
    tcase_add_test(run, test_run_finalises);
    tcase_add_test(run, test_run_on_a_terminal);
    tcase_add_test(run, test_run_teardown_bounded);
    suite_add_tcase(s, run);
    return s;
}
