"""An in-memory fake wxauthd for tests of code that uses the clients (not a server to deploy).

It speaks protocol v1 with the same codec as the client and keeps sessions in a dict. Login codes are accepted
once each; the user is the part of the code before the first ``.`` (``"alice.1"`` logs in ``alice``). Codes
starting with ``invalid``, ``risky``, ``busy`` or ``quota`` produce WECHAT_REJECTED 40029, WECHAT_REJECTED 40226,
WECHAT_UNAVAILABLE -1 and RATE_LIMITED 45011. ``delays`` (op name -> seconds) delays answers, so responses come
back out of order. ``hook(request_frame)`` may return a body (or ``(body, delay)``) to answer instead.

Run standalone (used by the Node tests): ``python3 -m wxauth.testing --port 0 [--caller ID:SECRET]
[--delay LOGIN=0.2] [--idle-timeout S] [--grace S]``; prints ``{"event":"ready","port":P,...}`` on stdout.
"""
import argparse
import base64
import hmac
import json
import secrets
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, replace
from typing import Callable, Dict, List, Optional, Tuple

from . import codec
from .codec import ErrorBody, Status
from .errors import DecodeError, FrameTooLargeError, FrameTooShortError, UnknownOpcodeError, UnsupportedVersionError

DEV_APP_ID = "wxdevapp00000001"


def _now_ms() -> int:
    return int(time.time() * 1000)


def _new_token() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(33)).decode("ascii")


def _well_formed(token: str) -> bool:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return len(token) == 44 and all(c in alphabet for c in token)


@dataclass
class _Session:
    view: codec.Session
    token: str
    revoked: bool = False
    previous_token: Optional[str] = None
    rotated_at: float = 0.0


class FakeServer:
    def __init__(self, *, apps: Tuple[str, ...] = (DEV_APP_ID,), callers: Optional[Dict[str, Tuple[str, int]]] = None,
                 idle_timeout: float = 1800.0, absolute_lifetime: float = 43200.0, grace: float = 30.0,
                 max_frame: int = codec.DEFAULT_MAX_FRAME, delays: Optional[Dict[str, float]] = None,
                 hook: Optional[Callable[[codec.RequestFrame], object]] = None):
        self.apps = set(apps)
        self.callers = callers or {}  # caller_id -> (secret, permissions)
        self.idle_timeout = idle_timeout
        self.absolute_lifetime = absolute_lifetime
        self.grace = grace
        self.max_frame = max_frame
        self.delays = dict(delays or {})
        self.hook = hook
        self.shutting_down = False
        self.received: List[codec.RequestFrame] = []
        self.connections = 0
        self._sessions: Dict[str, _Session] = {}  # by current token
        self._old_tokens: Dict[str, _Session] = {}  # rotated-away tokens
        self._used_codes: set = set()
        self._lock = threading.Lock()
        self._listener: Optional[socket.socket] = None
        self._threads: List[threading.Thread] = []
        self._socks: List[socket.socket] = []
        self.port = 0

    # --- lifecycle ---

    def start(self) -> "FakeServer":
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self.port = self._listener.getsockname()[1]
        t = threading.Thread(target=self._accept_loop, name="fake-wxauthd-accept", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self) -> None:
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
        for s in list(self._socks):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def __enter__(self) -> "FakeServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            self._socks.append(sock)
            t = threading.Thread(target=self._serve, args=(sock,), name="fake-wxauthd-conn", daemon=True)
            t.start()

    # --- one connection ---

    def _serve(self, sock: socket.socket) -> None:
        write_lock = threading.Lock()
        state = {"authenticated": not self.callers, "permissions": codec.ALL_PERMISSIONS, "open": True}
        nonce = secrets.token_bytes(codec.NONCE_SIZE)

        def send(request_id: int, body: object, close: bool = False) -> None:
            data = codec.encode_response(request_id, body)  # type: ignore[arg-type]
            with write_lock:
                if not state["open"]:
                    return
                try:
                    sock.sendall(data)
                except OSError:
                    state["open"] = False
                    return
                if close:
                    state["open"] = False
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        flags = codec.HELLO_FLAG_AUTH_REQUIRED if self.callers else 0
        send(0, codec.Hello(flags, nonce, self.max_frame))
        decoder = codec.FrameDecoder(self.max_frame)
        try:
            while state["open"]:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                decoder.feed(data)
                try:
                    frames = list(decoder)
                except FrameTooLargeError as exc:
                    send(0, ErrorBody(Status.FRAME_TOO_LARGE, "frame exceeds the limit", max_frame=exc.limit), True)
                    return
                except FrameTooShortError:
                    send(0, ErrorBody(Status.MALFORMED_REQUEST, "frame shorter than the header"), True)
                    return
                for frame in frames:
                    self._on_frame(frame, state, nonce, send)
        finally:
            with write_lock:
                state["open"] = False
            sock.close()

    def _on_frame(self, frame: codec.Frame, state: dict, nonce: bytes, send: Callable[..., None]) -> None:
        rid = frame.request_id
        try:
            rf = codec.decode_request(frame, self.max_frame)
        except UnsupportedVersionError as exc:
            send(rid, ErrorBody(Status.UNSUPPORTED_VERSION, str(exc), supported=codec.VERSION))
            return
        except UnknownOpcodeError as exc:
            send(rid, ErrorBody(Status.UNKNOWN_OPCODE, str(exc)))
            return
        except DecodeError as exc:
            send(rid, ErrorBody(Status.MALFORMED_REQUEST, str(exc)))
            return
        with self._lock:
            self.received.append(rf)
        req = rf.request
        if isinstance(req, codec.Auth):
            if not self.callers:
                send(rid, codec.AuthResult(codec.ALL_PERMISSIONS))
                return
            entry = self.callers.get(req.caller_id)
            if entry is None or not hmac.compare_digest(codec.auth_proof(entry[0], nonce), req.proof):
                send(rid, ErrorBody(Status.NOT_AUTHORIZED, "authentication failed"), True)
                return
            state["authenticated"], state["permissions"] = True, entry[1] | codec.Permission.PING
            send(rid, codec.AuthResult(state["permissions"]))
            return
        if not state["authenticated"]:
            send(rid, ErrorBody(Status.NOT_AUTHORIZED, "authenticate first"), True)
            return
        if not state["permissions"] & codec.Permission[req.op.name]:
            send(rid, ErrorBody(Status.NOT_AUTHORIZED, f"caller may not {req.op.name}"))
            return
        delay = self.delays.get(req.op.name, 0.0)
        body: object = None
        if self.hook is not None:
            hooked = self.hook(rf)
            if isinstance(hooked, tuple):
                body, delay = hooked
            else:
                body = hooked
        if body is None:
            body = self.answer(req)
        if delay > 0:
            threading.Timer(delay, send, args=(rid, body)).start()
        else:
            send(rid, body)

    # --- semantics ---

    def answer(self, req: codec.Request) -> object:
        if self.shutting_down:
            return ErrorBody(Status.SHUTTING_DOWN, "server is shutting down")
        with self._lock:
            if isinstance(req, codec.Ping):
                return codec.Pong(_now_ms())
            if isinstance(req, codec.Login):
                return self._login(req)
            if isinstance(req, codec.RevokeUser):
                n = 0
                for s in self._sessions.values():
                    if not s.revoked and (s.view.app_id, s.view.openid) == (req.app_id, req.openid):
                        if self._expired(s) is None:
                            s.revoked = True
                            n += 1
                return codec.RevokedCount(n)
            assert isinstance(req, (codec.Validate, codec.Refresh, codec.Revoke))
            return self._token_op(req)

    def _login(self, req: codec.Login) -> object:
        if req.app_id not in self.apps:
            return ErrorBody(Status.UNKNOWN_APP, f"app {req.app_id} is not configured")
        for prefix, err in (("invalid", ErrorBody(Status.WECHAT_REJECTED, "invalid code", errcode=40029)),
                            ("risky", ErrorBody(Status.WECHAT_REJECTED, "high risk user", errcode=40226)),
                            ("busy", ErrorBody(Status.WECHAT_UNAVAILABLE, "system error", errcode=-1)),
                            ("quota", ErrorBody(Status.RATE_LIMITED, "api minute-quota reach limit", errcode=45011,
                                                retry_after_ms=60000))):
            if req.code.startswith(prefix):
                return err
        if req.code in self._used_codes:
            return ErrorBody(Status.WECHAT_REJECTED, "code been used", errcode=40163)
        self._used_codes.add(req.code)
        now = _now_ms()
        user = req.code.split(".", 1)[0]
        absolute = now + int(self.absolute_lifetime * 1000)
        view = codec.Session(req.app_id, "o-" + user, "", now, min(now + int(self.idle_timeout * 1000), absolute),
                             absolute)
        token = _new_token()
        self._sessions[token] = _Session(view, token)
        return codec.TokenResult(token, view)

    def _expired(self, s: _Session) -> Optional[ErrorBody]:
        if s.revoked:
            return ErrorBody(Status.TOKEN_REVOKED, "session revoked")
        if _now_ms() >= s.view.expires_at:
            return ErrorBody(Status.TOKEN_EXPIRED, "session expired")
        return None

    def _token_op(self, req: codec.Request) -> object:
        token = req.token  # type: ignore[attr-defined]
        if not _well_formed(token):
            return ErrorBody(Status.INVALID_TOKEN, "malformed token")
        old = self._old_tokens.get(token)
        if old is not None:
            within_grace = time.monotonic() - old.rotated_at <= self.grace
            if isinstance(req, codec.Refresh) and within_grace and not old.revoked:
                return self._expired(old) or codec.TokenResult(old.token, old.view)
            old.revoked = True
            return ErrorBody(Status.TOKEN_REVOKED, "token reuse detected; session revoked")
        s = self._sessions.get(token)
        if s is None:
            return ErrorBody(Status.INVALID_TOKEN, "unknown token")
        err = self._expired(s)
        if err is not None:
            return err
        if isinstance(req, codec.Revoke):
            s.revoked = True
            return codec.Empty()
        now = _now_ms()
        s.view = replace(s.view, expires_at=min(now + int(self.idle_timeout * 1000), s.view.absolute_expires_at))
        if isinstance(req, codec.Validate):
            return codec.SessionResult(s.view)
        new = _new_token()
        del self._sessions[token]
        s.previous_token, s.token, s.rotated_at = token, new, time.monotonic()
        self._sessions[new] = s
        self._old_tokens[token] = s
        return codec.TokenResult(new, s.view)


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m wxauth.testing", description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0, help="ignored: always an ephemeral port (reported on stdout)")
    p.add_argument("--caller", action="append", default=[], help="ID:SECRET (all permissions); enables AUTH")
    p.add_argument("--delay", action="append", default=[], help="OP=SECONDS")
    p.add_argument("--idle-timeout", type=float, default=1800.0)
    p.add_argument("--grace", type=float, default=30.0)
    args = p.parse_args(argv)
    callers = {}
    for c in args.caller:
        cid, _, secret = c.partition(":")
        callers[cid] = (secret, codec.ALL_PERMISSIONS)
    delays = {k: float(v) for k, _, v in (d.partition("=") for d in args.delay)}
    server = FakeServer(callers=callers, delays=delays, idle_timeout=args.idle_timeout, grace=args.grace).start()
    print(json.dumps({"event": "ready", "host": "127.0.0.1", "port": server.port, "dev_app_id": DEV_APP_ID}),
          flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
