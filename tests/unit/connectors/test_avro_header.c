/* An Avro object container file whose header claims a metadata string of
 * 13 GB: avro-c allocated it before noticing the file was 40 bytes (found
 * by tests/fuzz/fuzz_avro_file.c). The file source now refuses such a
 * header itself; a good file still opens (test_file_source.c reads them). */
#include "connectors/file/avro_header.h"
#include "tests/unit/connectors/conn_util.h"

int main(void)
{
    char path[512], err[512] = "";
    tmp_path(path, sizeof path, "hdr.avro");
    /* map of 1 pair: key "avro.schema" with a value length of 13e9. */
    static const unsigned char bad[] = {'O', 'b', 'j', 1, 0x02, 0x16, 'a', 'v', 'r', 'o', '.',
                                        's', 'c', 'h', 'e', 'm', 'a', 0x80, 0x88, 0xe2,
                                        0xed, 0x60, '{', '}'};
    write_file(path, bad, sizeof bad);
    CHECK(eddy_avro_header_check(path, "hdr.avro", err, sizeof err) == EDDY_EPARSE);
    CHECK_MSG(strstr(err, "hdr.avro: damaged Avro object container file header"), "%s", err);
    const eddy_source_ops *F = eddy_source_find("file");
    char p1[600];
    snprintf(p1, sizeof p1, "path=%s", path);
    const char *pairs[] = {p1, "format=avro"};
    eddy_opts *o = eddy_opts_from_pairs(F->options, pairs, 2, err, sizeof err);
    void *s = NULL;
    err[0] = '\0';
    CHECK(o && F->open(o, "in", NULL, &s, err, sizeof err) == EDDY_EPARSE);
    CHECK_MSG(strstr(err, "metadata length points past the end"), "%s", err);
    eddy_opts_free(o);
    /* A metadata count near INT64_MAX / 2 (once a signed overflow). */
    static const unsigned char huge[] = {'O', 'b', 'j', 1, 0x8c, 0x8b, 0x8b, 0x8b, 0x8b,
                                         0x8b, 0x8b, 0x8b, 0x8b, 0x01, 0, 0, 0, 0};
    write_file(path, huge, sizeof huge);
    CHECK(eddy_avro_header_check(path, "hdr.avro", err, sizeof err) == EDDY_EPARSE);
    CHECK_MSG(strstr(err, "count is larger than the file"), "%s", err);
    /* A header cut inside its metadata. */
    write_file(path, bad, 8);
    CHECK(eddy_avro_header_check(path, "hdr.avro", err, sizeof err) == EDDY_EPARSE);
    /* A good header whose first block claims 15.7 GB: avro-c's open
     * allocated it (found by the fuzz smoke run). Header: map of 1 pair
     * "avro.codec" -> "null", end of map, sync; then count 1, size 2^34. */
    static const unsigned char block[] = {'O', 'b', 'j', 1, 0x02, 0x14, 'a', 'v', 'r', 'o',
                                          '.', 'c', 'o', 'd', 'e', 'c', 0x08, 'n', 'u', 'l',
                                          'l', 0x00, '0', '1', '2', '3', '4', '5', '6', '7',
                                          '8', '9', 'a', 'b', 'c', 'd', 'e', 'f', 0x02, 0x80,
                                          0x80, 0x80, 0x80, 0x80, 0x01, 'x'};
    write_file(path, block, sizeof block);
    err[0] = '\0';
    CHECK(eddy_avro_header_check(path, "hdr.avro", err, sizeof err) == EDDY_EPARSE);
    CHECK_MSG(strstr(err, "its first block claims more bytes than the file holds"), "%s", err);
    /* The same block with the size it has is fine. */
    static const unsigned char ok[] = {'O', 'b', 'j', 1, 0x02, 0x14, 'a', 'v', 'r', 'o', '.',
                                       'c', 'o', 'd', 'e', 'c', 0x08, 'n', 'u', 'l', 'l', 0x00,
                                       '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a',
                                       'b', 'c', 'd', 'e', 'f', 0x02, 0x02, 'x'};
    write_file(path, ok, sizeof ok);
    CHECK_MSG(eddy_avro_header_check(path, "hdr.avro", err, sizeof err) == 0, "%s", err);
    /* Not an Avro file at all. */
    write_file(path, "Obj\x02", 4);
    CHECK(eddy_avro_header_check(path, "x", err, sizeof err) == EDDY_EPARSE &&
          strstr(err, "not an Avro object container file"));
    unlink(path);
    return test_report();
}
