"""The peer benchmark's driver; benchmarks/peers/run.sh runs it inside
scripts/kafka.sh run (KAFKA_BROKERS set) with the benchmark's venv.

  bench.py RECORDS TSV_OUT

Loads RECORDS generated records (plus one end-of-input marker per
partition) into a 4-partition topic with eddy itself, computes the ground
truth of every job from that topic, runs each (job, system) row, verifies
its output topic against the ground truth, and prints the table; the rows
also go to TSV_OUT for chart.py.
"""
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "benchmarks", "peers")
EDDY = os.path.join(ROOT, "build", "eddy")
RAW = os.path.join(ROOT, "build", "benchmarks", "raw_consume")
JAR = os.environ["PEERS_JAR"]
PY = sys.executable
B = os.environ["KAFKA_BROKERS"]
PARTS = 4
USERS = 10000
T0 = 1767225600000           # generator start_time (2026-01-01T00:00:00Z)
END_USER = "__end__"          # end-of-input markers, one per partition
TIN = "peers-in"
RUN = "%d" % os.getpid()      # fresh groups and topics per run
TMP = tempfile.mkdtemp(prefix="eddy-peers.")
LIVE = []                     # processes to stop on any exit


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def cleanup(*_):
    for p in LIVE:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    subprocess.run(["rm", "-rf", TMP])


def on_signal(sig, _frm):
    cleanup()
    sys.exit(128 + sig)


signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)

admin = AdminClient({"bootstrap.servers": B})


def topics(*specs):
    """specs: (name, config dict)"""
    fs = admin.create_topics([NewTopic(n, PARTS, 1, config=c) for n, c in specs])
    for f in fs.values():
        f.result()
    # Until every partition's leader answers: a system started on a topic
    # created a moment ago can get "Not leader for partition" (eddy 0.1.0
    # stops on it when it reads its changelog's offsets at start-up).
    c = Consumer({"bootstrap.servers": B, "group.id": "peers-ready-" + RUN})
    deadline = time.monotonic() + 60
    for n, _ in specs:
        for p in range(PARTS):
            while True:
                try:
                    c.get_watermark_offsets(TopicPartition(n, p), timeout=5)
                    break
                except KafkaException:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
    c.close()


def read_topic(topic, committed=True):
    """Every message of a topic: list of (partition, key, value bytes), in
    partition order."""
    c = Consumer({"bootstrap.servers": B, "group.id": "peers-read-" + RUN,
                  "enable.partition.eof": True, "enable.auto.commit": False,
                  "isolation.level": "read_committed" if committed else "read_uncommitted"})
    c.assign([TopicPartition(topic, p, -2) for p in range(PARTS)])
    out, eof = [], set()
    while len(eof) < PARTS:
        for m in c.consume(num_messages=10000, timeout=1.0):
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    eof.add(m.partition())
                    continue
                raise RuntimeError(str(m.error()))
            out.append((m.partition(), m.key(), m.value()))
    c.close()
    return out


def high_watermarks(topic):
    c = Consumer({"bootstrap.servers": B, "group.id": "peers-wm-" + RUN})
    def total():
        try:
            return sum(c.get_watermark_offsets(TopicPartition(topic, p), timeout=5)[1]
                       for p in range(PARTS))
        except KafkaException:  # e.g. a new topic's leader not known yet
            return -1
    return c, total


def committed_counter(topic):
    """Counts the committed records of a (transactional) output topic."""
    c = Consumer({"bootstrap.servers": B, "group.id": "peers-cnt-" + RUN,
                  "isolation.level": "read_committed", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, p, -2) for p in range(PARTS)])
    n = [0]
    def total():
        for m in c.consume(num_messages=100000, timeout=0.05):
            if not m.error():
                n[0] += 1
        return n[0]
    return c, total


# --------------------------------------------------------------- input
def load(n):
    cfg = f"""
worker: {{ name: peers-load, admin: {{ enabled: false }} }}
kafka: {{ brokers: "{B}" }}
sources:
  - name: gen
    type: generator
    seed: 7
    count: {n}
    rate: 0
    keys: {USERS}
    key_field: user
    partitions: 1
    start_time: {T0}
    event_interval: 1ms
    fields: {{ amount: "lognormal(3.7, 0.6)", merchant: "categorical(grocer, travel, games, fuel)", id: "seq()" }}
    drift: {{ amount: "lognormal(4.2, 0.6)" }}
    drift_at: {n // 2}ms
pipelines:
  - {{ name: load, from: gen, to: [ {{ type: kafka, topic: {TIN}, format: json }} ] }}
"""
    path = os.path.join(TMP, "load.yaml")
    open(path, "w").write(cfg)
    subprocess.run([EDDY, "run", "-c", path], check=True, stderr=open(path + ".log", "w"))
    # One marker per partition, an hour of event time past the last record:
    # it advances every partition's stream time so that Kafka Streams and
    # Quix close their last windows (eddy closes them at end of input).
    p = Producer({"bootstrap.servers": B, "enable.idempotence": True})
    for part in range(PARTS):
        p.produce(TIN, partition=part, key=END_USER.encode(), value=json.dumps(
            {"user": END_USER, "ts": T0 + n + 3600000, "amount": 0.0,
             "merchant": "none", "id": -1 - part}))
    p.flush()


def ground_truth():
    from river import drift
    msgs = read_topic(TIN)
    j1, j2, seqs, last = {}, {}, {}, {}
    for part, _, v in msgs:
        r = json.loads(v)
        u = r["user"]
        # the jobs assume event time in order within a partition
        if r["ts"] < last.get(part, 0):
            raise RuntimeError("input out of order in partition %d at id %s" % (part, r["id"]))
        last[part] = r["ts"]
        if u == END_USER:
            continue
        a = r["amount"]
        if a > 50:
            j1[r["id"]] = a * 100
        w = (u, r["ts"] - r["ts"] % 60000)
        s = j2.get(w)
        if s is None:
            j2[w] = [1, a]
        else:
            s[0] += 1
            s[1] += a
        seqs.setdefault(u, []).append(a)
    j3 = set()
    for u, xs in seqs.items():
        d = drift.ADWIN()
        for i, x in enumerate(xs):
            d.update(x)
            if d.drift_detected:
                j3.add((u, i))
    per = [sum(1 for m in msgs if m[0] == p) for p in range(PARTS)]
    log("peers: messages per partition: %s" % per)
    if min(per) < 2:
        raise RuntimeError("input not spread over the %d partitions: %s" % (PARTS, per))
    return len(msgs), j1, j2, j3


# --------------------------------------------------------------- verify
def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def verify_j1(out, truth):
    seen, bad = {}, 0
    for _, _, v in out:
        r = json.loads(v)
        i = r["id"]
        seen[i] = seen.get(i, 0) + 1
        if i not in truth or not close(r["amount_x100"], truth[i]) or not r["amount"] > 50:
            bad += 1
    missing = sum(1 for i in truth if i not in seen)
    dup = sum(c - 1 for c in seen.values())
    ok = not bad and not missing and not dup
    return ok, "%d records, %d missing, %d wrong, %d duplicates" % (len(out), missing, bad, dup)


def verify_j2(out, truth):
    seen, bad, dup = set(), 0, 0
    n, examples = 0, []
    for _, k, v in out:
        r = json.loads(v)
        user = r.get("user") or k.decode()
        if user == END_USER:
            continue
        n += 1
        start = r.get("window_start", r.get("start"))
        w = (user, start)
        t = truth.get(w)
        if w in seen:
            dup += 1
        seen.add(w)
        if (t is None or r["n"] != t[0] or not close(r["total"], t[1])
                or not close(r["avg"], t[1] / t[0])
                or r.get("window_end", r.get("end")) != start + 60000):
            bad += 1
            if len(examples) < 3:
                examples.append("got %s, expected n=%s total=%s" % (
                    v.decode(), *(t if t else (None, None))))
    miss = [w for w in truth if w not in seen]
    examples += ["missing %s n=%d" % (w, truth[w][0]) for w in miss[:3]]
    ok = not bad and not miss and not dup
    return ok, "%d windows, %d missing, %d wrong, %d duplicates%s" % (
        n, len(miss), bad, dup, "".join("; " + e for e in examples))


def verify_j3(out, truth):
    got = [(json.loads(v)["user"], json.loads(v)["idx"]) for _, _, v in out]
    s = set(got)
    dup = len(got) - len(s)
    missing, extra = len(truth - s), len(s - truth)
    ok = not missing and not extra and not dup
    return ok, "%d change points (river offline: %d), %d missing, %d extra, %d duplicates" % (
        len(got), len(truth), missing, extra, dup)


# --------------------------------------------------------------- run
def tree_hwm_kib(pid):
    """Sum of VmHWM (peak resident set) over a process and its descendants.
    Read from /proc while they run: ru_maxrss of a child started from this
    (large) Python process would include the RSS of the forked copy."""
    total, queue = 0, [pid]
    while queue:
        q = queue.pop()
        try:
            for line in open("/proc/%d/status" % q):
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
                    break
            for t in os.listdir("/proc/%d/task" % q):
                queue += [int(c) for c in open("/proc/%d/task/%s/children" % (q, t)).read().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
    return total


def measured(name, cmd, stop_at=None, counter=None, timeout=3600, stall=120):
    """Runs cmd in its own session. Without stop_at it runs to its own
    exit; with it, it is stopped (SIGTERM) once counter() >= stop_at, the
    wall time taken at that moment, or once counter() has not moved for
    `stall` seconds (then the row is marked stalled and its output is still
    verified). Returns wall s, CPU s (user + system of the process and its
    reaped children), peak RSS KiB (VmHWM of the process tree, polled every
    50 ms), and a note ("" or why it stopped)."""
    logf = open(os.path.join(TMP, name + ".log"), "w")
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    LIVE.append(p)
    wall, note, last, moved, hwm, polled = None, "", -1, t0, 0, 0.0
    while True:
        hwm = max(hwm, tree_hwm_kib(p.pid))
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            wall = time.monotonic() - t0
            break
        now = time.monotonic()
        if stop_at is not None and now - polled >= 0.1:
            polled = now
            c = counter()
            if c != last:
                last, moved = c, now
            if c >= stop_at or now - moved > stall:
                wall = now - t0
                if c < stop_at:
                    note = "stalled at %d of %d output records for %d s" % (c, stop_at, stall)
                os.killpg(p.pid, signal.SIGTERM)
                _, status, ru = os.wait4(p.pid, 0)
                break
        if now - t0 > timeout:
            os.killpg(p.pid, signal.SIGKILL)
            os.wait4(p.pid, 0)
            LIVE.remove(p)
            p.returncode = -9
            raise RuntimeError("%s: timed out after %d s (log %s)" % (name, timeout, logf.name))
        time.sleep(0.05)
    LIVE.remove(p)
    p.returncode = 0  # reaped here; keeps Popen from waiting again
    code = os.waitstatus_to_exitcode(status)
    if stop_at is None and code != 0:
        raise RuntimeError("%s exited %d:\n%s" % (name, code, open(logf.name).read()[-3000:]))
    return wall, ru.ru_utime + ru.ru_stime, hwm, note


def eddy_cfg(name, job, group, out, eos=False):
    steps = {
        "j1": """
      - filter: { where: "amount > 50" }
      - project: { derive: { amount_x100: "amount * 100" } }""",
        "j2": """
      - name: win
        window: { type: tumbling, size: 60s, key: [user], emit: final,
                  aggregate: { n: "count()", total: "sum(amount)", avg: "mean(amount)" } }""",
        "j3": """
      - name: drift
        adwin: { field: amount, key: [user], index_field: idx }
        alerts: { enabled: false }
      - filter: { where: "drift_signal == 'change'" }
      - project: { keep: [user, id, idx] }""",
    }[job]
    cfg = f"""
worker: {{ name: {name}, admin: {{ enabled: false }}{", flush_interval: 100ms" if eos else ""} }}
kafka: {{ brokers: "{B}", group: {group} }}
{"processing: { guarantee: exactly_once }" if eos else ""}
sources:
  - name: in
    type: kafka
    topics: [ {TIN} ]
    format: json
    timestamp: {{ field: ts, unit: ms }}
    stop_at_end: true
pipelines:
  - name: p
    from: in
    steps:{steps}
    to: [ {{ type: kafka, topic: {out}, format: json }} ]
"""
    path = os.path.join(TMP, name + ".yaml")
    open(path, "w").write(cfg)
    return path


def main():
    n, tsv = int(sys.argv[1]), sys.argv[2]
    topics((TIN, {"retention.ms": "-1"}))
    log("peers: loading %d records into %s (%d partitions, %d users) with eddy" % (n, TIN, PARTS, USERS))
    load(n)
    log("peers: ground truth (Python, river offline for J3)")
    total, t1, t2, t3 = ground_truth()
    log("peers: %d messages; J1 %d records out, J2 %d windows, J3 %d change points"
        % (total, len(t1), len(t2), len(t3)))
    verifiers = {"j1": (verify_j1, t1), "j2": (verify_j2, t2), "j3": (verify_j3, t3)}
    rows = []

    # raw librdkafka consume of the same topic (no group, no decode, no output)
    _, _, raw_rss, _ = measured("raw", [RAW, B, TIN])
    raw = open(os.path.join(TMP, "raw.log")).read()
    kv = dict(x.split("=", 1) for x in raw.split() if "=" in x)
    rows.append(("raw", "librdkafka consume", float(kv["wall_s"]), float(kv["cpu_s"]),
                 raw_rss / 1024, "yes", "%s messages read (no group, no decode, no output)" % kv["messages"]))
    log("peers: raw consume %s" % raw.strip())

    plan = [
        ("J1", "eddy", "j1", "eddy", False),
        ("J1", "Kafka Streams", "j1", "ks", False),
        ("J1", "Quix Streams", "j1", "quix", False),
        ("J2", "eddy", "j2", "eddy", False),
        ("J2", "Kafka Streams", "j2", "ks", False),
        ("J2", "Quix Streams", "j2", "quix", False),
        ("J2 exactly-once", "eddy", "j2", "eddy", True),
        ("J2 exactly-once", "Kafka Streams", "j2", "ks", True),
        ("J3 drift", "eddy", "j3", "eddy", False),
        ("J3 drift", "river (Python consumer)", "j3", "river", False),
    ]
    only = os.environ.get("PEERS_ONLY")  # e.g. "ks,quix": a subset, for checks
    for label, system, job, kind, eos in plan:
        if only and kind not in only.split(","):
            continue
        name = "%s-%s%s" % (job, kind, "-eos" if eos else "")
        group = "peers-%s-%s" % (name, RUN)
        out = "out-%s-%s" % (name, RUN)
        specs = [(out, {"retention.ms": "-1"})]
        if kind == "eddy" and job != "j1":
            specs.append(("%s-in-changelog" % group, {"cleanup.policy": "compact"}))
        topics(*specs)
        verify, truth = verifiers[job]
        expect = len(truth)
        cnt = None
        if kind == "eddy":
            cmd = [EDDY, "run", "-c", eddy_cfg(name, job, group, out, eos)]
            stop = None
        elif kind == "river":
            cmd = [PY, os.path.join(HERE, "apps.py"), "river-j3", B, TIN, out, group]
            stop = None
        elif kind == "ks":
            sd = os.path.join(TMP, "ks-" + name)
            cmd = ["java", "-jar", JAR, job, B, TIN, out, group,
                   "exactly_once_v2" if eos else "at_least_once", sd]
            stop = expect
        else:
            sd = os.path.join(TMP, "quix-" + name)
            cmd = [PY, os.path.join(HERE, "apps.py"), "quix-" + job, B, TIN, out, group, sd]
            stop = expect
        if stop is not None:
            cnt, counter = committed_counter(out) if eos else high_watermarks(out)
        log("peers: %s %s ..." % (label, system))
        try:
            wall, cpu, rss, note = measured(name, cmd, stop, counter if cnt else None)
        except RuntimeError as e:
            log("peers: FAILED %s" % e)
            rows.append((label, system, float("nan"), float("nan"), float("nan"), "FAILED", str(e).splitlines()[0]))
            continue
        finally:
            if cnt:
                cnt.close()
        ok, what = verify(read_topic(out), truth)
        if note:
            ok, what = False, note + "; " + what
        log("peers: %s %s: wall %.2f s, CPU %.2f s, peak RSS %.0f MiB; verified: %s (%s)"
            % (label, system, wall, cpu, rss / 1024, "yes" if ok else "NO", what))
        rows.append((label, system, wall, cpu, rss / 1024, "yes" if ok else "NO", what))

    # the table
    base = {r[0]: r for r in rows if r[1] == "eddy"}
    hdr = "%-16s %-24s %8s %8s %10s %11s %8s %9s %9s %s" % (
        "job", "system", "wall s", "CPU-s", "rec/s", "rec/CPU-s", "RSS MiB", "wall/eddy", "CPU/eddy", "verified")
    print("records: %d (+%d end markers), %d users, %d partitions, Kafka %s" % (
        n, PARTS, USERS, PARTS, os.environ.get("KAFKA_VERSION", "?")))
    print(hdr)
    with open(tsv, "w") as f:
        f.write("job\tsystem\twall_s\tcpu_s\trec_per_s\trec_per_cpu_s\trss_mib\twall_vs_eddy\tcpu_vs_eddy\tverified\tdetail\n")
        for label, system, wall, cpu, rss, ok, what in rows:
            e = base.get(label)
            rw = wall / e[2] if e and system != "eddy" else float("nan")
            rc = cpu / e[3] if e and system != "eddy" else float("nan")
            fmt = lambda x, f: "-" if math.isnan(x) else f % x
            print("%-16s %-24s %8s %8s %10s %11s %8s %9s %9s %s" % (
                label, system, fmt(wall, "%.2f"), fmt(cpu, "%.2f"), fmt(n / wall, "%.0f"),
                fmt(n / cpu, "%.0f"), fmt(rss, "%.0f"), fmt(rw, "%.2fx"), fmt(rc, "%.2fx"), ok))
            rd = lambda x, d=0: "" if math.isnan(x) else round(x, d)
            f.write("\t".join(map(str, (label, system, rd(wall, 3), rd(cpu, 3), rd(n / wall),
                                        rd(n / cpu), rd(rss, 1), rd(rw, 3), rd(rc, 3), ok, what))) + "\n")
    for label, system, *_, ok, what in rows:
        print("  %s / %s: %s" % (label, system, what))
    if any(r[5] != "yes" for r in rows):
        return 1
    return 0


if __name__ == "__main__":
    try:
        rc = main()
    finally:
        cleanup()
    sys.exit(rc)
