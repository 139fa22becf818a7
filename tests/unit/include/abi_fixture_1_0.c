/* The frozen ABI 1.0 table (abi_layout.h) against the literal 1.0 header,
 * tests/fixtures/abi/eddy-1.0/eddy/operator.h (recovered from git: the
 * header as of commit ca7e19b, the last 1.0). It proves the table's numbers
 * are what 1.0 plugins were built with, not a copy of today's header.
 * Linked into test_abi_layout; built with that fixture directory first on
 * the include path. */
#include <eddy/operator.h>

#include "tests/unit/include/abi_layout.h"

#if EDDY_ABI_MAJOR != 1 || EDDY_ABI_MINOR != 0
#error "abi_fixture_1_0.c must be built against tests/fixtures/abi/eddy-1.0 (ABI 1.0)"
#endif

int eddy_abi_fixture_1_0_rows(void);

#if __SIZEOF_POINTER__ == 8 && __SIZEOF_LONG__ == 8
EDDY_ABI_LAYOUT_1_0(EDDY_ABI_CHECK_FIELD)
EDDY_ABI_SIZES_1_0(EDDY_ABI_CHECK_SIZE)
EDDY_ABI_CONSTANTS_1_0(EDDY_ABI_CHECK_CONSTANT)

int eddy_abi_fixture_1_0_rows(void)
{
    return 0 EDDY_ABI_LAYOUT_1_0(EDDY_ABI_COUNT_ROW);
}
#else
int eddy_abi_fixture_1_0_rows(void) { return 0; }
#endif
