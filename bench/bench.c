/* bench.c — the benchmark's timer: commands run side by side in alternating
 * rounds, wall time, CPU time and peak memory taken from wait4, medians. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Usage:
 *   bench [-n ROUNDS] [-w WARMUP] [-r RAWFILE] NAME=COMMAND ...
 *       Every round runs every command once, in an order that rotates from
 *       round to round (so each command is first equally often); WARMUP
 *       untimed rounds come first.  COMMAND is split on spaces and run
 *       directly (no shell), stdin and stdout on /dev/null.  Prints one
 *       tab-separated line per command:
 *         name runs fails wall_med wall_p25 wall_p75 wall_min cpu_med
 *         rss_med rss_max
 *       (times in ms, rss in KiB: ru_maxrss of wait4, the figure GNU time
 *       prints as "Maximum resident set size").  RAWFILE gets every sample.
 *   bench -t NAME=COMMAND
 *       Runs the command once while sampling, every millisecond, the
 *       VmHWM of it and of every descendant; prints one line per process
 *       (pid, name, peak KiB) and their sum.
 * Exit status 0, 1 when a command failed, 2 on bad usage. */

#define MAX_CMDS 16
#define MAX_ARGS 32
#define MAX_ROUNDS 1000

typedef struct cmd {
    const char *name;
    char *argv[MAX_ARGS];
    double wall[MAX_ROUNDS], cpu[MAX_ROUNDS];
    long rss[MAX_ROUNDS];
    int runs, fails;
    char errtail[640];
} cmd;

static cmd cmds[MAX_CMDS];
static int ncmds;

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
parse_cmd(cmd *c, char *spec)
{
    char *eq = strchr(spec, '=');
    if (eq == NULL) {
        return -1;
    }
    *eq = '\0';
    c->name = spec;
    int n = 0;
    for (char *tok = strtok(eq + 1, " "); tok != NULL; tok = strtok(NULL, " ")) {
        if (n == MAX_ARGS - 1) {
            return -1;
        }
        c->argv[n++] = tok;
    }
    c->argv[n] = NULL;
    return n > 0 ? 0 : -1;
}

/* Start c with stdin/stdout on /dev/null and stderr into errfd. */
static pid_t
spawn(const cmd *c, int errfd)
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(errfd >= 0 ? errfd : null, 2);
        execvp(c->argv[0], c->argv);
        fprintf(stderr, "exec %s: %s\n", c->argv[0], strerror(errno));
        _exit(127);
    }
    return pid;
}

/* One timed run of c; records it unless warmup. */
static void
run_once(cmd *c, int warmup, FILE *raw)
{
    int errfd = memfd_create("bench-stderr", MFD_CLOEXEC);
    struct rusage ru;
    int status = 0;
    double t0 = now_ms();
    pid_t pid = spawn(c, errfd);
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
    }
    double wall = now_ms() - t0;
    double cpu = ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3
                 + ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
    int failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    if (failed && c->errtail[0] == '\0') {
        /* The first failure: how it ended, and the end of its stderr. */
        int h = WIFSIGNALED(status)
                    ? snprintf(c->errtail, sizeof c->errtail, "killed by signal %d; stderr:\n",
                               WTERMSIG(status))
                    : snprintf(c->errtail, sizeof c->errtail, "exit status %d; stderr:\n",
                               WEXITSTATUS(status));
        size_t room = sizeof c->errtail - (size_t)h - 1;
        off_t end = lseek(errfd, 0, SEEK_END);
        off_t from = end > (off_t)room ? end - (off_t)room : 0;
        ssize_t n = pread(errfd, c->errtail + h, room, from);
        c->errtail[h + (n > 0 ? n : 0)] = '\0';
    }
    close(errfd);
    if (warmup) {
        return;
    }
    if (c->runs < MAX_ROUNDS) {
        c->wall[c->runs] = wall;
        c->cpu[c->runs] = cpu;
        c->rss[c->runs] = ru.ru_maxrss;
        c->runs++;
    }
    c->fails += failed;
    if (raw != NULL) {
        fprintf(raw, "%s\t%.3f\t%.3f\t%ld\t%d\n", c->name, wall, cpu, ru.ru_maxrss, failed);
    }
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (0..1) of v[0..n), by linear interpolation; v is sorted. */
static double
quantile(double *v, int n, double q)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double pos = q * (n - 1);
    int i = (int)pos;
    double frac = pos - i;
    return i + 1 < n ? v[i] * (1 - frac) + v[i + 1] * frac : v[i];
}

static void
summary(cmd *c)
{
    double rss[MAX_ROUNDS];
    long rmax = 0;
    for (int i = 0; i < c->runs; i++) {
        rss[i] = (double)c->rss[i];
        rmax = c->rss[i] > rmax ? c->rss[i] : rmax;
    }
    printf("%s\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t%ld\n", c->name, c->runs, c->fails,
           quantile(c->wall, c->runs, 0.5), quantile(c->wall, c->runs, 0.25),
           quantile(c->wall, c->runs, 0.75), quantile(c->wall, c->runs, 0.0),
           quantile(c->cpu, c->runs, 0.5), quantile(rss, c->runs, 0.5), rmax);
}

/* ---- -t: peak memory of every process in the tree ----------------------- */

typedef struct proc_peak {
    int pid;
    char name[32];
    long hwm;
} proc_peak;

static long
status_field(int pid, const char *key, char *name, size_t nn)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        if (name != NULL && strncmp(line, "Name:", 5) == 0) {
            snprintf(name, nn, "%s", line + 5 + strspn(line + 5, " \t"));
            name[strcspn(name, "\n")] = '\0';
        }
        if (strncmp(line, key, strlen(key)) == 0) {
            v = strtol(line + strlen(key), NULL, 10);
        }
    }
    fclose(f);
    return v;
}

static int
parent_of(int pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        return -1;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) {
        return -1;
    }
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    int ppid = -1;
    if (p == NULL || sscanf(p + 2, "%*c %d", &ppid) != 1) {
        return -1;
    }
    return ppid;
}

static int
tree_rss(cmd *c)
{
    proc_peak peaks[64];
    int np = 0;
    pid_t root = spawn(c, -1);
    int status = 0;
    for (;;) {
        /* Sample before reaping: a zombie has no memory left to read. */
        int known[64], nk = 0;
        known[nk++] = root;
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d != NULL && (e = readdir(d)) != NULL && nk < 64) {
            int pid = atoi(e->d_name);
            if (pid <= 0 || pid == root) {
                continue;
            }
            int pp = parent_of(pid);
            for (int i = 0; i < nk; i++) {
                if (pp == known[i]) {
                    known[nk++] = pid;
                    break;
                }
            }
        }
        if (d != NULL) {
            closedir(d);
        }
        for (int i = 0; i < nk; i++) {
            char name[32] = "";
            long hwm = status_field(known[i], "VmHWM:", name, sizeof name);
            if (hwm < 0) {
                continue;
            }
            int j = 0;
            while (j < np && peaks[j].pid != known[i]) {
                j++;
            }
            if (j == np && np < 64) {
                peaks[np].pid = known[i];
                peaks[np].hwm = 0;
                np++;
            }
            if (j < np && hwm >= peaks[j].hwm) {
                peaks[j].hwm = hwm;
                snprintf(peaks[j].name, sizeof peaks[j].name, "%s", name);
            }
        }
        int r = waitpid(root, &status, WNOHANG);
        if (r == root) {
            break;
        }
        usleep(1000);
    }
    long sum = 0;
    for (int i = 0; i < np; i++) {
        printf("%d\t%s\t%ld\n", peaks[i].pid, peaks[i].name, peaks[i].hwm);
        sum += peaks[i].hwm;
    }
    printf("sum\t%d processes\t%ld\n", np, sum);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
    int rounds = 20, warmup = 2, tree = 0, opt;
    const char *rawpath = NULL;
    while ((opt = getopt(argc, argv, "n:w:r:t")) != -1) {
        switch (opt) {
        case 'n': rounds = atoi(optarg); break;
        case 'w': warmup = atoi(optarg); break;
        case 'r': rawpath = optarg; break;
        case 't': tree = 1; break;
        default:
            fprintf(stderr, "usage: bench [-n ROUNDS] [-w WARMUP] [-r RAW] NAME=CMD ...\n"
                            "       bench -t NAME=CMD\n");
            return 2;
        }
    }
    if (rounds < 1 || rounds > MAX_ROUNDS || warmup < 0 || optind >= argc) {
        fprintf(stderr, "bench: need 1..%d rounds and at least one NAME=CMD\n", MAX_ROUNDS);
        return 2;
    }
    for (int i = optind; i < argc && ncmds < MAX_CMDS; i++) {
        if (parse_cmd(&cmds[ncmds], argv[i]) < 0) {
            fprintf(stderr, "bench: bad command '%s' (NAME=PROGRAM ARGS...)\n", argv[i]);
            return 2;
        }
        ncmds++;
    }
    signal(SIGPIPE, SIG_IGN);
    if (tree) {
        return tree_rss(&cmds[0]);
    }
    FILE *raw = rawpath != NULL ? fopen(rawpath, "w") : NULL;
    for (int r = 0; r < warmup + rounds; r++) {
        for (int k = 0; k < ncmds; k++) {
            run_once(&cmds[(r + k) % ncmds], r < warmup, raw);
        }
    }
    if (raw != NULL) {
        fclose(raw);
    }
    int bad = 0;
    for (int k = 0; k < ncmds; k++) {
        summary(&cmds[k]);
        if (cmds[k].fails > 0) {
            fprintf(stderr, "bench: %s failed %d of %d times; the first: %s\n", cmds[k].name,
                    cmds[k].fails, cmds[k].runs, cmds[k].errtail);
            bad = 1;
        }
    }
    return bad;
}
