#include "engine/plugin.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/registry.h"

#define MAX_OPS 256
#define MAX_HANDLES 64

static eddy_opdef g_ops[MAX_OPS];
static size_t g_nops;
static void *g_handles[MAX_HANDLES];
static size_t g_nhandles;
static int g_init;

static int check_descriptor(const char *path, const eddy_op_descriptor *d, size_t i, char *err,
                            size_t errlen)
{
    if (!d) {
        snprintf(err, errlen, "plugin %s: operator #%zu is NULL", path, i);
        return -1;
    }
    /* The frozen 1.0 boundary (engine/plugin_abi.h): every minor since has
     * the whole 1.0 descriptor; later fields are zero-filled by add_op. */
    if (d->struct_size < EDDY_OP_DESCRIPTOR_SIZE_1_0) {
        snprintf(err, errlen,
                 "plugin %s: operator #%zu descriptor is %u bytes, ABI %d.%d needs at least %zu; "
                 "rebuild it against eddy/operator.h",
                 path, i, d->struct_size, EDDY_ABI_MAJOR, EDDY_ABI_MINOR,
                 (size_t)EDDY_OP_DESCRIPTOR_SIZE_1_0);
        return -1;
    }
    if (!d->name || !d->name[0] || !d->create || !d->process || !d->destroy) {
        snprintf(err, errlen,
                 "plugin %s: operator #%zu (%s) lacks a name, create, process or destroy", path, i,
                 d->name ? d->name : "unnamed");
        return -1;
    }
    for (const char *c = d->name; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) {
            snprintf(err, errlen,
                     "plugin %s: operator name '%s' must use only a-z, 0-9 and '_' (it is a YAML key)",
                     path, d->name);
            return -1;
        }
    }
    return 0;
}

int eddy_plugin_check(const char *path, const eddy_plugin *p, char *err, size_t errlen)
{
    if (!p) {
        snprintf(err, errlen, "plugin %s: %s() returned NULL", path, EDDY_PLUGIN_ENTRY_SYMBOL);
        return -1;
    }
    /* The magic is read first and alone: until it matches nothing else in the
     * struct can be trusted, not even its size. */
    if (p->magic != EDDY_PLUGIN_MAGIC) {
        snprintf(err, errlen,
                 "plugin %s: not an eddy operator plugin (magic 0x%016" PRIx64
                 ", expected 0x%016llx)",
                 path, p->magic, (unsigned long long)EDDY_PLUGIN_MAGIC);
        return -1;
    }
    if (p->abi_major != EDDY_ABI_MAJOR) {
        snprintf(err, errlen,
                 "plugin %s: built for operator ABI %u.%u, this eddy speaks ABI %d.%d; "
                 "rebuild the plugin against this eddy's eddy/operator.h",
                 path, p->abi_major, p->abi_minor, EDDY_ABI_MAJOR, EDDY_ABI_MINOR);
        return -1;
    }
    /* The frozen 1.0 boundary: fields up to `operators`. */
    if (p->struct_size < EDDY_PLUGIN_SIZE_1_0) {
        snprintf(err, errlen,
                 "plugin %s: eddy_plugin struct is %u bytes, ABI %d.%d needs at least %zu "
                 "(plugin says ABI %u.%u)",
                 path, p->struct_size, EDDY_ABI_MAJOR, EDDY_ABI_MINOR,
                 (size_t)EDDY_PLUGIN_SIZE_1_0, p->abi_major, p->abi_minor);
        return -1;
    }
    if (p->signature != EDDY_ABI_SIGNATURE) {
        snprintf(err, errlen,
                 "plugin %s: binary signature 0x%x does not match this eddy's 0x%x "
                 "(pointer size or byte order differ)",
                 path, p->signature, EDDY_ABI_SIGNATURE);
        return -1;
    }
    if (p->n_operators == 0 || !p->operators) {
        snprintf(err, errlen, "plugin %s: declares no operators", path);
        return -1;
    }
    for (uint32_t i = 0; i < p->n_operators; i++)
        if (check_descriptor(path, p->operators[i], i, err, errlen) != 0)
            return -1;
    return 0;
}

static int add_op(const eddy_op_descriptor *d, const char *origin, unsigned major, unsigned minor,
                  char *err, size_t errlen)
{
    const eddy_opdef *prev = eddy_ops_find(d->name);
    if (prev) {
        snprintf(err, errlen, "operator '%s' from %s is already provided by %s", d->name, origin,
                 prev->origin);
        return -1;
    }
    if (g_nops == MAX_OPS) {
        snprintf(err, errlen, "too many operators (at most %d)", MAX_OPS);
        return -1;
    }
    eddy_opdef *o = &g_ops[g_nops];
    memset(o, 0, sizeof *o);
    /* Copy only what the plugin's minor knew; later fields stay NULL. */
    size_t n = d->struct_size < sizeof o->d ? d->struct_size : sizeof o->d;
    memcpy(&o->d, d, n);
    o->d.struct_size = (uint32_t)sizeof o->d;
    o->origin = origin;
    o->abi_major = major;
    o->abi_minor = minor;
    o->declares_requests = d->struct_size >= EDDY_OP_DESCRIPTOR_SIZE_1_3;
    g_nops++;
    return 0;
}

void eddy_ops_init(void)
{
    if (g_init)
        return;
    g_init = 1;
    char err[256];
    const eddy_op_descriptor *const *builtin = eddy_builtin_operators();
    for (size_t i = 0; builtin[i]; i++) {
        const eddy_op_descriptor *d = builtin[i];
        if (check_descriptor("built-in", d, i, err, sizeof err) != 0 ||
            add_op(d, "built-in", EDDY_ABI_MAJOR, EDDY_ABI_MINOR, err, sizeof err) != 0) {
            /* A broken built-in is a build defect: say so loudly. */
            fprintf(stderr, "eddy: %s\n", err);
            abort();
        }
    }
}

int eddy_ops_load_file(const char *path, char *err, size_t errlen)
{
    eddy_ops_init();
    if (g_nhandles == MAX_HANDLES) {
        snprintf(err, errlen, "plugin %s: too many plugins (at most %d)", path, MAX_HANDLES);
        return -1;
    }
    /* RTLD_LOCAL: plugins must not see each other's symbols; RTLD_NOW: an
     * unresolved symbol fails here, not in the middle of a batch. */
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, errlen, "plugin %s: cannot load: %s", path, dlerror());
        return -1;
    }
    eddy_plugin_entry_fn entry;
    *(void **)&entry = dlsym(h, EDDY_PLUGIN_ENTRY_SYMBOL);
    if (!entry) {
        snprintf(err, errlen, "plugin %s: no %s() symbol; define the plugin with EDDY_PLUGIN_DEFINE",
                 path, EDDY_PLUGIN_ENTRY_SYMBOL);
        dlclose(h);
        return -1;
    }
    const eddy_plugin *p = entry();
    if (eddy_plugin_check(path, p, err, errlen) != 0) {
        dlclose(h);
        return -1;
    }
    char *origin = strdup(path);
    if (!origin) {
        snprintf(err, errlen, "plugin %s: out of memory", path);
        dlclose(h);
        return -1;
    }
    size_t first = g_nops;
    for (uint32_t i = 0; i < p->n_operators; i++) {
        if (add_op(p->operators[i], origin, p->abi_major, p->abi_minor, err, errlen) != 0) {
            g_nops = first; /* all or nothing */
            free(origin);
            dlclose(h);
            return -1;
        }
    }
    g_handles[g_nhandles++] = h;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int eddy_ops_load_dir(const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "plugin directory %s: %s", dir, strerror(errno));
        return -1;
    }
    char *names[MAX_HANDLES];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_HANDLES) {
        size_t len = strlen(e->d_name);
        if (len > 3 && strcmp(e->d_name + len - 3, ".so") == 0 && (names[n] = strdup(e->d_name)))
            n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (rc == 0)
            rc = eddy_ops_load_file(path, err, errlen);
        free(names[i]);
    }
    return rc;
}

int eddy_ops_load_default_dir(char *err, size_t errlen)
{
#ifdef EDDY_PLUGINDIR
    /* The kit's pkg-config file names this directory (plugindir): plugins
     * copied there load without worker.plugin_dirs. Absent: nothing. */
    static int done;
    struct stat st;
    if (done || stat(EDDY_PLUGINDIR, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    done = 1;
    return eddy_ops_load_dir(EDDY_PLUGINDIR, err, errlen);
#else
    (void)err, (void)errlen;
    return 0;
#endif
}

const eddy_opdef *eddy_ops_find(const char *name)
{
    eddy_ops_init();
    for (size_t i = 0; i < g_nops; i++)
        if (strcmp(g_ops[i].d.name, name) == 0)
            return &g_ops[i];
    return NULL;
}

size_t eddy_ops_count(void)
{
    eddy_ops_init();
    return g_nops;
}

const eddy_opdef *eddy_ops_at(size_t i)
{
    eddy_ops_init();
    return i < g_nops ? &g_ops[i] : NULL;
}

void eddy_ops_unload_all(void)
{
    for (size_t i = 0; i < g_nops; i++)
        if (strcmp(g_ops[i].origin, "built-in") != 0) {
            /* origins are shared by all operators of one plugin */
            const char *o = g_ops[i].origin;
            for (size_t j = i; j < g_nops; j++)
                if (g_ops[j].origin == o)
                    g_ops[j].origin = "built-in";
            free((void *)o);
        }
    for (size_t i = 0; i < g_nhandles; i++)
        dlclose(g_handles[i]);
    g_nhandles = 0;
    g_nops = 0;
    g_init = 0;
}
