/* app.c — finding, loading and checking the lessons a run uses. */
#include "app.h"
#include "layout.h"
#include "util.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MT_DATADIR
#define MT_DATADIR "/usr/local/share"
#endif

static int
is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

char *
mt_app_lessons_dir(const char *given, char **err)
{
    if (given != NULL) {
        if (!is_dir(given)) {
            *err = mt_xasprintf("--lessons %s: %s", given,
                                access(given, F_OK) == 0 ? "not a folder" : strerror(errno));
            return NULL;
        }
        return mt_xstrdup(given);
    }
    const char *env = getenv("MINISTRY_LESSONS");
    if (env != NULL && *env != '\0') {
        if (!is_dir(env)) {
            *err = mt_xasprintf("MINISTRY_LESSONS=%s: not a folder", env);
            return NULL;
        }
        return mt_xstrdup(env);
    }
    /* Beside the binary: build/ministry-tutor → lessons/, or an install
     * under PREFIX: bin/ministry-tutor → share/ministry-tutor/lessons. */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *tried[3] = {NULL, NULL, NULL};
    if (n > 0) {
        exe[n] = '\0';
        char *dir = dirname(exe);
        tried[0] = mt_xasprintf("%s/../lessons", dir);
        tried[1] = mt_xasprintf("%s/../share/ministry-tutor/lessons", dir);
    }
    tried[2] = mt_xstrdup(MT_DATADIR "/ministry-tutor/lessons");
    char *found = NULL;
    for (int i = 0; i < 3 && found == NULL; i++) {
        if (tried[i] != NULL && is_dir(tried[i])) {
            found = realpath(tried[i], NULL);
        }
    }
    if (found == NULL) {
        *err = mt_xasprintf("no lessons found (tried %s, %s, %s); give --lessons DIR",
                            tried[0] ? tried[0] : "-", tried[1] ? tried[1] : "-", tried[2]);
    }
    for (int i = 0; i < 3; i++) {
        free(tried[i]);
    }
    return found;
}

/* Every watch must name a layout this build knows. */
static int
check_layouts(const mt_lesson *l, char **err)
{
    for (size_t k = 0; k < l->nsteps; k++) {
        const mt_step *st = &l->steps[k];
        for (size_t w = 0; w < st->nwatches; w++) {
            if (mt_layout_find(st->watches[w].layout) != NULL) {
                continue;
            }
            size_t n;
            const mt_layout *all = mt_layout_all(&n);
            mt_str known = {0};
            for (size_t i = 0; i < n; i++) {
                mt_str_addf(&known, "%s%s", i ? ", " : "", all[i].name);
            }
            *err = mt_xasprintf("%s:%d: unknown layout '%s' in watch `%s` (known: %s)",
                                l->path, st->line, st->watches[w].layout,
                                st->watches[w].expr, known.s);
            free(known.s);
            return -1;
        }
    }
    return 0;
}

int
mt_app_load(mt_app *app, char **err)
{
    app->lessons_dir = mt_app_lessons_dir(app->opts.lessons_dir, err);
    if (app->lessons_dir == NULL) {
        return -1;
    }
    if (mt_lessons_load_dir(app->lessons_dir, &app->lessons, &app->nlessons, err) < 0) {
        return -1;
    }
    for (size_t i = 0; i < app->nlessons; i++) {
        if (check_layouts(app->lessons[i], err) < 0) {
            return -1;
        }
    }
    return 0;
}

void
mt_app_free(mt_app *app)
{
    if (app->lessons != NULL) {
        mt_lessons_free(app->lessons, app->nlessons);
    }
    free(app->lessons_dir);
    app->lessons = NULL;
    app->lessons_dir = NULL;
}

long
mt_app_stage_index(const mt_app *app, int n)
{
    for (size_t i = 0; i < app->nlessons; i++) {
        if (app->lessons[i]->number == n) {
            return (long)i;
        }
    }
    return -1;
}
