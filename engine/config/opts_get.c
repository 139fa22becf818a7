/* eddy_opts lifetime and accessors. Lookups are linear over the table:
 * operators read their options once, in create(), never per record. */
#include <stdlib.h>
#include <string.h>

#include "engine/config/opts_int.h"

eddy_opts *eddy_opts_new(const eddy_option *table)
{
    eddy_opts *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->table = table;
    while (table && table[o->n].name)
        o->n++;
    o->v = calloc(o->n ? o->n : 1, sizeof *o->v);
    if (!o->v) {
        free(o);
        return NULL;
    }
    eddy_arena_init(&o->arena, 4096, 0);
    return o;
}

void eddy_opts_free(eddy_opts *o)
{
    if (!o)
        return;
    eddy_arena_free(&o->arena);
    free(o->v);
    free(o);
}

long eddy_opts_row(const eddy_opts *o, const char *name)
{
    if (!o || !name)
        return -1;
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->table[i].name, name) == 0)
            return (long)i;
    return -1;
}

static const eddy_opt_value *value(const eddy_opts *o, const char *name)
{
    long r = eddy_opts_row(o, name);
    return r >= 0 && o->v[r].set ? &o->v[r] : NULL;
}

bool eddy_opts_has(const eddy_opts *o, const char *name) { return value(o, name) != NULL; }

int eddy_opts_bool(const eddy_opts *o, const char *name)
{
    const eddy_opt_value *v = value(o, name);
    return v ? (int)(v->i != 0) : 0;
}

int64_t eddy_opts_int(const eddy_opts *o, const char *name)
{
    const eddy_opt_value *v = value(o, name);
    return v ? v->i : 0;
}

double eddy_opts_double(const eddy_opts *o, const char *name)
{
    const eddy_opt_value *v = value(o, name);
    return v ? v->d : 0.0;
}

const char *eddy_opts_str(const eddy_opts *o, const char *name)
{
    const eddy_opt_value *v = value(o, name);
    return v ? v->s : NULL;
}

uint32_t eddy_opts_count(const eddy_opts *o, const char *name)
{
    const eddy_opt_value *v = value(o, name);
    return v ? v->count : 0;
}

const char *eddy_opts_item(const eddy_opts *o, const char *name, uint32_t i)
{
    const eddy_opt_value *v = value(o, name);
    return v && v->items && i < v->count ? v->items[i] : NULL;
}

const char *eddy_opts_key(const eddy_opts *o, const char *name, uint32_t i)
{
    const eddy_opt_value *v = value(o, name);
    return v && v->keys && i < v->count ? v->keys[i] : NULL;
}

bool eddy_opts_given(const eddy_opts *o, const char *name)
{
    long r = eddy_opts_row(o, name);
    return r >= 0 && o->v[r].given;
}

const char *eddy_opts_where(const eddy_opts *o, const char *name)
{
    long r = eddy_opts_row(o, name);
    if (r < 0)
        return NULL;
    return o->v[r].set ? o->v[r].where : "";
}
