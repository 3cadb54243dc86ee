"""nginx (deploy/nginx/wxauth.conf) in front of wxauthd's HTTP edge and an app that echoes who nginx said the user is.

Used by test_e2e.py's edge test. nginx runs on free loopback ports from its own temporary directory and is always
stopped; the package's system service is never touched.
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Optional

import support

NGINX_CANDIDATES = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]


def nginx_bin() -> Optional[str]:
    return next((p for p in NGINX_CANDIDATES if os.access(p, os.X_OK)), None) or shutil.which("nginx")


def nginx_required() -> bool:
    return os.environ.get("WXAUTH_REQUIRE_NGINX") == "1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EchoApp:
    """The app behind nginx: GET /api/me -> {"openid", "appId"} from X-WXAuth-OpenID / X-WXAuth-App."""

    def __init__(self) -> None:
        self.seen: List[Dict[str, str]] = []
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                headers = {k.lower(): v for k, v in self.headers.items()}
                app.seen.append(dict(headers, path=self.path))
                body = json.dumps({"openid": headers.get("x-wxauth-openid"), "appId": headers.get("x-wxauth-app")}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Nginx:
    def __init__(self, wxauthd_http_port: int, app_port: int) -> None:
        binary = nginx_bin()
        if binary is None:
            raise RuntimeError("nginx is not installed")
        self.dir = Path(tempfile.mkdtemp(prefix="wxauth-nginx-"))
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        site = (support.REPO_DIR / "deploy" / "nginx" / "wxauth.conf").read_text("utf-8")
        for shipped, test in [("server 127.0.0.1:7402;", f"server 127.0.0.1:{wxauthd_http_port};"),
                              ("server 127.0.0.1:8080;", f"server 127.0.0.1:{app_port};"),
                              ("listen 127.0.0.1:8000;", f"listen 127.0.0.1:{self.port};")]:
            assert shipped in site, f"deploy/nginx/wxauth.conf no longer contains {shipped}"
            site = site.replace(shipped, test)
        (self.dir / "wxauth.conf").write_text(site, "utf-8")
        d = self.dir
        (d / "nginx.conf").write_text(f"""daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 128; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    include {d}/wxauth.conf;
}}
""", "utf-8")
        self.proc = subprocess.Popen([binary, "-p", str(d), "-c", str(d / "nginx.conf"), "-e", str(d / "error.log")],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = (d / "error.log").read_text("utf-8", "replace") if (d / "error.log").exists() else ""
                self.stop()
                raise RuntimeError(f"nginx exited at start: {log[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not start listening")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        support.stop_process(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)
