"""Blocking client against the in-memory fake server and scripted peers (no real wxauthd needed)."""
import threading
import time

import pytest

from scripted import ScriptedServer, hello_frame
from wxauth import Client, codec, errors
from wxauth.testing import DEV_APP_ID, FakeServer

APP = DEV_APP_ID


def test_login_validate_refresh_revoke(fake_server):
    with Client("127.0.0.1", fake_server.port) as c:
        assert c.hello.max_frame == 65536 and not c.hello.auth_required
        assert abs(c.ping() - time.time() * 1000) < 60_000
        issued = c.login(APP, "alice.1")
        assert len(issued.token) == 44 and issued.session.openid == "o-alice"
        session = c.validate(issued.token)
        assert session.app_id == APP and session.absolute_expires_at == issued.session.absolute_expires_at
        rotated = c.refresh(issued.token)
        assert rotated.token != issued.token and rotated.session.created_at == issued.session.created_at
        assert c.refresh(issued.token).token == rotated.token  # lost reply: same new token within grace
        c.revoke(rotated.token)
        with pytest.raises(errors.TokenRevoked):
            c.revoke(rotated.token)
        with pytest.raises(errors.InvalidToken) as info:
            c.validate("B" * 44)
        assert not info.value.retryable and info.value.request_id != 0


def test_login_errors_are_typed(fake_server):
    with Client("127.0.0.1", fake_server.port) as c:
        c.login(APP, "bob.1")
        with pytest.raises(errors.WeChatRejected) as info:
            c.login(APP, "bob.1")
        assert info.value.errcode == 40163 and not info.value.retryable
        with pytest.raises(errors.WeChatUnavailable) as info:
            c.login(APP, "busy.1")
        assert info.value.errcode == -1 and info.value.retryable
        with pytest.raises(errors.RateLimited) as info:
            c.login(APP, "quota.1")
        assert info.value.retry_after_ms == 60000 and info.value.errcode == 45011 and info.value.retryable
        with pytest.raises(errors.UnknownApp):
            c.login("wxnope", "bob.2")


def test_revoke_user_counts_sessions(fake_server):
    with Client("127.0.0.1", fake_server.port) as c:
        tokens = [c.login(APP, f"carol.{i}").token for i in range(3)]
        c.revoke(tokens[0])
        assert c.revoke_user(APP, "o-carol") == 2
        assert c.revoke_user(APP, "o-carol") == 0
        for t in tokens:
            with pytest.raises(errors.TokenRevoked):
                c.validate(t)


def test_responses_out_of_order_are_matched_by_request_id():
    with FakeServer(delays={"LOGIN": 0.4}) as srv, Client("127.0.0.1", srv.port) as c:
        slow = c.submit(codec.Login(APP, "dave.1"))
        t0 = time.monotonic()
        c.ping()  # sent after LOGIN, answered before it
        assert time.monotonic() - t0 < 0.3
        assert slow.result().session.openid == "o-dave"
        assert srv.connections == 1


def test_reversed_answers_land_in_call_order():
    batch = []

    def answer_in_reverse(rf, send):
        batch.append(rf)
        if len(batch) == 3:
            for i, r in enumerate(reversed(batch)):
                send(codec.encode_response(r.request_id, codec.RevokedCount(100 + r.request_id)))

    with ScriptedServer(answer_in_reverse) as srv, Client("127.0.0.1", srv.port) as c:
        p = c.pipeline()
        for i in range(3):
            p.revoke_user(APP, f"o{i}")
        ids = None
        results = p.execute()
        ids = [r.request_id for r in srv.received]
        assert results == [100 + i for i in ids]
        assert len(set(ids)) == 3 and 0 not in ids


def test_pipeline_of_100_validates_on_one_connection(fake_server):
    with Client("127.0.0.1", fake_server.port) as c:
        token = c.login(APP, "erin.1").token
        p = c.pipeline()
        for _ in range(100):
            p.validate(token)
        p.validate("C" * 44)
        results = p.execute(return_exceptions=True)
        assert all(s.openid == "o-erin" for s in results[:100])
        assert isinstance(results[100], errors.InvalidToken)
        with pytest.raises(errors.InvalidToken):
            c.pipeline().validate(token).validate("C" * 44).execute()
        assert fake_server.connections == 1


def test_many_threads_share_one_connection(fake_server):
    with Client("127.0.0.1", fake_server.port) as c:
        token = c.login(APP, "frank.1").token
        failures = []

        def worker():
            for _ in range(25):
                try:
                    assert c.validate(token).openid == "o-frank"
                except Exception as exc:  # pragma: no cover - reported below
                    failures.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert failures == [] and fake_server.connections == 1


def test_request_timeout_keeps_connection_and_drops_late_answer():
    with FakeServer(delays={"VALIDATE": 0.5}) as srv, Client("127.0.0.1", srv.port, timeout=0.1) as c:
        token = c.login(APP, "gina.1").token
        t0 = time.monotonic()
        with pytest.raises(errors.RequestTimeout) as info:
            c.validate(token)
        assert info.value.retryable and time.monotonic() - t0 < 0.4
        srv.delays.clear()
        time.sleep(0.6)  # the late answer arrives and must be ignored
        assert c.validate(token).openid == "o-gina"
        assert c.ping(timeout=2) > 0
        assert srv.connections == 1


def test_connect_refused_and_hello_timeout():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(errors.ConnectionLost):
        Client("127.0.0.1", port, connect_timeout=1).ping()
    with ScriptedServer(greeting=None) as silent:
        t0 = time.monotonic()
        with pytest.raises(errors.RequestTimeout):
            Client("127.0.0.1", silent.port, connect_timeout=0.3).ping()
        assert time.monotonic() - t0 < 2


def test_auth_when_hello_requires_it():
    callers = {"orders-api": ("s3cret", codec.ALL_PERMISSIONS), "reader": ("r34d", codec.Permission.VALIDATE)}
    with FakeServer(callers=callers) as srv:
        with Client("127.0.0.1", srv.port, caller_id="orders-api", caller_secret="s3cret") as c:
            assert c.hello.auth_required
            assert c.connect().permissions == codec.ALL_PERMISSIONS
            token = c.login(APP, "hank.1").token
            assert c.validate(token).openid == "o-hank"
        assert isinstance(srv.received[0].request, codec.Auth)  # AUTH went first
        with Client("127.0.0.1", srv.port, caller_id="reader", caller_secret=b"r34d") as c:
            assert c.validate(token).openid == "o-hank"
            with pytest.raises(errors.NotAuthorized):
                c.login(APP, "hank.2")
            assert c.ping() > 0  # a permission refusal keeps the connection
            assert c.connect().permissions == codec.Permission.VALIDATE | codec.Permission.PING
        with pytest.raises(errors.NotAuthorized):
            Client("127.0.0.1", srv.port, caller_id="orders-api", caller_secret="wrong").ping()
        with pytest.raises(errors.NotAuthorized):
            Client("127.0.0.1", srv.port).ping()


def test_shutting_down_moves_to_a_new_connection(fake_server):
    with Client("127.0.0.1", fake_server.port) as c:
        c.ping()
        fake_server.shutting_down = True
        with pytest.raises(errors.ShuttingDown) as info:
            c.ping()
        assert info.value.retryable
        fake_server.shutting_down = False
        assert c.ping() > 0
        assert fake_server.connections == 2


def test_idle_connection_closed_by_server_is_replaced():
    def answer_then_hang_up(rf, send):
        send(codec.encode_response(rf.request_id, codec.Pong(1)), close=True)

    with ScriptedServer(answer_then_hang_up) as srv, Client("127.0.0.1", srv.port) as c:
        assert c.ping() == 1
        time.sleep(0.1)
        assert c.ping() == 1
        assert srv.accepted == 2


def test_connection_lost_with_requests_pending():
    def hang_up(rf, send):
        send(b"", close=True)

    with ScriptedServer(hang_up) as srv, Client("127.0.0.1", srv.port) as c:
        with pytest.raises(errors.ConnectionLost) as info:
            c.ping()
        assert info.value.retryable


def test_connection_level_error_fails_every_pending_request():
    seen = []

    def framing_error_on_third(rf, send):
        seen.append(rf)
        if len(seen) == 3:
            body = codec.ErrorBody(codec.Status.FRAME_TOO_LARGE, "frame too large", max_frame=65536)
            send(codec.encode_response(0, body), close=True)

    with ScriptedServer(framing_error_on_third) as srv, Client("127.0.0.1", srv.port) as c:
        results = c.pipeline().ping().ping().ping().execute(return_exceptions=True)
        assert all(isinstance(r, errors.FrameTooLarge) and r.max_frame == 65536 for r in results)


def test_unknown_status_is_an_error_and_connection_is_kept():
    def unknown(rf):
        if isinstance(rf.request, codec.Validate):
            return codec.ErrorBody(0x7E, "", raw=b"\x00\x05hello")
        return None

    with FakeServer(hook=unknown) as srv, Client("127.0.0.1", srv.port) as c:
        with pytest.raises(errors.UnknownStatus) as info:
            c.validate("D" * 44)
        assert info.value.status == 0x7E and info.value.message == "hello" and not info.value.retryable
        assert c.ping() > 0 and srv.connections == 1


def test_error_greeting_is_raised():
    greeting = codec.encode_response(0, codec.ErrorBody(codec.Status.SERVER_FULL, "too many connections"))
    with ScriptedServer(greeting=greeting) as srv:
        with pytest.raises(errors.ServerFull):
            Client("127.0.0.1", srv.port).ping()


def test_bad_arguments_are_refused_before_sending(fake_server):
    with Client("127.0.0.1", fake_server.port) as c:
        with pytest.raises(errors.FieldLimitError):
            c.validate("")
        with pytest.raises(errors.FieldLimitError):
            c.login("a" * 65, "x")
        with pytest.raises(errors.FieldLimitError):
            c.pipeline().validate("t" * 129)
        c.ping()
        assert [type(r.request) for r in fake_server.received] == [codec.Ping]


def test_closed_client_refuses(fake_server):
    c = Client("127.0.0.1", fake_server.port)
    c.ping()
    c.close()
    with pytest.raises(errors.ConnectionLost):
        c.ping()


def test_hello_announced_max_frame_is_respected():
    with ScriptedServer(greeting=hello_frame(max_frame=40)) as srv, Client("127.0.0.1", srv.port) as c:
        assert c.hello.max_frame == 40
        with pytest.raises(errors.ProtocolError):
            c.validate("E" * 44)  # 6 + 2 + 44 = 52 > 40
