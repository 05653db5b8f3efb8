"""`make lighthouse`: Lighthouse (mobile; performance and accessibility) for every page in
bench/pages.py, run with Debian's Chromium against the app under gunicorn on 127.0.0.1.

Prints a table, marks scores under QUALITY.md's targets (performance 95, accessibility 100)
and writes it to docs/lighthouse.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import path_ids, session_cookie  # noqa: E402
from bench.pages import PAGES  # noqa: E402
from bench.run import in_process_app, machine, prepare, start_server, stop_server  # noqa: E402

LIGHTHOUSE = ROOT / ".lighthouse" / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync"
)
MIN_PERFORMANCE, MIN_ACCESSIBILITY = 95, 100


def audit(url: str, cookie: str, profile: str) -> dict[str, int]:
    """Run Lighthouse on one URL and return its category scores out of 100."""
    with tempfile.TemporaryDirectory() as out:
        report = Path(out) / "report.json"
        command = [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--form-factor=mobile",
            "--only-categories=performance,accessibility",
            "--output=json",
            f"--output-path={report}",
            f"--chrome-flags={FLAGS} --user-data-dir={profile}",
        ]
        if cookie:
            command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
        # Headless Chromium now and then fails to start; one more try, then say why.
        for attempt in (1, 2):
            done = subprocess.run(
                command,
                env={**os.environ, "CHROME_PATH": CHROMIUM},
                capture_output=True,
                text=True,
            )
            if done.returncode == 0 and report.exists():
                break
            if attempt == 2:
                raise RuntimeError(f"Lighthouse failed on {url}:\n{done.stderr[-2000:]}")
        data = json.loads(report.read_text())
    return {key: round(cat["score"] * 100) for key, cat in data["categories"].items()}


def main() -> int:
    """Audit every listed page and write docs/lighthouse.md."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="coproduce-lighthouse-") as tmp:
        env = prepare("small", Path(tmp))
        app = in_process_app(env)
        practice = path_ids(app)
        server, url = start_server("webapp:create_app()", env)
        url = url.replace("127.0.0.1", "localhost")
        try:
            for page in PAGES:
                if page.fragment:  # part of a page, fetched by htmx: nothing for a browser to load
                    continue
                cookie = ""
                if page.reader != "anonymous":
                    cookie = f"{app.config['SESSION_COOKIE_NAME']}=" + session_cookie(
                        app, page.reader
                    )
                with tempfile.TemporaryDirectory() as profile:
                    scores = audit(url + page.path.format(**practice), cookie, profile)
                rows.append((page.name, scores["performance"], scores["accessibility"]))
                print(
                    f"{page.name:<18} performance {scores['performance']:>3}  "
                    f"accessibility {scores['accessibility']:>3}",
                    flush=True,
                )
        finally:
            stop_server(server)
    lines = ["| page | performance | accessibility |", "|---|---:|---:|"]
    misses = 0
    for name, perf, a11y in rows:
        p_mark = " ✗" if perf < MIN_PERFORMANCE else ""
        a_mark = " ✗" if a11y < MIN_ACCESSIBILITY else ""
        misses += bool(p_mark) + bool(a_mark)
        lines.append(f"| {name} | {perf}{p_mark} | {a11y}{a_mark} |")
    table = "\n".join(lines)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "lighthouse.md").write_text(
        f"# Lighthouse\n\nMeasured by `make lighthouse` on {when}, on {machine()}: mobile form "
        f"factor, Debian's Chromium, the app under gunicorn with the Procfile's settings and "
        f"the small demo data. Targets (QUALITY.md): performance at least {MIN_PERFORMANCE}, "
        f"accessibility {MIN_ACCESSIBILITY}. ✗ marks a miss.\n\n{table}\n\n"
        f"{misses} score(s) missed their target.\n"
    )
    print(f"\n{table}\n\n{misses} score(s) missed their target. Written to docs/lighthouse.md.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
