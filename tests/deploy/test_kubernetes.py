#!/usr/bin/env python3
"""deploy/kubernetes against eddy itself (issue 15): the ConfigMap's config
passes `eddy validate`; the Deployment's ports, probe paths, mounts,
secrets and grace period, the PodMonitor, the KEDA ScaledObject and the
PodDisruptionBudget agree with that config and with each other; and a
worker started with the ConfigMap's `worker:` section (its Kafka source
swapped for a generator: no cluster here) answers the probes the way the
kubelet and Prometheus ask them, with the pod's IP in the Host header.

Usage: test_kubernetes.py EDDY SRC. Prints "N passed, N failed"."""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

EDDY, SRC = sys.argv[1], sys.argv[2]
KDIR = os.path.join(SRC, "deploy", "kubernetes")
passed = failed = 0


def check(name, cond, seen=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {name}" + (f" (seen: {seen})" if seen != "" else ""), file=sys.stderr)


def load_all():
    docs = {}
    kust = yaml.safe_load(open(os.path.join(KDIR, "kustomization.yaml")))
    for f in kust["resources"]:
        for d in yaml.safe_load_all(open(os.path.join(KDIR, f))):
            if d:
                docs[(d["kind"], d["metadata"]["name"])] = d
    return kust, docs


kust, docs = load_all()
kinds = {k for k, _ in docs}
for want in ["ConfigMap", "Deployment", "PodDisruptionBudget", "PodMonitor", "ScaledObject",
             "TriggerAuthentication"]:
    check(f"kustomization has a {want}", want in kinds, sorted(kinds))
for (kind, name), d in docs.items():
    check(f"{kind}/{name} has apiVersion", "/" in d.get("apiVersion", "") or d.get("apiVersion") == "v1")

dep = next(d for (k, _), d in docs.items() if k == "Deployment")
cm = next(d for (k, _), d in docs.items() if k == "ConfigMap")
pod = dep["spec"]["template"]
labels = pod["metadata"]["labels"]
check("Deployment selector matches its pod labels",
      all(labels.get(k) == v for k, v in dep["spec"]["selector"]["matchLabels"].items()))
ctr = pod["spec"]["containers"][0]
ports = {p["name"]: p["containerPort"] for p in ctr["ports"]}

# The config, as the pod sees it.
text = cm["data"]["eddy.yaml"]
cfg = yaml.safe_load(text)
args = ctr.get("args", [])
cpath = args[args.index("-c") + 1] if "-c" in args else "/etc/eddy/eddy.yaml"
mounts = {m["name"]: m["mountPath"] for m in ctr["volumeMounts"]}
vols = {v["name"]: v for v in pod["spec"]["volumes"]}
cm_vol = next((n for n, v in vols.items() if v.get("configMap", {}).get("name") == cm["metadata"]["name"]), None)
check("the ConfigMap is mounted", cm_vol in mounts, mounts)
check("the config path in args is the mounted ConfigMap's key",
      cm_vol in mounts and cpath == os.path.join(mounts[cm_vol], "eddy.yaml"), cpath)

# Every ${VAR} of the config comes from the container's env.
env = {e["name"] for e in ctr.get("env", [])}
used = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text))
check("every ${VAR} the config reads is set by the Deployment", used <= env, sorted(used - env))

# Files the config names are mounted.
ca = cfg["kafka"]["properties"].get("ssl.ca.location")
check("ssl.ca.location is under a mounted volume",
      ca is None or any(ca.startswith(m + "/") for m in mounts.values()), ca)
cache = cfg.get("state", {}).get("cache_dir")
check("state.cache_dir is on a writable volume (root filesystem is read-only)",
      cache is None or any(cache.startswith(m) and n != cm_vol for n, m in mounts.items()), cache)

# eddy validate, with the secrets the Secret would give.
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "eddy.yaml")
    open(path, "w").write(text)
    e = dict(os.environ)
    for v in used:
        e[v] = "k8s-test-secret-0123456789"
    r = subprocess.run([EDDY, "validate", "-c", path], env=e, capture_output=True, text=True)
    check("the ConfigMap's config passes eddy validate", r.returncode == 0 and ": ok (" in r.stdout + r.stderr,
          (r.stdout + r.stderr).strip())

# Ports, probes, grace period.
admin = cfg["worker"]["admin"]
lhost, lport = admin["listen"].rsplit(":", 1)
check("admin listens on every interface in a pod", lhost in ("0.0.0.0", "[::]"), lhost)
check("container port `admin` is the admin listen port", ports.get("admin") == int(lport), (ports, lport))
probes = {k: ctr.get(k, {}).get("httpGet", {}) for k in ("livenessProbe", "readinessProbe", "startupProbe")}
check("liveness probe is /healthz", probes["livenessProbe"].get("path") == "/healthz", probes)
check("readiness probe is /readyz", probes["readinessProbe"].get("path") == "/readyz", probes)
for k, p in probes.items():
    if p:
        check(f"{k} uses the admin port", p.get("port") in ("admin", int(lport)), p)


def seconds(d):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)", str(d))
    n, u = int(m.group(1)), m.group(2)
    return n / 1000 if u == "ms" else n * {"s": 1, "m": 60, "h": 3600}[u]


drain = seconds(cfg["worker"].get("shutdown_timeout", "30s"))
grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
check("terminationGracePeriodSeconds is above worker.shutdown_timeout", grace > drain, (grace, drain))

# PodMonitor, PDB, KEDA.
pm = next(d for (k, _), d in docs.items() if k == "PodMonitor")
check("PodMonitor selects the pods",
      all(labels.get(k) == v for k, v in pm["spec"]["selector"]["matchLabels"].items()))
ep = pm["spec"]["podMetricsEndpoints"][0]
check("PodMonitor scrapes /metrics on the admin port", ep.get("path") == "/metrics" and ep.get("port") == "admin", ep)
check("PodMonitor sends the admin token (/metrics needs it)",
      "authorization" in ep or "bearerTokenSecret" in ep, ep)
pdb = next(d for (k, _), d in docs.items() if k == "PodDisruptionBudget")
check("PDB selects the pods", all(labels.get(k) == v for k, v in pdb["spec"]["selector"]["matchLabels"].items()))
so = next(d for (k, _), d in docs.items() if k == "ScaledObject")
check("ScaledObject scales the Deployment", so["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"])
trig = so["spec"]["triggers"][0]
group = cfg.get("kafka", {}).get("group") or cfg["worker"]["name"]
src = cfg["sources"][0]
check("KEDA watches the worker's consumer group", trig["metadata"]["consumerGroup"] == group,
      (trig["metadata"]["consumerGroup"], group))
check("KEDA watches the source's topic", trig["metadata"]["topic"] in src["topics"], trig["metadata"]["topic"])
check("KEDA uses the config's brokers", trig["metadata"]["bootstrapServers"] in cfg["kafka"]["brokers"].split(","))
parts = {t["name"]: t["partitions"] for t in cfg.get("topics", [])}
check("maxReplicaCount is at most the input's partitions (more pods sit idle)",
      so["spec"]["maxReplicaCount"] <= parts.get(trig["metadata"]["topic"], 0),
      (so["spec"]["maxReplicaCount"], parts))
ta = next(d for (k, _), d in docs.items() if k == "TriggerAuthentication")
check("ScaledObject's authenticationRef exists",
      trig.get("authenticationRef", {}).get("name") == ta["metadata"]["name"])

# What eddy serves: the ConfigMap's worker section on a free port, a
# generator in place of Kafka, asked as the kubelet and Prometheus ask.
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
worker = dict(cfg["worker"])
worker["admin"] = dict(admin, listen=f"{lhost}:{port}")
worker.pop("threads", None)
run_cfg = {"worker": worker,
           "sources": [{"name": "payments", "type": "generator", "rate": 200,
                        "fields": {"amount": "normal(50, 10)"}}],
           "pipelines": [{"name": "p", "from": "payments", "to": [{"type": "file", "path": "/dev/null"}]}]}
token = "k8s-test-secret-0123456789"
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "run.yaml")
    open(path, "w").write(yaml.safe_dump(run_cfg))
    e = dict(os.environ, EDDY_ADMIN_TOKEN=token)
    proc = subprocess.Popen([EDDY, "run", "-c", path], env=e, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(tmp, "log"), "w"))
    try:
        def get(p, host, auth=None):
            req = urllib.request.Request(f"http://127.0.0.1:{port}{p}", headers={"Host": host})
            if auth:
                req.add_header("Authorization", "Bearer " + auth)
            try:
                with urllib.request.urlopen(req, timeout=5) as r:
                    return r.status, r.read().decode()
            except urllib.error.HTTPError as err:
                return err.code, err.read().decode()
            except OSError as err:
                return 0, str(err)

        pod_ip = f"10.244.1.7:{port}"
        deadline = time.time() + 60
        while time.time() < deadline and get(probes["readinessProbe"]["path"], pod_ip)[0] != 200:
            time.sleep(0.2)
        for k, p in probes.items():
            if p:
                st, body = get(p["path"], pod_ip)
                check(f"{k} {p['path']} answers 200 to the kubelet (Host: pod IP)", st == 200, (st, body[:200]))
        st, body = get(ep["path"], pod_ip, token)
        check("PodMonitor's scrape of /metrics with the token answers 200", st == 200 and "eddy_build_info" in body,
              (st, body[:200]))
        st, _ = get(ep["path"], pod_ip)
        check("/metrics without the token is refused", st == 401, st)
        proc.send_signal(signal.SIGTERM)
        t0 = time.time()
        rc = proc.wait(timeout=grace + 5)
        check("SIGTERM: the worker exits 0 within terminationGracePeriodSeconds",
              rc == 0 and time.time() - t0 < grace, (rc, round(time.time() - t0, 1)))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if failed:
            sys.stderr.write(open(os.path.join(tmp, "log")).read()[-2000:])

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
