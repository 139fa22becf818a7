/* `reference: file`: the baseline is read once at create, through the file
 * source connector, so every format a source reads works here too. Records
 * that fail to decode are counted and named in the log, not fatal: a few
 * bad lines in a large baseline should not stop a worker. An empty baseline
 * is refused, since nothing could ever be compared. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "engine/connector.h"
#include "engine/core/error.h"
#include "operators/drift/dist.h"
#include "engine/config/options.h"

int eddy_dist_load_file(dist *d, const eddy_opts *o, char *err, size_t errlen)
{
    const eddy_host *h = d->h;
    const char *path = h->opt_str(o, "reference_file");
    const char *fmt = h->opt_str(o, "reference_format");
    const eddy_source_ops *src = eddy_source_find("file");
    if (!src) {
        snprintf(err, errlen, "reference_file: no file connector in this build");
        return -1;
    }
    char why[512], pp[4200], pf[64];
    snprintf(pp, sizeof pp, "path=%s", path);
    snprintf(pf, sizeof pf, "format=%s", fmt ? fmt : "json");
    const char *pairs[] = {pp, pf};
    eddy_opts *so = eddy_opts_from_pairs(src->options, pairs, 2, why, sizeof why);
    if (!so) {
        snprintf(err, errlen, "reference_file: %s", why);
        return -1;
    }
    void *self = NULL;
    int rc = src->open(so, "reference", NULL, &self, why, sizeof why);
    if (rc < 0) {
        snprintf(err, errlen, "reference_file %s: %s", path, why);
        eddy_opts_free(so);
        return -1;
    }
    eddy_batch *b = eddy_batch_new(1024, 0);
    uint64_t bad = 0;
    char first_bad[256] = "";
    for (rc = 0; b;) {
        eddy_batch_reset(b);
        rc = src->poll(self, b, 1024, 100, why, sizeof why);
        if (rc == EDDY_EEOF)
            break;
        if (rc < 0) {
            snprintf(err, errlen, "reference_file %s: %s", path, why);
            break;
        }
        for (uint32_t i = 0; i < b->n; i++) {
            eddy_record *r = &b->recs[i];
            if (r->flags & EDDY_REC_ERROR) {
                if (!bad++)
                    snprintf(first_bad, sizeof first_bad, "record %" PRIu64 ": %s",
                             (uint64_t)r->offset, r->err_reason ? r->err_reason : "bad record");
                continue;
            }
            eddy_dist_add(d, r, W_REF);
            if (d->rb.n++ == 0)
                d->rb.start = d->rb.end = r->ts;
            if (r->ts < d->rb.start)
                d->rb.start = r->ts;
            if (r->ts > d->rb.end)
                d->rb.end = r->ts;
        }
    }
    src->close(self);
    eddy_opts_free(so);
    if (!b) {
        snprintf(err, errlen, "out of memory reading reference_file");
        return -1;
    }
    eddy_batch_destroy(b);
    if (rc < 0 && rc != EDDY_EEOF)
        return -1;
    if (bad)
        h->log(d->ctx, EDDY_LOG_WARN, "reference_file %s: %" PRIu64 " record(s) could not be "
                                      "read and were skipped; first: %s", path, bad, first_bad);
    if (d->rb.n == 0) {
        snprintf(err, errlen, "reference_file %s holds no usable records", path);
        return -1;
    }
    d->have_ref = 1;
    return 0;
}
