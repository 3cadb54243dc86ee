"""Test helpers: paths, starting a real wxauthd and the example backend, minting codes at the simulator."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Dict, List, Optional

TESTS_DIR = Path(__file__).resolve().parent
PYTHON_DIR = TESTS_DIR.parent
CLIENTS_DIR = PYTHON_DIR.parent
REPO_DIR = CLIENTS_DIR.parent
VECTORS_PATH = Path(os.environ.get("WXAUTH_VECTORS", REPO_DIR / "protocol" / "vectors" / "vectors.json"))
PROTOCOL_MD = REPO_DIR / "protocol" / "PROTOCOL.md"
BACKEND_PY = PYTHON_DIR / "examples" / "backend.py"
READY_TIMEOUT = float(os.environ.get("WXAUTHD_READY_TIMEOUT", "30"))


def wxauthd_bin() -> Path:
    return Path(os.environ.get("WXAUTHD_BIN") or REPO_DIR / ".build" / "debug" / "wxauthd")


def server_required() -> bool:
    return os.environ.get("WXAUTH_REQUIRE_SERVER", "") not in ("", "0")


def load_vectors() -> Dict[str, Any]:
    with open(VECTORS_PATH, encoding="utf-8") as f:
        return json.load(f)


def _read_ready_line(proc: subprocess.Popen, timeout: float, what: str) -> Dict[str, Any]:
    """The first stdout line of ``proc``, parsed as JSON, within ``timeout`` seconds."""
    box: List[Any] = []

    def reader() -> None:
        box.append(proc.stdout.readline())  # type: ignore[union-attr]

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t.join(timeout)
    if not box or not box[0]:
        stop_process(proc)
        raise RuntimeError(f"{what} printed no ready line within {timeout:.0f}s (exit code {proc.poll()})")
    line = box[0].decode("utf-8", "replace").strip()
    try:
        ready = json.loads(line)
    except ValueError:
        stop_process(proc)
        raise RuntimeError(f"{what}: first stdout line is not JSON: {line[:200]!r}") from None
    if ready.get("event") != "ready":
        stop_process(proc)
        raise RuntimeError(f"{what}: unexpected first line {line[:200]!r}")
    # Keep draining stdout so the child never blocks on a full pipe.
    threading.Thread(target=lambda: proc.stdout.read(), daemon=True).start()  # type: ignore[union-attr]
    return ready


def stop_process(proc: subprocess.Popen, timeout: float = 10.0) -> Optional[int]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass
    return proc.returncode


@dataclass
class Wxauthd:
    proc: subprocess.Popen
    host: str
    port: int
    simulator: str
    dev_app_id: str
    log_path: Path
    args: List[str] = field(default_factory=list)
    http_port: Optional[int] = None  # the HTTP edge (protocol/HTTP.md), on in --dev

    def mint_code(self, user: str, app_id: Optional[str] = None) -> str:
        return mint_code(self.simulator, app_id or self.dev_app_id, user)["code"]

    def mint(self, user: str, app_id: Optional[str] = None) -> Dict[str, str]:
        return mint_code(self.simulator, app_id or self.dev_app_id, user)

    def logs(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""

    def stop(self) -> Optional[int]:
        return stop_process(self.proc)


def start_wxauthd(*extra: str, timeout: float = READY_TIMEOUT) -> Wxauthd:
    """``wxauthd --dev --port 0 --sim-port 0 EXTRA...``; returns once it printed its ready line.

    stderr (its logs) goes to a temporary file so tests can check what was logged."""
    binary = wxauthd_bin()
    args = [str(binary), "--dev", "--port", "0", "--sim-port", "0", *extra]
    log_dir = Path(tempfile.mkdtemp(prefix="wxauthd-test-"))
    log_path = log_dir / "stderr.log"
    log_file: IO[bytes] = open(log_path, "wb")
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log_file)
    log_file.close()
    ready = _read_ready_line(proc, timeout, "wxauthd")
    return Wxauthd(proc, ready["host"], int(ready["port"]), ready["simulator"].rstrip("/"), ready["dev_app_id"],
                   log_path, args, ready.get("http_port"))


def mint_code(simulator: str, app_id: str, user: str) -> Dict[str, str]:
    """POST {simulator}/sim/code -> {"code", "openid"}."""
    body = json.dumps({"appid": app_id, "user": user}).encode()
    req = urllib.request.Request(f"{simulator}/sim/code", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@dataclass
class Backend:
    proc: subprocess.Popen
    url: str
    log_path: Path

    def logs(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""

    def stop(self) -> Optional[int]:
        return stop_process(self.proc)


def start_backend(wxauthd_port: int, app_id: str, wxauthd_host: str = "127.0.0.1",
                  timeout: float = 20.0) -> Backend:
    """Runs examples/backend.py as a child process (config through argv) on a free port."""
    log_dir = Path(tempfile.mkdtemp(prefix="wxauth-backend-"))
    log_path = log_dir / "stderr.log"
    log_file = open(log_path, "wb")
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, str(BACKEND_PY), "--listen-port", "0", "--wxauthd-host", wxauthd_host,
         "--wxauthd-port", str(wxauthd_port), "--app-id", app_id],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log_file, env=env)
    log_file.close()
    ready = _read_ready_line(proc, timeout, "backend")
    return Backend(proc, ready["url"], log_path)


def node_bin() -> Optional[str]:
    return shutil.which(os.environ.get("NODE", "node"))


def http_json(method: str, url: str, body: Any = None, headers: Optional[Dict[str, str]] = None,
              timeout: float = 10.0):
    """(status, headers, parsed JSON or None) without raising on 4xx/5xx."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as err:
        resp = err
    with resp:
        raw = resp.read()
        return resp.status, dict(resp.headers), (json.loads(raw) if raw else None)


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
