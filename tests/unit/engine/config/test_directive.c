/* A directive line ('%' first) with a byte outside printable ASCII made
 * libfyaml 0.8 loop forever (found by tests/fuzz/fuzz_config.c): the loader
 * now refuses it with the line, and a plain directive still loads. An alarm
 * turns a hang back into a failure. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "engine/config/config.h"
#include "tests/unit/test.h"

static void on_alarm(int sig)
{
    (void)sig;
    static const char m[] = "test_directive: the loader hangs on a directive line\n";
    (void)!write(2, m, sizeof m - 1);
    _exit(1);
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    alarm(20);
    static const char bad[] = "a: 1\n%x\x98\nb: 2\n";
    eddy_cfg *cfg = eddy_cfg_load_string("bad.yaml", bad, sizeof bad - 1);
    CHECK(cfg != NULL);
    if (cfg) {
        CHECK(eddy_cfg_errors(cfg) == 1);
        const char *e = eddy_cfg_errors(cfg) ? eddy_cfg_error(cfg, 0) : "";
        CHECK_MSG(strstr(e, "bad.yaml:2:3") && strstr(e, "0x98"), "%s", e);
        eddy_cfg_free(cfg);
    }
    /* The same after a lone \r (a YAML line break; the fuzzer's second
     * hang: "%#: tng\r%\xd0 3"), after \r\n and after a NEL. */
    static const char *const more[] = {"%#: tng\r%\xd0 3", "a: 1\r\n%x\xd0\r\n",
                                       "a: 1\xc2\x85%x\xd0\n"};
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
        cfg = eddy_cfg_load_string("cr.yaml", more[i], strlen(more[i]));
        CHECK(cfg != NULL);
        if (cfg) {
            const char *e = eddy_cfg_errors(cfg) ? eddy_cfg_error(cfg, 0) : "";
            CHECK_MSG(strstr(e, "cr.yaml:2:") && strstr(e, "0xd0"), "case %zu: %s", i, e);
            eddy_cfg_free(cfg);
        }
    }
    /* Control characters, which YAML does not allow, are refused before
     * libfyaml: "? w:\t\0" crashed it (the config fuzzer). */
    static const char nul[] = "? w:\t\0";
    cfg = eddy_cfg_load_string("nul.yaml", nul, sizeof nul - 1);
    CHECK(cfg != NULL);
    if (cfg) {
        const char *e = eddy_cfg_errors(cfg) ? eddy_cfg_error(cfg, 0) : "";
        CHECK_MSG(strstr(e, "nul.yaml:1:6: control character 0x00"), "%s", e);
        eddy_cfg_free(cfg);
    }
    /* LS and PS do not end a directive line for libfyaml: "%: " then LS
     * then more bytes hung it (the fuzzer's third and fourth hangs); the
     * line's first non-ASCII byte is named (LS: 0xe2 at column 4). */
    /* And a byte order mark before the '%' (libfyaml skips it, then hung
     * on the directive). */
    static const char *const ls[] = {"a: 1\n%: \xe2\x80\xa8K y 60\nb: 2\n",
                                     "a: 1\n%ourc: [\xe2\x80\xa9\xe2\x80\xa8x\n",
                                     "\xef\xbb\xbf%x\xe2\n"};
    static const char *const ls_col[] = {"ls.yaml:2:4:", "ls.yaml:2:9:", "ls.yaml:1:6:"};
    for (size_t i = 0; i < sizeof ls / sizeof ls[0]; i++) {
        cfg = eddy_cfg_load_string("ls.yaml", ls[i], strlen(ls[i]));
        CHECK(cfg != NULL);
        if (cfg) {
            const char *e = eddy_cfg_errors(cfg) ? eddy_cfg_error(cfg, 0) : "";
            CHECK_MSG(strstr(e, ls_col[i]) && strstr(e, "0xe2"), "LS/PS case %zu: %s", i, e);
            eddy_cfg_free(cfg);
        }
    }
    static const char ok[] = "%YAML 1.2\n---\na: 1\n";
    cfg = eddy_cfg_load_string("ok.yaml", ok, sizeof ok - 1);
    CHECK(cfg && eddy_cfg_errors(cfg) == 0 && eddy_cfg_root(cfg));
    eddy_cfg_free(cfg);
    return test_report();
}
