/* Reads generated reference data from tests/fixtures/ into arrays a test
 * declares with their sizes: a file of blocks "NAME COUNT" followed by COUNT
 * numbers (nan, inf, -inf allowed; '#' lines are comments). A missing name,
 * a count that differs from the array's size or an unreadable number stops
 * the test with the file and the name, so a stale fixture cannot pass.
 * EDDY_SOURCE_ROOT (a compile definition from meson) locates the files. */
#ifndef EDDY_TEST_FIXTURES_H
#define EDDY_TEST_FIXTURES_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fx_array {
    const char *name;
    double *a;
    size_t n;
    int seen;
} fx_array;

#define FX_ARRAY(arr) {#arr, arr, sizeof(arr) / sizeof((arr)[0]), 0}

static void fx_die(const char *path, const char *what, const char *name)
{
    fprintf(stderr, "fixture %s: %s%s%s\n", path, what, name ? ": " : "", name ? name : "");
    exit(1);
}

/* rel: a path under tests/fixtures/. */
static void fx_load(const char *rel, fx_array *t, size_t nt)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/%s", EDDY_SOURCE_ROOT, rel);
    FILE *f = fopen(path, "r");
    if (!f)
        fx_die(path, "cannot open", NULL);
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char name[128];
        size_t n;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (sscanf(line, "%127s %zu", name, &n) != 2)
            fx_die(path, "expected 'NAME COUNT'", line);
        fx_array *a = NULL;
        for (size_t i = 0; i < nt; i++)
            if (strcmp(t[i].name, name) == 0)
                a = &t[i];
        if (!a)
            fx_die(path, "an array this test does not declare", name);
        if (a->n != n)
            fx_die(path, "count differs from the test's array size", name);
        for (size_t i = 0; i < n; i++) {
            char tok[64];
            if (fscanf(f, "%63s", tok) != 1)
                fx_die(path, "too few numbers", name);
            char *end;
            a->a[i] = strtod(tok, &end);
            if (*end)
                fx_die(path, "not a number", tok);
        }
        a->seen = 1;
    }
    fclose(f);
    for (size_t i = 0; i < nt; i++)
        if (!t[i].seen)
            fx_die(path, "missing array", t[i].name);
}
#endif
