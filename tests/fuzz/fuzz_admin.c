/* libFuzzer: the admin HTTP server (engine/obs/admin.c) with the routes
 * `eddy run` serves (engine/worker_routes.c) on a runtime built from
 * configs/drift.yaml (not started). The input is the raw bytes a client
 * sends on one connection: evhttp parses them, and eddy's routing, method
 * checks, query parsing and handlers answer. The connection goes through a
 * Unix socket (eddy_admin_listen_fd), so no TCP port is used per input.
 *
 * Checked: the server always closes the connection once the client has
 * sent everything and shut down its side, and never answers 500 (a
 * handler failed). */
#include <errno.h>
#include <event2/event.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "engine/config/config.h"
#include "engine/graph.h"
#include "engine/obs/admin.h"
#include "engine/obs/log.h"
#include "engine/runtime.h"
#include "engine/worker.h"
#include "tests/fuzz/fuzz.h"

static struct event_base *base;
static struct sockaddr_un addr;
static socklen_t addrlen;

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    eddy_log_setup(EDDY_LOG_ERROR, EDDY_LOGFMT_LOGFMT, 2);
    eddy_cfg *cfg = eddy_cfg_load(EDDY_SOURCE_ROOT "/configs/drift.yaml");
    FUZZ_CHECK(cfg && !eddy_cfg_errors(cfg), "config: %s", cfg ? eddy_cfg_error(cfg, 0) : "oom");
    eddy_runtime *rt = eddy_runtime_build(cfg, false);
    FUZZ_CHECK(rt, "runtime: %s", eddy_cfg_error(cfg, 0));
    base = event_base_new();
    char err[256];
    /* With a token, so that the guard (Host, Origin, bearer token, body
     * type) is fuzzed too; tests/fuzz/admin.dict holds the header. */
    eddy_admin_conf conf = {.listen = "127.0.0.1:0", .token = "fuzz-token-0123456789"};
    eddy_admin *a = eddy_admin_new(base, &conf, NULL, err, sizeof err);
    FUZZ_CHECK(a, "admin: %s", err);
    eddy_worker_admin_routes(a, rt);
    /* An abstract Unix socket: nothing on disk to clean up. */
    addr.sun_family = AF_UNIX;
    int n = snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "eddy-fuzz-admin-%d",
                     (int)getpid());
    addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    FUZZ_CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&addr, addrlen) == 0 && listen(fd, 16) == 0,
               "unix socket: %s", strerror(errno));
    FUZZ_CHECK(eddy_admin_listen_fd(a, fd) == 0, "listen_fd");
    /* The runtime, the config and the server live as long as the process. */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!base)
        setup();
    int c = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    FUZZ_CHECK(c >= 0 && connect(c, (struct sockaddr *)&addr, addrlen) == 0, "connect: %s",
               strerror(errno));
    size_t sent = 0;
    char resp[1 << 16];
    size_t got = 0;
    int closed = 0, shut = 0;
    /* Each turn runs the server's ready callbacks once, then moves the
     * client's bytes; a server that never closes ends the loop. */
    for (int turn = 0; turn < 20000 && !closed; turn++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        if (sent < size) {
            ssize_t w = send(c, data + sent, size - sent, MSG_NOSIGNAL);
            if (w > 0)
                sent += (size_t)w;
            else if (w < 0 && errno != EAGAIN)
                sent = size; /* the server closed first */
        }
        if (sent == size && !shut) {
            shutdown(c, SHUT_WR);
            shut = 1;
        }
        for (;;) {
            char buf[4096];
            ssize_t r = recv(c, buf, sizeof buf, 0);
            if (r > 0) {
                size_t k = (size_t)r < sizeof resp - 1 - got ? (size_t)r : sizeof resp - 1 - got;
                memcpy(resp + got, buf, k);
                got += k;
                continue;
            }
            if (r == 0 || (errno != EAGAIN && errno != EINTR))
                closed = 1;
            break;
        }
        if (!closed && turn > 4)
            poll(NULL, 0, turn > 100 ? 1 : 0);
    }
    close(c);
    resp[got] = '\0';
    FUZZ_CHECK(closed, "the server kept the connection open (%zu bytes sent)", size);
    /* 500 is only ever "handler failed for <path>" (or evhttp out of memory). */
    FUZZ_CHECK(strncmp(resp, "HTTP/1.1 500", 12) != 0 && strncmp(resp, "HTTP/1.0 500", 12) != 0,
               "%s", resp);
    return 0;
}
