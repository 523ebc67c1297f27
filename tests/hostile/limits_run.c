/* limits_run: runs one command on a hostile file and checks the promise of
 * docs/reliability.md: it ends (no signal death), within a time and a
 * peak-memory budget, and, when it is expected to fail, with a non-zero exit
 * and exactly one line on stderr that names the file. Nothing it prints may
 * hold a control character (a crafted name must not reach the terminal raw).
 *
 *   limits_run [--expect fail|ok|any] [--name TEXT] [--seconds S] [--rss-mb M] -- CMD ARGS...
 *
 * any: only the budgets and the terminal check (a command like info that
 * reports problems on stdout and exits 1).
 * Peak memory is the child's ru_maxrss (wait4), which covers the children it
 * waited for (the HDF5 sandbox). MNV3_LIMITS_SCALE multiplies both budgets
 * (sanitizer builds run slower and keep shadow memory). The command is killed
 * at 4x its time budget so a hang fails the test instead of stalling it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The whole of a file (at most 1 MiB), NUL-terminated; length in *n. */
static char *slurp(const char *path, size_t *n) {
    char *buf = calloc(1, ((size_t)1 << 20) + 1);
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (buf && f) *n = fread(buf, 1, (size_t)1 << 20, f);
    if (f) fclose(f);
    return buf;
}

/* Index of the first control character other than newline and tab, or -1. */
static long first_control(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) return (long)i;
    }
    return -1;
}

static int usage(void) {
    fprintf(stderr, "usage: limits_run [--expect fail|ok|any] [--name TEXT] [--seconds S] "
                    "[--rss-mb M] -- CMD ARGS...\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *expect = "fail", *name = NULL;
    double seconds = 5, rss_mb = 512;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (i + 1 >= argc) return usage();
        if (!strcmp(argv[i], "--expect")) expect = argv[++i];
        else if (!strcmp(argv[i], "--name")) name = argv[++i];
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rss-mb")) rss_mb = atof(argv[++i]);
        else return usage();
    }
    if (i + 1 >= argc || (strcmp(expect, "fail") && strcmp(expect, "ok") && strcmp(expect, "any"))) return usage();
    char **cmd = argv + i + 1;
    const char *scale = getenv("MNV3_LIMITS_SCALE");
    if (scale && atof(scale) > 0) {
        seconds *= atof(scale);
        rss_mb *= atof(scale);
    }

    char out_path[] = "/tmp/limits_run_out_XXXXXX", err_path[] = "/tmp/limits_run_err_XXXXXX";
    int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
    if (out_fd < 0 || err_fd < 0) {
        perror("limits_run: mkstemp");
        return 2;
    }
    double start = now_seconds();
    pid_t pid = fork();
    if (pid < 0) {
        perror("limits_run: fork");
        return 2;
    }
    if (pid == 0) {
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        setpgid(0, 0); /* so a hang can be killed with everything it started */
        execvp(cmd[0], cmd);
        fprintf(stderr, "limits_run: cannot run %s: %s\n", cmd[0], strerror(errno));
        _exit(127);
    }
    int status = 0, killed = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    for (;;) {
        pid_t got = wait4(pid, &status, WNOHANG, &ru);
        if (got == pid) break;
        if (got < 0 && errno != EINTR) {
            perror("limits_run: wait4");
            return 2;
        }
        if (!killed && now_seconds() - start > 4 * seconds) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            killed = 1;
        }
        usleep(2000);
    }
    double elapsed = now_seconds() - start;
    double peak_mb = (double)ru.ru_maxrss / 1024.0;
    size_t out_n, err_n;
    char *out = slurp(out_path, &out_n), *err = slurp(err_path, &err_n);
    unlink(out_path);
    unlink(err_path);
    close(out_fd);
    close(err_fd);

    int lines = 0;
    for (size_t k = 0; k < err_n; k++) lines += err[k] == '\n';
    if (err_n && err[err_n - 1] != '\n') lines++;
    char why[512] = "";
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (killed)
        snprintf(why, sizeof why, "still running after %.1f s (killed)", 4 * seconds);
    else if (WIFSIGNALED(status))
        snprintf(why, sizeof why, "died of signal %d", WTERMSIG(status));
    else if (!strcmp(expect, "fail") && code == 0)
        snprintf(why, sizeof why, "exit 0, but the file should be refused");
    else if (!strcmp(expect, "ok") && code != 0)
        snprintf(why, sizeof why, "exit %d, but the file should be accepted", code);
    else if (code == 127)
        snprintf(why, sizeof why, "could not run the command");
    else if (!strcmp(expect, "fail") && lines != 1)
        snprintf(why, sizeof why, "%d lines on stderr, expected one", lines);
    else if (!strcmp(expect, "fail") && name && !strstr(err, name))
        snprintf(why, sizeof why, "the message does not name '%s'", name);
    else if (first_control(err, err_n) >= 0 || first_control(out, out_n) >= 0)
        snprintf(why, sizeof why, "a control character reached the terminal");
    else if (elapsed > seconds)
        snprintf(why, sizeof why, "took %.2f s, budget %.1f s", elapsed, seconds);
    else if (peak_mb > rss_mb)
        snprintf(why, sizeof why, "peak memory %.0f MB, budget %.0f MB", peak_mb, rss_mb);

    /* The message itself, shown with control characters made visible. */
    for (size_t k = 0; k < err_n; k++)
        if (first_control(err + k, 1) == 0) err[k] = '?';
    if (err_n && err[err_n - 1] == '\n') err[err_n - 1] = '\0';
    printf("%s exit %d, %.2f s, %.0f MB: %s\n", why[0] ? "FAIL" : "ok  ", code, elapsed, peak_mb,
           err_n ? err : "(no message)");
    if (why[0]) printf("FAIL %s\n", why);
    free(out);
    free(err);
    return why[0] ? 1 : 0;
}
