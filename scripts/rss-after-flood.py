#!/usr/bin/env python3
"""Resident memory of wxauthd before, during and after a LOGIN flood (issue: faults and load).

Starts `wxauthd --dev --sweep-interval 2` (loopback, free port), makes the embedded WeChat simulator answer in 1 s,
opens 4 connections that each pipeline 10,000 LOGINs without reading the answers, then closes them and reports RSS
(from /proc) before, at the peak, and 10 s after the close. Bounded (about 30 s); wxauthd is always killed.

    python3 scripts/rss-after-flood.py [path/to/wxauthd]     # default .build/debug/wxauthd
"""
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
from wxauth import codec  # noqa: E402


def main() -> None:
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "debug", "wxauthd")
    daemon = subprocess.Popen([binary, "--dev", "--port", "0", "--sim-port", "0", "--sweep-interval", "2"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        ready = json.loads(daemon.stdout.readline())
        port, simulator, app = ready["port"], ready["simulator"], ready["dev_app_id"]

        def rss_mb() -> int:
            with open(f"/proc/{daemon.pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS"):
                        return int(line.split()[1]) // 1024
            return 0

        request = urllib.request.Request(simulator + "/sim/latency", data=b'{"ms": 1000}', method="POST",
                                         headers={"content-type": "application/json"})
        urllib.request.urlopen(request, timeout=5).read()
        time.sleep(0.5)
        before = rss_mb()
        sockets = []

        def flood(index: int) -> None:
            connection = socket.create_connection(("127.0.0.1", port), timeout=5)
            sockets.append(connection)
            connection.recv(4096)  # HELLO
            request_id = 1
            for _ in range(20):
                frames = b"".join(
                    codec.encode_frame(codec.Op.LOGIN, request_id + n,
                                       codec.Login(app, f"flood-{index}-{request_id + n}").encode_body())
                    for n in range(500))
                request_id += 500
                try:
                    connection.sendall(frames)
                except OSError:
                    break

        threads = [threading.Thread(target=flood, args=(n,), daemon=True) for n in range(4)]
        for thread in threads:
            thread.start()
        peak = before
        started = time.time()
        while time.time() - started < 15:
            peak = max(peak, rss_mb())
            time.sleep(0.2)
        for connection in sockets:
            connection.close()
        time.sleep(10)
        print(json.dumps({"rss_mb_before": before, "rss_mb_peak": peak, "rss_mb_10s_after_close": rss_mb()}))
    finally:
        daemon.kill()
        daemon.wait()


if __name__ == "__main__":
    main()
