/* state.c — the learner's progress file: found by the XDG rules, read
 * strictly (anything odd: ignored), written atomically. */
#include "state.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Larger than any state file this code writes. */
#define STATE_MAX_BYTES 32768

char *
mt_state_path(char **err)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    if (xdg != NULL && xdg[0] == '/') {
        return mt_xasprintf("%s/ministry-tutor/state", xdg);
    }
    const char *home = getenv("HOME");
    if (home != NULL && home[0] == '/') {
        return mt_xasprintf("%s/.local/state/ministry-tutor/state", home);
    }
    *err = mt_xstrdup("neither XDG_STATE_HOME nor HOME is an absolute path: "
                      "progress will not be saved");
    return NULL;
}

/* A decimal number in [lo, hi] that is the whole of s, or -1. */
static long
number(const char *s, long lo, long hi)
{
    if (*s < '0' || *s > '9' || strlen(s) > 6) {
        return -1;
    }
    char *end;
    long v = strtol(s, &end, 10);
    return *end == '\0' && v >= lo && v <= hi ? v : -1;
}

/* One "key value…" line into st; 0, or -1 when it is not one we wrote. */
static int
parse_line(char *line, mt_state *st, int *version)
{
    char *save = NULL;
    char *key = strtok_r(line, " ", &save);
    if (key == NULL || key[0] == '#') {
        return 0;
    }
    char *val = strtok_r(NULL, " ", &save);
    if (strcmp(key, "solved") == 0) {
        for (; val != NULL; val = strtok_r(NULL, " ", &save)) {
            char *dot = strchr(val, '.');
            if (dot == NULL) {
                return -1;
            }
            *dot = '\0';
            long n = number(val, 0, MT_STATE_MAX_STAGES - 1);
            long k = number(dot + 1, 1, MT_STATE_MAX_EXERCISES);
            if (n < 0 || k < 0) {
                return -1;
            }
            st->solved[n] |= (uint32_t)1 << (k - 1);
        }
        return 0;
    }
    if (strcmp(key, "done") == 0) {
        for (; val != NULL; val = strtok_r(NULL, " ", &save)) {
            long n = number(val, 0, MT_STATE_MAX_STAGES - 1);
            if (n < 0) {
                return -1;
            }
            st->done[n] = 1;
        }
        return 0;
    }
    if (val == NULL || strtok_r(NULL, " ", &save) != NULL) {
        return -1;
    }
    long n;
    if (strcmp(key, "version") == 0) {
        n = number(val, 1, 1);
        *version = (int)n;
    } else if (strcmp(key, "stage") == 0) {
        n = number(val, 0, MT_STATE_MAX_STAGES - 1);
        st->stage = (int)n;
    } else if (strcmp(key, "step") == 0) {
        n = number(val, 0, 100000);
        st->step = (int)n;
    } else {
        return -1;
    }
    return n < 0 ? -1 : 0;
}

int
mt_state_load(const char *path, mt_state *st)
{
    memset(st, 0, sizeof *st);
    char *text = NULL;
    size_t len = 0;
    if (path == NULL || mt_read_file(path, STATE_MAX_BYTES, &text, &len) < 0) {
        return -1;
    }
    int rc = 0, version = 0;
    if (memchr(text, '\0', len) != NULL) {
        rc = -1;
    }
    for (char *p = text; rc == 0 && *p;) {
        char *e = strchr(p, '\n');
        if (e == NULL) {
            rc = -1;              /* a file we wrote ends with a newline */
            break;
        }
        *e = '\0';
        rc = parse_line(p, st, &version);
        p = e + 1;
    }
    free(text);
    if (rc < 0 || version != 1) {
        memset(st, 0, sizeof *st);
        return -1;
    }
    return 0;
}

/* mkdir -p for the folders above path (mode 0700, as XDG asks). */
static int
make_parents(const char *path, char **err)
{
    char *dir = mt_xstrdup(path);
    int rc = 0;
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') {
            continue;
        }
        *p = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
            *err = mt_xasprintf("cannot create %s: %s", dir, strerror(errno));
            rc = -1;
            break;
        }
        *p = '/';
    }
    free(dir);
    return rc;
}

/* Write len bytes of data to path atomically: a temporary file in the
 * same folder, fsync, rename.  Returns 0, or -1 with a malloc'ed *err. */
static int
write_atomic(const char *path, const char *data, size_t len, char **err)
{
    int fd = -1, rc = -1;
    char *tmp = mt_xasprintf("%s.tmp.%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        *err = mt_xasprintf("cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            *err = mt_xasprintf("cannot write %s: %s", tmp, strerror(errno));
            goto out;
        }
        off += (size_t)n;
    }
    int synced = fsync(fd);
    int closed = close(fd);
    fd = -1;
    if (synced < 0 || closed < 0) {
        *err = mt_xasprintf("cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (rename(tmp, path) < 0) {
        *err = mt_xasprintf("cannot replace %s: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0) {
        close(fd);
    }
    if (rc < 0) {
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

int
mt_state_save(const char *path, const mt_state *st, char **err)
{
    int rc = -1;
    mt_str b = {0};

    if (make_parents(path, err) < 0) {
        goto out;
    }
    mt_state on_disk;
    if (mt_state_load(path, &on_disk) < 0) {
        memset(&on_disk, 0, sizeof on_disk);
    }
    mt_str_add(&b, "# ministry-tutor learner state\nversion 1\n");
    mt_str_addf(&b, "stage %d\nstep %d\ndone", st->stage, st->step);
    for (int n = 0; n < MT_STATE_MAX_STAGES; n++) {
        if (st->done[n]) {
            mt_str_addf(&b, " %d", n);
        }
    }
    mt_str_add(&b, "\nsolved");
    for (int n = 0; n < MT_STATE_MAX_STAGES; n++) {
        for (int k = 1; k <= MT_STATE_MAX_EXERCISES; k++) {
            if (mt_state_solved(st, n, k) || mt_state_solved(&on_disk, n, k)) {
                mt_str_addf(&b, " %d.%d", n, k);
            }
        }
    }
    mt_str_addc(&b, '\n');

    if (write_atomic(path, b.s, b.len, err) < 0) {
        goto out;
    }
    rc = 0;
out:
    free(b.s);
    return rc;
}

int
mt_state_solved(const mt_state *st, int n, int k)
{
    return n >= 0 && n < MT_STATE_MAX_STAGES && k >= 1 && k <= MT_STATE_MAX_EXERCISES
           && (st->solved[n] >> (k - 1) & 1);
}

int
mt_state_mark_solved(const char *path, int n, int k, char **err)
{
    mt_state st;
    if (n < 0 || n >= MT_STATE_MAX_STAGES || k < 1 || k > MT_STATE_MAX_EXERCISES) {
        *err = mt_xasprintf("exercise %d.%d cannot be recorded (stages 0-%d, exercises "
                            "1-%d)", n, k, MT_STATE_MAX_STAGES - 1, MT_STATE_MAX_EXERCISES);
        return -1;
    }
    mt_state_load(path, &st);     /* missing or corrupt: start from nothing */
    st.solved[n] |= (uint32_t)1 << (k - 1);
    return mt_state_save(path, &st, err);
}

/* ---- where the interface is, for --notes ------------------------------ */

char *
mt_state_position_path(char **err)
{
    char *state = mt_state_path(err);
    if (state == NULL) {
        return NULL;
    }
    char *slash = strrchr(state, '/');
    *slash = '\0';
    char *p = mt_xasprintf("%s/position", state);
    free(state);
    return p;
}

int
mt_state_position_save(const char *path, int stage, int step, char **err)
{
    if (make_parents(path, err) < 0) {
        return -1;
    }
    char *text = mt_xasprintf("# ministry-tutor position\nstage %d\nstep %d\n", stage, step);
    int rc = write_atomic(path, text, strlen(text), err);
    free(text);
    return rc;
}

int
mt_state_position_load(const char *path, int *stage, int *step)
{
    char *text = NULL;
    size_t len;
    if (path == NULL || mt_read_file(path, 4096, &text, &len) < 0) {
        return -1;
    }
    int n = -1, k = -1;
    int ok = sscanf(text, "# ministry-tutor position\nstage %d\nstep %d\n", &n, &k) == 2
             && n >= 0 && n < MT_STATE_MAX_STAGES && k >= 0;
    free(text);
    if (!ok) {
        return -1;
    }
    *stage = n;
    *step = k;
    return 0;
}

int
mt_state_dir_ensure(const char *path, char **err)
{
    return make_parents(path, err);
}
