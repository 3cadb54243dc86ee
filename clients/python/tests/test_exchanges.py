"""The "exchanges" of protocol/vectors/vectors.json, run from Python against a real wxauthd: the server behaviour
PROTOCOL.md specifies (request id 0, framing errors, checks before and after AUTH, a second AUTH) is checkable
from any language with nothing but the vectors and a socket."""
import json
import socket
import tempfile
import time
from pathlib import Path

import pytest

import support
from wxauth import codec

VECTORS = support.load_vectors()
EXCHANGES = VECTORS["exchanges"]


def _callers_key(exchange):
    return json.dumps(exchange["callers"], sort_keys=True)


@pytest.fixture(scope="module")
def servers(request):
    """One wxauthd per distinct caller configuration among the exchanges (open, and secured)."""
    binary = support.wxauthd_bin()
    if not binary.exists():
        if support.server_required():
            pytest.fail(f"wxauthd binary not found at {binary}")
        pytest.skip(f"wxauthd binary not found at {binary}")
    started = {}
    directory = Path(tempfile.mkdtemp(prefix="wxauth-exchanges-"))
    try:
        for exchange in EXCHANGES:
            key = _callers_key(exchange)
            if key in started:
                continue
            extra = []
            if exchange["callers"]:
                config = directory / f"callers-{len(started)}.json"
                config.write_text(json.dumps({"callers": [
                    {"id": c["id"], "secret": c["secret"], "permissions": c["permissions"]} for c in exchange["callers"]
                ]}))
                extra = ["--config", str(config)]
            started[key] = support.start_wxauthd(*extra)
        yield started
    finally:
        for server in started.values():
            server.stop()


class Conversation:
    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.decoder = codec.FrameDecoder(max_frame=1 << 24)
        hello = self.next_frame()
        assert hello.request_id == 0
        self.nonce = codec.decode_response(hello, codec.Op.HELLO).unwrap().nonce

    def next_frame(self) -> codec.Frame:
        deadline = time.monotonic() + 5
        while True:
            frame = self.decoder.next_frame()
            if frame is not None:
                return frame
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            data = self.sock.recv(65536)
            assert data, "the server closed the connection before answering"
            self.decoder.feed(data)

    def closed_by_server(self) -> bool:
        self.sock.settimeout(5)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True


@pytest.mark.integration
@pytest.mark.parametrize("exchange", EXCHANGES, ids=[e["name"] for e in EXCHANGES])
def test_exchange(servers, exchange):
    talk = Conversation(servers[_callers_key(exchange)].port)
    try:
        for index, step in enumerate(exchange["steps"]):
            label = f"{exchange['name']} step {index}"
            if "send" in step:
                talk.sock.sendall(bytes.fromhex(step["send"]))
            if "send_auth" in step:
                auth = step["send_auth"]
                proof = codec.auth_proof(auth["secret"], talk.nonce)
                data = codec.encode_request(auth["request_id"], codec.Auth(auth["caller_id"], proof))
                talk.sock.sendall(data + bytes.fromhex(auth.get("then", "")))
            if "expect" in step:
                expected = step["expect"]
                frame = talk.next_frame()
                assert frame.request_id == expected["request_id"], label
                assert codec.status_name(frame.kind) == expected["status"], label
                op = codec.Op.AUTH if "permissions" in expected else codec.Op.PING
                response = codec.decode_response(frame, op)  # every error body decodes in the common shape
                if "permissions" in expected:
                    assert response.unwrap().permissions == expected["permissions"], label
            if step.get("expect_close"):
                assert talk.closed_by_server(), f"{label}: the server hangs up"
    finally:
        talk.sock.close()
