/* Option tables: parsing from YAML, errors, defaults, pairs, docs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config/options.h"
#include "tests/unit/test.h"

static const eddy_option table[] = {
    {"path", EDDY_OPT_STRING, NULL, EDDY_NO_RANGE, NULL, EDDY_OPT_REQUIRED, "Where to write."},
    {"threshold", EDDY_OPT_DOUBLE, "0.2", 0, 1, NULL, 0, "Alert above this."},
    {"format", EDDY_OPT_ENUM, "json", EDDY_NO_RANGE, "json|msgpack|avro", 0, "Wire format."},
    {"timeout", EDDY_OPT_DURATION, "5s", 1, 3600000, NULL, 0, "How long to wait."},
    {"buffer", EDDY_OPT_SIZE, "64MiB", 1024, INFINITY, NULL, 0, "Buffer size."},
    {"retries", EDDY_OPT_INT, "3", 0, 10, NULL, 0, "Retries | attempts."},
    {"enabled", EDDY_OPT_BOOL, "true", EDDY_NO_RANGE, NULL, 0, "On or off."},
    {"key", EDDY_OPT_FIELD, NULL, EDDY_NO_RANGE, NULL, 0, "Field to key by."},
    {"where", EDDY_OPT_EXPR, NULL, EDDY_NO_RANGE, NULL, 0, "Keep records matching this."},
    {"features", EDDY_OPT_LIST, "[a, b]", EDDY_NO_RANGE, NULL, 0, "Features to watch."},
    {"labels", EDDY_OPT_MAP, NULL, EDDY_NO_RANGE, NULL, 0, "Extra labels."},
    {"password", EDDY_OPT_STRING, "hunter2", EDDY_NO_RANGE, NULL, EDDY_OPT_SECRET, "Password."},
    {NULL, 0, NULL, EDDY_NO_RANGE, NULL, 0, NULL},
};

/* The options of the "filter" step in `yaml` (a mapping with a filter key). */
static eddy_opts *parse(eddy_cfg **cfg, const char *yaml, const char *const *skip)
{
    *cfg = eddy_cfg_load_string("t.yaml", yaml, strlen(yaml));
    CHECK(*cfg != NULL);
    return eddy_opts_parse(*cfg, table, eddy_cnode_get(eddy_cfg_root(*cfg), "filter"), "filter",
                           skip);
}

/* The one error of a parse that must fail. */
static void expect_error(const char *yaml, const char *want)
{
    eddy_cfg *cfg;
    eddy_opts *o = parse(&cfg, yaml, NULL);
    CHECK(o == NULL);
    CHECK_MSG(eddy_cfg_errors(cfg) == 1, "%zu errors for: %s", eddy_cfg_errors(cfg), want);
    CHECK_STR(eddy_cfg_error(cfg, 0), want);
    eddy_opts_free(o);
    eddy_cfg_free(cfg);
}

static void test_all_given(void)
{
    eddy_cfg *cfg;
    eddy_opts *o = parse(&cfg,
                         "filter:\n"
                         "  path: /var/lib/eddy\n"
                         "  threshold: 0.75\n"
                         "  format: avro\n"
                         "  timeout: 1.5s\n"
                         "  buffer: 10kB\n"
                         "  retries: 10\n"
                         "  enabled: off\n"
                         "  key: user_id\n"
                         "  where: amount > 10\n"
                         "  features: [x, y, z]\n"
                         "  labels: {team: risk, tier: \"1\"}\n"
                         "  password: s3cret\n",
                         NULL);
    CHECK(o != NULL);
    CHECK(eddy_cfg_errors(cfg) == 0);
    CHECK_STR(eddy_opts_str(o, "path"), "/var/lib/eddy");
    CHECK(eddy_opts_double(o, "threshold") == 0.75);
    CHECK_STR(eddy_opts_str(o, "format"), "avro");
    CHECK(eddy_opts_int(o, "timeout") == 1500);
    CHECK(eddy_opts_int(o, "buffer") == 10000);
    CHECK(eddy_opts_int(o, "retries") == 10);
    CHECK(eddy_opts_double(o, "retries") == 10.0);
    CHECK(eddy_opts_has(o, "enabled") && eddy_opts_bool(o, "enabled") == 0);
    CHECK_STR(eddy_opts_str(o, "key"), "user_id");
    CHECK_STR(eddy_opts_str(o, "where"), "amount > 10");
    CHECK(eddy_opts_count(o, "features") == 3);
    CHECK_STR(eddy_opts_item(o, "features", 2), "z");
    CHECK(eddy_opts_item(o, "features", 3) == NULL);
    CHECK(eddy_opts_str(o, "features") == NULL);
    CHECK(eddy_opts_count(o, "labels") == 2);
    CHECK_STR(eddy_opts_key(o, "labels", 0), "team");
    CHECK_STR(eddy_opts_item(o, "labels", 0), "risk");
    CHECK_STR(eddy_opts_key(o, "labels", 1), "tier");
    CHECK_STR(eddy_opts_item(o, "labels", 1), "1");
    CHECK_STR(eddy_opts_str(o, "password"), "s3cret");
    CHECK_STR(eddy_opts_where(o, "threshold"), "t.yaml:3:14");
    CHECK_STR(eddy_opts_where(o, "features"), "t.yaml:11:13");
    /* Names not in the table. */
    CHECK(!eddy_opts_has(o, "nope"));
    CHECK(eddy_opts_int(o, "nope") == 0);
    CHECK(eddy_opts_str(o, "nope") == NULL);
    CHECK(eddy_opts_where(o, "nope") == NULL);
    eddy_opts_free(o);
    eddy_cfg_free(cfg);
}

static void test_defaults(void)
{
    eddy_cfg *cfg;
    eddy_opts *o = parse(&cfg, "filter: {path: /x}\n", NULL);
    CHECK(o != NULL);
    CHECK(eddy_opts_double(o, "threshold") == 0.2);
    CHECK_STR(eddy_opts_str(o, "format"), "json");
    CHECK(eddy_opts_int(o, "timeout") == 5000);
    CHECK(eddy_opts_int(o, "buffer") == 64LL << 20);
    CHECK(eddy_opts_int(o, "retries") == 3);
    CHECK(eddy_opts_bool(o, "enabled") == 1);
    CHECK(eddy_opts_count(o, "features") == 2);
    CHECK_STR(eddy_opts_item(o, "features", 1), "b");
    CHECK(!eddy_opts_has(o, "key"));
    CHECK(eddy_opts_str(o, "key") == NULL);
    CHECK(!eddy_opts_has(o, "labels") && eddy_opts_count(o, "labels") == 0);
    CHECK_STR(eddy_opts_where(o, "threshold"), "");
    CHECK_STR(eddy_opts_where(o, "key"), "");
    CHECK_STR(eddy_opts_where(o, "path"), "t.yaml:1:16");
    eddy_opts_free(o);
    eddy_cfg_free(cfg);

    /* No options at all is fine when nothing is required. */
    static const eddy_option optional[] = {
        {"n", EDDY_OPT_INT, "7", EDDY_NO_RANGE, NULL, 0, "A number."},
        {NULL, 0, NULL, EDDY_NO_RANGE, NULL, 0, NULL},
    };
    cfg = eddy_cfg_load_string("t.yaml", "filter:\n", 8);
    o = eddy_opts_parse(cfg, optional, NULL, "filter", NULL);
    CHECK(o && eddy_opts_int(o, "n") == 7);
    eddy_opts_free(o);
    o = eddy_opts_parse(cfg, optional, eddy_cnode_get(eddy_cfg_root(cfg), "filter"), "filter", NULL);
    CHECK(o && eddy_opts_int(o, "n") == 7);
    eddy_opts_free(o);
    CHECK(eddy_cfg_errors(cfg) == 0);
    eddy_cfg_free(cfg);
}

static void test_errors(void)
{
    expect_error("filter:\n  path: /x\n  treshold: 0.5\n",
                 "t.yaml:3:3: filter.treshold: unknown key 'treshold'; did you mean 'threshold'?");
    expect_error("filter:\n  path: /x\n  timeout: fast\n",
                 "t.yaml:3:12: filter.timeout: expected a duration like 500ms or 5m, found a string \"fast\"");
    expect_error("filter:\n  path: /x\n  threshold: 1.5\n",
                 "t.yaml:3:14: filter.threshold: expected a number between 0 and 1, found 1.5");
    expect_error("filter:\n  path: /x\n  format: xml\n",
                 "t.yaml:3:11: filter.format: expected one of json|msgpack|avro, found \"xml\"");
    expect_error("filter:\n  threshold: 0.5\n", "t.yaml:2:3: filter: missing required key 'path'");
    expect_error("filter:\n  path: /x\n  timeout: 5mn\n",
                 "t.yaml:3:12: filter.timeout: expected a duration like 500ms or 5m, found a string "
                 "\"5mn\" (unknown unit; expected ns, us, ms, s, m, h, d or w)");
    expect_error("filter:\n  path: /x\n  timeout: -5s\n",
                 "t.yaml:3:12: filter.timeout: expected a duration like 500ms or 5m, found a string "
                 "\"-5s\" (a duration must be 0 or more)");
    expect_error("filter:\n  path: /x\n  timeout: 2h\n",
                 "t.yaml:3:12: filter.timeout: expected a duration between 1ms and 1h, found 2h");
    expect_error("filter:\n  path: /x\n  buffer: 10KB\n",
                 "t.yaml:3:11: filter.buffer: expected a size like 64MiB or 10kB, found a string "
                 "\"10KB\" (unknown unit; expected B, kB, MB, GB, TB, KiB, MiB, GiB or TiB)");
    expect_error("filter:\n  path: /x\n  buffer: 1000B\n",
                 "t.yaml:3:11: filter.buffer: expected a size >= 1KiB, found 1000B");
    expect_error("filter:\n  path: /x\n  retries: many\n",
                 "t.yaml:3:12: filter.retries: expected an integer, found a string \"many\"");
    expect_error("filter:\n  path: /x\n  retries: 99999999999999999999\n",
                 "t.yaml:3:12: filter.retries: expected an integer, found a string "
                 "\"99999999999999999999\" (beyond the 64-bit integer range)");
    expect_error("filter:\n  path: /x\n  retries: -1\n",
                 "t.yaml:3:12: filter.retries: expected an integer between 0 and 10, found -1");
    expect_error("filter:\n  path: /x\n  enabled: maybe\n",
                 "t.yaml:3:12: filter.enabled: expected true or false, found a string \"maybe\"");
    expect_error("filter:\n  path: [a]\n",
                 "t.yaml:2:9: filter.path: expected a string, found a sequence");
    expect_error("filter:\n  path: /x\n  key: \"\"\n",
                 "t.yaml:3:8: filter.key: expected a field name, found an empty string");
    expect_error("filter:\n  path: /x\n  where: {a: 1}\n",
                 "t.yaml:3:10: filter.where: expected an expression, found a mapping");
    expect_error("filter:\n  path: /x\n  threshold:\n",
                 "t.yaml:3:3: filter.threshold: expected a number, found null");
    expect_error("filter: [path]\n", "t.yaml:1:9: filter: expected a mapping of options, found a sequence");
    /* LIST takes a sequence, never a lone scalar. */
    expect_error("filter:\n  path: /x\n  features: amount\n",
                 "t.yaml:3:13: filter.features: expected a list like [a, b], found a string \"amount\"");
    expect_error("filter:\n  path: /x\n  features: [a, {b: 1}]\n",
                 "t.yaml:3:17: filter.features[1]: expected a string, found a mapping");
    expect_error("filter:\n  path: /x\n  labels: {a: [1]}\n",
                 "t.yaml:3:15: filter.labels.a: expected a string, found a sequence");
    expect_error("filter:\n  path: /x\n  labels: [a]\n",
                 "t.yaml:3:11: filter.labels: expected a mapping like {key: value}, found a sequence");
    /* A NULL map with a required key: the error has no position to give. */
    eddy_cfg *cfg = eddy_cfg_load_string("t.yaml", "", 0);
    CHECK(eddy_opts_parse(cfg, table, NULL, "steps[0].filter", NULL) == NULL);
    CHECK_STR(eddy_cfg_error(cfg, 0), "t.yaml: steps[0].filter: missing required key 'path'");
    eddy_cfg_free(cfg);
}

static void test_unknown_key_lists_short_tables(void)
{
    static const eddy_option small[] = {
        {"alpha", EDDY_OPT_INT, "1", EDDY_NO_RANGE, NULL, 0, "A."},
        {"beta", EDDY_OPT_INT, "2", EDDY_NO_RANGE, NULL, 0, "B."},
        {NULL, 0, NULL, EDDY_NO_RANGE, NULL, 0, NULL},
    };
    const char *skip[] = {"type", NULL};
    eddy_cfg *cfg = eddy_cfg_load_string("t.yaml", "s: {zzzzzz: 1, type: x, bta: 2}\n", 32);
    CHECK(eddy_opts_parse(cfg, small, eddy_cnode_get(eddy_cfg_root(cfg), "s"), "s", skip) == NULL);
    CHECK(eddy_cfg_errors(cfg) == 2);
    CHECK_STR(eddy_cfg_error(cfg, 0), "t.yaml:1:5: s.zzzzzz: unknown key 'zzzzzz'; valid keys: alpha, beta, type");
    CHECK_STR(eddy_cfg_error(cfg, 1), "t.yaml:1:25: s.bta: unknown key 'bta'; did you mean 'beta'?");
    eddy_cfg_free(cfg);
}

static void test_many_errors_collected(void)
{
    eddy_cfg *cfg = eddy_cfg_load(TEST_DATA "/step.yaml");
    CHECK(eddy_cfg_errors(cfg) == 0);
    eddy_cnode *step = eddy_cnode_seq_at(eddy_cnode_get(eddy_cfg_root(cfg), "steps"), 0);
    eddy_opts *o = eddy_opts_parse(cfg, table, eddy_cnode_get(step, "filter"), "steps[0].filter", NULL);
    CHECK(o == NULL);
    CHECK(eddy_cfg_errors(cfg) == 3);
    CHECK_STR(eddy_cfg_error(cfg, 0), TEST_DATA "/step.yaml:5:7: steps[0].filter.treshold: unknown "
                                      "key 'treshold'; did you mean 'threshold'?");
    CHECK_CONTAINS(eddy_cfg_error(cfg, 1), TEST_DATA "/step.yaml:6:16: steps[0].filter.timeout: expected a duration");
    CHECK_CONTAINS(eddy_cfg_error(cfg, 2), TEST_DATA "/step.yaml:7:15: steps[0].filter.format: expected one of");
    eddy_cfg_free(cfg);
}

static void test_secrets_not_echoed(void)
{
    setenv("EDDY_T_SECRET", "hunter2-xyz", 1);
    setenv("EDDY_T_NUM", "5", 1);
    eddy_cfg *cfg;
    eddy_opts *o = parse(&cfg,
                         "filter:\n"
                         "  path: /x\n"
                         "  retries: ${EDDY_T_SECRET}\n"
                         "  threshold: ${EDDY_T_NUM}\n"
                         "  format: ${EDDY_T_SECRET}\n"
                         "  features: [\"${EDDY_T_SECRET}\", [x]]\n",
                         NULL);
    CHECK(o == NULL);
    CHECK(eddy_cfg_errors(cfg) == 4);
    CHECK_STR(eddy_cfg_error(cfg, 0), "t.yaml:3:12: filter.retries: expected an integer, found a string <secret>");
    CHECK_STR(eddy_cfg_error(cfg, 1), "t.yaml:4:14: filter.threshold: expected a number between 0 and 1, found <secret>");
    CHECK_STR(eddy_cfg_error(cfg, 2), "t.yaml:5:11: filter.format: expected one of json|msgpack|avro, found <secret>");
    CHECK_STR(eddy_cfg_error(cfg, 3), "t.yaml:6:34: filter.features[1]: expected a string, found a sequence");
    for (size_t i = 0; i < eddy_cfg_errors(cfg); i++)
        CHECK(strstr(eddy_cfg_error(cfg, i), "hunter2") == NULL);
    eddy_cfg_free(cfg);

    /* A SECRET row hides even a value typed in clear. */
    static const eddy_option secret_int[] = {
        {"pin", EDDY_OPT_INT, NULL, 0, 9999, NULL, EDDY_OPT_SECRET, "PIN."},
        {NULL, 0, NULL, EDDY_NO_RANGE, NULL, 0, NULL},
    };
    cfg = eddy_cfg_load_string("t.yaml", "s: {pin: 123456}\n", 17);
    CHECK(eddy_opts_parse(cfg, secret_int, eddy_cnode_get(eddy_cfg_root(cfg), "s"), "s", NULL) == NULL);
    CHECK_STR(eddy_cfg_error(cfg, 0), "t.yaml:1:10: s.pin: expected an integer between 0 and 9999, found <secret>");
    eddy_cfg_free(cfg);

    /* A secret that resolves fine is stored like any value. */
    cfg = eddy_cfg_load_string("t.yaml", "filter: {path: \"${EDDY_T_SECRET}\"}\n", 35);
    o = eddy_opts_parse(cfg, table, eddy_cnode_get(eddy_cfg_root(cfg), "filter"), "filter", NULL);
    CHECK(o && eddy_cfg_errors(cfg) == 0);
    CHECK_STR(eddy_opts_str(o, "path"), "hunter2-xyz");
    eddy_opts_free(o);
    eddy_cfg_free(cfg);

    /* An unset variable inside an option is reported once, at the value. */
    unsetenv("EDDY_T_UNSET");
    cfg = eddy_cfg_load_string("t.yaml", "filter: {path: \"${EDDY_T_UNSET}\"}\n", 34);
    CHECK(eddy_opts_parse(cfg, table, eddy_cnode_get(eddy_cfg_root(cfg), "filter"), "filter", NULL) == NULL);
    CHECK(eddy_cfg_errors(cfg) == 1);
    CHECK_STR(eddy_cfg_error(cfg, 0), "t.yaml:1:16: filter.path: environment variable EDDY_T_UNSET is not set");
    eddy_cfg_free(cfg);
}

static void test_skip(void)
{
    const char *skip[] = {"type", "name", NULL};
    eddy_cfg *cfg;
    eddy_opts *o = parse(&cfg, "filter: {type: custom, name: f1, path: /x}\n", skip);
    CHECK(o != NULL && eddy_cfg_errors(cfg) == 0);
    CHECK(!eddy_opts_has(o, "type"));
    eddy_opts_free(o);
    eddy_cfg_free(cfg);
}

static void test_bad_default(void)
{
    static const eddy_option bad[] = {
        {"wait", EDDY_OPT_DURATION, "fast", EDDY_NO_RANGE, NULL, 0, "Wait."},
        {NULL, 0, NULL, EDDY_NO_RANGE, NULL, 0, NULL},
    };
    eddy_cfg *cfg = eddy_cfg_load_string("t.yaml", "op: {}\n", 7);
    CHECK(eddy_opts_parse(cfg, bad, eddy_cnode_get(eddy_cfg_root(cfg), "op"), "op", NULL) == NULL);
    CHECK_STR(eddy_cfg_error(cfg, 0), "t.yaml: op: bug in the option table: the default of 'wait' is "
                                      "invalid: expected a duration like 500ms or 5m, found a string \"fast\"");
    eddy_cfg_free(cfg);
    /* Given explicitly, the bad default does not matter. */
    cfg = eddy_cfg_load_string("t.yaml", "op: {wait: 1s}\n", 15);
    eddy_opts *o = eddy_opts_parse(cfg, bad, eddy_cnode_get(eddy_cfg_root(cfg), "op"), "op", NULL);
    CHECK(o && eddy_opts_int(o, "wait") == 1000);
    eddy_opts_free(o);
    eddy_cfg_free(cfg);

    char err[256];
    CHECK(eddy_opts_from_pairs(bad, NULL, 0, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "bug in the option table: the default of 'wait' is invalid");
}

static void test_from_pairs(void)
{
    const char *pairs[] = {"path=/tmp/x", "threshold=0.7", "features=a, b ,c",
                           "labels=k:v,k2:v2", "timeout=250ms", "where=a = b"};
    char err[256] = "";
    eddy_opts *o = eddy_opts_from_pairs(table, pairs, 6, err, sizeof err);
    CHECK_MSG(o != NULL, "%s", err);
    CHECK_STR(eddy_opts_str(o, "path"), "/tmp/x");
    CHECK(eddy_opts_double(o, "threshold") == 0.7);
    CHECK(eddy_opts_count(o, "features") == 3);
    CHECK_STR(eddy_opts_item(o, "features", 1), "b");
    CHECK(eddy_opts_count(o, "labels") == 2);
    CHECK_STR(eddy_opts_key(o, "labels", 1), "k2");
    CHECK_STR(eddy_opts_item(o, "labels", 1), "v2");
    CHECK(eddy_opts_int(o, "timeout") == 250);
    CHECK_STR(eddy_opts_str(o, "where"), "a = b");
    CHECK_STR(eddy_opts_str(o, "format"), "json");
    CHECK_STR(eddy_opts_where(o, "path"), "");
    eddy_opts_free(o);

    const char *empty_list[] = {"path=/x", "features="};
    o = eddy_opts_from_pairs(table, empty_list, 2, err, sizeof err);
    CHECK(o && eddy_opts_has(o, "features") && eddy_opts_count(o, "features") == 0);
    eddy_opts_free(o);

    const char *typo[] = {"path=/x", "treshold=0.5"};
    CHECK(eddy_opts_from_pairs(table, typo, 2, err, sizeof err) == NULL);
    CHECK_STR(err, "unknown option 'treshold'; did you mean 'threshold'?");
    const char *range[] = {"path=/x", "threshold=1.5"};
    CHECK(eddy_opts_from_pairs(table, range, 2, err, sizeof err) == NULL);
    CHECK_STR(err, "threshold: expected a number between 0 and 1, found 1.5");
    const char *missing[] = {"threshold=0.5"};
    CHECK(eddy_opts_from_pairs(table, missing, 1, err, sizeof err) == NULL);
    CHECK_STR(err, "missing required option 'path'");
    const char *noeq[] = {"path"};
    CHECK(eddy_opts_from_pairs(table, noeq, 1, err, sizeof err) == NULL);
    CHECK_STR(err, "expected name=value, found \"path\"");
    const char *badmap[] = {"path=/x", "labels=a:1,b"};
    CHECK(eddy_opts_from_pairs(table, badmap, 2, err, sizeof err) == NULL);
    CHECK_STR(err, "labels: expected key:value pairs separated by commas, found \"b\"");
    const char *badlist[] = {"path=/x", "features=a,,b"};
    CHECK(eddy_opts_from_pairs(table, badlist, 2, err, sizeof err) == NULL);
    CHECK_STR(err, "features: empty item in the list");
}

static void test_docs(void)
{
    eddy_buf md = {0};
    CHECK(eddy_options_markdown(table, &md) == 0);
    CHECK(eddy_buf_putc(&md, '\0') == 0);
    const char *s = (const char *)md.data;
    CHECK_CONTAINS(s, "| option | type | default | range / values | description |\n| --- |");
    CHECK_CONTAINS(s, "| `path` | string | required |  | Where to write. |\n");
    CHECK_CONTAINS(s, "| `threshold` | double | `0.2` | 0 to 1 | Alert above this. |\n");
    CHECK_CONTAINS(s, "| `format` | enum | `json` | json, msgpack, avro | Wire format. |\n");
    CHECK_CONTAINS(s, "| `timeout` | duration | `5s` | 1ms to 1h | How long to wait. |\n");
    CHECK_CONTAINS(s, "| `buffer` | size | `64MiB` | >= 1KiB | Buffer size. |\n");
    CHECK_CONTAINS(s, "| `retries` | int | `3` | 0 to 10 | Retries \\| attempts. |\n");
    CHECK_CONTAINS(s, "| `enabled` | bool | `true` |  | On or off. |\n");
    CHECK_CONTAINS(s, "| `key` | field |  |  | Field to key by. |\n");
    CHECK_CONTAINS(s, "| `where` | expr |  |  |");
    CHECK_CONTAINS(s, "| `features` | list | `[a, b]` |  |");
    CHECK_CONTAINS(s, "| `labels` | map |  |  |");
    CHECK_CONTAINS(s, "| `password` | string, secret | (hidden) |  | Password. |\n");
    CHECK(strstr(s, "hunter2") == NULL);
    eddy_buf_free(&md);

    eddy_buf txt = {0};
    CHECK(eddy_options_text(table, &txt) == 0);
    CHECK(eddy_buf_putc(&txt, '\0') == 0);
    s = (const char *)txt.data;
    CHECK(strstr(s, "hunter2") == NULL);
    CHECK_CONTAINS(s, "  OPTION     TYPE      DEFAULT   DESCRIPTION\n");
    CHECK_CONTAINS(s, "  threshold  double    0.2       Alert above this. (0 to 1)\n");
    CHECK_CONTAINS(s, "  format     enum      json      Wire format. (one of: json, msgpack, avro)\n");
    CHECK_CONTAINS(s, "  path       string    required  Where to write.\n");
    CHECK_CONTAINS(s, "  password   string    (hidden)  Password. [secret]\n");
    eddy_buf_free(&txt);

    CHECK_STR(eddy_opt_type_name(EDDY_OPT_DURATION), "duration");
    CHECK_STR(eddy_opt_type_name(EDDY_OPT_MAP), "map");
    CHECK_STR(eddy_opt_type_name(EDDY_OPT_BOOL), "bool");
    CHECK_STR(eddy_opt_type_name((eddy_opt_type)99), "unknown");
}

int main(void)
{
    test_all_given();
    test_defaults();
    test_errors();
    test_unknown_key_lists_short_tables();
    test_many_errors_collected();
    test_secrets_not_echoed();
    test_skip();
    test_bad_default();
    test_from_pairs();
    test_docs();
    return test_report();
}
