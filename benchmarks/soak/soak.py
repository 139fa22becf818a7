"""The soak benchmark's driver (benchmarks/soak/run.sh runs it inside
scripts/kafka.sh run, which exports KAFKA_BROKERS).

    soak.py SECONDS LOAD_PERCENT OUT_DIR

1. Calibrates: loads CAL records, runs the worker over them to the end and
   takes records / wall seconds as its maximum rate.
2. Soaks: the worker runs on a fresh topic while a loader writes payments at
   LOAD_PERCENT of that rate for SECONDS; every SOAK_INTERVAL seconds (10)
   it samples the worker's resident memory, open files, state bytes (the
   *_state_bytes gauges of /metrics) and consumer lag.
3. Judges: after the warm-up (SOAK_WARMUP seconds, default a sixth of the run,
   at least 30 s), the mean of each of RSS, open files and state bytes over
   the last half of the samples must be within SOAK_TOLERANCE percent (5) of
   its mean over the first half (windows opening and closing make a sawtooth
   of a few percent: the trend is what must be flat; the largest swing is
   printed too), and the lag must not keep growing (the worker keeps up). Writes soak.tsv and,
   when matplotlib is importable, soak.png; exits 1 if anything was not flat.
"""
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "benchmarks", "soak")
EDDY = os.path.join(ROOT, os.environ.get("EDDY_BUILD_DIR", "build"), "eddy")
KAFKA = os.path.join(ROOT, "scripts", "kafka.sh")
B = os.environ["KAFKA_BROKERS"]
SECS, LOAD, OUT = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
INTERVAL = float(os.environ.get("SOAK_INTERVAL", "10"))
WARMUP = float(os.environ.get("SOAK_WARMUP", str(max(30, SECS / 6))))
TOL = float(os.environ.get("SOAK_TOLERANCE", "5"))
CAL = int(os.environ.get("SOAK_CALIBRATE", "300000"))
RUN = str(os.getpid())
os.makedirs(OUT, exist_ok=True)
LIVE = []


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def fill(name, path, **kw):
    text = open(os.path.join(HERE, name)).read()
    for k, v in kw.items():
        text = text.replace("@%s@" % k, str(v))
    open(path, "w").write(text)
    return path


def topic(name, parts):
    subprocess.run([KAFKA, "topic", "create", name, str(parts), "retention.ms=-1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def worker_cfg(tag, topic_name, stop_at_end, port):
    return fill("worker.yaml.in", os.path.join(OUT, "worker-%s.yaml" % tag), ADMIN_PORT=port,
                BROKERS=B, GROUP="soak-%s-%s" % (tag, RUN), TOPIC=topic_name,
                STOP_AT_END="true" if stop_at_end else "false",
                STORE=os.path.join(OUT, "features-%s.db" % tag))


def load(tag, topic_name, rate, count):
    cfg = fill("loader.yaml.in", os.path.join(OUT, "loader-%s.yaml" % tag), BROKERS=B,
               RATE=rate, COUNT=count, TOPIC=topic_name)
    return subprocess.Popen([EDDY, "run", "-c", cfg],
                            stderr=open(os.path.join(OUT, "loader-%s.log" % tag), "w"))


def apply_topics(cfg):
    subprocess.run([EDDY, "topics", "apply", "-c", cfg], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    state = lag = 0.0
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:]+)(\{[^}]*\})? ([-0-9.e+]+)$", line)
        if not m:
            continue
        if m.group(1).endswith("_state_bytes"):
            state += float(m.group(3))
        elif m.group(1) == "eddy_kafka_consumer_lag":
            lag += float(m.group(3))
    return state, lag


def proc(pid):
    rss = 0
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
    fds = len(os.listdir("/proc/%d/fd" % pid))
    t = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    cpu = (int(t[11]) + int(t[12])) / os.sysconf("SC_CLK_TCK")
    return rss, fds, cpu


def main():
    for t, p in (("soak.alerts", 1), ("soak.dlq", 1), ("soak.anomalies", 3)):
        topic(t, p)
    # 1. calibration
    cal_topic = "soak-cal-" + RUN
    topic(cal_topic, 3)
    ld = load("cal", cal_topic, 0, CAL)
    if ld.wait() != 0:
        raise SystemExit("soak: the calibration loader failed (see %s/loader-cal.log)" % OUT)
    cfg = worker_cfg("cal", cal_topic, True, free_port())
    apply_topics(cfg)
    t0 = time.monotonic()
    rc = subprocess.run([EDDY, "run", "-c", cfg],
                        stderr=open(os.path.join(OUT, "worker-cal.log"), "w")).returncode
    wall = time.monotonic() - t0
    if rc != 0:
        raise SystemExit("soak: the calibration run failed (see %s/worker-cal.log)" % OUT)
    max_rate = CAL / wall
    rate = max(1, int(max_rate * LOAD / 100))
    log("soak: maximum %.0f records/s (%d in %.1f s); soaking at %d records/s (%g %%) for %d s"
        % (max_rate, CAL, wall, rate, LOAD, SECS))
    # 2. the soak
    in_topic = "soak-in-" + RUN
    topic(in_topic, 3)
    port = free_port()
    cfg = worker_cfg("soak", in_topic, False, port)
    apply_topics(cfg)
    w = subprocess.Popen([EDDY, "run", "-c", cfg],
                         stderr=open(os.path.join(OUT, "worker-soak.log"), "w"))
    LIVE.append(w)
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % port, timeout=2) as r:
                if r.status == 200:
                    break
        except Exception:
            pass
        if w.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("soak: the worker did not become ready (see %s/worker-soak.log)" % OUT)
        time.sleep(0.5)
    ld = load("soak", in_topic, rate, rate * SECS)
    LIVE.append(ld)
    start = time.monotonic()
    rows = []
    while ld.poll() is None and w.poll() is None:
        time.sleep(INTERVAL - (time.monotonic() - start) % INTERVAL)
        if w.poll() is not None:
            break
        rss, fds, cpu = proc(w.pid)
        state, lag = metrics(port)
        rows.append((time.monotonic() - start, rss, fds, state, lag, cpu))
        log("soak: %5.0f s  rss %7.1f MiB  fds %4d  state %8.1f MiB  lag %9.0f  cpu %7.1f s"
            % (rows[-1][0], rss / 2**20, fds, state / 2**20, lag, cpu))
    if w.poll() is not None:
        raise SystemExit("soak: the worker exited during the soak (see %s/worker-soak.log)" % OUT)
    w.terminate()
    wrc = w.wait(timeout=120)
    with open(os.path.join(OUT, "soak.tsv"), "w") as f:
        f.write("seconds\trss_bytes\topen_fds\tstate_bytes\tconsumer_lag\tcpu_seconds\n")
        for r in rows:
            f.write("%.1f\t%d\t%d\t%.0f\t%.0f\t%.2f\n" % r)
    # 3. judge
    after = [r for r in rows if r[0] >= WARMUP]
    ok = True
    if len(after) < 4:
        log("soak: too few samples after the warm-up (%d)" % len(after))
        ok = False
    else:
        half = len(after) // 2
        for name, i in (("rss", 1), ("open files", 2), ("state bytes", 3)):
            first = sum(r[i] for r in after[:half]) / half
            last = sum(r[i] for r in after[half:]) / (len(after) - half)
            trend = 100.0 * (last - first) / first if first else (0.0 if last == 0 else 100.0)
            lo, hi = min(r[i] for r in after), max(r[i] for r in after)
            flat = abs(trend) <= TOL
            ok &= flat
            print("%-12s mean %12.0f -> %12.0f: %+6.2f %% (limit %g %%), swing %.2f %% %s"
                  % (name, first, last, trend, TOL, 100.0 * (hi - lo) / lo if lo else 0.0,
                     "flat" if flat else "NOT FLAT"))
        lags = [r[4] for r in after]
        keeps_up = lags[-1] <= max(rate * 30, 2 * max(lags[: max(1, len(lags) // 2)]))
        ok &= keeps_up
        print("lag          last %.0f, largest %.0f: %s" % (lags[-1], max(lags),
              "keeps up" if keeps_up else "FALLS BEHIND"))
    cpu = rows[-1][5] if rows else 0
    print("rate %d records/s (%g %% of %.0f), %d s, worker CPU %.1f s (%.2f cores), exit %d"
          % (rate, LOAD, max_rate, SECS, cpu, cpu / max(1, rows[-1][0] if rows else 1), wrc))
    if wrc != 0:
        ok = False
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(3, 1, figsize=(8, 7), sharex=True)
        xs = [r[0] for r in rows]
        ax[0].plot(xs, [r[1] / 2**20 for r in rows], label="RSS MiB")
        ax[0].plot(xs, [r[3] / 2**20 for r in rows], label="state MiB")
        ax[1].plot(xs, [r[2] for r in rows], label="open files")
        ax[2].plot(xs, [r[4] for r in rows], label="consumer lag (records)")
        for a in ax:
            a.axvline(WARMUP, color="grey", linestyle=":")
            a.legend(loc="upper left")
        ax[2].set_xlabel("seconds (rate %d/s, %g %% of max)" % (rate, LOAD))
        fig.suptitle("eddy soak: the quick-start pipelines on a real broker")
        fig.tight_layout()
        fig.savefig(os.path.join(OUT, "soak.png"), dpi=90)
    except ImportError:
        log("soak: matplotlib not importable: no soak.png")
    print("soak: %s" % ("flat" if ok else "NOT FLAT"))
    return 0 if ok else 1


try:
    sys.exit(main())
finally:
    for p in LIVE:
        if p.poll() is None:
            p.kill()
            p.wait()
