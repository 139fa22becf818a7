/* Host functions of ABI 1.2: state_write (an operator's own keys, written
 * to the changelog during state_flush) and the host-managed keyed state of
 * plugins (state_put/get/del: kept here, flushed and restored by state.c). */
#include <stdlib.h>
#include <string.h>

#include "engine/state/state_int.h"

st_ctx *st_ctx_get(eddy_ctx *c)
{
    if (!c->sst && (c->sst = calloc(1, sizeof *c->sst)))
        c->sst->mode = ST_HOST;
    return c->sst;
}

void eddy_state_ctx_free(eddy_ctx *c)
{
    if (!c || !c->sst)
        return;
    st_kv_free(&c->sst->kv);
    eddy_buf_free(&c->sst->text);
    eddy_buf_free(&c->sst->seen_text);
    free(c->sst);
    c->sst = NULL;
}

/* ---- host-managed keys --------------------------------------------------------- */

st_kv_ent *st_kv_find(st_kv *kv, const void *k, size_t kl)
{
    if (!kv->nb)
        return NULL;
    uint32_t h = eddy_cl_fnv(k, kl, EDDY_CL_FNV_INIT);
    for (st_kv_ent *e = kv->b[h & (kv->nb - 1)]; e; e = e->next)
        if (e->hash == h && e->klen == kl && memcmp(e->key, k, kl) == 0)
            return e;
    return NULL;
}

static int kv_grow(st_kv *kv)
{
    uint32_t nb = kv->nb ? kv->nb * 2 : 64;
    st_kv_ent **b = calloc(nb, sizeof *b);
    if (!b)
        return EDDY_ENOMEM;
    for (uint32_t i = 0; i < kv->nb; i++)
        for (st_kv_ent *e = kv->b[i], *next; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    free(kv->b);
    kv->b = b;
    kv->nb = nb;
    return 0;
}

int st_kv_set(st_kv *kv, const void *k, size_t kl, const void *v, size_t vl, int dirty)
{
    if (kl > UINT32_MAX)
        return EDDY_EINVAL;
    st_kv_ent *e = st_kv_find(kv, k, kl);
    if (!e) {
        if (kv->n >= kv->nb && kv_grow(kv) != 0)
            return EDDY_ENOMEM;
        if (!(e = calloc(1, sizeof *e + kl)))
            return EDDY_ENOMEM;
        e->hash = eddy_cl_fnv(k, kl, EDDY_CL_FNV_INIT);
        e->klen = (uint32_t)kl;
        memcpy(e->key, k, kl);
        e->next = kv->b[e->hash & (kv->nb - 1)];
        kv->b[e->hash & (kv->nb - 1)] = e;
        kv->n++;
    }
    uint8_t *nv = malloc(vl ? vl : 1);
    if (!nv)
        return EDDY_ENOMEM;
    if (vl)
        memcpy(nv, v, vl);
    free(e->val);
    e->val = nv;
    e->vlen = vl;
    e->gone = 0;
    e->dirty = (uint8_t)(dirty || e->dirty);
    return 0;
}

void st_kv_free(st_kv *kv)
{
    for (uint32_t i = 0; i < kv->nb; i++)
        for (st_kv_ent *e = kv->b[i], *next; e; e = next) {
            next = e->next;
            free(e->val);
            free(e);
        }
    free(kv->b);
    memset(kv, 0, sizeof *kv);
}

int eddy_host_state_put(eddy_ctx *ctx, const void *key, size_t klen, const void *v, size_t n)
{
    st_ctx *c = st_ctx_get(ctx);
    if (!c || (!key && klen) || (!v && n))
        return c ? EDDY_EINVAL : EDDY_ENOMEM;
    return st_kv_set(&c->kv, key, klen, v, n, 1);
}

const void *eddy_host_state_get(eddy_ctx *ctx, const void *key, size_t klen, size_t *n)
{
    st_kv_ent *e = ctx->sst ? st_kv_find(&ctx->sst->kv, key, klen) : NULL;
    if (!e || e->gone)
        return NULL;
    if (n)
        *n = e->vlen;
    return e->val;
}

int eddy_host_state_del(eddy_ctx *ctx, const void *key, size_t klen)
{
    st_kv_ent *e = ctx->sst ? st_kv_find(&ctx->sst->kv, key, klen) : NULL;
    if (!e || e->gone)
        return 1;
    /* Kept until the next flush has written its tombstone. */
    e->gone = 1;
    e->dirty = 1;
    free(e->val);
    e->val = NULL;
    e->vlen = 0;
    return 0;
}

/* ---- state_write ------------------------------------------------------------------ */

int eddy_host_state_write(eddy_ctx *ctx, const void *key, size_t klen, int version,
                          const void *data, size_t len)
{
    st_ctx *c = ctx->sst;
    if (!c || !c->active || !ctx->task || !ctx->task->st)
        return 0; /* not durable: nothing to keep */
    if ((!key && klen) || (data && (version <= 0 || version > 65535)))
        return EDDY_EINVAL;
    return eddy_state_write_kind(ctx, EDDY_CL_KEY, key, klen, version, data, len);
}
