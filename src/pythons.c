/* pythons.c — finding the worker executables, one per CPython version, and
 * choosing the one a run uses. */
#include "pythons.h"
#include "util.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MT_LIBEXECDIR
#define MT_LIBEXECDIR "/usr/local/libexec/ministry-tutor"
#endif

#define WORKER_PREFIX "ministry-worker-"

/* The minor version in a worker's file name "ministry-worker-3.X", or -1. */
static int
minor_of(const char *name)
{
    if (strncmp(name, WORKER_PREFIX "3.", sizeof WORKER_PREFIX + 1) != 0) {
        return -1;
    }
    const char *p = name + sizeof WORKER_PREFIX + 1;
    char *end;
    if (*p < '0' || *p > '9') {
        return -1;
    }
    long m = strtol(p, &end, 10);
    return *end == '\0' && m < 1000 ? (int)m : -1;
}

/* "3.X" as a minor version, or -1 (anything else: "3", "3.x", "2.7 "). */
static int
parse_version(const char *s)
{
    if (s == NULL || strncmp(s, "3.", 2) != 0 || s[2] < '0' || s[2] > '9') {
        return -1;
    }
    char *end;
    long m = strtol(s + 2, &end, 10);
    return *end == '\0' && m < 1000 ? (int)m : -1;
}

static int
has_worker(const char *dir)
{
    DIR *d = opendir(dir);
    int found = 0;
    if (d == NULL) {
        return 0;
    }
    for (struct dirent *e; !found && (e = readdir(d)) != NULL;) {
        found = minor_of(e->d_name) >= 0;
    }
    closedir(d);
    return found;
}

char *
mt_pythons_dir(void)
{
    const char *env = getenv("MINISTRY_WORKER_DIR");
    if (env != NULL && *env != '\0') {
        return mt_xstrdup(env);
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash != NULL) {
            *slash = '\0';
            if (has_worker(self)) {
                return mt_xstrdup(self);
            }
            /* Installed under another prefix than the one built for:
             * PREFIX/bin/ministry-tutor beside PREFIX/libexec/. */
            char *beside = mt_xasprintf("%s/../libexec/ministry-tutor", self);
            if (has_worker(beside)) {
                return beside;
            }
            free(beside);
        }
    }
    return mt_xstrdup(MT_LIBEXECDIR);
}

static int
by_minor(const void *a, const void *b)
{
    return ((const mt_python *)a)->minor - ((const mt_python *)b)->minor;
}

size_t
mt_pythons_find(mt_python **v)
{
    char *dir = mt_pythons_dir();
    DIR *d = opendir(dir);
    size_t n = 0, cap = 0;
    *v = NULL;
    if (d != NULL) {
        for (struct dirent *e; (e = readdir(d)) != NULL;) {
            int m = minor_of(e->d_name);
            if (m < 0) {
                continue;
            }
            char *path = mt_xasprintf("%s/%s", dir, e->d_name);
            struct stat st;
            if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || access(path, X_OK) < 0) {
                free(path);
                continue;
            }
            if (n == cap) {
                cap = cap ? 2 * cap : 4;
                *v = mt_xrealloc(*v, cap * sizeof **v);
            }
            mt_python *p = &(*v)[n++];
            p->minor = m;
            snprintf(p->version, sizeof p->version, "3.%d", m);
            p->path = path;
        }
        closedir(d);
    }
    free(dir);
    if (n > 1) {
        qsort(*v, n, sizeof **v, by_minor);
    }
    return n;
}

void
mt_pythons_free(mt_python *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].path);
    }
    free(v);
}

char *
mt_pythons_names(const mt_python *v, size_t n)
{
    mt_str s = {0};
    for (size_t i = 0; i < n; i++) {
        mt_str_addf(&s, "%s%s", i ? ", " : "", v[i].version);
    }
    return n ? mt_str_take(&s) : mt_xstrdup("none");
}

const char *
mt_pythons_system(void)
{
    static char version[16];
    char target[PATH_MAX];
    ssize_t n = readlink("/usr/bin/python3", target, sizeof target - 1);
    if (n <= 0 || version[0] != '\0') {
        return version;
    }
    target[n] = '\0';
    const char *base = strrchr(target, '/');
    base = base ? base + 1 : target;
    if (strncmp(base, "python", 6) == 0 && parse_version(base + 6) >= 0) {
        snprintf(version, sizeof version, "%s", base + 6);
    }
    return version;
}

long
mt_pythons_choose(const mt_python *v, size_t n, const char *want, char **err)
{
    const char *env = getenv("MINISTRY_PYTHON");
    const char *asked = want ? want : (env && *env ? env : NULL);
    const char *from = want ? "--python" : "MINISTRY_PYTHON";
    if (asked == NULL) {
        int sys = parse_version(mt_pythons_system());
        for (size_t i = 0; i < n; i++) {
            if (v[i].minor == sys) {
                return (long)i;
            }
        }
        if (n > 0) {
            return (long)n - 1;
        }
        char *dir = mt_pythons_dir();
        *err = mt_xasprintf("no worker here (%s holds no ministry-worker-3.X): build one with "
                            "make, for a python3.X-dev that is installed", dir);
        free(dir);
        return -1;
    }
    int m = parse_version(asked);
    for (size_t i = 0; m >= 0 && i < n; i++) {
        if (v[i].minor == m) {
            return (long)i;
        }
    }
    char *names = mt_pythons_names(v, n);
    if (m < 0) {
        *err = mt_xasprintf("%s wants a version such as 3.13, not '%s'; available here: %s",
                            from, asked, names);
    } else if (m == 12) {
        *err = mt_xasprintf("%s 3.12: Debian packages no CPython 3.12 (bookworm has 3.11, "
                            "trixie 3.13, forky 3.13 to 3.15); available here: %s", from, names);
    } else if (m < 11) {
        *err = mt_xasprintf("%s %s: ministry-tutor works with CPython 3.11 and newer; "
                            "available here: %s", from, asked, names);
    } else {
        *err = mt_xasprintf("%s %s: no worker for CPython %s here (install python%s-dev, "
                            "python%s-dbg and libpython%s, then make); available here: %s",
                            from, asked, asked, asked, asked, asked, names);
    }
    free(names);
    return -1;
}
