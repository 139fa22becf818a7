/* Noise control: per alert key, consecutive breaches before firing, a
 * cooldown between firings, a rate limit per window, and a resolve after
 * consecutive clear checks. Keys live in an open-addressing table sized at
 * creation (max_keys), so a check never allocates once its key exists; a
 * full table evicts the least recently checked key that is not firing. */
#include <stdlib.h>
#include <string.h>

#include "engine/alert/alert.h"
#include "engine/core/error.h"
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
    {NULL, 0, NULL, EDDY_NO_RANGE, NULL, 0, NULL},
};

void eddy_alert_policy_defaults(eddy_alert_policy *p)
{
    *p = (eddy_alert_policy){.enabled = true, .min_consecutive = 1, .resolve_after = 1, .resolve = true,
                             .cooldown_ms = 0, .rate_limit = 0, .rate_window_ms = 3600000,
                             .severity = -1, .max_keys = 10000};
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
} akey;

struct eddy_alert_state {
    eddy_alert_policy p;
    akey *slots;
    uint32_t cap; /* power of two, >= 2 * max_keys */
    uint32_t n;
    uint64_t clock;
    uint64_t evicted;
    uint64_t ids;
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

int eddy_alert_check(eddy_alert_state *s, const char *k, size_t n, int breach, int64_t t,
                     uint64_t *id, eddy_alert_suppress *why)
{
    int err = 0;
    *why = EDDY_SUPPRESS_NONE;
    akey *a = lookup(s, k, n, &err);
    if (!a)
        return err;
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
        return p->resolve ? EDDY_ALERT_RESOLVED : EDDY_ALERT_NONE;
    }
    a->clears = 0;
    if (a->firing)
        return EDDY_ALERT_NONE;
    if (++a->breaches < p->min_consecutive)
        return EDDY_ALERT_NONE;
    if (a->has_fired && p->cooldown_ms > 0 && t - a->last_fire < p->cooldown_ms) {
        *why = EDDY_SUPPRESS_COOLDOWN;
        return EDDY_ALERT_SUPPRESSED;
    }
    if (p->rate_limit > 0) {
        if (a->rate_n == 0 || t - a->rate_start >= p->rate_window_ms) {
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
    /* Stable across replays: the key, the firing's event time and how many
     * alerts this instance raised before. */
    a->id = fnv(k, n) ^ ((uint64_t)t * 0x9E3779B97F4A7C15ULL) ^ (++s->ids << 48);
    *id = a->id;
    return EDDY_ALERT_FIRING;
}
