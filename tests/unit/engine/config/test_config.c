/* The YAML loader: tree, positions, errors, ${ENV} and file: values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/config/config.h"
#include "tests/unit/test.h"

static eddy_cfg *load(const char *yaml) { return eddy_cfg_load_string("t.yaml", yaml, strlen(yaml)); }

static void test_tree(void)
{
    eddy_cfg *cfg = load("a: 1\n"
                         "b:\n"
                         "  - x\n"
                         "  - \"y\"\n"
                         "c: ~\n"
                         "d:\n"
                         "map: {k: v, j: w}\n"
                         "e: \"\"\n");
    CHECK(cfg != NULL);
    CHECK(eddy_cfg_errors(cfg) == 0);
    CHECK_STR(eddy_cfg_path(cfg), "t.yaml");
    eddy_cnode *root = eddy_cfg_root(cfg);
    CHECK(eddy_cnode_kind_of(root) == EDDY_CNODE_MAP);
    CHECK(eddy_cnode_map_len(root) == 6);
    const char *keys[] = {"a", "b", "c", "d", "map", "e"};
    for (size_t i = 0; i < 6; i++)
        CHECK_STR(eddy_cnode_map_key(cfg, root, i, NULL), keys[i]);
    eddy_cnode *kn;
    CHECK_STR(eddy_cnode_map_key(cfg, root, 4, &kn), "map");
    CHECK(eddy_cnode_line(kn) == 7 && eddy_cnode_col(kn) == 1);
    CHECK(eddy_cnode_map_key(cfg, root, 6, NULL) == NULL);

    eddy_cnode *a = eddy_cnode_get(root, "a");
    CHECK(eddy_cnode_kind_of(a) == EDDY_CNODE_SCALAR);
    CHECK_STR(eddy_cnode_str(cfg, a, "a"), "1");
    CHECK(eddy_cnode_line(a) == 1 && eddy_cnode_col(a) == 4);
    CHECK(!eddy_cnode_secret(a));

    eddy_cnode *b = eddy_cnode_get(root, "b");
    CHECK(eddy_cnode_kind_of(b) == EDDY_CNODE_SEQ);
    CHECK_STR(eddy_cnode_kind_name(b), "a sequence");
    CHECK(eddy_cnode_seq_len(b) == 2);
    eddy_cnode *y = eddy_cnode_seq_at(b, 1);
    CHECK_STR(eddy_cnode_str(cfg, y, "b[1]"), "y");
    CHECK(eddy_cnode_line(y) == 4 && eddy_cnode_col(y) == 5);
    CHECK_STR(eddy_cnode_kind_name(y), "a string \"y\"");
    CHECK(eddy_cnode_seq_at(b, 2) == NULL);
    char where[64];
    eddy_cnode_where(cfg, y, where, sizeof where);
    CHECK_STR(where, "t.yaml:4:5");

    CHECK(eddy_cnode_kind_of(eddy_cnode_get(root, "c")) == EDDY_CNODE_NULL);
    CHECK_STR(eddy_cnode_kind_name(eddy_cnode_get(root, "c")), "null");
    /* An empty value has no position of its own: it reports its key's. */
    eddy_cnode *d = eddy_cnode_get(root, "d");
    CHECK(eddy_cnode_kind_of(d) == EDDY_CNODE_NULL);
    CHECK(eddy_cnode_line(d) == 6 && eddy_cnode_col(d) == 1);
    CHECK(eddy_cnode_str(cfg, d, "d") == NULL);
    /* A quoted empty string is a string, not null. */
    eddy_cnode *e = eddy_cnode_get(root, "e");
    CHECK(eddy_cnode_kind_of(e) == EDDY_CNODE_SCALAR);
    CHECK_STR(eddy_cnode_str(cfg, e, "e"), "");

    eddy_cnode *m = eddy_cnode_get(root, "map");
    CHECK_STR(eddy_cnode_kind_name(m), "a mapping");
    CHECK(eddy_cnode_line(m) == 7 && eddy_cnode_col(m) == 6);
    CHECK_STR(eddy_cnode_str(cfg, eddy_cnode_get(m, "j"), "map.j"), "w");
    CHECK(eddy_cnode_str(cfg, m, "map") == NULL);
    CHECK(eddy_cnode_get(root, "nope") == NULL);
    CHECK(eddy_cnode_get(b, "x") == NULL);
    CHECK(eddy_cfg_errors(cfg) == 0);
    eddy_cfg_free(cfg);
}

static void test_kind_name_truncated(void)
{
    eddy_cfg *cfg = load("k: \"0123456789012345678901234567890123456789abcdefghij\"\nq: 'say \"hi\"'\n");
    const char *name = eddy_cnode_kind_name(eddy_cnode_get(eddy_cfg_root(cfg), "k"));
    CHECK_STR(name, "a string \"0123456789012345678901234567890123456...\"");
    CHECK_STR(eddy_cnode_kind_name(eddy_cnode_get(eddy_cfg_root(cfg), "q")),
              "a string \"say \\\"hi\\\"\"");
    eddy_cfg_free(cfg);
}

static void test_empty_document(void)
{
    eddy_cfg *cfg = load("# nothing here\n");
    CHECK(cfg && eddy_cfg_root(cfg) == NULL && eddy_cfg_errors(cfg) == 0);
    eddy_cfg_free(cfg);
}

static void test_syntax_error(void)
{
    eddy_cfg *cfg = load("a: b: c\n");
    CHECK(cfg != NULL);
    CHECK(eddy_cfg_errors(cfg) == 1);
    CHECK_STR(eddy_cfg_error(cfg, 0),
              "t.yaml:1:5: YAML syntax error: invalid nested block mapping on the same line");
    CHECK(eddy_cfg_root(cfg) == NULL);
    CHECK(eddy_cfg_error(cfg, 1) == NULL);
    eddy_cfg_free(cfg);

    cfg = eddy_cfg_load(TEST_DATA "/syntax.yaml");
    CHECK(eddy_cfg_errors(cfg) == 1);
    CHECK_CONTAINS(eddy_cfg_error(cfg, 0), TEST_DATA "/syntax.yaml:");
    CHECK_CONTAINS(eddy_cfg_error(cfg, 0), ": YAML syntax error: flow sequence without a closing bracket");
    eddy_cfg_free(cfg);
}

static void test_missing_file(void)
{
    eddy_cfg *cfg = eddy_cfg_load("/nonexistent-eddy/pipeline.yaml");
    CHECK(cfg != NULL);
    CHECK(eddy_cfg_errors(cfg) == 1);
    CHECK_STR(eddy_cfg_error(cfg, 0), "/nonexistent-eddy/pipeline.yaml: cannot read the "
                                      "configuration: No such file or directory");
    eddy_cfg_free(cfg);
}

/* Depth and size caps (issue 14): 50,000 levels took 3 GB and 30 s; a
 * config from /dev/zero was read forever. */
static void test_limits(void)
{
    size_t depth = 50000;
    char *deep = malloc(3 + 2 * depth + 1);
    memcpy(deep, "a: ", 3);
    memset(deep + 3, '[', depth);
    memset(deep + 3 + depth, ']', depth);
    deep[3 + 2 * depth] = '\0';
    eddy_cfg *cfg = load(deep);
    CHECK(eddy_cfg_errors(cfg) == 1);
    CHECK_STR(eddy_cfg_error(cfg, 0), "t.yaml:1:67: mappings and sequences nested deeper than 64 "
                                      "levels; a configuration needs a handful (is this the right "
                                      "file?)");
    CHECK(eddy_cfg_root(cfg) == NULL);
    eddy_cfg_free(cfg);
    free(deep);
    /* 64 levels are fine. */
    char ok[200] = "a: ";
    memset(ok + 3, '[', 63);
    memset(ok + 66, ']', 63);
    cfg = load(ok);
    CHECK_MSG(eddy_cfg_errors(cfg) == 0, "%s", eddy_cfg_error(cfg, 0));
    eddy_cfg_free(cfg);

    cfg = eddy_cfg_load("/dev/zero");
    CHECK(eddy_cfg_errors(cfg) == 1);
    CHECK_STR(eddy_cfg_error(cfg, 0), "/dev/zero: the configuration is larger than 16 MiB; a "
                                      "configuration is a few KB (is this the right file?)");
    eddy_cfg_free(cfg);
}

static void test_duplicate_key(void)
{
    eddy_cfg *cfg = load("x: 1\n"
                         "top:\n"
                         "  a: 1\n"
                         "  b: 2\n"
                         "  a: 3\n"
                         "x: 2\n");
    CHECK(eddy_cfg_errors(cfg) == 2);
    CHECK_STR(eddy_cfg_error(cfg, 0), "t.yaml:5:3: top.a: duplicate key 'a' (first defined at t.yaml:3:3)");
    CHECK_STR(eddy_cfg_error(cfg, 1), "t.yaml:6:1: x: duplicate key 'x' (first defined at t.yaml:1:1)");
    eddy_cfg_free(cfg);
}

static void test_refused_constructs(void)
{
    eddy_cfg *cfg = load("a: &x 1\nb: *x\nc: !!str 5\n---\nd: 1\n");
    CHECK(eddy_cfg_errors(cfg) == 4);
    CHECK_STR(eddy_cfg_error(cfg, 0), "t.yaml:1:4: a: anchors (&name) and aliases (*name) are not "
                                      "supported; write the value out");
    CHECK_CONTAINS(eddy_cfg_error(cfg, 1), "t.yaml:2:4: b: anchors (&name) and aliases");
    CHECK_CONTAINS(eddy_cfg_error(cfg, 2), "t.yaml:3:4: c: tags (such as !!str) are not supported");
    CHECK_STR(eddy_cfg_error(cfg, 3),
              "t.yaml:4:1: only one YAML document is allowed per file, found a second one");
    /* The first document is still there. */
    CHECK(eddy_cnode_get(eddy_cfg_root(cfg), "a") != NULL);
    CHECK(eddy_cnode_get(eddy_cfg_root(cfg), "d") == NULL);
    eddy_cfg_free(cfg);

    cfg = load("? [a, b]\n: 1\n");
    CHECK(eddy_cfg_errors(cfg) == 1);
    CHECK_STR(eddy_cfg_error(cfg, 0), "t.yaml:1:3: mapping keys must be strings, found a sequence");
    eddy_cfg_free(cfg);
}

static void test_fail(void)
{
    eddy_cfg *cfg = load("sources:\n  - format: xml\n");
    eddy_cnode *src = eddy_cnode_seq_at(eddy_cnode_get(eddy_cfg_root(cfg), "sources"), 0);
    eddy_cfg_fail(cfg, eddy_cnode_get(src, "format"), "sources[0].format", "bad %s", "format");
    eddy_cfg_fail(cfg, NULL, "sources[0]", "boom %d", 7);
    eddy_cfg_fail(cfg, NULL, NULL, "whole file");
    CHECK(eddy_cfg_errors(cfg) == 3);
    CHECK_STR(eddy_cfg_error(cfg, 0), "t.yaml:2:13: sources[0].format: bad format");
    CHECK_STR(eddy_cfg_error(cfg, 1), "t.yaml: sources[0]: boom 7");
    CHECK_STR(eddy_cfg_error(cfg, 2), "t.yaml: whole file");
    eddy_cfg_free(cfg);
}

static void test_env(void)
{
    setenv("EDDY_T_USER", "alice", 1);
    setenv("EDDY_T_EMPTY", "", 1);
    unsetenv("EDDY_T_NOPE");
    eddy_cfg *cfg = load("u: \"${EDDY_T_USER}@${EDDY_T_USER}.example\"\n"
                         "lit: \"$${HOME} costs $$5\"\n"
                         "empty: x${EDDY_T_EMPTY}y\n"
                         "unset: ${EDDY_T_NOPE}\n"
                         "open: \"${EDDY_T_USER\"\n"
                         "badname: ${not-a-name}\n");
    eddy_cnode *root = eddy_cfg_root(cfg);
    eddy_cnode *u = eddy_cnode_get(root, "u");
    CHECK(eddy_cnode_secret(u));
    CHECK_STR(eddy_cnode_kind_name(u), "a string <secret>");
    CHECK_STR(eddy_cnode_str(cfg, u, "u"), "alice@alice.example");
    CHECK_STR(eddy_cnode_kind_name(u), "a string <secret>");

    eddy_cnode *lit = eddy_cnode_get(root, "lit");
    CHECK(!eddy_cnode_secret(lit));
    CHECK_STR(eddy_cnode_str(cfg, lit, "lit"), "${HOME} costs $$5");
    CHECK_STR(eddy_cnode_str(cfg, eddy_cnode_get(root, "empty"), "empty"), "xy");

    eddy_cnode *unset = eddy_cnode_get(root, "unset");
    CHECK(eddy_cnode_str(cfg, unset, "sink.unset") == NULL);
    CHECK(eddy_cnode_str(cfg, unset, "sink.unset") == NULL); /* reported once */
    CHECK(eddy_cnode_str(cfg, eddy_cnode_get(root, "open"), "open") == NULL);
    CHECK(eddy_cnode_str(cfg, eddy_cnode_get(root, "badname"), "badname") == NULL);
    CHECK(eddy_cfg_errors(cfg) == 3);
    CHECK_STR(eddy_cfg_error(cfg, 0), "t.yaml:4:8: sink.unset: environment variable EDDY_T_NOPE is not set");
    CHECK_STR(eddy_cfg_error(cfg, 1), "t.yaml:5:7: open: unterminated '${' (write '$${' for a literal '${')");
    CHECK_CONTAINS(eddy_cfg_error(cfg, 2), "t.yaml:6:10: badname: '${...}' must hold an environment variable name");
    eddy_cfg_free(cfg);
}

static void test_file_values(void)
{
    char tmp[] = "/tmp/eddy-test-secret-XXXXXX";
    int fd = mkstemp(tmp);
    CHECK(fd >= 0);
    CHECK(write(fd, "s3cr3t\n\n", 8) == 8);
    close(fd);
    char yaml[256];
    snprintf(yaml, sizeof yaml, "pw: file:%s\nnone: file:/nonexistent-eddy/pw\nmixed: \"a file:/x\"\n",
             tmp);
    eddy_cfg *cfg = load(yaml);
    eddy_cnode *root = eddy_cfg_root(cfg);
    eddy_cnode *pw = eddy_cnode_get(root, "pw");
    CHECK(eddy_cnode_secret(pw));
    CHECK_STR(eddy_cnode_str(cfg, pw, "pw"), "s3cr3t\n"); /* one trailing newline dropped */
    CHECK(eddy_cnode_str(cfg, eddy_cnode_get(root, "none"), "db.none") == NULL);
    /* Only a whole value starting with file: is a file reference. */
    eddy_cnode *mixed = eddy_cnode_get(root, "mixed");
    CHECK(!eddy_cnode_secret(mixed));
    CHECK_STR(eddy_cnode_str(cfg, mixed, "mixed"), "a file:/x");
    CHECK(eddy_cfg_errors(cfg) == 1);
    CHECK_STR(eddy_cfg_error(cfg, 0), "t.yaml:2:7: db.none: cannot read file '/nonexistent-eddy/pw': "
                                      "No such file or directory");
    eddy_cfg_free(cfg);
    unlink(tmp);

    /* Relative to the configuration file's directory; contents never in errors. */
    cfg = eddy_cfg_load(TEST_DATA "/with_secret.yaml");
    CHECK(eddy_cfg_errors(cfg) == 0);
    eddy_cnode *sink = eddy_cnode_get(eddy_cfg_root(cfg), "sink");
    CHECK_STR(eddy_cnode_str(cfg, eddy_cnode_get(sink, "password"), "sink.password"),
              "hunter2-from-file");
    CHECK(eddy_cnode_str(cfg, eddy_cnode_get(sink, "missing"), "sink.missing") == NULL);
    CHECK(eddy_cfg_errors(cfg) == 1);
    CHECK_STR(eddy_cfg_error(cfg, 0), TEST_DATA "/with_secret.yaml:4:12: sink.missing: cannot read "
                                      "file '" TEST_DATA "/no-such-secret.txt': No such file or directory");
    eddy_cfg_free(cfg);
}

int main(void)
{
    test_tree();
    test_kind_name_truncated();
    test_empty_document();
    test_syntax_error();
    test_missing_file();
    test_limits();
    test_duplicate_key();
    test_refused_constructs();
    test_fail();
    test_env();
    test_file_values();
    return test_report();
}
