/* Noise control: per alert key, consecutive breaches before firing, a
 * cooldown between firings, a rate limit per window, and a resolve after
 * consecutive clear checks. Keys live in an open-addressing table sized at
 * creation (max_keys), so a check never allocates once its key exists; a
 * full table evicts the least recently checked key that is not firing. */
#include <stdlib.h>
#include <string.h>

#include "engine/alert/alert.h"
#include "engine/core/error.h"
#include "lib/buf/bytes.h"
#include "engine/config/options.h"

const eddy_option eddy_alert_policy_options[] = {
    {"enabled", EDDY_OPT_BOOL, "true", EDDY_NO_RANGE, NULL, 0,
     "false: this step raises no alerts at all (its detector still annotates records), e.g. "
     "for detectors that only feed an `ensemble`."},
    {"min_consecutive", EDDY_OPT_INT, "1", 1, 1000000, NULL, 0,
     "Breached checks in a row before an alert fires (1 = the first breach fires)."},
    {"resolve_after", EDDY_OPT_INT, "1", 1, 1000000, NULL, 0,
     "Clear checks in a row (statistic back within its threshold) before a firing alert "
     "resolves."},
    {"resolve", EDDY_OPT_BOOL, "true", EDDY_NO_RANGE, NULL, 0,
     "Send a `resolved` alert when a firing alert clears; false: clear silently."},
    {"cooldown", EDDY_OPT_DURATION, "0s", 0, 31536000000.0, NULL, 0,
     "Least event time between two firings of the same alert key; firings inside it are "
     "suppressed (counted in eddy_alerts_suppressed_total{reason=\"cooldown\"})."},
    {"rate_limit", EDDY_OPT_INT, "0", 0, 1000000, NULL, 0,
     "Most firings per alert key per rate_window (0 = no limit); the rest are suppressed "
     "(reason=\"rate_limit\")."},
    {"rate_window", EDDY_OPT_DURATION, "1h", 1, 31536000000.0, NULL, 0,
     "The window rate_limit counts in (event time)."},
    {"severity", EDDY_OPT_ENUM, "auto", EDDY_NO_RANGE, "auto|info|warning|critical", 0,
     "Severity of this step's alerts; auto = what the detector says (e.g. warning for a "
     "drift warning, critical for a change)."},
    {"max_keys", EDDY_OPT_INT, "10000", 16, 10000000, NULL, 0,
     "Alert keys (feature x entity) tracked per partition; when full the least recently "
     "checked key that is not firing is forgotten (counted)."},
    {"per_partition", EDDY_OPT_BOOL, "false", EDDY_NO_RANGE, NULL, EDDY_OPT_NO_STATE,
     "false: one alert per alert key across the step's partitions in this worker (the first "
     "partition to fire sends it, the last to clear resolves it), so one drift seen by every "
     "partition is one alert; which partition fires first then depends on the order the "
     "partitions are processed in. true: each partition raises its own alerts, whose ids "
     "and times depend only on that partition's records, so a replay repeats them exactly."},
    {"log", EDDY_OPT_BOOL, "true", EDDY_NO_RANGE, NULL, EDDY_OPT_NO_STATE,
     "Also write each alert to the log (warn when firing, info when resolved); false: only "
     "the `alerts` output, /v1/alerts and the metrics (e.g. when the step's records are "
     "printed already)."},
    {NULL, 0, NULL, EDDY_NO_RANGE, NULL, 0, NULL},
};

void eddy_alert_policy_defaults(eddy_alert_policy *p)
{
    *p = (eddy_alert_policy){.enabled = true, .min_consecutive = 1, .resolve_after = 1, .resolve = true,
                             .cooldown_ms = 0, .rate_limit = 0, .rate_window_ms = 3600000,
                             .severity = -1, .max_keys = 10000, .log = true,
                             .per_partition = false};
}

void eddy_alert_policy_from_opts(eddy_alert_policy *p, const struct eddy_opts *o)
{
    eddy_alert_policy_defaults(p);
    if (!o)
        return;
    p->enabled = eddy_opts_bool(o, "enabled");
    p->min_consecutive = (uint32_t)eddy_opts_int(o, "min_consecutive");
    p->resolve_after = (uint32_t)eddy_opts_int(o, "resolve_after");
    p->resolve = eddy_opts_bool(o, "resolve");
    p->cooldown_ms = eddy_opts_int(o, "cooldown");
    p->rate_limit = (uint32_t)eddy_opts_int(o, "rate_limit");
    p->rate_window_ms = eddy_opts_int(o, "rate_window");
    p->max_keys = (uint32_t)eddy_opts_int(o, "max_keys");
    p->log = eddy_opts_bool(o, "log");
    p->per_partition = eddy_opts_bool(o, "per_partition");
    const char *sev = eddy_opts_str(o, "severity");
    p->severity = !sev || strcmp(sev, "auto") == 0 ? -1
                  : strcmp(sev, "info") == 0      ? EDDY_SEV_INFO
                  : strcmp(sev, "warning") == 0   ? EDDY_SEV_WARNING
                                                  : EDDY_SEV_CRITICAL;
}

typedef struct akey {
    char *k; /* NULL = empty slot */
    uint32_t klen;
    uint32_t breaches, clears;
    int firing;
    int has_fired;
    int64_t last_fire;
    int64_t rate_start;
    uint32_t rate_n;
    uint64_t id;
    uint64_t touched; /* check counter, for eviction */
    uint8_t dirty;    /* in the dirty list: changed since the last durable flush */
    uint8_t persisted; /* the changelog may hold a value for it */
    /* 1 + the severity the current firing's alert was sent with (the
     * highest, after an escalation); 0: not known yet (a new firing, or
     * state written by version 1). Durable, so that after a restart a
     * breach at the same severity is not sent again as an escalation. */
    uint8_t sev1;
} akey;

struct eddy_alert_state {
    eddy_alert_policy p;
    akey *slots;
    uint32_t cap; /* power of two, >= 2 * max_keys */
    uint32_t n;
    uint64_t clock;
    uint64_t evicted;
    uint64_t ids;
    /* Durability (eddy_alert_state_flush): the keys changed since the last
     * flush (their key strings, which stay put while the slots move), the
     * keys forgotten since then that the changelog holds ([u32 len][bytes]
     * each), and whether the ids counter moved. */
    char **dirty;
    uint32_t *dirtylen;
    uint32_t ndirty, dirtycap;
    eddy_buf tomb;
    int ids_dirty;
    int err;
};

eddy_alert_state *eddy_alert_state_new(const eddy_alert_policy *p)
{
    eddy_alert_state *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->p = *p;
    if (s->p.max_keys < 1)
        s->p.max_keys = 1;
    /* Slots grow lazily up to 2 * max_keys: most steps watch a handful. */
    s->cap = 16;
    s->slots = calloc(s->cap, sizeof *s->slots);
    if (!s->slots) {
        free(s);
        return NULL;
    }
    return s;
}

void eddy_alert_state_free(eddy_alert_state *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->cap; i++)
        free(s->slots[i].k);
    free(s->slots);
    free(s->dirty);
    free(s->dirtylen);
    eddy_buf_free(&s->tomb);
    free(s);
}

uint32_t eddy_alert_state_keys(const eddy_alert_state *s) { return s->n; }
uint64_t eddy_alert_state_evicted(const eddy_alert_state *s) { return s->evicted; }

static uint64_t fnv(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)k[i]) * 1099511628211ULL;
    return h;
}

static akey *probe(akey *slots, uint32_t cap, const char *k, size_t n)
{
    uint32_t i = (uint32_t)fnv(k, n) & (cap - 1);
    for (;;) {
        akey *a = &slots[i];
        if (!a->k || (a->klen == n && memcmp(a->k, k, n) == 0))
            return a;
        i = (i + 1) & (cap - 1);
    }
}

static int rehash(eddy_alert_state *s, uint32_t cap)
{
    akey *ns = calloc(cap, sizeof *ns);
    if (!ns)
        return EDDY_ENOMEM;
    for (uint32_t i = 0; i < s->cap; i++)
        if (s->slots[i].k)
            *probe(ns, cap, s->slots[i].k, s->slots[i].klen) = s->slots[i];
    free(s->slots);
    s->slots = ns;
    s->cap = cap;
    return 0;
}

/* A key leaves the table: out of the dirty list, and a tombstone when the
 * changelog may hold it (so a restore does not bring it back). */
static void forget_durable(eddy_alert_state *s, akey *a)
{
    if (a->dirty)
        for (uint32_t i = 0; i < s->ndirty; i++)
            if (s->dirty[i] == a->k) {
                s->dirty[i] = s->dirty[s->ndirty - 1];
                s->dirtylen[i] = s->dirtylen[s->ndirty - 1];
                s->ndirty--;
                break;
            }
    if (a->persisted && (eddy_put_u32(&s->tomb, a->klen) || eddy_buf_put(&s->tomb, a->k, a->klen)))
        s->err = EDDY_ENOMEM;
}

static void mark(eddy_alert_state *s, akey *a)
{
    if (a->dirty)
        return;
    if (s->ndirty == s->dirtycap) {
        uint32_t cap = s->dirtycap ? s->dirtycap * 2 : 16;
        char **d = realloc(s->dirty, sizeof *d * cap);
        if (d)
            s->dirty = d;
        uint32_t *l = realloc(s->dirtylen, sizeof *l * cap);
        if (l)
            s->dirtylen = l;
        if (!d || !l) {
            s->err = EDDY_ENOMEM; /* the next flush fails: nothing is committed */
            return;
        }
        s->dirtycap = cap;
    }
    a->dirty = 1;
    s->dirty[s->ndirty] = a->k;
    s->dirtylen[s->ndirty++] = a->klen;
}

/* What a check may change, to mark the key only when it changed (most
 * checks of a quiet key change nothing). */
typedef struct durable_fields {
    uint32_t breaches, clears;
    int firing, has_fired;
    int64_t last_fire, rate_start;
    uint32_t rate_n;
    uint64_t id;
    uint8_t sev1;
} durable_fields;

static durable_fields fields_of(const akey *a)
{
    durable_fields f;
    memset(&f, 0, sizeof f);
    f.breaches = a->breaches;
    f.clears = a->clears;
    f.firing = a->firing;
    f.has_fired = a->has_fired;
    f.last_fire = a->last_fire;
    f.rate_start = a->rate_start;
    f.rate_n = a->rate_n;
    f.id = a->id;
    f.sev1 = a->sev1;
    return f;
}

/* Rare (table full): linear scan for the stalest quiet key. */
static void evict_one(eddy_alert_state *s)
{
    akey *victim = NULL;
    for (uint32_t i = 0; i < s->cap; i++) {
        akey *a = &s->slots[i];
        if (a->k && !a->firing && (!victim || a->touched < victim->touched))
            victim = a;
    }
    if (!victim) /* every key is firing: forget the stalest anyway */
        for (uint32_t i = 0; i < s->cap; i++) {
            akey *a = &s->slots[i];
            if (a->k && (!victim || a->touched < victim->touched))
                victim = a;
        }
    if (!victim)
        return;
    forget_durable(s, victim);
    free(victim->k);
    victim->k = NULL;
    s->n--;
    s->evicted++;
    /* Re-insert the rest so probes never stop at the hole. */
    rehash(s, s->cap);
}

static akey *lookup(eddy_alert_state *s, const char *k, size_t n, int *err)
{
    akey *a = probe(s->slots, s->cap, k, n);
    if (a->k)
        return a;
    if (s->n >= s->p.max_keys)
        evict_one(s);
    if ((s->n + 1) * 2 > s->cap && rehash(s, s->cap * 2) != 0) {
        *err = EDDY_ENOMEM;
        return NULL;
    }
    a = probe(s->slots, s->cap, k, n);
    a->k = malloc(n + 1);
    if (!a->k) {
        *err = EDDY_ENOMEM;
        return NULL;
    }
    memcpy(a->k, k, n);
    a->k[n] = '\0';
    a->klen = (uint32_t)n;
    s->n++;
    return a;
}

static int check_key(eddy_alert_state *s, akey *a, const char *k, size_t n, int breach,
                     int64_t t, uint64_t *id, eddy_alert_suppress *why);

int eddy_alert_check_ex(eddy_alert_state *s, const char *k, size_t n, int breach, int64_t t,
                        uint64_t *id, eddy_alert_suppress *why, int *firing)
{
    int sev;
    return eddy_alert_check_sev(s, k, n, breach, t, id, why, firing, &sev);
}

int eddy_alert_check_sev(eddy_alert_state *s, const char *k, size_t n, int breach, int64_t t,
                         uint64_t *id, eddy_alert_suppress *why, int *firing, int *sev)
{
    int err = 0;
    *why = EDDY_SUPPRESS_NONE;
    *firing = 0;
    *sev = -1;
    if (n == 0)
        return EDDY_EINVAL; /* the empty key holds the id counter (below) */
    akey *a = lookup(s, k, n, &err);
    if (!a)
        return err;
    durable_fields before = fields_of(a);
    uint64_t ids = s->ids;
    int rc = check_key(s, a, k, n, breach, t, id, why);
    durable_fields after = fields_of(a);
    if (memcmp(&before, &after, sizeof before) != 0)
        mark(s, a);
    if (s->ids != ids)
        s->ids_dirty = 1;
    *firing = a->firing;
    if (a->firing)
        *id = a->id;
    if (a->firing || rc == EDDY_ALERT_RESOLVED)
        *sev = (int)a->sev1 - 1;
    return rc;
}

int eddy_alert_check(eddy_alert_state *s, const char *k, size_t n, int breach, int64_t t,
                     uint64_t *id, eddy_alert_suppress *why)
{
    int firing;
    int rc = eddy_alert_check_ex(s, k, n, breach, t, id, why, &firing);
    return rc == EDDY_ALERT_RESOLVED && !s->p.resolve ? EDDY_ALERT_NONE : rc;
}

void eddy_alert_state_each_firing(eddy_alert_state *s,
                                  void (*fn)(void *arg, const char *akey, size_t klen,
                                             uint64_t id, int sev),
                                  void *arg)
{
    for (uint32_t i = 0; i < s->cap; i++)
        if (s->slots[i].k && s->slots[i].firing)
            fn(arg, s->slots[i].k, s->slots[i].klen, s->slots[i].id, (int)s->slots[i].sev1 - 1);
}

void eddy_alert_state_sent(eddy_alert_state *s, const char *k, size_t n, uint64_t id, int sev)
{
    akey *a = probe(s->slots, s->cap, k, n);
    if (!a->k || !a->firing)
        return;
    int v = sev < 0 ? 0 : sev > 254 ? 255 : sev + 1;
    if (a->id != id || v > a->sev1) {
        a->id = id;
        if (v > a->sev1)
            a->sev1 = (uint8_t)v;
        mark(s, a);
    }
}

/* t - since, saturated: both are event times, and restored state or a
 * record's time may hold any int64 (the state fuzzer's INT64_MIN last
 * firing overflowed the cooldown's subtraction). */
static int64_t elapsed(int64_t t, int64_t since)
{
    int64_t d;
    if (__builtin_sub_overflow(t, since, &d))
        return t > since ? INT64_MAX : INT64_MIN;
    return d;
}

static int check_key(eddy_alert_state *s, akey *a, const char *k, size_t n, int breach,
                     int64_t t, uint64_t *id, eddy_alert_suppress *why)
{
    a->touched = ++s->clock;
    const eddy_alert_policy *p = &s->p;
    if (!breach) {
        a->breaches = 0;
        if (!a->firing)
            return EDDY_ALERT_NONE;
        if (++a->clears < p->resolve_after)
            return EDDY_ALERT_NONE;
        a->firing = 0;
        a->clears = 0;
        *id = a->id;
        return EDDY_ALERT_RESOLVED; /* eddy_alert_check hides it when !resolve */
    }
    a->clears = 0;
    if (a->firing)
        return EDDY_ALERT_NONE;
    if (++a->breaches < p->min_consecutive)
        return EDDY_ALERT_NONE;
    if (a->has_fired && p->cooldown_ms > 0 && elapsed(t, a->last_fire) < p->cooldown_ms) {
        *why = EDDY_SUPPRESS_COOLDOWN;
        return EDDY_ALERT_SUPPRESSED;
    }
    if (p->rate_limit > 0) {
        if (a->rate_n == 0 || elapsed(t, a->rate_start) >= p->rate_window_ms) {
            a->rate_start = t;
            a->rate_n = 0;
        }
        if (a->rate_n >= p->rate_limit) {
            *why = EDDY_SUPPRESS_RATE_LIMIT;
            return EDDY_ALERT_SUPPRESSED;
        }
        a->rate_n++;
    }
    a->firing = 1;
    a->has_fired = 1;
    a->last_fire = t;
    a->sev1 = 0;
    /* Stable across replays: the key, the firing's event time and how many
     * alerts this instance raised before. */
    a->id = fnv(k, n) ^ ((uint64_t)t * 0x9E3779B97F4A7C15ULL) ^ (++s->ids << 48);
    *id = a->id;
    return EDDY_ALERT_FIRING;
}

/* ---- durability (engine/state/state_alerts.c writes and reads these) ---- */

/* Version 2 added the sent severity (one byte after the id); version 1
 * records still load, with the severity unknown. */
#define REC_VERSION 2

static int put_key(eddy_buf *b, const akey *a)
{
    return eddy_put_u32(b, a->breaches) || eddy_put_u32(b, a->clears) ||
           eddy_put_u8(b, (uint8_t)(a->firing != 0)) || eddy_put_u8(b, (uint8_t)(a->has_fired != 0)) ||
           eddy_put_i64(b, a->last_fire) || eddy_put_i64(b, a->rate_start) ||
           eddy_put_u32(b, a->rate_n) || eddy_put_u64(b, a->id) || eddy_put_u8(b, a->sev1);
}

int eddy_alert_state_version(void) { return REC_VERSION; }

int eddy_alert_state_flush(eddy_alert_state *s, eddy_alert_write_fn fn, void *arg)
{
    if (s->err) {
        int rc = s->err;
        s->err = 0;
        return rc;
    }
    size_t o = 0;
    for (; o + 4 <= s->tomb.len;) {
        uint32_t n = eddy_le32(s->tomb.data + o);
        int rc = fn(arg, s->tomb.data + o + 4, n, NULL, 0);
        if (rc < 0) {
            memmove(s->tomb.data, s->tomb.data + o, s->tomb.len - o);
            s->tomb.len -= o;
            return rc;
        }
        o += 4 + (size_t)n;
    }
    s->tomb.len = 0;
    eddy_buf b = {0};
    for (uint32_t i = 0; i < s->ndirty; i++) {
        akey *a = probe(s->slots, s->cap, s->dirty[i], s->dirtylen[i]);
        b.len = 0;
        int rc = put_key(&b, a) ? EDDY_ENOMEM : fn(arg, a->k, a->klen, b.data, b.len);
        if (rc < 0) {
            memmove(s->dirty, s->dirty + i, sizeof *s->dirty * (s->ndirty - i));
            memmove(s->dirtylen, s->dirtylen + i, sizeof *s->dirtylen * (s->ndirty - i));
            s->ndirty -= i;
            eddy_buf_free(&b);
            return rc;
        }
        a->dirty = 0;
        a->persisted = 1;
    }
    s->ndirty = 0;
    if (s->ids_dirty) {
        b.len = 0;
        /* The instance's counter under the empty key (alert keys never are). */
        int rc = eddy_put_u64(&b, s->ids) ? EDDY_ENOMEM : fn(arg, "", 0, b.data, b.len);
        if (rc < 0) {
            eddy_buf_free(&b);
            return rc;
        }
        s->ids_dirty = 0;
    }
    eddy_buf_free(&b);
    return 0;
}

int eddy_alert_state_load(eddy_alert_state *s, const void *k, size_t n, int version,
                          const void *data, size_t len)
{
    if (data && version != REC_VERSION && version != 1)
        return EDDY_EINVAL;
    if (n == 0) {
        if (!data)
            return 0;
        eddy_rd r = eddy_rd_of(data, len);
        uint64_t ids = eddy_get_u64(&r);
        if (r.err || r.left)
            return EDDY_EINVAL;
        s->ids = ids;
        return 0;
    }
    if (n > UINT32_MAX)
        return EDDY_EINVAL;
    if (!data) {
        akey *a = probe(s->slots, s->cap, k, n);
        if (!a->k)
            return 0;
        free(a->k);
        a->k = NULL;
        s->n--;
        return rehash(s, s->cap);
    }
    eddy_rd r = eddy_rd_of(data, len);
    akey t = {0};
    t.breaches = eddy_get_u32(&r);
    t.clears = eddy_get_u32(&r);
    uint8_t firing = eddy_get_u8(&r), has_fired = eddy_get_u8(&r);
    t.last_fire = eddy_get_i64(&r);
    t.rate_start = eddy_get_i64(&r);
    t.rate_n = eddy_get_u32(&r);
    t.id = eddy_get_u64(&r);
    if (version >= 2)
        t.sev1 = eddy_get_u8(&r);
    if (r.err || r.left || firing > 1 || has_fired > 1)
        return EDDY_EINVAL;
    t.firing = firing;
    t.has_fired = has_fired;
    int err = 0;
    akey *a = lookup(s, k, n, &err);
    if (!a)
        return err ? err : EDDY_ENOMEM;
    t.k = a->k;
    t.klen = a->klen;
    t.touched = ++s->clock;
    t.persisted = 1;
    *a = t;
    return 0;
}
