/*
 * escape.c — quoting for gnuplot, the shell and sbatch (escape.h).
 */
#include "core/escape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

char *esc_gnuplot(const char *s, int enhanced) {
    /* the pieces between quotes as '...', each quote as "'", joined by
     * gnuplot's concatenation operator: gnuplot's own '' escape is not
     * reliable (four quotes read as two empty strings), and "'" holds nothing
     * a double-quoted string expands (no backquote, no backslash) */
    char *out = core_calloc(8 * strlen(s) + 3, 1), *o = out;
    int open = 0, pieces = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\'') {
            if (open) *o++ = '\'', open = 0;
            if (pieces++) *o++ = '.';
            memcpy(o, "\"'\"", 3);
            o += 3;
            continue;
        }
        if (!open) {
            if (pieces++) *o++ = '.';
            *o++ = '\'';
            open = 1;
        }
        if (*p < 0x20 || *p == 0x7f) {
            *o++ = ' '; /* a newline would end the command */
            continue;
        }
        if (enhanced && strchr("^_@&~{}\\", *p)) *o++ = '\\';
        *o++ = (char)*p;
    }
    if (open) *o++ = '\'';
    if (!pieces) *o++ = '\'', *o++ = '\'';
    *o = '\0';
    return out;
}

char *esc_sh(const char *s) {
    char *out = core_calloc(4 * strlen(s) + 3, 1), *o = out;
    *o++ = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = *p;
        }
    }
    *o++ = '\'';
    *o = '\0';
    return out;
}

int esc_sh_unquote(const char **pp, char *buf, size_t cap) {
    const char *p = *pp;
    size_t n = 0;
    if (*p != '\'' && *p != '\\') return -1;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
        if (*p == '\\' && p[1] == '\'') {
            if (n + 1 >= cap) return -1;
            buf[n++] = '\'';
            p += 2;
        } else if (*p == '\'') {
            const char *end = strchr(p + 1, '\'');
            if (!end || n + (size_t)(end - p - 1) >= cap) return -1;
            memcpy(buf + n, p + 1, (size_t)(end - p - 1));
            n += (size_t)(end - p - 1);
            p = end + 1;
        } else {
            return -1;
        }
    }
    buf[n] = '\0';
    *pp = p;
    return 0;
}

char *esc_sh_dq(const char *s, const char *what) {
    if (strchr(s, '\n')) {
        core_errorf("%s \"%s\": a newline cannot be written into a one-line shell command", what, s);
        return NULL;
    }
    char *out = core_calloc(2 * strlen(s) + 1, 1), *o = out;
    for (const char *p = s; *p; p++) {
        if (strchr("$`\"\\}", *p)) *o++ = '\\';
        *o++ = *p;
    }
    *o = '\0';
    return out;
}

char *esc_sbatch(const char *s, int filename_pattern, const char *what) {
    char *out = core_calloc(2 * strlen(s) + 1, 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= ' ' || *p == 0x7f || strchr("'\"\\", *p)) {
            char c[24];
            if (*p == ' ' || *p == '\t') snprintf(c, sizeof c, "whitespace");
            else if (*p < ' ' || *p == 0x7f) snprintf(c, sizeof c, "a control character");
            else snprintf(c, sizeof c, "the character %c", *p);
            core_errorf("%s \"%s\": sbatch cannot take %s in an #SBATCH line (it splits those lines at "
                      "whitespace and has no escape for quotes); choose a path without whitespace, quotes, "
                      "backslashes or control characters",
                      what, s, c);
            free(out);
            return NULL;
        }
        if (filename_pattern && *p == '%') *o++ = '%';
        *o++ = (char)*p;
    }
    *o = '\0';
    return out;
}
