#!/usr/bin/env python3
"""Writes docs/guide/telemetry-reference.md from the source: every instrument (name, kind, unit, description) and every
log event (id, name, level, message) the three packages define. `--check` fails when the page is stale, so a new metric
or event cannot ship undocumented (scripts/docs.sh runs it)."""
import pathlib, re, sys

root = pathlib.Path(__file__).resolve().parent.parent
page = root / "docs/guide/telemetry-reference.md"
sources = sorted(p for p in (root / "src").rglob("*.cs") if "/obj/" not in str(p) and "/bin/" not in str(p))
text = {p: p.read_text() for p in sources}
everything = "\n".join(text.values())

# Constants, under "Class.Name" (the event ids' names repeat across packages) and, when unique, under "Name".
strings, ints = {}, {}
for source in text.values():
    owner = re.search(r'^[ \w]*\bclass (\w+)', source, re.M)
    for table, pattern in ((strings, r'const string (\w+) = "([^"]*)"'), (ints, r'const int (\w+) = (\d+);')):
        for name, value in re.findall(pattern, source):
            table[f"{owner.group(1) if owner else ''}.{name}"] = value
            table[name] = value if name not in table or table[name] == value else None

def resolve(expr, table):
    expr = expr.strip()
    if expr.startswith('"'):
        return expr.strip('"')
    value = table.get(expr) or table.get(expr.split(".")[-1])
    if value is None:
        sys.exit(f"telemetry-reference: cannot resolve {expr}")
    return value

instrument = re.compile(
    r'\.Create(Counter|Histogram|UpDownCounter|ObservableGauge|ObservableCounter|ObservableUpDownCounter|Gauge)(?:<\w+>)?\(\s*'
    r'(?:name:\s*)?("[^"]+"|[\w.]+)\s*,\s*(?:[^,"]+,\s*)?(?:unit:\s*)?("[^"]*"|null)\s*,\s*(?:description:\s*)?"([^"]*)"', re.S)
instruments = {}
for path, source in text.items():
    package = path.relative_to(root / "src").parts[0]
    for kind, name, unit, description in instrument.findall(source):
        instruments[resolve(name, strings)] = (package, kind, unit.strip('"') if unit != "null" else "", description)

logger = re.compile(
    r'\[LoggerMessage\(\s*(?:EventId\s*=\s*)?([\w.]+)\s*,\s*(?:EventName\s*=\s*"(\w+)"\s*,\s*)?(?:Level\s*=\s*)?LogLevel\.(\w+)\s*,\s*'
    r'(?:Message\s*=\s*)?"((?:[^"\\]|\\.)*)"', re.S)
events = {}
for path, source in text.items():
    package = path.relative_to(root / "src").parts[0]
    for event_id, event_name, level, message in logger.findall(source):
        number = int(resolve(event_id, ints))
        events[number] = (package, event_name or event_id.split(".")[-1], level, message)

lines = [
    "# Telemetry reference",
    "",
    "Generated from the source by `scripts/telemetry-reference.py` (the docs build fails when this page is stale). Every",
    "instrument reports on the meter named `Resilience`; tags are described in [Operations](operations.md). Every log",
    "event has a stable id: alert on ids, not on messages.",
    "",
    "## Instruments",
    "",
    "| instrument | package | kind | unit | what it counts or measures |",
    "|---|---|---|---|---|",
]
for name in sorted(instruments):
    package, kind, unit, description = instruments[name]
    lines.append(f"| `{name}` | {package} | {kind} | {unit or '–'} | {description} |")
lines += ["", "## Log events", "", "| id | name | package | level | message |", "|---|---|---|---|---|"]
for number in sorted(events):
    package, name, level, message = events[number]
    message = message.replace("|", "\\|")
    lines.append(f"| {number} | `{name}` | {package} | {level} | {message} |")
generated = "\n".join(lines) + "\n"

# A definition the patterns above do not understand must fail loudly, not vanish from the page.
defined_instruments = len(re.findall(r'\.Create(?:Counter|Histogram|UpDownCounter|Observable\w+|Gauge)\b', everything))
defined_events = everything.count("[LoggerMessage(")
found_instruments = sum(len(instrument.findall(source)) for source in text.values())
found_events = sum(len(logger.findall(source)) for source in text.values())
if (found_instruments, found_events) != (defined_instruments, defined_events):
    sys.exit(f"telemetry-reference: read {found_instruments} of {defined_instruments} instruments and {found_events} of "
             f"{defined_events} log events: teach the patterns the new form")

if "--check" in sys.argv:
    if not page.exists() or page.read_text() != generated:
        sys.exit(f"telemetry-reference: {page.relative_to(root)} is stale: run python3 scripts/telemetry-reference.py")
    print(f"telemetry-reference: {len(instruments)} instruments and {len(events)} log events documented")
else:
    page.write_text(generated)
    print(f"telemetry-reference: wrote {len(instruments)} instruments and {len(events)} log events")
