/* The admin server's settings from `worker.admin` (engine/config/sections.c),
 * read the same way by config validation (graph.c) and by the worker, so
 * `eddy validate` refuses what `eddy run` would. */
#ifndef EDDY_ADMIN_CONF_H
#define EDDY_ADMIN_CONF_H

#include "engine/config/config.h"
#include "engine/config/options.h"
#include "engine/obs/admin.h"

/* Fills c from the parsed options; listen overrides worker.admin.listen
 * when not NULL. Strings point into o; c->allowed_hosts is allocated
 * (free with eddy_admin_conf_release). 0 or EDDY_ENOMEM. */
int eddy_admin_conf_from_opts(const eddy_opts *o, const char *listen, eddy_admin_conf *c);
void eddy_admin_conf_release(eddy_admin_conf *c);

/* Records the first problem of worker.admin in cfg as "file:line:col:
 * worker.admin.<option>: sentence" (an: the worker.admin node, may be
 * NULL). Only the listen address is checked while the server is disabled. */
void eddy_admin_conf_validate(eddy_cfg *cfg, const eddy_opts *o, const eddy_cnode *an);

#endif
