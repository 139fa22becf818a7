/* librdkafka configuration from the `kafka:` section and a connector's own
 * `properties`, and the embedded broker.
 *
 * Secrets: a property whose name says password, secret or key has its value
 * kept out of every message this file writes; librdkafka's own "invalid
 * value" text quotes the value, so for those it is replaced. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/kafka/kafka_int.h"
#include "engine/obs/log.h"
#include "engine/config/options.h"

bool eddy_kafka_secret_name(const char *name)
{
    static const char *const words[] = {"password", "secret", "key"};
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        size_t n = strlen(words[w]);
        for (const char *p = name; *p; p++)
            if (strncasecmp(p, words[w], n) == 0)
                return true;
    }
    return false;
}

bool eddy_kafka_is_embedded(const eddy_opts *kafka)
{
    const char *b = kafka ? eddy_opts_str(kafka, "brokers") : NULL;
    return b && strcmp(b, "embedded") == 0;
}

static const char *map_get(const eddy_opts *o, const char *key, const char *name)
{
    if (!o || !key)
        return NULL;
    const char *found = NULL;
    uint32_t n = eddy_opts_count(o, key);
    for (uint32_t i = 0; i < n; i++) {
        const char *k = eddy_opts_key(o, key, i);
        if (k && strcmp(k, name) == 0)
            found = eddy_opts_item(o, key, i); /* the last one wins, as when applied */
    }
    return found;
}

const char *eddy_kafka_user_prop(const eddy_opts *kafka, const eddy_opts *extra,
                                 const char *extra_key, const char *name)
{
    const char *v = map_get(extra, extra_key, name);
    return v ? v : map_get(kafka, "properties", name);
}

int eddy_kafka_conf_default(rd_kafka_conf_t *c, const char *what, const eddy_opts *kafka,
                            const eddy_opts *extra, const char *extra_key, const char *name,
                            const char *value, char *err, size_t errlen)
{
    if (eddy_kafka_user_prop(kafka, extra, extra_key, name))
        return 0;
    return eddy_kafka_conf_set(c, what, name, value, err, errlen);
}

int eddy_kafka_conf_set(rd_kafka_conf_t *c, const char *what, const char *name,
                        const char *value, char *err, size_t errlen)
{
    char why[512];
    rd_kafka_conf_res_t res = rd_kafka_conf_set(c, name, value ? value : "", why, sizeof why);
    if (res == RD_KAFKA_CONF_OK)
        return 0;
    if (res == RD_KAFKA_CONF_UNKNOWN)
        snprintf(err, errlen, "%s: unknown librdkafka property '%s' (see librdkafka's "
                 "CONFIGURATION.md)", what, name);
    else if (eddy_kafka_secret_name(name))
        snprintf(err, errlen, "%s: invalid value for librdkafka property '%s' (value hidden: "
                 "it is a secret)", what, name);
    else
        snprintf(err, errlen, "%s: property '%s': %s", what, name, why);
    return -1;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    /* syslog levels: 0-3 errors, 4 warnings, 5-6 info, 7 debug. */
    eddy_log_level l = level <= 3   ? EDDY_LOG_ERROR
                       : level == 4 ? EDDY_LOG_WARN
                       : level <= 6 ? EDDY_LOG_INFO
                                    : EDDY_LOG_DEBUG;
    eddy_log(l, (const char *[]){"client", rk ? rd_kafka_name(rk) : "", "facility", fac, NULL},
             "librdkafka: %s", buf);
}

static int apply_map(rd_kafka_conf_t *c, const eddy_opts *o, const char *key, const char *what,
                     char *err, size_t errlen)
{
    if (!o || !key)
        return 0;
    char at[512];
    const char *where = eddy_opts_where(o, key);
    snprintf(at, sizeof at, "%s%s%s", where && *where ? where : "", where && *where ? ": " : "",
             what);
    uint32_t n = eddy_opts_count(o, key);
    for (uint32_t i = 0; i < n; i++)
        if (eddy_kafka_conf_set(c, at, eddy_opts_key(o, key, i), eddy_opts_item(o, key, i), err,
                                errlen) != 0)
            return -1;
    return 0;
}

rd_kafka_conf_t *eddy_kafka_conf(const eddy_opts *kafka, const eddy_opts *extra,
                                 const char *extra_key, const char *client_suffix, char *err,
                                 size_t errlen)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    const char *brokers = kafka ? eddy_opts_str(kafka, "brokers") : NULL;
    if (!brokers || !*brokers)
        brokers = "localhost:9092";
    if (strcmp(brokers, "embedded") == 0 && !(brokers = eddy_kafka_embedded(err, errlen)))
        goto fail;
    /* A set client_id is used as given: broker quotas match it exactly. */
    const char *cid = kafka ? eddy_opts_str(kafka, "client_id") : NULL;
    char idbuf[256];
    if (!cid || !*cid) {
        snprintf(idbuf, sizeof idbuf, "eddy%s%s", client_suffix && *client_suffix ? "-" : "",
                 client_suffix ? client_suffix : "");
        cid = idbuf;
    }
    rd_kafka_conf_set_log_cb(c, log_cb);
    if (eddy_kafka_conf_set(c, "kafka.brokers", "bootstrap.servers", brokers, err, errlen) != 0 ||
        eddy_kafka_conf_set(c, "kafka.client_id", "client.id", cid, err, errlen) != 0 ||
        apply_map(c, kafka, "properties", "kafka.properties", err, errlen) != 0 ||
        apply_map(c, extra, extra_key, extra_key ? extra_key : "properties", err, errlen) != 0)
        goto fail;
    return c;
fail:
    rd_kafka_conf_destroy(c);
    return NULL;
}

void eddy_kafka_reason_broker(const char *reason, char *out, size_t outlen)
{
    out[0] = '\0';
    const char *p = reason ? strstr(reason, "://") : NULL;
    if (!p)
        return;
    p += 3;
    size_t n = strcspn(p, "/ :");
    if (p[n] == ':') /* host:port */
        n += 1 + strspn(p + n + 1, "0123456789");
    if (n && n < outlen)
        snprintf(out, outlen, "%.*s", (int)n, p);
}

void eddy_kafka_log_limited(eddy_kafka_ratelog *rl, eddy_log_level level, const char *const *kv,
                            const char *fmt, ...)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (rl->last_ms && now - rl->last_ms < 5000) {
        rl->suppressed++;
        return;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (rl->suppressed)
        eddy_log(level, kv, "%s (%llu similar messages suppressed)", msg,
                 (unsigned long long)rl->suppressed);
    else
        eddy_log(level, kv, "%s", msg);
    rl->last_ms = now;
    rl->suppressed = 0;
}

/* ---- embedded broker ----------------------------------------------------
 *
 * librdkafka's mock cluster, hosted by a client handle created with
 * test.mock.num.brokers. Limits (this is for the quick start, demos and
 * tests, not for production): one broker, everything in memory (a few MB
 * per partition before old segments go), nothing survives the process, no
 * security, and only the protocol subset the mock implements (produce,
 * fetch, consumer groups, offsets; no transactions across restarts). */

static pthread_mutex_t emb_mu = PTHREAD_MUTEX_INITIALIZER;
static rd_kafka_t *emb_rk;
static char emb_bootstraps[256];

static void embedded_at_exit(void) { eddy_kafka_embedded_stop(); }

const char *eddy_kafka_embedded(char *err, size_t errlen)
{
    static int registered;
    pthread_mutex_lock(&emb_mu);
    if (emb_rk) {
        pthread_mutex_unlock(&emb_mu);
        return emb_bootstraps;
    }
    char why[512];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (!c || rd_kafka_conf_set(c, "test.mock.num.brokers", "1", why, sizeof why) != 0 ||
        rd_kafka_conf_set(c, "client.id", "eddy-embedded-broker", why, sizeof why) != 0) {
        snprintf(err, errlen, "embedded broker: %s", c ? why : "out of memory");
        if (c)
            rd_kafka_conf_destroy(c);
        pthread_mutex_unlock(&emb_mu);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(c, log_cb);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, why, sizeof why);
    rd_kafka_mock_cluster_t *mc = rk ? rd_kafka_handle_mock_cluster(rk) : NULL;
    const char *bs = mc ? rd_kafka_mock_cluster_bootstraps(mc) : NULL;
    if (!bs || strlen(bs) >= sizeof emb_bootstraps) {
        snprintf(err, errlen, "embedded broker: cannot start librdkafka's mock cluster: %s",
                 rk ? "no bootstrap address" : why);
        if (rk)
            rd_kafka_destroy(rk);
        else
            rd_kafka_conf_destroy(c);
        pthread_mutex_unlock(&emb_mu);
        return NULL;
    }
    snprintf(emb_bootstraps, sizeof emb_bootstraps, "%s", bs);
    emb_rk = rk;
    if (!registered) {
        registered = 1;
        atexit(embedded_at_exit);
    }
    pthread_mutex_unlock(&emb_mu);
    eddy_log(EDDY_LOG_INFO, (const char *[]){"brokers", emb_bootstraps, NULL},
             "embedded Kafka broker started (in memory, for demos and tests only)");
    return emb_bootstraps;
}

void eddy_kafka_embedded_stop(void)
{
    pthread_mutex_lock(&emb_mu);
    rd_kafka_t *rk = emb_rk;
    emb_rk = NULL;
    emb_bootstraps[0] = '\0';
    pthread_mutex_unlock(&emb_mu);
    if (rk)
        rd_kafka_destroy(rk); /* takes the mock cluster with it */
}

rd_kafka_mock_cluster_t *eddy_kafka_embedded_cluster(void)
{
    pthread_mutex_lock(&emb_mu);
    rd_kafka_mock_cluster_t *mc = emb_rk ? rd_kafka_handle_mock_cluster(emb_rk) : NULL;
    pthread_mutex_unlock(&emb_mu);
    return mc;
}

int eddy_kafka_embedded_topic(const char *topic, int partitions, char *err, size_t errlen)
{
    if (!eddy_kafka_embedded(err, errlen))
        return -1;
    pthread_mutex_lock(&emb_mu);
    rd_kafka_mock_cluster_t *mc = emb_rk ? rd_kafka_handle_mock_cluster(emb_rk) : NULL;
    rd_kafka_resp_err_t e = mc ? rd_kafka_mock_topic_create(mc, topic, partitions, 1)
                               : RD_KAFKA_RESP_ERR__STATE;
    pthread_mutex_unlock(&emb_mu);
    if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        snprintf(err, errlen, "embedded broker: cannot create topic %s: %s", topic,
                 rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}
