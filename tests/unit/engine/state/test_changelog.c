/* The changelog record format of durable state (engine/state/changelog.c):
 * keys, values and markers round-trip and are little endian whatever the
 * host; step ids are stable across builds; option texts leave out options
 * that do not shape state; a changed window size changes the fingerprint
 * and the refusal sentence names it; host-managed keys (state_put/get/del)
 * keep values and mark deletions. */
#include <stdlib.h>
#include <string.h>

#include "engine/state/changelog.h"
#include "engine/state/state_int.h"
#include "engine/config/options.h"
#include "operators/window/window.h"
#include "tests/unit/test.h"

static void framing(void)
{
    eddy_buf k = {0}, v = {0};
    CHECK(eddy_cl_key(&k, EDDY_CL_KEY, 0x01020304u, "ab", 2) == 0);
    CHECK(k.len == 7);
    static const uint8_t want_k[] = {0, 4, 3, 2, 1, 'a', 'b'};
    CHECK(memcmp(k.data, want_k, 7) == 0);
    int kind;
    uint32_t step;
    const uint8_t *kb;
    size_t kl;
    CHECK(eddy_cl_key_parse(k.data, k.len, &kind, &step, &kb, &kl) == 0);
    CHECK(kind == EDDY_CL_KEY && step == 0x01020304u && kl == 2 && memcmp(kb, "ab", 2) == 0);
    CHECK(eddy_cl_key_parse(k.data, 4, &kind, &step, &kb, &kl) < 0); /* too short */
    uint8_t bad[5] = {9, 0, 0, 0, 0};
    CHECK(eddy_cl_key_parse(bad, 5, &kind, &step, &kb, &kl) < 0); /* unknown kind */

    CHECK(eddy_cl_value_hdr(&v, 0xa1b2c3d4u, 3) == 0);
    eddy_buf_put(&v, "xyz", 3);
    static const uint8_t want_v[] = {1, 0xd4, 0xc3, 0xb2, 0xa1, 3, 0, 'x', 'y', 'z'};
    CHECK(v.len == sizeof want_v && memcmp(v.data, want_v, sizeof want_v) == 0);
    uint32_t fp;
    int ver;
    const uint8_t *pl;
    size_t plen;
    CHECK(eddy_cl_value_parse(v.data, v.len, &fp, &ver, &pl, &plen) == 0);
    CHECK(fp == 0xa1b2c3d4u && ver == 3 && plen == 3 && memcmp(pl, "xyz", 3) == 0);
    v.data[0] = 2; /* a format this build does not know is never misread */
    CHECK(eddy_cl_value_parse(v.data, v.len, &fp, &ver, &pl, &plen) < 0);

    eddy_buf m = {0};
    eddy_cl_marker a = {123456789012LL, -5, INT64_MIN, 42}, b;
    eddy_cl_marker_put(&m, &a);
    CHECK(m.len == EDDY_CL_MARKER_LEN);
    CHECK(eddy_cl_marker_get(m.data, m.len, &b) == 0);
    CHECK(b.last_offset == a.last_offset && b.max_ts == a.max_ts && b.watermark == a.watermark &&
          b.seq == a.seq);
    CHECK(eddy_cl_marker_get(m.data, m.len - 1, &b) < 0);
    eddy_buf_free(&k);
    eddy_buf_free(&v);
    eddy_buf_free(&m);
}

static void ids(void)
{
    /* FNV-1a 32 of "a": a changelog written by one build is read by the next. */
    CHECK(eddy_cl_fnv("a", 1, EDDY_CL_FNV_INIT) == 0xe40c292cu);
    uint32_t s = eddy_cl_step_id("payments", "user_spend", "win");
    CHECK(s == eddy_cl_step_id("payments", "user_spend", "win"));
    CHECK(s != eddy_cl_step_id("payments", "user_spend", "win2"));
    CHECK(s != eddy_cl_step_id("payments2", "user_spend", "win"));
    CHECK(s != eddy_cl_step_id("payments", "user_spendwin", ""));
}

static eddy_opts *wopts(const char *size, const char *emit)
{
    char s[64], e[64], err[256] = "";
    snprintf(s, sizeof s, "size=%s", size);
    snprintf(e, sizeof e, "emit=%s", emit);
    const char *pairs[] = {s, e, "key=user", "aggregate=n:count()"};
    eddy_opts *o = eddy_opts_from_pairs(eddy_window_options, pairs, 4, err, sizeof err);
    CHECK_MSG(o != NULL, "%s", err);
    return o;
}

static void texts(void)
{
    eddy_opts *a = wopts("10s", "final"), *b = wopts("10s", "update"), *c = wopts("20s", "final");
    if (!a || !b || !c)
        return;
    eddy_buf ta = {0}, tb = {0}, tc = {0};
    eddy_cl_opts_text(eddy_window_options, a, &ta);
    eddy_cl_opts_text(eddy_window_options, b, &tb);
    eddy_cl_opts_text(eddy_window_options, c, &tc);
    eddy_buf_putc(&ta, '\0');
    ta.len--;
    CHECK_CONTAINS((char *)ta.data, "size=10s\n");
    CHECK_CONTAINS((char *)ta.data, "key=[user]\n");
    CHECK(strstr((char *)ta.data, "emit=") == NULL); /* how results go out is not state */
    /* emit does not shape the state: the same fingerprint; size does. */
    uint32_t fa = eddy_cl_fingerprint("window", "1.0.0", (char *)ta.data, ta.len);
    CHECK(fa == eddy_cl_fingerprint("window", "1.0.0", (char *)tb.data, tb.len));
    CHECK(fa != eddy_cl_fingerprint("window", "1.0.0", (char *)tc.data, tc.len));
    CHECK(fa != eddy_cl_fingerprint("window", "1.1.0", (char *)ta.data, ta.len));
    char diff[256];
    eddy_cl_opts_diff((char *)ta.data, ta.len, (char *)tc.data, tc.len, diff, sizeof diff);
    CHECK_STR(diff, "size=10s, the config says size=20s");
    eddy_cl_opts_diff("a=1\n", 4, "a=1\nb=2\n", 8, diff, sizeof diff);
    CHECK_STR(diff, "no b, the config says b=2");
    eddy_cl_opts_diff("a=1\n", 4, "a=1\n", 4, diff, sizeof diff);
    CHECK_STR(diff, "the operator's version or state format differs");
    eddy_buf_free(&ta);
    eddy_buf_free(&tb);
    eddy_buf_free(&tc);
    eddy_opts_free(a);
    eddy_opts_free(b);
    eddy_opts_free(c);
}

static void host_keys(void)
{
    eddy_ctx *c = calloc(1, sizeof *c); /* no task: in memory only */
    CHECK(eddy_host_state_get(c, "k", 1, NULL) == NULL);
    CHECK(eddy_host_state_put(c, "k", 1, "v1", 2) == 0);
    for (int i = 0; i < 1000; i++) {
        char k[16];
        int n = snprintf(k, sizeof k, "key%d", i);
        CHECK(eddy_host_state_put(c, k, (size_t)n, &i, sizeof i) == 0);
    }
    size_t n = 0;
    const char *v = eddy_host_state_get(c, "k", 1, &n);
    CHECK(v && n == 2 && memcmp(v, "v1", 2) == 0);
    const int *iv = eddy_host_state_get(c, "key777", 6, &n);
    CHECK(iv && n == sizeof(int) && *iv == 777);
    CHECK(eddy_host_state_put(c, "k", 1, "v22", 3) == 0);
    v = eddy_host_state_get(c, "k", 1, &n);
    CHECK(v && n == 3 && memcmp(v, "v22", 3) == 0);
    CHECK(eddy_host_state_del(c, "k", 1) == 0);
    CHECK(eddy_host_state_get(c, "k", 1, &n) == NULL);
    CHECK(eddy_host_state_del(c, "k", 1) == 1);
    /* the deletion is remembered until a flush writes its tombstone */
    st_kv_ent *e = st_kv_find(&c->sst->kv, "k", 1);
    CHECK(e && e->gone && e->dirty);
    /* outside a durable task state_write keeps nothing and succeeds */
    CHECK(eddy_host_state_write(c, "x", 1, 1, "y", 1) == 0);
    eddy_state_ctx_free(c);
    CHECK(c->sst == NULL);
    free(c);
}

int main(void)
{
    framing();
    ids();
    texts();
    host_keys();
    return test_report();
}
