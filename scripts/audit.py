"""Known vulnerabilities in the installed dependencies (pip-audit), without a silent pass.

    .venv/bin/python scripts/audit.py [--require]

pip-audit looks each installed version up in PyPI's JSON API. Where that cannot be reached
(a mirror, a firewall), it skips the package and still prints "No known vulnerabilities
found" with exit code 0: an empty audit that looks like a clean one. This wrapper reads its
JSON report instead and says which it was:

- a known vulnerability in any package: exit 1, with the package, version, advisory and fix;
- packages that could not be checked: listed, with a loud warning; exit 2 with `--require`
  (or WARDBOT_AUDIT_REQUIRED=1), exit 0 otherwise, so CI where PyPI's JSON API is blocked
  still runs the audit without failing on the network;
- everything checked and clean: exit 0.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

OWN_PACKAGE = "wardbot"


def run_pip_audit() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        command = [
            sys.executable,
            "-m",
            "pip_audit",
            "--format",
            "json",
            "--skip-editable",
            "--progress-spinner",
            "off",
            "--output",
            str(report),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if not report.exists():
            sys.stderr.write(done.stderr)
            raise SystemExit(f"pip-audit did not run (exit {done.returncode})")
        data: dict[str, Any] = json.loads(report.read_text())
        return data


def summarise(report: dict[str, Any], *, require: bool) -> int:
    # This project itself is installed too (editable), and is not on PyPI.
    dependencies = [d for d in report.get("dependencies", []) if d.get("name") != OWN_PACKAGE]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    checked = len(dependencies) - len(skipped)
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            name, version = dependency["name"], dependency["version"]
            print(f"VULNERABLE {name} {version}: {vuln['id']} ({fixes})")
    print(f"audit: {checked} of {len(dependencies)} packages checked, {len(vulnerable)} vulnerable")
    if vulnerable:
        return 1
    if skipped:
        names = ", ".join(sorted(d["name"] for d in skipped))
        print(
            f"WARNING: {len(skipped)} packages could NOT be checked (PyPI's JSON API "
            f"unreachable?): {names}",
            file=sys.stderr,
        )
        if require:
            return 2
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--require",
        action="store_true",
        default=os.environ.get("WARDBOT_AUDIT_REQUIRED") == "1",
        help="fail when any package could not be checked",
    )
    args = parser.parse_args()
    raise SystemExit(summarise(run_pip_audit(), require=args.require))


if __name__ == "__main__":
    main()
