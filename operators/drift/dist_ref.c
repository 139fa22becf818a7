/* `reference: file`: the baseline is read once at create, through the
 * engine's built-in-only file reader (engine/builtin_host.h, which uses the
 * file source connector), so every format a source reads works here too.
 * Records that fail to decode are counted and named in the log, not fatal:
 * a few bad lines in a large baseline should not stop a worker. An empty
 * baseline is refused, since nothing could ever be compared. */
#include <inttypes.h>
#include <stdio.h>

#include "engine/builtin_host.h"
#include "operators/drift/dist.h"

/* One reference record: its features into the reference window, its event
 * time into the reference bounds. */
static int add_ref(void *arg, const eddy_record *r)
{
    dist *d = arg;
    int64_t ts = d->h->record_time(r);
    eddy_dist_add(d, r, W_REF);
    if (d->rb.n++ == 0)
        d->rb.start = d->rb.end = ts;
    if (ts < d->rb.start)
        d->rb.start = ts;
    if (ts > d->rb.end)
        d->rb.end = ts;
    return 0;
}

int eddy_dist_load_file(dist *d, const eddy_opts *o, char *err, size_t errlen)
{
    const eddy_host *h = d->h;
    const char *path = h->opt_str(o, "reference_file");
    const char *fmt = h->opt_str(o, "reference_format");
    eddy_builtin_read_stats st;
    if (eddy_builtin_read_file("reference_file", path, fmt, add_ref, d, &st, err, errlen) < 0)
        return -1;
    if (st.bad)
        h->log(d->ctx, EDDY_LOG_WARN, "reference_file %s: %" PRIu64 " record(s) could not be "
                                      "read and were skipped; first: %s", path, st.bad,
               st.first_bad);
    if (d->rb.n == 0) {
        snprintf(err, errlen, "reference_file %s holds no usable records", path);
        return -1;
    }
    d->have_ref = 1;
    return 0;
}
