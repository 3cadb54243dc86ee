"""Both Python clients against a real `wxauthd --dev` (skipped when the binary is missing, unless
WXAUTH_REQUIRE_SERVER=1). Codes are minted at the embedded WeChat simulator."""
import asyncio
import socket
import struct
import threading
import time

import pytest

from wxauth import AsyncClient, Client, codec, errors

pytestmark = pytest.mark.integration


@pytest.fixture
def client(wxauthd):
    with Client(wxauthd.host, wxauthd.port, timeout=10) as c:
        yield c


def test_hello_and_ping(wxauthd, client):
    hello = client.hello
    assert hello.flags & 1 == 0 and not hello.auth_required
    assert len(hello.nonce) == 32 and hello.max_frame >= 6
    with Client(wxauthd.host, wxauthd.port) as other:
        assert other.hello.nonce != hello.nonce  # a fresh nonce per connection
    assert abs(client.ping() - time.time() * 1000) < 5_000


def test_login_and_validate(wxauthd, client):
    minted = wxauthd.mint("alice")
    issued = client.login(wxauthd.dev_app_id, minted["code"])
    assert len(issued.token) == 44 and set(issued.token) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    s = issued.session
    assert (s.app_id, s.openid) == (wxauthd.dev_app_id, minted["openid"])
    assert s.created_at <= s.expires_at <= s.absolute_expires_at
    time.sleep(0.01)
    v = client.validate(issued.token)
    assert v.openid == s.openid and v.created_at == s.created_at
    assert v.expires_at >= s.expires_at and v.absolute_expires_at == s.absolute_expires_at


def _login_again(client, app_id, code, first):
    """A repeated LOGIN with a used code (a client that lost the reply) gets the same session back while that session
    is live (PROTOCOL.md, LOGIN): never a second session, never 40163 for a live one."""
    again = client.login(app_id, code)
    assert again.token == first.token and again.session == first.session
    return again


def test_code_is_single_use(wxauthd, client):
    code = wxauthd.mint_code("bob")
    first = client.login(wxauthd.dev_app_id, code)
    _login_again(client, wxauthd.dev_app_id, code, first)


def test_replayed_code_never_returns_a_dead_token(wxauthd, client):
    code = wxauthd.mint_code("bob")
    first = client.login(wxauthd.dev_app_id, code)
    client.revoke(first.token)
    # The code's session has ended: for this caller the code is simply used, as WeChat would say.
    with pytest.raises(errors.WeChatRejected) as raised:
        client.login(wxauthd.dev_app_id, code)
    assert raised.value.errcode == 40163 and not raised.value.retryable


def test_unknown_app(wxauthd, client):
    with pytest.raises(errors.UnknownApp):
        client.login("wxnotconfigured01", wxauthd.mint_code("bob"))


def test_refresh_rotation_and_grace(wxauthd, client):
    issued = client.login(wxauthd.dev_app_id, wxauthd.mint_code("carol"))
    rotated = client.refresh(issued.token)
    assert rotated.token != issued.token
    assert rotated.session.openid == issued.session.openid
    assert rotated.session.created_at == issued.session.created_at
    assert rotated.session.absolute_expires_at == issued.session.absolute_expires_at
    again = client.refresh(issued.token)  # the reply was "lost": same new token within the grace window
    assert again.token == rotated.token
    assert client.validate(rotated.token).openid == issued.session.openid


def test_reuse_after_grace_revokes_the_session(start_wxauthd):
    server = start_wxauthd("--refresh-grace", "1")
    with Client(server.host, server.port) as c:
        issued = c.login(server.dev_app_id, server.mint_code("dave"))
        rotated = c.refresh(issued.token)
        time.sleep(1.5)
        with pytest.raises(errors.TokenRevoked):
            c.refresh(issued.token)
        with pytest.raises(errors.TokenRevoked):
            c.validate(rotated.token)  # the whole session is gone


def test_unknown_and_malformed_tokens_are_invalid(client):
    with pytest.raises(errors.InvalidToken):
        client.validate("A" * 44)  # well-formed, never issued
    with pytest.raises(errors.InvalidToken):
        client.validate("not-a-token")
    with pytest.raises(errors.InvalidToken):
        client.refresh("B" * 44)


def test_revoke(wxauthd, client):
    token = client.login(wxauthd.dev_app_id, wxauthd.mint_code("erin")).token
    client.revoke(token)
    with pytest.raises(errors.TokenRevoked):
        client.revoke(token)
    with pytest.raises((errors.TokenRevoked, errors.InvalidToken)):
        client.validate(token)


def test_revoke_user_count(wxauthd, client):
    minted = [wxauthd.mint("frank") for _ in range(3)]
    tokens = [client.login(wxauthd.dev_app_id, m["code"]).token for m in minted]
    openid = minted[0]["openid"]
    assert {m["openid"] for m in minted} == {openid}
    client.revoke(tokens[0])
    assert client.revoke_user(wxauthd.dev_app_id, openid) == 2
    assert client.revoke_user(wxauthd.dev_app_id, openid) == 0
    for t in tokens:
        with pytest.raises((errors.TokenRevoked, errors.InvalidToken)):
            client.validate(t)


def test_pipelined_validates_on_one_connection(wxauthd, client):
    token = client.login(wxauthd.dev_app_id, wxauthd.mint_code("gina")).token
    conn = client.connect()
    p = client.pipeline()
    for _ in range(100):
        p.validate(token)
    sessions = p.execute()
    assert len(sessions) == 100 and {s.openid for s in sessions} == {sessions[0].openid}

    failures = []

    def worker():
        for _ in range(10):
            try:
                client.validate(token)
            except Exception as exc:  # pragma: no cover - reported below
                failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert failures == [] and client.connect() is conn


def test_mixed_pipeline_answers_match(wxauthd, client):
    good = client.login(wxauthd.dev_app_id, wxauthd.mint_code("hank")).token
    code = wxauthd.mint_code("hank")
    p = client.pipeline().login(wxauthd.dev_app_id, code).validate("C" * 44).validate(good).ping()
    p.login(wxauthd.dev_app_id, code)
    r = p.execute(return_exceptions=True)
    assert isinstance(r[1], errors.InvalidToken)
    assert isinstance(r[2], codec.Session)
    assert isinstance(r[3], int)
    # Two pipelined LOGINs with one code share one WeChat call and get the same session (PROTOCOL.md, LOGIN).
    logins = [r[0], r[4]]
    assert all(isinstance(x, codec.TokenResult) for x in logins), logins
    assert logins[0].token == logins[1].token


def test_asyncio_client(wxauthd):
    async def main():
        async with AsyncClient(wxauthd.host, wxauthd.port, timeout=10) as c:
            issued = await c.login(wxauthd.dev_app_id, wxauthd.mint_code("ivy"))
            sessions = await asyncio.gather(*(c.validate(issued.token) for _ in range(100)))
            assert {s.openid for s in sessions} == {issued.session.openid}
            rotated = await c.refresh(issued.token)
            assert (await c.refresh(issued.token)).token == rotated.token
            with pytest.raises(errors.InvalidToken):
                await c.validate("D" * 44)
            assert await c.revoke_user(wxauthd.dev_app_id, issued.session.openid) == 1

    asyncio.run(asyncio.wait_for(main(), 60))


def test_idle_timeout_expires_the_session(start_wxauthd):
    server = start_wxauthd("--idle-timeout", "1")
    with Client(server.host, server.port) as c:
        issued = c.login(server.dev_app_id, server.mint_code("jack"))
        assert issued.session.expires_at - issued.session.created_at <= 1000
        c.validate(issued.token)
        time.sleep(1.5)
        with pytest.raises(errors.TokenExpired):
            c.validate(issued.token)


def test_expired_token_keeps_reading_expired(start_wxauthd):
    server = start_wxauthd("--idle-timeout", "1")
    with Client(server.host, server.port) as c:
        token = c.login(server.dev_app_id, server.mint_code("nora")).token
        time.sleep(1.5)
        for _ in range(3):
            with pytest.raises(errors.TokenExpired):
                c.validate(token)


def test_absolute_lifetime_is_never_extended(start_wxauthd):
    server = start_wxauthd("--idle-timeout", "60", "--absolute-lifetime", "2")
    with Client(server.host, server.port) as c:
        issued = c.login(server.dev_app_id, server.mint_code("kim"))
        s = issued.session
        assert s.absolute_expires_at - s.created_at <= 2000 and s.expires_at <= s.absolute_expires_at
        deadline = time.monotonic() + 10
        with pytest.raises(errors.TokenExpired):
            while time.monotonic() < deadline:
                v = c.validate(issued.token)
                assert v.expires_at <= v.absolute_expires_at == s.absolute_expires_at
                time.sleep(0.25)
        assert time.monotonic() < deadline


# --- the wire itself, with raw sockets --------------------------------------------------------------------


def _raw(wxauthd):
    sock = socket.create_connection((wxauthd.host, wxauthd.port), timeout=5)
    dec = codec.FrameDecoder(1 << 20)

    def read_frame():
        while True:
            frame = dec.next_frame()
            if frame is not None:
                return frame
            data = sock.recv(65536)
            if not data:
                return None
            dec.feed(data)

    hello = read_frame()
    assert hello is not None and hello.request_id == 0 and hello.kind == 0
    return sock, read_frame


def test_wire_errors_keep_or_close_the_connection(wxauthd):
    sock, read = _raw(wxauthd)
    with sock:
        sock.sendall(codec.encode_frame(0x7F, 41, b""))
        f = read()
        assert (f.request_id, f.kind) == (41, codec.Status.UNKNOWN_OPCODE)
        sock.sendall(codec.encode_frame(codec.Op.PING, 42, b"", version=9))
        f = read()
        assert (f.request_id, f.kind) == (42, codec.Status.UNSUPPORTED_VERSION)
        assert codec.ErrorBody.decode(f.kind, f.body).supported == 1
        sock.sendall(codec.encode_frame(codec.Op.PING, 43, b"\x00"))  # trailing byte
        f = read()
        assert (f.request_id, f.kind) == (43, codec.Status.MALFORMED_REQUEST)
        sock.sendall(codec.encode_request(44, codec.Auth("anyone", b"\x00" * 32)))  # open server: AUTH is OK
        f = read()
        assert (f.request_id, f.kind) == (44, codec.Status.OK)
        assert codec.decode_response(f, codec.Op.AUTH).unwrap().permissions == codec.ALL_PERMISSIONS
        sock.sendall(codec.encode_request(45, codec.Ping()))  # still usable
        f = read()
        assert (f.request_id, f.kind) == (45, codec.Status.OK)

    sock, read = _raw(wxauthd)
    with sock:
        sock.sendall(struct.pack(">I", 0xFFFFFFFF) + b"\x01\x11\x00\x00\x00\x07")
        f = read()
        assert (f.request_id, f.kind) == (0, codec.Status.FRAME_TOO_LARGE)
        assert codec.ErrorBody.decode(f.kind, f.body).max_frame == 65536
        assert read() is None  # closed


def test_length_below_header_closes_the_connection(wxauthd):
    sock, read = _raw(wxauthd)
    with sock:
        sock.sendall(struct.pack(">I", 3) + b"\x01\x01\x00")
        f = read()
        assert (f.request_id, f.kind) == (0, codec.Status.MALFORMED_REQUEST)
        assert read() is None


def test_server_logs_never_contain_tokens_or_codes(start_wxauthd):
    server = start_wxauthd()
    secrets_seen = []
    with Client(server.host, server.port) as c:
        code = server.mint_code("leo")
        issued = c.login(server.dev_app_id, code)
        rotated = c.refresh(issued.token)
        c.validate(rotated.token)
        c.revoke(rotated.token)
        try:
            c.login(server.dev_app_id, code)
        except errors.WeChatRejected:
            pass
        with pytest.raises(errors.WeChatRejected):
            c.login(server.dev_app_id, "081invalidEXAMPLEcode")
        secrets_seen += [code, issued.token, rotated.token]
    server.stop()
    logs = server.logs()
    assert logs, "expected some log output on stderr"
    for s in secrets_seen:
        assert s not in logs
