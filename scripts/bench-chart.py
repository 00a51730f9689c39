#!/usr/bin/env python3
"""Summarises the BenchmarkDotNet GitHub-markdown reports in benchmarks/results/.

Reads every *-report-github.md, computes each row's overhead over the bare call of its class (and category), writes
benchmarks/results/overhead.svg (a bar chart, log scale: ours vs Polly per scenario), and replaces the section between
the ratio markers of benchmarks/README.md with the ratio table and the target checks. Python 3 standard library only.

    python3 scripts/bench-chart.py [RESULTS_DIR] [README]
"""
import glob
import html
import math
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "benchmarks", "results")
README = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "benchmarks", "README.md")
START, END = "<!-- ratios:start -->", "<!-- ratios:end -->"

UNITS = {"ps": 1e-3, "ns": 1.0, "us": 1e3, "μs": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9}
BYTES = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}


def parse_quantity(text, units):
    text = text.strip().strip("*").replace(",", "")
    if text in ("-", "", "NA", "?"):
        return 0.0 if units is BYTES else None
    match = re.match(r"^([0-9.]+)\s*(\S+)$", text)
    if not match or match.group(2) not in units:
        return None
    return float(match.group(1)) * units[match.group(2)]


def read_reports(folder):
    """{class name: [row dict with Method, Categories, mean (ns), alloc (bytes)]}"""
    reports = {}
    for path in sorted(glob.glob(os.path.join(folder, "*-report-github.md"))):
        name = os.path.basename(path).replace("-report-github.md", "").split(".")[-1]
        header, rows = None, []
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.startswith("|"):
                    continue
                cells = [c.strip().strip("*").strip() for c in line.strip().strip("|").split("|")]
                if header is None:
                    header = cells
                    continue
                if set("".join(cells)) <= set("-: "):
                    continue
                row = dict(zip(header, cells))
                if not row.get("Method"):
                    continue
                row["mean"] = parse_quantity(row.get("Mean", ""), UNITS)
                row["alloc"] = parse_quantity(row.get("Allocated", "-"), BYTES)
                rows.append(row)
        reports[name] = rows
    return reports


def environment(folder):
    """The first report's environment block (BenchmarkDotNet version, OS, CPU, runtime, job)."""
    for path in sorted(glob.glob(os.path.join(folder, "*-report-github.md"))):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        match = re.search(r"```\n(.*?)```", text, re.S)
        if match:
            return match.group(1).strip()
    return ""


class Results:
    def __init__(self, reports):
        self.rows = {(cls, r["Method"]): r for cls, rows in reports.items() for r in rows}
        self.reports = reports

    def get(self, cls, method):
        return self.rows.get((cls, method))

    def mean(self, cls, method):
        row = self.get(cls, method)
        return row["mean"] if row else None

    def alloc(self, cls, method):
        row = self.get(cls, method)
        return row["alloc"] if row else None

    def baseline(self, cls, method):
        """The bare row of the same class and category."""
        row = self.get(cls, method)
        if row is None:
            return None
        for other in self.reports.get(cls, []):
            if other["Method"].startswith("Bare_") and other.get("Categories") == row.get("Categories"):
                return other["mean"]
        return None

    def overhead(self, cls, method):
        mean, bare = self.mean(cls, method), self.baseline(cls, method)
        if mean is None or bare is None:
            return None
        return max(mean - bare, 0.0)


# (scenario, class, our rows, Polly rows): overheads over the bare call of the same class and category.
SCENARIOS = [
    ("Breaker closed, consecutive", "CircuitBreakerClosedBenchmarks",
     ["Ours_Consecutive_TryAcquire", "Ours_Consecutive_Execute", "Ours_Consecutive_ExecuteAsync"],
     ["Polly_ExecuteAsync", "Polly_ExecuteOutcomeAsync"]),
    ("Breaker closed, ratio + slow-call", "CircuitBreakerClosedBenchmarks",
     ["Ours_RatioSlowCall_TryAcquire", "Ours_RatioSlowCall_Execute", "Ours_RatioSlowCall_ExecuteAsync"],
     ["Polly_ExecuteAsync", "Polly_ExecuteOutcomeAsync"]),
    ("Retry, first-try success", "RetryBenchmarks",
     ["Ours_FirstTry_ExecuteAsync", "Ours_FirstTry_Execute"], ["Polly_FirstTry_ExecuteAsync"]),
    ("Retry, one failed result, zero delay", "RetryBenchmarks",
     ["Ours_OneFailedResult_ExecuteAsync"], ["Polly_OneFailedResult_ExecuteAsync"]),
    ("Retry, one exception, zero delay", "RetryBenchmarks",
     ["Ours_OneException_ExecuteAsync"], ["Polly_OneException_ExecuteAsync"]),
    ("Full pipeline, success", "PipelineBenchmarks",
     ["Ours_ExecuteAsync", "Ours_ExecuteOutcomeAsync"], ["Polly_ExecuteAsync", "Polly_ExecuteOutcomeAsync"]),
]


def fmt_ns(value):
    if value is None:
        return "n/a"
    if value >= 1000:
        return f"{value / 1000:,.2f} µs"
    return f"{value:.2f} ns"


def fmt_bytes(value):
    return "n/a" if value is None else f"{value:,.0f} B"


def fmt_ratio(value):
    if value is None:
        return "n/a"
    return f"{value:.3f}" if value < 0.1 else f"{value:.2f}"


def worst(res, cls, methods, key):
    values = [(key(cls, m), m) for m in methods if key(cls, m) is not None]
    return max(values) if values else (None, None)


def best(res, cls, methods, key):
    values = [(key(cls, m), m) for m in methods if key(cls, m) is not None]
    return min(values) if values else (None, None)


def ratio_table(res):
    lines = [
        "| Scenario | Row | Mean | Overhead over bare | Allocated | ours/bare | Polly/bare | ours/Polly (overhead) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario, cls, ours, polly in SCENARIOS:
        polly_ref, polly_name = best(res, cls, polly, res.overhead)
        polly_ref_ratio = None
        if polly_name:
            polly_ref_ratio = res.mean(cls, polly_name) / res.baseline(cls, polly_name)
        for method in ours + polly:
            mean, over = res.mean(cls, method), res.overhead(cls, method)
            if mean is None:
                continue
            bare = res.baseline(cls, method)
            is_ours = method.startswith("Ours_")
            to_bare = mean / bare if bare else None
            vs_polly = (over / polly_ref) if (is_ours and polly_ref) else None
            lines.append("| {} | {} | {} | {} | {} | {} | {} | {} |".format(
                scenario, method, fmt_ns(mean), fmt_ns(over), fmt_bytes(res.alloc(cls, method)),
                fmt_ratio(to_bare) if is_ours else "", fmt_ratio(to_bare) if not is_ours else
                "", fmt_ratio(vs_polly) if vs_polly is not None else ""))
    lines.append("")
    lines.append("ours/Polly compares an overhead with the overhead of Polly's fastest row in the same scenario.")
    return lines


def target_table(res):
    rows = []

    def add(name, measured, met):
        rows.append((name, measured, "n/a" if met is None else ("met" if met else "**missed**")))

    # Closed breaker: our slowest API against Polly's fastest (strict), and like for like (ExecuteAsync vs ExecuteAsync).
    cls = "CircuitBreakerClosedBenchmarks"
    for label, prefix, limit in (("consecutive", "Ours_Consecutive_", 20), ("ratio + slow-call", "Ours_RatioSlowCall_", 10)):
        ours = [prefix + api for api in ("TryAcquire", "Execute", "ExecuteAsync")]
        ours_over, ours_name = worst(res, cls, ours, res.overhead)
        polly_over, polly_name = best(res, cls, ["Polly_ExecuteAsync", "Polly_ExecuteOutcomeAsync"], res.overhead)
        allocs = [res.alloc(cls, m) for m in ours if res.alloc(cls, m) is not None]
        if ours_over is None or not polly_over:
            add(f"Breaker closed ({label}): overhead ≤ 1/{limit} of Polly's, 0 B", "no data", None)
            continue
        like = res.overhead(cls, prefix + "ExecuteAsync")
        polly_like = res.overhead(cls, "Polly_ExecuteAsync")
        share = f"1/{polly_over / ours_over:.1f}" if ours_over > 0 else "within noise of bare"
        add(f"Breaker closed ({label}): overhead ≤ 1/{limit} of Polly's, 0 B",
            f"slowest ours ({ours_name}) {fmt_ns(ours_over)} vs Polly's fastest ({polly_name}) {fmt_ns(polly_over)} = {share}"
            f"; ExecuteAsync vs ExecuteAsync {fmt_ns(like)} vs {fmt_ns(polly_like)}; allocated {max(allocs):.0f} B",
            ours_over * limit <= polly_over and max(allocs) == 0)

    cls = "CircuitBreakerOpenBenchmarks"
    polly_outcome = res.mean(cls, "Polly_ExecuteOutcomeAsync_Rejected")
    for method in ("Ours_TryAcquire_Refused", "Ours_ExecuteOutcomeAsync_Rejected"):
        mean = res.mean(cls, method)
        if mean is None or polly_outcome is None:
            add(f"Open circuit, {method}: ≥ 50× faster than Polly's outcome rejection, 0 B", "no data", None)
            continue
        add(f"Open circuit, {method}: ≥ 50× faster than Polly's outcome rejection, 0 B",
            f"{fmt_ns(mean)} vs {fmt_ns(polly_outcome)} = {polly_outcome / mean:.0f}×; allocated {fmt_bytes(res.alloc(cls, method))}",
            polly_outcome >= 50 * mean and res.alloc(cls, method) == 0)
    ours_throw, polly_throw = res.mean(cls, "Ours_ExecuteAsync_Throws"), res.mean(cls, "Polly_ExecuteAsync_Throws")
    if ours_throw is not None and polly_throw is not None:
        add("Open circuit, throwing: no worse than Polly's throwing",
            f"ours {fmt_ns(ours_throw)} ({fmt_bytes(res.alloc(cls, 'Ours_ExecuteAsync_Throws'))}) vs Polly "
            f"{fmt_ns(polly_throw)} ({fmt_bytes(res.alloc(cls, 'Polly_ExecuteAsync_Throws'))})",
            ours_throw <= polly_throw)

    for label, cls, ours, polly, limit in (
            ("Retry, first-try success", "RetryBenchmarks", ["Ours_FirstTry_ExecuteAsync"], ["Polly_FirstTry_ExecuteAsync"], 5),
            ("Full pipeline, success", "PipelineBenchmarks", ["Ours_ExecuteAsync"], ["Polly_ExecuteAsync"], 4)):
        ours_over, ours_name = worst(res, cls, ours, res.overhead)
        polly_over, _ = best(res, cls, polly, res.overhead)
        if ours_over is None or not polly_over:
            add(f"{label}: overhead ≤ 1/{limit} of Polly's, 0 B", "no data", None)
            continue
        alloc = res.alloc(cls, ours_name)
        share = f"1/{polly_over / ours_over:.1f}" if ours_over > 0 else "within noise of bare"
        add(f"{label}: overhead ≤ 1/{limit} of Polly's, 0 B",
            f"{fmt_ns(ours_over)} vs {fmt_ns(polly_over)} = {share}; allocated {fmt_bytes(alloc)}",
            ours_over * limit <= polly_over and alloc == 0)

    cls = "ContentionBenchmarks"
    for label, prefix in (("consecutive", "Consecutive_"), ("ratio + slow-call", "RatioSlowCall_")):
        shared, per_core = res.mean(cls, prefix + "Shared"), res.mean(cls, prefix + "PerCore")
        if shared is None or per_core is None:
            add(f"Contention ({label}): shared ≥ 0.8× per-core throughput", "no data", None)
            continue
        add(f"Contention ({label}): shared ≥ 0.8× per-core throughput",
            f"shared {1e9 / shared / 1e6:,.1f} M ops/s vs per-core {1e9 / per_core / 1e6:,.1f} M ops/s = {per_core / shared:.2f}×",
            per_core / shared >= 0.8)

    lines = ["| Target | Measured | Result |", "|---|---|---|"]
    lines += [f"| {name} | {measured} | {result} |" for name, measured, result in rows]
    return lines


def plain_tables(res):
    """The io and diagnostic classes, as measured: mean, allocation and ratio to the class's baseline (first row)."""
    lines = []
    for cls, title in (("HttpBenchmarks", "io: loopback HTTP GET"), ("PostgresBenchmarks", "io: PostgreSQL SELECT 1"),
                       ("PipelineLayerBenchmarks", "diagnostics: our pipeline one layer at a time"),
                       ("ClockBenchmarks", "diagnostics: clock reads")):
        rows = res.reports.get(cls)
        if not rows:
            continue
        base = rows[0]["mean"]
        lines += ["", f"#### {title} (`{cls}`)", "", "| Row | Mean | Allocated | vs first row |", "|---|---:|---:|---:|"]
        for row in rows:
            ratio = fmt_ratio(row["mean"] / base) if base and row["mean"] is not None else "n/a"
            lines.append(f"| {row['Method']} | {fmt_ns(row['mean'])} | {fmt_bytes(row['alloc'])} | {ratio} |")
    return lines


def chart(res, path):
    """Horizontal bars, log scale: for each scenario the overhead over bare of our fastest public API and Polly's."""
    bars = []
    for scenario, cls, ours, polly in SCENARIOS:
        ours_over, ours_name = best(res, cls, ours, res.overhead)
        polly_over, polly_name = best(res, cls, polly, res.overhead)
        if ours_over is None or polly_over is None:
            continue
        bars.append((scenario, ours_over, ours_name, polly_over, polly_name))
    cls = "CircuitBreakerOpenBenchmarks"
    ours_rej, polly_rej = res.mean(cls, "Ours_ExecuteOutcomeAsync_Rejected"), res.mean(cls, "Polly_ExecuteOutcomeAsync_Rejected")
    if ours_rej is not None and polly_rej is not None:
        bars.append(("Breaker open, outcome rejection (total)", ours_rej, "Ours_ExecuteOutcomeAsync_Rejected",
                     polly_rej, "Polly_ExecuteOutcomeAsync_Rejected"))

    floor = 0.1  # ns: the log axis starts here; smaller overheads are drawn at the floor and labelled.
    values = [v for b in bars for v in (b[1], b[3])] or [1.0]
    top = 10 ** math.ceil(math.log10(max(max(values), 1.0)))
    decades = int(round(math.log10(top / floor)))
    left, width, bar_h, gap, header = 290, 560, 14, 16, 50
    height = header + len(bars) * (2 * bar_h + gap) + 40

    def x(v):
        return left + width * math.log10(max(v, floor) / floor) / decades

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 140}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="100%" height="100%" fill="white"/>',
           f'<text x="10" y="20" font-size="15" font-weight="bold">Overhead over a bare call (ns, log scale; lower is better)</text>',
           f'<rect x="{left}" y="30" width="12" height="10" fill="#2b7bba"/><text x="{left + 16}" y="39">Resilience</text>',
           f'<rect x="{left + 110}" y="30" width="12" height="10" fill="#d9822b"/><text x="{left + 126}" y="39">Polly v8</text>']
    for d in range(decades + 1):
        v = floor * 10 ** d
        gx = left + width * d / decades
        out.append(f'<line x1="{gx:.1f}" y1="{header - 4}" x2="{gx:.1f}" y2="{height - 30}" stroke="#ddd"/>')
        out.append(f'<text x="{gx:.1f}" y="{height - 15}" text-anchor="middle" fill="#555">{v:g}</text>')
    y = header
    for scenario, ours, ours_name, polly, polly_name in bars:
        out.append(f'<text x="{left - 8}" y="{y + bar_h + 4}" text-anchor="end">{html.escape(scenario)}</text>')
        for value, name, colour in ((ours, ours_name, "#2b7bba"), (polly, polly_name, "#d9822b")):
            w = max(x(value) - left, 1)
            out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" fill="{colour}">'
                       f'<title>{html.escape(name)}: {fmt_ns(value)}</title></rect>')
            label = fmt_ns(value) if value >= floor else f"< {floor} ns"
            out.append(f'<text x="{left + w + 4:.1f}" y="{y + bar_h - 3}" fill="#333">{label}</text>')
            y += bar_h
        y += gap
    out.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def main():
    reports = read_reports(RESULTS)
    if not reports:
        sys.exit(f"bench-chart.py: no *-report-github.md in {RESULTS}; run scripts/bench.sh first")
    res = Results(reports)
    chart(res, os.path.join(RESULTS, "overhead.svg"))
    section = ["", "### Ratios", ""] + ratio_table(res) + ["", "### Targets", ""] + target_table(res) + plain_tables(res)
    env = environment(RESULTS)
    if env:
        section += ["", "### Environment (from the reports)", "", "```", env, "```"]
    text = "\n".join(section) + "\n"
    print(text)
    if os.path.exists(README):
        with open(README, encoding="utf-8") as f:
            readme = f.read()
        if START in readme and END in readme:
            head, rest = readme.split(START, 1)
            _, tail = rest.split(END, 1)
            with open(README, "w", encoding="utf-8") as f:
                f.write(head + START + "\n" + text + END + tail)
            print(f"bench-chart.py: updated {README}", file=sys.stderr)
    print(f"bench-chart.py: wrote {os.path.join(RESULTS, 'overhead.svg')}", file=sys.stderr)


if __name__ == "__main__":
    main()
