/* Options of the top-level `state:` and `processing:` sections (durable
 * state and the delivery guarantee), parsed into the runtime by graph.c. */
#include <string.h>

#include "engine/state/state.h"

const eddy_option eddy_state_options[] = {
    {"enabled", EDDY_OPT_BOOL, "true", EDDY_NO_RANGE, NULL, 0,
     "Keep the state of stateful steps (windows, drift and anomaly detectors, distribution references, alert noise control, plugins that declare state) "
     "read from Kafka sources in a compacted changelog topic per source, written before the "
     "input offsets are committed and restored when a partition is assigned. Sources that are "
     "not Kafka keep state in memory only."},
    {"topics", EDDY_OPT_MAP, NULL, EDDY_NO_RANGE, NULL, 0,
     "Changelog topic per source name, e.g. {payments: payments-state}. Default: "
     "`<group>-<source>-changelog`, `<group>` being the source's consumer group. It must exist "
     "before the worker starts: `eddy topics apply` creates it (compacted, with the input's "
     "partitions)."},
    {"on_mismatch", EDDY_OPT_ENUM, "fail", EDDY_NO_RANGE, "fail|discard", 0,
     "What to do when the changelog holds state written by a differently configured step (e.g. "
     "another window size): fail (exit with a sentence naming the step and what changed) or "
     "discard (log it and start that step empty)."},
    {"restore_timeout", EDDY_OPT_DURATION, "4m", 1000, 86400000, NULL, 0,
     "Longest a partition's restore may take before the worker stops with an error. Keep it "
     "below the consumer's max.poll.interval.ms (5 min by default): the restore runs inside "
     "the consumer's poll, before the partition is read."},
    {"cache_dir", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_PATH,
     "Directory of a local copy of each partition's changelog (a file per partition, "
     "`<cache_dir>/<changelog topic>/<partition>-<input topic>.log`), so that a restart on the "
     "same host reads the file and only the changelog records written after it instead of the "
     "whole changelog. Only acknowledged (exactly_once: committed) records go into it; a file "
     "a crash left without its trailer, or that does not match the changelog, is ignored and "
     "rewritten. A speed-up only: deleting it is always safe. Default: none (every restore "
     "reads the changelog)."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

const eddy_option eddy_processing_options[] = {
    {"guarantee", EDDY_OPT_ENUM, "at_least_once", EDDY_NO_RANGE, "at_least_once|exactly_once", 0,
     "Delivery guarantee. at_least_once: nothing is lost; after a crash some outputs may be "
     "repeated (after a clean stop, none). exactly_once: Kafka outputs, changelog records and "
     "input offsets commit together in one Kafka transaction per processing thread, every "
     "worker.flush_interval (100ms recommended), so consumers reading with "
     "isolation.level=read_committed see each output once across crashes and rebalances; "
     "sinks that are not Kafka stay at-least-once. Not available with kafka.brokers: embedded "
     "(runs at-least-once, saying so). Needs state.enabled: true."},
    {"instance", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, 0,
     "exactly_once: this worker's name in its transactional ids "
     "(`<worker.name>-<instance>-t<thread>`), stable across restarts so that a restarted "
     "worker aborts what its crashed predecessor left open at once. Unique among live "
     "workers: two live workers with one id fence each other. Default: "
     "`<hostname>-<slot>`, the slot being the lowest number no other eddy with this "
     "worker.name holds on this host (a lock file in $TMPDIR or /tmp)."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

void eddy_state_parse(eddy_runtime *rt, eddy_cfg *cfg, const eddy_cnode *root)
{
    const eddy_cnode *sn = eddy_cnode_get(root, "state");
    if (sn && eddy_cnode_kind_of(sn) == EDDY_CNODE_NULL)
        sn = NULL;
    if (sn && eddy_cnode_kind_of(sn) != EDDY_CNODE_MAP) {
        eddy_cfg_fail(cfg, sn, "state", "expected a mapping like { enabled: true }, found %s",
                      eddy_cnode_kind_name(sn));
        sn = NULL;
    }
    rt->state_opts = eddy_opts_parse(cfg, eddy_state_options, sn, "state", NULL);
    const eddy_cnode *pn = eddy_cnode_get(root, "processing");
    if (pn && eddy_cnode_kind_of(pn) == EDDY_CNODE_NULL)
        pn = NULL;
    if (pn && eddy_cnode_kind_of(pn) != EDDY_CNODE_MAP) {
        eddy_cfg_fail(cfg, pn, "processing",
                      "expected a mapping like { guarantee: at_least_once }, found %s",
                      eddy_cnode_kind_name(pn));
        pn = NULL;
    }
    eddy_opts *po = eddy_opts_parse(cfg, eddy_processing_options, pn, "processing", NULL);
    const char *g = po ? eddy_opts_str(po, "guarantee") : NULL;
    rt->eos = g && strcmp(g, "exactly_once") == 0;
    if (rt->eos && rt->state_opts && !eddy_opts_bool(rt->state_opts, "enabled"))
        eddy_cfg_fail(cfg, eddy_cnode_get(pn, "guarantee"), "processing.guarantee",
                      "exactly_once needs durable state: with state.enabled: false a restart "
                      "loses the windows and detectors the committed offsets already cover; set "
                      "state.enabled: true (the default) or use at_least_once");
    eddy_opts_free(rt->processing_opts);
    rt->processing_opts = po;
}

int64_t eddy_flush_interval_ms(const eddy_runtime *rt)
{
    /* Measured (issue 13, RESULTS.md): the windowed job J2 spent 2.79 CPU-s
     * with 200 ms commits and 2.47 with 1 s, the changelog writes shrinking
     * with the commits. Kafka Streams commits every 30 s (100 ms under
     * exactly-once). */
    const char *where = eddy_opts_where(rt->worker, "flush_interval");
    if (rt->eos && (!where || !*where))
        return 100;
    return eddy_opts_int(rt->worker, "flush_interval");
}
