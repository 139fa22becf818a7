/* The main thread of `eddy run`: a libevent loop for signals, the admin
 * server and the drain timer, around a started runtime. */
#ifndef EDDY_WORKER_H
#define EDDY_WORKER_H
#include "engine/obs/admin.h"
#include "engine/runtime.h"

/* Starts the runtime, serves until it is done or a signal drains it.
 * admin_listen overrides worker.admin.listen when not NULL. Returns the
 * process exit code: 0 after a clean drain or end of input, 1 on failure. */
int eddy_worker_run(eddy_runtime *rt, const char *admin_listen);

/* Adds the worker's routes and readiness to an admin server
 * (worker_routes.c); rt must outlive the server. */
void eddy_worker_admin_routes(eddy_admin *admin, eddy_runtime *rt);

#endif
