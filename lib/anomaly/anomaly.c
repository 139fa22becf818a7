/* Public dispatch, the score map shared by the z detectors, and the
 * snapshot frame every detector uses. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"
#include "lib/anomaly/anomaly_int.h"

#define SNAP_MAGIC "EDAN"
#define SNAP_VERSION 1

double eddy_anom_update(eddy_anom *a, double x, int64_t ts_ms)
{
    if (!isfinite(x))
        return 0.0;
    return a->ops->update(a, x, ts_ms);
}

double eddy_anom_statistic(const eddy_anom *a)
{
    return a->stat;
}

double eddy_anom_threshold(const eddy_anom *a)
{
    return a->ops->threshold ? a->ops->threshold(a) : NAN;
}

double eddy_anom_threshold_lower(const eddy_anom *a)
{
    return a->ops->threshold_lower ? a->ops->threshold_lower(a) : NAN;
}

void eddy_anom_reset(eddy_anom *a)
{
    a->stat = 0.0;
    a->ops->reset(a);
}

void eddy_anom_free(eddy_anom *a)
{
    if (!a)
        return;
    if (a->ops->destroy)
        a->ops->destroy(a);
    free(a);
}

const char *eddy_anom_name(const eddy_anom *a)
{
    return a->ops->name;
}

double eddy_anom_log_q(double z)
{
    if (z < 5.0)
        return log(0.5 * erfc(z / sqrt(2.0)));
    /* erfc underflows far out: the asymptotic series is exact to 1e-4
     * relative there and keeps growing with z. */
    return -0.5 * z * z - log(z * sqrt(2.0 * M_PI)) + log1p(-1.0 / (z * z));
}

double eddy_anom_tail_score(double ln_p)
{
    if (isnan(ln_p) || ln_p >= 0.0)
        return 0.0;
    return fmin(1.0, -ln_p / (EDDY_ANOM_TAIL_DIGITS * M_LN10));
}

double eddy_anom_z_to_score(double z)
{
    if (isnan(z))
        return 0.0;
    if (isinf(z))
        return 1.0;
    return eddy_anom_tail_score(M_LN2 + eddy_anom_log_q(fabs(z)));
}

int eddy_anom_bad_param(char *err, size_t errlen, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    eddy_verrf(err, errlen, name, fmt, ap);
    va_end(ap);
    return EDDY_EINVAL;
}

int eddy_anom_new_default(const char *name, eddy_anom **out, char *err, size_t errlen)
{
    if (strcmp(name, "zscore") == 0) {
        eddy_zscore_params p;
        eddy_zscore_defaults(&p);
        return eddy_zscore_new(&p, out, err, errlen);
    }
    if (strcmp(name, "robust_zscore") == 0) {
        eddy_robust_zscore_params p;
        eddy_robust_zscore_defaults(&p);
        return eddy_robust_zscore_new(&p, out, err, errlen);
    }
    if (strcmp(name, "ewma") == 0) {
        eddy_ewma_params p;
        eddy_ewma_defaults(&p);
        return eddy_ewma_new(&p, out, err, errlen);
    }
    if (strcmp(name, "spot") == 0 || strcmp(name, "dspot") == 0) {
        eddy_spot_params p;
        if (name[0] == 'd')
            eddy_dspot_defaults(&p);
        else
            eddy_spot_defaults(&p);
        return eddy_spot_new(&p, out, err, errlen);
    }
    if (strcmp(name, "nab") == 0) {
        eddy_nab_params p;
        eddy_nab_defaults(&p);
        return eddy_nab_new(&p, out, err, errlen);
    }
    return eddy_anom_bad_param(err, errlen, "anomaly",
                               "unknown detector '%s' (known: zscore, robust_zscore, ewma, "
                               "spot, dspot, nab)",
                               name);
}

/* ---- snapshot frame: magic, version, name, payload size, checksum ---- */

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

#define FNV_SEED 0xcbf29ce484222325ULL

int eddy_anom_snap_regions(const char *name, const anom_region *r, size_t nr, eddy_buf *out)
{
    uint64_t total = 0;
    for (size_t i = 0; i < nr; i++)
        total += r[i].n;
    uint8_t nlen = (uint8_t)strlen(name);
    if (eddy_buf_put(out, SNAP_MAGIC, 4) || eddy_put_u16(out, SNAP_VERSION) ||
        eddy_put_u8(out, nlen) || eddy_buf_put(out, name, nlen) || eddy_put_u64(out, total) ||
        eddy_put_u64(out, 0))
        return EDDY_ENOMEM;
    /* The checksum covers the payload as written, filled in once it is. */
    size_t sum_at = out->len - 8, payload = out->len;
    for (size_t i = 0; i < nr; i++) {
        int rc = eddy_put_fields(out, r[i].p, r[i].n, r[i].shape);
        if (rc != 0)
            return rc == -1 ? EDDY_ENOMEM : EDDY_EINVAL;
    }
    eddy_le64_store(out->data + sum_at, fnv1a(FNV_SEED, out->data + payload, out->len - payload));
    return 0;
}

int eddy_anom_load_regions(const char *name, const anom_region *r, size_t nr, const void *data,
                           size_t len)
{
    if (!data)
        return EDDY_EPARSE;
    eddy_rd rd = eddy_rd_of(data, len);
    size_t nlen = strlen(name);
    const uint8_t *magic = eddy_take(&rd, 4);
    uint16_t ver = eddy_get_u16(&rd);
    uint8_t got_nlen = eddy_get_u8(&rd);
    const uint8_t *got_name = eddy_take(&rd, nlen);
    if (rd.err || memcmp(magic, SNAP_MAGIC, 4) != 0 || ver != SNAP_VERSION || got_nlen != nlen ||
        memcmp(got_name, name, nlen) != 0)
        return EDDY_EPARSE;
    uint64_t total = eddy_get_u64(&rd), sum = eddy_get_u64(&rd), want = 0;
    for (size_t i = 0; i < nr; i++)
        want += r[i].n;
    if (rd.err || total != want || rd.left != want || fnv1a(FNV_SEED, rd.p, want) != sum)
        return EDDY_EPARSE;
    const uint8_t *p = rd.p;
    for (size_t i = 0; i < nr; i++) {
        if (eddy_load_fields(r[i].p, p, r[i].n, r[i].shape) != 0)
            return EDDY_EPARSE;
        p += r[i].n;
    }
    return 0;
}

int eddy_anom_snapshot(const eddy_anom *a, eddy_buf *out)
{
    anom_region r[ANOM_MAX_REGIONS];
    size_t nr = a->ops->regions(a, r);
    /* The last statistic is state too: a restored detector reports it. */
    r[nr++] = (anom_region){(void *)&a->stat, sizeof a->stat, ANOM_F64};
    return eddy_anom_snap_regions(a->ops->name, r, nr, out);
}

int eddy_anom_restore(eddy_anom *a, const void *data, size_t len)
{
    anom_region r[ANOM_MAX_REGIONS];
    size_t nr = a->ops->regions(a, r);
    r[nr++] = (anom_region){&a->stat, sizeof a->stat, ANOM_F64};
    eddy_buf old = {0};
    int rc = eddy_anom_snap_regions(a->ops->name, r, nr, &old);
    if (rc == 0) {
        rc = eddy_anom_load_regions(a->ops->name, r, nr, data, len);
        if (rc == 0 && a->ops->check(a) != 0) {
            eddy_anom_load_regions(a->ops->name, r, nr, old.data, old.len);
            rc = EDDY_EPARSE;
        }
    }
    eddy_buf_free(&old);
    return rc;
}
