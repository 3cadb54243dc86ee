"""asyncio wxauthd client: one connection, any number of concurrent requests matched by request id.

    async with AsyncClient("127.0.0.1", 7400) as wx:
        issued = await wx.login("wx1234567890abcdef", code)
        sessions = await asyncio.gather(*(wx.validate(t) for t in tokens))
"""
import asyncio
import socket
from typing import Any, Dict, Optional, Sequence, Union

from . import codec, failover
from .client import DEFAULT, result_value
from .codec import (
    CheckSessionKey, Decrypt, Login, PhoneNumber, PhoneNumberResult, Ping, Refresh, Request, ResetSessionKey, Revoke,
    RevokeUser, Session, TokenResult, Validate, VerifySignature,
)
from .errors import ConnectionLost, RequestTimeout, WxAuthError
from .protocol import ClientProtocol, Completion, auth_request

__all__ = ["AsyncClient", "AsyncConnection"]

_READ_SIZE = 65536


class AsyncConnection:
    """One greeted (and, when required, authenticated) connection with a reader task."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self._reader = reader
        self._writer = writer
        self._proto = ClientProtocol()
        self._futures: Dict[int, "asyncio.Future[Any]"] = {}
        self._drain_lock = asyncio.Lock()
        self._hello: "asyncio.Future[codec.Hello]" = asyncio.get_running_loop().create_future()
        self._closed = False
        self._task = asyncio.ensure_future(self._read_loop())

    @classmethod
    async def open(cls, host: str, port: int, *, connect_timeout: Optional[float] = 5.0,
                   caller_id: Optional[str] = None,
                   caller_secret: Union[bytes, str, None] = None) -> "AsyncConnection":
        loop = asyncio.get_running_loop()
        deadline = None if connect_timeout is None else loop.time() + connect_timeout

        def remaining() -> Optional[float]:
            return None if deadline is None else max(0.0, deadline - loop.time())

        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), connect_timeout)
        except asyncio.TimeoutError:
            raise RequestTimeout(f"connecting to {host}:{port} timed out") from None
        except OSError as exc:
            raise ConnectionLost(f"cannot connect to {host}:{port}: {exc}") from exc
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = cls(reader, writer)
        try:
            try:
                hello = await asyncio.wait_for(asyncio.shield(conn._hello), remaining())
            except asyncio.TimeoutError:
                raise RequestTimeout(f"no HELLO from {host}:{port} in time") from None
            if hello.auth_required:
                auth = await conn.request(auth_request(hello, caller_id, caller_secret), remaining())
                conn._proto.mark_ready(auth.permissions)
            else:
                conn._proto.mark_ready(None)
        except BaseException:
            await conn.close()
            raise
        return conn

    @property
    def hello(self) -> codec.Hello:
        return self._hello.result()

    @property
    def permissions(self) -> Optional[int]:
        return self._proto.permissions

    @property
    def usable(self) -> bool:
        return not self._closed and self._proto.failure is None and self._proto.reusable

    @property
    def pending_count(self) -> int:
        return len(self._futures)

    async def _read_loop(self) -> None:
        try:
            while True:
                try:
                    data = await self._reader.read(_READ_SIZE)
                except (OSError, asyncio.IncompleteReadError) as exc:
                    msg = f"receive failed: {exc}"
                    self._resolve(self._proto.fail(lambda: ConnectionLost(msg)))
                    break
                self._resolve(self._proto.receive(data) if data else self._proto.receive_eof())
                if self._proto.failure is not None:
                    break
        except asyncio.CancelledError:
            self._resolve(self._proto.fail(lambda: ConnectionLost("connection closed by client")))
            raise
        finally:
            self._close_transport()

    def _resolve(self, completions: "list[Completion]") -> None:
        if not self._hello.done():
            if self._proto.failure is not None:
                self._hello.set_exception(self._proto.failure())
            elif self._proto.hello is not None:
                self._hello.set_result(self._proto.hello)
        for c in completions:
            fut = self._futures.pop(c.request_id, None)
            if fut is None or fut.done():
                continue
            if isinstance(c.value, BaseException):
                fut.set_exception(c.value)
            else:
                fut.set_result(c.value)

    async def request(self, request: Request, timeout: Optional[float]) -> Any:
        """Sends one request and waits for its OK body (raises its error, ``RequestTimeout``, ...)."""
        if self._closed:
            raise ConnectionLost("connection is closed")
        rid, frame = self._proto.prepare(request)
        fut: "asyncio.Future[Any]" = asyncio.get_running_loop().create_future()
        self._futures[rid] = fut
        try:
            self._writer.write(frame)
            async with self._drain_lock:  # Python 3.9 does not allow concurrent drain() calls
                await self._writer.drain()
        except (OSError, RuntimeError) as exc:
            msg = f"send failed: {exc}"
            self._resolve(self._proto.fail(lambda: ConnectionLost(msg)))
            self._close_transport()
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise RequestTimeout(f"no response to request {rid} in time") from None
        finally:
            if not fut.done() or fut.cancelled():
                self._proto.abandon(rid)
                self._futures.pop(rid, None)
            if not self._proto.reusable and not self._futures:
                self._close_transport()

    def _close_transport(self) -> None:
        if not self._closed:
            self._closed = True
            self._writer.close()

    async def close(self) -> None:
        self._resolve(self._proto.fail(lambda: ConnectionLost("connection closed by client")))
        self._close_transport()
        if not self._task.done():
            self._task.cancel()
        try:
            await self._task
        except (asyncio.CancelledError, Exception):
            pass
        try:
            await self._writer.wait_closed()
        except (OSError, ConnectionError):
            pass
        if not self._hello.done():
            self._hello.cancel()
        elif not self._hello.cancelled():
            self._hello.exception()  # mark retrieved


class AsyncClient:
    """asyncio counterpart of ``wxauth.Client`` (same methods, awaited); reconnects when needed, and with
    ``nodes`` fails over between several wxauthd nodes exactly as ``wxauth.Client`` does."""

    def __init__(self, host: str = "127.0.0.1", port: int = 7400, *, timeout: Optional[float] = 5.0,
                 connect_timeout: Optional[float] = 5.0, caller_id: Optional[str] = None,
                 caller_secret: Union[bytes, str, None] = None, nodes: Optional[Sequence[Any]] = None):
        self.nodes = failover.parse_nodes(nodes if nodes is not None else [(host, port)])
        self._node_index = 0
        self.host, self.port = self.nodes[0]
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._caller_id = caller_id
        self._caller_secret = caller_secret
        self._conn: Optional[AsyncConnection] = None
        self._lock: Optional[asyncio.Lock] = None
        self._closed = False
        self._retired: "set[AsyncConnection]" = set()

    async def __aenter__(self) -> "AsyncClient":
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> AsyncConnection:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._closed:
                raise ConnectionLost("client is closed")
            conn = self._conn
            if conn is None or not conn.usable:
                if conn is not None:
                    if conn.pending_count == 0:
                        await conn.close()
                    else:
                        self._retired.add(conn)
                    if len(self.nodes) > 1:
                        # Closed by its node (graceful shutdown, idle timeout): that node is going away.
                        self._node_index = (self._node_index + 1) % len(self.nodes)
                self._conn = None
                self._conn = conn = await self._connect_first_reachable()
            for old in [c for c in self._retired if c.pending_count == 0]:
                self._retired.discard(old)
                await old.close()
            return conn

    @property
    def current_node(self) -> "failover.Node":
        """The node the client uses now (or will connect to next)."""
        return self.nodes[self._node_index]

    async def _connect_first_reachable(self) -> AsyncConnection:
        last: Optional[WxAuthError] = None
        for offset in range(len(self.nodes)):
            index = (self._node_index + offset) % len(self.nodes)
            host, port = self.nodes[index]
            try:
                conn = await AsyncConnection.open(host, port, connect_timeout=self.connect_timeout,
                                                  caller_id=self._caller_id, caller_secret=self._caller_secret)
            except WxAuthError as exc:
                if not failover.moves_to_another_node(exc):
                    raise
                last = exc
                continue
            self._node_index = index
            self.host, self.port = host, port
            return conn
        assert last is not None
        raise last

    async def _node_failed(self, conn: AsyncConnection) -> None:
        if self._conn is not conn:
            return  # another request already moved on
        self._conn = None
        self._node_index = (self._node_index + 1) % len(self.nodes)
        if conn.pending_count == 0:
            await conn.close()
        else:
            self._retired.add(conn)

    @property
    def hello(self) -> codec.Hello:
        if self._conn is None:
            raise ConnectionLost("not connected")
        return self._conn.hello

    async def close(self) -> None:
        self._closed = True
        conns = list(self._retired) + ([self._conn] if self._conn is not None else [])
        self._conn = None
        self._retired.clear()
        for conn in conns:
            await conn.close()

    async def request(self, request: Request, *, timeout: Any = DEFAULT) -> Any:
        timeout = self.timeout if timeout is DEFAULT else timeout
        repeated = False
        while True:
            conn = await self.connect()
            try:
                return result_value(request.op, await conn.request(request, timeout))
            except WxAuthError as exc:
                if len(self.nodes) == 1 or not failover.moves_to_another_node(exc):
                    raise
                await self._node_failed(conn)
                if repeated or not failover.is_safe_to_repeat(request.op):
                    raise
                repeated = True

    async def ping(self, *, timeout: Any = DEFAULT) -> int:
        return await self.request(Ping(), timeout=timeout)

    async def login(self, app_id: str, code: str, *, timeout: Any = DEFAULT) -> TokenResult:
        return await self.request(Login(app_id, code), timeout=timeout)

    async def validate(self, token: str, *, timeout: Any = DEFAULT) -> Session:
        return await self.request(Validate(token), timeout=timeout)

    async def refresh(self, token: str, *, timeout: Any = DEFAULT) -> TokenResult:
        return await self.request(Refresh(token), timeout=timeout)

    async def revoke(self, token: str, *, timeout: Any = DEFAULT) -> None:
        await self.request(Revoke(token), timeout=timeout)

    async def revoke_user(self, app_id: str, openid: str, *, timeout: Any = DEFAULT) -> int:
        return await self.request(RevokeUser(app_id, openid), timeout=timeout)

    async def decrypt(self, token: str, encrypted_data: str, iv: str, *, timeout: Any = DEFAULT) -> str:
        return await self.request(Decrypt(token, encrypted_data, iv), timeout=timeout)

    async def verify_signature(self, token: str, raw_data: str, signature: str, *, timeout: Any = DEFAULT) -> None:
        await self.request(VerifySignature(token, raw_data, signature), timeout=timeout)

    async def phone_number(self, token: str, code: str, *, timeout: Any = DEFAULT) -> PhoneNumberResult:
        return await self.request(PhoneNumber(token, code), timeout=timeout)

    async def check_session_key(self, token: str, *, timeout: Any = DEFAULT) -> bool:
        return await self.request(CheckSessionKey(token), timeout=timeout)

    async def reset_session_key(self, token: str, *, timeout: Any = DEFAULT) -> None:
        await self.request(ResetSessionKey(token), timeout=timeout)
