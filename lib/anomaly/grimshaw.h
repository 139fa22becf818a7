/* Private to SPOT: Grimshaw's fit with a warm start. Consecutive fits of a
 * streaming detector see peak sets that differ by one or two values, so
 * their roots barely move; the previous fit's roots, with the slopes of w
 * there, start the refinement of each new bracket a few iterations from
 * the answer. Hints only choose where the iteration starts: the brackets
 * still come from the full grid, so a garbage hint costs iterations, never
 * a different root. Where in the rounding noise of w (~1e-14 relative)
 * the iteration stops does depend on its start, though, so the hints are
 * part of a detector's state: a restored detector continues bit for bit. */
#ifndef EDDY_ANOMALY_GRIMSHAW_H
#define EDDY_ANOMALY_GRIMSHAW_H
#include <stddef.h>
#include <stdint.h>

#define GRIM_HINTS 8

typedef struct {
    uint32_t n, pad_;
    double x[GRIM_HINTS], slope[GRIM_HINTS];
} grim_hints;
/* Snapshot field widths (lib/buf/bytes.h): n, pad_, then 2 * GRIM_HINTS doubles. */
#define GRIM_HINTS_SHAPE "44" "88888888" "88888888"
_Static_assert(GRIM_HINTS == 8, "GRIM_HINTS_SHAPE spells out 2 * 8 doubles");

/* eddy_spot_grimshaw, reading and then replacing the roots in h (NULL: a
 * cold fit). */
int eddy_spot_grimshaw_warm(const double *y, size_t n, uint32_t n_points, double *gamma,
                            double *sigma, grim_hints *h);

#endif
