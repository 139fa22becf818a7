"""eddy-client on the command line: output, exit codes, sentences."""
from __future__ import annotations

import json
import subprocess
import sys
from typing import Any, Callable, Dict, List, Tuple

import pytest

from eddy_client.cli import main

from conftest import FakeAdmin, Handler, fixture_values

ALERTS = [json.loads(v) for v in fixture_values("alerts.json")]


def page(path: str, headers: Dict[str, str]) -> Tuple[int, Any]:
    if "after=0" in path:
        return 200, {"next": 6, "dropped": 0, "alerts": [{"seq": i + 1, "alert": a} for i, a in enumerate(ALERTS)]}
    return 200, {"next": 6, "dropped": 0, "alerts": []}


def run(argv: List[str], capsys: pytest.CaptureFixture[str]) -> Tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_admin_lines(fake_admin: Callable[[Handler], FakeAdmin], capsys: pytest.CaptureFixture[str]) -> None:
    srv = fake_admin(page)
    code, out, err = run(["alerts", "--admin", srv.url], capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == 6 and "FIRING" in lines[0] and "RESOLVED" in lines[5], out


def test_admin_json_and_count(fake_admin: Callable[[Handler], FakeAdmin], capsys: pytest.CaptureFixture[str]) -> None:
    srv = fake_admin(page)
    code, out, _ = run(["alerts", "--admin", srv.url, "--json", "-n", "2"], capsys)
    assert code == 0 and [json.loads(l) for l in out.splitlines()] == ALERTS[:2]


def test_count_not_reached(fake_admin: Callable[[Handler], FakeAdmin], capsys: pytest.CaptureFixture[str]) -> None:
    srv = fake_admin(page)
    code, _, err = run(["alerts", "--admin", srv.url, "-n", "9"], capsys)
    assert code == 1 and "6 of 9 alerts read" in err, err


def test_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["alerts"], capsys)
    assert code == 2 and "give either a TOPIC or --admin URL" in err
    code, _, err = run(["alerts", "t", "--admin", "x"], capsys)
    assert code == 2


def test_http_error_is_one_sentence(fake_admin: Callable[[Handler], FakeAdmin], capsys: pytest.CaptureFixture[str]) -> None:
    srv = fake_admin(lambda p, h: (404, {"error": "no features for entity 'e' in view 'v'"}))
    code, out, err = run(["features", "--admin", srv.url, "v", "e"], capsys)
    assert code == 1 and out == ""
    assert err == "eddy-client: GET %s/v1/features/v/e answered HTTP 404: no features for entity 'e' in view 'v'\n" % srv.url, err


def test_features_lines(fake_admin: Callable[[Handler], FakeAdmin], capsys: pytest.CaptureFixture[str]) -> None:
    row = {"view": "v", "entity": "e", "event_time": 5, "age_ms": 1, "features": {"n": 3, "avg": 1.5}}
    srv = fake_admin(lambda p, h: (200, row))
    code, out, _ = run(["features", "--admin", srv.url, "v", "e"], capsys)
    assert code == 0 and out == "n\t3\navg\t1.5\n"
    code, out, _ = run(["features", "--admin", srv.url, "v", "e", "--json"], capsys)
    assert json.loads(out) == row


def test_module_no_traceback() -> None:
    """python -m eddy_client: an unreachable server is one line on stderr."""
    p = subprocess.run([sys.executable, "-m", "eddy_client", "alerts", "--admin", "127.0.0.1:1"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert p.stderr.startswith("eddy-client: cannot reach the eddy admin server at http://127.0.0.1:1: "), p.stderr
