"""Several wxauthd nodes: the client moves on when a node is lost or answers a status about itself, and repeats the
request on the next node only when it is safe to (PROTOCOL.md "Clients and several nodes")."""
import asyncio
import socket
import threading
import time

import pytest

import support
from scripted import ScriptedServer
from wxauth import AsyncClient, Client, codec, errors, failover
from wxauth.codec import Op, Status

TOKEN = "A" * 44


def shutting_down(rf, send):
    send(codec.encode_response(rf.request_id, codec.ErrorBody(Status.SHUTTING_DOWN, "scripted")))


def hang_up(rf, send):
    send(b"", close=True)


def refused_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_the_rule_as_a_table():
    for op in (Op.PING, Op.VALIDATE, Op.DECRYPT, Op.VERIFY_SIGNATURE, Op.CHECK_SESSION_KEY, Op.LOGIN):
        assert failover.is_safe_to_repeat(op)
    for op in (Op.REFRESH, Op.REVOKE, Op.REVOKE_USER, Op.RESET_SESSION_KEY, Op.PHONE_NUMBER, Op.AUTH):
        assert not failover.is_safe_to_repeat(op)
    assert failover.moves_to_another_node(errors.ConnectionLost("x"))
    assert failover.moves_to_another_node(errors.RequestTimeout("x"))
    for status in (Status.SHUTTING_DOWN, Status.STORE_UNAVAILABLE, Status.SERVER_FULL, Status.INTERNAL_ERROR):
        exc = errors.error_for_status(status, message="m")
        assert exc.retryable and failover.moves_to_another_node(exc)
    for status in (Status.WECHAT_UNAVAILABLE, Status.RATE_LIMITED, Status.INVALID_TOKEN, Status.NOT_AUTHORIZED, 0x3E):
        assert not failover.moves_to_another_node(errors.error_for_status(status, message="m"))
    assert failover.parse_nodes(["10.0.0.1:7400", ("h", 7401), "[::1]:7402"]) == [
        ("10.0.0.1", 7400), ("h", 7401), ("::1", 7402)]
    for bad in (["nohost"], [":1"], ["h:0"], []):
        with pytest.raises(ValueError):
            failover.parse_nodes(bad)


def test_a_killed_node_is_left_and_the_client_continues_on_the_other(start_wxauthd):
    first, second = start_wxauthd(), start_wxauthd()
    nodes = [f"127.0.0.1:{first.port}", ("127.0.0.1", second.port)]
    with Client(nodes=nodes, timeout=10) as wx:
        on_first = wx.login(first.dev_app_id, first.mint_code("alice"))
        assert wx.validate(on_first.token).openid == on_first.session.openid
        assert wx.current_node == ("127.0.0.1", first.port)
        first.proc.kill()
        first.proc.wait()
        assert wx.ping() > 0  # PING is safe to repeat: answered by the other node
        assert wx.current_node == ("127.0.0.1", second.port)
        on_second = wx.login(second.dev_app_id, second.mint_code("bob"))
        refreshed = wx.refresh(on_second.token)
        assert wx.validate(refreshed.token).openid == on_second.session.openid
        # In-memory nodes share no sessions (a Redis store does): the first node's token is unknown here.
        with pytest.raises(errors.InvalidToken):
            wx.validate(on_first.token)


def test_async_client_fails_over_too(start_wxauthd):
    first, second = start_wxauthd(), start_wxauthd()

    async def main():
        async with AsyncClient(nodes=[("127.0.0.1", first.port), ("127.0.0.1", second.port)], timeout=10) as wx:
            assert await wx.ping() > 0
            assert wx.current_node == ("127.0.0.1", first.port)
            first.proc.kill()
            first.proc.wait()
            assert await wx.ping() > 0
            assert wx.current_node == ("127.0.0.1", second.port)
            issued = await wx.login(second.dev_app_id, second.mint_code("carol"))
            assert (await wx.validate(issued.token)).openid == issued.session.openid

    asyncio.run(main())


def test_shutting_down_moves_the_client_and_only_safe_requests_go_again(wxauthd):
    with ScriptedServer(shutting_down) as draining:
        nodes = [("127.0.0.1", draining.port), ("127.0.0.1", wxauthd.port)]
        with Client(nodes=nodes) as wx:
            with pytest.raises(errors.ShuttingDown):
                wx.revoke(TOKEN)  # may have changed state: not repeated
            assert [rf.request.op for rf in draining.received] == [Op.REVOKE]
            issued = wx.login(wxauthd.dev_app_id, wxauthd.mint_code("dave"))
            assert wx.current_node == ("127.0.0.1", wxauthd.port)
        with Client(nodes=nodes) as wx:
            assert wx.validate(issued.token).openid == issued.session.openid  # repeated on the next node
            assert [rf.request.op for rf in draining.received] == [Op.REVOKE, Op.VALIDATE]


def test_a_lost_connection_repeats_login_but_never_refresh(wxauthd):
    with ScriptedServer(hang_up) as lost:
        nodes = [("127.0.0.1", lost.port), ("127.0.0.1", wxauthd.port)]
        with Client(nodes=nodes) as wx:
            issued = wx.login(wxauthd.dev_app_id, wxauthd.mint_code("erin"))
            assert wx.validate(issued.token).openid == issued.session.openid
            assert [rf.request.op for rf in lost.received] == [Op.LOGIN]
        with Client(nodes=nodes) as wx:
            with pytest.raises(errors.ConnectionLost):
                wx.refresh(issued.token)
            assert [rf.request.op for rf in lost.received] == [Op.LOGIN, Op.REFRESH]
            # The refresh never reached the live node: the session is unchanged there.
            assert wx.validate(issued.token).openid == issued.session.openid


def test_a_node_down_at_start_is_skipped(wxauthd):
    with Client(nodes=[("127.0.0.1", refused_port()), ("127.0.0.1", wxauthd.port)]) as wx:
        with pytest.raises(errors.InvalidToken):
            wx.refresh(TOKEN)  # nothing reached the dead node, so even a REFRESH goes on
        assert wx.current_node == ("127.0.0.1", wxauthd.port)


def test_leaving_a_node_lets_it_answer_what_it_was_already_asked(wxauthd):
    held = []

    def draining(rf, send):
        if rf.request.op == Op.PING:
            held.append(rf.request_id)
            return
        send(codec.encode_response(rf.request_id, codec.ErrorBody(Status.SHUTTING_DOWN, "scripted")))
        ids = list(held)
        held.clear()

        def later():  # a draining node finishes slower work after it refused new work
            time.sleep(0.3)
            send(b"".join(codec.encode_response(i, codec.Pong(42)) for i in ids))

        threading.Thread(target=later, daemon=True).start()

    with ScriptedServer(draining) as node:
        with Client(nodes=[("127.0.0.1", node.port), ("127.0.0.1", wxauthd.port)]) as wx:
            result = {}
            pinger = threading.Thread(target=lambda: result.setdefault("ping", wx.ping()))
            pinger.start()
            assert support.wait_until(lambda: node.received, 5.0)
            with pytest.raises(errors.InvalidToken):  # repeated on the next node
                wx.validate(TOKEN)
            pinger.join(10)
            assert result.get("ping") == 42, "the PING in flight got the draining node's own answer"
            assert wx.current_node == ("127.0.0.1", wxauthd.port)

