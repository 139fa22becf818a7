#include "engine/core/sym.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Names are stored once in append-only blocks; `names` and `lens` are
 * indexed by symbol. Both arrays are allocated at their maximum size up front
 * (virtual memory; pages are touched only as used) so that readers of
 * eddy_sym_name never race with a resize. */
typedef struct {
    pthread_rwlock_t lock;
    const char **names;
    uint32_t *lens;
    uint32_t *slots; /* open addressing: symbol or 0 */
    uint32_t nslots;
    _Atomic uint32_t count; /* symbols 1..count-1 are valid */
    char *block;
    size_t block_left;
} symtab;

static symtab g_tab = {.lock = PTHREAD_RWLOCK_INITIALIZER};
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void tab_init(void)
{
    g_tab.names = calloc(EDDY_SYM_MAX, sizeof *g_tab.names);
    g_tab.lens = calloc(EDDY_SYM_MAX, sizeof *g_tab.lens);
    g_tab.nslots = 1024;
    g_tab.slots = calloc(g_tab.nslots, sizeof *g_tab.slots);
    g_tab.names[0] = "";
    atomic_store(&g_tab.count, 1);
}

static uint32_t hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a: names are short */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static uint32_t find(const char *s, size_t len, uint32_t h)
{
    uint32_t mask = g_tab.nslots - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        uint32_t sym = g_tab.slots[i];
        if (!sym)
            return 0;
        if (g_tab.lens[sym] == len && memcmp(g_tab.names[sym], s, len) == 0)
            return sym;
    }
}

eddy_sym eddy_sym_lookup(const char *name, size_t len)
{
    pthread_once(&g_once, tab_init);
    if (!len || !g_tab.names)
        return 0;
    pthread_rwlock_rdlock(&g_tab.lock);
    uint32_t s = find(name, len, hash(name, len));
    pthread_rwlock_unlock(&g_tab.lock);
    return s;
}

static int grow(void)
{
    uint32_t n = g_tab.nslots * 2;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    uint32_t count = atomic_load(&g_tab.count);
    for (uint32_t sym = 1; sym < count; sym++) {
        uint32_t i = hash(g_tab.names[sym], g_tab.lens[sym]) & (n - 1);
        while (slots[i])
            i = (i + 1) & (n - 1);
        slots[i] = sym;
    }
    free(g_tab.slots);
    g_tab.slots = slots;
    g_tab.nslots = n;
    return 0;
}

eddy_sym eddy_sym_intern(const char *name, size_t len)
{
    eddy_sym s = eddy_sym_lookup(name, len);
    if (s || !len || !g_tab.names || len > 0xffffu)
        return s;
    uint32_t h = hash(name, len);
    pthread_rwlock_wrlock(&g_tab.lock);
    s = find(name, len, h);
    uint32_t count = atomic_load(&g_tab.count);
    if (!s && count < EDDY_SYM_MAX) {
        if ((count + 1) * 2 > g_tab.nslots && grow() != 0)
            goto out;
        if (g_tab.block_left < len + 1) {
            size_t bs = len + 1 > 65536 ? len + 1 : 65536;
            g_tab.block = malloc(bs);
            if (!g_tab.block) {
                g_tab.block_left = 0;
                goto out;
            }
            g_tab.block_left = bs;
        }
        char *p = g_tab.block;
        memcpy(p, name, len);
        p[len] = '\0';
        g_tab.block += len + 1;
        g_tab.block_left -= len + 1;
        s = count;
        g_tab.names[s] = p;
        g_tab.lens[s] = (uint32_t)len;
        uint32_t i = h & (g_tab.nslots - 1);
        while (g_tab.slots[i])
            i = (i + 1) & (g_tab.nslots - 1);
        g_tab.slots[i] = s;
        atomic_store(&g_tab.count, count + 1);
    }
out:
    pthread_rwlock_unlock(&g_tab.lock);
    return s;
}

const char *eddy_sym_name(eddy_sym s)
{
    pthread_once(&g_once, tab_init);
    if (!g_tab.names || s >= atomic_load(&g_tab.count))
        return "";
    return g_tab.names[s];
}

size_t eddy_sym_len(eddy_sym s)
{
    if (!g_tab.lens || s >= atomic_load(&g_tab.count))
        return 0;
    return g_tab.lens[s];
}

uint32_t eddy_sym_count(void)
{
    pthread_once(&g_once, tab_init);
    return atomic_load(&g_tab.count) - 1;
}
