"""pip-audit of the installed dependencies, where its advisory service is reachable.

CI's machine reaches only the package index: when the advisory service cannot be reached
(pip-audit then audits no package at all), this says so and passes; a known vulnerability in
a package it could audit fails the run."""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

with tempfile.NamedTemporaryFile(suffix=".json") as report:
    try:
        done = subprocess.run(
            [
                ".venv/bin/pip-audit",
                "--skip-editable",
                "--progress-spinner",
                "off",
                "--format",
                "json",
                "--output",
                report.name,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except subprocess.TimeoutExpired:
        print("pip-audit: the advisory service did not answer within 300 s; NOT audited")
        sys.exit(0)
    try:
        data = json.loads(Path(report.name).read_text() or "null") or {}
    except ValueError:
        print(f"pip-audit could not run (no network?); NOT audited:\n{done.stderr[-2000:]}")
        sys.exit(0)
deps = data.get("dependencies", [])
audited = [d for d in deps if "skip_reason" not in d]
vulnerable = [d for d in audited if d.get("vulns")]
if not audited:
    print(f"pip-audit: advisory service unreachable ({len(deps)} packages, none audited); skipped")
    sys.exit(0)
for d in vulnerable:
    ids = ", ".join(v["id"] for v in d["vulns"])
    print(f"pip-audit: {d['name']} {d['version']}: {ids}")
print(f"pip-audit: {len(audited)} of {len(deps)} packages audited, {len(vulnerable)} vulnerable")
sys.exit(1 if vulnerable else 0)
