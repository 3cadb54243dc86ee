package com.github.wxauth.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Against scripted in-process servers: what a real wxauthd does not do on demand (unknown statuses, broken frames,
 * SHUTTING_DOWN and lost connections at chosen moments, out-of-order answers).
 */
class FakeServerTest {
    /** Answers one request: bytes to write (null: nothing); {@link #CLOSE} closes the connection. */
    interface Handler {
        byte[] answer(long id, Op op, byte[] body);
    }

    static final byte[] CLOSE = new byte[0];

    static final class Fake implements AutoCloseable {
        final ServerSocket ss;
        final List<Op> seen = new ArrayList<>();
        final Handler handler;
        final byte[] greeting;

        Fake(Handler handler, byte[] greeting) throws IOException {
            this.ss = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
            this.handler = handler;
            this.greeting = greeting;
            Thread t = new Thread(this::acceptLoop, "fake-accept");
            t.setDaemon(true);
            t.start();
        }

        String address() {
            return "127.0.0.1:" + ss.getLocalPort();
        }

        synchronized List<Op> ops() {
            return new ArrayList<>(seen);
        }

        private void acceptLoop() {
            while (true) {
                try {
                    Socket s = ss.accept();
                    Thread t = new Thread(() -> serve(s), "fake-conn");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket s) {
            try (s) {
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                if (greeting != null) {
                    out.write(greeting);
                    return;
                }
                out.write(Codec.encodeOk(0, Op.HELLO, new Hello(0, new byte[32], 65536)));
                while (true) {
                    Frame f = Codec.readFrame(in, 65536);
                    if (f == null) return;
                    byte[] answer;
                    synchronized (this) {
                        seen.add(Op.of(f.kind()));
                        answer = handler.answer(f.requestId(), Op.of(f.kind()), f.body());
                    }
                    if (answer == CLOSE) return;
                    if (answer != null) out.write(answer);
                }
            } catch (IOException e) {
                // the client went away
            }
        }

        @Override
        public void close() throws IOException {
            ss.close();
        }
    }

    static final Session SESSION = new Session("wx1", "o1", "", 1, 2, 3);

    static byte[] ok(long id, Op op) {
        Object v = switch (op) {
            case PING -> System.currentTimeMillis();
            case VALIDATE -> SESSION;
            case LOGIN, REFRESH -> new TokenResult("T", SESSION);
            default -> null;
        };
        return Codec.encodeOk(id, op, v);
    }

    static WxAuthClient client(String... addresses) {
        return WxAuthClient.builder().addresses(addresses).poolSize(1).requestTimeout(Duration.ofSeconds(3))
                .connectTimeout(Duration.ofSeconds(2)).build();
    }

    @Test
    void unknownStatusIsTypedAndKeepsTheConnection() throws Exception {
        int[] calls = {0};
        try (Fake f = new Fake((id, op, body) -> {
            if (calls[0]++ == 0) {
                // the message, then a field this client does not know
                ByteBuffer b = ByteBuffer.allocate(2 + 6 + 4).putShort((short) 6).put("future".getBytes(StandardCharsets.UTF_8)).putInt(7);
                return Codec.encodeFrame(1, 0x40, id, b.array());
            }
            return ok(id, op);
        }, null); WxAuthClient c = client(f.address())) {
            ServerException e = assertThrows(ServerException.class, () -> c.validate("tok"));
            assertNull(e.status());
            assertEquals(0x40, e.statusCode());
            assertEquals("future", e.serverMessage());
            assertFalse(e.isRetryable());
            c.ping();
            assertEquals(2, f.ops().size(), "retried or reconnected: " + f.ops());
        }
    }

    @TestFactory
    Stream<DynamicTest> brokenFramesAreProtocolErrors() {
        Map<String, IntFunction<byte[]>> cases = Map.of(
                "length below the header", id -> new byte[] {0, 0, 0, 3, 1, 0, 0},
                "huge length", id -> new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1, 0},
                "truncated session", id -> Codec.encodeFrame(1, 0, id, new byte[] {0, 3, 'w'}),
                "trailing bytes", id -> {
                    byte[] good = Codec.encodeOk(id, Op.VALIDATE, SESSION);
                    byte[] bad = java.util.Arrays.copyOf(good, good.length + 1);
                    ByteBuffer.wrap(bad).putInt(bad.length - 4);
                    return bad;
                },
                "unknown version", id -> Codec.encodeFrame(9, 0, id, new byte[0]),
                "error body too short", id -> Codec.encodeFrame(1, Status.RATE_LIMITED.code, id, new byte[] {0, 0}));
        return cases.entrySet().stream().map(kv -> DynamicTest.dynamicTest(kv.getKey(), () -> {
            int[] n = {0};
            try (Fake f = new Fake((id, op, body) -> n[0]++ == 0 ? kv.getValue().apply((int) id) : ok(id, op), null);
                 WxAuthClient c = client(f.address())) {
                long start = System.nanoTime();
                assertThrows(ProtocolException.class, () -> c.validate("tok"));
                assertTrue(System.nanoTime() - start < 2_000_000_000L, "took until the timeout");
                c.ping(); // recovers, on a new connection when needed
            }
        }));
    }

    @Test
    void outOfOrderAnswers() throws Exception {
        byte[][] held = {null};
        try (Fake f = new Fake((id, op, body) -> {
            if (op == Op.LOGIN) {
                held[0] = ok(id, op);
                return null;
            }
            byte[] mine = ok(id, op);
            byte[] both = java.util.Arrays.copyOf(mine, mine.length + held[0].length);
            System.arraycopy(held[0], 0, both, mine.length, held[0].length);
            return both;
        }, null); WxAuthClient c = client(f.address())) {
            var r = c.pipeline(List.of(Request.login("wx1", "c"), Request.ping()));
            assertTrue(r.get(0).join() instanceof TokenResult);
            assertTrue(r.get(1).join() instanceof Long);
        }
    }

    static byte[] shuttingDown(long id) {
        return Codec.encodeError(id, new ServerException(Status.SHUTTING_DOWN, "server is shutting down"));
    }

    @Test
    void failoverOnShuttingDown() throws Exception {
        try (Fake a = new Fake((id, op, body) -> shuttingDown(id), null);
             Fake b = new Fake((id, op, body) -> ok(id, op), null)) {
            try (WxAuthClient c = client(a.address(), b.address())) {
                c.validate("tok"); // safe: repeated once at B
                assertEquals(List.of(Op.VALIDATE), b.ops());
            }
            try (WxAuthClient c = client(a.address(), b.address())) {
                ServerException e = assertThrows(ServerException.class, () -> c.revoke("tok"));
                assertEquals(Status.SHUTTING_DOWN, e.status());
                assertTrue(e.isRetryable());
                assertFalse(b.ops().contains(Op.REVOKE), "REVOKE was repeated");
                assertEquals(b.address(), c.currentAddress());
                c.revoke("tok"); // the next call goes to B
            }
        }
    }

    @Test
    void connectionLostMidRequest() throws Exception {
        try (Fake a = new Fake((id, op, body) -> CLOSE, null);
             Fake b = new Fake((id, op, body) -> ok(id, op), null)) {
            try (WxAuthClient c = client(a.address(), b.address())) {
                c.login("wx1", "code"); // LOGIN with the same code is safe
            }
            try (WxAuthClient c = client(a.address(), b.address())) {
                ConnectionLostException e = assertThrows(ConnectionLostException.class, () -> c.refresh("tok"));
                assertTrue(e.isRetryable());
                assertFalse(b.ops().contains(Op.REFRESH), "REFRESH was repeated");
            }
        }
    }

    @Test
    void errorFrameInPlaceOfHello() throws Exception {
        byte[] full = Codec.encodeError(0, new ServerException(Status.SERVER_FULL, "too many connections"));
        try (Fake a = new Fake(null, full); Fake b = new Fake((id, op, body) -> ok(id, op), null)) {
            try (WxAuthClient c = client(a.address())) {
                assertEquals(Status.SERVER_FULL, assertThrows(ServerException.class, c::ping).status());
            }
            try (WxAuthClient c = client(a.address(), b.address())) {
                c.ping();
            }
        }
    }

    /** Rule 1: a status not about the node while connecting is the same on every node: fail at once. */
    @Test
    void rateLimitedInPlaceOfHelloFailsAtOnce() throws Exception {
        byte[] limited = Codec.encodeError(0, new ServerException(Status.RATE_LIMITED.code, "m", 0, 0, 1000, 0, 0, 0, null));
        try (Fake a = new Fake(null, limited); Fake b = new Fake((id, op, body) -> ok(id, op), null);
             WxAuthClient c = client(a.address(), b.address())) {
            assertEquals(Status.RATE_LIMITED, assertThrows(ServerException.class, c::ping).status());
            assertEquals(List.of(), b.ops(), "B was tried");
        }
    }

    @Test
    void silentServerTimesOut() throws Exception {
        try (Fake f = new Fake((id, op, body) -> null, null);
             Fake b = new Fake((id, op, body) -> ok(id, op), null);
             WxAuthClient c = WxAuthClient.builder().addresses(f.address(), b.address())
                     .requestTimeout(Duration.ofMillis(100)).build()) {
            assertThrows(RequestTimeoutException.class, () -> c.validate("tok"));
            // no answer within the timeout: the client left the node; the next request goes to B
            assertEquals(b.address(), c.currentAddress());
            c.ping();
            assertEquals(List.of(Op.PING), b.ops());
        }
    }

    /**
     * PROTOCOL.md "Clients and several nodes" rule 2: the retryable statuses about the node move the client (a safe
     * request is repeated once at the next node, REVOKE never); RATE_LIMITED and WECHAT_UNAVAILABLE keep it there.
     */
    @TestFactory
    Stream<DynamicTest> whichStatusesLeaveTheNode() {
        Map<ServerException, Boolean> cases = new java.util.LinkedHashMap<>();
        cases.put(new ServerException(Status.SHUTTING_DOWN, "m"), true);
        cases.put(new ServerException(Status.STORE_UNAVAILABLE, "m"), true);
        cases.put(new ServerException(Status.SERVER_FULL, "m"), true);
        cases.put(new ServerException(Status.INTERNAL_ERROR, "m"), true);
        cases.put(new ServerException(Status.RATE_LIMITED.code, "m", 0, 0, 5, 0, 0, 0, null), false);
        cases.put(new ServerException(Status.WECHAT_UNAVAILABLE.code, "m", 0, -1, 0, 0, 0, 0, null), false);
        cases.put(new ServerException(Status.INVALID_TOKEN, "m"), false);
        return cases.entrySet().stream().map(kv -> DynamicTest.dynamicTest(kv.getKey().status().name(), () -> {
            ServerException answer = kv.getKey();
            boolean moves = kv.getValue();
            try (Fake a = new Fake((id, op, body) -> Codec.encodeError(id, answer), null);
                 Fake b = new Fake((id, op, body) -> ok(id, op), null)) {
                try (WxAuthClient c = client(a.address(), b.address())) {
                    if (moves) {
                        c.validate("tok"); // safe: repeated once at B
                        assertEquals(List.of(Op.VALIDATE), b.ops());
                        assertEquals(b.address(), c.currentAddress());
                    } else {
                        ServerException e = assertThrows(ServerException.class, () -> c.validate("tok"));
                        assertEquals(answer.status(), e.status());
                        assertEquals(List.of(), b.ops(), "moved to B");
                        assertEquals(a.address(), c.currentAddress());
                    }
                }
                if (moves) {
                    try (WxAuthClient c = client(a.address(), b.address())) {
                        ServerException e = assertThrows(ServerException.class, () -> c.revoke("tok"));
                        assertEquals(answer.status(), e.status());
                        assertFalse(b.ops().contains(Op.REVOKE), "REVOKE was repeated");
                        assertEquals(b.address(), c.currentAddress());
                    }
                    // a pipeline is not repeated, but its answer moves the client all the same
                    try (WxAuthClient c = client(a.address(), b.address())) {
                        int before = b.ops().size();
                        var r = c.pipeline(List.of(Request.validate("tok")));
                        ServerException e = assertThrows(ServerException.class, () -> WxAuthClient.await(r.get(0)));
                        assertEquals(answer.status(), e.status());
                        assertEquals(before, b.ops().size(), "the pipeline was repeated");
                        assertEquals(b.address(), c.currentAddress());
                    }
                }
            }
        }));
    }

    @Test
    void authIsNotSentByHand() throws Exception {
        try (Fake f = new Fake((id, op, body) -> ok(id, op), null); WxAuthClient c = client(f.address())) {
            Request auth = Request.auth("x", new byte[32]);
            assertThrows(FieldLimitException.class, () -> WxAuthClient.await(c.sendAsync(auth)));
            var r = c.pipeline(List.of(auth, Request.ping()));
            assertThrows(FieldLimitException.class, () -> WxAuthClient.await(r.get(0)));
            assertTrue(r.get(1).join() instanceof Long);
            assertEquals(List.of(Op.PING), f.ops());
        }
    }
}
