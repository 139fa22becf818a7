/* Redis online store backend.
 *
 * put() encodes rows into chunks (one chunk = one EVALSHA of the upsert
 * script over up to batch_size rows, already in the Redis protocol) outside
 * any lock, then links them to a queue. A writer thread owns the write
 * connection: it keeps a window of chunks in flight (it sends the next ones
 * while Redis runs the first, so the server never waits for the client), and
 * removes a chunk only once Redis acknowledged it, so a dead or restarted
 * server costs a reconnect, never a row. The script compares event times on
 * the server, which makes both the newest-wins rule atomic and a retried
 * chunk harmless (chunks may be applied in any order).
 *
 * get() uses a second connection under its own lock, so a read from the
 * admin thread never waits behind a pipeline. */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/core/error.h"
#include "lib/store/feast.h"
#include "engine/obs/log.h"
#include "lib/store/store_int.h"

/* ARGV: mode ('e' eddy: the hash holds exactly the row, 'f' feast: update
 * this view's fields), ts field, ttl ms ("0": none); then per key, eddy:
 * event ms (also the _ts value), n, n field/value arguments; feast: event
 * ms, Timestamp bytes, n, n field/value arguments. Returns how many rows
 * were stale (kept the stored newer value).
 *
 * Redis runs this on its only thread, so every redis.call per row counts
 * (each is a command lookup, argument objects and a reply conversion): a
 * newer eddy row is HGET, HSET, HLEN, PEXPIRE. The hash is not deleted first:
 * HSET overwrites the row's fields in place, and HLEN shows whether fields
 * the row does not carry (a feature now null, or an older feature set) are
 * left, the rare case that pays for DEL and a second HSET. With no ttl the
 * key is PERSISTed, as a replaced hash would lose an expiry set earlier. */
static const char upsert_lua[] =
    "local function pbts(s)\n"
    "  local i, sec, nanos = 1, 0, 0\n"
    "  while i <= #s do\n"
    "    local tag = string.byte(s, i); i = i + 1\n"
    "    local v, mul, b = 0, 1, 0\n"
    "    repeat\n"
    "      b = string.byte(s, i); if not b then return nil end\n"
    "      i = i + 1; v = v + (b % 128) * mul; mul = mul * 128\n"
    "    until b < 128\n"
    "    if tag == 8 then sec = v elseif tag == 16 then nanos = v end\n"
    "  end\n"
    "  if sec >= 9223372036854775808 then sec = sec - 18446744073709551616 end\n"
    "  return sec * 1000 + math.floor(nanos / 1000000)\n"
    "end\n"
    "local call, unpack, tonumber, keys, argv = redis.call, unpack, tonumber, KEYS, ARGV\n"
    "local mode, tsf, ttl = argv[1], argv[2], argv[3]\n"
    "local expire = ttl ~= '0'\n"
    "local a, stale = 4, 0\n"
    "if mode == 'e' then\n"
    "  for i = 1, #keys do\n"
    "    local k, tsv = keys[i], argv[a]\n"
    "    local n = tonumber(argv[a + 1])\n"
    "    local cur = call('HGET', k, tsf)\n"
    "    local old = cur and tonumber(cur)\n"
    "    if not old or tonumber(tsv) >= old then\n"
    "      call('HSET', k, tsf, tsv, unpack(argv, a + 2, a + 1 + n))\n"
    "      if call('HLEN', k) * 2 ~= n + 2 then\n"
    "        call('DEL', k)\n"
    "        call('HSET', k, tsf, tsv, unpack(argv, a + 2, a + 1 + n))\n"
    "      end\n"
    "      if expire then call('PEXPIRE', k, ttl) else call('PERSIST', k) end\n"
    "    else\n"
    "      stale = stale + 1\n"
    "    end\n"
    "    a = a + 2 + n\n"
    "  end\n"
    "else\n"
    "  for i = 1, #keys do\n"
    "    local k = keys[i]\n"
    "    local n = tonumber(argv[a + 2])\n"
    "    local cur = call('HGET', k, tsf)\n"
    "    local old = cur and pbts(cur)\n"
    "    if not old or tonumber(argv[a]) >= old then\n"
    "      call('HSET', k, tsf, argv[a + 1], unpack(argv, a + 3, a + 2 + n))\n"
    "      if expire then call('PEXPIRE', k, ttl) end\n"
    "    else\n"
    "      stale = stale + 1\n"
    "    end\n"
    "    a = a + 3 + n\n"
    "  end\n"
    "end\n"
    "return stale\n";

/* Chunks sent ahead of the oldest unanswered one. Two already keep Redis
 * busy while the writer reads a reply; more only cover scheduling jitter. */
#define WINDOW_CHUNKS 16
#define BACKOFF_MIN_MS 50

/* One EVALSHA's rows, as Redis protocol bulk strings: the keys and the
 * per-row arguments (the command header and the fixed ARGV are added when
 * it is sent, because KEYS precede ARGV on the wire). */
typedef struct chunk {
    struct chunk *next;
    eddy_buf keys, args;
    uint32_t nkeys, nargs;
    uint32_t rows;
    bool inflight;
} chunk;

typedef struct rstore {
    const eddy_store_conf *c;
    char tsfield[300];
    char mode[2];
    char ttl[24];
    char sha[41];
    char where[300]; /* "redis host:port" for messages */
    eddy_buf fixed;  /* mode, ts field, ttl as bulk strings */

    pthread_mutex_t mu;
    pthread_cond_t work;  /* writer: chunks queued, or stop */
    pthread_cond_t acked; /* producers and flush: rows acknowledged */
    chunk *head, *tail;
    int64_t pending;      /* rows queued, in flight included */
    uint64_t failed_unreported; /* rows lost since the last flush */
    int64_t full_logged_ms;     /* "store full" is logged at most every 10 s */
    eddy_store_stats st;
    bool connected, stop, started;
    char reason[400];
    pthread_t thread;

    redisContext *wctx; /* writer thread only */
    pthread_mutex_t rmu;
    redisContext *rctx; /* get(), under rmu */

    eddy_buf keybuf, valbuf; /* producer scratch */
} rstore;

static chunk *chunk_new(void)
{
    return calloc(1, sizeof(chunk));
}

static void chunk_free(chunk *k)
{
    if (!k)
        return;
    eddy_buf_free(&k->keys);
    eddy_buf_free(&k->args);
    free(k);
}

/* Appends "$<len>\r\n<p>\r\n". */
static int put_bulk(eddy_buf *b, const void *p, size_t len)
{
    char h[24], *e = h + sizeof h, *q = e;
    size_t v = len;
    *--q = '\n';
    *--q = '\r';
    do
        *--q = (char)('0' + v % 10);
    while (v /= 10);
    *--q = '$';
    size_t hl = (size_t)(e - q);
    if (b->cap - b->len < hl + len + 2 && eddy_buf_grow(b, hl + len + 2) != 0)
        return -1;
    memcpy(b->data + b->len, q, hl);
    if (len)
        memcpy(b->data + b->len + hl, p, len);
    memcpy(b->data + b->len + hl + len, "\r\n", 2);
    b->len += hl + len + 2;
    return 0;
}

static int put_bulk_int(eddy_buf *b, int64_t v)
{
    char t[24];
    int n = snprintf(t, sizeof t, "%" PRId64, v);
    return put_bulk(b, t, (size_t)n);
}

static int arg(chunk *k, const void *p, size_t len)
{
    k->nargs++;
    return put_bulk(&k->args, p, len);
}

static int encode_row(rstore *s, chunk *k, const eddy_store_row *r, char *err, size_t errlen)
{
    const eddy_store_conf *c = s->c;
    bool feast = c->layout == EDDY_LAYOUT_FEAST;
    uint32_t nset = 0;
    for (uint32_t i = 0; i < r->nfeatures; i++)
        if (feast || r->features[i].v.type != EDDY_NULL)
            nset++;
    eddy_buf_reset(&s->keybuf);
    int rc = 0;
    if (feast) {
        eddy_value one[1];
        const eddy_value *vals = r->entity_vals;
        if (!vals) {
            if (c->njoin_keys != 1) {
                snprintf(err, errlen, "feature store %s: layout feast with %u join keys needs "
                         "typed entity values", c->view, c->njoin_keys);
                return EDDY_EINVAL;
            }
            one[0] = (eddy_value){.type = EDDY_STRING, .len = r->entity_len, .u.s = r->entity};
            vals = one;
        }
        rc = eddy_feast_redis_key(&s->keybuf, c->project, c->join_keys, vals, c->njoin_keys,
                                  c->entity_type, err, errlen);
        if (rc != 0)
            return rc;
    } else {
        rc |= eddy_buf_printf(&s->keybuf, "%s:%s:", c->key_prefix, c->view);
        rc |= eddy_buf_put(&s->keybuf, r->entity, r->entity_len);
        if (rc)
            return EDDY_ENOMEM;
    }
    if (put_bulk(&k->keys, s->keybuf.data, s->keybuf.len) != 0)
        return EDDY_ENOMEM;
    k->nkeys++;
    k->nargs += 1;
    if (put_bulk_int(&k->args, r->event_ts) != 0)
        return EDDY_ENOMEM;
    if (feast) {
        eddy_buf_reset(&s->valbuf);
        if (eddy_feast_timestamp(&s->valbuf, r->event_ts) != 0 ||
            arg(k, s->valbuf.data, s->valbuf.len) != 0)
            return EDDY_ENOMEM;
    }
    k->nargs += 1;
    if (put_bulk_int(&k->args, 2 * (int64_t)nset) != 0)
        return EDDY_ENOMEM;
    for (uint32_t i = 0; i < r->nfeatures; i++) {
        const eddy_store_feature *f = &r->features[i];
        eddy_buf_reset(&s->valbuf);
        if (feast) {
            uint8_t h[4];
            eddy_feast_field(c->view, f->name, h);
            if (arg(k, h, 4) != 0 ||
                eddy_feast_value(&s->valbuf, &f->v) != 0)
                return EDDY_ENOMEM;
        } else {
            if (f->v.type == EDDY_NULL)
                continue;
            if (arg(k, f->name, strlen(f->name)) != 0 ||
                eddy_store_value_text(&s->valbuf, &f->v) != 0)
                return EDDY_ENOMEM;
        }
        if (arg(k, s->valbuf.data, s->valbuf.len) != 0)
            return EDDY_ENOMEM;
    }
    k->rows++;
    return 0;
}

/* Moves src's rows to the end of dst (both encoded, not linked). */
static int chunk_merge(chunk *dst, const chunk *src)
{
    if (eddy_buf_put(&dst->keys, src->keys.data, src->keys.len) != 0)
        return -1;
    if (eddy_buf_put(&dst->args, src->args.data, src->args.len) != 0) {
        dst->keys.len -= src->keys.len;
        return -1;
    }
    dst->nkeys += src->nkeys;
    dst->nargs += src->nargs;
    dst->rows += src->rows;
    return 0;
}

static void abs_deadline(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

static int rs_put(void *self, const eddy_store_row *rows, uint32_t n, char *err, size_t errlen)
{
    rstore *s = self;
    chunk *first = NULL, **link = &first, *cur = NULL;
    int rc = 0;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        if (!cur || cur->rows >= s->c->batch_size) {
            cur = chunk_new();
            if (!cur) {
                rc = EDDY_ENOMEM;
                break;
            }
            *link = cur;
            link = &cur->next;
        }
        rc = encode_row(s, cur, &rows[i], err, errlen);
    }
    if (rc != 0) {
        if (rc == EDDY_ENOMEM)
            snprintf(err, errlen, "feature store %s: out of memory queueing %u rows", s->c->view, n);
        while (first) {
            chunk *nx = first->next;
            chunk_free(first);
            first = nx;
        }
        return rc;
    }
    pthread_mutex_lock(&s->mu);
    bool warned = false;
    while (!s->stop && s->pending > 0 && s->pending + n > (int64_t)s->c->max_pending) {
        int64_t t = eddy_store_now_ms();
        if (!warned && t - s->full_logged_ms >= 10000) {
            s->full_logged_ms = t;
            eddy_log(EDDY_LOG_WARN, (const char *[]){"view", s->c->view, NULL},
                     "feature store full (%" PRId64 " rows held, max_pending %u): waiting for "
                     "%s", s->pending, s->c->max_pending, s->where);
            warned = true;
        }
        struct timespec dl;
        abs_deadline(&dl, 1000);
        pthread_cond_timedwait(&s->acked, &s->mu, &dl);
    }
    while (first) {
        chunk *nx = first->next;
        first->next = NULL;
        if (s->tail && !s->tail->inflight && s->tail->rows + first->rows <= s->c->batch_size &&
            chunk_merge(s->tail, first) == 0) {
            chunk_free(first);
        } else {
            if (s->tail)
                s->tail->next = first;
            else
                s->head = first;
            s->tail = first;
        }
        first = nx;
    }
    s->pending += n;
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

static void set_reason(rstore *s, const char *fmt, ...) EDDY_PRINTF(2, 3);
static void set_reason(rstore *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&s->mu);
    vsnprintf(s->reason, sizeof s->reason, fmt, ap);
    pthread_mutex_unlock(&s->mu);
    va_end(ap);
}

static struct timeval tv_of(int64_t ms)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

/* Connects, authenticates and selects the database; NULL with why. */
static redisContext *connect_ctx(rstore *s, char *why, size_t len)
{
    const eddy_store_conf *c = s->c;
    redisContext *ctx = redisConnectWithTimeout(c->host, c->port, tv_of(c->connect_timeout_ms));
    if (!ctx) {
        snprintf(why, len, "out of memory");
        return NULL;
    }
    if (ctx->err) {
        snprintf(why, len, "%s", ctx->errstr);
        redisFree(ctx);
        return NULL;
    }
    redisSetTimeout(ctx, tv_of(c->timeout_ms));
    redisEnableKeepAlive(ctx);
    redisReply *r = NULL;
    if (c->password && *c->password) {
        r = c->username && *c->username
                ? redisCommand(ctx, "AUTH %s %s", c->username, c->password)
                : redisCommand(ctx, "AUTH %s", c->password);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            snprintf(why, len, "AUTH failed: %s", r ? r->str : ctx->errstr);
            goto fail;
        }
        freeReplyObject(r);
    }
    if (c->db) {
        r = redisCommand(ctx, "SELECT %d", c->db);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            snprintf(why, len, "SELECT %d failed: %s", c->db, r ? r->str : ctx->errstr);
            goto fail;
        }
        freeReplyObject(r);
    }
    return ctx;
fail:
    if (r)
        freeReplyObject(r);
    redisFree(ctx);
    return NULL;
}

static int load_script(rstore *s, char *why, size_t len)
{
    redisReply *r = redisCommand(s->wctx, "SCRIPT LOAD %s", upsert_lua);
    if (!r || r->type != REDIS_REPLY_STRING || r->len != 40) {
        snprintf(why, len, "SCRIPT LOAD failed: %s",
                 r ? (r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply") : s->wctx->errstr);
        if (r)
            freeReplyObject(r);
        return -1;
    }
    memcpy(s->sha, r->str, 40);
    s->sha[40] = '\0';
    freeReplyObject(r);
    return 0;
}

static void drop_conn(rstore *s)
{
    if (s->wctx)
        redisFree(s->wctx);
    s->wctx = NULL;
    pthread_mutex_lock(&s->mu);
    s->connected = false;
    pthread_mutex_unlock(&s->mu);
}

/* Sleeps up to ms unless stopping; true when stopping. */
static bool nap(rstore *s, int64_t ms)
{
    struct timespec dl;
    abs_deadline(&dl, ms);
    pthread_mutex_lock(&s->mu);
    while (!s->stop && pthread_cond_timedwait(&s->work, &s->mu, &dl) != ETIMEDOUT)
        ;
    bool stop = s->stop;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

static bool transient_error(const char *msg)
{
    static const char *const t[] = {"BUSY", "LOADING", "OOM", "READONLY", "MASTERDOWN",
                                    "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS"};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strncmp(msg, t[i], strlen(t[i])) == 0)
            return true;
    return false;
}

/* Appends chunk k as one EVALSHA to the write connection's output buffer:
 * hiredis sends preformatted bytes as they are, so the header, the keys,
 * the fixed ARGV and the rows' arguments go in four appends, no copy into
 * an argv array. */
static int send_chunk(rstore *s, const chunk *k)
{
    char nk[16], hdr[128];
    int nl = snprintf(nk, sizeof nk, "%u", k->nkeys);
    int hl = snprintf(hdr, sizeof hdr, "*%u\r\n$7\r\nEVALSHA\r\n$40\r\n%s\r\n$%d\r\n%s\r\n",
                      6 + k->nkeys + k->nargs, s->sha, nl, nk);
    if (redisAppendFormattedCommand(s->wctx, hdr, (size_t)hl) != REDIS_OK ||
        redisAppendFormattedCommand(s->wctx, (const char *)k->keys.data, k->keys.len) != REDIS_OK ||
        redisAppendFormattedCommand(s->wctx, (const char *)s->fixed.data, s->fixed.len) !=
            REDIS_OK ||
        redisAppendFormattedCommand(s->wctx, (const char *)k->args.data, k->args.len) != REDIS_OK)
        return -1;
    return 0;
}

typedef enum { SENT_OK, SENT_RETRY, SENT_FAILED } sent;

/* Reads the reply to the oldest chunk in flight. Returns -1 when the
 * connection broke; else sets *outcome, *stale, *noscript and, for a
 * transient server error, why. */
static int read_reply(rstore *s, const chunk *k, sent *outcome, uint64_t *stale, bool *noscript,
                      char *why, size_t wlen)
{
    void *rv = NULL;
    if (redisGetReply(s->wctx, &rv) != REDIS_OK || !rv) {
        snprintf(why, wlen, "%s", s->wctx->errstr[0] ? s->wctx->errstr : "connection lost");
        return -1;
    }
    redisReply *r = rv;
    if (r->type == REDIS_REPLY_INTEGER) {
        *outcome = SENT_OK;
        *stale = (uint64_t)r->integer;
    } else if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        *outcome = SENT_RETRY;
        *noscript = true;
    } else if (r->type == REDIS_REPLY_ERROR && transient_error(r->str)) {
        *outcome = SENT_RETRY;
        snprintf(why, wlen, "%s", r->str);
    } else {
        *outcome = SENT_FAILED;
        eddy_log(EDDY_LOG_ERROR, (const char *[]){"view", s->c->view, NULL},
                 "feature store: %s rejected %u rows: %s", s->where, k->rows,
                 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply type");
    }
    freeReplyObject(r);
    return 0;
}

/* Under mu: a chunk Redis answered leaves the queue (written or rejected);
 * one to retry stays where it is and may be claimed again. */
static void settle(rstore *s, chunk *k, sent outcome, uint64_t stale)
{
    if (outcome == SENT_RETRY) {
        k->inflight = false;
        return;
    }
    chunk *prev = NULL;
    chunk **pp = &s->head;
    while (*pp && *pp != k) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = k->next;
    if (s->tail == k)
        s->tail = prev;
    uint64_t failed = outcome == SENT_FAILED ? k->rows : 0;
    s->pending -= (int64_t)k->rows;
    s->st.written += k->rows - failed - stale;
    s->st.stale += stale;
    s->st.failed += failed;
    s->failed_unreported += failed;
    chunk_free(k);
}

static int64_t next_backoff(const rstore *s, int64_t b)
{
    return b * 2 > s->c->backoff_max_ms ? s->c->backoff_max_ms : b * 2;
}

static void *writer(void *arg)
{
    rstore *s = arg;
    int64_t backoff = BACKOFF_MIN_MS;
    chunk *fl[WINDOW_CHUNKS]; /* in flight, oldest first (replies come in this order) */
    uint32_t nfl = 0;
    bool draining = false, noscript = false, ever_connected = false;
    char why[400];
    for (;;) {
        if (!s->wctx) {
            why[0] = '\0';
            s->wctx = connect_ctx(s, why, sizeof why);
            if (s->wctx && load_script(s, why, sizeof why) != 0) {
                redisFree(s->wctx);
                s->wctx = NULL;
            }
            if (!s->wctx) {
                int64_t held;
                pthread_mutex_lock(&s->mu);
                held = s->pending;
                pthread_mutex_unlock(&s->mu);
                set_reason(s, "%s: %s; retrying in %" PRId64 "ms (%" PRId64 " rows held)",
                           s->where, why, backoff, held);
                if (nap(s, backoff))
                    break;
                backoff = next_backoff(s, backoff);
                continue;
            }
            pthread_mutex_lock(&s->mu);
            s->connected = true;
            s->reason[0] = '\0';
            if (ever_connected)
                s->st.reconnects++;
            pthread_mutex_unlock(&s->mu);
            if (ever_connected)
                eddy_log(EDDY_LOG_INFO, (const char *[]){"view", s->c->view, NULL},
                         "feature store: reconnected to %s", s->where);
            ever_connected = true;
        }
        /* A NOSCRIPT or transient error stops new sends until every chunk in
         * flight is answered; then reload the script or back off. */
        if (draining && nfl == 0) {
            draining = false;
            if (noscript) {
                noscript = false;
                if (load_script(s, why, sizeof why) != 0)
                    drop_conn(s);
            } else {
                if (nap(s, backoff))
                    break;
                backoff = next_backoff(s, backoff);
            }
            continue;
        }

        chunk *fresh[WINDOW_CHUNKS];
        uint32_t nfresh = 0;
        pthread_mutex_lock(&s->mu);
        while (!s->stop && nfl == 0 && !s->head)
            pthread_cond_wait(&s->work, &s->mu);
        if (s->stop && nfl == 0 && !s->head) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        if (!draining) {
            for (chunk *k = s->head; k && nfl < WINDOW_CHUNKS; k = k->next) {
                if (!k->inflight) {
                    k->inflight = true;
                    fl[nfl++] = k;
                    fresh[nfresh++] = k;
                }
            }
        }
        pthread_mutex_unlock(&s->mu);

        why[0] = '\0';
        bool broke = false;
        for (uint32_t i = 0; i < nfresh && !broke; i++) {
            if (send_chunk(s, fresh[i]) != 0) {
                snprintf(why, sizeof why, "%s",
                         s->wctx->errstr[0] ? s->wctx->errstr : "out of memory");
                broke = true;
            }
        }
        sent outcome = SENT_RETRY;
        uint64_t stale = 0;
        if (!broke && nfl > 0)
            broke = read_reply(s, fl[0], &outcome, &stale, &noscript, why, sizeof why) != 0;

        pthread_mutex_lock(&s->mu);
        if (broke) {
            for (uint32_t i = 0; i < nfl; i++)
                fl[i]->inflight = false;
            nfl = 0;
            draining = noscript = false;
            snprintf(s->reason, sizeof s->reason, "%s: %s; retrying (%" PRId64 " rows held)",
                     s->where, why, s->pending);
        } else if (nfl > 0) {
            settle(s, fl[0], outcome, stale);
            memmove(fl, fl + 1, (nfl - 1) * sizeof fl[0]);
            nfl--;
            if (outcome == SENT_RETRY) {
                draining = true;
                if (why[0])
                    snprintf(s->reason, sizeof s->reason,
                             "%s: %s; retrying (%" PRId64 " rows held)", s->where, why,
                             s->pending);
            } else if (s->connected && !draining) {
                s->reason[0] = '\0';
            }
            pthread_cond_broadcast(&s->acked);
        }
        pthread_mutex_unlock(&s->mu);

        if (broke) {
            eddy_log(EDDY_LOG_WARN, (const char *[]){"view", s->c->view, NULL},
                     "feature store: lost connection to %s (%s); rows are held and retried",
                     s->where, why);
            drop_conn(s);
            if (nap(s, backoff))
                break;
            backoff = next_backoff(s, backoff);
            continue;
        }
        if (outcome == SENT_OK)
            backoff = BACKOFF_MIN_MS;
    }
    return NULL;
}

static int rs_flush(void *self)
{
    rstore *s = self;
    struct timespec dl;
    abs_deadline(&dl, s->c->flush_timeout_ms);
    pthread_mutex_lock(&s->mu);
    while (s->pending > 0 && !s->stop) {
        if (pthread_cond_timedwait(&s->acked, &s->mu, &dl) == ETIMEDOUT)
            break;
    }
    int rc = s->pending > 0 ? EDDY_EAGAIN : 0;
    if (rc == 0 && s->failed_unreported) {
        s->failed_unreported = 0;
        rc = EDDY_EIO;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int64_t rs_pending(void *self)
{
    rstore *s = self;
    pthread_mutex_lock(&s->mu);
    int64_t n = s->pending;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static bool rs_ready(void *self, char *why, size_t len)
{
    rstore *s = self;
    pthread_mutex_lock(&s->mu);
    bool ok = s->connected && s->reason[0] == '\0' &&
              s->pending < (int64_t)(s->c->max_pending / 2 ? s->c->max_pending / 2 : 1);
    if (!ok && why && len) {
        if (s->reason[0])
            snprintf(why, len, "store not ready: %s", s->reason);
        else if (!s->connected)
            snprintf(why, len, "store not ready: %s: connecting", s->where);
        else
            snprintf(why, len, "store not ready: %s is slow: %" PRId64 " rows held (max_pending %u)",
                     s->where, s->pending, s->c->max_pending);
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

static void rs_stats(void *self, eddy_store_stats *out)
{
    rstore *s = self;
    pthread_mutex_lock(&s->mu);
    *out = s->st;
    pthread_mutex_unlock(&s->mu);
}

/* ---- reads ------------------------------------------------------------- */

static redisReply *read_cmd(rstore *s, int argc, const char **argv, const size_t *argl)
{
    char why[300];
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!s->rctx && !(s->rctx = connect_ctx(s, why, sizeof why)))
            return NULL;
        redisReply *r = redisCommandArgv(s->rctx, argc, argv, argl);
        if (r)
            return r;
        redisFree(s->rctx); /* stale connection (server restarted): one fresh try */
        s->rctx = NULL;
    }
    return NULL;
}

static int get_eddy(rstore *s, const char *entity, int64_t *event_ts, eddy_buf *out)
{
    eddy_buf key = {0};
    if (eddy_buf_printf(&key, "%s:%s:%s", s->c->key_prefix, s->c->view, entity) != 0)
        return EDDY_ENOMEM;
    const char *argv[2] = {"HGETALL", (const char *)key.data};
    size_t argl[2] = {7, key.len};
    pthread_mutex_lock(&s->rmu);
    redisReply *r = read_cmd(s, 2, argv, argl);
    pthread_mutex_unlock(&s->rmu);
    eddy_buf_free(&key);
    if (!r)
        return EDDY_EIO;
    int rc = EDDY_ENOTFOUND, w = 0;
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2) {
        bool first = true;
        w |= eddy_buf_putc(out, '{');
        for (size_t i = 0; i + 1 < r->elements; i += 2) {
            redisReply *f = r->element[i], *v = r->element[i + 1];
            if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
                continue;
            if (strcmp(f->str, "_ts") == 0) {
                *event_ts = strtoll(v->str, NULL, 10);
                rc = 0;
                continue;
            }
            if (!first)
                w |= eddy_buf_putc(out, ',');
            first = false;
            w |= eddy_buf_json_str(out, f->str, f->len);
            w |= eddy_buf_putc(out, ':');
            w |= eddy_store_text_json(out, v->str, v->len);
        }
        w |= eddy_buf_putc(out, '}');
    } else if (r->type == REDIS_REPLY_ERROR) {
        rc = EDDY_EIO;
    }
    freeReplyObject(r);
    return w ? EDDY_ENOMEM : rc;
}

static int get_feast(rstore *s, const char *entity, int64_t *event_ts, eddy_buf *out)
{
    const eddy_store_conf *c = s->c;
    eddy_value vals[EDDY_STORE_MAX_KEYS];
    const char *p = entity;
    for (uint32_t i = 0; i < c->njoin_keys; i++) {
        size_t len = i + 1 < c->njoin_keys ? strcspn(p, "|") : strlen(p);
        if (i + 1 < c->njoin_keys && p[len] != '|')
            return EDDY_ENOTFOUND; /* fewer values than join keys */
        vals[i] = (eddy_value){.type = EDDY_STRING, .len = (uint32_t)len, .u.s = p};
        p += len + (p[len] == '|');
    }
    eddy_buf key = {0};
    char err[200];
    int rc = eddy_feast_redis_key(&key, c->project, c->join_keys, vals, c->njoin_keys,
                                  c->entity_type, err, sizeof err);
    if (rc != 0) {
        eddy_buf_free(&key);
        return rc == EDDY_ETYPE ? EDDY_ENOTFOUND : rc;
    }
    uint32_t argc = c->nfeatures + 3;
    const char **argv = calloc(argc, sizeof *argv);
    size_t *argl = calloc(argc, sizeof *argl);
    uint8_t *hashes = calloc(c->nfeatures ? c->nfeatures : 1, 4);
    if (!argv || !argl || !hashes) {
        rc = EDDY_ENOMEM;
        goto out;
    }
    argv[0] = "HMGET", argl[0] = 5;
    argv[1] = (const char *)key.data, argl[1] = key.len;
    for (uint32_t i = 0; i < c->nfeatures; i++) {
        eddy_feast_field(c->view, c->features[i], hashes + 4 * i);
        argv[2 + i] = (const char *)hashes + 4 * i, argl[2 + i] = 4;
    }
    argv[argc - 1] = s->tsfield, argl[argc - 1] = strlen(s->tsfield);
    pthread_mutex_lock(&s->rmu);
    redisReply *r = read_cmd(s, (int)argc, argv, argl);
    pthread_mutex_unlock(&s->rmu);
    if (!r) {
        rc = EDDY_EIO;
        goto out;
    }
    rc = EDDY_ENOTFOUND;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == argc - 2) {
        redisReply *ts = r->element[argc - 3];
        if (ts->type == REDIS_REPLY_STRING &&
            eddy_feast_timestamp_decode((const uint8_t *)ts->str, ts->len, event_ts) == 0) {
            int w = eddy_buf_putc(out, '{');
            for (uint32_t i = 0; i < c->nfeatures; i++) {
                redisReply *v = r->element[i];
                if (i)
                    w |= eddy_buf_putc(out, ',');
                w |= eddy_buf_json_str(out, c->features[i], strlen(c->features[i]));
                w |= eddy_buf_putc(out, ':');
                if (v->type == REDIS_REPLY_STRING)
                    w |= eddy_feast_value_json(out, (const uint8_t *)v->str, v->len);
                else
                    w |= eddy_buf_puts(out, "null");
            }
            w |= eddy_buf_putc(out, '}');
            rc = w ? EDDY_ENOMEM : 0;
        }
    } else if (r->type == REDIS_REPLY_ERROR) {
        rc = EDDY_EIO;
    }
    freeReplyObject(r);
out:
    free(argv);
    free(argl);
    free(hashes);
    eddy_buf_free(&key);
    return rc;
}

static int rs_get(void *self, const char *entity, int64_t *event_ts, eddy_buf *out)
{
    rstore *s = self;
    return s->c->layout == EDDY_LAYOUT_FEAST ? get_feast(s, entity, event_ts, out)
                                             : get_eddy(s, entity, event_ts, out);
}

/* ---- lifecycle --------------------------------------------------------- */

static void rs_close(void *self)
{
    rstore *s = self;
    if (!s)
        return;
    if (s->started) {
        int rc = rs_flush(s);
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_cond_broadcast(&s->work);
        pthread_cond_broadcast(&s->acked);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
        if (rc == EDDY_EAGAIN || s->pending > 0)
            eddy_log(EDDY_LOG_ERROR, (const char *[]){"view", s->c->view, NULL},
                     "feature store: closing with %" PRId64 " rows not acknowledged by %s; they "
                     "are lost", s->pending, s->where);
    }
    while (s->head) {
        chunk *nx = s->head->next;
        chunk_free(s->head);
        s->head = nx;
    }
    if (s->wctx)
        redisFree(s->wctx);
    if (s->rctx)
        redisFree(s->rctx);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->rmu);
    pthread_cond_destroy(&s->work);
    pthread_cond_destroy(&s->acked);
    eddy_buf_free(&s->keybuf);
    eddy_buf_free(&s->valbuf);
    eddy_buf_free(&s->fixed);
    free(s);
}

int eddy_store_redis_open(const eddy_store_conf *c, void **out, char *err, size_t errlen)
{
    rstore *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "feature store %s: out of memory", c->view);
        return EDDY_ENOMEM;
    }
    s->c = c;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->rmu, NULL);
    pthread_cond_init(&s->work, NULL);
    pthread_cond_init(&s->acked, NULL);
    if (c->layout == EDDY_LAYOUT_FEAST) {
        s->mode[0] = 'f';
        snprintf(s->tsfield, sizeof s->tsfield, "_ts:%s", c->view);
    } else {
        s->mode[0] = 'e';
        snprintf(s->tsfield, sizeof s->tsfield, "_ts");
    }
    snprintf(s->ttl, sizeof s->ttl, "%" PRId64, c->ttl_ms > 0 ? c->ttl_ms : 0);
    if (put_bulk(&s->fixed, s->mode, 1) != 0 ||
        put_bulk(&s->fixed, s->tsfield, strlen(s->tsfield)) != 0 ||
        put_bulk(&s->fixed, s->ttl, strlen(s->ttl)) != 0) {
        snprintf(err, errlen, "feature store %s: out of memory", c->view);
        rs_close(s);
        return EDDY_ENOMEM;
    }
    snprintf(s->where, sizeof s->where, "redis %s:%d", c->host, c->port);
    snprintf(s->reason, sizeof s->reason, "%s: connecting", s->where);
    if (pthread_create(&s->thread, NULL, writer, s) != 0) {
        snprintf(err, errlen, "feature store %s: cannot start the writer thread", c->view);
        rs_close(s);
        return EDDY_ENOMEM;
    }
    s->started = true;
    *out = s;
    return 0;
}

const eddy_store_backend eddy_store_redis_backend = {
    .put = rs_put,
    .flush = rs_flush,
    .pending = rs_pending,
    .ready = rs_ready,
    .get = rs_get,
    .stats = rs_stats,
    .close = rs_close,
};
