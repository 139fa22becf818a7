/* The plugin ABI's layout, checked at compile time: every field of every
 * boundary struct in include/eddy/operator.h against the frozen 1.0, 1.1, 1.2
 * and 1.3 tables (abi_layout.h), today's sizes against the newest minor, and the
 * engine's boundary sizes (engine/plugin_abi.h) against the same literals.
 * A moved, resized, retyped or inserted field fails the build with a message
 * naming it. abi_fixture_1_0.c checks the 1.0 table against the literal 1.0
 * header. The runtime part only reports, so meson counts the test.
 *
 * The tables are LP64 (x86_64, aarch64); elsewhere the test is skipped (the
 * engine's own portable checks in plugin_abi.h still run). */
#include <stdio.h>

#include "engine/plugin_abi.h"
#include "include/eddy/operator.h"
#include "tests/unit/include/abi_layout.h"

#if __SIZEOF_POINTER__ == 8 && __SIZEOF_LONG__ == 8
#define EDDY_ABI_LP64 1

/* The ABI signature says LP64 too (8-byte pointers), so a plugin that passes
 * the loader's signature check was built with these tables' layout. */
_Static_assert(EDDY_ABI_SIGNATURE / 16u == 8u, "not an LP64 ABI signature");

EDDY_ABI_LAYOUT_1_0(EDDY_ABI_CHECK_FIELD)
EDDY_ABI_LAYOUT_1_1(EDDY_ABI_CHECK_FIELD)
EDDY_ABI_LAYOUT_1_2(EDDY_ABI_CHECK_FIELD)
EDDY_ABI_LAYOUT_1_3(EDDY_ABI_CHECK_FIELD)
/* Today's header is the newest minor: its sizes are 1.3's. */
EDDY_ABI_SIZES_1_3(EDDY_ABI_CHECK_SIZE)
EDDY_ABI_CONSTANTS_1_0(EDDY_ABI_CHECK_CONSTANT)
EDDY_ABI_CONSTANTS_1_1(EDDY_ABI_CHECK_CONSTANT)
EDDY_ABI_CONSTANTS_1_2(EDDY_ABI_CHECK_CONSTANT)
_Static_assert(EDDY_ABI_MAJOR == 1 && EDDY_ABI_MINOR == 3,
               "operator.h is at a new ABI version: add its layout table to abi_layout.h "
               "and check it here");

/* The boundaries the loader and host use are the frozen literals. */
_Static_assert(EDDY_HOST_SIZE_1_0 == 360, "EDDY_HOST_SIZE_1_0 is not the frozen 360 bytes");
_Static_assert(EDDY_HOST_SIZE_1_1 == 384, "EDDY_HOST_SIZE_1_1 is not the frozen 384 bytes");
_Static_assert(EDDY_HOST_SIZE_1_2 == 416, "EDDY_HOST_SIZE_1_2 is not the frozen 416 bytes");
_Static_assert(EDDY_OP_DESCRIPTOR_SIZE_1_3 == 136,
               "EDDY_OP_DESCRIPTOR_SIZE_1_3 is not the frozen 136 bytes");
_Static_assert(EDDY_OP_DESCRIPTOR_SIZE_1_2 == 128,
               "EDDY_OP_DESCRIPTOR_SIZE_1_2 is not the frozen 128 bytes");
_Static_assert(EDDY_OP_DESCRIPTOR_SIZE_1_0 == 96,
               "EDDY_OP_DESCRIPTOR_SIZE_1_0 is not the frozen 96 bytes");
_Static_assert(EDDY_PLUGIN_SIZE_1_0 == 32, "EDDY_PLUGIN_SIZE_1_0 is not the frozen 32 bytes");
_Static_assert(EDDY_ALERT_MIN_SIZE_1_1 == 128,
               "EDDY_ALERT_MIN_SIZE_1_1 is not the frozen 128 bytes");

/* In abi_fixture_1_0.c: rows checked against the literal 1.0 header. */
int eddy_abi_fixture_1_0_rows(void);
#endif

int main(void)
{
#ifdef EDDY_ABI_LP64
    int rows_1_0 = 0 EDDY_ABI_LAYOUT_1_0(EDDY_ABI_COUNT_ROW);
    int rows_1_1 = 0 EDDY_ABI_LAYOUT_1_1(EDDY_ABI_COUNT_ROW);
    int rows_1_2 = 0 EDDY_ABI_LAYOUT_1_2(EDDY_ABI_COUNT_ROW);
    int rows_1_3 = 0 EDDY_ABI_LAYOUT_1_3(EDDY_ABI_COUNT_ROW);
    int fixture = eddy_abi_fixture_1_0_rows();
    printf("abi layout: %d fields of ABI 1.0, %d of ABI 1.1, %d of ABI 1.2 and %d of ABI 1.3 "
           "match include/eddy/operator.h; %d fields match the 1.0 header in "
           "tests/fixtures/abi/eddy-1.0\n",
           rows_1_0, rows_1_1, rows_1_2, rows_1_3, fixture);
    if (fixture != rows_1_0) {
        printf("FAIL: the 1.0 fixture checked %d rows, expected %d\n", fixture, rows_1_0);
        return 1;
    }
    printf("OK\n");
    return 0;
#else
    printf("SKIP: the frozen layout tables are for LP64\n");
    return 77;
#endif
}
