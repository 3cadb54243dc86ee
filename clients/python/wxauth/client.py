"""Blocking wxauthd client: one reused TCP connection, thread-safe, pipelined.

Any number of threads may call one ``Client`` at once: their requests share one connection and each waits only for
its own response (matched by request id; the server may answer out of order). There is no background thread: a
waiting caller reads the socket for everyone and hands other callers their responses.

    with Client("127.0.0.1", 7400) as wx:
        issued = wx.login("wx1234567890abcdef", code)
        session = wx.validate(issued.token)
"""
import select
import socket
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Union

from . import codec, failover
from .codec import (
    CheckSessionKey, Decrypt, Login, Op, PhoneNumber, PhoneNumberResult, Ping, Refresh, Request, ResetSessionKey, Revoke,
    RevokeUser, Session, TokenResult, Validate, VerifySignature,
)
from .errors import ConnectionLost, RequestTimeout, WxAuthError
from .protocol import ClientProtocol, Completion, auth_request

__all__ = ["Client", "Connection", "Pipeline", "Reply", "DEFAULT"]

_RECV_SIZE = 65536


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT: Any = _Default()  # "use the client's configured timeout"


def result_value(op: Op, body: codec.OkBody) -> Any:
    """What the client methods return for an OK body."""
    if isinstance(body, codec.Pong):
        return body.server_time
    if isinstance(body, codec.AuthResult):
        return body.permissions
    if isinstance(body, codec.SessionResult):
        return body.session
    if isinstance(body, codec.RevokedCount):
        return body.revoked
    if isinstance(body, codec.Empty):
        return None
    if isinstance(body, codec.DecryptResult):
        return body.data
    if isinstance(body, codec.SessionKeyCheck):
        return body.current
    return body  # TokenResult, PhoneNumberResult


def _deadline(timeout: Optional[float]) -> Optional[float]:
    return None if timeout is None else time.monotonic() + timeout


def _remaining(deadline: Optional[float]) -> Optional[float]:
    return None if deadline is None else deadline - time.monotonic()


class Connection:
    """One connected, greeted (and, when required, authenticated) TCP connection. Thread-safe."""

    def __init__(self, host: str, port: int, *, connect_timeout: Optional[float] = 5.0,
                 send_timeout: Optional[float] = 5.0, caller_id: Optional[str] = None,
                 caller_secret: Union[bytes, str, None] = None):
        self.host, self.port = host, port
        self._proto = ClientProtocol()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._write_lock = threading.Lock()
        self._done: Dict[int, Completion] = {}
        self._reading = False
        self._closed = False
        deadline = _deadline(connect_timeout)
        try:
            self._sock = socket.create_connection((host, port), timeout=connect_timeout)
        except socket.timeout:
            raise RequestTimeout(f"connecting to {host}:{port} timed out") from None
        except OSError as exc:
            raise ConnectionLost(f"cannot connect to {host}:{port}: {exc}") from exc
        try:
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock.settimeout(send_timeout)  # bounds sendall; reads are bounded with select()
            self._handshake(deadline, caller_id, caller_secret)
        except BaseException:
            self.close()
            raise

    # --- public state ---

    @property
    def hello(self) -> codec.Hello:
        assert self._proto.hello is not None
        return self._proto.hello

    @property
    def permissions(self) -> Optional[int]:
        return self._proto.permissions

    @property
    def usable(self) -> bool:
        with self._lock:
            return not self._closed and self._proto.failure is None and self._proto.reusable

    @property
    def pending_count(self) -> int:
        with self._lock:
            return self._proto.pending_count

    # --- handshake ---

    def _handshake(self, deadline: Optional[float], caller_id: Optional[str],
                   caller_secret: Union[bytes, str, None]) -> None:
        while True:
            with self._lock:
                if self._proto.failure is not None:
                    raise self._proto.failure()
                if self._proto.state != "hello":
                    break
            remaining = _remaining(deadline)
            if remaining is not None and remaining <= 0:
                raise RequestTimeout(f"no HELLO from {self.host}:{self.port} in time")
            self._read_once(remaining)
        if self._proto.state == "auth":
            request = auth_request(self.hello, caller_id, caller_secret)
            (rid,) = self.send([request])
            permissions = self.wait(rid, deadline)
            with self._lock:
                self._proto.mark_ready(permissions.permissions)
        else:
            with self._lock:
                self._proto.mark_ready(None)

    # --- sending and waiting ---

    def send(self, requests: Sequence[Request]) -> List[int]:
        """Writes the requests in one go; returns their request ids (in order)."""
        frames = []
        with self._lock:
            if self._closed:
                raise ConnectionLost("connection is closed")
            ids = []
            try:
                for request in requests:
                    rid, frame = self._proto.prepare(request)
                    ids.append(rid)
                    frames.append(frame)
            except BaseException:
                for rid in ids:
                    self._proto.abandon(rid)
                raise
        try:
            with self._write_lock:
                self._sock.sendall(b"".join(frames))
        except (OSError, ValueError) as exc:
            msg = f"send failed: {exc}"
            self._complete(self._locked(lambda: self._proto.fail(lambda: ConnectionLost(msg))))
            self._close_socket()
            for rid in ids:
                self._take(rid)
            raise ConnectionLost(msg) from exc
        return ids

    def wait(self, request_id: int, deadline: Optional[float]) -> codec.OkBody:
        """Waits for one response; returns its OK body or raises its error (``RequestTimeout`` at the deadline)."""
        while True:
            with self._cond:
                while True:
                    completion = self._done.pop(request_id, None)
                    if completion is not None:
                        if isinstance(completion.value, BaseException):
                            raise completion.value
                        return completion.value
                    remaining = _remaining(deadline)
                    if remaining is not None and remaining <= 0:
                        self._proto.abandon(request_id)
                        raise RequestTimeout(f"no response to request {request_id} in time")
                    if not self._reading:
                        self._reading = True
                        break
                    self._cond.wait(remaining)
            try:
                self._read_once(remaining)
            finally:
                with self._cond:
                    self._reading = False
                    self._cond.notify_all()

    def _take(self, request_id: int) -> None:
        with self._lock:
            self._done.pop(request_id, None)

    def _locked(self, fn):  # type: ignore[no-untyped-def]
        with self._lock:
            return fn()

    def _read_once(self, timeout: Optional[float]) -> None:
        """One bounded read; hands complete responses to their waiters."""
        try:
            readable, _, _ = select.select([self._sock], [], [], None if timeout is None else max(0.0, timeout))
            if not readable:
                return
            data = self._sock.recv(_RECV_SIZE)
        except (OSError, ValueError) as exc:
            msg = f"receive failed: {exc}"
            completions = self._locked(lambda: self._proto.fail(lambda: ConnectionLost(msg)))
        else:
            if data:
                completions = self._locked(lambda: self._proto.receive(data))
            else:
                completions = self._locked(self._proto.receive_eof)
        self._complete(completions)
        if self._proto.failure is not None:
            self._close_socket()

    def _complete(self, completions: List[Completion]) -> None:
        if not completions:
            return
        with self._cond:
            for c in completions:
                self._done[c.request_id] = c
            self._cond.notify_all()

    def retire(self) -> None:
        """No new requests: the connection closes once the requests in flight are answered (or time out)."""
        with self._lock:
            self._proto.reusable = False
        self.release_if_retired()

    def release_if_retired(self) -> None:
        """Closes a connection that may not be reused (SHUTTING_DOWN) once nothing is pending on it."""
        with self._lock:
            retire = not self._closed and not self._proto.reusable and self._proto.pending_count == 0
        if retire:
            self._close_socket()

    def poll(self) -> None:
        """Notices, without blocking, a connection the server closed while idle (so it is not reused)."""
        with self._cond:
            if self._reading or self._closed:
                return
            self._reading = True
        try:
            self._read_once(0.0)
        finally:
            with self._cond:
                self._reading = False
                self._cond.notify_all()

    # --- closing ---

    def _close_socket(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()

    def close(self) -> None:
        """Closes the socket; pending requests fail with ``ConnectionLost``."""
        self._complete(self._locked(lambda: self._proto.fail(lambda: ConnectionLost("connection closed by client"))))
        if hasattr(self, "_sock"):
            self._close_socket()


class Reply:
    """A request that has been sent; ``result()`` waits for its response."""

    def __init__(self, connection: Connection, request_id: int, op: Op, deadline: Optional[float]):
        self._connection = connection
        self.request_id = request_id
        self.op = op
        self._deadline = deadline
        self._outcome: Optional[tuple] = None

    def result(self) -> Any:
        if self._outcome is None:
            try:
                self._outcome = (True, result_value(self.op, self._connection.wait(self.request_id, self._deadline)))
            except WxAuthError as exc:
                self._outcome = (False, exc)
            self._connection.release_if_retired()
        ok, value = self._outcome
        if not ok:
            raise value
        return value

    def exception(self) -> Optional[WxAuthError]:
        try:
            self.result()
        except WxAuthError as exc:
            return exc
        return None


class Client:
    """A wxauthd client over one reused connection (reconnects when it was closed or the server is shutting down).

    ``timeout`` bounds each request (seconds, ``None`` = wait forever); ``connect_timeout`` bounds connecting and
    the HELLO/AUTH handshake. With ``caller_id`` and ``caller_secret`` the client answers a HELLO that requires
    authentication with AUTH; without them such a server is refused with ``NotAuthorized``.

    ``nodes`` (``["10.0.0.1:7400", ("10.0.0.2", 7400)]``, instead of ``host``/``port``) names several wxauthd
    nodes: the client uses one at a time and moves to the next when it is lost or answers a status about itself
    (SHUTTING_DOWN, STORE_UNAVAILABLE, SERVER_FULL, INTERNAL_ERROR); the request that met the failure is sent once
    more on the next node only when it is safe to repeat (``failover.SAFE_TO_REPEAT``: PING, VALIDATE, DECRYPT,
    VERIFY_SIGNATURE, CHECK_SESSION_KEY, LOGIN), never REFRESH, REVOKE, REVOKE_USER, RESET_SESSION_KEY or
    PHONE_NUMBER. Pipelines and ``submit`` go to the current node without fail-over.
    """

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
        self._conn: Optional[Connection] = None
        self._conn_lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"Client({self.host!r}, {self.port})"

    @property
    def current_node(self) -> "failover.Node":
        """The node the client uses now (or will connect to next)."""
        return self.nodes[self._node_index]

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- connection management ---

    def connect(self) -> Connection:
        """The current connection, opened (or replaced) as needed."""
        with self._conn_lock:
            if self._closed:
                raise ConnectionLost("client is closed")
            conn = self._conn
            if conn is not None and conn.usable and conn.pending_count == 0:
                conn.poll()  # an idle connection may have been closed by the server
            if conn is None or not conn.usable:
                if conn is not None and conn.pending_count == 0:
                    conn.close()
                if conn is not None and len(self.nodes) > 1:
                    # Closed by its node (graceful shutdown, idle timeout): that node is going away.
                    self._node_index = (self._node_index + 1) % len(self.nodes)
                self._conn = None
                conn = self._conn = self._connect_first_reachable()
            return conn

    def _connect_first_reachable(self) -> Connection:
        """Tries every node once, from the current one; the last error when none answers (under the lock)."""
        last: Optional[WxAuthError] = None
        for offset in range(len(self.nodes)):
            index = (self._node_index + offset) % len(self.nodes)
            host, port = self.nodes[index]
            try:
                conn = Connection(host, port, connect_timeout=self.connect_timeout, send_timeout=self.timeout,
                                  caller_id=self._caller_id, caller_secret=self._caller_secret)
            except WxAuthError as exc:
                if not failover.moves_to_another_node(exc):
                    raise  # NOT_AUTHORIZED and the like: the same on every node
                last = exc
                continue
            self._node_index = index
            self.host, self.port = host, port
            return conn
        assert last is not None
        raise last

    def _node_failed(self, conn: Connection) -> None:
        """``conn``'s node failed: leave it; the next connect starts with the next node."""
        with self._conn_lock:
            if self._conn is not conn:
                return  # another caller already moved on
            self._conn = None
            self._node_index = (self._node_index + 1) % len(self.nodes)
        conn.retire()  # requests still in flight there (a LOGIN waiting on WeChat) get their answers first

    @property
    def hello(self) -> codec.Hello:
        return self.connect().hello

    def close(self) -> None:
        with self._conn_lock:
            self._closed = True
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    # --- requests ---

    def submit(self, request: Request, *, timeout: Any = DEFAULT) -> Reply:
        """Sends ``request`` now and returns a ``Reply``; several submits pipeline on one connection."""
        return self._submit_many([request], timeout)[0]

    def _submit_many(self, requests: Sequence[Request], timeout: Any) -> List[Reply]:
        return self._submit_on(self.connect(), requests, timeout)

    def _submit_on(self, conn: Connection, requests: Sequence[Request], timeout: Any) -> List[Reply]:
        timeout = self.timeout if timeout is DEFAULT else timeout
        deadline = _deadline(timeout)
        ids = conn.send(requests)
        return [Reply(conn, rid, req.op, deadline) for rid, req in zip(ids, requests)]

    def request(self, request: Request, *, timeout: Any = DEFAULT) -> Any:
        """Sends one request and returns its result; with several nodes, fails over as the class says."""
        if len(self.nodes) == 1:
            return self.submit(request, timeout=timeout).result()
        repeated = False
        while True:
            conn = self.connect()
            try:
                return self._submit_on(conn, [request], timeout)[0].result()
            except WxAuthError as exc:
                if not failover.moves_to_another_node(exc):
                    raise
                self._node_failed(conn)
                if repeated or not failover.is_safe_to_repeat(request.op):
                    raise
                repeated = True

    def ping(self, *, timeout: Any = DEFAULT) -> int:
        """The server's clock, in Unix milliseconds."""
        return self.request(Ping(), timeout=timeout)

    def login(self, app_id: str, code: str, *, timeout: Any = DEFAULT) -> TokenResult:
        """Exchanges a ``wx.login`` code for a session token. Never retry with the same code after a timeout."""
        return self.request(Login(app_id, code), timeout=timeout)

    def validate(self, token: str, *, timeout: Any = DEFAULT) -> Session:
        return self.request(Validate(token), timeout=timeout)

    def refresh(self, token: str, *, timeout: Any = DEFAULT) -> TokenResult:
        return self.request(Refresh(token), timeout=timeout)

    def revoke(self, token: str, *, timeout: Any = DEFAULT) -> None:
        self.request(Revoke(token), timeout=timeout)

    def revoke_user(self, app_id: str, openid: str, *, timeout: Any = DEFAULT) -> int:
        """Ends every live session of the user; returns how many there were."""
        return self.request(RevokeUser(app_id, openid), timeout=timeout)

    # --- user data: the session_key stays in wxauthd ---

    def decrypt(self, token: str, encrypted_data: str, iv: str, *, timeout: Any = DEFAULT) -> str:
        """The plaintext JSON of ``encryptedData`` (raises ``DecryptFailed`` with a ``reason``)."""
        return self.request(Decrypt(token, encrypted_data, iv), timeout=timeout)

    def verify_signature(self, token: str, raw_data: str, signature: str, *, timeout: Any = DEFAULT) -> None:
        """Returns when ``signature == sha1(raw_data + session_key)``; raises ``SignatureMismatch`` otherwise."""
        self.request(VerifySignature(token, raw_data, signature), timeout=timeout)

    def phone_number(self, token: str, code: str, *, timeout: Any = DEFAULT) -> PhoneNumberResult:
        """The phone number for a getPhoneNumber button ``code`` (single use: do not retry with the same code)."""
        return self.request(PhoneNumber(token, code), timeout=timeout)

    def check_session_key(self, token: str, *, timeout: Any = DEFAULT) -> bool:
        """Whether WeChat still considers the session's stored session_key current."""
        return self.request(CheckSessionKey(token), timeout=timeout)

    def reset_session_key(self, token: str, *, timeout: Any = DEFAULT) -> None:
        """WeChat issues a new session_key; wxauthd stores it in the session (it is never returned)."""
        self.request(ResetSessionKey(token), timeout=timeout)

    def pipeline(self) -> "Pipeline":
        return Pipeline(self)


class Pipeline:
    """Collects requests, sends them in one write, and returns the results in call order.

        p = client.pipeline()
        for t in tokens:
            p.validate(t)
        sessions = p.execute(return_exceptions=True)
    """

    def __init__(self, client: Client):
        self._client = client
        self._requests: List[Request] = []

    def __len__(self) -> int:
        return len(self._requests)

    def add(self, request: Request) -> "Pipeline":
        request.encode_body()  # field limits are checked now, not halfway through execute()
        self._requests.append(request)
        return self

    def ping(self) -> "Pipeline":
        return self.add(Ping())

    def login(self, app_id: str, code: str) -> "Pipeline":
        return self.add(Login(app_id, code))

    def validate(self, token: str) -> "Pipeline":
        return self.add(Validate(token))

    def refresh(self, token: str) -> "Pipeline":
        return self.add(Refresh(token))

    def revoke(self, token: str) -> "Pipeline":
        return self.add(Revoke(token))

    def revoke_user(self, app_id: str, openid: str) -> "Pipeline":
        return self.add(RevokeUser(app_id, openid))

    def execute(self, *, timeout: Any = DEFAULT, return_exceptions: bool = False) -> List[Any]:
        """Sends everything, waits for every response (one deadline for the batch). With ``return_exceptions``
        errors take their request's place in the list; otherwise the first error is raised after all arrived."""
        requests, self._requests = self._requests, []
        if not requests:
            return []
        replies = self._client._submit_many(requests, timeout)
        results: List[Any] = []
        first_error: Optional[WxAuthError] = None
        for reply in replies:
            try:
                results.append(reply.result())
            except WxAuthError as exc:
                results.append(exc)
                first_error = first_error or exc
        if first_error is not None and not return_exceptions:
            raise first_error
        return results

