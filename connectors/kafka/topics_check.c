/* A worker's start-up check of the declared topics (eddy_topics_check):
 * missing topics are an error naming the command that creates them; other
 * differences are warnings. */
#include <string.h>

#include "connectors/kafka/topics_int.h"
#include "engine/core/error.h"

int eddy_topics_check(const eddy_topics *t, rd_kafka_t *rk, int timeout_ms,
                      const char *config_path, eddy_buf *warnings, char *err, size_t errlen)
{
    if (!t || t->n == 0)
        return 0;
    tp_plan p = {0};
    int rc = eddy_tp_plan_build(t, rk, timeout_ms, &p, err, errlen);
    if (rc != 0) {
        eddy_tp_plan_free(&p);
        return rc;
    }
    eddy_buf missing = {0};
    size_t nmissing = 0;
    for (size_t i = 0; i < p.n; i++) {
        const tp_state *s = &p.ts[i];
        if (!s->exists) {
            rc |= eddy_buf_printf(&missing, "%s%s", nmissing ? ", " : "", s->d->name);
            nmissing++;
            continue;
        }
        int changes = 0, problems = 0;
        size_t mark = warnings->len;
        rc |= eddy_tp_report_topic(s, warnings, &changes, &problems);
        if (!changes && !problems)
            warnings->len = mark; /* "= up to date" is no warning */
    }
    if (rc == 0 && eddy_buf_putc(&missing, 0) != 0)
        rc = -1;
    const char *file = config_path ? config_path : "FILE";
    if (rc) {
        eddy_errf(err, errlen, "out of memory");
        rc = EDDY_ENOMEM;
    } else if (nmissing == 1) {
        eddy_errf(err, errlen, "topic %s is declared but does not exist; run `eddy topics apply -c %s`",
            (const char *)missing.data, file);
        rc = EDDY_ENOTFOUND;
    } else if (nmissing > 1) {
        eddy_errf(err, errlen, "topics %s are declared but do not exist; run `eddy topics apply -c %s`",
            (const char *)missing.data, file);
        rc = EDDY_ENOTFOUND;
    }
    eddy_buf_free(&missing);
    eddy_tp_plan_free(&p);
    return rc;
}
