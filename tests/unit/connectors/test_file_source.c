/* File source: NDJSON, msgpack, Avro and CSV, with bad records in the
 * middle; follow mode; limits and I/O errors. */
#include <msgpack.h>

#include "engine/registry.h"
#include "tests/unit/connectors/conn_util.h"

static const eddy_source_ops *F;

static void *open_src(const char *path, const char *format, const char *extra, char *err,
                      size_t errlen)
{
    char p1[600], p2[64];
    snprintf(p1, sizeof p1, "path=%s", path);
    snprintf(p2, sizeof p2, "format=%s", format);
    const char *pairs[] = {p1, p2, extra};
    eddy_opts *o = opts_pairs(F->options, pairs, extra ? 3 : 2);
    if (!o)
        return NULL;
    void *s = NULL;
    int rc = F->open(o, "in", NULL, &s, err, errlen);
    eddy_opts_free(o);
    return rc == 0 ? s : NULL;
}

static void test_json(void)
{
    char path[256], err[512] = "";
    tmp_path(path, sizeof path, "src.ndjson");
    const char *text = "{\"a\":1,\"s\":\"x\"}\n"
                       "\n"
                       "{\"a\":2}\r\n"
                       "{\"a\":3,\"bad\":}\n"
                       "   \n"
                       "{\"a\":4}"; /* no final newline */
    write_file(path, text, strlen(text));
    void *s = open_src(path, "json", "batch_size=2", err, sizeof err);
    CHECK_MSG(s != NULL, "%s", err);
    if (!s)
        return;
    CHECK(F->partitions(s) == 1);
    eddy_batch *b = eddy_batch_new(8, 0);
    int rc = F->poll(s, b, 100, 10, err, sizeof err);
    CHECK(rc == 2); /* batch_size caps a poll */
    CHECK(b->n == 2);
    eddy_batch *all = eddy_batch_new(8, 0);
    rc = drain(F, s, all, 100, err, sizeof err);
    CHECK(rc == EDDY_EEOF);
    CHECK(F->poll(s, b, 100, 10, err, sizeof err) == EDDY_EEOF);
    CHECK(all->n == 2);
    if (b->n == 2 && all->n == 2) {
        CHECK(field_int(&b->recs[0], "a") == 1 && field_is(&b->recs[0], "s", "x"));
        CHECK(b->recs[0].offset == 1 && b->recs[1].offset == 3); /* line numbers */
        CHECK(field_int(&b->recs[1], "a") == 2);
        CHECK_STR(b->recs[0].topic, "in");
        const eddy_record *bad = &all->recs[0];
        CHECK(bad->flags & EDDY_REC_ERROR);
        CHECK(bad->offset == 4);
        CHECK_CONTAINS(bad->err_reason, ":4: ");
        CHECK_CONTAINS(bad->err_reason, path);
        CHECK(bad->raw && bad->raw_len == strlen("{\"a\":3,\"bad\":}"));
        CHECK(!(all->recs[1].flags & EDDY_REC_ERROR) && field_int(&all->recs[1], "a") == 4);
        CHECK(all->recs[1].offset == 6);
    }
    F->close(s);
    eddy_batch_destroy(b);
    eddy_batch_destroy(all);
    unlink(path);
}

static void test_json_long_line(void)
{
    char path[256], err[512] = "";
    tmp_path(path, sizeof path, "long.ndjson");
    size_t big = 5000;
    char *text = malloc(big + 64);
    strcpy(text, "{\"a\":1}\n{\"s\":\"");
    size_t n = strlen(text);
    memset(text + n, 'x', big);
    strcpy(text + n + big, "\"}\n{\"a\":2}\n");
    write_file(path, text, strlen(text));
    void *s = open_src(path, "json", "max_record_size=2KiB", err, sizeof err);
    CHECK_MSG(s != NULL, "%s", err);
    if (s) {
        eddy_batch *all = eddy_batch_new(8, 0);
        CHECK(drain(F, s, all, 100, err, sizeof err) == EDDY_EEOF);
        CHECK(all->n == 3);
        if (all->n == 3) {
            CHECK(field_int(&all->recs[0], "a") == 1);
            CHECK(all->recs[1].flags & EDDY_REC_ERROR);
            CHECK_CONTAINS(all->recs[1].err_reason, "longer than max_record_size");
            CHECK(all->recs[1].offset == 2);
            CHECK(field_int(&all->recs[2], "a") == 2 && all->recs[2].offset == 3);
        }
        eddy_batch_destroy(all);
        F->close(s);
    }
    free(text);
    unlink(path);
}

static void mp_pack_rec(msgpack_packer *pk, int a)
{
    msgpack_pack_map(pk, 2);
    msgpack_pack_str_with_body(pk, "a", 1);
    msgpack_pack_int(pk, a);
    msgpack_pack_str_with_body(pk, "t", 1);
    msgpack_pack_str_with_body(pk, "hi", 2);
}

static void test_msgpack(void)
{
    char path[256], err[512] = "";
    tmp_path(path, sizeof path, "src.mp");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    mp_pack_rec(&pk, 1);
    msgpack_pack_array(&pk, 2); /* not a map: an error record */
    msgpack_pack_int(&pk, 1);
    msgpack_pack_int(&pk, 2);
    mp_pack_rec(&pk, 3);
    size_t whole = sb.size;
    mp_pack_rec(&pk, 4);
    write_file(path, sb.data, whole + 3); /* the last object is cut short */
    void *s = open_src(path, "msgpack", NULL, err, sizeof err);
    CHECK_MSG(s != NULL, "%s", err);
    if (s) {
        eddy_batch *all = eddy_batch_new(8, 0);
        CHECK(drain(F, s, all, 100, err, sizeof err) == EDDY_EEOF);
        CHECK_MSG(all->n == 4, "%u records", all->n);
        if (all->n == 4) {
            CHECK(field_int(&all->recs[0], "a") == 1 && field_is(&all->recs[0], "t", "hi"));
            CHECK(all->recs[1].flags & EDDY_REC_ERROR);
            CHECK(all->recs[1].offset == 1);
            CHECK_CONTAINS(all->recs[1].err_reason, "record 1 (byte offset");
            CHECK(all->recs[1].raw_len == 3);
            CHECK(field_int(&all->recs[2], "a") == 3 && all->recs[2].offset == 2);
            CHECK(all->recs[3].flags & EDDY_REC_ERROR);
            CHECK_CONTAINS(all->recs[3].err_reason, "truncated");
        }
        eddy_batch_destroy(all);
        F->close(s);
    }
    /* A byte that starts no msgpack object ends the stream with an error. */
    msgpack_sbuffer_clear(&sb);
    mp_pack_rec(&pk, 1);
    msgpack_sbuffer_write(&sb, "\xc1\x01\x02", 3);
    write_file(path, sb.data, sb.size);
    s = open_src(path, "msgpack", NULL, err, sizeof err);
    if (s) {
        eddy_batch *all = eddy_batch_new(8, 0);
        CHECK(drain(F, s, all, 100, err, sizeof err) == EDDY_EEOF);
        CHECK(all->n == 2);
        if (all->n == 2) {
            CHECK(field_int(&all->recs[0], "a") == 1);
            CHECK(all->recs[1].flags & EDDY_REC_ERROR);
            CHECK_CONTAINS(all->recs[1].err_reason, "0xc1");
        }
        eddy_batch_destroy(all);
        F->close(s);
    }
    msgpack_sbuffer_destroy(&sb);
    unlink(path);
}

static void test_csv(void)
{
    char path[256], err[512] = "";
    tmp_path(path, sizeof path, "src.csv");
    const char *text = "\xEF\xBB\xBFid,name,score,ok,note\r\n"
                       "1,alice,3.5,true,\r\n"
                       "2,\"bob, jr\",-7,FALSE,\"said \"\"hi\"\"\"\r\n"
                       "3,carol,1e3,maybe,\"two\nlines\"\n"
                       "4,dave,5\n" /* too few cells */
                       "\n"
                       "5,\"007\",00x,\"\",nan\n"
                       "6,\"eve\"x,1,true,\n" /* text after a closing quote */
                       "7,\"last\",12345678901234567890,true,z"; /* no final newline */
    write_file(path, text, strlen(text));
    void *s = open_src(path, "csv", NULL, err, sizeof err);
    CHECK_MSG(s != NULL, "%s", err);
    if (!s)
        return;
    eddy_batch *all = eddy_batch_new(8, 0);
    int rc = drain(F, s, all, 100, err, sizeof err);
    CHECK_MSG(rc == EDDY_EEOF, "%d %s", rc, err);
    CHECK(all->n == 7);
    if (all->n == 7) {
        const eddy_record *r = &all->recs[0];
        CHECK(field_int(r, "id") == 1 && field_is(r, "name", "alice"));
        CHECK(field(r, "score")->type == EDDY_DOUBLE && field_num(r, "score") == 3.5);
        CHECK(field(r, "ok")->type == EDDY_BOOL && field(r, "ok")->u.b == 1);
        CHECK(field(r, "note")->type == EDDY_NULL);
        CHECK(r->offset == 2);
        r = &all->recs[1];
        CHECK(field_is(r, "name", "bob, jr") && field_int(r, "score") == -7);
        CHECK(field(r, "ok")->type == EDDY_BOOL && field(r, "ok")->u.b == 0);
        CHECK(field_is(r, "note", "said \"hi\""));
        r = &all->recs[2];
        CHECK(field_num(r, "score") == 1000.0 && field_is(r, "ok", "maybe"));
        CHECK(field_is(r, "note", "two\nlines"));
        CHECK(r->offset == 4);
        r = &all->recs[3];
        CHECK(r->flags & EDDY_REC_ERROR);
        CHECK(r->offset == 6);
        CHECK_CONTAINS(r->err_reason, ":6: expected 5 cells");
        CHECK_CONTAINS(r->err_reason, "found 3");
        CHECK(r->raw && r->raw_len == 8 && memcmp(r->raw, "4,dave,5", 8) == 0);
        r = &all->recs[4];
        CHECK(r->offset == 8);
        CHECK(field_is(r, "name", "007")); /* quoted: stays text */
        CHECK(field_is(r, "score", "00x") && field_is(r, "ok", "") && field_is(r, "note", "nan"));
        r = &all->recs[5];
        CHECK(r->flags & EDDY_REC_ERROR);
        CHECK_CONTAINS(r->err_reason, "cell 2: unexpected text after the closing quote");
        r = &all->recs[6];
        CHECK(!(r->flags & EDDY_REC_ERROR) && field_int(r, "id") == 7);
        CHECK(field(r, "score")->type == EDDY_DOUBLE); /* beyond int64 */
        CHECK(field_is(r, "note", "z") && r->offset == 10);
    }
    eddy_batch_destroy(all);
    F->close(s);

    /* A header with a duplicate or empty name stops the source. */
    write_file(path, "a,b,a\n1,2,3\n", 12);
    s = open_src(path, "csv", NULL, err, sizeof err);
    if (s) {
        eddy_batch *b = eddy_batch_new(8, 0);
        CHECK(F->poll(s, b, 10, 10, err, sizeof err) == EDDY_EPARSE);
        CHECK_CONTAINS(err, "columns 1 and 3 are both named 'a'");
        eddy_batch_destroy(b);
        F->close(s);
    }
    write_file(path, "a,\"unterminated\n1\n", 18);
    s = open_src(path, "csv", NULL, err, sizeof err);
    if (s) {
        eddy_batch *b = eddy_batch_new(8, 0);
        CHECK(F->poll(s, b, 10, 10, err, sizeof err) == EDDY_EPARSE);
        CHECK_CONTAINS(err, "unterminated quoted cell");
        eddy_batch_destroy(b);
        F->close(s);
    }
    unlink(path);
}

/* Avro: written by the file sink in two blocks; the file is then cut inside
 * the second block, which becomes an error record after the first block's
 * records. */
#if EDDY_HAVE_AVRO
static void test_avro(void)
{
    char path[256], schema[256], err[512] = "", p1[300], p2[300];
    tmp_path(path, sizeof path, "src.avro");
    tmp_path(schema, sizeof schema, "src.avsc");
    const char *avsc = "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                       "{\"name\":\"a\",\"type\":\"long\"},{\"name\":\"s\",\"type\":\"string\"}]}";
    write_file(schema, avsc, strlen(avsc));
    const eddy_sink_ops *sink = eddy_sink_find("file");
    snprintf(p1, sizeof p1, "path=%s", path);
    snprintf(p2, sizeof p2, "schema=%s", schema);
    const char *pairs[] = {p1, "format=avro", p2};
    eddy_opts *o = opts_pairs(sink->options, pairs, 3);
    void *w = NULL;
    CHECK_MSG(o && sink->open(o, "out", NULL, &w, err, sizeof err) == 0, "%s", err);
    eddy_opts_free(o);
    if (!w)
        return;
    eddy_batch *b = eddy_batch_new(8, 0);
    for (int blk = 0; blk < 2; blk++) {
        eddy_batch_reset(b);
        for (int i = 0; i < 3; i++) {
            eddy_record *r = eddy_batch_append(b);
            eddy_record_push(b, r, eddy_sym_intern("a", 1), eddy_v_int(blk * 3 + i));
            eddy_record_push(b, r, eddy_sym_intern("s", 1), eddy_batch_string(b, "text", 4));
        }
        CHECK_MSG(sink->write(w, b, err, sizeof err) == 0, "%s", err); /* flush: one block */
    }
    sink->close(w);
    eddy_batch_destroy(b);

    void *s = open_src(path, "avro", NULL, err, sizeof err);
    CHECK_MSG(s != NULL, "%s", err);
    if (s) {
        eddy_batch *all = eddy_batch_new(8, 0);
        CHECK(drain(F, s, all, 4, err, sizeof err) == EDDY_EEOF);
        CHECK(all->n == 6);
        for (uint32_t i = 0; i < all->n; i++)
            CHECK(field_int(&all->recs[i], "a") == (int64_t)i && all->recs[i].offset == (int64_t)i &&
                  field_is(&all->recs[i], "s", "text"));
        eddy_batch_destroy(all);
        F->close(s);
    }
    size_t len = 0;
    char *data = read_file(path, &len);
    write_file(path, data, len - 20); /* into the second block's records */
    free(data);
    s = open_src(path, "avro", NULL, err, sizeof err);
    CHECK_MSG(s != NULL, "%s", err);
    if (s) {
        eddy_batch *all = eddy_batch_new(8, 0);
        CHECK(drain(F, s, all, 100, err, sizeof err) == EDDY_EEOF);
        CHECK_MSG(all->n == 4, "%u records", all->n);
        if (all->n == 4) {
            CHECK(field_int(&all->recs[2], "a") == 2);
            CHECK(all->recs[3].flags & EDDY_REC_ERROR);
            CHECK_CONTAINS(all->recs[3].err_reason, "record 3: ");
            CHECK_CONTAINS(all->recs[3].err_reason, "reading stops here");
        }
        eddy_batch_destroy(all);
        F->close(s);
    }
    unlink(path);
    unlink(schema);
}

#endif

static void test_follow(void)
{
    char path[256], err[512] = "";
    tmp_path(path, sizeof path, "follow.ndjson");
    write_file(path, "{\"a\":1}\n{\"a\":", 13);
    void *s = open_src(path, "json", "follow=true", err, sizeof err);
    CHECK_MSG(s != NULL, "%s", err);
    if (!s)
        return;
    eddy_batch *b = eddy_batch_new(8, 0);
    CHECK(F->poll(s, b, 10, 10, err, sizeof err) == 1);
    eddy_batch_reset(b);
    /* A partial last line waits for the rest instead of failing. */
    CHECK(F->poll(s, b, 10, 20, err, sizeof err) == 0);
    FILE *f = fopen(path, "ab");
    fputs("2}\n{\"a\":3}\n", f);
    fclose(f);
    eddy_batch_reset(b);
    int rc = F->poll(s, b, 10, 1000, err, sizeof err);
    CHECK(rc == 2);
    if (rc == 2)
        CHECK(field_int(&b->recs[0], "a") == 2 && field_int(&b->recs[1], "a") == 3 &&
              b->recs[1].offset == 3);
    eddy_batch_reset(b);
    CHECK(F->poll(s, b, 10, 0, err, sizeof err) == 0); /* never EOF while following */
    eddy_batch_destroy(b);
    F->close(s);
    unlink(path);
}

/* path "-" reads standard input (here a pipe); a pipe's end is final even
 * with follow. */
static void test_stdin(void)
{
    char err[512] = "";
    int fds[2];
    if (pipe(fds) != 0)
        return;
    const char *text = "a,b\n1,x\n2,y\n";
    CHECK(write(fds[1], text, strlen(text)) == (ssize_t)strlen(text));
    close(fds[1]);
    int saved = dup(0);
    dup2(fds[0], 0);
    close(fds[0]);
    void *s = open_src("-", "csv", "follow=true", err, sizeof err);
    CHECK_MSG(s != NULL, "%s", err);
    if (s) {
        eddy_batch *all = eddy_batch_new(8, 0);
        CHECK(drain(F, s, all, 100, err, sizeof err) == EDDY_EEOF);
        CHECK(all->n == 2 && field_int(&all->recs[1], "a") == 2 && field_is(&all->recs[1], "b", "y"));
        eddy_batch_destroy(all);
        F->close(s);
    }
    dup2(saved, 0);
    close(saved);
}

static void test_errors(void)
{
    char err[512] = "";
    void *s = open_src("/nonexistent-dir/x.ndjson", "json", NULL, err, sizeof err);
    CHECK(s == NULL);
    CHECK_CONTAINS(err, "/nonexistent-dir/x.ndjson");
    CHECK_CONTAINS(err, "No such file");
    s = open_src("/nonexistent-dir/x.avro", "avro", NULL, err, sizeof err);
    CHECK(s == NULL);
    CHECK_CONTAINS(err, "/nonexistent-dir/x.avro");
    s = open_src("/tmp", "json", NULL, err, sizeof err);
    CHECK(s == NULL);
    CHECK_CONTAINS(err, "directory");
    char path[256];
#if EDDY_HAVE_AVRO
    tmp_path(path, sizeof path, "x.avro");
    write_file(path, "not avro", 8);
    s = open_src(path, "avro", NULL, err, sizeof err);
    CHECK(s == NULL);
    CHECK_CONTAINS(err, "Avro object container");
    s = open_src(path, "avro", "follow=true", err, sizeof err);
    CHECK(s == NULL);
    CHECK_CONTAINS(err, "follow is not supported for avro");
    unlink(path);
#else
    s = open_src("x.avro", "avro", NULL, err, sizeof err);
    CHECK(s == NULL);
    CHECK_CONTAINS(err, "not built into this eddy");
#endif
    /* An empty file is simply the end. */
    tmp_path(path, sizeof path, "empty.csv");
    write_file(path, "", 0);
    s = open_src(path, "csv", NULL, err, sizeof err);
    if (s) {
        eddy_batch *b = eddy_batch_new(8, 0);
        CHECK(F->poll(s, b, 10, 10, err, sizeof err) == EDDY_EEOF);
        eddy_batch_destroy(b);
        F->close(s);
    }
    unlink(path);
}

static void test_registry(void)
{
    CHECK(eddy_source_find("file") == F);
    CHECK(eddy_source_find("generator") != NULL);
    CHECK(eddy_source_find("nope") == NULL);
    CHECK(eddy_sink_find("file") != NULL && eddy_sink_find("console") != NULL);
    CHECK(eddy_sink_find(NULL) == NULL);
    int n = 0;
    for (const eddy_source_ops *const *p = eddy_sources_all(); *p; p++, n++) {
        CHECK((*p)->open && (*p)->poll && (*p)->close && (*p)->partitions && (*p)->summary);
        for (const eddy_option *o = (*p)->options; o->name; o++)
            CHECK_MSG(o->description && *o->description, "%s.%s", (*p)->type, o->name);
    }
    CHECK(n == 3); /* file, generator, kafka */
    CHECK(eddy_source_find("kafka") != NULL);
    n = 0;
    for (const eddy_sink_ops *const *p = eddy_sinks_all(); *p; p++, n++) {
        CHECK((*p)->open && (*p)->write && (*p)->flush && (*p)->close && (*p)->summary);
        for (const eddy_option *o = (*p)->options; o->name; o++)
            CHECK_MSG(o->description && *o->description, "%s.%s", (*p)->type, o->name);
    }
    CHECK(n >= 4); /* file, console, kafka, webhook, ... */
#if EDDY_HAVE_LIBCURL
    CHECK(eddy_sink_find("webhook") != NULL);
#else
    CHECK(eddy_sink_find("webhook") == NULL);
    CHECK_CONTAINS(eddy_left_out_reason("sink", "webhook"), "-Dwebhook=disabled");
#endif
    CHECK(eddy_left_out_reason("sink", "file") == NULL);
    CHECK(eddy_sink_find("kafka") != NULL);
}

int main(void)
{
    F = eddy_source_find("file");
    CHECK(F != NULL);
    if (!F)
        return test_report();
    test_registry();
    test_json();
    test_json_long_line();
    test_msgpack();
    test_csv();
#if EDDY_HAVE_AVRO
    test_avro();
#endif
    test_follow();
    test_stdin();
    test_errors();
    return test_report();
}
