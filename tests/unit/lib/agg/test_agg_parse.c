/* Parsing aggregate specs: accepted forms, error messages, state sizes. */
#include "tests/unit/lib/agg/agg_util.h"

static void ok(const char *text, const char *kind, const char *field)
{
    char err[512];
    eddy_agg_spec *s = eddy_agg_parse(text, err, sizeof err);
    CHECK_MSG(s != NULL, "%s: %s", text, err);
    if (!s)
        return;
    CHECK_STR(eddy_agg_kind(s), kind);
    CHECK_STR(eddy_sym_name(eddy_agg_field(s)), field);
    CHECK(eddy_agg_state_size(s) > 0 && eddy_agg_state_size(s) % 8 == 0);
    eddy_agg_spec_free(s);
}

static void bad(const char *text, const char *const *needles)
{
    char err[512];
    eddy_agg_spec *s = eddy_agg_parse(text, err, sizeof err);
    CHECK_MSG(s == NULL, "%s: accepted", text);
    eddy_agg_spec_free(s);
    for (; *needles; needles++)
        CHECK_CONTAINS(err, *needles);
}
#define BAD(text, ...) bad(text, (const char *const[]){__VA_ARGS__, NULL})

static size_t total_size(const char *const *specs, int n)
{
    size_t sum = 0;
    for (int i = 0; i < n; i++) {
        eddy_agg_spec *s = spec_ok(specs[i]);
        sum += eddy_agg_state_size(s);
        eddy_agg_spec_free(s);
    }
    return sum;
}

int main(void)
{
    ok("count()", "count", "");
    ok("  count( )  ", "count", "");
    ok("count(user_id)", "count", "user_id");
    ok("sum(amount)", "sum", "amount");
    ok("mean( amount )", "mean", "amount");
    ok("min(a.b)", "min", "a.b");
    ok("max(x_1)", "max", "x_1");
    ok("variance(x)", "variance", "x");
    ok("stddev(x)", "stddev", "x");
    ok("first(x)", "first", "x");
    ok("last(x)", "last", "x");
    ok("ewma(amount, 0.1)", "ewma", "amount");
    ok("ewma(amount, 1)", "ewma", "amount");
    ok("rate()", "rate", "");
    ok("rate(amount)", "rate", "amount");
    ok("distinct(merchant)", "distinct", "merchant");
    ok("distinct(merchant, 14)", "distinct", "merchant");
    ok("quantile(amount, 0.95)", "quantile", "amount");
    ok("quantile(amount, 0.5, 0.05)", "quantile", "amount");
    ok("quantile(amount, 0.5, 0.01, 512)", "quantile", "amount");
    ok("topk(merchant, 5)", "topk", "merchant");
    ok("histogram(amount, 0, 100, 10)", "histogram", "amount");
    ok("histogram(amount, -1e3, 1e3, 1)", "histogram", "amount");

    BAD("summ(amount)", "aggregate 'summ(amount)'", "unknown function 'summ'",
        "did you mean 'sum'?");
    BAD("quantil(amount, 0.5)", "did you mean 'quantile'?");
    BAD("Distinct(x)", "did you mean 'distinct'?");
    BAD("frobnicate(x)", "unknown function 'frobnicate'", "known: count, sum");
    BAD("sum()", "wrong number of arguments: got 0", "expects sum(field)");
    BAD("sum(a, b)", "wrong number of arguments: got 2", "expects sum(field)");
    BAD("count(a, b)", "wrong number of arguments: got 2", "count() or count(field)");
    BAD("quantile(amount)", "wrong number of arguments: got 1", "0 < q < 1");
    BAD("quantile(amount, 1.5)", "q must be in (0, 1), got 1.5");
    BAD("quantile(amount, 0)", "q must be in (0, 1), got 0");
    BAD("quantile(amount, 0.5, 0.9)", "alpha must be a number in [0.0001, 0.5], got 0.9");
    BAD("quantile(amount, 0.5, 0.01, 8)", "buckets must be an integer in [16, 65536]");
    BAD("quantile(amount, high)", "q must be a finite number, got 'high'");
    BAD("distinct(x, 3)", "p must be an integer in [4, 18], got 3");
    BAD("distinct(x, 12.5)", "p must be an integer");
    BAD("topk(x, 0)", "k must be an integer in [1, 256], got 0");
    BAD("topk(x, 1000)", "k must be an integer in [1, 256]");
    BAD("histogram(x, 5, 1, 10)", "lo must be below hi");
    BAD("histogram(x, 0, 1, 0)", "bins must be an integer in [1, 4096]");
    BAD("histogram(x, 0, 1)", "wrong number of arguments: got 3");
    BAD("ewma(x, 0)", "alpha must be in (0, 1], got 0");
    BAD("ewma(x, 1.5)", "alpha must be in (0, 1]");
    BAD("ewma(x, nan)", "alpha must be a finite number");
    BAD("sum(3)", "first argument must be a field name, got '3'");
    BAD("sum(\"a\")", "first argument must be a field name");
    BAD("sum(a", "missing ')'");
    BAD("sum a", "expected '(' after 'sum'");
    BAD("sum(a) + 1", "unexpected text after ')'", "'+ 1'");
    BAD("sum(a,)", "empty argument 2");
    BAD("sum(f(a))", "nested '('");
    BAD("", "empty");
    BAD("   ", "empty");
    BAD("(a)", "expected a function name at offset 0");

    /* NULL error buffer is allowed */
    CHECK(eddy_agg_parse("nope(x)", NULL, 0) == NULL);

    /* documented errors */
    eddy_agg_spec *s = spec_ok("quantile(x, 0.5)");
    CHECK(eddy_agg_error(s) == 0.01);
    eddy_agg_spec_free(s);
    s = spec_ok("distinct(x)");
    CHECK(fabs(eddy_agg_error(s) - 1.04 / 64) < 1e-12);
    eddy_agg_spec_free(s);
    s = spec_ok("topk(x, 5)");
    CHECK(fabs(eddy_agg_error(s) - 1.0 / 20) < 1e-12);
    eddy_agg_spec_free(s);
    s = spec_ok("sum(x)");
    CHECK(eddy_agg_error(s) == 0);
    eddy_agg_spec_free(s);

    /* the brief's budget: five scalar aggregates in <= 256 bytes */
    static const char *const five_a[] = {"count()", "sum(x)", "mean(x)", "min(x)", "max(x)"};
    static const char *const five_b[] = {"count()", "sum(x)", "mean(x)", "stddev(x)", "last(x)"};
    size_t a = total_size(five_a, 5), b = total_size(five_b, 5);
    printf("state bytes: count+sum+mean+min+max = %zu, count+sum+mean+stddev+last = %zu\n", a, b);
    CHECK(a <= 256);
    CHECK(b <= 256);
    return test_report();
}
