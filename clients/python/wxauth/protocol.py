"""Client connection logic without I/O, shared by the blocking and the asyncio clients.

The I/O layer feeds received bytes to ``ClientProtocol.receive`` and writes what ``prepare`` returns; the protocol
tracks the HELLO handshake, request ids, pending requests and connection-level failures, and answers with
``Completion`` records (request id + OK body or exception).
"""
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple, Union

from . import codec
from .codec import Auth, FrameDecoder, Hello, Op, Request, Status
from .errors import ConnectionLost, DecodeError, NotAuthorized, ProtocolError, ShuttingDown, WxAuthError

# Responses are small (strings are u16-bounded); this only bounds memory against a broken peer.
MAX_INCOMING_FRAME = 4 * 1024 * 1024

ErrorFactory = Callable[[], WxAuthError]


@dataclass
class Completion:
    request_id: int
    op: Op
    value: Union[codec.OkBody, WxAuthError]

    @property
    def failed(self) -> bool:
        return isinstance(self.value, BaseException)


class ClientProtocol:
    """States: ``hello`` (waiting for the greeting) -> ``ready`` -> ``closed``.

    AUTH is an ordinary request sent by the I/O layer right after HELLO when ``hello.auth_required``; it must be
    answered before anything else is sent (a request racing ahead of AUTH would close the connection).
    """

    def __init__(self, max_incoming_frame: int = MAX_INCOMING_FRAME):
        self.state = "hello"
        self.hello: Optional[Hello] = None
        self.permissions: Optional[int] = None
        self.failure: Optional[ErrorFactory] = None
        # False once the server said SHUTTING_DOWN: finish what is pending, send nothing new here.
        self.reusable = True
        self._decoder = FrameDecoder(max_incoming_frame)
        self._pending: Dict[int, Op] = {}
        self._next_id = 1

    # --- sending ---

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    def _allocate_id(self) -> int:
        for _ in range(len(self._pending) + 1):
            rid = self._next_id
            self._next_id = 1 if rid >= codec.MAX_REQUEST_ID else rid + 1  # 0 is the server's
            if rid not in self._pending:
                return rid
        raise ProtocolError("no free request id")  # pragma: no cover - needs 2**32 pending requests

    def prepare(self, request: Request) -> Tuple[int, bytes]:
        """Encodes ``request`` under a fresh request id and registers it as pending."""
        if self.failure is not None:
            raise self.failure()
        if self.state != "ready" and not isinstance(request, Auth):
            raise ProtocolError(f"connection is {self.state}, not ready")
        data = request.encode_body()  # raises FieldLimitError before an id is spent
        rid = self._allocate_id()
        frame = codec.encode_frame(request.op, rid, data)
        if self.hello is not None and len(frame) - codec.LENGTH_PREFIX_SIZE > self.hello.max_frame:
            raise ProtocolError(f"request frame of {len(frame)} bytes exceeds the server's max_frame")
        self._pending[rid] = request.op
        return rid, frame

    def abandon(self, request_id: int) -> None:
        """Forget a request (timeout or cancellation): a late response to it is dropped."""
        self._pending.pop(request_id, None)

    def mark_ready(self, permissions: Optional[int] = None) -> None:
        self.state = "ready"
        self.permissions = permissions

    # --- receiving ---

    def receive(self, data: bytes) -> List[Completion]:
        if self.failure is not None:
            return []
        self._decoder.feed(data)
        out: List[Completion] = []
        try:
            for frame in self._decoder:
                self._on_frame(frame, out)
                if self.failure is not None:
                    break
        except DecodeError as exc:
            msg = f"undecodable frame from server: {exc}"
            out.extend(self.fail(lambda: ProtocolError(msg)))
        return out

    def receive_eof(self) -> List[Completion]:
        if self.failure is not None:
            return []
        what = "before HELLO" if self.state == "hello" else "with requests pending" if self._pending else ""
        msg = f"connection closed by server {what}".strip()
        return self.fail(lambda: ConnectionLost(msg))

    def fail(self, factory: ErrorFactory) -> List[Completion]:
        """Connection-level failure: every pending request completes with a fresh exception from ``factory``."""
        if self.failure is None:
            self.failure = factory
        self.state = "closed"
        self.reusable = False
        out = [Completion(rid, op, self.failure()) for rid, op in self._pending.items()]
        self._pending.clear()
        return out

    def _on_frame(self, frame: codec.Frame, out: List[Completion]) -> None:
        if frame.request_id == 0:
            self._on_server_frame(frame, out)
            return
        op = self._pending.pop(frame.request_id, None)
        if op is None:
            return  # a late answer to an abandoned request
        try:
            response = codec.decode_response(frame, op)
        except DecodeError as exc:
            out.append(Completion(frame.request_id, op, ProtocolError(f"undecodable {op.name} response: {exc}")))
            return
        if response.error is not None:
            err = response.error.to_exception(frame.request_id)
            if isinstance(err, ShuttingDown):
                self.reusable = False
            out.append(Completion(frame.request_id, op, err))
        else:
            assert response.result is not None
            out.append(Completion(frame.request_id, op, response.result))

    def _on_server_frame(self, frame: codec.Frame, out: List[Completion]) -> None:
        if frame.kind == Status.OK:
            if self.state != "hello":
                return  # nothing unsolicited is defined besides HELLO; ignore
            try:
                response = codec.decode_response(frame, Op.HELLO)
            except DecodeError as exc:
                msg = f"undecodable HELLO: {exc}"
                out.extend(self.fail(lambda: ProtocolError(msg)))
                return
            assert isinstance(response.result, Hello)
            self.hello = response.result
            self.state = "auth" if self.hello.auth_required else "ready"
            return
        # An error about the connection itself (framing, capacity, shutdown): the server closes it.
        try:
            body = codec.ErrorBody.decode(frame.kind, frame.body)
        except DecodeError:
            body = codec.ErrorBody(frame.kind, "", raw=frame.body)
        out.extend(self.fail(lambda: body.to_exception(0)))


def auth_request(hello: Hello, caller_id: Optional[str], caller_secret: Union[bytes, str, None]) -> Auth:
    """The AUTH request answering ``hello``, or ``NotAuthorized`` when no credentials are configured."""
    if caller_id is None or caller_secret is None:
        raise NotAuthorized("server requires authentication; configure caller_id and caller_secret")
    return Auth(caller_id, codec.auth_proof(caller_secret, hello.nonce))

