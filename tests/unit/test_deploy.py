"""deploy/ (issue 13 §5): what an operator installs to run several app servers; checked for the parts that
break silently — the WebSocket upgrade, sticky sessions, and units that call commands which exist."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from services.__main__ import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def _directives(text: str) -> str:
    return "\n".join(line.split("#")[0] for line in text.splitlines())


def test_the_proxy_is_sticky_and_upgrades_streamlits_websocket():
    conf = _directives((DEPLOY / "nginx" / "complaints.conf").read_text())
    upstream = re.search(r"upstream complaints_app \{(.*?)\}", conf, re.S)
    assert upstream and re.search(r"^\s*(ip_hash|hash \$cookie_\w+)", upstream[1], re.M)
    stream = re.search(r"location /_stcore/stream \{(.*?)\}", conf, re.S)
    assert stream is not None
    assert "proxy_set_header Upgrade $http_upgrade;" in stream[1]
    assert "proxy_set_header Connection $connection_upgrade;" in stream[1]
    assert "proxy_http_version 1.1;" in conf


def test_the_units_run_the_app_as_make_run_does_and_only_commands_that_exist():
    assert {u.name for u in UNITS} >= {"complaints@.service", "complaints-escalate.service",
                                       "complaints-backup.service"}
    for unit in UNITS:
        starts = [line for line in _directives(unit.read_text()).splitlines() if line.startswith("ExecStart=")]
        assert len(starts) == 1, unit.name
        for command in re.findall(r"-m services ([\w-]+)", starts[0]):
            assert command in COMMANDS, f"{unit.name}: no CLI command {command!r}"
    server = _directives((DEPLOY / "systemd" / "complaints@.service").read_text())
    assert "streamlit run dashboard/server.py" in server and "--server.port %i" in server
    for timer in ("complaints-escalate.timer", "complaints-backup.timer"):
        assert "[Timer]" in (DEPLOY / "systemd" / timer).read_text()


def test_every_setting_of_the_example_environment_is_documented():
    readme = (ROOT / "README.md").read_text()
    names = re.findall(r"^#?\s*([A-Z][A-Z_]+)=", (DEPLOY / "complaints.env.example").read_text(), re.M)
    assert "DATABASE_READ_URL" in names and "COMPLAINTS_SECRET_KEY" in names
    for name in names:
        assert f"`{name}`" in readme, name


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_reads_the_units_without_complaint():
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *map(str, UNITS),
                           *map(str, (DEPLOY / "systemd").glob("*.timer"))], capture_output=True, text=True,
                          check=False)
    # the checkout is not at /srv/complaints here: only that may be reported
    problems = [line for line in done.stderr.splitlines() if line and "is not executable" not in line]
    assert not problems, problems
