/* File sink: round trips through the file source for every format, the
 * dead-letter envelope, append, and write errors. */
#include "tests/unit/connectors/conn_util.h"

static const eddy_source_ops *SRC;
static const eddy_sink_ops *SNK;

static void *open_sink(const char *path, const char *format, const char *e1, const char *e2,
                       char *err, size_t errlen)
{
    char p1[600], p2[64];
    snprintf(p1, sizeof p1, "path=%s", path);
    snprintf(p2, sizeof p2, "format=%s", format);
    const char *pairs[4] = {p1, p2};
    size_t n = 2;
    if (e1)
        pairs[n++] = e1;
    if (e2)
        pairs[n++] = e2;
    eddy_opts *o = opts_pairs(SNK->options, pairs, n);
    if (!o)
        return NULL;
    void *s = NULL;
    int rc = SNK->open(o, "out", NULL, &s, err, errlen);
    eddy_opts_free(o);
    return rc == 0 ? s : NULL;
}

static eddy_batch *read_back(const char *path, const char *format)
{
    char p1[600], p2[64], err[512] = "";
    snprintf(p1, sizeof p1, "path=%s", path);
    snprintf(p2, sizeof p2, "format=%s", format);
    const char *pairs[] = {p1, p2};
    eddy_opts *o = opts_pairs(SRC->options, pairs, 2);
    void *s = NULL;
    if (!o || SRC->open(o, "in", NULL, &s, err, sizeof err) != 0) {
        fprintf(stderr, "read_back %s: %s\n", path, err);
        eddy_opts_free(o);
        return NULL;
    }
    eddy_opts_free(o);
    eddy_batch *all = eddy_batch_new(8, 0);
    int rc = drain(SRC, s, all, 100, err, sizeof err);
    CHECK_MSG(rc == EDDY_EEOF, "read_back %s: %d %s", path, rc, err);
    SRC->close(s);
    return all;
}

/* Records every format can carry (strings chosen to trip CSV quoting and
 * typing: commas, quotes, newlines, text that looks like a number). */
static void sample_batch(eddy_batch *b, int n)
{
    static const char *names[] = {"plain", "a, b", "say \"hi\"", "two\nlines", "123", "",
                                  "true", "caf\xc3\xa9"};
    for (int i = 0; i < n; i++) {
        eddy_record *r = eddy_batch_append(b);
        r->topic = "t";
        r->offset = i;
        push_val(b, r, "id", eddy_v_int(i * 1000003LL - 5));
        push_str(b, r, "name", names[i % 8]);
        push_val(b, r, "score", eddy_v_double(i * 0.1 + 1e-3));
        push_val(b, r, "ok", eddy_v_bool(i % 3 == 0));
        push_val(b, r, "note", i % 2 ? eddy_v_null() : eddy_batch_string(b, "n", 1));
    }
}

static int same_record(const eddy_record *a, const eddy_record *b)
{
    if (a->nfields != b->nfields) {
        fprintf(stderr, "%u fields, expected %u\n", b->nfields, a->nfields);
        return 0;
    }
    for (uint32_t i = 0; i < a->nfields; i++) {
        const eddy_value *v = eddy_record_get(b, a->fields[i].name);
        if (!v || v->type != a->fields[i].v.type || !eddy_value_equal(v, &a->fields[i].v)) {
            fprintf(stderr, "field %s differs\n", eddy_sym_name(a->fields[i].name));
            return 0;
        }
    }
    return 1;
}

static void round_trip(const char *format, const char *schema)
{
    char path[256], err[512] = "", sc[600];
    char name[32];
    snprintf(name, sizeof name, "rt.%s", format);
    tmp_path(path, sizeof path, name);
    snprintf(sc, sizeof sc, "schema=%s", schema ? schema : "");
    void *s = open_sink(path, format, schema ? sc : NULL, "flush=false", err, sizeof err);
    CHECK_MSG(s != NULL, "%s: %s", format, err);
    if (!s)
        return;
    eddy_batch *b = eddy_batch_new(8, 0);
    sample_batch(b, 20);
    b->recs[3].flags |= EDDY_REC_DROPPED; /* dropped records are not written */
    CHECK_MSG(SNK->write(s, b, err, sizeof err) == 0, "%s: %s", format, err);
    CHECK(SNK->flush(s) == 0);
    SNK->close(s);
    eddy_batch *back = read_back(path, format);
    CHECK_MSG(back && back->n == 19, "%s: %u records", format, back ? back->n : 0);
    if (back && back->n == 19)
        for (uint32_t i = 0, j = 0; i < 20; i++) {
            if (i == 3)
                continue;
            CHECK_MSG(same_record(&b->recs[i], &back->recs[j]), "%s record %u", format, i);
            j++;
        }
    eddy_batch_destroy(back);
    eddy_batch_destroy(b);
    unlink(path);
}

static void test_round_trips(void)
{
    round_trip("json", NULL);
    round_trip("msgpack", NULL);
    round_trip("csv", NULL);
    char schema[256];
    tmp_path(schema, sizeof schema, "rt.avsc");
    const char *avsc = "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                       "{\"name\":\"id\",\"type\":\"long\"},"
                       "{\"name\":\"name\",\"type\":\"string\"},"
                       "{\"name\":\"score\",\"type\":\"double\"},"
                       "{\"name\":\"ok\",\"type\":\"boolean\"},"
                       "{\"name\":\"note\",\"type\":[\"null\",\"string\"]}]}";
    write_file(schema, avsc, strlen(avsc));
#if EDDY_HAVE_AVRO
    round_trip("avro", schema);

    /* avro needs a schema; a record missing a required field is an error
     * naming the file and the record. */
    char path[256], err[512] = "", sc[600];
    tmp_path(path, sizeof path, "bad.avro");
    CHECK(open_sink(path, "avro", NULL, NULL, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "needs `schema`");
    snprintf(sc, sizeof sc, "schema=%s", schema);
    void *s = open_sink(path, "avro", sc, NULL, err, sizeof err);
    CHECK_MSG(s != NULL, "%s", err);
    if (s) {
        eddy_batch *b = eddy_batch_new(8, 0);
        eddy_record *r = eddy_batch_append(b);
        r->topic = "t";
        r->offset = 7;
        push_val(b, r, "id", eddy_v_int(1));
        CHECK(SNK->write(s, b, err, sizeof err) < 0);
        CHECK_CONTAINS(err, path);
        CHECK_CONTAINS(err, "t[0]@7");
        eddy_batch_destroy(b);
        SNK->close(s);
    }
    /* Appending keeps one container with both batches. */
    for (int k = 0; k < 2; k++) {
        s = open_sink(path, "avro", sc, k ? "append=true" : NULL, err, sizeof err);
        CHECK_MSG(s != NULL, "%s", err);
        if (!s)
            continue;
        eddy_batch *b = eddy_batch_new(8, 0);
        sample_batch(b, 3);
        CHECK(SNK->write(s, b, err, sizeof err) == 0);
        eddy_batch_destroy(b);
        SNK->close(s);
    }
    eddy_batch *back = read_back(path, "avro");
    CHECK(back && back->n == 6);
    eddy_batch_destroy(back);
    unlink(path);
#else
    char path[256], err[512] = "", sc[600];
    tmp_path(path, sizeof path, "bad.avro");
    snprintf(sc, sizeof sc, "schema=%s", schema);
    CHECK(open_sink(path, "avro", sc, NULL, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "not built into this eddy");
#endif
    unlink(schema);
}

static eddy_batch *dead_letters(void)
{
    eddy_batch *b = eddy_batch_new(8, 0);
    eddy_record *r = eddy_batch_append(b);
    r->topic = "payments";
    r->partition = 2;
    r->offset = 41;
    eddy_record_keep_raw(b, r, "{\"amount\": oops}", 16);
    eddy_record_fail(b, r, "decode", 11, "expected a value at byte %d", 11);
    r = eddy_batch_append(b);
    r->topic = "payments";
    r->offset = 42;
    eddy_record_keep_raw(b, r, "\xff\x00\x01", 3);
    eddy_record_fail(b, r, "validate", 0, "not UTF-8");
    r = eddy_batch_append(b); /* an ordinary record in the same batch */
    push_val(b, r, "amount", eddy_v_int(5));
    return b;
}

static void check_envelopes(const eddy_batch *back, const char *format)
{
    CHECK_MSG(back && back->n == 3, "%s", format);
    if (!back || back->n != 3)
        return;
    const eddy_record *r = &back->recs[0];
    CHECK(field_is(r, "error", "expected a value at byte 11"));
    CHECK(field_is(r, "step", "decode"));
    CHECK(field_int(r, "error_offset") == 11);
    CHECK(field_is(r, "raw", "{\"amount\": oops}"));
    const eddy_value *src = field(r, "source");
    CHECK(src && src->type == EDDY_MAP && src->len == 3);
    if (src && src->type == EDDY_MAP && src->len == 3) {
        CHECK(src->u.kvs[0].val.type == EDDY_STRING &&
              memcmp(src->u.kvs[0].val.u.s, "payments", 8) == 0);
        CHECK(src->u.kvs[1].val.type == EDDY_INT && src->u.kvs[1].val.u.i == 2);
        CHECK(src->u.kvs[2].val.type == EDDY_INT && src->u.kvs[2].val.u.i == 41);
    }
    r = &back->recs[1];
    CHECK(field_is(r, "step", "validate"));
    CHECK(field(r, "raw") == NULL);
    CHECK(field_is(r, "raw_base64", "/wAB"));
    CHECK(field_int(&back->recs[2], "amount") == 5);
}

static void test_dead_letters(void)
{
    char path[256], err[512] = "";
    static const char *fmts[] = {"json", "msgpack"};
    for (int f = 0; f < 2; f++) {
        tmp_path(path, sizeof path, fmts[f]);
        void *s = open_sink(path, fmts[f], NULL, NULL, err, sizeof err);
        CHECK_MSG(s != NULL, "%s", err);
        if (!s)
            continue;
        eddy_batch *b = dead_letters();
        CHECK_MSG(SNK->write(s, b, err, sizeof err) == 0, "%s", err);
        eddy_batch_destroy(b);
        SNK->close(s);
        if (f == 0) {
            char *text = read_file(path, NULL);
            CHECK_CONTAINS(text, "{\"error\":\"expected a value at byte 11\",\"step\":\"decode\","
                                 "\"source\":{\"topic\":\"payments\",\"partition\":2,"
                                 "\"offset\":41},\"error_offset\":11,\"raw\":\"{\\\"amount\\\": "
                                 "oops}\"}\n");
            free(text);
        }
        eddy_batch *back = read_back(path, fmts[f]);
        check_envelopes(back, fmts[f]);
        eddy_batch_destroy(back);
        unlink(path);
    }
    /* csv cannot hold dead letters: refused before anything is written. */
    tmp_path(path, sizeof path, "dl.csv");
    void *s = open_sink(path, "csv", NULL, NULL, err, sizeof err);
    if (s) {
        eddy_batch *b = dead_letters();
        CHECK(SNK->write(s, b, err, sizeof err) == EDDY_EUNSUPPORTED);
        CHECK_CONTAINS(err, "payments[2]@41 is a dead letter");
        CHECK_CONTAINS(err, "json or msgpack");
        eddy_batch_destroy(b);
        SNK->close(s);
        size_t len = 99;
        free(read_file(path, &len));
        CHECK(len == 0);
    }
    unlink(path);
}

static void test_csv_append(void)
{
    char path[256], err[512] = "";
    tmp_path(path, sizeof path, "app.csv");
    for (int k = 0; k < 2; k++) {
        void *s = open_sink(path, "csv", k ? "append=true" : NULL, NULL, err, sizeof err);
        CHECK_MSG(s != NULL, "%s", err);
        if (!s)
            continue;
        eddy_batch *b = eddy_batch_new(8, 0);
        eddy_record *r = eddy_batch_append(b);
        /* Field order differs from the header: columns are matched by name. */
        if (k)
            push_val(b, r, "y", eddy_v_int(20));
        push_val(b, r, "x", eddy_v_int(k));
        if (!k)
            push_val(b, r, "y", eddy_v_int(10));
        CHECK_MSG(SNK->write(s, b, err, sizeof err) == 0, "%s", err);
        /* A field that is not a column is refused, not dropped. */
        eddy_batch_reset(b);
        r = eddy_batch_append(b);
        push_val(b, r, "z", eddy_v_int(1));
        CHECK(SNK->write(s, b, err, sizeof err) < 0);
        CHECK_CONTAINS(err, "'z' that is not a column");
        eddy_batch_destroy(b);
        SNK->close(s);
    }
    char *text = read_file(path, NULL);
    CHECK_STR(text, "x,y\n0,10\n1,20\n");
    free(text);
    unlink(path);
}

static void test_write_errors(void)
{
    char err[512] = "";
    CHECK(open_sink("/nonexistent-dir/out.ndjson", "json", NULL, NULL, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "/nonexistent-dir/out.ndjson");
    CHECK_CONTAINS(err, "No such file");
    void *s = open_sink("/dev/full", "json", NULL, NULL, err, sizeof err);
    if (s) {
        eddy_batch *b = eddy_batch_new(8, 0);
        sample_batch(b, 2);
        CHECK(SNK->write(s, b, err, sizeof err) == EDDY_EIO);
        CHECK_CONTAINS(err, "/dev/full: write failed: No space left");
        eddy_batch_destroy(b);
        SNK->close(s);
    }
}

int main(void)
{
    SRC = eddy_source_find("file");
    SNK = eddy_sink_find("file");
    CHECK(SRC && SNK);
    if (!SRC || !SNK)
        return test_report();
    test_round_trips();
    test_dead_letters();
    test_csv_append();
    test_write_errors();
    return test_report();
}
