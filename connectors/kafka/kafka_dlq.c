/* The Kafka dead-letter envelope. The value is the original payload,
 * byte for byte, so a fixed consumer can replay it; everything eddy knows
 * about the failure travels in headers, where it cannot corrupt the value:
 *
 *   eddy.error.reason      why (UTF-8 text)
 *   eddy.error.step        "decode", "timestamp" or the step that rejected it
 *   eddy.error.offset      byte offset in the payload where decoding failed
 *   eddy.source.topic      where the record came from
 *   eddy.source.partition
 *   eddy.source.offset
 *
 * followed by the record's own headers (those of the input message). */
#include <stdio.h>
#include <string.h>

#include "connectors/kafka/kafka_int.h"

static int add(rd_kafka_headers_t *h, const char *name, const char *val)
{
    return rd_kafka_header_add(h, name, -1, val, (ssize_t)strlen(val)) ? -1 : 0;
}

rd_kafka_headers_t *eddy_kafka_dlq_headers(const eddy_record *r)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(8 + r->nheaders);
    if (!h)
        return NULL;
    char part[16], off[32], eoff[32];
    snprintf(part, sizeof part, "%d", (int)r->partition);
    snprintf(off, sizeof off, "%lld", (long long)r->offset);
    snprintf(eoff, sizeof eoff, "%llu", (unsigned long long)r->err_offset);
    int rc = add(h, "eddy.error.reason", r->err_reason ? r->err_reason : "unknown error");
    rc |= add(h, "eddy.error.step", r->err_step ? r->err_step : "");
    rc |= add(h, "eddy.error.offset", eoff);
    rc |= add(h, "eddy.source.topic", r->topic ? r->topic : "");
    rc |= add(h, "eddy.source.partition", part);
    rc |= add(h, "eddy.source.offset", off);
    for (uint32_t i = 0; i < r->nheaders && rc == 0; i++)
        rc |= rd_kafka_header_add(h, r->headers[i].name, -1, r->headers[i].val,
                                  (ssize_t)r->headers[i].len)
                  ? -1
                  : 0;
    if (rc) {
        rd_kafka_headers_destroy(h);
        return NULL;
    }
    return h;
}
