#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* One message per thread: a worker's error never overwrites the caller's. */
static _Thread_local char core_errbuf[2048];

int core_errorf(const char *fmt, ...) {
    /* format into a copy first: the arguments may include core_error() itself,
     * to wrap the previous message in more context */
    char tmp[sizeof core_errbuf];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    memcpy(core_errbuf, tmp, sizeof tmp);
    return -1;
}

const char *core_error(void) { return core_errbuf; }
