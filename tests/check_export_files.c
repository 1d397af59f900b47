/* check_export_files.c — --export writes inside DIR and nowhere else: a
 * symbolic link or a hard link planted in an export folder is replaced,
 * not written through; a stage folder that is a symbolic link is refused;
 * a write that fails half-way (a full disk) leaves every file as it was. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static char *
make_tmp(void)
{
    char tmpl[] = "/tmp/mt-exfiles-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    return mt_xstrdup(tmpl);
}

static char *
slurp(const char *path, size_t *n)
{
    char *s = NULL;
    size_t len = 0;
    if (mt_read_file(path, (size_t)16 << 20, &s, &len) < 0) {
        s = mt_xstrdup("");
        len = 0;
    }
    if (n != NULL) {
        *n = len;
    }
    return s;
}

/* A file of n pseudo-random bytes: the victim whose bytes are checked. */
static void
put_victim(const char *path, size_t n, unsigned seed)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        fputc((int)(seed >> 16) & 0xff, f);
    }
    ck_assert_int_eq(fclose(f), 0);
}

static void
same_bytes(const char *a, const char *b)
{
    size_t na, nb;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    ck_assert_msg(na == nb && memcmp(x, y, na) == 0, "%s changed (%zu bytes, was %zu)", a, na,
                  nb);
    free(x);
    free(y);
}

/* Run the binary's --export of stage 1 into dir (txt and svg) with extra
 * arguments; with fsize > 0 no file it writes may grow past fsize bytes
 * (a disk that fills).  Returns the exit status; stderr in *err. */
static int
export(const char *dir, const char *extra, long fsize, char **err)
{
    char errpath[] = "/tmp/mt-exfiles-err-XXXXXX";
    int efd = mkstemp(errpath);
    ck_assert_int_ge(efd, 0);
    const char *bin = getenv("MT_BIN");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(efd, 2);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        if (fsize > 0) {
            struct rlimit rl = {(rlim_t)fsize, (rlim_t)fsize};
            signal(SIGXFSZ, SIG_IGN);      /* writes fail with EFBIG instead */
            setrlimit(RLIMIT_FSIZE, &rl);
        }
        char *cmd = mt_xasprintf("exec %s --export %s --stage 1 --format txt,svg %s",
                                 bin ? bin : "build/ministry-tutor", dir, extra);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    close(efd);
    *err = slurp(errpath, NULL);
    unlink(errpath);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
rm_rf(const char *dir)
{
    char *cmd = mt_xasprintf("rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
}

/* The name of the first file in folder whose name ends in suffix. */
static char *
first_file(const char *folder, const char *suffix)
{
    DIR *d = opendir(folder);
    ck_assert_ptr_nonnull(d);
    char *best = NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name), m = strlen(suffix);
        if (e->d_name[0] != '.' && n > m && strcmp(e->d_name + n - m, suffix) == 0
            && (best == NULL || strcmp(e->d_name, best) < 0)) {
            free(best);
            best = mt_xstrdup(e->d_name);
        }
    }
    closedir(d);
    ck_assert_ptr_nonnull(best);
    return best;
}

/* Files whose names start with a dot: temporary files left behind. */
static int
dot_files(const char *folder)
{
    DIR *d = opendir(folder);
    if (d == NULL) {
        return 0;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        n += e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    }
    closedir(d);
    return n;
}

/* A symbolic link and a hard link planted where --force will write: the
 * files outside keep their bytes, and the export's files are its own. */
START_TEST(test_links_replaced)
{
    char *tmp = make_tmp();
    char *out = mt_xasprintf("%s/out", tmp);
    char *stage = mt_xasprintf("%s/01-refcount", out);
    char *err = NULL;
    ck_assert_int_eq(export(out, "", 0, &err), 0);
    free(err);
    char *svg = first_file(stage, ".svg"), *txt = first_file(stage, ".txt");
    char *svgp = mt_xasprintf("%s/%s", stage, svg), *txtp = mt_xasprintf("%s/%s", stage, txt);
    char *v1 = mt_xasprintf("%s/victim-symlink", tmp), *v1o = mt_xasprintf("%s.orig", v1);
    char *v2 = mt_xasprintf("%s/victim-hardlink", tmp), *v2o = mt_xasprintf("%s.orig", v2);
    put_victim(v1, 14000, 1);
    put_victim(v1o, 14000, 1);
    put_victim(v2, 9000, 2);
    put_victim(v2o, 9000, 2);
    ck_assert_int_eq(unlink(svgp), 0);
    ck_assert_int_eq(symlink(v1, svgp), 0);
    ck_assert_int_eq(unlink(txtp), 0);
    ck_assert_int_eq(link(v2, txtp), 0);

    ck_assert_int_eq(export(out, "--force", 0, &err), 0);
    same_bytes(v1, v1o);
    same_bytes(v2, v2o);
    struct stat st;
    ck_assert_int_eq(lstat(svgp, &st), 0);
    ck_assert_msg(S_ISREG(st.st_mode), "the symbolic link is still there");
    ck_assert_int_eq(stat(v2, &st), 0);
    ck_assert_int_eq((int)st.st_nlink, 1);
    size_t n;
    char *svgtext = slurp(svgp, &n);
    ck_assert_ptr_nonnull(strstr(svgtext, "<svg"));
    free(svgtext);
    ck_assert_int_eq(dot_files(stage), 0);
    free(err);
    free(svg);
    free(txt);
    free(svgp);
    free(txtp);
    free(v1);
    free(v1o);
    free(v2);
    free(v2o);
    free(stage);
    free(out);
    rm_rf(tmp);
    free(tmp);
}
END_TEST

/* A stage folder that is a symbolic link to a folder elsewhere is refused,
 * with and without --force, and nothing lands in that folder. */
START_TEST(test_symlinked_folder_refused)
{
    char *tmp = make_tmp();
    char *out = mt_xasprintf("%s/out", tmp);
    char *elsewhere = mt_xasprintf("%s/elsewhere", tmp);
    char *stage = mt_xasprintf("%s/01-refcount", out);
    ck_assert_int_eq(mkdir(out, 0777), 0);
    ck_assert_int_eq(mkdir(elsewhere, 0777), 0);
    ck_assert_int_eq(symlink(elsewhere, stage), 0);
    for (int force = 0; force < 2; force++) {
        char *err = NULL;
        ck_assert_int_eq(export(out, force ? "--force" : "", 0, &err), 1);
        ck_assert_msg(strstr(err, "01-refcount is a symbolic link") != NULL, "stderr: %s", err);
        DIR *d = opendir(elsewhere);
        ck_assert_ptr_nonnull(d);
        int n = 0;
        for (struct dirent *e; (e = readdir(d)) != NULL;) {
            n += e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."));
        }
        closedir(d);
        ck_assert_int_eq(n, 0);
        free(err);
    }
    free(stage);
    free(elsewhere);
    free(out);
    rm_rf(tmp);
    free(tmp);
}
END_TEST

/* The disk fills half-way through a --force re-export (no file may grow
 * past 3000 bytes): status 1, every file of the first export has its old
 * bytes, and no temporary file is left.  Without --force, an existing
 * file stops the export before anything is written. */
START_TEST(test_failure_harms_nothing)
{
    char *tmp = make_tmp();
    char *out = mt_xasprintf("%s/out", tmp);
    char *stage = mt_xasprintf("%s/01-refcount", out);
    char *err = NULL;
    ck_assert_int_eq(export(out, "", 0, &err), 0);
    free(err);
    /* The first file the export writes, given bytes of its own to tell
     * them from a rewrite. */
    char *svg = first_file(stage, "-before.txt");
    char *svgp = mt_xasprintf("%s/%s", stage, svg);
    FILE *f = fopen(svgp, "wb");
    ck_assert_ptr_nonnull(f);
    fputs("the bytes of an earlier export\n", f);
    ck_assert_int_eq(fclose(f), 0);
    size_t before_n;
    char *before = slurp(svgp, &before_n);
    char *index = mt_xasprintf("%s/index.html", out);
    size_t index_n;
    char *index_before = slurp(index, &index_n);

    ck_assert_int_eq(export(out, "--force", 3000, &err), 1);
    ck_assert_msg(strstr(err, "cannot write") != NULL, "stderr: %s", err);
    free(err);
    size_t after_n;
    char *after = slurp(svgp, &after_n);
    ck_assert_msg(after_n == before_n && memcmp(before, after, after_n) == 0,
                  "%s was rewritten by a failed export", svgp);
    char *index_after = slurp(index, &after_n);
    ck_assert(after_n == index_n && memcmp(index_before, index_after, index_n) == 0);
    ck_assert_int_eq(dot_files(stage), 0);
    ck_assert_int_eq(dot_files(out), 0);

    /* Without --force: refused, the file untouched. */
    ck_assert_int_eq(export(out, "", 0, &err), 1);
    ck_assert_msg(strstr(err, "exists already") != NULL, "stderr: %s", err);
    free(after);
    after = slurp(svgp, &after_n);
    ck_assert(after_n == before_n && memcmp(before, after, after_n) == 0);

    free(err);
    free(after);
    free(before);
    free(index_before);
    free(index_after);
    free(index);
    free(svg);
    free(svgp);
    free(stage);
    free(out);
    rm_rf(tmp);
    free(tmp);
}
END_TEST

Suite *
mt_export_files_suite(void)
{
    Suite *s = suite_create("export_files");
    TCase *tc = tcase_create("outside");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_links_replaced);
    tcase_add_test(tc, test_symlinked_folder_refused);
    tcase_add_test(tc, test_failure_harms_nothing);
    suite_add_tcase(s, tc);
    return s;
}
