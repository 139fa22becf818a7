/* Built-in-only host functions (engine/builtin_host.h): the engine side of
 * what built-in operators need beyond the plugin ABI. Runs on whichever
 * thread calls it (today: an operator's create, on the main thread); it
 * owns the source, options and batch it opens and frees them before it
 * returns. */
#include <inttypes.h>
#include <stdio.h>

#include "engine/builtin_host.h"
#include "engine/config/options.h"
#include "engine/connector.h"
#include "engine/core/batch.h"
#include "engine/core/error.h"

/* Passes one batch's records on; counts and names the bad ones. */
static int pass_batch(eddy_batch *b, eddy_builtin_record_fn on_record, void *arg,
                      eddy_builtin_read_stats *st)
{
    for (uint32_t i = 0; i < b->n; i++) {
        const eddy_record *r = &b->recs[i];
        if (r->flags & EDDY_REC_ERROR) {
            if (!st->bad++)
                snprintf(st->first_bad, sizeof st->first_bad, "record %" PRIu64 ": %s",
                         (uint64_t)r->offset, r->err_reason ? r->err_reason : "bad record");
            continue;
        }
        st->records++;
        if (on_record(arg, r) < 0)
            return -1;
    }
    return 0;
}

int eddy_builtin_read_file(const char *what, const char *path, const char *format,
                           eddy_builtin_record_fn on_record, void *arg,
                           eddy_builtin_read_stats *st, char *err, size_t errlen)
{
    *st = (eddy_builtin_read_stats){0};
    const eddy_source_ops *src = eddy_source_find("file");
    if (!src) {
        eddy_errf(err, errlen, "%s: no file connector in this build", what);
        return -1;
    }
    char why[512], pp[4200], pf[64];
    snprintf(pp, sizeof pp, "path=%s", path);
    snprintf(pf, sizeof pf, "format=%s", format ? format : "json");
    const char *pairs[] = {pp, pf};
    eddy_opts *so = eddy_opts_from_pairs(src->options, pairs, 2, why, sizeof why);
    if (!so) {
        eddy_errf(err, errlen, "%s: %s", what, why);
        return -1;
    }
    void *self = NULL;
    if (src->open(so, "reference", NULL, &self, why, sizeof why) < 0) {
        eddy_errf(err, errlen, "%s %s: %s", what, path, why);
        eddy_opts_free(so);
        return -1;
    }
    eddy_batch *b = eddy_batch_new(1024, 0);
    int rc = b ? 0 : EDDY_ENOMEM;
    while (b) {
        eddy_batch_reset(b);
        rc = src->poll(self, b, 1024, 100, why, sizeof why);
        if (rc == EDDY_EEOF)
            break;
        if (rc < 0) {
            eddy_errf(err, errlen, "%s %s: %s", what, path, why);
            break;
        }
        if (pass_batch(b, on_record, arg, st) < 0) {
            rc = -1;
            break;
        }
    }
    src->close(self);
    eddy_opts_free(so);
    if (!b) {
        eddy_errf(err, errlen, "out of memory reading %s", what);
        return -1;
    }
    eddy_batch_destroy(b);
    return rc < 0 && rc != EDDY_EEOF ? -1 : 0;
}
