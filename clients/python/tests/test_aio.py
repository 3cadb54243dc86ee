"""asyncio client against the fake server and scripted peers (plain pytest: each test runs its own loop)."""
import asyncio
import time

import pytest

from scripted import ScriptedServer
from wxauth import AsyncClient, codec, errors
from wxauth.testing import DEV_APP_ID, FakeServer

APP = DEV_APP_ID


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_flow_and_concurrency(fake_server):
    async def main():
        async with AsyncClient("127.0.0.1", fake_server.port) as c:
            assert not c.hello.auth_required
            issued = await c.login(APP, "ivy.1")
            sessions = await asyncio.gather(*(c.validate(issued.token) for _ in range(100)))
            assert {s.openid for s in sessions} == {"o-ivy"}
            rotated = await c.refresh(issued.token)
            assert (await c.refresh(issued.token)).token == rotated.token
            assert await c.revoke_user(APP, "o-ivy") == 1
            with pytest.raises(errors.TokenRevoked):
                await c.validate(rotated.token)
            with pytest.raises(errors.InvalidToken):
                await c.validate("F" * 44)
        assert fake_server.connections == 1

    run(main())


def test_out_of_order():
    async def main():
        with FakeServer(delays={"LOGIN": 0.4}) as srv:
            async with AsyncClient("127.0.0.1", srv.port) as c:
                order = []

                async def login():
                    await c.login(APP, "jack.1")
                    order.append("login")

                async def ping():
                    await asyncio.sleep(0.05)
                    await c.ping()
                    order.append("ping")

                await asyncio.gather(login(), ping())
                assert order == ["ping", "login"]

    run(main())


def test_timeout_and_cancellation_keep_connection():
    async def main():
        with FakeServer(delays={"VALIDATE": 0.5}) as srv:
            async with AsyncClient("127.0.0.1", srv.port, timeout=0.1) as c:
                token = (await c.login(APP, "kim.1")).token
                with pytest.raises(errors.RequestTimeout):
                    await c.validate(token)
                task = asyncio.ensure_future(c.validate(token, timeout=None))
                await asyncio.sleep(0.05)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                srv.delays.clear()
                await asyncio.sleep(0.6)
                assert (await c.validate(token)).openid == "o-kim"
                assert srv.connections == 1

    run(main())


def test_auth_and_refusals():
    callers = {"svc": ("k3y", codec.ALL_PERMISSIONS)}

    async def main():
        with FakeServer(callers=callers) as srv:
            async with AsyncClient("127.0.0.1", srv.port, caller_id="svc", caller_secret="k3y") as c:
                assert c.hello.auth_required
                assert await c.ping() > 0
            with pytest.raises(errors.NotAuthorized):
                async with AsyncClient("127.0.0.1", srv.port, caller_id="svc", caller_secret="nope") as c:
                    await c.ping()
            with pytest.raises(errors.NotAuthorized):
                async with AsyncClient("127.0.0.1", srv.port) as c:
                    await c.ping()

    run(main())


def test_reconnects_after_shutting_down_and_hangup(fake_server):
    async def main():
        async with AsyncClient("127.0.0.1", fake_server.port) as c:
            await c.ping()
            fake_server.shutting_down = True
            with pytest.raises(errors.ShuttingDown):
                await c.ping()
            fake_server.shutting_down = False
            assert await c.ping() > 0
        assert fake_server.connections == 2

        def hang_up(rf, send):
            send(codec.encode_response(rf.request_id, codec.Pong(5)), close=True)

        with ScriptedServer(hang_up) as srv:
            async with AsyncClient("127.0.0.1", srv.port) as c:
                assert await c.ping() == 5
                await asyncio.sleep(0.1)
                assert await c.ping() == 5
            assert srv.accepted == 2

    run(main())


def test_hello_timeout_and_connection_lost():
    async def main():
        with ScriptedServer(greeting=None) as silent:
            t0 = time.monotonic()
            with pytest.raises(errors.RequestTimeout):
                await AsyncClient("127.0.0.1", silent.port, connect_timeout=0.3).connect()
            assert time.monotonic() - t0 < 2

        def hang_up(rf, send):
            send(b"", close=True)

        with ScriptedServer(hang_up) as srv:
            async with AsyncClient("127.0.0.1", srv.port) as c:
                with pytest.raises(errors.ConnectionLost):
                    await c.ping()

    run(main())


def test_close_fails_pending():
    async def main():
        with FakeServer(delays={"PING": 5}) as srv:
            c = AsyncClient("127.0.0.1", srv.port, timeout=None)
            await c.connect()
            task = asyncio.ensure_future(c.ping())
            await asyncio.sleep(0.05)
            await c.close()
            with pytest.raises(errors.ConnectionLost):
                await task

    run(main())
