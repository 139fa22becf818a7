/* Config -> pipeline graph. Every reference is resolved and checked here so
 * that `eddy validate` catches what `eddy run` would trip over. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/admin_conf.h"
#include "engine/exec.h"
#include "engine/graph.h"
#include "engine/config/sections.h"
#include "engine/registry.h"
#include "engine/core/sym.h"
#include "lib/text/suggest.h"
#include "engine/state/state.h"

static char *xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p)
        abort(); /* start-up only: nothing sensible to do without memory */
    return p;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();
    return p;
}

static void where(eddy_cfg *cfg, const eddy_cnode *n, char *buf, size_t len)
{
    eddy_cnode_where(cfg, n, buf, len);
}

static bool check_map(eddy_cfg *cfg, const eddy_cnode *n, const char *path, const char *what)
{
    if (n && eddy_cnode_kind_of(n) == EDDY_CNODE_MAP)
        return true;
    eddy_cfg_fail(cfg, n, path, "expected %s (a mapping), found %s", what,
                  n ? eddy_cnode_kind_name(n) : "nothing");
    return false;
}

/* Refuses an enum value (given or default) of a built-in table whose feature
 * this build left out, such as `format: avro` without avro-c, naming the
 * reason (engine/registry.h). Plugins' tables are theirs: not checked. */
static bool left_out_value(eddy_cfg *cfg, const eddy_cnode *n, const char *path,
                           const eddy_option *table, const eddy_opts *opts)
{
    for (const eddy_option *o = table; opts && o->name; o++) {
        const char *v = o->type == EDDY_OPT_ENUM ? eddy_opts_str(opts, o->name) : NULL;
        const char *why = v ? eddy_left_out_reason(o->name, v) : NULL;
        if (why) {
            const eddy_cnode *vn = n ? eddy_cnode_get(n, o->name) : NULL;
            char at[256];
            snprintf(at, sizeof at, "%s.%s", path, o->name);
            eddy_cfg_fail(cfg, vn ? vn : n, at, "%s '%s'%s is not built into this eddy (%s)",
                          o->name, v, vn ? "" : " (the default)", why);
            return true;
        }
    }
    return false;
}

static rt_sink *build_sink(eddy_runtime *rt, const eddy_cnode *n, const char *path,
                           const char *name, bool dead_letter)
{
    eddy_cfg *cfg = rt->cfg;
    if (!check_map(cfg, n, path, "a sink"))
        return NULL;
    const eddy_cnode *tn = eddy_cnode_get(n, "type");
    const char *type = tn ? eddy_cnode_str(cfg, tn, path) : NULL;
    if (!type) {
        eddy_cfg_fail(cfg, tn ? tn : n, path, "a sink needs `type:` (one of the sink types, see `eddy describe --all`)");
        return NULL;
    }
    const eddy_sink_ops *ops = eddy_sink_find(type);
    if (!ops) {
        const char *left_out = eddy_left_out_reason("sink", type);
        if (left_out) {
            eddy_cfg_fail(cfg, tn, path, "sink type '%s' is not built into this eddy (%s)", type,
                          left_out);
            return NULL;
        }
        char known[256] = "";
        const eddy_sink_ops *const *all = eddy_sinks_all();
        for (size_t i = 0; all[i]; i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                     all[i]->type);
        eddy_cfg_fail(cfg, tn, path, "unknown sink type '%s' (known: %s)", type, known);
        return NULL;
    }
    static const char *const skip[] = {"type", "name", "after", NULL};
    eddy_opts *opts = eddy_opts_parse(cfg, ops->options, n, path, skip);
    if (!opts)
        return NULL;
    if (left_out_value(cfg, n, path, ops->options, opts)) {
        eddy_opts_free(opts);
        return NULL;
    }
    rt_sink *s = xcalloc(1, sizeof *s);
    s->ops = ops;
    s->opts = opts;
    s->dead_letter = dead_letter;
    pthread_mutex_init(&s->mu, NULL);
    const eddy_cnode *nn = eddy_cnode_get(n, "name");
    const char *own = nn ? eddy_cnode_str(cfg, nn, path) : NULL;
    char full[256];
    snprintf(full, sizeof full, "%s%s%s", name, own ? "." : "", own ? own : "");
    s->name = xstrdup(full);
    where(cfg, n, s->where, sizeof s->where);
    rt->sinks = realloc(rt->sinks, sizeof *rt->sinks * (size_t)(rt->nsinks + 1));
    if (!rt->sinks)
        abort();
    s->idx = rt->nsinks;
    rt->sinks[rt->nsinks++] = s;
    eddy_buf lb = {0};
    eddy_metrics_label(&lb, "sink", s->name);
    eddy_buf_putc(&lb, '\0');
    s->m_out = eddy_metrics_get(rt->metrics, "eddy_sink_records_total",
                                "Records written by a sink", EDDY_METRIC_COUNTER, (char *)lb.data);
    s->m_err = eddy_metrics_get(rt->metrics, "eddy_sink_errors_total",
                                "Failed sink writes", EDDY_METRIC_COUNTER, (char *)lb.data);
    eddy_buf_free(&lb);
    return s;
}

static int find_name(char **names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return i;
    return -1;
}

static void build_source(eddy_runtime *rt, const eddy_cnode *n, int idx)
{
    eddy_cfg *cfg = rt->cfg;
    char path[64];
    snprintf(path, sizeof path, "sources[%d]", idx);
    rt_source *s = &rt->sources[idx];
    s->origin = idx;
    s->ts_field = 0;
    s->name = xstrdup(""); /* also for an entry that is not a mapping: names are read later */
    if (!check_map(cfg, n, path, "a source"))
        return;
    const char *const skip_common[] = {"timestamp", "watermark", "dead_letter", NULL};
    /* Common keys first (name, type, key), connector keys second: the
     * connector's table must know the common keys as "skip". */
    const eddy_cnode *tn = eddy_cnode_get(n, "type");
    const char *type = tn ? eddy_cnode_str(cfg, tn, path) : NULL;
    const eddy_cnode *nn = eddy_cnode_get(n, "name");
    const char *name = nn ? eddy_cnode_str(cfg, nn, path) : NULL;
    free(s->name);
    s->name = xstrdup(name ? name : "");
    s->node = n;
    where(cfg, n, s->where, sizeof s->where);
    if (!type) {
        eddy_cfg_fail(cfg, n, path, "missing required key 'type'");
        return;
    }
    s->ops = eddy_source_find(type);
    if (!s->ops) {
        const char *left_out = eddy_left_out_reason("source", type);
        if (left_out) {
            eddy_cfg_fail(cfg, tn, path, "source type '%s' is not built into this eddy (%s)", type,
                          left_out);
            return;
        }
        char known[256] = "";
        const eddy_source_ops *const *all = eddy_sources_all();
        for (size_t i = 0; all[i]; i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                     all[i]->type);
        eddy_cfg_fail(cfg, tn, path, "unknown source type '%s' (known: %s)", type, known);
        return;
    }
    /* Validate the union of common and connector keys: each table skips the
     * other's keys, so an unknown key is reported once. */
    const char *skip_conn[32];
    size_t k = 0;
    for (size_t i = 0; eddy_source_common_options[i].name; i++)
        skip_conn[k++] = eddy_source_common_options[i].name;
    for (size_t i = 0; skip_common[i]; i++)
        skip_conn[k++] = skip_common[i];
    skip_conn[k] = NULL;
    const char *skip_c[64];
    k = 0;
    for (size_t i = 0; skip_common[i]; i++)
        skip_c[k++] = skip_common[i];
    for (size_t i = 0; s->ops->options[i].name && k < 63; i++)
        skip_c[k++] = s->ops->options[i].name;
    skip_c[k] = NULL;
    eddy_opts *common = eddy_opts_parse(cfg, eddy_source_common_options, n, path, skip_c);
    s->opts = eddy_opts_parse(cfg, s->ops->options, n, path, skip_conn);
    left_out_value(cfg, n, path, s->ops->options, s->opts);
    if (common) {
        const char *key = eddy_opts_str(common, "key");
        if (key)
            s->key_field = eddy_sym_intern(key, strlen(key));
        eddy_opts_free(common);
    }
    char sub[96];
    const eddy_cnode *ts = eddy_cnode_get(n, "timestamp");
    if (ts) {
        snprintf(sub, sizeof sub, "%s.timestamp", path);
        if (check_map(cfg, ts, sub, "timestamp settings like { field: ts, unit: ms }")) {
            eddy_opts *o = eddy_opts_parse(cfg, eddy_timestamp_options, ts, sub, NULL);
            if (o) {
                const char *f = eddy_opts_str(o, "field");
                s->ts_field = eddy_sym_intern(f, strlen(f));
                static const char *const units[] = {"ms", "s", "us", "ns", "iso8601"};
                const char *u = eddy_opts_str(o, "unit");
                for (int i = 0; i < 5; i++)
                    if (strcmp(u, units[i]) == 0)
                        s->ts_unit = i;
                eddy_opts_free(o);
            }
        }
    }
    const eddy_cnode *wm = eddy_cnode_get(n, "watermark");
    if (wm) {
        snprintf(sub, sizeof sub, "%s.watermark", path);
        if (check_map(cfg, wm, sub, "watermark settings like { max_out_of_order: 5s }")) {
            eddy_opts *o = eddy_opts_parse(cfg, eddy_watermark_options, wm, sub, NULL);
            if (o) {
                s->max_out_of_order = eddy_opts_int(o, "max_out_of_order");
                s->idle_timeout = eddy_opts_int(o, "idle_timeout");
                eddy_opts_free(o);
            }
        }
    }
    const eddy_cnode *dl = eddy_cnode_get(n, "dead_letter");
    if (dl) {
        snprintf(sub, sizeof sub, "%s.dead_letter", path);
        char nm[160];
        snprintf(nm, sizeof nm, "%s.dead_letter", s->name);
        s->dead_letter = build_sink(rt, dl, sub, nm, true);
    }
    eddy_buf lb = {0};
    eddy_metrics_label(&lb, "source", s->name);
    eddy_buf_putc(&lb, '\0');
    s->m_in = eddy_metrics_get(rt->metrics, "eddy_source_records_total",
                               "Records read by a source (good and bad)", EDDY_METRIC_COUNTER,
                               (char *)lb.data);
    s->m_err = eddy_metrics_get(rt->metrics, "eddy_source_errors_total",
                                "Records a source could not decode or stamp", EDDY_METRIC_COUNTER,
                                (char *)lb.data);
    s->m_paused = eddy_metrics_get(rt->metrics, "eddy_source_pauses_total",
                                   "Times a source was paused because a sink fell behind",
                                   EDDY_METRIC_COUNTER, (char *)lb.data);
    s->m_dead = eddy_metrics_get(rt->metrics, "eddy_dead_letters_total",
                                 "Records sent to a dead-letter output (or logged when none)",
                                 EDDY_METRIC_COUNTER, (char *)lb.data);
    eddy_buf_free(&lb);
}

static const char *suggest_op(const char *name)
{
    eddy_suggest s;
    eddy_suggest_init(&s, name, strlen(name));
    for (size_t i = 0; i < eddy_ops_count(); i++)
        eddy_suggest_try(&s, eddy_ops_at(i)->d.name);
    return eddy_suggest_best(&s, 2);
}

static void step_metrics(eddy_runtime *rt, rt_pipeline *p, rt_step *st)
{
    eddy_buf lb = {0};
    eddy_metrics_label(&lb, "pipeline", p->name);
    eddy_metrics_label(&lb, "step", st->name);
    eddy_buf_putc(&lb, '\0');
    const char *l = (const char *)lb.data;
    st->m_in = eddy_metrics_get(rt->metrics, "eddy_step_records_in_total",
                                "Records into a step", EDDY_METRIC_COUNTER, l);
    st->m_out = eddy_metrics_get(rt->metrics, "eddy_step_records_out_total",
                                 "Records out of a step", EDDY_METRIC_COUNTER, l);
    st->m_err = eddy_metrics_get(rt->metrics, "eddy_step_errors_total",
                                 "Records a step rejected or failed on", EDDY_METRIC_COUNTER, l);
    eddy_buf_free(&lb);
}

static int push_int(int **arr, int *n, int v)
{
    int *a = realloc(*arr, sizeof *a * (size_t)(*n + 1));
    if (!a)
        abort();
    a[(*n)++] = v;
    *arr = a;
    return 0;
}

static void build_steps(eddy_runtime *rt, rt_pipeline *p, const eddy_cnode *steps, const char *ppath)
{
    eddy_cfg *cfg = rt->cfg;
    char path[128];
    snprintf(path, sizeof path, "%s.steps", ppath);
    if (eddy_cnode_kind_of(steps) != EDDY_CNODE_SEQ) {
        eddy_cfg_fail(cfg, steps, path, "expected a sequence of steps, found %s",
                      eddy_cnode_kind_name(steps));
        return;
    }
    p->nsteps = (int)eddy_cnode_seq_len(steps);
    p->steps = xcalloc((size_t)p->nsteps, sizeof *p->steps);
    char **names = xcalloc((size_t)p->nsteps, sizeof *names);
    for (int i = 0; i < p->nsteps; i++) {
        rt_step *st = &p->steps[i];
        st->parent = i - 1;
        pthread_mutex_init(&st->req_mu, NULL);
        st->alert_merge = eddy_alert_merge_new();
        if (!st->alert_merge)
            abort(); /* start-up only, as xcalloc */
        const eddy_cnode *sn = eddy_cnode_seq_at(steps, (size_t)i);
        char spath[160];
        snprintf(spath, sizeof spath, "%s[%d]", path, i);
        where(cfg, sn, st->where, sizeof st->where);
        if (!check_map(cfg, sn, spath, "a step like { filter: { where: ... } }"))
            continue;
        const char *opname = NULL, *own = NULL, *after = NULL;
        const eddy_cnode *opnode = NULL, *after_node = NULL, *outputs = NULL;
        const eddy_cnode *alerts_node = NULL;
        eddy_cnode *outputs_key = NULL;
        for (size_t k = 0; k < eddy_cnode_map_len(sn); k++) {
            eddy_cnode *kn;
            const char *key = eddy_cnode_map_key(cfg, sn, k, &kn);
            const eddy_cnode *v = eddy_cnode_map_value(sn, k);
            if (strcmp(key, "outputs") == 0) {
                outputs = v;
                outputs_key = kn;
            } else if (strcmp(key, "alerts") == 0) {
                alerts_node = v;
            } else if (strcmp(key, "name") == 0) {
                own = eddy_cnode_str(cfg, v, spath);
            } else if (strcmp(key, "after") == 0) {
                after = eddy_cnode_str(cfg, v, spath);
                after_node = v;
            } else if (opname) {
                eddy_cfg_fail(cfg, kn, spath,
                              "a step has one operator, found '%s' and '%s' (split them into two steps)",
                              opname, key);
            } else {
                opname = key;
                opnode = v;
                const eddy_opdef *op = eddy_ops_find(key);
                if (!op) {
                    const char *sug = suggest_op(key);
                    eddy_cfg_fail(cfg, kn, spath, "unknown operator '%s'%s%s%s (%s)", key,
                                  sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "",
                                  rt->plugins_missing
                                      ? "it may be in a plugin directory that could not be "
                                        "loaded: see worker.plugin_dirs above"
                                      : "see `eddy operators`");
                    continue;
                }
                st->op = op;
            }
        }
        if (!opname) {
            eddy_cfg_fail(cfg, sn, spath, "a step needs an operator key (e.g. filter, project)");
            continue;
        }
        char nm[128];
        if (own)
            snprintf(nm, sizeof nm, "%s", own);
        else
            snprintf(nm, sizeof nm, "%s#%d", opname, i);
        if (find_name(names, i, nm) >= 0)
            eddy_cfg_fail(cfg, sn, spath, "step name '%s' is used twice in this pipeline", nm);
        names[i] = xstrdup(nm);
        st->name = names[i];
        if (outputs) {
            char opath[200];
            snprintf(opath, sizeof opath, "%s.outputs", spath);
            if (!check_map(cfg, outputs, opath, "side outputs like { late: { type: kafka, topic: x } }")) {
                (void)outputs_key;
            } else {
                st->nouts = (int)eddy_cnode_map_len(outputs);
                st->out_names = xcalloc((size_t)st->nouts, sizeof *st->out_names);
                st->out_sinks = xcalloc((size_t)st->nouts, sizeof *st->out_sinks);
                for (int k = 0; k < st->nouts; k++) {
                    eddy_cnode *okn;
                    const char *oname = eddy_cnode_map_key(cfg, outputs, (size_t)k, &okn);
                    char sp[260], sname[200];
                    snprintf(sp, sizeof sp, "%s.%s", opath, oname);
                    snprintf(sname, sizeof sname, "%s.%s.%s", p->name, nm, oname);
                    st->out_names[k] = xstrdup(oname);
                    st->out_sinks[k] = build_sink(rt, eddy_cnode_map_value(outputs, (size_t)k), sp, sname, false);
                }
            }
        }
        if (alerts_node) {
            char apath[200];
            snprintf(apath, sizeof apath, "%s.alerts", spath);
            if (check_map(cfg, alerts_node, apath,
                          "alert noise controls like { min_consecutive: 2, cooldown: 10m }"))
                st->alert_opts = eddy_opts_parse(cfg, eddy_alert_policy_options, alerts_node,
                                                 apath, NULL);
        }
        eddy_alert_policy_from_opts(&st->alert_policy, st->alert_opts);
        if (after) {
            int a = find_name(names, i, after);
            if (a < 0 && strcmp(after, "input") != 0)
                eddy_cfg_fail(cfg, after_node, spath,
                              "after: '%s' is not an earlier step of this pipeline (or 'input')", after);
            st->parent = a;
        }
        if (st->op) {
            char opath[200];
            snprintf(opath, sizeof opath, "%s.%s", spath, opname);
            snprintf(st->path, sizeof st->path, "%s", opath);
            st->node = opnode && eddy_cnode_kind_of(opnode) == EDDY_CNODE_MAP ? opnode : sn;
            if (opnode && eddy_cnode_kind_of(opnode) != EDDY_CNODE_MAP &&
                eddy_cnode_kind_of(opnode) != EDDY_CNODE_NULL) {
                eddy_cfg_fail(cfg, opnode, opath, "expected the operator's options (a mapping), found %s",
                              eddy_cnode_kind_name(opnode));
            } else {
                const eddy_cnode *m = eddy_cnode_kind_of(opnode) == EDDY_CNODE_MAP ? opnode : NULL;
                st->opts = eddy_opts_parse(cfg, st->op->d.options, m, opath, NULL);
                if (strcmp(st->op->origin, "built-in") == 0)
                    left_out_value(cfg, m, opath, st->op->d.options, st->opts);
            }
        }
        step_metrics(rt, p, st);
    }
    free(names); /* the strings are owned by the steps */
    for (int i = 0; i < p->nsteps; i++) {
        int parent = p->steps[i].parent;
        if (parent < 0)
            push_int(&p->root_children, &p->nroot_children, i);
        else
            push_int(&p->steps[parent].children, &p->steps[parent].nchildren, i);
    }
}

static void build_pipeline(eddy_runtime *rt, const eddy_cnode *n, int idx, char **names, int nsrc)
{
    eddy_cfg *cfg = rt->cfg;
    rt_pipeline *p = &rt->pipelines[idx];
    p->from_source = p->from_pipeline = -1;
    p->output = -1;
    char path[64];
    snprintf(path, sizeof path, "pipelines[%d]", idx);
    if (!check_map(cfg, n, path, "a pipeline"))
        return;
    static const char *const skip[] = {"steps", "to", "dead_letter", NULL};
    eddy_opts *o = eddy_opts_parse(cfg, eddy_pipeline_options, n, path, skip);
    const eddy_cnode *nn = eddy_cnode_get(n, "name");
    const char *name = nn ? eddy_cnode_str(cfg, nn, path) : NULL;
    p->name = xstrdup(name ? name : "");
    eddy_buf lb = {0};
    eddy_metrics_label(&lb, "pipeline", p->name);
    eddy_buf_putc(&lb, '\0');
    p->m_in = eddy_metrics_get(rt->metrics, "eddy_pipeline_records_in_total",
                               "Records into a pipeline", EDDY_METRIC_COUNTER, (char *)lb.data);
    p->m_dead = eddy_metrics_get(rt->metrics, "eddy_pipeline_dead_letters_total",
                                 "Records operators of a pipeline rejected", EDDY_METRIC_COUNTER,
                                 (char *)lb.data);
    static const double bounds[] = {1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05, 0.1, 0.5, 1};
    p->h_latency = eddy_metrics_hist(rt->metrics, "eddy_batch_seconds",
                                     "Time to run one batch through a pipeline",
                                     (char *)lb.data, bounds, sizeof bounds / sizeof bounds[0]);
    eddy_buf_free(&lb);
    const eddy_cnode *steps = eddy_cnode_get(n, "steps");
    if (steps && eddy_cnode_kind_of(steps) != EDDY_CNODE_NULL)
        build_steps(rt, p, steps, path);
    if (o) {
        const char *from = eddy_opts_str(o, "from");
        int i = find_name(names, nsrc, from);
        if (i >= 0) {
            p->from_source = i;
        } else {
            i = find_name(names + nsrc, rt->npipelines, from);
            if (i < 0 || i == idx)
                eddy_cfg_fail(cfg, eddy_cnode_get(n, "from"), path,
                              i == idx ? "a pipeline cannot read its own output"
                                       : "from: '%s' is neither a source nor a pipeline", from);
            else
                p->from_pipeline = i;
        }
        p->output = p->nsteps - 1;
        const char *out = eddy_opts_str(o, "output");
        if (out) {
            p->output = -2;
            for (int s = 0; s < p->nsteps; s++)
                if (p->steps[s].name && strcmp(p->steps[s].name, out) == 0)
                    p->output = s;
            if (p->output == -2)
                eddy_cfg_fail(cfg, eddy_cnode_get(n, "output"), path,
                              "output: '%s' is not a step of this pipeline", out);
        }
        eddy_opts_free(o);
    }
    const eddy_cnode *to = eddy_cnode_get(n, "to");
    if (to && eddy_cnode_kind_of(to) != EDDY_CNODE_NULL) {
        char tpath[96];
        snprintf(tpath, sizeof tpath, "%s.to", path);
        if (eddy_cnode_kind_of(to) != EDDY_CNODE_SEQ) {
            eddy_cfg_fail(cfg, to, tpath, "expected a sequence of sinks, found %s",
                          eddy_cnode_kind_name(to));
        } else {
            p->nsinks = (int)eddy_cnode_seq_len(to);
            p->sinks = xcalloc((size_t)p->nsinks, sizeof *p->sinks);
            for (int i = 0; i < p->nsinks; i++) {
                const eddy_cnode *sn = eddy_cnode_seq_at(to, (size_t)i);
                char spath[128], nm[160];
                snprintf(spath, sizeof spath, "%s[%d]", tpath, i);
                const eddy_cnode *tn = eddy_cnode_kind_of(sn) == EDDY_CNODE_MAP ? eddy_cnode_get(sn, "type") : NULL;
                const char *t = tn ? eddy_cnode_str(cfg, tn, spath) : NULL;
                snprintf(nm, sizeof nm, "%s.%s#%d", p->name, t ? t : "sink", i);
                p->sinks[i] = build_sink(rt, sn, spath, nm, false);
                int parent = p->output;
                const eddy_cnode *an = eddy_cnode_kind_of(sn) == EDDY_CNODE_MAP ? eddy_cnode_get(sn, "after") : NULL;
                if (an) {
                    const char *after = eddy_cnode_str(cfg, an, spath);
                    parent = -2;
                    for (int s = 0; after && s < p->nsteps; s++)
                        if (p->steps[s].name && strcmp(p->steps[s].name, after) == 0)
                            parent = s;
                    if (after && strcmp(after, "input") == 0)
                        parent = -1;
                    if (parent == -2) {
                        eddy_cfg_fail(cfg, an, spath, "after: '%s' is not a step of this pipeline",
                                      after ? after : "");
                        continue;
                    }
                }
                if (parent < 0)
                    push_int(&p->root_sinks, &p->nroot_sinks, i);
                else
                    push_int(&p->steps[parent].sinks, &p->steps[parent].nsinks, i);
            }
        }
    }
    const eddy_cnode *dl = eddy_cnode_get(n, "dead_letter");
    if (dl) {
        char dpath[96], nm[160];
        snprintf(dpath, sizeof dpath, "%s.dead_letter", path);
        snprintf(nm, sizeof nm, "%s.dead_letter", p->name);
        p->dead_letter = build_sink(rt, dl, dpath, nm, true);
    }
}

/* How many pipelines a record may cross on the in-process bus. */
#define EDDY_BUS_MAX_DEPTH 64

/* Resolves root sources and bus subscribers; rejects cycles and chains
 * longer than EDDY_BUS_MAX_DEPTH. */
static void link_pipelines(eddy_runtime *rt)
{
    for (int i = 0; i < rt->npipelines; i++) {
        rt_pipeline *p = &rt->pipelines[i];
        int cur = i, hops = 0;
        while (rt->pipelines[cur].from_pipeline >= 0 && hops <= rt->npipelines) {
            cur = rt->pipelines[cur].from_pipeline;
            hops++;
        }
        if (hops > rt->npipelines) {
            eddy_cfg_fail(rt->cfg, NULL, p->name,
                          "pipelines read each other in a cycle (via `from`); the in-process bus must be acyclic");
            p->root_source = -1;
            continue;
        }
        if (hops > EDDY_BUS_MAX_DEPTH) {
            /* A record crosses the bus by a call from the pipeline before
             * (eddy_exec_after): 20,000 hops overflowed the stack and 3,000
             * ran for minutes. Said once, at the first pipeline too far. */
            if (hops == EDDY_BUS_MAX_DEPTH + 1)
                eddy_cfg_fail(rt->cfg, NULL, p->name,
                              "reads through more than %d pipelines (via `from`) from its "
                              "source; the in-process bus allows %d: read from an earlier "
                              "pipeline, or join steps into one pipeline",
                              EDDY_BUS_MAX_DEPTH, EDDY_BUS_MAX_DEPTH);
            p->root_source = -1;
            continue;
        }
        p->root_source = rt->pipelines[cur].from_source;
        if (p->from_pipeline >= 0)
            push_int(&rt->pipelines[p->from_pipeline].subscribers,
                     &rt->pipelines[p->from_pipeline].nsubscribers, i);
        else if (p->from_source >= 0)
            push_int(&rt->sources[p->from_source].pipelines,
                     &rt->sources[p->from_source].npipelines, i);
    }
}

/* The distinct top-level sections of the registered connectors (sources,
 * then sinks, registry order): one entry however many connectors share it. */
static void add_section(eddy_runtime *rt, const eddy_conn_sections *def)
{
    if (!def)
        return;
    for (int i = 0; i < rt->nsections; i++)
        if (rt->sections[i].def == def)
            return;
    rt->sections[rt->nsections++].def = def;
}

static void collect_sections(eddy_runtime *rt)
{
    size_t max = 0;
    for (const eddy_source_ops *const *s = eddy_sources_all(); *s; s++)
        max++;
    for (const eddy_sink_ops *const *s = eddy_sinks_all(); *s; s++)
        max++;
    rt->sections = xcalloc(max, sizeof *rt->sections);
    for (const eddy_source_ops *const *s = eddy_sources_all(); *s; s++)
        add_section(rt, (*s)->sections);
    for (const eddy_sink_ops *const *s = eddy_sinks_all(); *s; s++)
        add_section(rt, (*s)->sections);
}

/* The top-level keys, NULL-terminated (caller frees): worker, those of the
 * connectors' sections (kafka, topics), state, processing, sources,
 * pipelines; and the same
 * as a "known: ..." list in known. */
static const char **top_level_keys(const eddy_runtime *rt, char *known, size_t knownlen)
{
    size_t n = 5;
    for (int i = 0; i < rt->nsections; i++)
        for (const char *const *k = rt->sections[i].def->keys; *k; k++)
            n++;
    const char **keys = xcalloc(n + 1, sizeof *keys);
    size_t at = 0;
    keys[at++] = "worker";
    for (int i = 0; i < rt->nsections; i++)
        for (const char *const *k = rt->sections[i].def->keys; *k; k++)
            keys[at++] = *k;
    keys[at++] = "state"; /* engine/state */
    keys[at++] = "processing";
    keys[at++] = "sources";
    keys[at++] = "pipelines";
    size_t len = 0;
    known[0] = '\0';
    for (size_t i = 0; keys[i] && len < knownlen; i++)
        len += (size_t)snprintf(known + len, knownlen - len, "%s%s", i ? ", " : "", keys[i]);
    return keys;
}

/* Validation creates each operator once, as a dry run of its options. */
static void dry_run_operators(eddy_runtime *rt)
{
    for (int i = 0; i < rt->npipelines; i++) {
        rt_pipeline *p = &rt->pipelines[i];
        for (int s = 0; s < p->nsteps; s++) {
            rt_step *st = &p->steps[s];
            if (!st->op || !st->opts)
                continue;
            char err[512] = "";
            if (eddy_exec_probe_operator(rt, p, st, err, sizeof err) != 0)
                eddy_cfg_fail(rt->cfg, st->node, st->path, "%s",
                              err[0] ? err : "the operator refused its options");
        }
    }
}

eddy_runtime *eddy_runtime_build(eddy_cfg *cfg, bool validate)
{
    eddy_runtime *rt = xcalloc(1, sizeof *rt);
    rt->cfg = cfg;
    rt->metrics = eddy_metrics_new();
    rt->alerts = eddy_alert_ring_new(1024);
    if (!rt->alerts)
        abort();
    eddy_ops_init();
    eddy_cnode *root = eddy_cfg_root(cfg);
    if (eddy_cfg_errors(cfg))
        goto fail;
    if (!root || eddy_cnode_kind_of(root) != EDDY_CNODE_MAP) {
        eddy_cfg_fail(cfg, root, "(top level)",
                      "expected a mapping with worker, sources and pipelines, found %s",
                      root ? eddy_cnode_kind_name(root) : "an empty document");
        goto fail;
    }
    collect_sections(rt);
    char known[256];
    const char **top_keys = top_level_keys(rt, known, sizeof known);
    for (size_t i = 0; i < eddy_cnode_map_len(root); i++) {
        eddy_cnode *kn;
        const char *k = eddy_cnode_map_key(cfg, root, i, &kn);
        bool ok = false;
        for (size_t j = 0; top_keys[j]; j++)
            ok |= strcmp(k, top_keys[j]) == 0;
        if (!ok) {
            const char *best = eddy_suggest_among(k, top_keys, 2);
            if (best)
                eddy_cfg_fail(cfg, kn, k, "unknown key '%s'; did you mean '%s'?", k, best);
            else
                eddy_cfg_fail(cfg, kn, k, "unknown key '%s' (known: %s)", k, known);
        }
    }
    free(top_keys);
    const eddy_cnode *wn = eddy_cnode_get(root, "worker");
    if (wn && eddy_cnode_kind_of(wn) != EDDY_CNODE_NULL && !check_map(cfg, wn, "worker", "worker settings"))
        wn = NULL;
    if (wn && eddy_cnode_kind_of(wn) == EDDY_CNODE_NULL)
        wn = NULL;
    static const char *const wskip[] = {"admin", "log", NULL};
    rt->worker = eddy_opts_parse(cfg, eddy_worker_options, wn, "worker", wskip);
    const eddy_cnode *an = wn ? eddy_cnode_get(wn, "admin") : NULL;
    const eddy_cnode *ln = wn ? eddy_cnode_get(wn, "log") : NULL;
    if (an && !check_map(cfg, an, "worker.admin", "admin settings"))
        an = NULL;
    if (ln && !check_map(cfg, ln, "worker.log", "log settings"))
        ln = NULL;
    rt->admin = eddy_opts_parse(cfg, eddy_admin_options, an, "worker.admin", NULL);
    if (rt->admin)
        eddy_admin_conf_validate(cfg, rt->admin, an);
    /* Connector-owned sections (`kafka:`, `topics:`), parsed where the
     * engine's own are so that errors keep their order. */
    for (int i = 0; i < rt->nsections; i++)
        rt->sections[i].state = rt->sections[i].def->parse(cfg, root);
    eddy_state_parse(rt, cfg, root); /* `state:`, `processing:` */
    rt->log = eddy_opts_parse(cfg, eddy_log_options, ln, "worker.log", NULL);
    if (rt->worker) {
        rt->batch_size = (uint32_t)eddy_opts_int(rt->worker, "batch_size");
        rt->batch_memory = (size_t)eddy_opts_int(rt->worker, "batch_memory");
        rt->nthreads = (int)eddy_opts_int(rt->worker, "threads");
        char derr[512];
        if (eddy_ops_load_default_dir(derr, sizeof derr) != 0)
            eddy_cfg_fail(cfg, NULL, "plugins", "the installed plugin directory: %s", derr);
        const eddy_cnode *pd = wn ? eddy_cnode_get(wn, "plugin_dirs") : NULL;
        for (uint32_t i = 0; i < eddy_opts_count(rt->worker, "plugin_dirs"); i++) {
            char err[512];
            if (eddy_ops_load_dir(eddy_opts_item(rt->worker, "plugin_dirs", i), err, sizeof err) != 0) {
                const eddy_cnode *at = pd && eddy_cnode_kind_of(pd) == EDDY_CNODE_SEQ
                                           ? eddy_cnode_seq_at(pd, i) : pd;
                eddy_cfg_fail(cfg, at, "worker.plugin_dirs", "%s", err);
                rt->plugins_missing = true;
            }
        }
    }

    const eddy_cnode *sn = eddy_cnode_get(root, "sources");
    const eddy_cnode *pn = eddy_cnode_get(root, "pipelines");
    if (!sn || eddy_cnode_kind_of(sn) != EDDY_CNODE_SEQ || eddy_cnode_seq_len(sn) == 0) {
        eddy_cfg_fail(cfg, sn ? sn : root, "sources",
                      "expected a non-empty sequence of sources, found %s",
                      sn ? eddy_cnode_kind_name(sn) : "nothing");
        goto fail;
    }
    if (!pn || eddy_cnode_kind_of(pn) != EDDY_CNODE_SEQ || eddy_cnode_seq_len(pn) == 0) {
        eddy_cfg_fail(cfg, pn ? pn : root, "pipelines",
                      "expected a non-empty sequence of pipelines, found %s",
                      pn ? eddy_cnode_kind_name(pn) : "nothing");
        goto fail;
    }
    rt->nsources = (int)eddy_cnode_seq_len(sn);
    rt->npipelines = (int)eddy_cnode_seq_len(pn);
    rt->sources = xcalloc((size_t)rt->nsources, sizeof *rt->sources);
    rt->pipelines = xcalloc((size_t)rt->npipelines, sizeof *rt->pipelines);
    for (int i = 0; i < rt->nsources; i++)
        build_source(rt, eddy_cnode_seq_at(sn, (size_t)i), i);
    for (int i = 0; i < rt->nsources; i++) {
        rt_source *src = &rt->sources[i];
        char err[512] = "";
        if (src->ops && src->ops->check && src->opts &&
            src->ops->check(src->opts, err, sizeof err) != 0)
            eddy_cfg_fail(cfg, src->node, "sources", "source '%s': %s", src->name,
                          err[0] ? err : "its options cannot work");
    }
    /* One namespace for `from`: sources then pipelines. */
    char **names = xcalloc((size_t)(rt->nsources + rt->npipelines), sizeof *names);
    for (int i = 0; i < rt->nsources; i++) {
        names[i] = rt->sources[i].name;
        if (names[i][0] && find_name(names, i, names[i]) >= 0)
            eddy_cfg_fail(cfg, rt->sources[i].node, "sources", "source name '%s' is used twice",
                          names[i]);
    }
    for (int i = 0; i < rt->npipelines; i++) {
        const eddy_cnode *n = eddy_cnode_seq_at(pn, (size_t)i);
        const eddy_cnode *nn = eddy_cnode_kind_of(n) == EDDY_CNODE_MAP ? eddy_cnode_get(n, "name") : NULL;
        const char *nm = nn ? eddy_cnode_str(cfg, nn, "pipelines") : NULL;
        names[rt->nsources + i] = (char *)(nm ? nm : "");
        if (nm && find_name(names, rt->nsources + i, nm) >= 0)
            eddy_cfg_fail(cfg, nn, "pipelines", "name '%s' is already used by another source or pipeline", nm);
    }
    for (int i = 0; i < rt->npipelines; i++)
        build_pipeline(rt, eddy_cnode_seq_at(pn, (size_t)i), i, names, rt->nsources);
    free(names);
    if (eddy_cfg_errors(cfg))
        goto fail;
    link_pipelines(rt);
    for (int i = 0; i < rt->nsources; i++)
        if (rt->sources[i].npipelines == 0)
            eddy_cfg_fail(cfg, rt->sources[i].node, "sources",
                          "source '%s' feeds no pipeline (no pipeline has `from: %s`)",
                          rt->sources[i].name, rt->sources[i].name);
    if (eddy_cfg_errors(cfg))
        goto fail;
    /* Always, not only for `eddy validate`: a bad expression should stop
     * start-up, not the first batch of some partition. */
    (void)validate;
    dry_run_operators(rt);
    if (eddy_cfg_errors(cfg))
        goto fail;
    return rt;
fail:
    eddy_runtime_free(rt);
    return NULL;
}
