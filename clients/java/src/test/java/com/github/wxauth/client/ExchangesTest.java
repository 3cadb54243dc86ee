package com.github.wxauth.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The "exchanges" of protocol/vectors/vectors.json, run against a real wxauthd: whole conversations (request id 0,
 * framing errors, the checks before and after AUTH, a second AUTH) checked with nothing but the vectors, a socket
 * and this client's codec. One server per distinct caller configuration among the exchanges.
 */
class ExchangesTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final Map<String, TestServers.Server> SERVERS = new LinkedHashMap<>();

    @AfterAll
    static void stopServers() {
        SERVERS.values().forEach(TestServers.Server::stop);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        return (List<Object>) o;
    }

    private static TestServers.Server serverFor(Map<String, Object> exchange) throws Exception {
        List<Object> callers = list(exchange.get("callers"));
        String key = Json.write(callers);
        TestServers.Server s = SERVERS.get(key);
        if (s != null) return s;
        if (callers.isEmpty()) {
            s = TestServers.start(Map.of());
        } else {
            Path config = Files.createTempFile("wxauth-exchanges-", ".json");
            config.toFile().deleteOnExit();
            Files.writeString(config, Json.write(Map.of("callers", callers)), StandardCharsets.UTF_8);
            s = TestServers.start(Map.of(), "--config", config.toString());
        }
        SERVERS.put(key, s);
        return s;
    }

    @TestFactory
    Stream<DynamicTest> exchanges() throws IOException {
        TestServers.requireServer();
        List<Object> exchanges = list(TestServers.vectors().get("exchanges"));
        assertTrue(exchanges.size() >= 10, "vector file looks truncated: too few exchanges");
        return exchanges.stream().map(ExchangesTest::map)
                .map(ex -> DynamicTest.dynamicTest((String) ex.get("name"), () -> run(ex)));
    }

    private static void run(Map<String, Object> exchange) throws Exception {
        TestServers.Server server = serverFor(exchange);
        try (Socket sock = new Socket()) {
            sock.connect(new InetSocketAddress(server.host, server.port), 5000);
            sock.setSoTimeout(5000);
            InputStream in = sock.getInputStream();
            OutputStream out = sock.getOutputStream();
            Frame hello = Codec.readFrame(in, 1 << 24);
            assertNotNull(hello, "no HELLO");
            assertEquals(0, hello.requestId());
            assertEquals(Status.OK.code, hello.kind());
            byte[] nonce = ((Hello) Codec.decodeOk(Op.HELLO, hello.body())).nonce();
            int index = 0;
            for (Object o : list(exchange.get("steps"))) {
                Map<String, Object> step = map(o);
                String label = exchange.get("name") + " step " + index++;
                if (step.containsKey("send")) {
                    out.write(HEX.parseHex((String) step.get("send")));
                    out.flush();
                }
                if (step.containsKey("send_auth")) {
                    Map<String, Object> auth = map(step.get("send_auth"));
                    byte[] secret = ((String) auth.get("secret")).getBytes(StandardCharsets.UTF_8);
                    byte[] proof = Codec.authProof(secret, nonce);
                    ByteArrayOutputStream frames = new ByteArrayOutputStream();
                    frames.write(Codec.encodeRequest((Long) auth.get("request_id"),
                            Request.auth((String) auth.get("caller_id"), proof)));
                    frames.write(HEX.parseHex((String) auth.getOrDefault("then", "")));
                    out.write(frames.toByteArray());
                    out.flush();
                }
                if (step.containsKey("expect")) {
                    Map<String, Object> want = map(step.get("expect"));
                    Frame f = Codec.readFrame(in, 1 << 24);
                    assertNotNull(f, label + ": the server closed the connection before answering");
                    assertEquals(want.get("request_id"), f.requestId(), label);
                    assertEquals(want.get("status"), Status.name(f.kind()), label);
                    if (f.kind() == Status.OK.code) {
                        Object v = Codec.decodeOk(want.containsKey("permissions") ? Op.AUTH : Op.PING, f.body());
                        if (want.containsKey("permissions")) assertEquals(want.get("permissions"), v, label);
                    } else {
                        ServerException.decode(f.kind(), f.requestId(), f.body()); // every error body: the common shape
                    }
                }
                if (Boolean.TRUE.equals(step.get("expect_close"))) {
                    try {
                        int b = in.read();
                        assertEquals(-1, b, label + ": the server should hang up");
                    } catch (SocketTimeoutException e) {
                        fail(label + ": the server kept the connection open");
                    } catch (SocketException e) {
                        // reset: closed too
                    }
                }
            }
        }
    }
}
