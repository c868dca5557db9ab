#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/common.h"

int file_write_atomic(const char *path, const char *data, size_t n) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
        return pe_errorf("%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return pe_errorf("%s: cannot create: %s", tmp, strerror(errno));
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, data + done, n - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            return pe_errorf("%s: write failed: %s", path, strerror(e));
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return pe_errorf("%s: write failed: %s", path, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return pe_errorf("%s: cannot rename into place: %s", path, strerror(e));
    }
    return 0;
}

int file_rename_durable(const char *from, const char *to) {
    if (rename(from, to) != 0) return pe_errorf("%s: cannot rename %s over it: %s", to, from, strerror(errno));
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", to);
    char *slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    int rc = 0;
    if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL))
        rc = pe_errorf("%s: renamed, but cannot sync its directory %s: %s", to, dir, strerror(errno));
    if (fd >= 0) close(fd);
    return rc;
}

char *file_read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        pe_errorf("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            pe_errorf("%s: out of memory", path);
            return NULL;
        }
        len += fread(buf + len, 1, cap - len - 1, f);
        if (len < cap - 1) break;
        cap *= 2;
        char *nb = realloc(buf, cap);
        if (!nb) free(buf);
        buf = nb;
    }
    if (ferror(f)) {
        fclose(f);
        free(buf);
        pe_errorf("%s: read failed", path);
        return NULL;
    }
    fclose(f);
    buf[len] = '\0';
    if (n) *n = len;
    return buf;
}

int file_append_line(const char *path, const char *line) {
    size_t n = strlen(line);
    char *buf = malloc(n + 2);
    if (!buf) return pe_errorf("%s: out of memory", path);
    memcpy(buf, line, n);
    buf[n] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) {
        free(buf);
        return pe_errorf("%s: cannot open for appending: %s", path, strerror(errno));
    }
    ssize_t w = write(fd, buf, n + 1);
    int e = errno;
    free(buf);
    close(fd);
    if (w != (ssize_t)(n + 1)) return pe_errorf("%s: write failed: %s", path, w < 0 ? strerror(e) : "short write");
    return 0;
}

int dir_create(const char *path) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return pe_errorf("%s: path too long", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return pe_errorf("%s: cannot create: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) return pe_errorf("%s: cannot create: %s", buf, strerror(errno));
    return 0;
}

int path_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int path_join(char *buf, size_t cap, const char *dir, const char *name) {
    int k = snprintf(buf, cap, "%s/%s", dir, name);
    if (k < 0 || (size_t)k >= cap) return pe_errorf("%s/%s: path too long", dir, name);
    return 0;
}

int dir_lock(const char *dir) {
    char path[4096];
    if (path_join(path, sizeof path, dir, ".lock") != 0) return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return pe_errorf("%s: cannot open the run directory's lock: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char buf[32] = "";
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        close(fd);
        if (e != EWOULDBLOCK) return pe_errorf("%s: cannot lock: %s", path, strerror(e));
        buf[n > 0 ? n : 0] = '\0';
        long pid = strtol(buf, NULL, 10);
        if (pid > 0)
            return pe_errorf("%s is in use by another posenc process (PID %ld holds %s); wait for it to "
                             "finish or stop it, or choose another directory", dir, pid, path);
        return pe_errorf("%s is in use by another posenc process (it holds %s); wait for it to finish or "
                         "stop it, or choose another directory", dir, path);
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
        int e = errno;
        close(fd);
        return pe_errorf("%s: cannot write the lock: %s", path, strerror(e));
    }
    return 0; /* fd stays open (and locked) until the process exits */
}

void dir_remove_stale_tmp(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        const char *t = strstr(e->d_name, ".tmp.");
        if (!t || t == e->d_name || !t[5]) continue;
        const char *p = t + 5;
        while (*p >= '0' && *p <= '9') p++;
        if (*p) continue; /* not NAME.tmp.<digits> */
        char path[4096];
        if (path_join(path, sizeof path, dir, e->d_name) == 0) unlink(path);
    }
    closedir(d);
}

double mem_available_bytes(void) {
    double avail = -1;
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        unsigned long long kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                avail = (double)kb * 1024.0;
                break;
            }
        fclose(f);
    }
    if (avail < 0) {
        long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        avail = pages > 0 && size > 0 ? (double)pages * size : 1e300;
    }
    const int res[] = {RLIMIT_AS, RLIMIT_DATA};
    for (int i = 0; i < 2; i++) {
        struct rlimit rl;
        if (getrlimit(res[i], &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && (double)rl.rlim_cur < avail)
            avail = (double)rl.rlim_cur;
    }
    return avail;
}

int mem_check(const char *what, double need, double param_bytes, int B, int T) {
    const double avail = mem_available_bytes(), gib = 1024.0 * 1024.0 * 1024.0;
    if (need <= avail) return 0;
    return pe_errorf("%s does not fit in memory: it needs about %.2f GiB (parameters, gradients%s %.2f GiB; "
                     "activations for batches of %d x %d tokens %.2f GiB) but %.2f GiB are available "
                     "(MemAvailable of /proc/meminfo, or ulimit -v); reduce model.d_model, model.n_layers, "
                     "the batch size or the sequence length",
                     what, need / gib, strcmp(what, "training") == 0 ? " and AdamW moments" : "",
                     param_bytes / gib, B, T, (need - param_bytes) / gib, avail / gib);
}

/* One crash-test hook variable: "NAME@K" parsed once per process. */
typedef struct {
    int parsed, k, hits;
    char name[64];
} FaultHook;

static int fault_hit(FaultHook *h, const char *var, const char *name) {
    if (!h->parsed) {
        h->parsed = 1;
        const char *env = getenv(var);
        const char *at = env ? strchr(env, '@') : NULL;
        if (at && (size_t)(at - env) < sizeof h->name) {
            memcpy(h->name, env, (size_t)(at - env));
            h->name[at - env] = '\0';
            h->k = atoi(at + 1);
        }
    }
    return h->k > 0 && strcmp(name, h->name) == 0 && ++h->hits == h->k;
}

void fault_point(const char *name) {
    static FaultHook kill_hook, stop_hook;
    if (fault_hit(&kill_hook, "POSENC_TEST_KILL", name)) {
        fprintf(stderr, "POSENC_TEST_KILL: SIGKILL at %s@%d\n", name, kill_hook.k);
        raise(SIGKILL);
    }
    if (fault_hit(&stop_hook, "POSENC_TEST_STOP", name)) {
        fprintf(stderr, "POSENC_TEST_STOP: SIGSTOP at %s@%d\n", name, stop_hook.k);
        fflush(stderr);
        raise(SIGSTOP);
    }
}
