/* The expression language: table tests of results, runtime type errors and
 * compile errors (column and message), plus reentrancy across threads. */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/batch.h"
#include "lib/expr/expr.h"
#include "engine/core/error.h"
#include "engine/core/sym.h"
#include "tests/unit/test.h"

static eddy_sym S(const char *name) { return eddy_sym_intern(name, strlen(name)); }

static eddy_value str(const char *s) { return eddy_v_str(s, (uint32_t)strlen(s)); }

/* amount=42 price=2.5 name="Alice" country="DE" flag=true nothing=null
 * s_amount="17" big=INT64_MAX `user-id`="u-1"
 * payload={user: {id: 7, "odd key": "yes"}, tags: [1, 2, 3]} */
static eddy_record *sample(eddy_batch *b)
{
    static eddy_value tags[3];
    static eddy_kv user[2], payload[2];
    tags[0] = eddy_v_int(1);
    tags[1] = eddy_v_int(2);
    tags[2] = eddy_v_int(3);
    user[0].key = str("id");
    user[0].val = eddy_v_int(7);
    user[1].key = str("odd key");
    user[1].val = str("yes");
    payload[0].key = str("user");
    payload[0].val.type = EDDY_MAP;
    payload[0].val.len = 2;
    payload[0].val.u.kvs = user;
    payload[1].key = str("tags");
    payload[1].val.type = EDDY_ARRAY;
    payload[1].val.len = 3;
    payload[1].val.u.items = tags;
    eddy_value pv = {0};
    pv.type = EDDY_MAP;
    pv.len = 2;
    pv.u.kvs = payload;

    eddy_record *r = eddy_batch_append(b);
    eddy_record_push(b, r, S("amount"), eddy_v_int(42));
    eddy_record_push(b, r, S("price"), eddy_v_double(2.5));
    eddy_record_push(b, r, S("name"), str("Alice"));
    eddy_record_push(b, r, S("country"), str("DE"));
    eddy_record_push(b, r, S("flag"), eddy_v_bool(1));
    eddy_record_push(b, r, S("nothing"), eddy_v_null());
    eddy_record_push(b, r, S("s_amount"), str("17"));
    eddy_record_push(b, r, S("big"), eddy_v_int(INT64_MAX));
    eddy_record_push(b, r, S("user-id"), str("u-1"));
    eddy_record_push(b, r, S("payload"), pv);
    return r;
}

static const char *fmt(const eddy_value *v, char *buf, size_t n)
{
    switch (v->type) {
    case EDDY_NULL: snprintf(buf, n, "null"); break;
    case EDDY_BOOL: snprintf(buf, n, "%s", v->u.b ? "true" : "false"); break;
    case EDDY_INT: snprintf(buf, n, "int:%" PRId64, v->u.i); break;
    case EDDY_DOUBLE: snprintf(buf, n, "double:%.15g", v->u.d); break;
    case EDDY_STRING: snprintf(buf, n, "str:%.*s", (int)v->len, v->u.s); break;
    default: snprintf(buf, n, "%s", eddy_type_name(v->type)); break;
    }
    return buf;
}

static const struct {
    const char *src, *want;
} evals[] = {
    /* precedence and associativity */
    {"1 + 2 * 3", "int:7"},
    {"(1 + 2) * 3", "int:9"},
    {"10 - 4 - 3", "int:3"},
    {"2 * 3 % 4", "int:2"},
    {"-2 * 3", "int:-6"},
    {"- amount", "int:-42"},
    {"true or false and false", "true"},
    {"false and false or true", "true"},
    {"not amount > 40", "false"},
    {"!(amount > 40)", "false"},
    {"amount > 40 && !flag || true", "true"},
    {"amount > 1 AND true", "true"},
    /* int / double */
    {"7 / 2", "double:3.5"},
    {"6 / 3", "double:2"},
    {"-7 % 3", "int:-1"},
    {"7.5 % 2", "double:1.5"},
    {"amount + price", "double:44.5"},
    {"amount == 42.0", "true"},
    {"price >= 2.5", "true"},
    {"9223372036854775807 + 1", "double:9.22337203685478e+18"},
    {"big * 2", "double:1.84467440737096e+19"},
    {"-9223372036854775807 - 1", "int:-9223372036854775808"},
    {"-(-9223372036854775807 - 1)", "double:9.22337203685478e+18"},
    {"99999999999999999999", "double:1e+20"},
    {"1e3", "double:1000"},
    {".5 + 1", "double:1.5"},
    /* nulls and division by zero */
    {"1 / 0", "null"},
    {"5 % 0", "null"},
    {"missing + 1", "null"},
    {"-missing", "null"},
    {"missing > 1", "false"},
    {"missing == 1", "false"},
    {"missing != 1", "false"},
    {"missing == null", "true"},
    {"missing != null", "false"},
    {"amount != null", "true"},
    {"nothing == null", "true"},
    {"null == missing", "true"},
    {"null == null", "true"},
    {"not missing", "true"},
    {"amount > 40 and missing > 1", "false"},
    {"missing > 1 or amount > 1", "true"},
    /* strings and comparisons */
    {"name == \"Alice\"", "true"},
    {"name == 'Alice'", "true"},
    {"name < \"Bob\"", "true"},
    {"\"ab\" < \"abc\"", "true"},
    {"amount == \"42\"", "false"},
    {"amount != \"42\"", "true"},
    {"flag == true", "true"},
    {"name + \"!\"", "str:Alice!"},
    {"'say \"hi\"'", "str:say \"hi\""},
    {"len(\"a\\tb\")", "int:3"},
    {"len(\"\\u00e9\")", "int:2"},
    {"\"\\u00e9\" == \"é\"", "true"},
    /* in */
    {"country in (\"DE\", \"FR\")", "true"},
    {"country not in (\"DE\", \"FR\")", "false"},
    {"country in ('AT', 'CH',)", "false"},
    {"amount in (1, 42.0, 3)", "true"},
    {"amount in (price * 2, 40 + 2)", "true"},
    {"name in (lower(\"ALICE\"), \"x\")", "false"},
    {"missing in (1, 2)", "false"},
    {"missing not in (1, 2)", "false"},
    {"5 not in (1, 2)", "true"},
    /* paths and odd names */
    {"payload.user.id", "int:7"},
    {"payload.user.missing", "null"},
    {"payload.tags.x", "null"},
    {"payload.`user`.id + 1", "int:8"},
    {"payload.user.`odd key`", "str:yes"},
    {"`user-id`", "str:u-1"},
    {"`user-id` == \"u-1\"", "true"},
    {"exists(payload.user.id)", "true"},
    {"exists(payload.user.nope)", "false"},
    {"exists(nothing)", "true"},
    {"exists(missing)", "false"},
    {"is_null(nothing)", "true"},
    {"is_null(amount)", "false"},
    /* functions */
    {"lower(name)", "str:alice"},
    {"upper(name)", "str:ALICE"},
    {"lower(\"abc\")", "str:abc"},
    {"len(name)", "int:5"},
    {"len(payload)", "int:2"},
    {"len(payload.tags)", "int:3"},
    {"len(missing)", "null"},
    {"abs(-3)", "int:3"},
    {"abs(-2.5)", "double:2.5"},
    {"sqrt(16)", "double:4"},
    {"sqrt(-1)", "null"},
    {"log(0)", "null"},
    {"exp(0)", "double:1"},
    {"round(2.5)", "int:3"},
    {"round(-2.5)", "int:-3"},
    {"round(3.14159, 2)", "double:3.14"},
    {"round(1234, -2)", "double:1200"},
    {"floor(-1.5)", "int:-2"},
    {"ceil(1.2)", "int:2"},
    {"floor(7)", "int:7"},
    {"min(3, 1.5, 2)", "double:1.5"},
    {"max(3, 1.5, 2)", "int:3"},
    {"max(missing, 4)", "int:4"},
    {"min(missing)", "null"},
    {"min(\"b\", \"a\")", "str:a"},
    {"coalesce(missing, nothing, 5)", "int:5"},
    {"coalesce(amount, 1 / 0)", "int:42"},
    {"coalesce(missing)", "null"},
    {"coalesce(missing, name > 1)", "ERR"}, /* reached, so evaluated */
    {"coalesce(amount, name > 1)", "int:42"}, /* not reached: lazy */
    {"to_int(\"17\")", "int:17"},
    {"to_int(s_amount) + 1", "int:18"},
    {"to_int(\" 3.9 \")", "int:3"},
    {"to_int(\"x\")", "null"},
    {"to_int(-2.7)", "int:-2"},
    {"to_int(true)", "int:1"},
    {"to_double(\"2.5\")", "double:2.5"},
    {"to_double(3)", "double:3"},
    {"to_string(42)", "str:42"},
    {"to_string(2.5)", "str:2.5"},
    {"to_string(0.1)", "str:0.1"},
    {"to_string(true)", "str:true"},
    {"to_string(missing)", "null"},
    {"lower(name) + \"-\" + to_string(amount)", "str:alice-42"},
    /* truthiness and short-circuit */
    {"amount and name", "true"},
    {"\"\" or 0", "false"},
    {"false and name > 1", "false"},
    {"true or name > 1", "true"},
    {"flag", "true"},
};

static const struct {
    const char *src, *why;
} runtime_errors[] = {
    {"name > 3", "expr:6: cannot compare string with int using '>'"},
    {"s_amount > 3", "expr:10: cannot compare string with int using '>'"},
    {"amount > 1 and name <= 3", "expr:21: cannot compare string with int using '<='"},
    {"name * 2", "expr:6: '*' needs two numbers, got string and int"},
    {"name + 1", "expr:6: '+' needs two numbers or two strings, got string and int"},
    {"sqrt(name)", "expr:1: sqrt() needs a number, got string"},
    {"-name", "expr:1: unary '-' needs a number, got string"},
    {"flag < true", "expr:6: cannot compare bool with bool using '<'"},
    {"len(amount)", "expr:1: len() needs a string, array or map, got int"},
    {"min(1, \"a\")", "expr:1: min() cannot compare int with string"},
    {"lower(amount)", "expr:1: lower() needs a string, got int"},
    {"round(price, \"x\")", "expr:1: round() needs an int number of digits, got string"},
    {"to_string(payload)", "expr:1: to_string() needs a scalar, got map"},
};

static const struct {
    const char *src, *err;
} compile_errors[] = {
    {"sqr(amount)", "expr:1: unknown function 'sqr'; did you mean 'sqrt'?"},
    {"amount + sqr(2)", "expr:10: unknown function 'sqr'; did you mean 'sqrt'?"},
    {"UPPER(name)", "expr:1: unknown function 'UPPER'; did you mean 'upper'?"},
    {"foo(1)", "expr:1: unknown function 'foo' (see docs/EXPRESSIONS.md for the list)"},
    {"(amount + 1", "expr:12: unexpected end of expression; expected ')'"},
    {"(amount + 1 2", "expr:13: expected ')', found '2'"},
    {"max(1, 2", "expr:9: unexpected end of expression; expected ',' or ')'"},
    {"amount >", "expr:9: unexpected end of expression; expected a value"},
    {"", "expr:1: empty expression"},
    {"   ", "expr:4: empty expression"},
    {"amount = 3", "expr:8: '=' is not an operator; use '==' to compare"},
    {"1 < amount < 3", "expr:12: comparisons do not chain; combine them with 'and'"},
    {"\"abc", "expr:1: unterminated string (missing closing \")"},
    {"'abc", "expr:1: unterminated string (missing closing ')"},
    {"\"a\\qb\"", "expr:3: unknown escape '\\q' in string"},
    {"\"\\u12\"", "expr:2: \\u needs four hex digits"},
    {"amount # 2", "expr:8: unexpected character '#'"},
    {"sqrt(1, 2)", "expr:1: sqrt() takes 1 argument, got 2"},
    {"round()", "expr:1: round() takes 1 to 2 arguments, got 0"},
    {"min()", "expr:1: min() takes at least 1 argument, got 0"},
    {"exists(1 + 2)", "expr:8: exists() takes a field name, e.g. exists(payload.user)"},
    {"amount in 1", "expr:11: expected '(' after 'in'"},
    {"country in ()", "expr:13: empty list after 'in'"},
    {"amount amount", "expr:8: expected an operator or the end of the expression, found 'amount'"},
    {"a & b", "expr:3: unexpected character '&'; did you mean '&&' (and)?"},
    {"a | b", "expr:3: unexpected character '|'; did you mean '||' (or)?"},
    {"12abc", "expr:1: malformed number '12abc'"},
    {"1e", "expr:1: malformed number: exponent needs digits"},
    {"1e999", "expr:1: number '1e999' is out of range"},
    {"payload.", "expr:9: unexpected end of expression; expected a field name after '.'"},
    {"payload.(1)", "expr:9: expected a field name after '.', found '('"},
    {"``", "expr:1: empty field name ``"},
    {"`abc", "expr:1: unterminated `name` (missing closing `)"},
    {"amount not 3", "expr:8: expected an operator or the end of the expression, found 'not'"},
    {"*3", "expr:1: expected a value, found '*'"},
};

static void test_evals(void)
{
    eddy_batch *b = eddy_batch_new(4, 0);
    eddy_record *r = sample(b);
    char err[256], why[256], got[128];
    for (size_t i = 0; i < sizeof evals / sizeof evals[0]; i++) {
        eddy_expr *e = eddy_expr_compile(evals[i].src, err, sizeof err);
        CHECK_MSG(e != NULL, "%s: %s", evals[i].src, err);
        if (!e)
            continue;
        eddy_value v;
        int rc = eddy_expr_eval_why(e, b, r, &v, why, sizeof why);
        if (strcmp(evals[i].want, "ERR") == 0) {
            CHECK_MSG(rc == EDDY_ETYPE, "%s: expected a type error, got %d", evals[i].src, rc);
        } else {
            CHECK_MSG(rc == 0, "%s: %s", evals[i].src, why);
            if (rc == 0)
                CHECK_MSG(strcmp(fmt(&v, got, sizeof got), evals[i].want) == 0, "%s: got %s, want %s",
                          evals[i].src, got, evals[i].want);
        }
        CHECK_STR(eddy_expr_source(e), evals[i].src);
        eddy_expr_free(e);
    }
    eddy_batch_destroy(b);
}

static void test_runtime_errors(void)
{
    eddy_batch *b = eddy_batch_new(4, 0);
    eddy_record *r = sample(b);
    char err[256], why[256];
    for (size_t i = 0; i < sizeof runtime_errors / sizeof runtime_errors[0]; i++) {
        eddy_expr *e = eddy_expr_compile(runtime_errors[i].src, err, sizeof err);
        CHECK_MSG(e != NULL, "%s: %s", runtime_errors[i].src, err);
        if (!e)
            continue;
        eddy_value v;
        why[0] = '\0';
        int rc = eddy_expr_eval_why(e, b, r, &v, why, sizeof why);
        CHECK_MSG(rc == EDDY_ETYPE, "%s: rc %d", runtime_errors[i].src, rc);
        CHECK_STR(why, runtime_errors[i].why);
        /* Without a reason buffer the code is the same. */
        CHECK(eddy_expr_eval(e, b, r, &v) == EDDY_ETYPE);
        eddy_expr_free(e);
    }
    eddy_batch_destroy(b);
}

static void test_compile_errors(void)
{
    char err[256];
    for (size_t i = 0; i < sizeof compile_errors / sizeof compile_errors[0]; i++) {
        strcpy(err, "untouched");
        eddy_expr *e = eddy_expr_compile(compile_errors[i].src, err, sizeof err);
        CHECK_MSG(e == NULL, "%s compiled", compile_errors[i].src);
        eddy_expr_free(e);
        CHECK_MSG(strncmp(err, compile_errors[i].err, strlen(compile_errors[i].err)) == 0,
                  "%s: got \"%s\", want \"%s\"", compile_errors[i].src, err, compile_errors[i].err);
    }
    /* Short buffers are truncated, never overrun; NULL is allowed. */
    char tiny[8];
    CHECK(eddy_expr_compile("sqr(1)", tiny, sizeof tiny) == NULL);
    CHECK_STR(tiny, "expr:1:");
    CHECK(eddy_expr_compile("(", NULL, 0) == NULL);
    CHECK(eddy_expr_compile(NULL, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "no expression given");
}

static void test_limits(void)
{
    char err[256];
    /* Hostile nesting is refused, not a stack overflow. */
    size_t n = 5000;
    char *deep = malloc(2 * n + 2);
    memset(deep, '(', n);
    deep[n] = '1';
    memset(deep + n + 1, ')', n);
    deep[2 * n + 1] = '\0';
    CHECK(eddy_expr_compile(deep, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "nested more than 200 levels deep");
    free(deep);

    /* Right-nested sums need one pending value per level. */
    char buf[1024] = "";
    for (int i = 0; i < 70; i++)
        strcat(buf, "1+(");
    strcat(buf, "1");
    for (int i = 0; i < 70; i++)
        strcat(buf, ")");
    CHECK(eddy_expr_compile(buf, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "more than 64 pending values");

    /* A long literal list costs no stack. */
    char list[4096] = "amount in (";
    for (int i = 0; i < 300; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%d, ", i);
    strcat(list, "1000)");
    eddy_expr *e = eddy_expr_compile(list, err, sizeof err);
    CHECK_MSG(e != NULL, "%s", err);
    eddy_batch *b = eddy_batch_new(4, 0);
    eddy_record *r = sample(b);
    eddy_value v;
    CHECK(e && eddy_expr_eval(e, b, r, &v) == 0 && v.type == EDDY_BOOL && v.u.b);
    eddy_expr_free(e);

    /* Strings built by functions need batch memory: a clear error without it,
     * and ENOMEM when the batch is full. */
    e = eddy_expr_compile("upper(name)", err, sizeof err);
    char why[128];
    CHECK(eddy_expr_eval_why(e, NULL, r, &v, why, sizeof why) == EDDY_EINVAL);
    CHECK_CONTAINS(why, "upper() needs batch memory");
    /* No record: every field is missing. */
    CHECK(eddy_expr_eval(e, b, NULL, &v) == 0 && v.type == EDDY_NULL);
    eddy_expr_free(e);
    eddy_batch_destroy(b);

    b = eddy_batch_new(4, 1);
    eddy_record *small = eddy_batch_append(b);
    e = eddy_expr_compile("to_string(12345)", err, sizeof err);
    int rc = eddy_expr_eval_why(e, b, small, &v, why, sizeof why);
    CHECK(rc == EDDY_ENOMEM);
    CHECK_CONTAINS(why, "batch memory limit");
    eddy_expr_free(e);
    eddy_batch_destroy(b);
    eddy_expr_free(NULL);
}

static void test_owns_and_truthy(void)
{
    char err[128];
    eddy_batch *b = eddy_batch_new(4, 0);
    eddy_record *r = sample(b);
    eddy_expr *e = eddy_expr_compile("coalesce(missing, \"const\")", err, sizeof err);
    eddy_value v;
    CHECK(eddy_expr_eval(e, b, r, &v) == 0 && v.type == EDDY_STRING);
    CHECK(eddy_expr_owns(e, &v));
    eddy_expr_free(e);
    e = eddy_expr_compile("\"\"", err, sizeof err);
    CHECK(eddy_expr_eval(e, b, r, &v) == 0 && v.type == EDDY_STRING && v.len == 0 && v.u.s);
    CHECK(eddy_expr_owns(e, &v));
    eddy_expr_free(e);
    e = eddy_expr_compile("name", err, sizeof err);
    CHECK(eddy_expr_eval(e, b, r, &v) == 0 && !eddy_expr_owns(e, &v));
    eddy_expr_free(e);

    eddy_value t = eddy_v_null();
    CHECK(!eddy_expr_truthy(&t));
    t = eddy_v_int(0);
    CHECK(!eddy_expr_truthy(&t));
    t = eddy_v_double(0.5);
    CHECK(eddy_expr_truthy(&t));
    t = eddy_v_str("", 0);
    CHECK(!eddy_expr_truthy(&t));
    t = eddy_v_str("x", 1);
    CHECK(eddy_expr_truthy(&t));
    CHECK(!eddy_expr_truthy(NULL));
    eddy_batch_destroy(b);
}

/* One compiled expression, several threads with their own batches. */
typedef struct worker {
    const eddy_expr *e;
    int id, bad;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    eddy_batch *b = eddy_batch_new(16, 0);
    for (int round = 0; round < 2000; round++) {
        eddy_batch_reset(b);
        eddy_record *r = eddy_batch_append(b);
        int64_t amount = w->id * 100000 + round;
        eddy_record_push(b, r, S("amount"), eddy_v_int(amount));
        eddy_record_push(b, r, S("name"), str("Bob"));
        eddy_value v;
        char want[64];
        int n = snprintf(want, sizeof want, "bob-%" PRId64, amount);
        if (eddy_expr_eval(w->e, b, r, &v) != 0 || v.type != EDDY_STRING || v.len != (uint32_t)n ||
            memcmp(v.u.s, want, (size_t)n) != 0)
            w->bad++;
    }
    eddy_batch_destroy(b);
    return NULL;
}

static void test_threads(void)
{
    char err[128];
    eddy_expr *e = eddy_expr_compile("lower(name) + \"-\" + to_string(amount)", err, sizeof err);
    CHECK_MSG(e != NULL, "%s", err);
    pthread_t t[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){e, i + 1, 0};
        CHECK(pthread_create(&t[i], NULL, work, &w[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_MSG(w[i].bad == 0, "thread %d: %d wrong results", i, w[i].bad);
    }
    eddy_expr_free(e);
}

int main(void)
{
    test_evals();
    test_runtime_errors();
    test_compile_errors();
    test_limits();
    test_owns_and_truthy();
    test_threads();
    return test_report();
}
