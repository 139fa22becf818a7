/* libFuzzer: the expression language (lib/expr): lexer, parser, compiler,
 * and evaluation of what compiles against a few records of every value
 * type. Checks docs/EXPRESSIONS.md's promises: a compile error says where,
 * evaluation fails only with a documented code, and a double result is
 * never NaN or infinite. */
#include <math.h>

#include "engine/core/sym.h"
#include "lib/expr/expr.h"
#include "tests/fuzz/fuzz.h"

static eddy_value str(eddy_batch *b, const char *s) { return eddy_batch_string(b, s, strlen(s)); }

static void set(eddy_batch *b, eddy_record *r, const char *name, eddy_value v)
{
    eddy_sym s = eddy_sym_intern(name, strlen(name));
    FUZZ_CHECK(eddy_record_set(b, r, s, &v) == 0, "record_set %s", name);
}

/* Record 0 has no fields; record 1 one of each type (names in expr.dict);
 * record 2 the same names with other types and extreme values. */
static void records(eddy_batch *b)
{
    eddy_batch_append(b);
    eddy_record *r = eddy_batch_append(b);
    eddy_value *items = eddy_batch_alloc(b, sizeof *items * 3);
    items[0] = eddy_v_int(1);
    items[1] = str(b, "x");
    items[2] = eddy_v_double(2.5);
    eddy_kv *kvs = eddy_batch_alloc(b, sizeof *kvs * 2);
    kvs[0] = (eddy_kv){str(b, "k"), eddy_v_int(7)};
    kvs[1] = (eddy_kv){str(b, "user"), str(b, "Alice")};
    set(b, r, "a", eddy_v_int(42));
    set(b, r, "b", eddy_v_double(2.5));
    set(b, r, "s", str(b, "Hello W\xc3\xb6rld"));
    set(b, r, "n", eddy_v_null());
    set(b, r, "t", eddy_v_bool(1));
    set(b, r, "arr", (eddy_value){.type = EDDY_ARRAY, .len = 3, .u.items = items});
    set(b, r, "m", (eddy_value){.type = EDDY_MAP, .len = 2, .u.kvs = kvs});
    set(b, r, "by", (eddy_value){.type = EDDY_BYTES, .len = 3, .u.s = "\x00\xff\x01"});
    r = eddy_batch_append(b);
    set(b, r, "a", eddy_v_int(INT64_MIN));
    set(b, r, "b", eddy_v_double(-1e308));
    set(b, r, "s", str(b, ""));
    set(b, r, "n", eddy_v_int(INT64_MAX));
    set(b, r, "t", str(b, "-0.5e3"));
    set(b, r, "arr", (eddy_value){.type = EDDY_ARRAY, .len = 0, .u.items = NULL});
    set(b, r, "m", eddy_v_double(5e-324));
    set(b, r, "by", eddy_v_bool(0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *src = malloc(size + 1);
    memcpy(src, data, size);
    src[size] = '\0';
    char err[256] = "";
    eddy_expr *e = eddy_expr_compile(src, err, sizeof err);
    if (!e) {
        FUZZ_CHECK(strncmp(err, "expr:", 5) == 0, "compile error without a column: %s", err);
        free(src);
        return 0;
    }
    FUZZ_CHECK(strcmp(eddy_expr_source(e), src) == 0, "source changed");
    eddy_batch *b = fuzz_batch();
    records(b);
    uint32_t nrec = b->n;
    for (uint32_t i = 0; i <= nrec; i++) {
        const eddy_record *r = i < nrec ? &b->recs[i] : NULL; /* NULL: every field missing */
        eddy_value v;
        char why[256] = "";
        int rc = eddy_expr_eval_why(e, b, r, &v, why, sizeof why);
        if (rc != 0) {
            FUZZ_CHECK(rc == EDDY_EXPR_ETYPE || rc == EDDY_EXPR_EINVAL ||
                           rc == EDDY_EXPR_ELIMIT || rc == EDDY_EXPR_ENOMEM,
                       "eval rc %d", rc);
            FUZZ_CHECK(strncmp(why, "expr:", 5) == 0, "eval error without a column: %s", why);
            continue;
        }
        if (v.type == EDDY_DOUBLE)
            FUZZ_CHECK(isfinite(v.u.d), "a double result that is not finite: %g", v.u.d);
        eddy_buf out = {0};
        FUZZ_CHECK(eddy_value_to_json(&v, &out) == 0, "value_to_json");
        eddy_buf_free(&out);
        (void)eddy_expr_truthy(&v);
        eddy_value again;
        FUZZ_CHECK(eddy_expr_eval(e, b, r, &again) == 0 && eddy_value_equal(&v, &again),
                   "a second evaluation differs");
    }
    eddy_expr_free(e);
    free(src);
    return 0;
}
