"""`cshub serve` on a fresh var folder answers the pages' static files at once (it collects them before
WhiteNoise indexes the folder): a real server in a subprocess, a real HTTP request."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    response = conn.getresponse()
    return response.status, response.read()


def test_fresh_serve_answers_the_static_files_the_login_page_links(tmp_path):
    env = {
        **os.environ,
        "CSHUB_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "cshub.config.settings",
        "CSHUB_TESTING": "0",
    }
    env.pop("CSHUB_DEBUG", None)
    subprocess.run([sys.executable, "-m", "cshub", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cshub", "serve", "--port", str(port), "--threads", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = _get(port, "/accounts/login/")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        assert status == 200
        assets = re.findall(rb'(?:href|src)="(/static/[^"]+\.(?:css|js))"', body)
        assert assets, "the login page links its stylesheet and scripts"
        for asset in assets:
            asset_status, content = _get(port, asset.decode())
            assert asset_status == 200, asset
            assert content
    finally:
        server.terminate()
        server.wait(timeout=30)
