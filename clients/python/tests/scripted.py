"""A one-purpose TCP peer for client tests: sends a greeting, then answers each request frame with raw bytes."""
import socket
import threading
from typing import Callable, List, Optional

from wxauth import codec


def hello_frame(flags: int = 0, nonce: bytes = b"\x07" * 32, max_frame: int = 65536) -> bytes:
    return codec.encode_response(0, codec.Hello(flags, nonce, max_frame))


class ScriptedServer:
    """``on_request(request_frame, send) -> None`` decides what to write; ``greeting`` is written on accept
    (``None``: say nothing, to test HELLO timeouts)."""

    def __init__(self, on_request: Optional[Callable] = None, greeting: Optional[bytes] = b"default"):
        self.on_request = on_request or (lambda rf, send: None)
        self.greeting = hello_frame() if greeting == b"default" else greeting
        self.received: List[codec.RequestFrame] = []
        self.accepted = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self._conns: List[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.accepted += 1
            self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket):
        lock = threading.Lock()

        def send(data: bytes, close: bool = False):
            with lock:
                try:
                    conn.sendall(data)
                    if close:
                        conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        if self.greeting:
            send(self.greeting)
        dec = codec.FrameDecoder()
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            dec.feed(data)
            for frame in dec:
                rf = codec.decode_request(frame)
                self.received.append(rf)
                self.on_request(rf, send)

    def close(self):
        self._sock.close()
        for c in self._conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
