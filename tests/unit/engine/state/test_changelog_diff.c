/* eddy_cl_opts_diff with option names longer than 63 bytes: the option
 * texts come from the changelog (a meta record), and a long name once
 * overran a 64-byte copy on the stack (found by tests/fuzz/fuzz_state.c;
 * AddressSanitizer reports it). The sentence names the whole option. */
#include <string.h>

#include "engine/state/changelog.h"
#include "tests/unit/test.h"

int main(void)
{
    char name[101];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    char old_text[256], new_text[256], out[512];
    snprintf(old_text, sizeof old_text, "size=5m\n%s=1\n", name);
    snprintf(new_text, sizeof new_text, "size=5m\n%s=2\n", name);
    eddy_cl_opts_diff(old_text, strlen(old_text), new_text, strlen(new_text), out, sizeof out);
    char want[256];
    snprintf(want, sizeof want, "%s=1, the config says %s=2", name, name);
    CHECK_MSG(strcmp(out, want) == 0, "%s", out);
    /* An option only the new text has, with a long name. */
    snprintf(new_text, sizeof new_text, "size=5m\n%s=1\n%sx=3\n", name, name);
    eddy_cl_opts_diff(old_text, strlen(old_text), new_text, strlen(new_text), out, sizeof out);
    snprintf(want, sizeof want, "no %sx, the config says %sx=3", name, name);
    CHECK_MSG(strcmp(out, want) == 0, "%s", out);
    return test_report();
}
