/* The on_error policy shared by filter and project. */
#include <stdio.h>
#include <string.h>

#include "operators/basic/basic.h"

int eddy_on_error_parse(const char *s)
{
    if (!s || strcmp(s, "reject") == 0)
        return EDDY_ON_ERROR_REJECT;
    if (strcmp(s, "drop") == 0)
        return EDDY_ON_ERROR_DROP;
    if (strcmp(s, "keep") == 0)
        return EDDY_ON_ERROR_KEEP;
    return -1;
}

int eddy_on_error_apply(const eddy_host *h, eddy_ctx *ctx, eddy_batch *b, uint32_t i,
                        eddy_on_error mode, const char *what, const char *why)
{
    switch (mode) {
    case EDDY_ON_ERROR_KEEP:
        return 0;
    case EDDY_ON_ERROR_REJECT: {
        char reason[512];
        snprintf(reason, sizeof reason, "%s: %s", what, why);
        int rc = h->reject(ctx, b, i, reason);
        if (rc < 0)
            return rc;
        break;
    }
    case EDDY_ON_ERROR_DROP:
        break;
    }
    /* A rejected record went to the dead letters; it must not also go on. */
    h->batch_drop(b, i);
    return 0;
}
