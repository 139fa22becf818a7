#include "connectors/file/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/core/error.h"

int eddy_reader_open(eddy_reader *r, const char *path, bool follow, size_t chunk,
                     size_t max_cap, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    bool std = strcmp(path, "-") == 0;
    r->name = std ? "stdin" : path;
    if (std) {
        r->fd = 0;
    } else {
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0) {
            snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
            return -1;
        }
        r->own_fd = true;
    }
    struct stat st;
    if (fstat(r->fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", r->name, strerror(errno));
        eddy_reader_close(r);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory, expected a file", r->name);
        eddy_reader_close(r);
        return -1;
    }
    r->regular = S_ISREG(st.st_mode);
    r->follow = follow;
    r->max_cap = max_cap < chunk ? chunk : max_cap;
    r->cap = chunk;
    r->buf = malloc(chunk);
    if (!r->buf) {
        snprintf(err, errlen, "%s: out of memory for a %zu-byte read buffer", r->name, chunk);
        eddy_reader_close(r);
        return -1;
    }
    return 0;
}

void eddy_reader_close(eddy_reader *r)
{
    if (r->own_fd && r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    free(r->buf);
    r->buf = NULL;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int make_room(eddy_reader *r)
{
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->base += r->pos;
        r->len -= r->pos;
        r->pos = 0;
    }
    if (r->len < r->cap)
        return 0;
    if (r->cap >= r->max_cap)
        return EDDY_ELIMIT;
    size_t cap = r->cap * 2 > r->max_cap ? r->max_cap : r->cap * 2;
    uint8_t *b = realloc(r->buf, cap);
    if (!b)
        return EDDY_ENOMEM;
    r->buf = b;
    r->cap = cap;
    return 0;
}

int eddy_reader_more(eddy_reader *r, int timeout_ms, char *err, size_t errlen)
{
    if (r->eof)
        return 0;
    int rc = make_room(r);
    if (rc == EDDY_ENOMEM) {
        snprintf(err, errlen, "%s: out of memory growing the read buffer", r->name);
        return EDDY_EIO;
    }
    if (rc != 0)
        return rc;
    int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        if (!r->regular) {
            /* A pipe or terminal: wait for data within the timeout instead
             * of blocking the processing thread in read(). */
            int64_t left = deadline - mono_ms();
            struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
            int pr = poll(&pfd, 1, left > 0 ? (int)left : 0);
            if (pr < 0 && errno != EINTR) {
                snprintf(err, errlen, "%s: poll: %s", r->name, strerror(errno));
                return EDDY_EIO;
            }
            if (pr <= 0)
                return 0;
        }
        ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
        if (n > 0) {
            r->len += (size_t)n;
            return (int)(n > 0x7fffffff ? 0x7fffffff : n);
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return 0;
            snprintf(err, errlen, "%s: read failed: %s", r->name, strerror(errno));
            return EDDY_EIO;
        }
        /* End of data. A pipe's end is final; a followed file may grow. */
        if (!r->follow || !r->regular) {
            r->eof = true;
            return 0;
        }
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            return 0;
        struct timespec ts = {0, (long)(left < 50 ? left : 50) * 1000000L};
        nanosleep(&ts, NULL);
    }
}
