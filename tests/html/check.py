#!/usr/bin/env python3
"""Opens an audit's HTML report in headless Chromium and checks it against the audit's NDJSON.

    check.py REPORT.html FINDINGS.ndjson PROFILES.toml SCREENSHOT.png

- The page loads with nothing on the browser's console (no script error, no warning; that it
  asks for nothing outside the file, tests/html.rs checks in its text).
- From the rendered DOM (after the page's script ran): the finding count, the count of each
  severity and of each rule, the top merchant and the fee total equal what the NDJSON says.
  The fee total and the ranking count a message's fee impact once, as the audit does, and name a
  merchant by its profile's ID where field 42 is one of the IDs a profile declares.
- The page's filter works: opened at `#merchant=TOP`, it shows exactly the top merchant's
  findings.
- A screenshot of the page is saved.

Prints one JSON object: the figures checked and how long Chromium took to open the page.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter, defaultdict
from html.parser import HTMLParser


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("check.py: no chromium on PATH (scripts/test installs Debian's chromium)")


def run_browser(args):
    """Runs headless Chromium; returns (stdout, stderr, seconds)."""
    # A profile of its own: browsers started at once must not share one.
    home = tempfile.mkdtemp(prefix="iso8583-chromium-")
    cmd = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={home}",
        # No network: a page that needed it would not render what the checks read.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--virtual-time-budget=10000",
    ] + args
    start = time.monotonic()
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=300)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    took = time.monotonic() - start
    if out.returncode != 0:
        sys.exit(f"check.py: chromium failed ({out.returncode}): {out.stderr.decode(errors='replace')[-2000:]}")
    return out.stdout.decode("utf-8", errors="replace"), out.stderr.decode("utf-8", errors="replace"), took


def console_messages(stderr):
    """The page's console lines in Chromium's log (CONSOLE: script errors, warnings, logs)."""
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


class Dom(HTMLParser):
    """What the checks read from the rendered page."""

    def __init__(self):
        super().__init__()
        self.values = {}
        self.merchants = []  # (rank, merchant id, fee)
        self.rule_options = {}
        self.rows = 0
        self.hidden_rows = 0
        self.shown_by_merchant = Counter()
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a and "data-value" in a:
            self.values[a["id"]] = a["data-value"]
        if tag == "tr" and a.get("class") == "merchant":
            self.merchants.append((int(a["data-rank"]), a["data-merchant"], int(a["data-fee"])))
        if tag == "tr" and "data-rule" in a:
            self.rows += 1
            if "hidden" in a:
                self.hidden_rows += 1
            else:
                self.shown_by_merchant[a["data-merchant"]] += 1
        if tag == "select":
            self._select = a.get("id")
        if tag == "option" and self._select == "filter-rule" and a.get("value"):
            self.rule_options[a["value"]] = None
            self._option = a["value"]

    def handle_data(self, data):
        if self._select == "filter-rule" and getattr(self, "_option", None):
            # "rule (n)"
            text = data.strip()
            if text.endswith(")") and "(" in text:
                self.rule_options[self._option] = int(text.rsplit("(", 1)[1][:-1])
            self._option = None

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def parse(html):
    d = Dom()
    d.feed(html)
    return d


def expected(ndjson_path, profiles_path):
    with open(profiles_path, "rb") as f:
        book = tomllib.load(f)
    alias = {}
    for m in book.get("merchant", []):
        alias[m["id"]] = m["id"]
        for n in m.get("network_ids", []):
            alias[n] = m["id"]
    found = [json.loads(line) for line in open(ndjson_path, encoding="utf-8") if line.strip()]
    name = lambda f: alias.get((f.get("merchant") or "-").rstrip(), (f.get("merchant") or "-").rstrip())
    fee = defaultdict(int)
    findings_of = Counter()
    priced = set()
    for f in found:
        findings_of[name(f)] += 1
        fi = f.get("fee_impact")
        if fi and f["index"] not in priced:
            priced.add(f["index"])
            fee[name(f)] += fi["pre2016"].get("difference_fen") or 0
    # The text report's order: fee impact, then findings, then ID.
    ranked = sorted(findings_of, key=lambda m: (-fee[m], -findings_of[m], m))
    return {
        "findings": len(found),
        "severity": Counter(f["severity"] for f in found),
        "rules": Counter(f["rule"] for f in found),
        "top_merchant": ranked[0] if ranked else None,
        "top_fee": fee[ranked[0]] if ranked else 0,
        "fee_total": sum(fee.values()),
        "findings_of": findings_of,
    }


def main():
    report, ndjson, profiles, screenshot = sys.argv[1:5]
    url = "file://" + os.path.abspath(report)
    want = expected(ndjson, profiles)

    html, log, took = run_browser(["--dump-dom", url])
    problems = console_messages(log)
    assert not problems, f"console output while loading {report}: {problems}"
    dom = parse(html)
    v = dom.values
    assert int(v["findings-total"]) == want["findings"], (v["findings-total"], want["findings"])
    for severity in ("high", "medium", "low", "info"):
        got = int(v[f"severity-{severity}"])
        assert got == want["severity"][severity], (severity, got, want["severity"][severity])
    assert dom.rule_options == dict(want["rules"]), (dom.rule_options, dict(want["rules"]))
    assert int(v["fee-total"]) == want["fee_total"], (v["fee-total"], want["fee_total"])
    if want["top_merchant"] is not None:
        top = min(dom.merchants)
        assert top[1] == want["top_merchant"], (top, want["top_merchant"])
        assert top[2] == want["top_fee"], (top, want["top_fee"])
    capped = int(v.get("capped", 0))
    # The script ran: it counted the rows it shows (the first page of 100).
    assert int(v["matching"]) == dom.rows, (v["matching"], dom.rows)
    assert dom.rows - dom.hidden_rows == min(dom.rows, 100), (dom.rows, dom.hidden_rows)

    filtered = None
    if want["top_merchant"] is not None and not capped:
        top = want["top_merchant"]
        html2, log2, _ = run_browser(["--dump-dom", url + "#merchant=" + top])
        assert not console_messages(log2), console_messages(log2)
        d2 = parse(html2)
        filtered = int(d2.values["matching"])
        assert filtered == want["findings_of"][top], (filtered, want["findings_of"][top])
        assert set(d2.shown_by_merchant) == {top}, d2.shown_by_merchant

    _, log3, _ = run_browser(["--window-size=1400,2600", "--hide-scrollbars", f"--screenshot={os.path.abspath(screenshot)}", url])
    assert not console_messages(log3), console_messages(log3)
    assert os.path.getsize(screenshot) > 10_000, "the screenshot is empty"

    print(json.dumps({
        "findings": want["findings"],
        "top_merchant": want["top_merchant"],
        "fee_total_fen": want["fee_total"],
        "rows": dom.rows,
        "capped": capped,
        "filtered": filtered,
        "open_seconds": round(took, 3),
    }))


if __name__ == "__main__":
    main()
