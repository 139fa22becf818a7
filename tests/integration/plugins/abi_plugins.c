/* Plugins that break the ABI on purpose, one per -DCASE_*: the loader must
 * refuse each with a message naming the file and both versions, and must
 * accept the one built against a newer minor. */
#include <eddy/operator.h>
#include <stddef.h>

static void *mk(const eddy_host *h, eddy_ctx *c, const eddy_opts *o, char *e, size_t n)
{
    static int dummy;
    return &dummy;
}
static int proc(void *s, eddy_ctx *c, eddy_batch *b) { return EDDY_FORWARD; }
static void destroy(void *s) {}

static const eddy_option no_options[] = {{NULL, 0, NULL, 0, 0, NULL, 0, NULL}};

static const eddy_op_descriptor op = {
#if defined(CASE_SHORT_DESCRIPTOR)
    .struct_size = 24,
#else
    .struct_size = sizeof(eddy_op_descriptor),
#endif
    .name = OP_NAME,
    .version = "0.0.1",
    .summary = "ABI test plugin",
    .options = no_options,
    .create = mk,
    .process = proc,
    .destroy = destroy,
};
static const eddy_op_descriptor *const ops[] = {&op};

EDDY_EXPORT const eddy_plugin *eddy_plugin_entry(void);
EDDY_EXPORT const eddy_plugin *eddy_plugin_entry(void)
{
    static eddy_plugin p;
    p.magic = EDDY_PLUGIN_MAGIC;
    p.abi_major = EDDY_ABI_MAJOR;
    p.abi_minor = EDDY_ABI_MINOR;
    p.struct_size = sizeof(eddy_plugin);
    p.signature = EDDY_ABI_SIGNATURE;
    p.n_operators = 1;
    p.operators = ops;
#if defined(CASE_BAD_MAGIC)
    p.magic = 0x1122334455667788ULL;
#elif defined(CASE_BAD_MAJOR)
    p.abi_major = EDDY_ABI_MAJOR + 1;
    p.abi_minor = 3;
#elif defined(CASE_SHORT_STRUCT)
    p.struct_size = 16;
#elif defined(CASE_NEWER_MINOR)
    p.abi_minor = EDDY_ABI_MINOR + 1; /* still loads: minors only append */
#endif
    return &p;
}
