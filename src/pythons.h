/* pythons.h — the CPython versions there is a worker for, and which one a
 * run uses.  The frontend's side: it reads file names, it loads no
 * libpython. */
#ifndef MT_PYTHONS_H
#define MT_PYTHONS_H

#include <stddef.h>

/* One worker executable, "ministry-worker-3.X": built against CPython 3.X
 * and linked with its libpython. */
typedef struct mt_python {
    int minor;                 /* the X of 3.X */
    char version[16];          /* "3.14" */
    char *path;                /* the executable; malloc'ed */
} mt_python;

/* The folder workers are looked for in: $MINISTRY_WORKER_DIR when set;
 * else the running binary's own folder when it holds a worker (a build
 * tree: build/ministry-worker-3.X beside build/ministry-tutor); else
 * ../libexec/ministry-tutor from it (an install moved as a whole); else
 * the installed MT_LIBEXECDIR ($(PREFIX)/libexec/ministry-tutor).
 * Malloc'ed. */
char *mt_pythons_dir(void);

/* Every worker in mt_pythons_dir(), sorted by version.  Returns the count
 * and a malloc'ed array in *v (NULL when none; free with mt_pythons_free). */
size_t mt_pythons_find(mt_python **v);
void mt_pythons_free(mt_python *v, size_t n);

/* "3.11, 3.13, 3.14" (malloc'ed; "none" when n == 0). */
char *mt_pythons_names(const mt_python *v, size_t n);

/* The version `want` ("3.14"), or, when want is NULL, the default:
 * $MINISTRY_PYTHON when set, else the version of the system's python3
 * (/usr/bin/python3) when there is a worker for it, else the newest.
 * Returns the index into v, or -1 with a malloc'ed *err saying what is
 * wrong and naming the versions there are (a usage error: exit 2). */
long mt_pythons_choose(const mt_python *v, size_t n, const char *want, char **err);

/* The version of the system's python3 ("3.14"), from where
 * /usr/bin/python3 points; "" when unknown.  Borrowed, static. */
const char *mt_pythons_system(void);

#endif
