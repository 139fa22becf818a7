/* Chunked reading of a file or stdin into one reused buffer: the file
 * source reads large chunks and cuts records out of them in place, so no
 * allocation happens per line. Owner: the file source. */
#ifndef EDDY_CONN_READER_H
#define EDDY_CONN_READER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct eddy_reader {
    int fd;
    bool own_fd, regular, follow;
    bool eof;            /* no more data will come */
    uint8_t *buf;
    size_t cap, pos, len; /* unread data is buf[pos..len) */
    size_t max_cap;       /* the buffer never grows past this */
    uint64_t base;        /* file offset of buf[0] */
    const char *name;     /* for messages: the path or "stdin" */
} eddy_reader;

/* path "-" is stdin. 0, or -1 with "path: strerror" in err. */
int eddy_reader_open(eddy_reader *r, const char *path, bool follow, size_t chunk,
                     size_t max_cap, char *err, size_t errlen);
void eddy_reader_close(eddy_reader *r);

/* Reads more after the unread data, moving it to the front or growing the
 * buffer as needed. Waits up to timeout_ms for data on a pipe, or, in
 * follow mode, for a file to grow (sleeping, never spinning). Returns >0
 * bytes added, 0 when nothing came (r->eof tells whether any ever will),
 * EDDY_ELIMIT when the unread data already fills max_cap, or EDDY_EIO with
 * the reason in err. */
int eddy_reader_more(eddy_reader *r, int timeout_ms, char *err, size_t errlen);

#endif
