/* Loads a reference stream (one number per line) for the drift tests. */
#ifndef EDDY_TEST_DRIFT_STREAM_H
#define EDDY_TEST_DRIFT_STREAM_H
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Answers the number of values read into out (at most cap), or -1 after
 * saying on stderr what went wrong, so a missing dataset fails loudly. */
static long drift_load_stream(const char *dir, const char *file, double *out, long cap)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open reference stream %s: %s (the drift datasets live in "
                        "shared/datasets/drift next to the repository)\n",
                path, strerror(errno));
        return -1;
    }
    long n = 0;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char *end;
        if (line[0] == '\n' || line[0] == '\0')
            continue;
        double v = strtod(line, &end);
        if (end == line || n >= cap) {
            fprintf(stderr, "%s:%ld: %s\n", path, n + 1,
                    n >= cap ? "too many values" : "not a number");
            fclose(f);
            return -1;
        }
        out[n++] = v;
    }
    fclose(f);
    return n;
}
#endif
