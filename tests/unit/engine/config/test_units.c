/* Durations, sizes, booleans and numbers. */
#include <stdint.h>

#include "engine/config/config.h"
#include "tests/unit/test.h"

static int64_t dur(const char *s)
{
    int64_t ms = -42;
    char err[256] = "";
    CHECK_MSG(eddy_parse_duration(s, &ms, err, sizeof err) == 0, "'%s': %s", s, err);
    return ms;
}

static const char *dur_err(const char *s)
{
    static char err[256];
    int64_t ms = -42;
    err[0] = '\0';
    CHECK_MSG(eddy_parse_duration(s, &ms, err, sizeof err) == -1, "'%s' parsed", s);
    CHECK(ms == -42);
    return err;
}

static int64_t size(const char *s)
{
    int64_t b = -42;
    char err[256] = "";
    CHECK_MSG(eddy_parse_size(s, &b, err, sizeof err) == 0, "'%s': %s", s, err);
    return b;
}

static const char *size_err(const char *s)
{
    static char err[256];
    int64_t b = -42;
    err[0] = '\0';
    CHECK_MSG(eddy_parse_size(s, &b, err, sizeof err) == -1, "'%s' parsed", s);
    return err;
}

static void test_durations(void)
{
    CHECK(dur("500ms") == 500);
    CHECK(dur("5m") == 300000);
    CHECK(dur("7d") == 7 * 86400000LL);
    CHECK(dur("1.5s") == 1500);
    CHECK(dur("250us") == 1); /* positive sub-millisecond rounds up to 1 */
    CHECK(dur("1ns") == 1);
    CHECK(dur("1500us") == 1); /* otherwise rounded down */
    CHECK(dur("0") == 0);
    CHECK(dur("0s") == 0);
    CHECK(dur("250") == 250); /* bare number: milliseconds */
    CHECK(dur("2h") == 7200000);
    CHECK(dur("2w") == 14 * 86400000LL);
    CHECK(dur("0.25h") == 900000);
    CHECK(dur("1.000000000000000000001s") == 1000);

    CHECK_STR(dur_err(""), "empty duration; expected a number with a unit like 500ms or 5m");
    CHECK_STR(dur_err("-5s"), "negative duration '-5s'; a duration must be 0 or more");
    CHECK_STR(dur_err("5mn"), "unknown unit 'mn' in '5mn'; expected ns, us, ms, s, m, h, d or w");
    CHECK_STR(dur_err("5M"), "unknown unit 'M' in '5M'; expected ns, us, ms, s, m, h, d or w");
    CHECK_STR(dur_err("fast"), "'fast' is not a duration; expected a number with a unit like 500ms or 5m");
    CHECK_STR(dur_err("1.s"), "'1.s' is not a duration: a digit must follow the '.'");
    CHECK_STR(dur_err("99999999999999w"), "duration '99999999999999w' is too large");
    CHECK_STR(dur_err("99999999999999999999999ms"), "duration '99999999999999999999999ms' is too large");
    CHECK_CONTAINS(dur_err("1h30m"), "unknown unit 'h30m'");
}

static void test_sizes(void)
{
    CHECK(size("64MiB") == 64LL * 1024 * 1024);
    CHECK(size("10kB") == 10000);
    CHECK(size("1GB") == 1000000000LL);
    CHECK(size("512") == 512);
    CHECK(size("512B") == 512);
    CHECK(size("1.5KiB") == 1536);
    CHECK(size("2TiB") == 2LL << 40);
    CHECK(size("3TB") == 3000000000000LL);
    CHECK(size("1 MiB") == 1 << 20);

    CHECK_STR(size_err("10KB"), "unknown unit 'KB' in '10KB'; expected B, kB, MB, GB, TB, KiB, MiB, GiB or TiB");
    CHECK_STR(size_err("-1B"), "negative size '-1B'; a size must be 0 or more");
    CHECK_STR(size_err(""), "empty size; expected a number with a unit like 64MiB or 10kB");
    CHECK_STR(size_err("big"), "'big' is not a size; expected a number with a unit like 64MiB or 10kB");
    CHECK_STR(size_err("99999999999TiB"), "size '99999999999TiB' is too large");
}

static void test_bool(void)
{
    const char *yes[] = {"true", "True", "yes", "YES", "on", "1"};
    const char *no[] = {"false", "FALSE", "no", "off", "Off", "0"};
    for (size_t i = 0; i < 6; i++) {
        int v = -1;
        CHECK(eddy_parse_bool(yes[i], &v) == 0 && v == 1);
        CHECK(eddy_parse_bool(no[i], &v) == 0 && v == 0);
    }
    int v = 7;
    CHECK(eddy_parse_bool("maybe", &v) == -1 && v == 7);
    CHECK(eddy_parse_bool("", &v) == -1);
    CHECK(eddy_parse_bool("2", &v) == -1);
}

static void test_numbers(void)
{
    int64_t i = 0;
    CHECK(eddy_parse_int("42", &i) == 0 && i == 42);
    CHECK(eddy_parse_int("-7", &i) == 0 && i == -7);
    CHECK(eddy_parse_int("9223372036854775807", &i) == 0 && i == INT64_MAX);
    CHECK(eddy_parse_int("9223372036854775808", &i) == -1);
    CHECK(eddy_parse_int("12abc", &i) == -1);
    CHECK(eddy_parse_int("", &i) == -1);
    CHECK(eddy_parse_int(" 1", &i) == -1);
    CHECK(eddy_parse_int("1.0", &i) == -1);
    CHECK(eddy_parse_int("-", &i) == -1);

    double d = 0;
    CHECK(eddy_parse_double("1e-4", &d) == 0 && d == 1e-4);
    CHECK(eddy_parse_double("0.5", &d) == 0 && d == 0.5);
    CHECK(eddy_parse_double("-2", &d) == 0 && d == -2);
    CHECK(eddy_parse_double("abc", &d) == -1);
    CHECK(eddy_parse_double("nan", &d) == -1);
    CHECK(eddy_parse_double("inf", &d) == -1);
    CHECK(eddy_parse_double("1e999", &d) == -1);
    CHECK(eddy_parse_double("1.5x", &d) == -1);
    CHECK(eddy_parse_double("", &d) == -1);
}

int main(void)
{
    test_durations();
    test_sizes();
    test_bool();
    test_numbers();
    return test_report();
}
