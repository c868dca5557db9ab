#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
