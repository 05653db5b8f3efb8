"""`make bench`: every page in bench/pages.py under load, at small and large scale, beside a
bare Flask "hello" served with the same gunicorn settings in the same run.

Prints one table (requests/s, latency, ratio to hello, queries, bytes, worker memory), marks
each figure that misses its target in QUALITY.md, and writes it to docs/benchmarks.md.
Load goes only to 127.0.0.1, for a bounded time.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import (  # noqa: E402
    FIRST_LOAD_BUDGET,
    REPEAT_VISIT_BUDGET,
    Weight,
    path_ids,
    session_cookie,
    signed_in_client,
    weigh,
)
from bench.pages import PAGES  # noqa: E402

CONNECTIONS = 32
WARM_SECONDS = int(os.environ.get("BENCH_WARM_SECONDS", "2"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
SCALES = tuple(os.environ.get("BENCH_SCALES", "small,large").split(","))
# BENCH_PAGES="my results,patient home" measures only those pages and prints them; the report
# in docs/ is written only by a full run.
ONLY = [name for name in os.environ.get("BENCH_PAGES", "").split(",") if name]
# Targets from ../shared/design/QUALITY.md (Performance).
MIN_RATIO, MAX_P95_MS, MAX_SCALE_DROP, MAX_WORKER_MB = 0.15, 50.0, 0.20, 150.0


@dataclass
class Load:
    """What wrk measured for one URL."""

    rps: float
    p50: float
    p95: float
    p99: float
    errors: int


@dataclass
class Row:
    """One page at one scale."""

    page: str
    scale: str
    load: Load
    weight: Weight
    ratio: float = 0.0
    marks: set[str] = field(default_factory=set)


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile_web(app_spec: str) -> str:
    """Return the Procfile's web command, serving app_spec instead of the app if asked."""
    line = next(
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")
    )
    command = line.split(":", 1)[1].strip()
    return command.replace('"webapp:create_app()"', shlex.quote(app_spec))


def start_server(app_spec: str, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """Start gunicorn exactly as the Procfile does, bound to 127.0.0.1; wait until it answers."""
    port = free_port()
    command = procfile_web(app_spec).replace('"0.0.0.0:${PORT:-5000}"', f"127.0.0.1:{port}")
    bin_dir = str(Path(sys.executable).parent)
    process = subprocess.Popen(
        ["bash", "-c", command],
        env={**env, "PORT": str(port), "PATH": bin_dir + os.pathsep + env["PATH"]},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with urllib.request.urlopen(url + "/", timeout=1):  # noqa: S310
                return process, url
        except OSError:
            time.sleep(0.1)
    stop_server(process)
    raise RuntimeError(f"the server for {app_spec} did not start")


def stop_server(process: subprocess.Popen) -> None:
    """Stop gunicorn and its workers."""
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def worker_memory_mb(process: subprocess.Popen) -> float:
    """Return the largest resident memory of the server's gunicorn workers, in MB."""

    def children(pid: str) -> list[str]:
        return subprocess.run(
            ["ps", "-o", "pid=", "--ppid", pid], capture_output=True, text=True
        ).stdout.split()

    # Workers are the leaves of the process tree under the server (bash, then gunicorn).
    workers, pending = [], [str(process.pid)]
    while pending:
        pid = pending.pop()
        below = children(pid)
        if below:
            pending += below
        elif pid != str(process.pid):
            workers.append(pid)
    sizes = []
    for pid in workers:
        status = Path(f"/proc/{pid}/status")
        if status.exists():
            match = re.search(r"VmRSS:\s+(\d+) kB", status.read_text())
            if match:
                sizes.append(int(match.group(1)) / 1024)
    return max(sizes, default=0.0)


def load(url: str, cookie: str = "", headers: tuple[tuple[str, str], ...] = ()) -> Load:
    """Warm up, then load url with wrk: 32 connections, a bounded time, one line of results."""
    env = {
        **os.environ,
        "BENCH_COOKIE": cookie,
        "BENCH_HEADERS": "\n".join(f"{name}: {value}" for name, value in headers),
    }
    script = str(ROOT / "bench" / "wrk.lua")
    base = ["wrk", "-t2", f"-c{CONNECTIONS}", "-s", script, "--timeout", "5s"]
    subprocess.run([*base, f"-d{WARM_SECONDS}s", url], env=env, capture_output=True, check=True)
    out = subprocess.run(
        [*base, f"-d{SECONDS}s", url], env=env, capture_output=True, text=True, check=True
    ).stdout
    values = dict(re.findall(r"(\w+)=([\d.]+)", out.split("BENCH", 1)[1]))
    return Load(
        float(values["rps"]),
        float(values["p50"]),
        float(values["p95"]),
        float(values["p99"]),
        int(values["errors"]),
    )


def prepare(scale: str, folder: Path) -> dict[str, str]:
    """Make a database seeded at the scale and return the environment that serves it."""
    env = {
        **os.environ,
        "COPRODUCE_ENV": "production",
        "SECRET_KEY": "bench-only-secret-key-" + scale,
        "DATABASE_URL": f"sqlite:///{folder / (scale + '.db')}",
        "FLASK_APP": "webapp:create_app",
        "MAIL_BACKEND": "console",
    }
    flask = [sys.executable, "-m", "flask"]
    subprocess.run(
        [*flask, "db", "upgrade"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*flask, "demo", "--scale", scale],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    # Group threads, posts and more groups at the same scale (not part of the demo).
    subprocess.run(
        [sys.executable, "-m", "bench.groups", scale],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    # Time-bank members, listings and Pat's long ledger at the same scale.
    subprocess.run(
        [sys.executable, "-m", "bench.timebank", scale],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return env


def in_process_app(env: dict[str, str]):
    """Create the app in this process on the same database, for queries, bytes and cookies."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        import logging

        from webapp import create_app

        logging.getLogger("webapp.access").setLevel(logging.WARNING)
        return create_app()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def mark(rows: list[Row]) -> None:
    """Mark every figure that misses its target."""
    small = {r.page: r for r in rows if r.scale == "small"}
    for row in rows:
        if row.ratio < MIN_RATIO:
            row.marks.add("ratio")
        if row.load.p95 > MAX_P95_MS:
            row.marks.add("p95")
        if row.weight.first_load > FIRST_LOAD_BUDGET:
            row.marks.add("first")
        if row.weight.repeat_visit > REPEAT_VISIT_BUDGET:
            row.marks.add("repeat")
        if row.load.errors:
            row.marks.add("errors")
        base = small.get(row.page)
        if row.scale == "large" and base:
            if row.load.rps < base.load.rps * (1 - MAX_SCALE_DROP):
                row.marks.add("rps")
            if row.weight.queries != base.weight.queries:
                row.marks.add("queries")


def table(rows: list[Row], hello: dict[str, Load], memory: dict[str, float]) -> str:
    """Format the results as a Markdown table, with ✗ beside each missed target."""

    def x(row: Row, key: str) -> str:
        return " ✗" if key in row.marks else ""

    lines = [
        "| page | scale | req/s | p50 ms | p95 ms | p99 ms | ratio to hello | SQL queries "
        "| HTML bytes (br) | first load bytes | repeat visit bytes |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scale in SCALES:
        h = hello[scale]
        lines.append(
            f"| *hello (reference)* | {scale} | {h.rps:,.0f} | {h.p50:.1f} | "
            f"{h.p95:.1f} | {h.p99:.1f} | 1.00 | – | – | – | – |"
        )
        for row in (r for r in rows if r.scale == scale):
            lines.append(
                f"| {row.page}{x(row, 'errors')} | {scale} | {row.load.rps:,.0f}{x(row, 'rps')} "
                f"| {row.load.p50:.1f} | {row.load.p95:.1f}{x(row, 'p95')} | {row.load.p99:.1f} "
                f"| {row.ratio:.2f}{x(row, 'ratio')} | {row.weight.queries}{x(row, 'queries')} "
                f"| {row.weight.html:,} | {row.weight.first_load:,}{x(row, 'first')} "
                f"| {row.weight.repeat_visit:,}{x(row, 'repeat')} |"
            )
    lines.append("")
    for scale in SCALES:
        flag = " ✗" if memory[scale] > MAX_WORKER_MB else ""
        lines.append(
            f"- Resident memory of one worker after the {scale} run: {memory[scale]:.0f} MB{flag}"
        )
    return "\n".join(lines)


def machine() -> str:
    """Describe this machine in one line."""
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = match.group(1).strip() if match else cpu
    return (
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def main() -> int:
    """Run the whole benchmark and write docs/benchmarks.md."""
    started = time.monotonic()
    rows: list[Row] = []
    hello: dict[str, Load] = {}
    memory: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="coproduce-bench-") as tmp:
        for scale in SCALES:
            env = prepare(scale, Path(tmp))
            app = in_process_app(env)
            practice = path_ids(app)
            server, url = start_server("bench.hello:create_app()", env)
            try:
                hello[scale] = load(url + "/")
            finally:
                stop_server(server)
            server, url = start_server("webapp:create_app()", env)
            try:
                for page in PAGES:
                    if ONLY and page.name not in ONLY:
                        continue
                    path = page.path.format(**practice)
                    weight = weigh(app, signed_in_client(app, page.reader), path, page.headers)
                    cookie = ""
                    if page.reader != "anonymous":
                        name = app.config["SESSION_COOKIE_NAME"]
                        cookie = f"{name}={session_cookie(app, page.reader)}"
                    result = load(url + path, cookie, page.headers)
                    rows.append(
                        Row(page.name, scale, result, weight, ratio=result.rps / hello[scale].rps)
                    )
                    print(
                        f"{scale:>5} {page.name:<18} {result.rps:8.0f} req/s  "
                        f"p95 {result.p95:6.1f} ms  {weight.queries} queries",
                        flush=True,
                    )
                memory[scale] = worker_memory_mb(server)
            finally:
                stop_server(server)
            app.extensions["db_engine"].dispose()
    mark(rows)
    result = table(rows, hello, memory)
    if ONLY or SCALES != ("small", "large"):
        print(result)
        return 0
    misses = sum(len(r.marks) for r in rows) + sum(m > MAX_WORKER_MB for m in memory.values())
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = f"""# Benchmarks

Measured by `make bench` on {when}, on {machine()}.
Each page is loaded by wrk with {CONNECTIONS} connections for {SECONDS} s (after a
{WARM_SECONDS} s warm-up), under gunicorn with the Procfile's settings, beside a bare Flask
"hello" served the same way in the same run. Byte counts are brotli-compressed; first load is
the HTML plus every CSS and JS file it loads; a repeat visit fetches only the HTML (assets
have content-hashed names and a year's cache lifetime). Large scale is `flask demo --scale
large`: 10,000 patients in the practice, each with an invitation; bench/groups.py adds a
thread of 10,000 posts among 2,000 threads in one group, and 1,000 more groups;
bench/timebank.py gives Pat 100,000 ledger entries among 10,000 listings.

Targets (QUALITY.md): ratio to hello at least {MIN_RATIO}, p95 at most {MAX_P95_MS:.0f} ms,
large within {MAX_SCALE_DROP:.0%} of small, the same SQL query count at both scales, first
load at most {FIRST_LOAD_BUDGET // 1024} KB, repeat visit at most {REPEAT_VISIT_BUDGET // 1024}
KB, one worker at most {MAX_WORKER_MB:.0f} MB. ✗ marks a miss.

{result}

{misses} figure(s) missed their target. The run took {time.monotonic() - started:.0f} s.
"""
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "benchmarks.md").write_text(report)
    print()
    print(result)
    print(f"\n{misses} figure(s) missed their target. Written to docs/benchmarks.md.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
