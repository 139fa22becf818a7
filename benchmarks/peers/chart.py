"""Bar chart of the peer benchmark's table (results.tsv from run.sh).

  chart.py results.tsv peers.png [SUBTITLE]

Two panels: records per second (wall) and records per CPU-second, one group
of bars per job, one bar per system; a row that failed or did not verify is
drawn hatched and labelled.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {"eddy": "#1f77b4", "Kafka Streams": "#ff7f0e", "Quix Streams": "#2ca02c",
          "river (Python consumer)": "#9467bd", "librdkafka consume": "#7f7f7f"}


def main():
    rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
    jobs = []
    for r in rows:
        if r["job"] not in jobs:
            jobs.append(r["job"])
    systems = []
    for r in rows:
        if r["system"] not in systems:
            systems.append(r["system"])
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.5))
    for ax, col, title in ((axes[0], "rec_per_s", "records/s (wall clock)"),
                           (axes[1], "rec_per_cpu_s", "records per CPU-second")):
        width = 0.8 / max(1, max(sum(1 for r in rows if r["job"] == j) for j in jobs))
        for ji, job in enumerate(jobs):
            jr = [r for r in rows if r["job"] == job]
            for si, r in enumerate(jr):
                x = ji + width * (si - (len(jr) - 1) / 2)
                v = float(r[col]) if r[col] else 0.0
                ok = r["verified"] == "yes"
                ax.bar(x, v, width * 0.95, color=COLORS.get(r["system"], "#333333"),
                       hatch=None if ok else "//", edgecolor="black" if not ok else None,
                       label=r["system"])
                txt = ("%.0fk" % (v / 1000)) if v >= 1000 else ("%.0f" % v)
                if not ok:
                    txt += "\n(" + r["verified"] + ")"
                ax.text(x, v, txt, ha="center", va="bottom", fontsize=7)
        ax.set_xticks(range(len(jobs)))
        ax.set_xticklabels(jobs, fontsize=8)
        ax.set_yscale("log")
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
    h, lab = axes[0].get_legend_handles_labels()
    uniq = dict(zip(lab, h))
    fig.legend(uniq.values(), uniq.keys(), loc="lower center", ncol=len(uniq), fontsize=8)
    title = "eddy vs peers, same topic, same broker (log scale; higher is better)"
    if len(sys.argv) > 3:
        title += "\n" + sys.argv[3]
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.07, 1, 0.97))
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
