/* Record batches, arenas and symbols. */
#include <stdint.h>
#include <stdlib.h>

#include "engine/core/arena.h"
#include "engine/core/batch.h"
#include "engine/core/sym.h"
#include "tests/unit/test.h"

static void test_symbols(void)
{
    eddy_sym a = eddy_sym_intern("amount", 6);
    eddy_sym b = eddy_sym_intern("user_id", 7);
    CHECK(a != 0 && b != 0 && a != b);
    CHECK(eddy_sym_intern("amount", 6) == a);
    CHECK_STR(eddy_sym_name(a), "amount");
    CHECK(eddy_sym_len(b) == 7);
    CHECK(eddy_sym_lookup("nope_never", 10) == 0);
    CHECK(eddy_sym_intern("", 0) == 0);
    /* Grows past the initial table without losing names. */
    char name[32];
    eddy_sym first = 0;
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(name, sizeof name, "f%d", i);
        eddy_sym s = eddy_sym_intern(name, (size_t)n);
        if (i == 0)
            first = s;
        CHECK_MSG(s != 0, "intern %s", name);
    }
    CHECK_STR(eddy_sym_name(first), "f0");
    CHECK(eddy_sym_intern("f4999", 5) == eddy_sym_lookup("f4999", 5));
    eddy_symcache c = {{0}};
    CHECK(eddy_symcache_get(&c, 0, "amount", 6) == a);
    CHECK(eddy_symcache_get(&c, 0, "amount", 6) == a);
    CHECK(eddy_symcache_get(&c, 0, "user_id", 7) == b);
}

static void test_arena(void)
{
    eddy_arena a;
    eddy_arena_init(&a, 1024, 4096);
    void *p = eddy_arena_alloc(&a, 10);
    CHECK(p != NULL && ((uintptr_t)p & 15u) == 0);
    CHECK(eddy_arena_alloc(&a, 2000) != NULL); /* bigger than a chunk */
    CHECK(eddy_arena_alloc(&a, 8192) == NULL); /* over the limit */
    size_t held = a.held;
    eddy_arena_reset(&a);
    CHECK(a.used == 0);
    CHECK(eddy_arena_alloc(&a, 1000) != NULL);
    CHECK(eddy_arena_alloc(&a, 1500) != NULL);
    CHECK(a.held == held); /* chunks were reused, nothing new allocated */
    eddy_arena_free(&a);
}

/* A limit below the chunk size (worker.batch_memory: 64KiB with 256 KiB
 * chunks) still gives memory up to the limit: it gave none (issue 14). */
static void test_arena_small_limit(void)
{
    eddy_arena a;
    eddy_arena_init(&a, 256 * 1024, 64 * 1024);
    CHECK(eddy_arena_alloc(&a, 100) != NULL);
    CHECK(eddy_arena_alloc(&a, 60 * 1024) != NULL);
    CHECK(eddy_arena_alloc(&a, 8 * 1024) == NULL); /* over the limit */
    CHECK_MSG(a.held <= 64 * 1024, "held %zu", a.held);
    eddy_arena_reset(&a);
    CHECK(eddy_arena_alloc(&a, 64 * 1024 - 16) != NULL);
    eddy_arena_free(&a);
    /* Kept chunks too small for a need give way to one that fits. */
    eddy_arena_init(&a, 1024, 4096);
    for (int i = 0; i < 4; i++)
        CHECK(eddy_arena_alloc(&a, 1000) != NULL);
    eddy_arena_reset(&a);
    CHECK(eddy_arena_alloc(&a, 3000) != NULL);
    eddy_arena_free(&a);
}

/* pop gives back what the popped record allocated: a decoder giving up on a
 * big record must not leave the batch full for the steps after it. */
static void test_pop_rollback(void)
{
    eddy_batch *b = eddy_batch_new(8, 64 * 1024);
    eddy_record *r = eddy_batch_append(b);
    CHECK(r && eddy_batch_alloc(b, 1000) != NULL);
    size_t used = b->arena.used;
    r = eddy_batch_append(b);
    CHECK(r && eddy_batch_alloc(b, 40 * 1024) != NULL);
    CHECK(eddy_batch_alloc(b, 30 * 1024) == NULL);
    eddy_batch_pop(b);
    CHECK(b->n == 1);
    CHECK_MSG(b->arena.used == used, "used %zu, want %zu", b->arena.used, used);
    CHECK(eddy_batch_alloc(b, 60 * 1024) != NULL);
    eddy_batch_destroy(b);
}

static void test_records(void)
{
    eddy_sym amount = eddy_sym_intern("amount", 6);
    eddy_sym user = eddy_sym_intern("user_id", 7);
    eddy_batch *b = eddy_batch_new(2, 0);
    for (int i = 0; i < 100; i++) {
        eddy_record *r = eddy_batch_append(b);
        CHECK(r != NULL);
        CHECK(r->ts == EDDY_TS_NONE);
        eddy_record_push(b, r, amount, eddy_v_double(i * 1.5));
        eddy_value s = eddy_batch_string(b, "alice", 5);
        eddy_record_set(b, r, user, &s);
        r->ts = 1000 + i;
    }
    CHECK(b->n == 100);
    eddy_record *r = &b->recs[7];
    const eddy_value *v = eddy_record_get(r, amount);
    CHECK(v && v->type == EDDY_DOUBLE && v->u.d == 10.5);
    eddy_value repl = eddy_v_int(3);
    eddy_record_set(b, r, amount, &repl);
    CHECK(r->nfields == 2 && eddy_record_get(r, amount)->type == EDDY_INT);
    CHECK(eddy_record_remove(r, amount) == 0 && eddy_record_get(r, amount) == NULL);
    CHECK(eddy_record_remove(r, amount) == -1);

    /* Drop every other record; compaction keeps order. */
    for (uint32_t i = 0; i < b->n; i += 2) {
        b->recs[i].flags |= EDDY_REC_DROPPED;
        b->ndropped++;
    }
    eddy_batch_compact(b);
    CHECK(b->n == 50 && b->recs[0].ts == 1001 && b->recs[49].ts == 1099);

    /* Errors keep their reason and offset. */
    eddy_record *e = eddy_batch_append(b);
    eddy_record_keep_raw(b, e, "{bad", 4);
    eddy_record_fail(b, e, "decode", 1, "expected '%s'", "\"");
    CHECK(e->flags & EDDY_REC_ERROR);
    CHECK_STR(e->err_reason, "expected '\"'");
    CHECK(e->err_offset == 1 && e->raw_len == 4);

    /* Deep copy into another batch survives resetting the source. */
    eddy_record_add_header(b, &b->recs[0], "trace", "abc", 3);
    eddy_batch *d = eddy_batch_new(4, 0);
    eddy_record *c = eddy_batch_append(d);
    CHECK(eddy_record_copy(d, c, &b->recs[0]) == 0);
    eddy_batch_reset(b);
    const eddy_value *u = eddy_record_get(c, user);
    CHECK(u && u->len == 5 && memcmp(u->u.s, "alice", 5) == 0);
    CHECK(c->ts == 1001);
    const eddy_header *h = eddy_record_header(c, "trace");
    CHECK(h && h->len == 3 && memcmp(h->val, "abc", 3) == 0);

    /* Clone for fan-out shares strings but not field arrays. */
    eddy_batch *f = eddy_batch_new(4, 0);
    CHECK(eddy_batch_clone(f, d) == 0 && f->n == 1);
    eddy_record_remove(&f->recs[0], user);
    CHECK(eddy_record_get(&d->recs[0], user) != NULL);
    eddy_batch_destroy(b);
    eddy_batch_destroy(d);
    eddy_batch_destroy(f);
}

static void test_values(void)
{
    eddy_value a = eddy_v_int(3), b = eddy_v_double(3.0), s = eddy_v_str("x", 1);
    CHECK(eddy_value_equal(&a, &b));
    CHECK(!eddy_value_equal(&a, &s));
    double x;
    CHECK(eddy_value_number(&b, &x) && x == 3.0);
    CHECK(!eddy_value_number(&s, &x));
    CHECK_STR(eddy_type_name(EDDY_MAP), "map");
}

int main(void)
{
    test_symbols();
    test_arena();
    test_arena_small_limit();
    test_pop_rollback();
    test_records();
    test_values();
    return test_report();
}
