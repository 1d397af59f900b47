/* app.c — finding, loading and checking the lessons a run uses. */
#include "app.h"
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
    return 0;
}

void
mt_app_free(mt_app *app)
{
    if (app->lessons != NULL) {
        mt_lessons_free(app->lessons, app->nlessons);
    }
    free(app->lessons_dir);
    free(app->opts.worker);
    app->opts.worker = NULL;
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
