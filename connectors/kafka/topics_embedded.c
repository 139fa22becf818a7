/* Declared topics in the embedded broker (`kafka.brokers: embedded`):
 * librdkafka's mock cluster answers no Admin API request, so topics are
 * created in it directly, with partitions and replication only. */
#include "connectors/kafka/topics.h"
#include "engine/core/error.h"

int eddy_topics_apply_mock(const eddy_topics *t, rd_kafka_mock_cluster_t *mock,
                           eddy_buf *report, char *err, size_t errlen)
{
    for (size_t i = 0; t && i < t->n; i++) {
        const eddy_topic *d = &t->v[i];
        rd_kafka_resp_err_t e =
            rd_kafka_mock_topic_create(mock, d->name, d->partitions, d->replication);
        if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            continue;
        if (e) {
            eddy_errf(err, errlen, "topic %s: cannot create it in the embedded cluster: %s", d->name,
                rd_kafka_err2str(e));
            return EDDY_EIO;
        }
        if (eddy_buf_printf(report, "created %s (partitions %d, replication %d)\n", d->name,
                            (int)d->partitions, (int)d->replication) != 0) {
            eddy_errf(err, errlen, "out of memory");
            return EDDY_ENOMEM;
        }
    }
    return 0;
}
