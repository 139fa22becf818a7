/* Backend table behind eddy_store (store.h). Internal to lib/store. */
#ifndef EDDY_STORE_IMPL_H
#define EDDY_STORE_IMPL_H
#include "lib/store/store.h"

typedef struct eddy_store_backend {
    int (*put)(void *b, const eddy_store_row *rows, uint32_t n, char *err, size_t errlen);
    int (*flush)(void *b);
    int64_t (*pending)(void *b);
    bool (*ready)(void *b, char *why, size_t len);
    /* Appends the features object ("{...}") and sets the event time; 0,
     * EDDY_ENOTFOUND or <0. */
    int (*get)(void *b, const char *entity, int64_t *event_ts, eddy_buf *features_json);
    void (*stats)(void *b, eddy_store_stats *out);
    void (*close)(void *b);
} eddy_store_backend;

/* The conf with its strings copied (owned by the store). */
typedef struct eddy_store_owned {
    eddy_store_conf c;
    char **strs;
    uint32_t nstrs;
} eddy_store_owned;

int eddy_store_redis_open(const eddy_store_conf *c, void **out, char *err, size_t errlen);
extern const eddy_store_backend eddy_store_redis_backend;
int eddy_store_lite_open(const eddy_store_conf *c, void **out, char *err, size_t errlen);
extern const eddy_store_backend eddy_store_lite_backend;

/* Value rendering shared by the backends. */
/* JSON form (strings quoted, numbers bare, nan/inf as null). */
int eddy_store_value_json(eddy_buf *out, const eddy_value *v);
/* Renders eddy-layout text back as JSON: numbers and true/false bare,
 * anything else a JSON string. */
int eddy_store_text_json(eddy_buf *out, const char *s, size_t len);

#endif
