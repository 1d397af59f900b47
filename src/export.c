/* export.c — --export: the stages run in a worker, then every region's
 * before and after written in each format, a stage.json per stage and an
 * index.html, every path checked before the first byte is written. */
#include "app.h"
#include "export.h"
#include "export_fmt.h"
#include "view.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* ---- the files to write ------------------------------------------------- */

/* Everything an export will write, rendered in memory first: existing
 * files and unusable folders are found before anything is touched, and
 * each file is then one fopen and one fwrite. */
typedef struct outfile {
    char *path;
    char *data;
    size_t len;
} outfile;

/* A region's dump as the index shows it, kept from when its files were
 * rendered so the index does not build the document again. */
typedef struct pre_html {
    const mt_region_result *g;
    int after;
    int cols;                  /* the before view's frame, in cells */
    char *html;
} pre_html;

typedef struct plan {
    outfile *v;
    size_t n, cap;
    pre_html *pre;
    size_t npre, cappre;
} plan;

/* Add a file; takes path and data. */
static void
plan_add(plan *p, char *path, char *data, size_t len)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        p->v = mt_xrealloc(p->v, p->cap * sizeof *p->v);
    }
    p->v[p->n++] = (outfile){path, data, len};
}

static void
plan_free(plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].path);
        free(p->v[i].data);
    }
    free(p->v);
    for (size_t i = 0; i < p->npre; i++) {
        free(p->pre[i].html);
    }
    free(p->pre);
    memset(p, 0, sizeof *p);
}

/* Without force, the first file that exists already is an error. */
static int
plan_check(const plan *p, int force, char **err)
{
    if (force) {
        return 0;
    }
    for (size_t i = 0; i < p->n; i++) {
        struct stat st;
        if (lstat(p->v[i].path, &st) == 0) {
            *err = mt_xasprintf("%s exists already; give --force to overwrite it", p->v[i].path);
            return -1;
        }
    }
    return 0;
}

/* mkdir -p. */
static int
make_dirs(const char *path, char **err)
{
    char *p = mt_xstrdup(path);
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0') {
            continue;
        }
        char c = *s;
        *s = '\0';
        struct stat st;
        if (mkdir(p, 0777) != 0 && (errno != EEXIST || stat(p, &st) != 0 || !S_ISDIR(st.st_mode))) {
            *err = mt_xasprintf("cannot create folder %s: %s", p,
                                errno == EEXIST ? "a file has that name" : strerror(errno));
            rc = -1;
            break;
        }
        *s = c;
        if (c == '\0') {
            break;
        }
    }
    free(p);
    return rc;
}

/* An open stage folder of an export. */
typedef struct folder_fd {
    char *name;                /* relative to the export folder; "" for it */
    int fd;
} folder_fd;

/* The folder `name` under root (made if missing), opened so that a
 * symbolic link in its place is refused, never followed.  Returns the fd,
 * or -1 with *err. */
static int
open_folder(int root, const char *dir, const char *name, char **err)
{
    if (*name == '\0') {
        return dup(root);
    }
    if (mkdirat(root, name, 0777) != 0 && errno != EEXIST) {
        *err = mt_xasprintf("cannot create folder %s/%s: %s", dir, name, strerror(errno));
        return -1;
    }
    int fd = openat(root, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        struct stat st;
        int link = fstatat(root, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
        *err = link ? mt_xasprintf("%s/%s is a symbolic link: the export writes only into "
                                   "folders of its own; remove it or export elsewhere", dir,
                                   name)
                    : mt_xasprintf("cannot use folder %s/%s: %s", dir, name,
                                   errno == ENOTDIR ? "a file has that name" : strerror(errno));
    }
    return fd;
}

/* Create a temporary file beside `name` in folder fd: ".name.XXXXXX",
 * never through a link.  Returns the fd with the name in *tmp (malloc'ed),
 * or -1 (errno). */
static int
create_temp(int dfd, const char *name, char **tmp)
{
    static unsigned counter, pid;
    if (pid == 0) {
        pid = (unsigned)getpid(); /* once, not a system call per file */
    }
    for (int tries = 0; tries < 100; tries++) {
        unsigned r = pid * 2654435761u ^ (unsigned)(mt_now() * 1e6) ^ ++counter;
        *tmp = mt_xasprintf(".%s.%06x", name, r & 0xffffff);
        int fd = openat(dfd, *tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) {
            if (fd < 0) {
                free(*tmp);
                *tmp = NULL;
            }
            return fd;
        }
        free(*tmp);
        *tmp = NULL;
    }
    errno = EEXIST;
    return -1;
}

static int
write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            if (w == 0) {
                errno = EIO;
            }
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Put tmp in place of name in folder dfd.  Without force an existing name
 * is an error (EEXIST), checked by the kernel as it renames. */
static int
put_in_place(int dfd, const char *tmp, const char *name, int force)
{
    if (force) {
        return renameat(dfd, tmp, dfd, name);
    }
    if (renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE) == 0) {
        return 0;
    }
    if (errno != EINVAL && errno != ENOSYS) {
        return -1;
    }
    /* A file system without RENAME_NOREPLACE: link, which fails when the
     * name exists, then drop the temporary name. */
    if (linkat(dfd, tmp, dfd, name, 0) < 0) {
        return -1;
    }
    unlinkat(dfd, tmp, 0);
    return 0;
}

/* Write every file of p under dir, and nothing anywhere else.  dir is
 * made if need be and opened once; each stage folder in it is made and
 * opened with O_NOFOLLOW (a symbolic link in its place is refused), and
 * every file is first written whole to a new temporary name in its folder
 * (O_CREAT|O_EXCL|O_NOFOLLOW), then renamed over its real name: a symbolic
 * link or a hard link found there is replaced, never written through, so
 * no file outside dir is touched.  Only when every file has been written
 * are they renamed into place; a failure before that (a full disk) removes
 * the temporary files and leaves every existing file as it was.  Without
 * force an existing file is an error.  Returns 0, or -1 with *err. */
static int
plan_write(const plan *p, const char *dir, int force, char **err)
{
    size_t dn = strlen(dir);
    size_t skip = dn + (dn > 0 && dir[dn - 1] == '/' ? 0 : 1);
    if (make_dirs(dir, err) < 0) {
        return -1;
    }
    int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) {
        *err = mt_xasprintf("cannot open folder %s: %s", dir, strerror(errno));
        return -1;
    }
    folder_fd *folders = NULL;
    size_t nfolders = 0;
    int *dfd = mt_xcalloc(p->n ? p->n : 1, sizeof *dfd);
    char **tmp = mt_xcalloc(p->n ? p->n : 1, sizeof *tmp);
    const char **base = mt_xcalloc(p->n ? p->n : 1, sizeof *base);
    int rc = 0;
    size_t i;
    for (i = 0; i < p->n && rc == 0; i++) {
        const outfile *f = &p->v[i];
        const char *rel = strlen(f->path) > skip ? f->path + skip : f->path;
        const char *slash = strrchr(rel, '/');
        size_t fl = slash ? (size_t)(slash - rel) : 0;
        base[i] = slash ? slash + 1 : rel;
        size_t j;
        for (j = 0; j < nfolders; j++) {
            if (strlen(folders[j].name) == fl && strncmp(folders[j].name, rel, fl) == 0) {
                break;
            }
        }
        if (j == nfolders) {
            char *name = mt_xstrndup(rel, fl);
            int fd = open_folder(root, dir, name, err);
            if (fd < 0) {
                free(name);
                rc = -1;
                break;
            }
            folders = mt_xrealloc(folders, (nfolders + 1) * sizeof *folders);
            folders[nfolders++] = (folder_fd){name, fd};
        }
        dfd[i] = folders[j].fd;
        int fd = create_temp(dfd[i], base[i], &tmp[i]);
        if (fd < 0 || write_all(fd, f->data, f->len) < 0) {
            *err = mt_xasprintf("cannot write %s: %s", f->path, strerror(errno));
            rc = -1;
        }
        if (fd >= 0 && close(fd) != 0 && rc == 0) {
            *err = mt_xasprintf("cannot write %s: %s", f->path, strerror(errno));
            rc = -1;
        }
    }
    size_t made = i;           /* files with a temporary name */
    for (i = 0; i < made && rc == 0; i++) {
        if (put_in_place(dfd[i], tmp[i], base[i], force) < 0) {
            *err = errno == EEXIST
                       ? mt_xasprintf("%s exists already; give --force to overwrite it",
                                      p->v[i].path)
                       : mt_xasprintf("cannot write %s: %s", p->v[i].path, strerror(errno));
            rc = -1;
            break;
        }
        free(tmp[i]);
        tmp[i] = NULL;
    }
    for (i = 0; i < made; i++) {
        if (tmp[i] != NULL) {
            unlinkat(dfd[i], tmp[i], 0);
            free(tmp[i]);
        }
    }
    for (size_t j = 0; j < nfolders; j++) {
        close(folders[j].fd);
        free(folders[j].name);
    }
    free(folders);
    free(dfd);
    free(tmp);
    free(base);
    close(root);
    return rc;
}

/* Can dir be written to, or made?  Checked before any stage runs. */
static int
check_dir(const char *dir, char **err)
{
    struct stat st;
    if (*dir == '\0') {
        *err = mt_xstrdup("--export needs a folder name");
        return -1;
    }
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            *err = mt_xasprintf("cannot export to %s: it is not a folder", dir);
            return -1;
        }
        if (access(dir, W_OK | X_OK) != 0) {
            *err = mt_xasprintf("cannot export to %s: %s", dir, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (errno != ENOENT) {
        *err = mt_xasprintf("cannot export to %s: %s", dir, strerror(errno));
        return -1;
    }
    /* It will be made: the nearest existing folder above must allow it. */
    char *up = mt_xstrdup(dir);
    int rc = 0;
    for (;;) {
        size_t n = strlen(up);
        while (n > 1 && up[n - 1] == '/') {
            up[--n] = '\0';
        }
        char *slash = strrchr(up, '/');
        if (slash == NULL) {
            strcpy(up, ".");
        } else if (slash == up) {
            up[1] = '\0';
        } else {
            *slash = '\0';
        }
        if (stat(up, &st) == 0) {
            if (!S_ISDIR(st.st_mode)) {
                *err = mt_xasprintf("cannot export to %s: %s is not a folder", dir, up);
                rc = -1;
            } else if (access(up, W_OK | X_OK) != 0) {
                *err = mt_xasprintf("cannot export to %s: cannot create it in %s: %s", dir, up,
                                    strerror(errno));
                rc = -1;
            }
            break;
        }
        if (errno != ENOENT || strcmp(up, ".") == 0 || strcmp(up, "/") == 0) {
            *err = mt_xasprintf("cannot export to %s: %s: %s", dir, up, strerror(errno));
            rc = -1;
            break;
        }
    }
    free(up);
    return rc;
}

/* ---- names ----------------------------------------------------------------- */

/* s made safe for a file name: anything but letters, digits, '.', '_'
 * and '-' becomes '-' (labels and slugs are slugs already; results that
 * come over the wire are checked anyway).  Malloc'ed. */
static char *
safe_name(const char *s)
{
    if (s == NULL || *s == '\0') {
        return mt_xstrdup("unnamed");
    }
    char *t = mt_xstrdup(s);
    for (char *p = t; *p; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                 || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || (*p == '.' && p != t);
        if (!ok) {
            *p = '-';
        }
    }
    return t;
}

/* "01-refcount": the stage's folder.  Malloc'ed. */
static char *
stage_folder(const mt_lesson *l)
{
    char *slug = safe_name(l->slug);
    char *s = mt_xasprintf("%02d-%s", l->number, slug);
    free(slug);
    return s;
}

/* "01-meet-two-int-2-after.txt": one region's file in its stage folder. */
static char *
region_file(const mt_lesson *l, int k, const mt_region_result *g, int view, const char *ext)
{
    char *slug = safe_name(l->steps[k].slug);
    char *label = safe_name(g->label);
    char *s = mt_xasprintf("%02d-%s-%s-%s.%s", k + 1, slug, label, mt_export_view_name(view),
                           ext);
    free(slug);
    free(label);
    return s;
}

static char *
join(const char *dir, const char *a, const char *b)
{
    size_t n = strlen(dir);
    const char *sep = n > 0 && dir[n - 1] == '/' ? "" : "/";
    return b ? mt_xasprintf("%s%s%s/%s", dir, sep, a, b) : mt_xasprintf("%s%s%s", dir, sep, a);
}

void
mt_export_info_of(mt_export_info *info, const mt_lesson *l, int step, const char *python)
{
    static char arch[sizeof ((struct utsname *)0)->machine];
    if (arch[0] == '\0') {
        struct utsname u;
        snprintf(arch, sizeof arch, "%s", uname(&u) == 0 ? u.machine : "unknown");
    }
    memset(info, 0, sizeof *info);
    info->stage = l->number;
    info->stage_slug = l->slug;
    info->step = step + 1;
    info->step_slug = l->steps[step].slug;
    info->step_title = l->steps[step].title;
    info->python = python ? python : "";
    info->arch = arch;
}

/* ---- one step ---------------------------------------------------------------- */

/* Add the files of step k's result r to p.  Returns 0, or -1 with a
 * malloc'ed *err when a picture could not be made. */
static int
plan_step(plan *p, const char *dir, const mt_lesson *l, int k, const mt_step_result *r,
          unsigned mask, const mt_export_opts *opts, char **err)
{
    mt_export_info info;
    mt_export_info_of(&info, l, k, opts->python);
    char *folder = stage_folder(l);
    int rc = 0;
    for (uint32_t i = 0; i < r->nregions && rc == 0; i++) {
        const mt_region_result *g = &r->regions[i];
        mt_export_views vs;
        mt_export_views_make(&vs, g, opts);
        for (int view = 0; view < 3 && rc == 0; view++) {
            const mt_export_view *v = &vs.v[view];
            if (view != MT_EXPORT_DIFF) {
                if (p->npre == p->cappre) {
                    p->cappre = p->cappre ? 2 * p->cappre : 64;
                    p->pre = mt_xrealloc(p->pre, p->cappre * sizeof *p->pre);
                }
                mt_str pre = {0};
                mt_export_html_pre(&pre, v->doc, v->cols, v->nrows);
                char *html = mt_str_take(&pre);
                /* The HTML file holds the same <pre>: made once, for both. */
                vs.v[view].pre = html;
                p->pre[p->npre++] = (pre_html){g, view, vs.v[MT_EXPORT_BEFORE].cols, html};
            }
            for (size_t f = 0; f < mt_export_nfmts && rc == 0; f++) {
                if (!(mask & (1u << f)) || (view == MT_EXPORT_DIFF && !mt_export_fmts[f].diff)) {
                    continue;
                }
                mt_str out = {0};
                char *name = region_file(l, k, g, view, mt_export_fmts[f].name);
                char *why = NULL;
                if (mt_export_fmts[f].render(&out, &info, v, &why) < 0) {
                    *err = mt_xasprintf("cannot make %s/%s: %s", folder, name, why);
                    free(why);
                    free(out.s);
                    rc = -1;
                } else {
                    size_t len = out.len;
                    plan_add(p, join(dir, folder, name), mt_str_take(&out), len);
                }
                free(name);
            }
        }
        mt_export_views_free(&vs);
    }
    free(folder);
    return rc;
}

int
mt_export_step_with(const mt_lesson *l, int step, const mt_step_result *r,
                    const char *dir, const char *formats, const mt_export_opts *opts,
                    int force, char **err)
{
    static const mt_export_opts defaults = MT_EXPORT_OPTS_DEFAULT;
    unsigned mask;
    if (mt_export_parse_formats(formats, &mask, err) < 0) {
        return -1;
    }
    if (step < 0 || (size_t)step >= l->nsteps) {
        *err = mt_xasprintf("stage %d has no step %d", l->number, step + 1);
        return -1;
    }
    plan p = {0};
    int rc = plan_step(&p, dir, l, step, r, mask, opts ? opts : &defaults, err) == 0
                     && plan_check(&p, force, err) == 0 && plan_write(&p, dir, force, err) == 0
                 ? (int)p.n
                 : -1;
    plan_free(&p);
    return rc;
}

int
mt_export_step(const mt_lesson *l, int step, const mt_step_result *r,
               const char *dir, const char *formats, int force, char **err)
{
    return mt_export_step_with(l, step, r, dir, formats, NULL, force, err);
}

/* ---- stage.json, index.html ----------------------------------------------------- */

/* What ran of one stage. */
typedef struct stage_run {
    const mt_lesson *l;
    int from;                  /* first step index exported */
    mt_step_result **res;      /* res[k - from] */
    int n;
} stage_run;

static const char *const step_kinds[] = {
    [MT_STEP_EXPLORE] = "explore", [MT_STEP_PATCH] = "patch", [MT_STEP_REVERT] = "revert",
};

static void
plan_stage_json(plan *p, const char *dir, const stage_run *sr, unsigned mask,
                const mt_export_opts *opts)
{
    const mt_lesson *l = sr->l;
    mt_export_info info;
    mt_export_info_of(&info, l, sr->from, opts->python);
    mt_str out = {0};
    mt_export_jw w = {.out = &out};
    mt_export_jw_open(&w, NULL, '{', 0);
    mt_export_jw_str(&w, "schema", "ministry-tutor-export");
    mt_export_jw_int(&w, "schema_version", MT_EXPORT_SCHEMA_VERSION);
    mt_export_jw_str(&w, "kind", "stage");
    mt_export_jw_int(&w, "stage", l->number);
    mt_export_jw_str(&w, "stage_slug", l->slug);
    mt_export_jw_str(&w, "title", l->title);
    mt_export_jw_str(&w, "python", info.python);
    mt_export_jw_str(&w, "arch", info.arch);
    mt_export_jw_open(&w, "formats", '[', 1);
    for (size_t f = 0; f < mt_export_nfmts; f++) {
        if (mask & (1u << f)) {
            mt_export_jw_str(&w, NULL, mt_export_fmts[f].name);
        }
    }
    mt_export_jw_close(&w);
    mt_export_jw_open(&w, "steps", '[', 0);
    for (int i = 0; i < sr->n; i++) {
        int k = sr->from + i;
        const mt_step_result *r = sr->res[i];
        const mt_step *st = &l->steps[k];
        mt_export_jw_open(&w, NULL, '{', 0);
        mt_export_jw_int(&w, "step", k + 1);
        mt_export_jw_str(&w, "step_slug", st->slug);
        mt_export_jw_str(&w, "step_title", st->title);
        mt_export_jw_str(&w, "step_kind", st->kind <= MT_STEP_REVERT ? step_kinds[st->kind] : "explore");
        mt_export_jw_bool(&w, "patched", (int)r->patched);
        mt_export_jw_open(&w, "files", '[', 0);
        for (uint32_t g = 0; g < r->nregions; g++) {
            for (int view = 0; view < 3; view++) {
                for (size_t f = 0; f < mt_export_nfmts; f++) {
                    if (mask & (1u << f) && (view != MT_EXPORT_DIFF || mt_export_fmts[f].diff)) {
                        char *name = region_file(l, k, &r->regions[g], view,
                                                 mt_export_fmts[f].name);
                        mt_export_jw_str(&w, NULL, name);
                        free(name);
                    }
                }
            }
        }
        mt_export_jw_close(&w);
        mt_export_jw_open(&w, "regions", '[', 0);
        for (uint32_t g = 0; g < r->nregions; g++) {
            mt_export_json_region(&w, NULL, &r->regions[g], opts);
        }
        mt_export_jw_close(&w);
        mt_export_jw_close(&w);
    }
    mt_export_jw_close(&w);
    mt_export_jw_close(&w);
    mt_str_addc(&out, '\n');
    char *folder = stage_folder(l);
    size_t len = out.len;
    plan_add(p, join(dir, folder, "stage.json"), mt_str_take(&out), len);
    free(folder);
}

static void
html_text(mt_str *out, const char *s)
{
    mt_export_xml_escape(out, s, strlen(s));
}

/* The hand-out page's own colours in theme t: page, text, links, rules. */
static void
index_theme_css(mt_str *o, mt_theme t)
{
    const mt_palette *p = mt_palette_of(t);
    mt_str_addf(o,
                "body{background:%s;color:%s}\n"
                "a{color:%s}\n"
                ".caption,p.files,p.meta{color:%s}\n"
                "h2{border-bottom:1px solid %s}\n",
                p->bg.rgb, p->fg.rgb, p->roles[MT_R_POINTER].rgb, p->roles[MT_R_COMMENT].rgb,
                p->roles[MT_R_COMMENT].rgb);
    mt_export_css(o, ".mt-export", t);
}

/* Links to one view's files, formats in table order. */
static void
index_links(mt_str *o, const char *folder, const mt_lesson *l, int k, const mt_region_result *g,
            int view, unsigned mask)
{
    for (size_t f = 0; f < mt_export_nfmts; f++) {
        if (!(mask & (1u << f)) || (view == MT_EXPORT_DIFF && !mt_export_fmts[f].diff)) {
            continue;
        }
        char *name = region_file(l, k, g, view, mt_export_fmts[f].name);
        mt_str_add(o, " <a href=\"");
        html_text(o, folder);
        mt_str_addc(o, '/');
        html_text(o, name);
        mt_str_addf(o, "\">%s</a>", mt_export_fmts[f].name);
        free(name);
    }
}

/* index.html, a hand-out: every exported dump in order, before beside
 * after with their rows level (stacked below 900 px), the dumps' font
 * scaled so a pair fits the page, in the chosen theme or else the
 * reader's prefers-color-scheme; links to every file.  nfiles counts
 * the index itself. */
static void
plan_index(plan *p, const char *dir, const stage_run *runs, size_t nruns, unsigned mask,
           size_t nfiles, const mt_export_opts *opts)
{
    mt_str o = {0};
    mt_str_add(&o, "<!DOCTYPE html>\n"
                   "<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n"
                   "<head>\n<meta charset=\"utf-8\"/>\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
                   "<title>ministry-tutor export</title>\n<style>\n"
                   "body{margin:0;padding:24px 32px;font-family:sans-serif;line-height:1.4}\n"
                   "h2{margin-top:2em}\n"
                   "h3{margin:1.5em 0 .5em}\n"
                   /* Two equal columns that may shrink below their content. */
                   ".pair{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px;"
                   "align-items:start;margin:0 0 12px}\n"
                   ".dump{min-width:0}\n"
                   /* One line, so both captions are one height and the rows level. */
                   ".caption{font-size:13px;margin:0 0 4px;white-space:nowrap;overflow:hidden;"
                   "text-overflow:ellipsis}\n"
                   ".caption a,p.files a{margin-left:.5em}\n"
                   "p.files{font-size:13px;margin:0 0 12px}\n"
                   "code{font-size:90%}\n"
                   /* The font that fits --cols cells in half the page (0.61 em is
                    * a monospace advance with room to spare); wider than that,
                    * the dump scrolls inside its box, never the page. */
                   ".mt-export .pair .mt-dump{max-width:calc(100% - 32px);"
                   "font-size:clamp(7px,calc(((100vw - 100px) / 2 - 32px) / var(--cols) / 0.61),"
                   "14px)}\n"
                   "@media (max-width:900px){.pair{grid-template-columns:minmax(0,1fr)}"
                   ".mt-export .pair .mt-dump{"
                   "font-size:clamp(7px,calc((100vw - 132px) / var(--cols) / 0.61),14px)}}\n");
    if (opts->theme_chosen) {
        index_theme_css(&o, opts->theme);
    } else {
        mt_str_add(&o, ":root{color-scheme:dark light}\n");
        index_theme_css(&o, MT_THEME_DARK);
        mt_str_add(&o, "@media (prefers-color-scheme: light){\n");
        index_theme_css(&o, MT_THEME_LIGHT);
        mt_str_add(&o, "}\n");
    }
    mt_str_add(&o, "</style>\n</head>\n<body class=\"mt-export\">\n"
                   "<h1>ministry-tutor export</h1>\n<p class=\"meta\">CPython ");
    html_text(&o, opts->python ? opts->python : "");
    mt_export_info info;
    mt_export_info_of(&info, runs[0].l, runs[0].from, opts->python);
    mt_str_add(&o, " · ");
    html_text(&o, info.arch);
    mt_str_addf(&o, " · %zu files · formats:", nfiles);
    for (size_t f = 0; f < mt_export_nfmts; f++) {
        if (mask & (1u << f)) {
            mt_str_addf(&o, " %s", mt_export_fmts[f].name);
        }
    }
    mt_str_add(&o, "</p>\n<ul>\n");
    for (size_t s = 0; s < nruns; s++) {
        const mt_lesson *l = runs[s].l;
        mt_str_addf(&o, "<li><a href=\"#stage-%02d\">Stage %d · %s</a> — ", l->number, l->number,
                    l->slug);
        html_text(&o, l->title);
        mt_str_add(&o, "</li>\n");
    }
    mt_str_add(&o, "</ul>\n");
    for (size_t s = 0; s < nruns; s++) {
        const stage_run *sr = &runs[s];
        const mt_lesson *l = sr->l;
        char *folder = stage_folder(l);
        mt_str_addf(&o, "<div class=\"stage\" id=\"stage-%02d\">\n<h2>Stage %d · %s — ", l->number, l->number,
                    l->slug);
        html_text(&o, l->title);
        mt_str_add(&o, "</h2>\n<p class=\"files\">");
        html_text(&o, folder);
        mt_str_add(&o, "/ <a href=\"");
        html_text(&o, folder);
        mt_str_add(&o, "/stage.json\">stage.json</a></p>\n");
        for (int i = 0; i < sr->n; i++) {
            int k = sr->from + i;
            const mt_step_result *r = sr->res[i];
            if (r->nregions == 0) {
                continue;
            }
            mt_str_addf(&o, "<h3 id=\"stage-%02d-step-%02d\">Step %d · ", l->number, k + 1, k + 1);
            html_text(&o, l->steps[k].title);
            mt_str_add(&o, " <code>");
            html_text(&o, l->steps[k].slug);
            mt_str_add(&o, "</code></h3>\n");
            for (uint32_t g = 0; g < r->nregions; g++) {
                const mt_region_result *rg = &r->regions[g];
                const char *html[2] = {NULL, NULL};
                int cols = 0;
                for (size_t j = 0; j < p->npre; j++) {
                    if (p->pre[j].g == rg && p->pre[j].after >= 0 && p->pre[j].after < 2) {
                        html[p->pre[j].after] = p->pre[j].html;
                        cols = p->pre[j].cols;
                    }
                }
                /* The views are built again only if their files were not
                 * rendered in this export. */
                mt_export_views vs;
                int made = html[0] == NULL || html[1] == NULL;
                if (made) {
                    mt_export_views_make(&vs, rg, opts);
                    cols = vs.v[MT_EXPORT_BEFORE].cols;
                }
                mt_str_addf(&o, "<div class=\"pair\" style=\"--cols:%d\">\n", cols + 4);
                for (int after = 0; after < 2; after++) {
                    char *title = mt_view_region_title(rg, after);
                    mt_str_add(&o, "<div class=\"dump\">\n<div class=\"caption\">");
                    html_text(&o, title);
                    free(title);
                    index_links(&o, folder, l, k, rg, after, mask);
                    mt_str_add(&o, "</div>\n");
                    if (html[after] != NULL) {
                        mt_str_add(&o, html[after]);
                    } else {
                        const mt_export_view *v = &vs.v[after];
                        mt_export_html_pre(&o, v->doc, v->cols, v->nrows);
                    }
                    mt_str_add(&o, "\n</div>\n");
                }
                if (made) {
                    mt_export_views_free(&vs);
                }
                mt_str_add(&o, "</div>\n<p class=\"files\">diff");
                index_links(&o, folder, l, k, rg, MT_EXPORT_DIFF, mask);
                mt_str_add(&o, "</p>\n");
            }
        }
        mt_str_add(&o, "</div>\n");
        free(folder);
    }
    mt_str_add(&o, "</body>\n</html>\n");
    size_t len = o.len;
    plan_add(p, join(dir, "index.html", NULL), mt_str_take(&o), len);
}

/* ---- --export ------------------------------------------------------------------ */

/* Print a result's output and notes on stderr, indented. */
static void
report(const mt_step_result *r)
{
    mt_doc *d = mt_view_output(r);
    char *t = mt_doc_text(d);
    for (char *s = t; *s;) {
        char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        fprintf(stderr, "  %.*s\n", (int)n, s);
        s = e ? e + 1 : s + n;
    }
    free(t);
    mt_doc_free(d);
}

/* The walk as the export keeps it. */
typedef struct walk {
    stage_run *runs;
    size_t first;
    plan *p;
    const char *dir;
    unsigned mask;
    const mt_export_opts *opts;
} walk;

/* mt_walk_fn: keep each step's result and render its files while the
 * worker runs the next; the first failure ends the walk, saying why. */
static int
on_result(void *ctx, size_t si, int k, mt_step_result *r)
{
    walk *wk = ctx;
    stage_run *sr = &wk->runs[si - wk->first];
    const mt_lesson *l = sr->l;
    if (mt_worker_interrupted) {
        fprintf(stderr, "ministry-tutor: interrupted in stage %d; nothing exported\n",
                l->number);
        mt_result_free(r);
        return 1;
    }
    if (k == MT_WALK_LEAVE) {
        int bad = r->status != MT_ST_OK || r->patched || r->restored;
        if (bad) {
            report(r);
            fprintf(stderr, "ministry-tutor: stage %d: leaving it did not go cleanly (notes "
                            "above); nothing exported\n", l->number);
        }
        mt_result_free(r);
        return bad;
    }
    sr->res[k - sr->from] = r;
    if (r->status != MT_ST_OK) {
        report(r);
        const char *why = r->status == MT_ST_CRASH     ? "the worker crashed"
                          : r->status == MT_ST_TIMEOUT ? "the worker ran past its time limit"
                          : r->status == MT_ST_ERROR   ? "it raised"
                                                       : "the session could not run it";
        fprintf(stderr, "ministry-tutor: stage %d step %d (%s): %s; nothing exported\n",
                l->number, k + 1, l->steps[k].title, why);
        return 1;
    }
    char *err = NULL;
    if (plan_step(wk->p, wk->dir, l, k, r, wk->mask, wk->opts, &err) < 0) {
        fprintf(stderr, "ministry-tutor: %s; nothing exported\n", err);
        free(err);
        return 1;
    }
    return 0;
}

int
mt_export_main(mt_app *app)
{
    const mt_opts *o = &app->opts;
    mt_export_opts opts = {
        .theme = (mt_theme)o->theme,
        .theme_chosen = o->theme_chosen,
        .context = o->context,
        .scale = o->scale,
    };
    char *err = NULL;
    unsigned mask;
    if (mt_export_parse_formats(o->formats, &mask, &err) < 0) {
        fprintf(stderr, "ministry-tutor: %s\n", err);
        free(err);
        return 2;
    }
    if (check_dir(o->export_dir, &err) < 0) {
        fprintf(stderr, "ministry-tutor: %s\n", err);
        free(err);
        return 1;
    }
    size_t first = 0, last = app->nlessons;
    if (o->stage > 0) {
        first = (size_t)mt_app_stage_index(app, o->stage);
        last = first + 1;
    }
    size_t nruns = last - first;
    stage_run *runs = mt_xcalloc(nruns, sizeof *runs);
    mt_worker *w = mt_worker_start(app->lessons, app->nlessons, &err);
    if (w == NULL) {
        fprintf(stderr, "ministry-tutor: %s\n", err);
        free(err);
        free(runs);
        return 1;
    }
    mt_worker_want_roles(w, 0);     /* the exports do not show code */
    mt_worker_catch_signals();      /* Ctrl-C, SIGTERM: stop, write nothing */
    char python[160];
    snprintf(python, sizeof python, "%s", mt_worker_python(w));
    opts.python = python;
    for (size_t s = 0; s < nruns; s++) {
        stage_run *sr = &runs[s];
        sr->l = app->lessons[first + s];
        sr->from = o->step > 0 ? o->step - 1 : 0;
        sr->n = o->step > 0 ? 1 : (int)sr->l->nsteps;
        sr->res = mt_xcalloc((size_t)sr->n, sizeof *sr->res);
    }
    /* Each result is rendered as it arrives, while the worker runs the
     * next step. */
    plan p = {0};
    walk wk = {runs, first, &p, o->export_dir, mask, &opts};
    int rc = mt_worker_walk(w, first, last, o->step, on_result, &wk);
    if (mt_worker_interrupted) {
        mt_result_free(mt_worker_quit(w));
        rc = 128 + mt_worker_interrupted;
        w = NULL;
    }
    mt_step_result *q = w ? mt_worker_quit(w) : NULL;
    if (q != NULL) {
        if (q->patched && rc == 0) {
            report(q);
            fprintf(stderr, "ministry-tutor: the worker ended with a patch live; nothing exported\n");
            rc = 1;
        }
        mt_result_free(q);
    }

    if (rc == 0) {
        for (size_t s = 0; s < nruns; s++) {
            plan_stage_json(&p, o->export_dir, &runs[s], mask, &opts);
        }
        plan_index(&p, o->export_dir, runs, nruns, mask, p.n + 1, &opts);
        if (plan_check(&p, o->force, &err) < 0
            || plan_write(&p, o->export_dir, o->force, &err) < 0) {
            fprintf(stderr, "ministry-tutor: %s\n", err);
            free(err);
            rc = 1;
        } else {
            fprintf(stderr, "ministry-tutor: wrote %zu files to %s\n", p.n, o->export_dir);
        }
    }
    plan_free(&p);
    for (size_t s = 0; s < nruns; s++) {
        for (int i = 0; i < runs[s].n; i++) {
            mt_result_free(runs[s].res[i]);
        }
        free(runs[s].res);
    }
    free(runs);
    return rc;
}
