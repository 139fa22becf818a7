#include "engine/admin_conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/error.h"

int eddy_admin_conf_from_opts(const eddy_opts *o, const char *listen, eddy_admin_conf *c)
{
    memset(c, 0, sizeof *c);
    c->listen = listen ? listen : eddy_opts_str(o, "listen");
    c->token = eddy_opts_str(o, "token");
    c->tls_cert = eddy_opts_str(o, "tls_cert");
    c->tls_key = eddy_opts_str(o, "tls_key");
    uint32_t n = eddy_opts_count(o, "allowed_hosts");
    const char **hosts = calloc((size_t)n + 1, sizeof *hosts);
    if (!hosts)
        return EDDY_ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        hosts[i] = eddy_opts_item(o, "allowed_hosts", i);
    c->allowed_hosts = hosts;
    return 0;
}

void eddy_admin_conf_release(eddy_admin_conf *c)
{
    free((void *)c->allowed_hosts);
    c->allowed_hosts = NULL;
}

void eddy_admin_conf_validate(eddy_cfg *cfg, const eddy_opts *o, const eddy_cnode *an)
{
    eddy_admin_conf c;
    char err[512];
    const char *field = "listen";
    if (eddy_admin_conf_from_opts(o, NULL, &c) != 0) {
        eddy_cfg_fail(cfg, an, "worker.admin", "out of memory");
        return;
    }
    int rc;
    if (eddy_opts_bool(o, "enabled")) {
        rc = eddy_admin_check(&c, &field, err, sizeof err);
    } else {
        eddy_admin_addr addr;
        rc = eddy_admin_parse_listen(c.listen, &addr, err, sizeof err);
    }
    eddy_admin_conf_release(&c);
    if (rc == 0)
        return;
    /* Point at the option at fault, or at listen when that option is
     * absent (a token missing for an address off loopback). */
    const eddy_cnode *n = an && field ? eddy_cnode_get(an, field) : NULL;
    if (!n && an) {
        n = eddy_cnode_get(an, "listen");
        field = n ? "listen" : field;
    }
    char path[64];
    snprintf(path, sizeof path, "worker.admin.%s", field ? field : "listen");
    eddy_cfg_fail(cfg, n ? n : an, path, "%s", err);
}
