"""examples/backend.py (in-process) against the fake server: the HTTP contract the mini program relies on."""
import importlib.util
import logging
import threading
import time

import pytest

import support
from wxauth import Client
from wxauth.testing import DEV_APP_ID, FakeServer


def _load_backend():
    spec = importlib.util.spec_from_file_location("wxauth_example_backend", support.BACKEND_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


backend = _load_backend()


@pytest.fixture
def stack(caplog):
    caplog.set_level(logging.DEBUG)
    srv = FakeServer(apps=(DEV_APP_ID, "wxotherapp0000002"), idle_timeout=30).start()
    http = backend.make_server(wxauthd_port=srv.port, app_id=DEV_APP_ID, timeout=2)
    thread = threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv, http.url
    finally:
        http.shutdown()
        http.server_close()
        http.wxauth.close()
        srv.stop()


def login(url, code):
    return support.http_json("POST", f"{url}/login", {"code": code})


def me(url, token=None, header=None):
    headers = {"Authorization": header if header is not None else f"Bearer {token}"} if (token or header) else {}
    return support.http_json("GET", f"{url}/me", headers=headers)


def test_login_and_me(stack, caplog):
    srv, url = stack
    status, _, body = login(url, "alice.1")
    assert status == 200 and set(body) == {"token", "expiresAt"}
    assert isinstance(body["expiresAt"], int) and body["expiresAt"] > time.time() * 1000
    status, _, me_body = me(url, body["token"])
    assert (status, me_body) == (200, {"openid": "o-alice", "appId": DEV_APP_ID})
    assert body["token"] not in caplog.text and "alice.1" not in caplog.text
    assert "POST /login -> 200" in caplog.text


@pytest.mark.parametrize("header,reason", [
    (None, "missing_token"),
    ("Basic dXNlcjpwdw==", "invalid_token"),
    ("Bearer ", "invalid_token"),
    ("Bearer " + "G" * 44, "invalid_token"),
    ("Bearer " + "t" * 300, "invalid_token"),
])
def test_me_unauthorized_reasons(stack, header, reason):
    _, url = stack
    status, headers, body = me(url, header=header) if header else me(url)
    assert status == 401 and body == {"error": reason}
    assert headers.get("WWW-Authenticate") == f'Bearer error="{reason}"'


def test_revoked_expired_and_foreign_tokens(stack):
    srv, url = stack
    token = login(url, "bob.1")[2]["token"]
    assert support.http_json("POST", f"{url}/logout", headers={"Authorization": f"Bearer {token}"})[0] == 204
    assert me(url, token)[:3:2] == (401, {"error": "token_revoked"})

    srv.idle_timeout = 0.2
    token = login(url, "bob.2")[2]["token"]
    time.sleep(0.4)
    assert me(url, token)[:3:2] == (401, {"error": "token_expired"})

    with Client("127.0.0.1", srv.port) as c:  # a session of another app is not a session of this backend
        other = c.login("wxotherapp0000002", "bob.3").token
    assert me(url, other)[:3:2] == (401, {"error": "invalid_token"})


def test_refresh_rotates_the_token(stack):
    _, url = stack
    old = login(url, "carol.1")[2]["token"]
    status, _, body = support.http_json("POST", f"{url}/refresh", headers={"Authorization": f"Bearer {old}"})
    assert status == 200 and set(body) == {"token", "expiresAt"} and body["token"] != old
    assert me(url, body["token"])[0] == 200
    assert me(url, old)[:3:2] == (401, {"error": "token_revoked"})
    assert support.http_json("POST", f"{url}/refresh")[:3:2] == (401, {"error": "missing_token"})


@pytest.mark.parametrize("code,status,body,retry_after", [
    ("invalid.1", 400, {"error": "wechat_rejected", "errcode": 40029}, None),
    ("risky.1", 400, {"error": "wechat_rejected", "errcode": 40226}, None),
    ("busy.1", 502, {"error": "wechat_unavailable", "errcode": -1}, None),
    ("quota.1", 429, {"error": "rate_limited", "retryAfterMs": 60000}, "60"),
    ("x" * 300, 400, {"error": "invalid_code"}, None),
])
def test_login_errors(stack, code, status, body, retry_after):
    _, url = stack
    got_status, headers, got = login(url, code)
    assert (got_status, got) == (status, body)
    assert headers.get("Retry-After") == retry_after


def test_code_reuse_and_bad_requests(stack):
    _, url = stack
    assert login(url, "carol.1")[0] == 200
    assert login(url, "carol.1")[::2] == (400, {"error": "wechat_rejected", "errcode": 40163})
    assert login(url, "")[::2] == (400, {"error": "invalid_code"})
    assert support.http_json("POST", f"{url}/login", {"nocode": 1})[::2] == (400, {"error": "invalid_code"})
    assert support.http_json("POST", f"{url}/login", [1, 2])[::2] == (400, {"error": "invalid_request"})
    assert support.http_json("GET", f"{url}/nope")[::2] == (404, {"error": "not_found"})


def test_wxauthd_down_is_503(stack):
    srv, url = stack
    srv.stop()
    time.sleep(0.1)
    status, headers, body = login(url, "dan.1")
    assert (status, body) == (503, {"error": "auth_unavailable"}) and headers.get("Retry-After")


def test_concurrent_requests_share_one_wxauthd_connection(stack):
    srv, url = stack
    token = login(url, "erin.1")[2]["token"]
    results = []

    def hit():
        results.append(me(url, token)[0])

    threads = [threading.Thread(target=hit) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert results == [200] * 20
    assert srv.connections == 1
