/* `type: generator`: a seeded, reproducible stream of synthetic events for
 * quick starts, demos and evaluating detectors (drift and labelled
 * anomalies on demand).
 *
 * Event i (global index) is a pure function of (options, seed, i): its key,
 * time jitter, anomaly draw and field values all come from streams seeded by
 * hashing (seed, i). That is what makes the output byte-identical across
 * runs whatever the batch sizes, the rate or the order in which partitions
 * are polled: partition p's records are the events whose key hashes to p, in
 * index order. Field values use a stream separate from the jitter/anomaly
 * draws, so turning anomalies or disorder on leaves the clean values of
 * every event unchanged (a labelled run can be compared with a clean one). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/core/batch.h"
#include "engine/connector.h"
#include "connectors/generator/gen_dist.h"
#include "engine/core/error.h"
#include "engine/config/options.h"
#include "connectors/generator/rng.h"
#include "engine/core/sym.h"

/* 2026-01-01T00:00:00Z: a fixed default start keeps output reproducible. */
#define DEFAULT_START "1767225600000"

static const eddy_option gen_options[] = {
    {"seed", EDDY_OPT_INT, "1", EDDY_NO_RANGE, NULL, 0,
     "Random seed. The same seed and options give byte-identical output."},
    {"rate", EDDY_OPT_DOUBLE, "1000", 0, 1e9, NULL, 0,
     "Events per second of wall-clock time over all partitions; 0 = as fast as possible."},
    {"count", EDDY_OPT_INT, "0", 0, 9e18, NULL, 0,
     "Total number of events over all partitions, then the source ends; 0 = unbounded."},
    {"partitions", EDDY_OPT_INT, "1", 1, 1024, NULL, 0,
     "Number of partitions. A record goes to the partition its key hashes to; each poll "
     "returns records of one partition, round-robin."},
    {"keys", EDDY_OPT_INT, "100", 1, 10000000, NULL, 0,
     "Number of distinct keys, drawn uniformly."},
    {"key_field", EDDY_OPT_FIELD, "user_id", EDDY_NO_RANGE, NULL, 0,
     "Field holding the key (also the record key). Values are '<prefix>-<n>', the prefix "
     "being key_field without a trailing '_id' (user_id gives user-0, user-1, ...)."},
    {"start_time", EDDY_OPT_STRING, DEFAULT_START, EDDY_NO_RANGE, NULL, 0,
     "Event time of the first event: ms since the epoch (default 2026-01-01T00:00:00Z, so "
     "that runs repeat exactly), or `now`: the wall clock when the source opens (event "
     "times then read as the present, e.g. a feature's age on the serving endpoint, but "
     "differ from run to run)."},
    {"event_interval", EDDY_OPT_DURATION, "1ms", 0, 86400000.0 * 365, NULL, 0,
     "Event time between consecutive events (of all partitions together). Unset with a rate: "
     "1 s / rate, so event time keeps pace with the wall clock (rate 200 gives 5 ms); unset "
     "with rate 0: 1ms."},
    {"disorder", EDDY_OPT_DURATION, "0ms", 0, 86400000.0 * 365, NULL, 0,
     "Maximum random jitter subtracted from an event's time, to produce out-of-order "
     "events; 0 = in order."},
    {"fields", EDDY_OPT_MAP, NULL, EDDY_NO_RANGE, NULL, 0,
     "Field name -> distribution: normal(mu, sigma), uniform(a, b), exponential(lambda), "
     "lognormal(mu, sigma), poisson(lambda) (int), int(a, b) (uniform int), "
     "categorical(a, b, c) or categorical(a:0.7, b:0.3), bernoulli(p) (bool), const(x), "
     "seq() (the event's index). Values of categorical/const are typed like CSV cells; "
     "quote them (\"...\") to keep a string."},
    {"drift", EDDY_OPT_MAP, NULL, EDDY_NO_RANGE, NULL, 0,
     "Field name -> distribution used instead of the one in `fields` from event time "
     "start_time + drift_at (for drift_for). Needs drift_at > 0."},
    {"drift_at", EDDY_OPT_DURATION, "0ms", 0, 9e15, NULL, 0,
     "Event-time offset from start_time where `drift` begins. Required (> 0) with `drift`, "
     "so that there is an undrifted baseline before it."},
    {"drift_for", EDDY_OPT_DURATION, "0ms", 0, 9e15, NULL, 0,
     "How long the drift lasts in event time; then the `fields` distributions return (drift "
     "alerts can resolve). 0 = forever."},
    {"anomaly_rate", EDDY_OPT_DOUBLE, "0", 0, 1, NULL, 0,
     "Probability that an event is an injected anomaly."},
    {"anomaly_fields", EDDY_OPT_LIST, NULL, EDDY_NO_RANGE, NULL, 0,
     "Numeric fields multiplied by anomaly_scale in an anomalous event (ints stay ints, "
     "rounded). Required when anomaly_rate > 0."},
    {"anomaly_scale", EDDY_OPT_DOUBLE, "10", -1e12, 1e12, NULL, 0,
     "Factor applied to anomaly_fields in an anomalous event."},
    {"label_field", EDDY_OPT_FIELD, NULL, EDDY_NO_RANGE, NULL, 0,
     "When set, every record gets this bool field: true if an anomaly was injected (ground "
     "truth for evaluating detectors)."},
    {NULL, 0, NULL, 0, 0, NULL, 0, NULL},
};

typedef struct gen_field {
    eddy_sym sym;
    eddy_gen_dist base, drift;
    bool has_drift, anomalous;
} gen_field;

typedef struct gen {
    char *topic;
    uint64_t seed_mix;
    double rate;
    int64_t count;
    int32_t nparts;
    uint32_t keys;
    eddy_sym key_sym, ts_sym, label_sym;
    char prefix[72];
    size_t prefix_len;
    int64_t start, interval, disorder, drift_from, drift_until; /* drift_until 0 = forever */
    bool follow_rate; /* event i at start + i * 1000 / rate ms (event_interval unset) */
    double anomaly_rate, anomaly_scale;
    gen_field *fields;
    uint32_t nfields;
    int32_t *key_part;  /* partition of each key (NULL with one partition) */
    bool *part_has_keys;
    int64_t *cursor;    /* per partition: next global index to look at */
    int64_t *next_off;  /* per partition: offset of its next record */
    int32_t rr;
    int64_t emitted;
    double t0;
    bool started;
} gen;

static void gen_close(void *self)
{
    gen *g = self;
    if (!g)
        return;
    for (uint32_t i = 0; i < g->nfields; i++) {
        eddy_gen_dist_free(&g->fields[i].base);
        eddy_gen_dist_free(&g->fields[i].drift);
    }
    free(g->fields);
    free(g->key_part);
    free(g->part_has_keys);
    free(g->cursor);
    free(g->next_off);
    free(g->topic);
    free(g);
}

static size_t u64_to_dec(uint64_t v, char *out)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

static int32_t key_partition(const gen *g, uint32_t k)
{
    char s[96];
    memcpy(s, g->prefix, g->prefix_len);
    size_t n = g->prefix_len + u64_to_dec(k, s + g->prefix_len);
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a: stable, documented, no seed */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ULL;
    return (int32_t)(h % (uint64_t)g->nparts);
}

static gen_field *find_field(gen *g, const char *name)
{
    eddy_sym s = eddy_sym_lookup(name, strlen(name));
    for (uint32_t i = 0; s && i < g->nfields; i++)
        if (g->fields[i].sym == s)
            return &g->fields[i];
    return NULL;
}

static int parse_fields(gen *g, const eddy_opts *o, char *err, size_t errlen)
{
    uint32_t n = eddy_opts_count(o, "fields");
    g->fields = calloc(n ? n : 1, sizeof *g->fields);
    if (!g->fields) {
        snprintf(err, errlen, "generator: out of memory");
        return EDDY_ENOMEM;
    }
    char why[256];
    for (uint32_t i = 0; i < n; i++) {
        const char *name = eddy_opts_key(o, "fields", i);
        eddy_sym s = eddy_sym_intern(name, strlen(name));
        if (!s) {
            snprintf(err, errlen, "fields: invalid field name '%s'", name);
            return EDDY_ECONFIG;
        }
        if (s == g->ts_sym || s == g->key_sym || (g->label_sym && s == g->label_sym)) {
            snprintf(err, errlen,
                     "fields.%s: this field is set by the generator itself (%s); choose another "
                     "name",
                     name, s == g->ts_sym ? "event time" : s == g->key_sym ? "key_field" : "label_field");
            return EDDY_ECONFIG;
        }
        if (find_field(g, name)) {
            snprintf(err, errlen, "fields.%s: given twice", name);
            return EDDY_ECONFIG;
        }
        if (eddy_gen_dist_parse(eddy_opts_item(o, "fields", i), &g->fields[g->nfields].base, why,
                                sizeof why) != 0) {
            snprintf(err, errlen, "fields.%s: %s", name, why);
            return EDDY_ECONFIG;
        }
        g->fields[g->nfields++].sym = s;
    }
    uint32_t nd = eddy_opts_count(o, "drift");
    for (uint32_t i = 0; i < nd; i++) {
        const char *name = eddy_opts_key(o, "drift", i);
        gen_field *f = find_field(g, name);
        if (!f) {
            snprintf(err, errlen,
                     "drift.%s: not a field of `fields`; drift replaces the distribution of an "
                     "existing field",
                     name);
            return EDDY_ECONFIG;
        }
        if (f->has_drift) {
            snprintf(err, errlen, "drift.%s: given twice", name);
            return EDDY_ECONFIG;
        }
        if (eddy_gen_dist_parse(eddy_opts_item(o, "drift", i), &f->drift, why, sizeof why) != 0) {
            snprintf(err, errlen, "drift.%s: %s", name, why);
            return EDDY_ECONFIG;
        }
        f->has_drift = true;
    }
    int64_t drift_at = eddy_opts_int(o, "drift_at"), drift_for = eddy_opts_int(o, "drift_for");
    if (nd && drift_at <= 0) {
        snprintf(err, errlen,
                 "drift: needs drift_at > 0 (the event time after start_time where the drift "
                 "begins), so that there is a baseline before it");
        return EDDY_ECONFIG;
    }
    if (!nd && (drift_at > 0 || drift_for > 0)) {
        snprintf(err, errlen, "%s is set but `drift` names no fields to change",
                 drift_at > 0 ? "drift_at" : "drift_for");
        return EDDY_ECONFIG;
    }
    g->drift_from = nd ? g->start + drift_at : INT64_MAX;
    g->drift_until = nd && drift_for > 0 ? g->drift_from + drift_for : 0;

    uint32_t na = eddy_opts_count(o, "anomaly_fields");
    for (uint32_t i = 0; i < na; i++) {
        const char *name = eddy_opts_item(o, "anomaly_fields", i);
        gen_field *f = find_field(g, name);
        if (!f) {
            snprintf(err, errlen, "anomaly_fields: '%s' is not a field of `fields`", name);
            return EDDY_ECONFIG;
        }
        if (!eddy_gen_dist_numeric(&f->base) || (f->has_drift && !eddy_gen_dist_numeric(&f->drift))) {
            snprintf(err, errlen,
                     "anomaly_fields: '%s' is not numeric; anomalies multiply numeric fields by "
                     "anomaly_scale",
                     name);
            return EDDY_ECONFIG;
        }
        f->anomalous = true;
    }
    if (g->anomaly_rate > 0 && na == 0) {
        snprintf(err, errlen,
                 "anomaly_rate > 0 needs anomaly_fields (the numeric fields an anomaly scales)");
        return EDDY_ECONFIG;
    }
    return 0;
}

static int gen_open(const eddy_opts *o, const char *name, const eddy_connector_env *env, void **self, char *err, size_t errlen)
{
    gen *g = calloc(1, sizeof *g);
    if (!g || !(g->topic = strdup(name ? name : "generator"))) {
        free(g);
        snprintf(err, errlen, "generator: out of memory");
        return EDDY_ENOMEM;
    }
    uint64_t seed = (uint64_t)eddy_opts_int(o, "seed");
    g->seed_mix = eddy_splitmix64(&seed);
    g->rate = eddy_opts_double(o, "rate");
    g->count = eddy_opts_int(o, "count");
    int64_t parts = eddy_opts_int(o, "partitions"), keys = eddy_opts_int(o, "keys");
    const char *st = eddy_opts_str(o, "start_time");
    if (st && strcmp(st, "now") == 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        g->start = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    } else {
        char *end = NULL;
        errno = 0;
        long long v = st ? strtoll(st, &end, 10) : 0;
        if (!st || end == st || *end || errno || v < 0) {
            snprintf(err, errlen,
                     "start_time: expected milliseconds since the epoch (e.g. 1767225600000) "
                     "or now, got '%s'",
                     st ? st : "");
            free(g->topic);
            free(g);
            return EDDY_ECONFIG;
        }
        g->start = (int64_t)v;
    }
    g->interval = eddy_opts_int(o, "event_interval");
    /* Event time follows the rate unless told otherwise: with the old fixed
     * 1 ms, rate 200 made event time run at 0.2x the wall clock (a 5 s
     * window closed after ~30 s). */
    g->follow_rate = !eddy_opts_given(o, "event_interval") && g->rate > 0;
    g->disorder = eddy_opts_int(o, "disorder");
    g->anomaly_rate = eddy_opts_double(o, "anomaly_rate");
    g->anomaly_scale = eddy_opts_double(o, "anomaly_scale");
    const char *kf = eddy_opts_str(o, "key_field"), *lf = eddy_opts_str(o, "label_field");
    int rc = EDDY_ECONFIG;
    if (parts < 1 || parts > 1024 || keys < 1 || keys > 10000000 || g->count < 0 ||
        g->interval < 0 || g->disorder < 0 || !(g->rate >= 0)) {
        snprintf(err, errlen,
                 "generator: partitions must be in [1, 1024], keys in [1, 10000000], count, "
                 "rate, event_interval and disorder >= 0");
        goto fail;
    }
    if (!kf || !*kf || strlen(kf) > 64) {
        snprintf(err, errlen, "key_field: must be a field name of 1 to 64 bytes");
        goto fail;
    }
    g->nparts = (int32_t)parts;
    g->keys = (uint32_t)keys;
    g->key_sym = eddy_sym_intern(kf, strlen(kf));
    g->ts_sym = eddy_sym_intern("ts", 2);
    g->label_sym = lf && *lf ? eddy_sym_intern(lf, strlen(lf)) : 0;
    if (g->label_sym && (g->label_sym == g->key_sym || g->label_sym == g->ts_sym)) {
        snprintf(err, errlen, "label_field: '%s' is already the key or the event time field", lf);
        goto fail;
    }
    if (g->key_sym == g->ts_sym) {
        snprintf(err, errlen, "key_field: 'ts' is the event time field; choose another name");
        goto fail;
    }
    size_t kl = strlen(kf);
    if (kl > 3 && strcmp(kf + kl - 3, "_id") == 0)
        kl -= 3;
    memcpy(g->prefix, kf, kl);
    g->prefix[kl] = '-';
    g->prefix_len = kl + 1;
    if ((rc = parse_fields(g, o, err, errlen)) != 0)
        goto fail;

    rc = EDDY_ENOMEM;
    g->part_has_keys = calloc((size_t)g->nparts, sizeof *g->part_has_keys);
    g->cursor = calloc((size_t)g->nparts, sizeof *g->cursor);
    g->next_off = calloc((size_t)g->nparts, sizeof *g->next_off);
    if (!g->part_has_keys || !g->cursor || !g->next_off)
        goto nomem;
    if (g->nparts > 1) {
        if (!(g->key_part = malloc(sizeof *g->key_part * g->keys)))
            goto nomem;
        for (uint32_t k = 0; k < g->keys; k++) {
            g->key_part[k] = key_partition(g, k);
            g->part_has_keys[g->key_part[k]] = true;
        }
    } else {
        g->part_has_keys[0] = true;
    }
    *self = g;
    return 0;
nomem:
    snprintf(err, errlen, "generator: out of memory");
fail:
    gen_close(g);
    return rc;
}

static int32_t gen_partitions(void *self) { return ((gen *)self)->nparts; }

static uint64_t event_hash(const gen *g, int64_t i)
{
    uint64_t x = g->seed_mix ^ ((uint64_t)i * 0xD1B54A32D192ED03ULL);
    return eddy_splitmix64(&x);
}

static uint32_t event_key(const gen *g, uint64_t h)
{
    return (uint32_t)(((unsigned __int128)h * g->keys) >> 64);
}

static bool part_done(const gen *g, int32_t p)
{
    return !g->part_has_keys[p] || (g->count > 0 && g->cursor[p] >= g->count);
}

static eddy_value scale(eddy_value v, double k)
{
    if (v.type == EDDY_DOUBLE)
        return eddy_v_double(v.u.d * k);
    if (v.type == EDDY_INT) {
        double x = (double)v.u.i * k;
        if (x >= 9.2e18 || x <= -9.2e18)
            return eddy_v_double(x); /* an int would overflow: keep the magnitude */
        return eddy_v_int(llround(x));
    }
    return v;
}

/* Builds event i into r. 0, or -1 when the batch memory is exhausted. */
static int build_event(const gen *g, int64_t i, uint64_t h, eddy_batch *b, eddy_record *r)
{
    uint64_t x = h;
    uint64_t jitter_draw = eddy_splitmix64(&x);
    uint64_t anomaly_draw = eddy_splitmix64(&x);
    eddy_rng rng;
    eddy_rng_seed(&rng, eddy_splitmix64(&x));

    /* Unsigned: wraps instead of undefined behaviour for absurd counts. */
    int64_t nominal;
    if (g->follow_rate) {
        long double off = (long double)i * 1000.0L / (long double)g->rate;
        nominal = off < 9e18L ? g->start + (int64_t)off : INT64_MAX / 2;
    } else {
        nominal = (int64_t)((uint64_t)g->start + (uint64_t)i * (uint64_t)g->interval);
    }
    int64_t ts = nominal;
    if (g->disorder > 0)
        ts -= (int64_t)(((unsigned __int128)jitter_draw * (uint64_t)(g->disorder + 1)) >> 64);
    bool anomaly = g->anomaly_rate > 0 &&
                   (double)(anomaly_draw >> 11) * 0x1.0p-53 < g->anomaly_rate;
    bool drifted = nominal >= g->drift_from && (g->drift_until == 0 || nominal < g->drift_until);

    if (eddy_record_reserve(b, r, 2 + g->nfields + (g->label_sym ? 1 : 0)) != 0)
        return -1;
    char *ks = eddy_batch_alloc(b, g->prefix_len + 21);
    if (!ks)
        return -1;
    memcpy(ks, g->prefix, g->prefix_len);
    size_t kl = g->prefix_len + u64_to_dec(event_key(g, h), ks + g->prefix_len);
    ks[kl] = '\0';
    r->key = eddy_v_str(ks, (uint32_t)kl);
    r->ts = ts;
    eddy_record_push(b, r, g->key_sym, r->key);
    eddy_record_push(b, r, g->ts_sym, eddy_v_int(ts));
    for (uint32_t f = 0; f < g->nfields; f++) {
        const gen_field *gf = &g->fields[f];
        const eddy_gen_dist *d = drifted && gf->has_drift ? &gf->drift : &gf->base;
        eddy_value v = eddy_gen_dist_sample(d, &rng, i);
        if (v.type == EDDY_STRING) {
            /* Copied: records may outlive the source's own strings. */
            v = eddy_batch_string(b, v.u.s, v.len);
            if (v.type != EDDY_STRING)
                return -1;
        }
        if (anomaly && gf->anomalous)
            v = scale(v, g->anomaly_scale);
        eddy_record_push(b, r, gf->sym, v);
    }
    if (g->label_sym)
        eddy_record_push(b, r, g->label_sym, eddy_v_bool(anomaly));
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Events the rate allows now (event e may go once e/rate seconds passed).
 * Waits for a batch worth BATCH_WAIT seconds of events (or max) rather
 * than returning one event per poll at low rates, but never past the
 * caller's timeout: it sleeps, never spins, and the processing thread stays
 * responsive. */
#define BATCH_WAIT 0.05
static int64_t rate_budget(gen *g, uint32_t max, int timeout_ms)
{
    if (g->rate <= 0)
        return INT64_MAX;
    double now = now_s();
    if (!g->started) {
        g->t0 = now;
        g->started = true;
    }
    double want = g->rate * BATCH_WAIT;
    int64_t target = want < 1 ? 1 : want > (double)max ? (int64_t)max : (int64_t)want;
    int64_t allowed = (int64_t)((now - g->t0) * g->rate) + 1;
    if (allowed - g->emitted >= target)
        return allowed - g->emitted;
    double due = g->t0 + (double)(g->emitted + target - 1) / g->rate;
    double wait = due - now, cap = timeout_ms > 0 ? timeout_ms / 1000.0 : 0;
    sleep_s(wait < cap ? wait : cap);
    allowed = (int64_t)((now_s() - g->t0) * g->rate) + 1;
    return allowed > g->emitted ? allowed - g->emitted : 0;
}

static int gen_poll(void *self, eddy_batch *b, uint32_t max, int timeout_ms, char *err,
                    size_t errlen)
{
    gen *g = self;
    int32_t p = -1;
    for (int32_t k = 0; k < g->nparts; k++) {
        int32_t c = (g->rr + k) % g->nparts;
        if (!part_done(g, c)) {
            p = c;
            break;
        }
    }
    if (p < 0)
        return EDDY_EEOF;
    if (max == 0)
        max = 1024;
    int64_t budget = rate_budget(g, max, timeout_ms);
    if (budget <= 0)
        return 0;
    g->rr = (p + 1) % g->nparts;
    if ((int64_t)max > budget)
        max = (uint32_t)budget;

    b->partition = p;
    uint32_t n = 0;
    while (n < max && !part_done(g, p)) {
        int64_t i = g->cursor[p];
        uint64_t h = event_hash(g, i);
        if (g->key_part && g->key_part[event_key(g, h)] != p) {
            g->cursor[p]++;
            continue;
        }
        eddy_record *r = eddy_batch_append(b);
        if (!r || build_event(g, i, h, b, r) != 0) {
            if (r)
                eddy_batch_pop(b);
            if (n == 0) {
                snprintf(err, errlen,
                         "generator %s: one record does not fit in the batch memory limit",
                         g->topic);
                return EDDY_ELIMIT;
            }
            break;
        }
        r->topic = g->topic;
        r->partition = p;
        r->offset = g->next_off[p]++;
        g->cursor[p] = i + 1;
        n++;
    }
    g->emitted += n;
    return (int)n; /* 0 when p ran out: the next poll moves on or ends */
}

/* `eddy validate`: opening a generator has no side effect (no thread, no
 * file, no clock but start_time: now), so everything open refuses is
 * refused here too (a bad distribution, start_time, drift without
 * drift_at, ...). */
static int gen_check(const eddy_opts *o, char *err, size_t errlen)
{
    void *g = NULL;
    int rc = gen_open(o, NULL, NULL, &g, err, errlen);
    if (rc == 0)
        gen_close(g);
    return rc;
}

const eddy_source_ops eddy_generator_source = {
    .type = "generator",
    .summary = "Seeded synthetic events: distributions per field, drift, labelled anomalies",
    .options = gen_options,
    .open = gen_open,
    .partitions = gen_partitions,
    .poll = gen_poll,
    .commit = NULL,
    .close = gen_close,
    .check = gen_check,
};
