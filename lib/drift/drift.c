/* Public dispatch and the lazy reset that river's detectors share. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/core/error.h"
#include "lib/drift/drift_int.h"

eddy_drift_signal eddy_drift_update(eddy_drift *d, double x)
{
    if (d->flags & EDDY_DRIFT_FLAG_CHANGE)
        d->ops->reset(d);
    d->flags = d->ops->update(d, x);
    if (d->flags & EDDY_DRIFT_FLAG_CHANGE)
        return EDDY_DRIFT_CHANGE;
    return d->flags & EDDY_DRIFT_FLAG_WARNING ? EDDY_DRIFT_WARNING : EDDY_DRIFT_NONE;
}

unsigned eddy_drift_flags(const eddy_drift *d)
{
    return d->flags;
}

void eddy_drift_reset(eddy_drift *d)
{
    d->ops->reset(d);
    d->flags = 0;
}

void eddy_drift_free(eddy_drift *d)
{
    if (!d)
        return;
    if (d->ops->destroy)
        d->ops->destroy(d);
    free(d);
}

const char *eddy_drift_name(const eddy_drift *d)
{
    return d->ops->name;
}

double eddy_drift_statistic(const eddy_drift *d)
{
    return d->ops->statistic(d);
}

int eddy_drift_bad_param(char *err, size_t errlen, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    eddy_verrf(err, errlen, name, fmt, ap);
    va_end(ap);
    return EDDY_EINVAL;
}
