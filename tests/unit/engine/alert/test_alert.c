/* Alerts: the noise-control state machine (eddy_alert_check), the alert
 * record and JSON against configs/schemas/alert.avsc, and the /v1/alerts
 * ring. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_JANSSON
#include <jansson.h>
#else
#include <avro.h> /* reads the schema's field names when jansson is absent */
#endif

#include "engine/alert/alert.h"
#include "engine/format/codec.h"
#include "engine/core/sym.h"
#include "tests/unit/test.h"

#ifndef ALERT_SCHEMA
#error "ALERT_SCHEMA: path of configs/schemas/alert.avsc"
#endif

static eddy_alert_policy policy(void)
{
    eddy_alert_policy p;
    eddy_alert_policy_defaults(&p);
    return p;
}

static eddy_alert_state *state(const eddy_alert_policy *p)
{
    eddy_alert_state *s = eddy_alert_state_new(p);
    if (!s) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return s;
}

/* One check of key k; the outcome, with *id and *why when asked for. */
static int chk(eddy_alert_state *s, const char *k, int breach, int64_t t, uint64_t *id,
               eddy_alert_suppress *why)
{
    uint64_t i = 0;
    eddy_alert_suppress w = EDDY_SUPPRESS_NONE;
    int rc = eddy_alert_check(s, k, strlen(k), breach, t, &i, &w);
    if (id)
        *id = i;
    if (why)
        *why = w;
    return rc;
}

static void test_defaults(void)
{
    eddy_alert_policy p = policy();
    CHECK(p.min_consecutive == 1 && p.resolve_after == 1 && p.resolve);
    CHECK(p.cooldown_ms == 0 && p.rate_limit == 0 && p.severity == -1);
    eddy_alert_state *s = state(&p);
    uint64_t fid = 0, rid = 0;
    CHECK(chk(s, "a", 0, 0, NULL, NULL) == EDDY_ALERT_NONE); /* clear, never fired */
    CHECK(chk(s, "a", 1, 1, &fid, NULL) == EDDY_ALERT_FIRING);
    CHECK(chk(s, "a", 1, 2, NULL, NULL) == EDDY_ALERT_NONE); /* still firing: once */
    CHECK(chk(s, "a", 0, 3, &rid, NULL) == EDDY_ALERT_RESOLVED);
    CHECK(fid != 0 && fid == rid);
    CHECK(chk(s, "a", 0, 4, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(eddy_alert_state_keys(s) == 1);
    eddy_alert_state_free(s);
}

static void test_min_consecutive(void)
{
    eddy_alert_policy p = policy();
    p.min_consecutive = 3;
    eddy_alert_state *s = state(&p);
    CHECK(chk(s, "k", 1, 1, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(chk(s, "k", 1, 2, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(chk(s, "k", 1, 3, NULL, NULL) == EDDY_ALERT_FIRING);
    /* A clear check in between restarts the count. */
    CHECK(chk(s, "j", 1, 1, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(chk(s, "j", 1, 2, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(chk(s, "j", 0, 3, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(chk(s, "j", 1, 4, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(chk(s, "j", 1, 5, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(chk(s, "j", 1, 6, NULL, NULL) == EDDY_ALERT_FIRING);
    /* Keys count separately: k's breaches did not help j. */
    CHECK(eddy_alert_state_keys(s) == 2);
    /* After resolving, the count starts again from zero. */
    CHECK(chk(s, "k", 0, 7, NULL, NULL) == EDDY_ALERT_RESOLVED);
    CHECK(chk(s, "k", 1, 8, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(chk(s, "k", 1, 9, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(chk(s, "k", 1, 10, NULL, NULL) == EDDY_ALERT_FIRING);
    eddy_alert_state_free(s);
}

static void test_cooldown(void)
{
    eddy_alert_policy p = policy();
    p.cooldown_ms = 1000;
    eddy_alert_state *s = state(&p);
    eddy_alert_suppress why;
    CHECK(chk(s, "k", 1, 0, NULL, &why) == EDDY_ALERT_FIRING && why == EDDY_SUPPRESS_NONE);
    CHECK(chk(s, "k", 0, 100, NULL, NULL) == EDDY_ALERT_RESOLVED);
    CHECK(chk(s, "k", 1, 500, NULL, &why) == EDDY_ALERT_SUPPRESSED);
    CHECK(why == EDDY_SUPPRESS_COOLDOWN);
    CHECK(chk(s, "k", 1, 999, NULL, &why) == EDDY_ALERT_SUPPRESSED);
    CHECK(why == EDDY_SUPPRESS_COOLDOWN);
    /* The suppressed breaches never fired: nothing to resolve. */
    CHECK(chk(s, "k", 0, 999, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(chk(s, "k", 1, 1000, NULL, &why) == EDDY_ALERT_FIRING);
    CHECK(why == EDDY_SUPPRESS_NONE);
    /* The cooldown counts from the last firing, per key. */
    CHECK(chk(s, "k", 0, 1100, NULL, NULL) == EDDY_ALERT_RESOLVED);
    CHECK(chk(s, "k", 1, 1500, NULL, &why) == EDDY_ALERT_SUPPRESSED);
    CHECK(chk(s, "other", 1, 1500, NULL, &why) == EDDY_ALERT_FIRING);
    eddy_alert_state_free(s);
}

static void test_resolve_after(void)
{
    eddy_alert_policy p = policy();
    p.resolve_after = 3;
    eddy_alert_state *s = state(&p);
    uint64_t fid = 0, rid = 0;
    CHECK(chk(s, "k", 1, 0, &fid, NULL) == EDDY_ALERT_FIRING);
    CHECK(chk(s, "k", 0, 1, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(chk(s, "k", 0, 2, NULL, NULL) == EDDY_ALERT_NONE);
    /* A breach in between restarts the clear count (and does not re-fire). */
    CHECK(chk(s, "k", 1, 3, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(chk(s, "k", 0, 4, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(chk(s, "k", 0, 5, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(chk(s, "k", 0, 6, &rid, NULL) == EDDY_ALERT_RESOLVED);
    CHECK(rid == fid);
    uint64_t fid2 = 0;
    CHECK(chk(s, "k", 1, 7, &fid2, NULL) == EDDY_ALERT_FIRING);
    CHECK(fid2 != fid); /* a new alert, a new id */
    eddy_alert_state_free(s);

    /* resolve: false clears silently; the next breach fires again. */
    p = policy();
    p.resolve = false;
    s = state(&p);
    CHECK(chk(s, "k", 1, 0, NULL, NULL) == EDDY_ALERT_FIRING);
    CHECK(chk(s, "k", 1, 1, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(chk(s, "k", 0, 2, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(chk(s, "k", 0, 3, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(chk(s, "k", 1, 4, NULL, NULL) == EDDY_ALERT_FIRING);
    eddy_alert_state_free(s);
}

static void test_rate_limit(void)
{
    eddy_alert_policy p = policy();
    p.rate_limit = 2;
    p.rate_window_ms = 1000;
    eddy_alert_state *s = state(&p);
    eddy_alert_suppress why;
    CHECK(chk(s, "k", 1, 0, NULL, NULL) == EDDY_ALERT_FIRING);
    CHECK(chk(s, "k", 0, 10, NULL, NULL) == EDDY_ALERT_RESOLVED);
    CHECK(chk(s, "k", 1, 20, NULL, NULL) == EDDY_ALERT_FIRING);
    CHECK(chk(s, "k", 0, 30, NULL, NULL) == EDDY_ALERT_RESOLVED);
    CHECK(chk(s, "k", 1, 40, NULL, &why) == EDDY_ALERT_SUPPRESSED);
    CHECK(why == EDDY_SUPPRESS_RATE_LIMIT);
    CHECK(chk(s, "k", 0, 50, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(chk(s, "k", 1, 999, NULL, &why) == EDDY_ALERT_SUPPRESSED);
    CHECK(why == EDDY_SUPPRESS_RATE_LIMIT);
    /* Per key: another key has its own budget. */
    CHECK(chk(s, "j", 1, 999, NULL, NULL) == EDDY_ALERT_FIRING);
    /* The window (from the first firing at 0) is over: the counter resets. */
    CHECK(chk(s, "k", 1, 1000, NULL, &why) == EDDY_ALERT_FIRING);
    CHECK(why == EDDY_SUPPRESS_NONE);
    CHECK(chk(s, "k", 0, 1010, NULL, NULL) == EDDY_ALERT_RESOLVED);
    CHECK(chk(s, "k", 1, 1020, NULL, NULL) == EDDY_ALERT_FIRING);
    CHECK(chk(s, "k", 0, 1030, NULL, NULL) == EDDY_ALERT_RESOLVED);
    CHECK(chk(s, "k", 1, 1040, NULL, &why) == EDDY_ALERT_SUPPRESSED);
    CHECK(why == EDDY_SUPPRESS_RATE_LIMIT);
    eddy_alert_state_free(s);

    /* Cooldown and rate limit together: the cooldown speaks first. */
    p.cooldown_ms = 100;
    s = state(&p);
    CHECK(chk(s, "k", 1, 0, NULL, NULL) == EDDY_ALERT_FIRING);
    CHECK(chk(s, "k", 0, 1, NULL, NULL) == EDDY_ALERT_RESOLVED);
    CHECK(chk(s, "k", 1, 50, NULL, &why) == EDDY_ALERT_SUPPRESSED && why == EDDY_SUPPRESS_COOLDOWN);
    eddy_alert_state_free(s);
}

static void test_max_keys(void)
{
    eddy_alert_policy p = policy();
    p.max_keys = 4;
    eddy_alert_state *s = state(&p);
    uint64_t fa = 0, ra = 0;
    /* "a" is the stalest key but firing; b, c, d are quiet. */
    CHECK(chk(s, "a", 1, 0, &fa, NULL) == EDDY_ALERT_FIRING);
    CHECK(chk(s, "b", 0, 1, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(chk(s, "c", 1, 2, NULL, NULL) == EDDY_ALERT_FIRING);
    CHECK(chk(s, "c", 0, 3, NULL, NULL) == EDDY_ALERT_RESOLVED); /* quiet again */
    CHECK(chk(s, "d", 0, 4, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(eddy_alert_state_keys(s) == 4 && eddy_alert_state_evicted(s) == 0);
    CHECK(chk(s, "e", 0, 5, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(eddy_alert_state_keys(s) == 4);
    CHECK(eddy_alert_state_evicted(s) == 1);
    /* a survived (it is firing and resolves with its id); b was forgotten. */
    CHECK(chk(s, "a", 0, 6, &ra, NULL) == EDDY_ALERT_RESOLVED);
    CHECK(ra == fa);
    CHECK(eddy_alert_state_evicted(s) == 1);
    /* Now quiet a was checked last: b returns and evicts c, the stalest. */
    CHECK(chk(s, "b", 1, 7, NULL, NULL) == EDDY_ALERT_FIRING);
    CHECK(eddy_alert_state_evicted(s) == 2);
    CHECK(chk(s, "d", 0, 8, NULL, NULL) == EDDY_ALERT_NONE); /* still tracked */
    CHECK(eddy_alert_state_evicted(s) == 2);
    CHECK(chk(s, "c", 0, 9, NULL, NULL) == EDDY_ALERT_NONE);   /* returns, evicts e */
    CHECK(eddy_alert_state_evicted(s) == 3);
    CHECK(eddy_alert_state_keys(s) == 4);
    eddy_alert_state_free(s);

    /* Every key firing: the stalest goes anyway, and the table stays bounded. */
    p.max_keys = 2;
    s = state(&p);
    CHECK(chk(s, "x", 1, 0, NULL, NULL) == EDDY_ALERT_FIRING);
    CHECK(chk(s, "y", 1, 1, NULL, NULL) == EDDY_ALERT_FIRING);
    CHECK(chk(s, "z", 1, 2, NULL, NULL) == EDDY_ALERT_FIRING);
    CHECK(eddy_alert_state_keys(s) == 2 && eddy_alert_state_evicted(s) == 1);
    CHECK(chk(s, "y", 0, 3, NULL, NULL) == EDDY_ALERT_RESOLVED); /* y was newer than x */
    eddy_alert_state_free(s);

    /* Many keys through a small table: lookups stay right after evictions. */
    p.max_keys = 16;
    s = state(&p);
    char k[32];
    int fired = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf(k, sizeof k, "key-%d", i);
        fired += chk(s, k, 1, i, NULL, NULL) == EDDY_ALERT_FIRING;
        if (i % 2)
            CHECK(chk(s, k, 0, i, NULL, NULL) == EDDY_ALERT_RESOLVED);
    }
    CHECK(fired == 1000);
    CHECK(eddy_alert_state_keys(s) == 16);
    CHECK(eddy_alert_state_evicted(s) == 1000 - 16);
    /* The newest firing key is still there and still firing. */
    CHECK(chk(s, "key-998", 1, 2000, NULL, NULL) == EDDY_ALERT_NONE);
    CHECK(chk(s, "key-998", 0, 2001, NULL, NULL) == EDDY_ALERT_RESOLVED);
    eddy_alert_state_free(s);
}

/* The same checks in a fresh state: the ids of every event, in order. */
static void run_ids(uint64_t out[6])
{
    eddy_alert_policy p = policy();
    eddy_alert_state *s = state(&p);
    int n = 0;
    chk(s, "f\x1fone", 1, 1000, &out[n++], NULL);
    chk(s, "f\x1ftwo", 1, 1000, &out[n++], NULL);
    chk(s, "f\x1fone", 0, 2000, &out[n++], NULL);
    chk(s, "f\x1fone", 1, 3000, &out[n++], NULL);
    chk(s, "f\x1ftwo", 0, 3000, &out[n++], NULL);
    chk(s, "f\x1fone", 0, 4000, &out[n++], NULL);
    eddy_alert_state_free(s);
}

static void test_ids(void)
{
    uint64_t a[6], b[6];
    run_ids(a);
    run_ids(b);
    CHECK(memcmp(a, b, sizeof a) == 0); /* replays give the same ids */
    CHECK(a[0] != a[1]);                /* keys differ, same time */
    CHECK(a[2] == a[0] && a[4] == a[1] && a[5] == a[3]);
    CHECK(a[3] != a[0]); /* a second firing of a key is another alert */
    for (int i = 0; i < 6; i++)
        CHECK(a[i] != 0);
}

/* ---- the record and its JSON against the schema ------------------------ */

#define MAXF 64
typedef struct names {
    char *v[MAXF];
    int n;
} names;

static void names_free(names *n)
{
    for (int i = 0; i < n->n; i++)
        free(n->v[i]);
    n->n = 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    fclose(f);
    if (s) {
        s[n] = '\0';
        *len = (size_t)n;
    }
    return s;
}

/* The field names of the schema, in order. */
static int schema_names(names *out)
{
    size_t len = 0;
    char *text = slurp(ALERT_SCHEMA, &len);
    if (!text) {
        fprintf(stderr, "cannot read %s\n", ALERT_SCHEMA);
        return -1;
    }
    out->n = 0;
#ifdef HAVE_JANSSON
    json_error_t err;
    json_t *root = json_loadb(text, len, 0, &err);
    json_t *fields = root ? json_object_get(root, "fields") : NULL;
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f) {
        const char *name = json_string_value(json_object_get(f, "name"));
        if (name && out->n < MAXF)
            out->v[out->n++] = strdup(name);
    }
    json_decref(root);
#else
    avro_schema_t s;
    if (avro_schema_from_json_length(text, len, &s) == 0) {
        for (size_t i = 0; i < avro_schema_record_size(s) && out->n < MAXF; i++)
            out->v[out->n++] = strdup(avro_schema_record_field_name(s, (int)i));
        avro_schema_decref(s);
    }
#endif
    free(text);
    return out->n > 0 ? 0 : -1;
}

/* The top-level keys of a JSON object, in order; -1 if it does not parse. */
static int json_keys(const char *text, size_t len, names *out)
{
    out->n = 0;
#ifdef HAVE_JANSSON
    json_error_t err;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!json_is_object(root)) {
        fprintf(stderr, "bad JSON: %s: %.*s\n", err.text, (int)len, text);
        json_decref(root);
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) {
        if (out->n < MAXF)
            out->v[out->n++] = strdup(k);
    }
    json_decref(root);
    return 0;
#else
    eddy_codec_conf cc = {.format = EDDY_FMT_JSON};
    eddy_codec *c = NULL;
    char err[256];
    eddy_batch *b = eddy_batch_new(1, 0);
    eddy_record *r = b ? eddy_batch_append(b) : NULL;
    int rc = -1;
    if (r && eddy_codec_new(&cc, &c, err, sizeof err) == 0 &&
        eddy_codec_decode(c, b, r, text, len) == 0) {
        for (uint32_t i = 0; i < r->nfields && out->n < MAXF; i++)
            out->v[out->n++] = strdup(eddy_sym_name(r->fields[i].name));
        rc = 0;
    }
    eddy_codec_destroy(c);
    if (b)
        eddy_batch_destroy(b);
    return rc;
#endif
}

static int same_names(const names *a, const names *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (!a->v[i] || !b->v[i] || strcmp(a->v[i], b->v[i]) != 0)
            return 0;
    return 1;
}

static eddy_alert sample_alert(void)
{
    return (eddy_alert){
        .struct_size = sizeof(eddy_alert),
        .breach = 1,
        .detector = "distribution",
        .feature = "amount",
        .key = "user \"7\"\n\x01",
        .statistic = "psi",
        .value = 6.25,
        .threshold = 0.2,
        .p_value = 0.001,
        .severity = EDDY_SEV_WARNING,
        .time_ms = 1767234599000,
        .current_start_ms = 1767232800000,
        .current_end_ms = 1767234599000,
        .current_n = 1800,
        .reference_start_ms = 1767225600000,
        .reference_end_ms = 1767227599000,
        .reference_n = 2000,
    };
}

static const eddy_value *rec_get(const eddy_record *r, const char *name)
{
    return eddy_record_get(r, eddy_sym_intern(name, strlen(name)));
}

static void test_record_and_json(void)
{
    names sch = {0}, got = {0};
    CHECK(schema_names(&sch) == 0);
    CHECK(sch.n == 23);
    eddy_alert a = sample_alert();
    eddy_alert_event e = {.a = &a, .id = 0x00ab00cd00ef0012ULL, .firing = 1,
                          .severity = EDDY_SEV_CRITICAL, .worker = "w1", .pipeline = "p",
                          .step = "dd", .partition = 3, .emitted_at_ms = 1800000000000};

    /* The record: the schema's fields, in order, with the values given. */
    eddy_batch *b = eddy_batch_new(1, 0);
    eddy_record *r = b ? eddy_batch_append(b) : NULL;
    CHECK(r && eddy_alert_record(&e, b, r) == 0);
    if (r) {
        for (uint32_t i = 0; i < r->nfields && got.n < MAXF; i++)
            got.v[got.n++] = strdup(eddy_sym_name(r->fields[i].name));
        CHECK(same_names(&got, &sch));
        names_free(&got);
        const eddy_value *v = rec_get(r, "alert_id");
        CHECK(v && v->type == EDDY_STRING && v->len == 16 &&
              memcmp(v->u.s, "00ab00cd00ef0012", 16) == 0);
        v = rec_get(r, "state");
        CHECK(v && v->len == 6 && memcmp(v->u.s, "firing", 6) == 0);
        v = rec_get(r, "severity"); /* the event's (policy) severity, not the detector's */
        CHECK(v && v->len == 8 && memcmp(v->u.s, "critical", 8) == 0);
        v = rec_get(r, "partition");
        CHECK(v && v->type == EDDY_INT && v->u.i == 3);
        v = rec_get(r, "p_value");
        CHECK(v && v->type == EDDY_DOUBLE && v->u.d == 0.001);
        v = rec_get(r, "current_start");
        CHECK(v && v->type == EDDY_INT && v->u.i == 1767232800000);
        v = rec_get(r, "reference_n");
        CHECK(v && v->type == EDDY_INT && v->u.i == 2000);
        v = rec_get(r, "message"); /* generated when the operator gives none */
        CHECK(v && v->type == EDDY_STRING && v->len > 0);
        CHECK(r->ts == a.time_ms);
        CHECK(r->key.type == EDDY_STRING);
    }

    /* The record encodes with the schema (what an avro alerts sink does) and
     * decodes back to the same fields. */
    eddy_codec *avro = NULL; /* stays NULL in a build without avro-c */
    char err[512] = "";
#if EDDY_HAVE_AVRO
    eddy_codec_conf cc = {.format = EDDY_FMT_AVRO, .avro_schema = ALERT_SCHEMA};
    CHECK_MSG(eddy_codec_new(&cc, &avro, err, sizeof err) == 0, "%s", err);
#endif
    eddy_buf enc = {0};
    if (avro && r) {
        CHECK_MSG(eddy_codec_encode(avro, r, &enc, err, sizeof err) == 0, "%s", err);
        eddy_record *back = eddy_batch_append(b);
        CHECK(back && eddy_codec_decode(avro, b, back, enc.data, enc.len) == 0);
        if (back) {
            eddy_buf j1 = {0}, j2 = {0};
            r = &b->recs[0]; /* append may have moved the records */
            eddy_record_to_json(r, &j1);
            eddy_record_to_json(back, &j2);
            CHECK(j1.len == j2.len && memcmp(j1.data, j2.data, j1.len) == 0);
            eddy_buf_free(&j1);
            eddy_buf_free(&j2);
        }
    }
    eddy_buf_free(&enc);

    /* JSON: well-formed, the schema's keys in order, odd key escaped. */
    eddy_buf js = {0};
    CHECK(eddy_alert_json(&e, &js) == 0);
    CHECK(js.len > 0 && js.data[0] == '{' && js.data[js.len - 1] == '}');
    CHECK(json_keys((const char *)js.data, js.len, &got) == 0);
    CHECK(same_names(&got, &sch));
    names_free(&got);
    eddy_buf_putc(&js, '\0');
    CHECK_CONTAINS((const char *)js.data, "\"key\":\"user \\\"7\\\"\\n\\u0001\"");
    CHECK_CONTAINS((const char *)js.data, "\"alert_id\":\"00ab00cd00ef0012\"");
    CHECK_CONTAINS((const char *)js.data, "\"state\":\"firing\"");

    /* No p-value, no windows: nulls (the schema's unions), n = 0. */
    a.p_value = NAN;
    a.current_n = 0;
    a.reference_n = 0;
    a.key = "";
    a.message = "custom message";
    e.firing = 0;
    eddy_buf_reset(&js);
    CHECK(eddy_alert_json(&e, &js) == 0);
    CHECK(json_keys((const char *)js.data, js.len, &got) == 0);
    CHECK(same_names(&got, &sch));
    names_free(&got);
    eddy_buf_putc(&js, '\0');
    const char *s = (const char *)js.data;
    CHECK_CONTAINS(s, "\"p_value\":null");
    CHECK_CONTAINS(s, "\"current_start\":null,\"current_end\":null,\"current_n\":0");
    CHECK_CONTAINS(s, "\"reference_start\":null,\"reference_end\":null,\"reference_n\":0");
    CHECK_CONTAINS(s, "\"state\":\"resolved\"");
    CHECK_CONTAINS(s, "\"message\":\"custom message\"");
    CHECK_CONTAINS(s, "\"key\":\"\"");
    /* ... and the Avro encoding takes the nulls. */
    eddy_batch_reset(b);
    r = eddy_batch_append(b);
    CHECK(r && eddy_alert_record(&e, b, r) == 0);
    if (avro && r) {
        CHECK(rec_get(r, "p_value")->type == EDDY_NULL);
        CHECK_MSG(eddy_codec_encode(avro, r, &enc, err, sizeof err) == 0, "%s", err);
    }
    /* A statistic that is not finite stays valid JSON. */
    a.value = INFINITY;
    eddy_buf_reset(&js);
    CHECK(eddy_alert_json(&e, &js) == 0);
    CHECK(json_keys((const char *)js.data, js.len, &got) == 0);
    names_free(&got);

    /* Messages: the default names what drifted, where. */
    char msg[512];
    a = sample_alert();
    a.key = "";
    e.firing = 1;
    eddy_alert_message(&e, msg, sizeof msg);
    CHECK_CONTAINS(msg, "amount");
    CHECK_CONTAINS(msg, "p/dd");
    CHECK_CONTAINS(msg, "psi=6.25");
    e.firing = 0;
    eddy_alert_message(&e, msg, sizeof msg);
    CHECK_CONTAINS(msg, "resolved");
    eddy_buf kb = {0};
    a.key = "u1";
    eddy_alert_kafka_key(&e, &kb);
    CHECK(kb.len == strlen("p/amount/u1") && memcmp(kb.data, "p/amount/u1", kb.len) == 0);
    eddy_buf_free(&kb);
    CHECK_STR(eddy_severity_name(EDDY_SEV_INFO), "info");
    CHECK_STR(eddy_severity_name(EDDY_SEV_WARNING), "warning");
    CHECK_STR(eddy_severity_name(EDDY_SEV_CRITICAL), "critical");

    eddy_buf_free(&enc);
    eddy_buf_free(&js);
    eddy_codec_destroy(avro);
    if (b)
        eddy_batch_destroy(b);
    names_free(&sch);
}

/* ---- the ring ------------------------------------------------------------ */

typedef struct page {
    long long next, dropped;
    long long seq[16];
    int n;
    int ok;
} page;

/* Parses {"next":N,"dropped":D,"alerts":[{"seq":S,"alert":{...}}...]}. */
static page parse_page(const eddy_buf *b)
{
    page p = {0};
#ifdef HAVE_JANSSON
    json_error_t err;
    json_t *root = json_loadb((const char *)b->data, b->len, JSON_REJECT_DUPLICATES, &err);
    json_t *alerts = json_object_get(root, "alerts");
    if (json_is_integer(json_object_get(root, "next")) &&
        json_is_integer(json_object_get(root, "dropped")) && json_is_array(alerts)) {
        p.ok = 1;
        p.next = json_integer_value(json_object_get(root, "next"));
        p.dropped = json_integer_value(json_object_get(root, "dropped"));
        size_t i;
        json_t *it;
        json_array_foreach(alerts, i, it) {
            json_t *seq = json_object_get(it, "seq"), *al = json_object_get(it, "alert");
            if (!json_is_integer(seq) || !json_is_object(al) || json_object_size(it) != 2 ||
                p.n == 16) {
                p.ok = 0;
                break;
            }
            p.seq[p.n++] = json_integer_value(seq);
        }
    } else {
        fprintf(stderr, "bad ring JSON: %.*s\n", (int)b->len, (const char *)b->data);
    }
    json_decref(root);
#else
    eddy_codec_conf cc = {.format = EDDY_FMT_JSON};
    eddy_codec *c = NULL;
    char err[256];
    eddy_batch *bt = eddy_batch_new(1, 0);
    eddy_record *r = bt ? eddy_batch_append(bt) : NULL;
    if (r && eddy_codec_new(&cc, &c, err, sizeof err) == 0 &&
        eddy_codec_decode(c, bt, r, b->data, b->len) == 0) {
        const eddy_value *next = rec_get(r, "next"), *dr = rec_get(r, "dropped"),
                         *al = rec_get(r, "alerts");
        if (next && dr && al && al->type == EDDY_ARRAY) {
            p.ok = 1;
            p.next = next->u.i;
            p.dropped = dr->u.i;
            for (uint32_t i = 0; i < al->len && p.n < 16; i++) {
                const eddy_value *it = &al->u.items[i];
                if (it->type != EDDY_MAP || it->len != 2 || it->u.kvs[0].val.type != EDDY_INT ||
                    it->u.kvs[1].val.type != EDDY_MAP) {
                    p.ok = 0;
                    break;
                }
                p.seq[p.n++] = it->u.kvs[0].val.u.i;
            }
        }
    }
    eddy_codec_destroy(c);
    if (bt)
        eddy_batch_destroy(bt);
#endif
    return p;
}

static page ring_page(eddy_alert_ring *r, uint64_t after, uint32_t limit)
{
    eddy_buf b = {0};
    page p = {0};
    if (eddy_alert_ring_json(r, after, limit, &b) == 0)
        p = parse_page(&b);
    eddy_buf_free(&b);
    return p;
}

static int seqs(const page *p, long long first, int n)
{
    if (!p->ok || p->n != n)
        return 0;
    for (int i = 0; i < n; i++)
        if (p->seq[i] != first + i)
            return 0;
    return 1;
}

static void test_ring(void)
{
    eddy_alert_ring *r = eddy_alert_ring_new(4);
    CHECK(r != NULL);
    if (!r)
        return;
    page p = ring_page(r, 0, 0);
    CHECK(p.ok && p.next == 0 && p.dropped == 0 && p.n == 0);

    char js[64];
    for (int i = 1; i <= 3; i++) {
        int n = snprintf(js, sizeof js, "{\"n\":%d,\"s\":\"a\\\"b\"}", i);
        CHECK(eddy_alert_ring_push(r, js, (size_t)n) == (uint64_t)i);
    }
    p = ring_page(r, 0, 0);
    CHECK(seqs(&p, 1, 3) && p.next == 3 && p.dropped == 0);
    p = ring_page(r, 1, 0);
    CHECK(seqs(&p, 2, 2) && p.next == 3);
    p = ring_page(r, 0, 2); /* limit: a page, next says where to go on */
    CHECK(seqs(&p, 1, 2) && p.next == 2);
    p = ring_page(r, p.next, 2);
    CHECK(seqs(&p, 3, 1) && p.next == 3);
    p = ring_page(r, 3, 0); /* nothing new */
    CHECK(p.ok && p.n == 0 && p.next == 3 && p.dropped == 0);

    /* Overwritten: 6 pushed into 4 slots, 1 and 2 are gone. */
    for (int i = 4; i <= 6; i++) {
        int n = snprintf(js, sizeof js, "{\"n\":%d}", i);
        CHECK(eddy_alert_ring_push(r, js, (size_t)n) == (uint64_t)i);
    }
    p = ring_page(r, 0, 0);
    CHECK(seqs(&p, 3, 4) && p.next == 6 && p.dropped == 2);
    p = ring_page(r, 1, 0);
    CHECK(seqs(&p, 3, 4) && p.dropped == 1);
    p = ring_page(r, 2, 0);
    CHECK(seqs(&p, 3, 4) && p.dropped == 0);
    p = ring_page(r, 0, 2);
    CHECK(seqs(&p, 3, 2) && p.next == 4 && p.dropped == 2);
    p = ring_page(r, 4, 0);
    CHECK(seqs(&p, 5, 2) && p.next == 6 && p.dropped == 0);
    /* A reader ahead of the ring (the worker restarted): next goes back. */
    p = ring_page(r, 100, 0);
    CHECK(p.ok && p.n == 0 && p.next == 6 && p.dropped == 0);
    eddy_alert_ring_free(r);

    /* Real alert JSON through the ring stays one well-formed document. */
    r = eddy_alert_ring_new(8);
    eddy_alert a = sample_alert();
    eddy_alert_event e = {.a = &a, .id = 42, .firing = 1, .severity = EDDY_SEV_WARNING,
                          .worker = "w", .pipeline = "p", .step = "s"};
    eddy_buf b = {0};
    for (int i = 0; i < 10; i++) {
        eddy_buf_reset(&b);
        a.p_value = i % 2 ? NAN : 0.5;
        CHECK(eddy_alert_json(&e, &b) == 0);
        CHECK(eddy_alert_ring_push(r, (const char *)b.data, b.len) == (uint64_t)i + 1);
    }
    eddy_buf_free(&b);
    p = ring_page(r, 0, 0);
    CHECK(seqs(&p, 3, 8) && p.next == 10 && p.dropped == 2);
    eddy_alert_ring_free(r);
}

int main(void)
{
    test_defaults();
    test_min_consecutive();
    test_cooldown();
    test_resolve_after();
    test_rate_limit();
    test_max_keys();
    test_ids();
    test_record_and_json();
    test_ring();
    return test_report();
}
