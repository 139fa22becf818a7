/* How a plan is told: one line per finding (topics.h lists them), shared by
 * `eddy topics plan`, `eddy topics apply` and a worker's start-up check. */
#include <stdio.h>
#include <string.h>

#include "connectors/kafka/topics_int.h"
#include "engine/core/error.h"

/* The observed value of a config; *found false when the broker did not
 * report the key. NULL value with found: sensitive. */
static const char *observed(const tp_state *s, const char *key, bool *found)
{
    for (size_t i = 0; i < s->nobs; i++)
        if (strcmp(s->okeys[i], key) == 0) {
            *found = true;
            return s->ovals[i];
        }
    *found = false;
    return NULL;
}

bool eddy_tp_config_differs(const tp_state *s, size_t k)
{
    bool found;
    const char *v = observed(s, s->d->keys[k], &found);
    return !v || strcmp(v, s->d->vals[k]) != 0;
}

size_t eddy_tp_config_diffs(const tp_state *s)
{
    size_t n = 0;
    if (!s->exists || !s->cfg_known)
        return 0;
    for (size_t k = 0; k < s->d->nconfigs; k++)
        n += eddy_tp_config_differs(s, k);
    return n;
}

bool eddy_tp_needs_parts(const tp_state *s) { return s->exists && s->parts < s->d->partitions; }

int eddy_tp_put_create_desc(eddy_buf *out, const eddy_topic *d)
{
    int rc = eddy_buf_printf(out, "%s (partitions %d, replication %d", d->name, (int)d->partitions,
                             (int)d->replication);
    for (size_t k = 0; k < d->nconfigs; k++)
        rc |= eddy_buf_printf(out, ", %s=%s", d->keys[k], d->vals[k]);
    return rc | eddy_buf_putc(out, ')');
}

int eddy_tp_put_config_change(eddy_buf *out, const tp_state *s, size_t k)
{
    bool found;
    const char *v = observed(s, s->d->keys[k], &found);
    return eddy_buf_printf(out, "%s %s -> %s", s->d->keys[k],
                           v ? v : found ? "(hidden)" : "(unset)", s->d->vals[k]);
}

/* One topic's lines. `problems` counts the ! lines. */
int eddy_tp_report_topic(const tp_state *s, eddy_buf *out, int *changes, int *problems)
{
    const eddy_topic *d = s->d;
    int rc = 0, before = *changes + *problems;
    if (!s->exists) {
        rc |= eddy_buf_puts(out, "+ create ");
        rc |= eddy_tp_put_create_desc(out, d);
        rc |= eddy_buf_putc(out, '\n');
        (*changes)++;
        return rc;
    }
    if (eddy_tp_needs_parts(s)) {
        /* Growing is not free: say what moves. */
        rc |= eddy_buf_printf(out, "~ %s: partitions %d -> %d (keys move: a key's later records "
                              "go to another partition than its earlier ones, so per-key order "
                              "across the change is lost, and durable state of windows and "
                              "detectors kept for a key stays with its old partition: those "
                              "keys start afresh)\n", d->name, (int)s->parts,
                              (int)d->partitions);
        (*changes)++;
    } else if (s->parts > d->partitions) {
        rc |= eddy_buf_printf(out, "! %s: has %d partitions, declared %d (cannot shrink)\n",
                              d->name, (int)s->parts, (int)d->partitions);
        (*problems)++;
    }
    if (s->repl >= 0 && s->repl != d->replication) {
        rc |= eddy_buf_printf(out,
                              "! %s: replication %d, declared %d (not changed: reassign "
                              "partitions with Kafka's tools)\n",
                              d->name, (int)s->repl, (int)d->replication);
        (*problems)++;
    }
    if (d->nconfigs && !s->cfg_known) {
        rc |= eddy_buf_printf(out, "! %s: configs unknown: %s\n", d->name, s->cfg_err);
        (*problems)++;
    }
    for (size_t k = 0; s->cfg_known && k < d->nconfigs; k++) {
        if (!eddy_tp_config_differs(s, k))
            continue;
        rc |= eddy_buf_printf(out, "~ %s: ", d->name);
        rc |= eddy_tp_put_config_change(out, s, k);
        rc |= eddy_buf_putc(out, '\n');
        (*changes)++;
    }
    if (*changes + *problems == before)
        rc |= eddy_buf_printf(out, "= %s: up to date\n", d->name);
    return rc;
}

int eddy_tp_report_all(const tp_plan *p, eddy_buf *out, int *changes, int *problems)
{
    int rc = 0;
    *changes = *problems = 0;
    for (size_t i = 0; i < p->n; i++)
        rc |= eddy_tp_report_topic(&p->ts[i], out, changes, problems);
    return rc ? EDDY_ENOMEM : 0;
}
