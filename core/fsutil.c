#include "core/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/parallel.h"

/* Create `path` for writing as a new file: O_EXCL | O_NOFOLLOW, so that a
 * link planted at a temporary name cannot redirect the write. A leftover of
 * the same name (a process with this PID killed while writing) is removed
 * first: its name is posenc's own temporary name. */
static int create_new(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST && unlink(path) == 0)
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    return fd;
}

int file_create_new(const char *path) {
    int fd = create_new(path);
    if (fd < 0) return core_errorf("%s: cannot create: %s", path, strerror(errno));
    return fd;
}

/* fsync the folder holding `path`, so that a rename into it survives a
 * power loss. `what` says what was done ("written", "renamed"). EINVAL: the
 * file system cannot sync folders (nothing to do). */
static int sync_dir_of(const char *path, const char *what) {
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) return core_errorf("%s: path too long", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;
    if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL))
        rc = core_errorf("%s: %s, but cannot sync its directory %s: %s", path, what, dir, strerror(errno));
    if (fd >= 0) close(fd);
    return rc;
}

/* write(2) all n bytes (a short write continues; EINTR retries). */
static int write_all(int fd, const char *data, size_t n) {
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, data + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        done += (size_t)w;
    }
    return 0;
}

int file_write_atomic_parts(const char *path, const FilePart *parts, int nparts, const char *fault_tag) {
    char tmp[4096], fault[64];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
        return core_errorf("%s: path too long", path);
    if (!fault_tag) fault_tag = "file";
    int fd = create_new(tmp);
    if (fd < 0) return core_errorf("%s: cannot create temporary file %s: %s", path, tmp, strerror(errno));
    const char *failed = NULL; /* the step that failed */
    /* the first part (of a single part, its first half) is written, then the
     * crash-test point "<tag>.partial": a half-written temporary file */
    for (int i = 0; !failed && i < nparts; i++) {
        const char *d = parts[i].data;
        size_t n = parts[i].n, first = nparts == 1 ? n / 2 : n;
        if (write_all(fd, d, first) != 0) failed = "write";
        if (!failed && i == 0) {
            snprintf(fault, sizeof fault, "%s.partial", fault_tag);
            fault_point(fault);
        }
        if (!failed && write_all(fd, d + first, n - first) != 0) failed = "write";
    }
    if (!failed && fsync(fd) != 0) failed = "fsync";
    int err = errno;
    if (close(fd) != 0 && !failed) failed = "close", err = errno;
    if (failed) {
        unlink(tmp);
        return core_errorf("%s: cannot %s temporary file %s: %s", path, failed, tmp, strerror(err));
    }
    snprintf(fault, sizeof fault, "%s.rename", fault_tag);
    fault_point(fault); /* crash-test point: complete, not yet renamed into place */
    /* rename replaces a link at `path` itself, never the file it points to */
    if (rename(tmp, path) != 0) {
        err = errno;
        unlink(tmp);
        return core_errorf("%s: cannot rename %s over it: %s", path, tmp, strerror(err));
    }
    return sync_dir_of(path, "written");
}

int file_write_atomic(const char *path, const char *data, size_t n) {
    const FilePart part = {data, n};
    return file_write_atomic_parts(path, &part, 1, NULL);
}

int file_rename_durable(const char *from, const char *to) {
    if (rename(from, to) != 0) return core_errorf("%s: cannot rename %s over it: %s", to, from, strerror(errno));
    return sync_dir_of(to, "renamed");
}

int file_commit_durable(const char *tmp, const char *path) {
    int fd = open(tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return core_errorf("%s: cannot open %s to sync it: %s", path, tmp, strerror(errno));
    int rc = fsync(fd) != 0 ? core_errorf("%s: cannot fsync %s: %s", path, tmp, strerror(errno)) : 0;
    close(fd);
    return rc != 0 ? rc : file_rename_durable(tmp, path);
}

static const char *file_type_name(mode_t m) {
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO (named pipe)" : S_ISCHR(m) ? "a character device"
           : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : S_ISLNK(m) ? "a symbolic link"
                        : "not a regular file";
}

int file_open_regular(const char *path, size_t max_bytes, size_t *size) {
    /* O_NONBLOCK: opening a FIFO does not wait for a writer; the type is checked before any read */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return core_errorf("%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return core_errorf("%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return core_errorf("%s: is %s, not a regular file; posenc reads only regular files here", path,
                         file_type_name(st.st_mode));
    }
    if ((unsigned long long)st.st_size > (unsigned long long)max_bytes) {
        close(fd);
        return core_errorf("%s: %lld bytes, more than the %zu bytes a file of this kind may have", path,
                         (long long)st.st_size, max_bytes);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (size) *size = (size_t)st.st_size;
    return fd;
}

char *file_read_capped(const char *path, size_t max_bytes, size_t *n) {
    size_t size = 0;
    int fd = file_open_regular(path, max_bytes, &size);
    if (fd < 0) return NULL;
    /* read at most max_bytes + 1: a file that grows past its cap while read is refused too */
    size_t cap = size + 1 < max_bytes + 1 ? size + 1 : max_bytes + 1, len = 0;
    char *buf = core_calloc(cap + 1, 1);
    for (;;) {
        if (len == cap) {
            if (cap > max_bytes) break;
            size_t nc = cap * 2 < max_bytes + 1 ? cap * 2 : max_bytes + 1;
            buf = core_realloc(buf, nc + 1), cap = nc;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            core_errorf("%s: read failed: %s", path, strerror(e));
            return NULL;
        }
        if (r == 0) break;
        len += (size_t)r;
    }
    close(fd);
    if (len > max_bytes) {
        free(buf);
        core_errorf("%s: more than the %zu bytes a file of this kind may have", path, max_bytes);
        return NULL;
    }
    buf[len] = '\0';
    if (n) *n = len;
    return buf;
}

char *file_read_all(const char *path, size_t *n) { return file_read_capped(path, FILE_READ_MAX, n); }

int path_probe(const char *path, const char *what) {
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT) return 0;
        return core_errorf("%s: cannot read %s: %s", path, what, strerror(errno));
    }
    if (S_ISLNK(st.st_mode) && stat(path, &st) != 0)
        return core_errorf("%s: %s is a symbolic link that cannot be followed: %s", path, what, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return core_errorf("%s: %s is %s, not a regular file", path, what, file_type_name(st.st_mode));
    if (access(path, R_OK) != 0) return core_errorf("%s: cannot read %s: %s", path, what, strerror(errno));
    return 1;
}

int file_append_line(const char *path, const char *line) {
    size_t n = strlen(line);
    char *buf = core_calloc(n + 2, 1);
    memcpy(buf, line, n);
    buf[n] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(buf);
        return core_errorf("%s: cannot open for appending: %s", path, strerror(errno));
    }
    ssize_t w = write(fd, buf, n + 1);
    int e = errno;
    free(buf);
    close(fd);
    if (w != (ssize_t)(n + 1)) return core_errorf("%s: write failed: %s", path, w < 0 ? strerror(e) : "short write");
    return 0;
}

int dir_create(const char *path) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return core_errorf("%s: path too long", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return core_errorf("%s: cannot create: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) return core_errorf("%s: cannot create: %s", buf, strerror(errno));
    return 0;
}

int path_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int path_join(char *buf, size_t cap, const char *dir, const char *name) {
    int k = snprintf(buf, cap, "%s/%s", dir, name);
    if (k < 0 || (size_t)k >= cap) return core_errorf("%s/%s: path too long", dir, name);
    return 0;
}

/* The locks this process holds (their files' device and inode): taking one again is a no-op. */
static struct {
    dev_t dev;
    ino_t ino;
} held_locks[64];
static int n_held_locks;

int dir_lock(const char *dir) {
    char path[4096];
    if (path_join(path, sizeof path, dir, ".lock") != 0) return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return core_errorf("%s: cannot open the run directory's lock: %s", path, strerror(errno));
    struct stat ls;
    if (fstat(fd, &ls) == 0)
        for (int i = 0; i < n_held_locks; i++)
            if (held_locks[i].dev == ls.st_dev && held_locks[i].ino == ls.st_ino) {
                close(fd); /* already ours (posenc run: training, then its evaluation) */
                return 0;
            }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char buf[32] = "";
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        close(fd);
        if (e != EWOULDBLOCK) return core_errorf("%s: cannot lock: %s", path, strerror(e));
        buf[n > 0 ? n : 0] = '\0';
        long pid = strtol(buf, NULL, 10);
        if (pid > 0)
            return core_errorf("%s is in use by another posenc process (PID %ld holds %s); wait for it to "
                             "finish or stop it, or choose another directory", dir, pid, path);
        return core_errorf("%s is in use by another posenc process (it holds %s); wait for it to finish or "
                         "stop it, or choose another directory", dir, path);
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
        int e = errno;
        close(fd);
        return core_errorf("%s: cannot write the lock: %s", path, strerror(e));
    }
    if (n_held_locks < (int)(sizeof held_locks / sizeof held_locks[0]) && fstat(fd, &ls) == 0) {
        held_locks[n_held_locks].dev = ls.st_dev;
        held_locks[n_held_locks++].ino = ls.st_ino;
    }
    return 0; /* fd stays open (and locked) until the process exits */
}

void dir_remove_stale_tmp(const char *dir, int (*ours)(const char *name)) {
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));) {
        const char *t = strstr(e->d_name, ".tmp.");
        if (!t || t == e->d_name || !t[5]) continue;
        const char *p = t + 5;
        while (*p >= '0' && *p <= '9') p++;
        if (*p) continue; /* not NAME.tmp.<digits> */
        char name[256];
        if ((size_t)(t - e->d_name) >= sizeof name) continue;
        memcpy(name, e->d_name, (size_t)(t - e->d_name));
        name[t - e->d_name] = '\0';
        if (ours && !ours(name)) continue; /* not a temporary file of one of posenc's files */
        char path[4096];
        struct stat st;
        if (path_join(path, sizeof path, dir, e->d_name) == 0 && lstat(path, &st) == 0 &&
            (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)))
            unlink(path);
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

int mem_headroom(double bytes) {
    if (!(bytes > 0)) return 1;
    if (bytes > 1e15) return 0;
    /* reserved, never touched: counts against ulimit -v (RLIMIT_AS) and its
     * current use, as OpenBLAS's and posenc's own allocations will */
    void *p = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return 0;
    munmap(p, (size_t)bytes);
    return 1;
}

int mem_check(const char *what, double need, double param_bytes, int B, int T) {
    const double avail = mem_available_bytes(), gib = 1024.0 * 1024.0 * 1024.0;
    /* OpenBLAS allocates a work buffer per calling thread at its first product and retries forever if it
     * cannot (a spin no signal ends): its room is probed here, beside posenc's own need */
    const double blas = MEM_BLAS_BUFFER_BYTES * (double)(par_threads() + 1);
    if (need <= avail && mem_headroom(need + blas)) return 0;
    struct rlimit rl;
    const int limited = getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY;
    return core_errorf("%s does not fit in memory: it needs about %.2f GiB (parameters, gradients%s %.2f GiB; "
                     "activations for batches of %d x %d tokens %.2f GiB) and OpenBLAS's work buffers %.2f GiB, "
                     "but %s; reduce model.d_model, model.n_layers, the batch size or the sequence length%s",
                     what, need / gib, strcmp(what, "training") == 0 ? " and AdamW moments" : "",
                     param_bytes / gib, B, T, (need - param_bytes) / gib, blas / gib,
                     need > avail ? "less is available (MemAvailable of /proc/meminfo, or ulimit -v)"
                                  : "the address space left under ulimit -v cannot hold them",
                     limited ? ", or raise ulimit -v" : "");
}

#ifdef POSENC_FAULT_HOOKS
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
#endif
