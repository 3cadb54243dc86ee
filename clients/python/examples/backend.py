#!/usr/bin/env python3
"""Example app backend for a WeChat mini program, using wxauthd for login sessions (tutorial steps 3 and 4).

    POST /login   {"code": "<wx.login code>"}  -> 200 {"token": "...", "expiresAt": <unix ms>}
    POST /refresh Authorization: Bearer <token> -> 200 {"token": "<new>", "expiresAt": <unix ms>} (the old one stops)
    GET  /me      Authorization: Bearer <token> -> 200 {"openid": "...", "appId": "..."}
    POST /logout  Authorization: Bearer <token> -> 204 (the session is revoked)

Errors are JSON ``{"error": "<reason>", ...}``:
    401 missing_token | invalid_token | token_expired | token_revoked   (the mini program logs in again)
    400 invalid_request | invalid_code | wechat_rejected (+ errcode: get a new code with wx.login)
    429 rate_limited (+ Retry-After), 502 wechat_unavailable, 503 auth_unavailable | server_full, 500 misconfigured

Configuration (argv wins over env):
    --listen-host / BACKEND_HOST (127.0.0.1)   --listen-port / BACKEND_PORT (8080; 0 = any free port)
    --wxauthd-host / WXAUTHD_HOST (127.0.0.1)  --wxauthd-port / WXAUTHD_PORT (required)
    --app-id / WXAUTH_APP_ID (required)        WXAUTH_CALLER_ID / WXAUTH_CALLER_SECRET (when wxauthd wants AUTH)

When listening it prints one JSON line to stdout: {"event": "ready", "url": "http://HOST:PORT"}. Logs go to stderr
and never contain tokens, codes or secrets (only method, path without query, status and a reason).
"""
import argparse
import json
import logging
import math
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Optional, Tuple

try:
    import wxauth
except ImportError:  # running from a checkout without `pip install`
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import wxauth

log = logging.getLogger("wxauth.example.backend")

MAX_BODY = 4096
TOKEN_REASONS = {wxauth.InvalidToken: "invalid_token", wxauth.TokenExpired: "token_expired",
                 wxauth.TokenRevoked: "token_revoked"}


class ApiError(Exception):
    def __init__(self, status: int, reason: str, headers: Optional[Dict[str, str]] = None, **extra: Any):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers or {}
        self.extra = extra


def unauthorized(reason: str) -> ApiError:
    return ApiError(401, reason, {"WWW-Authenticate": f'Bearer error="{reason}"'})


def login_error(exc: wxauth.WxAuthError) -> ApiError:
    """Maps a LOGIN failure to an HTTP answer the mini program can act on."""
    if isinstance(exc, wxauth.WeChatRejected):
        return ApiError(400, "wechat_rejected", errcode=exc.errcode)
    if isinstance(exc, wxauth.WeChatUnavailable):
        return ApiError(502, "wechat_unavailable", errcode=exc.errcode)
    if isinstance(exc, wxauth.RateLimited):
        seconds = max(1, math.ceil(exc.retry_after_ms / 1000))
        return ApiError(429, "rate_limited", {"Retry-After": str(seconds)}, retryAfterMs=exc.retry_after_ms)
    if isinstance(exc, (wxauth.MalformedRequest, wxauth.FieldLimitError)):
        return ApiError(400, "invalid_code")
    return service_error(exc)


def service_error(exc: wxauth.WxAuthError) -> ApiError:
    if isinstance(exc, wxauth.ServerFull):
        return ApiError(503, "server_full", {"Retry-After": "5"})
    if isinstance(exc, (wxauth.UnknownApp, wxauth.NotAuthorized)):
        return ApiError(500, "misconfigured")
    return ApiError(503, "auth_unavailable", {"Retry-After": "1"})


class Handler(BaseHTTPRequestHandler):
    server_version = "wxauth-example-backend/1"
    protocol_version = "HTTP/1.1"
    server: "BackendServer"

    # --- plumbing ---

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's signature
        pass  # the default logs the request line; see _log for what is logged instead

    def _log(self, status: int, reason: str = "") -> None:
        path = self.path.split("?", 1)[0]
        log.info("%s %s -> %d %s", self.command, path, status, reason)

    def _send(self, status: int, payload: Optional[Dict[str, Any]] = None,
              headers: Optional[Dict[str, str]] = None, reason: str = "") -> None:
        body = b"" if payload is None else json.dumps(payload).encode("utf-8")
        self.send_response(status)
        if payload is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)
        self._log(status, reason)

    def _fail(self, err: ApiError) -> None:
        self._send(err.status, {"error": err.reason, **err.extra}, err.headers, err.reason)

    def _json_body(self) -> Dict[str, Any]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ApiError(400, "invalid_request") from None
        if length <= 0 or length > MAX_BODY:
            self.close_connection = True
            raise ApiError(413 if length > MAX_BODY else 400, "invalid_request")
        try:
            data = json.loads(self.rfile.read(length))
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "invalid_request") from None
        if not isinstance(data, dict):
            raise ApiError(400, "invalid_request")
        return data

    def _bearer(self) -> str:
        header = self.headers.get("Authorization")
        if not header:
            raise unauthorized("missing_token")
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise unauthorized("invalid_token")
        return token

    def _validate(self, token: str) -> wxauth.Session:
        try:
            session = self.server.wxauth.validate(token)
        except wxauth.FieldLimitError:
            raise unauthorized("invalid_token") from None
        except wxauth.TokenError as exc:
            raise unauthorized(TOKEN_REASONS.get(type(exc), "invalid_token")) from None
        except wxauth.WxAuthError as exc:
            raise service_error(exc) from None
        if session.app_id != self.server.app_id:  # a token of another app is no token here
            raise unauthorized("invalid_token")
        return session

    # --- routes ---

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        path = self.path.split("?", 1)[0]
        try:
            if path == "/login":
                self._login()
            elif path == "/refresh":
                self._refresh()
            elif path == "/logout":
                self._logout()
            else:
                self._fail(ApiError(404, "not_found"))
        except ApiError as err:
            self._fail(err)

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0]
        try:
            if path == "/me":
                session = self._validate(self._bearer())
                self._send(200, {"openid": session.openid, "appId": session.app_id})
            elif path == "/healthz":
                self._send(200, {"ok": True})
            else:
                self._fail(ApiError(404, "not_found"))
        except ApiError as err:
            self._fail(err)

    def _login(self) -> None:
        code = self._json_body().get("code")
        if not isinstance(code, str) or not code:
            raise ApiError(400, "invalid_code")
        try:
            issued = self.server.wxauth.login(self.server.app_id, code)
        except wxauth.WxAuthError as exc:
            err = login_error(exc)
            log.warning("login failed: %s errcode=%s", type(exc).__name__, getattr(exc, "errcode", "-"))
            raise err from None
        self._send(200, {"token": issued.token, "expiresAt": issued.session.expires_at})

    def _refresh(self) -> None:
        """REFRESH changes state: a client whose answer was lost may send the same token again within wxauthd's grace
        window and gets the same new token; the mini program client never sends it twice."""
        token = self._bearer()
        try:
            issued = self.server.wxauth.refresh(token)
        except wxauth.FieldLimitError:
            raise unauthorized("invalid_token") from None
        except wxauth.TokenError as exc:
            raise unauthorized(TOKEN_REASONS.get(type(exc), "invalid_token")) from None
        except wxauth.WxAuthError as exc:
            raise service_error(exc) from None
        if issued.session.app_id != self.server.app_id:
            raise unauthorized("invalid_token")
        self._send(200, {"token": issued.token, "expiresAt": issued.session.expires_at})

    def _logout(self) -> None:
        token = self._bearer()
        try:
            self.server.wxauth.revoke(token)
        except (wxauth.TokenError, wxauth.FieldLimitError):
            pass  # already unusable: logging out succeeded
        except wxauth.WxAuthError as exc:
            raise service_error(exc) from None
        self._send(204)


class BackendServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: Tuple[str, int], client: wxauth.Client, app_id: str):
        super().__init__(address, Handler)
        self.wxauth = client
        self.app_id = app_id

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def make_server(*, listen_host: str = "127.0.0.1", listen_port: int = 0, wxauthd_host: str = "127.0.0.1",
                wxauthd_port: int, app_id: str, caller_id: Optional[str] = None,
                caller_secret: Optional[str] = None, timeout: float = 10.0) -> BackendServer:
    """The backend, bound and ready for ``serve_forever()``; one shared, pipelined wxauthd client."""
    client = wxauth.Client(wxauthd_host, wxauthd_port, timeout=timeout, caller_id=caller_id,
                           caller_secret=caller_secret)
    return BackendServer((listen_host, listen_port), client, app_id)


def main(argv: Optional[list] = None) -> int:
    env = os.environ
    p = argparse.ArgumentParser(description="Example mini program backend using wxauthd.")
    p.add_argument("--listen-host", default=env.get("BACKEND_HOST", "127.0.0.1"))
    p.add_argument("--listen-port", type=int, default=int(env.get("BACKEND_PORT", "8080")))
    p.add_argument("--wxauthd-host", default=env.get("WXAUTHD_HOST", "127.0.0.1"))
    p.add_argument("--wxauthd-port", type=int, default=int(env["WXAUTHD_PORT"]) if env.get("WXAUTHD_PORT") else None)
    p.add_argument("--app-id", default=env.get("WXAUTH_APP_ID"))
    args = p.parse_args(argv)
    if args.wxauthd_port is None or not args.app_id:
        p.error("--wxauthd-port (WXAUTHD_PORT) and --app-id (WXAUTH_APP_ID) are required")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    server = make_server(listen_host=args.listen_host, listen_port=args.listen_port,
                         wxauthd_host=args.wxauthd_host, wxauthd_port=args.wxauthd_port, app_id=args.app_id,
                         caller_id=env.get("WXAUTH_CALLER_ID"), caller_secret=env.get("WXAUTH_CALLER_SECRET"))
    print(json.dumps({"event": "ready", "url": server.url}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.wxauth.close()
    return 0


def _stop_on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    sys.exit(main())
