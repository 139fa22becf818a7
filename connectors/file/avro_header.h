/* Checks an Avro object container file's header before avro-c reads it
 * (avro_header.c says why). Internal to connectors/file. */
#ifndef EDDY_CONN_AVRO_HEADER_H
#define EDDY_CONN_AVRO_HEADER_H
#include <stddef.h>

/* 0, or EDDY_EIO / EDDY_EPARSE with "name: reason" in err. */
int eddy_avro_header_check(const char *path, const char *name, char *err, size_t errlen);

#endif
