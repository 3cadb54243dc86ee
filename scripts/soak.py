#!/usr/bin/env python3
"""Soak wxauthd under faults and load: floods, connection storms and kill -9 restarts (loopback only, bounded).

What it does, for ``--duration`` seconds (default 180; ``--quick``: 30 s with one restart):

* starts ``wechat-sim`` (its own process, so wxauthd can be killed and restarted against the same simulator) and
  ``wxauthd --config soak.json`` with a data directory, ``journal_flush`` ``always`` (``--flush interval`` to test
  the other policy), a server key (so persisted sessions verify after a restart) and one caller with ``ALL``
  permissions (so every connection goes through HELLO/AUTH);
* LOGIN flood: ``--login-threads`` threads mint codes at the simulator (``POST /sim/code``) and log in; every token
  answered OK is recorded with its openid and the moment of the answer;
* VALIDATE flood: ``--flood-conns`` raw connections authenticate, then pipeline VALIDATE/PING frames without
  reading any answer for 1-3 s (frames encoded with the project's Python codec), then close;
* connection storms every ``--storm-every`` seconds: ``--storm-size`` short connections (connect, HELLO, AUTH, PING,
  close) from several threads, plus ``--idle-conns`` connections that connect and never authenticate (closed by us
  after 3 s, before the server's authentication deadline, so they are not failed AUTHs);
* REFRESH/REVOKE of acknowledged tokens (what was acknowledged is recorded; an operation without an answer makes
  its token "uncertain", excluded from the checks);
* a well-behaved client in its own process (so this script's threads cannot delay it): one connection at a time,
  PING + VALIDATE of a token that is never changed, every ~100 ms, each latency recorded;
* every ``--restart-every`` seconds (default 30, counted from the end of the previous check): ``kill -9`` wxauthd,
  restart it on the same data directory and port (the binaries are copied to the temp dir first, so a rebuild in
  the tree during the run changes nothing), wait for its ready line, then VALIDATE every acknowledged token while the floods go on (REFRESH/REVOKE are
  paused during the check): a token from an acknowledged LOGIN/REFRESH must validate with its openid; a token
  rotated by an acknowledged REFRESH or ended by an acknowledged REVOKE must answer TOKEN_REVOKED (the refresh grace
  window is set to an hour, so checking a rotated token never counts as token reuse). At the end every token is
  checked once more against the running server.

Exit status 0 only when: no acknowledged change was lost (``always``; with ``--flush interval`` losses are reported
and must all fall within the documented flush window: answered less than 1 s before the kill), the well-behaved
client was served within ``--bound-ms`` (default 2000) every time the server was up (requests overlapping a restart
window, from kill to ready line, are reported apart), and no wxauthd exited on its own. 1 when a check failed,
2 when the soak could not run (missing binaries, wxauthd refused its configuration, ...). A JSON summary goes to
stdout; progress to stderr.

    swift build
    python3 scripts/soak.py --quick                     # ~30 s smoke run, one restart
    python3 scripts/soak.py                             # 180 s, a restart every 30 s
    python3 scripts/soak.py --flush interval --duration 300
    python3 scripts/soak.py --build-dir .build/release  # after swift build -c release

Everything runs on 127.0.0.1 on free ports, in a temporary directory (kept, with the logs, when a check fails or
with ``--keep``). Every child process is killed at the end, whatever happens. Needs Python 3.11 standard library
and the project's client in ``clients/python`` only. Linux (reads ``/proc`` for the server's RSS).

The simulator speaks plain http on loopback, which wxauthd accepts for a loopback host. A build that refuses
plain http outside ``--dev`` (before that was allowed) is started again with
``--dev --sim-port 0 --wechat-base-url <simulator>`` (``--dev`` only adds a loopback-only bind check, a dev app and
an unused embedded simulator; callers, keys and the data directory still come from the config file, and the soak
checks that HELLO requires AUTH). Other settings can be passed with ``--config-set KEY=JSON`` (merged into the
config file) or ``--wxauthd-arg ARG``.

Besides the checks, the summary reports what a careful client sees: LOGIN refusals by status (the first few with
their message and the longest pipelined batch that contained one), whether a LOGIN answered WECHAT_UNAVAILABLE
succeeded when retried with the same code, storm connections that failed while the server was up or down, how
long each restart took and how long until the well-behaved client was served again, the server's peak RSS and CPU.
"""
import argparse
import atexit
import collections
import datetime
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "clients" / "python"))

import wxauth  # noqa: E402
from wxauth import codec  # noqa: E402
from wxauth.codec import Auth, Op, Ping, Validate  # noqa: E402
from wxauth.errors import (  # noqa: E402
    ConnectionLost, InvalidToken, RateLimited, RequestTimeout, ServerError, TokenRevoked, WxAuthError,
)

APP_ID = "wxsoak0000000001"
CALLER_ID = "soak"
HOST = "127.0.0.1"
FLUSH_WINDOW_S = 1.0  # docs/PERSISTENCE.md: interval flushes every second

_children: List[subprocess.Popen] = []


def log(msg: str) -> None:
    sys.stderr.write(f"[soak {time.strftime('%H:%M:%S')}] {msg}\n")
    sys.stderr.flush()


def _kill_children() -> None:
    for proc in list(_children):
        if proc.poll() is None:
            try:
                proc.kill()
            except OSError:
                pass
    for proc in list(_children):
        try:
            proc.wait(timeout=5)
        except Exception:
            pass


atexit.register(_kill_children)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def percentile(sorted_values: List[float], p: float) -> Optional[float]:
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


class SoakError(Exception):
    """The soak could not run (exit 2)."""


# --- shared state ----------------------------------------------------------------------------------------------


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.c: collections.Counter = collections.Counter()

    def add(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.c[key] += n

    def get(self, key: str) -> int:
        with self._lock:
            return self.c[key]

    def with_prefix(self, prefix: str) -> Dict[str, int]:
        with self._lock:
            return {k[len(prefix):]: v for k, v in sorted(self.c.items()) if k.startswith(prefix)}


class Token:
    __slots__ = ("token", "openid", "state", "acked_at", "changed_at", "origin", "protected")

    def __init__(self, token: str, openid: str, acked_at: float, origin: str, protected: bool = False):
        self.token = token
        self.openid = openid
        self.state = "live"  # live | rotated | revoked | uncertain | lost
        self.acked_at = acked_at  # when the LOGIN/REFRESH that made it was answered OK
        self.changed_at = acked_at  # when the REFRESH/REVOKE that ended it was answered OK
        self.origin = origin  # LOGIN or REFRESH
        self.protected = protected  # the well-behaved client's token: never refreshed or revoked


class Ledger:
    """Every acknowledged token and what was acknowledged about it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tokens: Dict[str, Token] = {}
        self.live: List[str] = []  # candidates for VALIDATE / REFRESH / REVOKE (may hold stale entries)

    def add(self, token: str, openid: str, origin: str, protected: bool = False) -> None:
        with self.lock:
            self.tokens[token] = Token(token, openid, time.monotonic(), origin, protected)
            if not protected:
                self.live.append(token)

    def pick_live(self, rng: random.Random) -> Optional[str]:
        with self.lock:
            for _ in range(8):
                if not self.live:
                    return None
                i = rng.randrange(len(self.live))
                t = self.live[i]
                if self.tokens[t].state == "live":
                    return t
                self.live[i] = self.live[-1]
                self.live.pop()
            return None

    def set_state(self, token: str, state: str) -> None:
        with self.lock:
            rec = self.tokens[token]
            rec.state = state
            rec.changed_at = time.monotonic()

    def checkable(self) -> List[Token]:
        with self.lock:
            return [_copy(t) for t in self.tokens.values() if t.state in ("live", "rotated", "revoked")]

    def count(self, state: str) -> int:
        with self.lock:
            return sum(1 for t in self.tokens.values() if t.state == state)


def _copy(t: Token) -> Token:
    c = Token(t.token, t.openid, t.acked_at, t.origin, t.protected)
    c.state, c.changed_at = t.state, t.changed_at
    return c


class Shared:
    def __init__(self, args: argparse.Namespace, secret: str, port: int, sim_url: str):
        self.args = args
        self.secret = secret
        self.port = port
        self.sim_url = sim_url
        self.stop = threading.Event()
        self.up = threading.Event()
        self.gate = threading.Lock()  # held by REFRESH/REVOKE per operation, and by the checker for a whole check
        self.ledger = Ledger()
        self.n = Counters()
        self.t0 = time.monotonic()
        self.refusals: List[Dict[str, Any]] = []  # the first 5 of each status
        self.refusal_ms: Dict[str, float] = {}  # per status: longest LOGIN batch that contained one

    def note_refusal(self, op: str, exc: ServerError, took: Optional[float] = None) -> None:
        with self.ledger.lock:
            if took is not None:
                self.refusal_ms[exc.status_name] = max(self.refusal_ms.get(exc.status_name, 0.0), round(took * 1000, 1))
            if sum(1 for r in self.refusals if r["status"] == exc.status_name) < 5:
                self.refusals.append({"t_s": self.rel(time.monotonic()), "op": op, "status": exc.status_name,
                                      "message": str(exc)[:160], "server_up": self.up.is_set()})

    def rel(self, t: float) -> float:
        return round(t - self.t0, 3)


# --- children --------------------------------------------------------------------------------------------------


def wait_for_json_line(path: Path, proc: subprocess.Popen, key: str, timeout: float) -> Dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            for line in path.read_text(errors="replace").splitlines():
                line = line.strip()
                if line.startswith("{"):
                    try:
                        obj = json.loads(line)
                    except ValueError:
                        continue
                    if obj.get("event") == "ready" and key in obj:
                        return obj
        except FileNotFoundError:
            pass
        if proc.poll() is not None:
            raise SoakError(f"{proc.args[0]} exited with {proc.returncode} before its ready line")
        time.sleep(0.02)
    raise SoakError(f"no ready line from {proc.args[0]} within {timeout} s")


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


class Daemon:
    """wxauthd incarnations on one data directory and port."""

    def __init__(self, shared: Shared, binary: Path, config: Path, env: Dict[str, str], workdir: Path,
                 extra_args: List[str]):
        self.shared = shared
        self.binary = binary
        self.config = config
        self.env = env
        self.workdir = workdir
        self.extra_args = extra_args
        self.proc: Optional[subprocess.Popen] = None
        self.incarnation = 0
        self.killed_by_us = False
        self.peak_hwm_kb = 0
        self.peak_rss_kb = 0
        self.last_rss_kb = 0
        self.cpu_s = 0.0  # user + system seconds of the incarnations that ended
        self.cpu_now = 0.0  # of the running one
        self.log_path: Optional[Path] = None
        self.logs: List[str] = []

    def start(self, port: int, timeout: float = 60.0) -> float:
        self.incarnation += 1
        self.started = getattr(self, "started", 0)
        out = self.workdir / f"wxauthd-{self.incarnation}.out"
        self.log_path = self.workdir / f"wxauthd-{self.incarnation}.log"
        self.logs.append(str(self.log_path))
        cmd = [str(self.binary), "--config", str(self.config), "--port", str(port)] + self.extra_args
        with open(out, "wb") as o, open(self.log_path, "wb") as e:
            self.proc = subprocess.Popen(cmd, stdout=o, stderr=e, stdin=subprocess.DEVNULL, env=self.env)
        _children.append(self.proc)
        self.killed_by_us = False
        try:
            ready = wait_for_json_line(out, self.proc, "port", timeout)
        except SoakError as exc:
            raise SoakError(f"{exc}\n--- {self.log_path} ---\n{tail(self.log_path, 40)}") from None
        self.started += 1
        if int(ready["port"]) != port:
            raise SoakError(f"wxauthd listens on {ready['port']}, asked for {port}")
        return time.monotonic()

    def sample_rss(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            text = Path(f"/proc/{proc.pid}/status").read_text()
        except OSError:
            return
        try:
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            self.cpu_now = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                self.peak_hwm_kb = max(self.peak_hwm_kb, int(line.split()[1]))
            elif line.startswith("VmRSS:"):
                self.last_rss_kb = int(line.split()[1])
                self.peak_rss_kb = max(self.peak_rss_kb, self.last_rss_kb)

    def kill9(self) -> None:
        assert self.proc is not None
        self.sample_rss()
        self.killed_by_us = True
        self.cpu_s += self.cpu_now
        self.cpu_now = 0.0
        try:
            os.kill(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)

    def exited_on_its_own(self) -> Optional[int]:
        if self.proc is None or self.killed_by_us:
            return None
        return self.proc.poll()


# --- raw-socket helpers (VALIDATE flood and storms) ------------------------------------------------------------


def read_frame(sock: socket.socket, decoder: codec.FrameDecoder, deadline: float) -> codec.Frame:
    while True:
        frame = decoder.next_frame()
        if frame is not None:
            return frame
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("frame not complete in time")
        sock.settimeout(remaining)
        data = sock.recv(65536)
        if not data:
            raise ConnectionResetError("closed by server")
        decoder.feed(data)


def raw_connect(shared: Shared, timeout: float, authenticate: bool = True) -> Tuple[socket.socket, codec.FrameDecoder]:
    """Connects, reads HELLO (or the error frame in its place), authenticates. Raises ServerError for that frame."""
    deadline = time.monotonic() + timeout
    sock = socket.create_connection((HOST, shared.port), timeout=timeout)
    shared.n.add("connections_opened")
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        decoder = codec.FrameDecoder()
        hello = codec.decode_response(read_frame(sock, decoder, deadline), Op.HELLO).unwrap()
        if authenticate and hello.auth_required:
            proof = codec.auth_proof(shared.secret, hello.nonce)
            sock.sendall(codec.encode_frame(Op.AUTH, 1, Auth(CALLER_ID, proof).encode_body()))
            codec.decode_response(read_frame(sock, decoder, deadline), Op.AUTH).unwrap()
        return sock, decoder
    except BaseException:
        sock.close()
        raise


def outcome_name(exc: BaseException) -> str:
    if isinstance(exc, ServerError):
        return exc.status_name
    if isinstance(exc, (socket.timeout, RequestTimeout)):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, (ConnectionError, ConnectionLost, OSError)):
        return "connection_lost"
    return type(exc).__name__


# --- workload --------------------------------------------------------------------------------------------------


class Simulator:
    """Mints codes over the simulator's control API (one persistent HTTP connection per thread)."""

    def __init__(self, base_url: str):
        hostport = base_url.split("://", 1)[1].rstrip("/")
        self.host, port = hostport.rsplit(":", 1)
        self.port = int(port)
        self.conn: Optional[http.client.HTTPConnection] = None

    def mint(self, user: str) -> Tuple[str, str]:
        body = json.dumps({"appid": APP_ID, "user": user})
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
                self.conn.request("POST", "/sim/code", body, {"Content-Type": "application/json"})
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.status != 200:
                    raise SoakError(f"/sim/code answered {resp.status}: {data[:200]!r}")
                obj = json.loads(data)
                return obj["code"], obj["openid"]
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def new_client(shared: Shared, timeout: float) -> wxauth.Client:
    return wxauth.Client(HOST, shared.port, timeout=timeout, connect_timeout=min(timeout, 5.0),
                         caller_id=CALLER_ID, caller_secret=shared.secret)


def login_worker(shared: Shared, index: int) -> None:
    """Mints ``--login-pipeline`` codes, sends their LOGINs in one write, records every token answered OK.

    A code refused before WeChat was asked (RATE_LIMITED, STORE_UNAVAILABLE) is sent again later; so is a code
    answered WECHAT_UNAVAILABLE (at most twice), as its message says: "retry with the same code (its outcome is
    kept)". A code without an answer is never reused."""
    sim = Simulator(shared.sim_url)
    client = new_client(shared, 15.0)
    n = 0
    codes: List[Tuple[str, str, int]] = []  # (code, openid, WECHAT_UNAVAILABLE answers so far)
    try:
        while not shared.stop.is_set():
            if shared.n.get("login_attempts") >= shared.args.max_logins:
                shared.stop.wait(0.5)
                continue
            if not shared.up.is_set():
                shared.stop.wait(0.05)
                continue
            try:
                while len(codes) < shared.args.login_pipeline:
                    n += 1
                    code, openid = sim.mint(f"soak-{index}-{n}")
                    codes.append((code, openid, 0))
            except (OSError, http.client.HTTPException, SoakError) as exc:
                shared.n.add("sim_errors")
                log(f"login worker {index}: simulator: {exc}")
                shared.stop.wait(0.5)
                continue
            batch, codes = codes, []
            pipe = wxauth.Pipeline(client)
            for code, _, _ in batch:
                pipe.login(APP_ID, code)
            shared.n.add("login_attempts", len(batch))
            sent_at = time.monotonic()
            try:
                results = pipe.execute(return_exceptions=True)
            except (WxAuthError, OSError) as exc:  # not sent (connect or write failed)
                results = [exc] * len(batch)
            took = time.monotonic() - sent_at
            pause = 0.0
            for (code, openid, unavailable), r in zip(batch, results):
                if isinstance(r, RateLimited):  # checked before WeChat: the code is not spent, retry it later
                    shared.n.add("login_refused.RATE_LIMITED")
                    codes.append((code, openid, unavailable))
                    pause = max(pause, min(r.retry_after_ms / 1000.0, 0.25))
                elif isinstance(r, ServerError):
                    shared.n.add(f"login_refused.{r.status_name}")
                    shared.note_refusal("LOGIN", r, took)
                    if r.status_name == "STORE_UNAVAILABLE":  # refused before WeChat too
                        codes.append((code, openid, unavailable))
                    elif r.status_name == "WECHAT_UNAVAILABLE" and unavailable < 2:
                        codes.append((code, openid, unavailable + 1))
                    elif r.status_name == "WECHAT_UNAVAILABLE":
                        shared.n.add("login_retry_gave_up")
                    elif unavailable:
                        shared.n.add(f"login_retry_refused.{r.status_name}")
                elif isinstance(r, BaseException):
                    shared.n.add("login_no_answer" if shared.up.is_set() else "login_no_answer_restart")
                    pause = 0.05  # the code may be spent; never retry it
                else:
                    if r.session.openid != openid:
                        shared.n.add("login_wrong_openid")
                        log(f"LOGIN answered openid {r.session.openid} for a code of {openid}")
                    if unavailable:
                        shared.n.add("login_retry_recovered")
                    shared.ledger.add(r.token, r.session.openid, "LOGIN")
                    shared.n.add("login_ok")
            if pause:
                shared.stop.wait(pause)
    finally:
        client.close()


def mutator_worker(shared: Shared) -> None:
    """REFRESH (60 %) or REVOKE (40 %) of random acknowledged live tokens."""
    rng = random.Random(7)
    client = new_client(shared, 10.0)
    try:
        while not shared.stop.wait(shared.args.mutate_every):
            if not shared.up.is_set():
                continue
            with shared.gate:
                token = shared.ledger.pick_live(rng)
                if token is None:
                    continue
                try:
                    client.connect()
                except WxAuthError:
                    continue  # nothing was sent
                op = "refresh" if rng.random() < 0.6 else "revoke"
                shared.n.add(f"{op}_attempts")
                try:
                    if op == "refresh":
                        issued = client.refresh(token)
                    else:
                        client.revoke(token)
                except ServerError as exc:
                    shared.n.add(f"{op}_refused.{exc.status_name}")
                    shared.note_refusal(op.upper(), exc)
                    if isinstance(exc, (InvalidToken, TokenRevoked)) or exc.status_name == "TOKEN_EXPIRED":
                        rec = shared.ledger.tokens[token]
                        shared.n.add("unexpected_answers")
                        note = {"t": shared.rel(time.monotonic()), "op": op.upper(), "answer": exc.status_name,
                                "acked_age_s": round(time.monotonic() - rec.acked_at, 3)}
                        with shared.ledger.lock:
                            shared.unexpected.append(note)  # type: ignore[attr-defined]
                        log(f"{op.upper()} of an acknowledged live token answered {exc.status_name}: {note}")
                        shared.ledger.set_state(token, "lost")
                    continue
                except (ConnectionLost, RequestTimeout, OSError):
                    shared.n.add(f"{op}_no_answer")
                    shared.ledger.set_state(token, "uncertain")  # may or may not have happened
                    continue
                if op == "refresh":
                    shared.ledger.set_state(token, "rotated")
                    shared.ledger.add(issued.token, issued.session.openid, "REFRESH")
                else:
                    shared.ledger.set_state(token, "revoked")
                shared.n.add(f"{op}_ok")
    finally:
        client.close()


def validate_flood_worker(shared: Shared, index: int) -> None:
    """Authenticates, pipelines VALIDATE/PING without reading for 1-3 s, closes; again."""
    rng = random.Random(100 + index)
    garbage = [secrets.token_urlsafe(33)[:44] for _ in range(16)]
    while not shared.stop.is_set():
        if not shared.up.is_set():
            shared.stop.wait(0.05)
            continue
        try:
            sock, _ = raw_connect(shared, 5.0)
        except (ServerError, OSError) as exc:
            shared.n.add(f"flood_handshake_failed.{outcome_name(exc)}")
            shared.stop.wait(0.2)
            continue
        shared.n.add("flood_connections")
        hold_until = time.monotonic() + rng.uniform(1.0, 3.0)
        rid = 1
        try:
            sock.settimeout(0.2)
            blocked = False
            while time.monotonic() < hold_until and not shared.stop.is_set():
                if blocked:  # the server stopped reading us (backpressure): just hold the connection
                    time.sleep(0.05)
                    continue
                frames = []
                for _ in range(200):
                    rid += 1
                    r = rng.random()
                    if r < 0.1:
                        frames.append(codec.encode_frame(Op.PING, rid, Ping().encode_body()))
                    else:
                        tok = shared.ledger.pick_live(rng) if r < 0.7 else rng.choice(garbage)
                        frames.append(codec.encode_frame(Op.VALIDATE, rid, Validate(tok or garbage[0]).encode_body()))
                data = b"".join(frames)
                try:
                    sent = 0
                    while sent < len(data):
                        sent += sock.send(data[sent:])
                except socket.timeout:
                    blocked = True
                    shared.n.add("flood_backpressure")
                # frames completely written
                done, total = 0, 0
                for f in frames:
                    total += len(f)
                    if total <= sent:
                        done += 1
                shared.n.add("flood_frames", done)
            # read whatever has arrived for a moment, then close without reading the rest
            sock.settimeout(0.1)
            received = 0
            end = time.monotonic() + 0.2
            while time.monotonic() < end:
                try:
                    chunk = sock.recv(1 << 20)
                except socket.timeout:
                    break
                if not chunk:
                    break
                received += len(chunk)
            shared.n.add("flood_bytes_read", received)
        except OSError as exc:
            shared.n.add(f"flood_errors.{outcome_name(exc)}")
        finally:
            sock.close()


def short_connection(shared: Shared) -> None:
    try:
        sock, decoder = raw_connect(shared, 5.0)
        try:
            sock.sendall(codec.encode_frame(Op.PING, 2, b""))
            codec.decode_response(read_frame(sock, decoder, time.monotonic() + 5.0), Op.PING).unwrap()
        finally:
            sock.close()
        shared.n.add("storm_short.ok")
    except (ServerError, OSError, WxAuthError) as exc:
        where = "storm_short." if shared.up.is_set() else "storm_short_during_restart."
        shared.n.add(where + outcome_name(exc))


def storm_worker(shared: Shared) -> None:
    args = shared.args
    while not shared.stop.wait(args.storm_every):
        if not shared.up.is_set():
            continue
        shared.n.add("storm_bursts")
        idle: List[socket.socket] = []
        for _ in range(args.idle_conns):  # connect and never authenticate
            try:
                s = socket.create_connection((HOST, shared.port), timeout=2)
                shared.n.add("connections_opened")
                idle.append(s)
                shared.n.add("storm_never_authenticated")
            except OSError as exc:
                shared.n.add(f"storm_idle_failed.{outcome_name(exc)}")
        per_thread = max(1, args.storm_size // 8)
        threads = [threading.Thread(target=lambda: [short_connection(shared) for _ in range(per_thread)], daemon=True)
                   for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        shared.stop.wait(max(0.0, 3.0))
        for s in idle:
            s.close()


def rss_sampler(shared: Shared, daemon: Daemon) -> None:
    while not shared.stop.wait(0.5):
        daemon.sample_rss()


# --- the well-behaved client (its own process) -----------------------------------------------------------------


def good_client_main(argv: List[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--openid", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--stop-file", required=True)
    p.add_argument("--secret-env", required=True)
    p.add_argument("--timeout", type=float, required=True)
    p.add_argument("--until", type=float, required=True)  # monotonic deadline (safety net)
    a = p.parse_args(argv)
    secret = os.environ[a.secret_env]
    parent = os.getppid()
    client: Optional[wxauth.Client] = None
    port = 0
    with open(a.out, "w", buffering=1) as out:
        while not os.path.exists(a.stop_file) and time.monotonic() < a.until and os.getppid() == parent:
            try:
                new_port = int(Path(a.port_file).read_text().strip())
            except (OSError, ValueError):
                time.sleep(0.05)
                continue
            if client is None or new_port != port:
                if client is not None:
                    client.close()
                port = new_port
                client = wxauth.Client(HOST, port, timeout=a.timeout, connect_timeout=a.timeout,
                                       caller_id=CALLER_ID, caller_secret=secret)
            t0 = time.monotonic()
            err = ""
            try:
                client.ping()
                session = client.validate(a.token)
                if session.openid != a.openid:
                    err = "wrong openid"
            except WxAuthError as exc:
                err = outcome_name(exc)
            except OSError as exc:
                err = outcome_name(exc)
            t1 = time.monotonic()
            out.write(json.dumps([t0, t1, err]) + "\n")
            time.sleep(max(0.0, 0.1 - (t1 - t0)))
    if client is not None:
        client.close()
    return 0


# --- checks ----------------------------------------------------------------------------------------------------


class Checker:
    def __init__(self, shared: Shared):
        self.shared = shared
        self.rounds = 0
        self.checked = 0
        self.lost: List[Dict[str, Any]] = []
        self.unverified = 0
        self.max_check_s = 0.0

    def check(self, label: str, kill_at: Optional[float]) -> None:
        """VALIDATEs every checkable token (caller holds shared.gate, so no REFRESH/REVOKE runs meanwhile)."""
        shared = self.shared
        started = time.monotonic()
        entries = shared.ledger.checkable()
        client = new_client(shared, 30.0)
        results: List[Any] = []
        try:
            for i in range(0, len(entries), 500):
                chunk = entries[i:i + 500]
                for attempt in range(3):
                    try:
                        p = wxauth.Pipeline(client)
                        for e in chunk:
                            p.validate(e.token)
                        got = p.execute(return_exceptions=True)
                    except WxAuthError as exc:
                        got = [exc] * len(chunk)
                    retry = [k for k, r in enumerate(got)
                             if isinstance(r, WxAuthError) and not isinstance(r, ServerError)
                             or isinstance(r, ServerError) and r.retryable]
                    if not retry or attempt == 2:
                        break
                    time.sleep(0.5)
                results.extend(got)
        finally:
            client.close()
        lost_here = 0
        for e, r in zip(entries, results):
            ok = not isinstance(r, BaseException)
            if isinstance(r, BaseException) and (not isinstance(r, ServerError) or r.retryable):
                self.unverified += 1
                continue
            if e.state == "live":
                good = ok and r.openid == e.openid
                what = "acknowledged " + e.origin + " lost"
                at = e.acked_at
            else:
                good = isinstance(r, TokenRevoked)
                what = ("acknowledged REFRESH lost (old token " + ("works again" if ok else outcome_name(r)) + ")"
                        if e.state == "rotated" else
                        "acknowledged REVOKE lost (token " + ("works again" if ok else outcome_name(r)) + ")")
                at = e.changed_at
            if good:
                continue
            lost_here += 1
            age = None if kill_at is None else round(kill_at - at, 3)
            item = {"check": label, "what": what, "answer": "OK" if ok else outcome_name(r),
                    "acked_at_s": shared.rel(at), "acked_before_kill_s": age,
                    "within_flush_window": age is not None and age < FLUSH_WINDOW_S}
            self.lost.append(item)
            shared.ledger.set_state(e.token, "lost")
        self.rounds += 1
        self.checked += len(entries)
        took = time.monotonic() - started
        self.max_check_s = max(self.max_check_s, took)
        log(f"check {label}: {len(entries)} tokens in {took:.1f} s, {lost_here} lost, {self.unverified} unverified so far")


# --- main ------------------------------------------------------------------------------------------------------


def parse_args(argv: List[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=180.0, help="seconds of load (default 180)")
    p.add_argument("--quick", action="store_true", help="smoke run: 30 s, one restart at 15 s")
    p.add_argument("--restart-every", type=float, default=30.0, help="seconds between kill -9 restarts (default 30)")
    p.add_argument("--flush", choices=["always", "interval"], default="always", help="journal_flush (default always)")
    p.add_argument("--bound-ms", type=float, default=2000.0, help="the well-behaved client's bound (default 2000)")
    p.add_argument("--build-dir", default=".build/debug", help="where wxauthd and wechat-sim are (default .build/debug)")
    p.add_argument("--login-threads", type=int, default=4)
    p.add_argument("--login-pipeline", type=int, default=16, help="LOGINs each login thread sends in one write")
    p.add_argument("--max-logins", type=int, default=200_000, help="stop the LOGIN flood after this many attempts")
    p.add_argument("--flood-conns", type=int, default=3, help="raw connections pipelining VALIDATE/PING at a time")
    p.add_argument("--storm-every", type=float, default=5.0, help="seconds between connection storms")
    p.add_argument("--storm-size", type=int, default=200, help="short connections per storm")
    p.add_argument("--idle-conns", type=int, default=30, help="never-authenticating connections per storm")
    p.add_argument("--mutate-every", type=float, default=0.02, help="seconds between REFRESH/REVOKE operations")
    p.add_argument("--snapshot-interval", type=float, default=10.0, help="snapshot_interval_seconds (default 10)")
    p.add_argument("--sim-latency-ms", type=int, default=0, help="latency of the simulator's jscode2session")
    p.add_argument("--config-set", action="append", default=[], metavar="KEY=JSON",
                   help="extra top-level config entry (repeatable), e.g. to allow the plain-http loopback simulator")
    p.add_argument("--wxauthd-arg", action="append", default=[], metavar="ARG", help="extra wxauthd argument")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs, data) even when the soak passes")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    if a.quick:
        a.duration = 30.0
        a.restart_every = 15.0
    if a.duration <= 0 or a.duration > 3600:
        p.error("--duration must be in (0, 3600]")
    if a.restart_every <= 0:
        p.error("--restart-every must be positive")
    return a


def run(args: argparse.Namespace) -> Tuple[Dict[str, Any], bool, Path]:
    build = (ROOT / args.build_dir) if not os.path.isabs(args.build_dir) else Path(args.build_dir)
    wxauthd_bin, sim_bin = build / "wxauthd", build / "wechat-sim"
    for b in (wxauthd_bin, sim_bin):
        if not os.access(b, os.X_OK):
            raise SoakError(f"{b} is missing: run `swift build` (or -c release) first")
    workdir = Path(tempfile.mkdtemp(prefix="wxauth-soak-"))
    log(f"work dir {workdir}")
    # pinned copies: a rebuild in the tree during the run must not change the binary a restart launches
    built = {b.name: datetime.datetime.fromtimestamp(b.stat().st_mtime, datetime.timezone.utc)
             .strftime("%Y-%m-%dT%H:%M:%SZ") for b in (wxauthd_bin, sim_bin)}
    (workdir / "bin").mkdir()
    wxauthd_bin = Path(shutil.copy2(wxauthd_bin, workdir / "bin" / "wxauthd"))
    sim_bin = Path(shutil.copy2(sim_bin, workdir / "bin" / "wechat-sim"))
    started_wall = datetime.datetime.now(datetime.timezone.utc)

    app_secret = secrets.token_hex(16)
    caller_secret = secrets.token_hex(32)
    env = dict(os.environ)
    env.update({"WXAUTH_SOAK_APP_SECRET": app_secret, "WXAUTH_SOAK_KEY_1": secrets.token_hex(32),
                "WXAUTH_SOAK_CALLER_SECRET": caller_secret})

    # the simulator: its own process, for the whole run
    sim_out, sim_log = workdir / "wechat-sim.out", workdir / "wechat-sim.log"
    with open(sim_out, "wb") as o, open(sim_log, "wb") as e:
        sim = subprocess.Popen([str(sim_bin), "--host", HOST, "--port", "0", "--app", f"{APP_ID}:{app_secret}",
                                "--latency-ms", str(args.sim_latency_ms), "--log-level", "warning"],
                               stdout=o, stderr=e, stdin=subprocess.DEVNULL)
    _children.append(sim)
    sim_url = wait_for_json_line(sim_out, sim, "base_url", 30)["base_url"]
    log(f"wechat-sim at {sim_url}")

    port = free_port()
    config: Dict[str, Any] = {
        "host": HOST, "port": port,
        "apps": [{"app_id": APP_ID, "secret_env": "WXAUTH_SOAK_APP_SECRET"}],
        "keys": [{"id": 1, "secret_hex_env": "WXAUTH_SOAK_KEY_1"}], "primary_key": 1,
        "callers": [{"id": CALLER_ID, "secret_env": "WXAUTH_SOAK_CALLER_SECRET", "permissions": ["ALL"]}],
        "wechat": {"base_url": sim_url, "timeout_seconds": 5},
        "refresh_grace_seconds": 3600,  # checking a rotated token must never count as token reuse
        "data_dir": str(workdir / "data"), "journal_flush": args.flush,
        "snapshot_interval_seconds": args.snapshot_interval,
    }
    for item in args.config_set:
        key, _, value = item.partition("=")
        config[key] = json.loads(value)
    config_path = workdir / "soak.json"
    config_path.write_text(json.dumps(config, indent=1))

    shared = Shared(args, caller_secret, port, sim_url)
    shared.unexpected = []  # type: ignore[attr-defined]
    daemon = Daemon(shared, wxauthd_bin, config_path, env, workdir, args.wxauthd_arg)
    port_file = workdir / "port"
    port_file.write_text(str(port))
    wechat_http = "config base_url"
    try:
        daemon.start(port)
    except SoakError as exc:
        if "plain http is allowed only with --dev" not in str(exc):
            raise
        # wxauthd refuses a plain-http WeChat base URL outside --dev (the AppSecret would travel in clear). --dev is
        # the documented way to use a loopback simulator: it only adds a loopback-only bind check, an unused embedded
        # simulator (--sim-port 0) and a dev app; callers, keys and the data directory still come from the config.
        # The --wechat-base-url flag (not the file's base_url) is what --dev uses instead of its embedded simulator.
        log("wxauthd refuses plain http outside --dev: restarting it with --dev --wechat-base-url <simulator>")
        wechat_http = "--dev --sim-port 0 --wechat-base-url (plain http refused outside --dev)"
        daemon.extra_args = ["--dev", "--sim-port", "0", "--wechat-base-url", sim_url] + daemon.extra_args
        daemon.start(port)
    shared.up.set()
    with socket.create_connection((HOST, port), timeout=5) as s:
        hello = codec.decode_response(read_frame(s, codec.FrameDecoder(), time.monotonic() + 5), Op.HELLO).unwrap()
    if not hello.auth_required:
        raise SoakError("wxauthd runs open (HELLO does not require AUTH): the soak must exercise the AUTH path")
    log(f"wxauthd ready on {port} (journal_flush {args.flush})")

    # the well-behaved client's token: made first, never refreshed or revoked
    sim_api = Simulator(sim_url)
    code, openid = sim_api.mint("well-behaved")
    with new_client(shared, 10.0) as c:
        issued = c.login(APP_ID, code)
    shared.ledger.add(issued.token, issued.session.openid, "LOGIN", protected=True)

    good_out, stop_file = workdir / "good-client.jsonl", workdir / "stop"
    good = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--_good-client",
                             "--port-file", str(port_file), "--token", issued.token, "--openid", openid,
                             "--out", str(good_out), "--stop-file", str(stop_file),
                             "--secret-env", "WXAUTH_SOAK_CALLER_SECRET",
                             "--timeout", str(max(10.0, 3 * args.bound_ms / 1000.0)),
                             "--until", str(time.monotonic() + args.duration + 120)],
                            env=env, stdin=subprocess.DEVNULL)
    _children.append(good)

    threads = [threading.Thread(target=login_worker, args=(shared, i), daemon=True, name=f"login-{i}")
               for i in range(args.login_threads)]
    threads += [threading.Thread(target=validate_flood_worker, args=(shared, i), daemon=True, name=f"flood-{i}")
                for i in range(args.flood_conns)]
    threads += [threading.Thread(target=storm_worker, args=(shared,), daemon=True, name="storm"),
                threading.Thread(target=mutator_worker, args=(shared,), daemon=True, name="mutator"),
                threading.Thread(target=rss_sampler, args=(shared, daemon), daemon=True, name="rss")]
    for t in threads:
        t.start()

    checker = Checker(shared)
    windows: List[Dict[str, Any]] = []
    crashes: List[Dict[str, Any]] = []
    end = shared.t0 + args.duration
    next_restart = shared.t0 + args.restart_every

    def restart(kind: str) -> None:
        nonlocal port
        kill_at = time.monotonic()
        shared.up.clear()
        if kind == "kill -9":
            daemon.kill9()
        with shared.gate:  # REFRESH/REVOKE pause until the check is done
            ready_at = None
            for attempt in range(5):
                try:
                    ready_at = daemon.start(port)
                    break
                except SoakError as exc:
                    text = str(exc)
                    if "address already in use" in text.lower() or "bind" in text.lower():
                        log(f"restart: port {port} busy ({attempt + 1}/5), retrying")
                        time.sleep(1.0)
                        continue
                    raise
            if ready_at is None:
                port = free_port()
                shared.port = port
                port_file.write_text(str(port))
                log(f"restart: moving to port {port}")
                ready_at = daemon.start(port)
            shared.up.set()
            window = {"kind": kind, "at_s": shared.rel(kill_at), "down_ms": round((ready_at - kill_at) * 1000, 1),
                      "kill": kill_at, "ready": ready_at}
            windows.append(window)
            log(f"{kind} at {window['at_s']} s: ready again after {window['down_ms']} ms")
            checker.check(f"after {kind} #{len(windows)}", kill_at)

    try:
        while True:
            now = time.monotonic()
            if now >= end:
                break
            code_ = daemon.exited_on_its_own()
            if code_ is not None:
                crash = {"at_s": shared.rel(now), "exit": code_, "log": str(daemon.log_path),
                         "log_tail": tail(daemon.log_path, 30)}
                crashes.append(crash)
                log(f"wxauthd EXITED ON ITS OWN with {code_} at {crash['at_s']} s:\n{crash['log_tail']}")
                restart("crash")
                continue
            if sim.poll() is not None:
                raise SoakError(f"wechat-sim exited with {sim.returncode}:\n{tail(sim_log)}")
            if now >= next_restart and end - now > min(5.0, args.restart_every / 2):
                restart("kill -9")
                next_restart = time.monotonic() + args.restart_every
                continue
            time.sleep(0.1)
        log("duration reached: stopping the load")
        shared.stop.set()
        stop_file.write_text("stop")
        for t in threads:
            t.join(30)
        try:
            good.wait(timeout=30)
        except subprocess.TimeoutExpired:
            good.kill()
        code_ = daemon.exited_on_its_own()
        if code_ is not None:
            crashes.append({"at_s": shared.rel(time.monotonic()), "exit": code_, "log": str(daemon.log_path),
                            "log_tail": tail(daemon.log_path, 30)})
        else:
            with shared.gate:
                checker.check("final (no restart)", None)
        daemon.sample_rss()
    finally:
        shared.stop.set()
        _kill_children()

    # the well-behaved client's samples
    samples: List[Tuple[float, float, str]] = []
    try:
        for line in good_out.read_text().splitlines():
            try:
                t0, t1, err = json.loads(line)
                samples.append((t0, t1, err))
            except ValueError:
                pass
    except FileNotFoundError:
        pass
    bound = args.bound_ms / 1000.0
    up_lat: List[float] = []
    misses: List[Dict[str, Any]] = []
    during = {"requests": 0, "failed": 0, "max_ms": 0.0}
    for t0, t1, err in samples:
        overlap = any(t0 <= w["ready"] and t1 >= w["kill"] for w in windows)
        if overlap:
            during["requests"] += 1
            during["failed"] += 1 if err else 0
            during["max_ms"] = max(during["max_ms"], round((t1 - t0) * 1000, 1))
            continue
        up_lat.append(t1 - t0)
        if err or t1 - t0 > bound:
            misses.append({"at_s": shared.rel(t0), "latency_ms": round((t1 - t0) * 1000, 1), "error": err or None})
    up_lat.sort()
    after_ready = []
    for w in windows:
        firsts = [t1 for t0, t1, err in samples if t0 >= w["ready"] and not err]
        if firsts:
            after_ready.append(round((min(firsts) - w["ready"]) * 1000, 1))

    lost = checker.lost
    unexpected = shared.unexpected  # type: ignore[attr-defined]
    if args.flush == "always":
        data_ok = not lost and not unexpected
    else:
        data_ok = all(x["within_flush_window"] for x in lost) and not unexpected
    good_ok = not misses and len(up_lat) > 0
    n = shared.n
    duration = time.monotonic() - shared.t0
    summary: Dict[str, Any] = {
        "date": started_wall.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "build": args.build_dir,
        "binaries_built": built,
        "git": subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                              text=True).stdout.strip(),
        "journal_flush": args.flush,
        "wechat_http": wechat_http,
        "duration_s": round(duration, 1),
        "logins": {"attempted": n.get("login_attempts"), "acknowledged": n.get("login_ok"),
                   "refused": n.with_prefix("login_refused."), "no_answer": n.get("login_no_answer"),
                   "no_answer_during_restart": n.get("login_no_answer_restart"),
                   "wechat_unavailable_retried_same_code": {"recovered": n.get("login_retry_recovered"),
                                                            "refused": n.with_prefix("login_retry_refused."),
                                                            "gave_up": n.get("login_retry_gave_up")},
                   "longest_batch_with_refusal_ms": shared.refusal_ms,
                   "wrong_openid": n.get("login_wrong_openid")},
        "refresh": {"acknowledged": n.get("refresh_ok"), "refused": n.with_prefix("refresh_refused."),
                    "no_answer": n.get("refresh_no_answer")},
        "revoke": {"acknowledged": n.get("revoke_ok"), "refused": n.with_prefix("revoke_refused."),
                   "no_answer": n.get("revoke_no_answer")},
        "validate_flood": {"connections": n.get("flood_connections"), "frames_written": n.get("flood_frames"),
                           "times_server_stopped_reading": n.get("flood_backpressure"),
                           "handshake_failed": n.with_prefix("flood_handshake_failed."),
                           "errors": n.with_prefix("flood_errors.")},
        "storms": {"bursts": n.get("storm_bursts"), "short_connections": n.with_prefix("storm_short."),
                   "short_during_restart": n.with_prefix("storm_short_during_restart."),
                   "never_authenticated": n.get("storm_never_authenticated"),
                   "idle_connect_failed": n.with_prefix("storm_idle_failed.")},
        "connections_opened": n.get("connections_opened"),
        "refusal_detail": shared.refusals,
        "restarts": {"count": sum(1 for w in windows if w["kind"] == "kill -9"),
                     "down_ms": [w["down_ms"] for w in windows],
                     "first_good_answer_after_ready_ms": after_ready},
        "checks": {"rounds": checker.rounds, "tokens_checked": checker.checked, "lost": len(lost),
                   "lost_within_flush_window": sum(1 for x in lost if x["within_flush_window"]),
                   "lost_outside_flush_window": sum(1 for x in lost if not x["within_flush_window"]),
                   "unexpected_answers_to_refresh_revoke": len(unexpected),
                   "unverified_no_answer": checker.unverified,
                   "uncertain_excluded": shared.ledger.count("uncertain"),
                   "lost_by_kind": dict(collections.Counter(x["what"] for x in lost)),
                   "oldest_lost_acked_before_kill_s": max((x["acked_before_kill_s"] for x in lost
                                                           if x["acked_before_kill_s"] is not None), default=None),
                   "longest_check_s": round(checker.max_check_s, 1),
                   "lost_detail": _spread(lost, 10), "unexpected_detail": unexpected[:20]},
        "well_behaved_client": {
            "bound_ms": args.bound_ms, "requests_while_up": len(up_lat),
            "p50_ms": _ms(percentile(up_lat, 50)), "p99_ms": _ms(percentile(up_lat, 99)),
            "max_ms": _ms(up_lat[-1] if up_lat else None), "misses": len(misses), "miss_detail": misses[:20],
            "during_restart_windows": during},
        "wxauthd": {"incarnations": daemon.started,
                    "peak_rss_mb": round(max(daemon.peak_hwm_kb, daemon.peak_rss_kb) / 1024, 1),
                    "last_rss_mb": round(daemon.last_rss_kb / 1024, 1),
                    "cpu_seconds": round(daemon.cpu_s + daemon.cpu_now, 1),
                    "average_cpu_percent": round(100 * (daemon.cpu_s + daemon.cpu_now) / duration, 1),
                    "host_cpus": os.cpu_count(),
                    "crashed_on_its_own": [{k: v for k, v in c.items() if k != "log_tail"} for c in crashes]},
        "passed": {"no_acknowledged_change_lost": data_ok, "good_client_within_bound": good_ok,
                   "no_crash": not crashes},
        "work_dir": str(workdir),
    }
    ok = data_ok and good_ok and not crashes
    summary["ok"] = ok
    for c in crashes:
        log(f"crash log tail ({c['log']}):\n{c['log_tail']}")
    return summary, ok, workdir


def _spread(items: List[Dict[str, Any]], k: int) -> List[Dict[str, Any]]:
    """Up to k items: the first of each kind, then evenly spaced others."""
    firsts = {}
    for x in items:
        firsts.setdefault(x["what"], x)
    picked = list(firsts.values())
    step = max(1, len(items) // k)
    picked += [x for x in items[::step] if x not in picked]
    return picked[:k]


def _ms(v: Optional[float]) -> Optional[float]:
    return None if v is None else round(v * 1000, 1)


def main(argv: List[str]) -> int:
    if argv[:1] == ["--_good-client"]:
        return good_client_main(argv[1:])
    args = parse_args(argv)
    random.seed(args.seed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir: Optional[Path] = None
    try:
        summary, ok, workdir = run(args)
    except SoakError as exc:
        log(f"cannot run the soak: {exc}")
        _kill_children()
        return 2
    finally:
        _kill_children()
    print(json.dumps(summary, indent=1))
    if ok and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        log(f"logs and data kept in {workdir}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
