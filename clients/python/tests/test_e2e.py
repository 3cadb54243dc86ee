"""End to end: mini program client (Node, fake `wx` doing real HTTP) -> examples/backend.py -> wxauthd, and
mini program client -> nginx (deploy/nginx/wxauth.conf) -> wxauthd's HTTP edge, with no backend code at all.

With the real `wxauthd --dev --idle-timeout 2` (codes minted at its WeChat simulator) and, so the path is
always exercised, with the in-memory fake server. Covers login, an expired session with concurrent requests
(one re-login, one replay each), a revoked session, and that no token reaches the backend's or wxauthd's logs.
"""
import json
import os
import subprocess
import tempfile

import pytest

import edge_support
import support
from wxauth.testing import DEV_APP_ID, FakeServer

DRIVER = support.CLIENTS_DIR / "miniprogram" / "e2e" / "driver.js"


def run_driver(backend_url: str, app_id: str, simulator: str, idle_wait_ms: int, edge: bool = False):
    node = support.node_bin()
    if node is None:
        pytest.skip("node is not installed")
    with tempfile.NamedTemporaryFile("r", suffix=".tokens", delete=False) as f:
        secrets_file = f.name
    env = dict(os.environ, BACKEND_URL=backend_url, APP_ID=app_id, SIMULATOR=simulator,
               IDLE_WAIT_MS=str(idle_wait_ms), WXAUTH_E2E_SECRETS_FILE=secrets_file,
               EDGE="1" if edge else "0")
    try:
        proc = subprocess.run([node, str(DRIVER)], env=env, capture_output=True, timeout=120)
        lines = proc.stdout.decode("utf-8", "replace").strip().splitlines()
        result = json.loads(lines[-1]) if lines else {"ok": False, "error": "no output"}
        assert proc.returncode == 0 and result.get("ok"), result.get("error") or proc.stderr.decode()[-2000:]
        with open(secrets_file, encoding="utf-8") as f:
            tokens = [t for t in f.read().splitlines() if t]
    finally:
        os.unlink(secrets_file)
    return result, tokens


def check(result, tokens, allowed_expiry_reasons):
    assert result["steps"] == ["login", "expired-and-relogged", "revoked-and-relogged", "refreshed-ahead"]
    assert result["logins"] == 3
    assert set(result["expiredReasons"]) <= allowed_expiry_reasons and result["expiredReasons"]
    assert len(tokens) == 4


@pytest.mark.integration
def test_e2e_with_real_wxauthd(start_wxauthd):
    server = start_wxauthd("--idle-timeout", "2")
    backend = support.start_backend(server.port, server.dev_app_id)
    try:
        result, tokens = run_driver(backend.url, server.dev_app_id, server.simulator, idle_wait_ms=3000)
    finally:
        backend.stop()
        server.stop()
    # Every request that carries the expired token is answered TOKEN_EXPIRED (until the sweep forgets it).
    check(result, tokens, {"token_expired"})
    assert "token_expired" in result["expiredReasons"]
    for log in (backend.logs(), server.logs()):
        for token in tokens:
            assert token not in log
    assert "GET /me -> 401 token_expired" in backend.logs()


def test_e2e_with_fake_server():
    with FakeServer(idle_timeout=1.0) as srv:
        backend = support.start_backend(srv.port, DEV_APP_ID)
        try:
            result, tokens = run_driver(backend.url, DEV_APP_ID, "", idle_wait_ms=1500)
        finally:
            backend.stop()
    check(result, tokens, {"token_expired"})
    for token in tokens:
        assert token not in backend.logs()


@pytest.mark.integration
def test_e2e_through_nginx_and_the_http_edge(start_wxauthd):
    if edge_support.nginx_bin() is None:
        if edge_support.nginx_required():
            pytest.fail("nginx is not installed (WXAUTH_REQUIRE_NGINX=1)")
        pytest.skip("nginx is not installed")
    server = start_wxauthd("--idle-timeout", "2")
    assert server.http_port, "wxauthd --dev did not report its HTTP edge port"
    app = edge_support.EchoApp()
    nginx = None
    try:
        nginx = edge_support.Nginx(server.http_port, app.port)
        result, tokens = run_driver(nginx.url, server.dev_app_id, server.simulator, idle_wait_ms=3000, edge=True)
    finally:
        if nginx is not None:
            nginx.stop()
        app.stop()
        server.stop()
    check(result, tokens, {"expired"})
    # The app only ever saw requests that passed the check, each with the user's openid, and never a token.
    assert app.seen and all(seen.get("x-wxauth-openid", "").startswith("o") for seen in app.seen)
    assert result["meRequests"] > len(app.seen), "refused requests reached the app"
    for seen in app.seen:
        assert "authorization" not in seen or not seen["authorization"]
    for token in tokens:
        assert token not in server.logs()
