package com.github.wxauth.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A wxauthd client (protocol v1). Thread-safe: requests from any number of threads are pipelined over a small pool of
 * connections; each connection has one reader thread that completes the futures (do not block in callbacks you
 * attach with {@code thenApply}; use the {@code *Async} variants with your own executor for that).
 *
 * <pre>{@code
 * try (WxAuthClient wx = WxAuthClient.builder().addresses("10.0.0.5:7400", "10.0.0.6:7400").build()) {
 *     TokenResult issued = wx.login("wx1234567890abcdef", code);
 *     Session session = wx.validate(issued.token());
 * }
 * }</pre>
 *
 * <p>Fail-over (PROTOCOL.md "Clients and several nodes"): the client uses one address at a time and moves to the next
 * when it cannot connect (every address is tried once), when a connection is lost, when a request got no answer
 * within the request timeout, or when the server answers a status about the node ({@link Status#leavesTheNode()}:
 * SHUTTING_DOWN, STORE_UNAVAILABLE, SERVER_FULL, INTERNAL_ERROR; RATE_LIMITED and WECHAT_UNAVAILABLE do not move it).
 * A request that failed that way after it was sent is retried once, at the next address, only when
 * {@link Op#safeToRepeat()}: PING, VALIDATE, DECRYPT, VERIFY_SIGNATURE, CHECK_SESSION_KEY, LOGIN (a timed-out request
 * is not: its deadline is spent). The others' errors are returned. Requests already sent to the node it leaves still
 * get their answers there (the connection is retired, not closed).
 */
public final class WxAuthClient implements AutoCloseable {

    /** Configuration; {@link #build()} makes the client (connections open on first use). */
    public static final class Builder {
        final List<String> addresses = new ArrayList<>();
        String callerId;
        String callerSecret;
        Duration connectTimeout = Duration.ofSeconds(5);
        Duration requestTimeout = Duration.ofSeconds(5);
        int poolSize = 2;

        /** Servers as "host:port", in order of preference. */
        public Builder addresses(String... hostPorts) {
            for (String a : hostPorts) {
                Connection.parse(a);
                addresses.add(a);
            }
            return this;
        }

        public Builder address(String host, int port) {
            return addresses(host + ":" + port);
        }

        /** Answers a HELLO that requires AUTH; the secret is used as its UTF-8 bytes. */
        public Builder caller(String id, String secret) {
            callerId = Objects.requireNonNull(id);
            callerSecret = Objects.requireNonNull(secret);
            return this;
        }

        /** Bounds connecting plus HELLO and AUTH (default 5 s). */
        public Builder connectTimeout(Duration d) {
            connectTimeout = d;
            return this;
        }

        /** Bounds each call, fail-over retry included (default 5 s). */
        public Builder requestTimeout(Duration d) {
            requestTimeout = d;
            return this;
        }

        /** Connections requests are spread over (default 2). */
        public Builder poolSize(int n) {
            if (n < 1) throw new IllegalArgumentException("poolSize < 1");
            poolSize = n;
            return this;
        }

        public WxAuthClient build() {
            if (addresses.isEmpty()) throw new IllegalArgumentException("no addresses");
            return new WxAuthClient(this);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    private final Builder opts;
    private final List<String> addresses;
    private final Connection[] slots;
    private final Object[] slotLocks;
    private final AtomicInteger roundRobin = new AtomicInteger();
    private final ExecutorService retryExecutor;
    private final Object lock = new Object();
    private int current;
    private volatile boolean closed;

    private WxAuthClient(Builder b) {
        opts = b;
        addresses = List.copyOf(b.addresses);
        slots = new Connection[b.poolSize];
        slotLocks = new Object[b.poolSize];
        for (int i = 0; i < slotLocks.length; i++) slotLocks[i] = new Object();
        retryExecutor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "wxauth-failover");
            t.setDaemon(true);
            return t;
        });
    }

    /** The address in use. */
    public String currentAddress() {
        synchronized (lock) {
            return addresses.get(current);
        }
    }

    /** The greeting of a current connection (connecting if needed). */
    public Hello hello() {
        return connection().hello;
    }

    /** The permission bits AUTH granted (all bits on an open server). */
    public long permissions() {
        return connection().permissions;
    }

    @Override
    public void close() {
        closed = true;
        for (int i = 0; i < slots.length; i++) {
            synchronized (slotLocks[i]) {
                if (slots[i] != null) slots[i].close(new ConnectionLostException("client closed"));
                slots[i] = null;
            }
        }
        retryExecutor.shutdownNow();
    }

    // ---- connections -------------------------------------------------------------------------------------------

    private Connection connection() {
        int i = Math.floorMod(roundRobin.getAndIncrement(), slots.length);
        synchronized (slotLocks[i]) {
            if (closed) throw new ConnectionLostException("client closed");
            Connection c = slots[i];
            if (c != null && c.usable()) return c;
            if (c != null) c.retire();
            slots[i] = null;
            c = dial();
            slots[i] = c;
            return c;
        }
    }

    /** Tries every address once, starting with the current one; the first that answers becomes current. */
    private Connection dial() {
        int start;
        synchronized (lock) {
            start = current;
        }
        WxAuthException last = null;
        for (int k = 0; k < addresses.size(); k++) {
            int idx = (start + k) % addresses.size();
            try {
                Connection c = Connection.open(addresses.get(idx), idx, opts);
                synchronized (lock) {
                    if (current == start) current = idx;
                }
                return c;
            } catch (ServerException e) {
                // NOT_AUTHORIZED, RATE_LIMITED, ...: the same on every node (PROTOCOL.md rule 1): fail at once
                if (e.status() == null || !e.status().leavesTheNode()) throw e;
                last = e;
            } catch (WxAuthException e) {
                last = e;
            }
        }
        throw last;
    }

    private void failover(Connection c) {
        synchronized (lock) {
            if (current == c.addressIndex) current = (c.addressIndex + 1) % addresses.size();
        }
        c.retire();
        for (int i = 0; i < slots.length; i++) {
            synchronized (slotLocks[i]) {
                if (slots[i] != null && slots[i].addressIndex == c.addressIndex) slots[i].retire();
            }
        }
    }

    private static Object decodeResponse(Connection c, Op op, Frame f) {
        if (f.kind() == Status.OK.code) {
            try {
                return Codec.decodeOk(op, f.body());
            } catch (DecodeException e) {
                throw new ProtocolException("undecodable " + op + " response from " + c.address, e);
            }
        }
        ServerException e;
        try {
            e = ServerException.decode(f.kind(), f.requestId(), f.body());
        } catch (DecodeException de) {
            throw new ProtocolException("undecodable " + Status.name(f.kind()) + " body from " + c.address, de);
        }
        if (e.status() != null && e.status().leavesTheNode()) c.retire(); // finish what is pending, send nothing new
        throw e;
    }

    /** A lost connection, a timeout, or a status about the node: the client leaves the node (rule 2). */
    private static boolean leavesTheNode(Throwable t) {
        return t instanceof ConnectionLostException || t instanceof RequestTimeoutException
                || (t instanceof ServerException se && se.status() != null && se.status().leavesTheNode());
    }

    /** AUTH belongs to the connection (sent on connect); a pooled connection must not change caller halfway. */
    private static FieldLimitException authByHand() {
        return new FieldLimitException("op", "AUTH is sent by the client on connect (caller(id, secret))");
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    // ---- requests ----------------------------------------------------------------------------------------------

    /** Sends one request, with fail-over; the future completes with the value {@link Codec#decodeOk} describes. */
    public CompletableFuture<Object> sendAsync(Request request) {
        if (request.op() == Op.AUTH) return CompletableFuture.failedFuture(authByHand());
        byte[] body;
        try {
            body = Codec.encodeRequestBody(request);
        } catch (WxAuthException e) {
            return CompletableFuture.failedFuture(e);
        }
        long deadline = System.nanoTime() + opts.requestTimeout.toNanos();
        return attempt(request.op(), body, deadline, false, 0);
    }

    private CompletableFuture<Object> attempt(Op op, byte[] body, long deadline, boolean repeated, int unsent) {
        Connection c;
        Connection.Sent s;
        try {
            c = connection();
            s = c.send(List.of(op), List.of(body)).get(0);
        } catch (Connection.NotSentException e) {
            if (unsent < 2) return attempt(op, body, deadline, repeated, unsent + 1);
            return CompletableFuture.failedFuture(e);
        } catch (WxAuthException e) {
            return CompletableFuture.failedFuture(e);
        }
        long remaining = deadline - System.nanoTime();
        CompletableFuture<Frame> answer = s.future().orTimeout(Math.max(remaining, 1), TimeUnit.NANOSECONDS);
        return answer.handle((frame, ex) -> {
            Throwable cause = ex == null ? null : unwrap(ex);
            if (cause == null) {
                try {
                    return CompletableFuture.completedFuture(decodeResponse(c, op, frame));
                } catch (WxAuthException e) {
                    cause = e;
                }
            }
            if (cause instanceof TimeoutException) {
                c.abandon(s.requestId());
                if (!closed) failover(c); // no answer in time: leave the node (the spent deadline allows no repeat)
                return CompletableFuture.<Object>failedFuture(new RequestTimeoutException("no answer to " + op + " in time"));
            }
            boolean moves = cause instanceof ConnectionLostException
                    || (cause instanceof ServerException se
                        && se.status() != null && se.status().leavesTheNode());
            if (moves && !closed) {
                failover(c);
                if (!repeated && op.safeToRepeat() && deadline - System.nanoTime() > 0) {
                    return CompletableFuture.supplyAsync(() -> attempt(op, body, deadline, true, 0), retryExecutor)
                            .thenCompose(x -> x);
                }
            }
            return CompletableFuture.<Object>failedFuture(cause);
        }).thenCompose(x -> x);
    }

    /**
     * Writes all requests on one connection in one write; one future per request, in order. No fail-over inside a
     * pipeline. A request whose fields break the limits fails alone.
     */
    public List<CompletableFuture<Object>> pipeline(List<Request> requests) {
        List<CompletableFuture<Object>> out = new ArrayList<>();
        List<Op> ops = new ArrayList<>();
        List<byte[]> bodies = new ArrayList<>();
        List<CompletableFuture<Object>> slotsToFill = new ArrayList<>();
        for (Request r : requests) {
            CompletableFuture<Object> f = new CompletableFuture<>();
            out.add(f);
            try {
                if (r.op() == Op.AUTH) throw authByHand();
                bodies.add(Codec.encodeRequestBody(r));
                ops.add(r.op());
                slotsToFill.add(f);
            } catch (WxAuthException e) {
                f.completeExceptionally(e);
            }
        }
        if (ops.isEmpty()) return out;
        List<Connection.Sent> sent;
        Connection c;
        try {
            c = connection();
            sent = c.send(ops, bodies);
        } catch (WxAuthException e) {
            slotsToFill.forEach(f -> f.completeExceptionally(e));
            return out;
        }
        long timeout = opts.requestTimeout.toNanos();
        for (int i = 0; i < sent.size(); i++) {
            Connection.Sent s = sent.get(i);
            CompletableFuture<Object> target = slotsToFill.get(i);
            s.future().orTimeout(timeout, TimeUnit.NANOSECONDS).whenComplete((frame, ex) -> {
                if (ex != null) {
                    Throwable cause = unwrap(ex);
                    if (cause instanceof TimeoutException) {
                        c.abandon(s.requestId());
                        cause = new RequestTimeoutException("no answer to " + s.op() + " in time");
                    }
                    if (leavesTheNode(cause) && !closed) failover(c); // not repeated; the next call goes elsewhere
                    target.completeExceptionally(cause);
                    return;
                }
                try {
                    target.complete(decodeResponse(c, s.op(), frame));
                } catch (WxAuthException e) {
                    if (leavesTheNode(e) && !closed) failover(c);
                    target.completeExceptionally(e);
                }
            });
        }
        return out;
    }

    /** Waits for a future and throws its {@link WxAuthException} as is. */
    public static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable cause = unwrap(e);
            if (cause instanceof RuntimeException re) throw re;
            throw new WxAuthException(cause.toString(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WxAuthException("interrupted", e);
        }
    }

    @SuppressWarnings("unchecked")
    private <T> CompletableFuture<T> typed(Request r) {
        return sendAsync(r).thenApply(v -> (T) v);
    }

    // ---- asynchronous operations -----------------------------------------------------------------------------

    /** The server's clock, Unix milliseconds. */
    public CompletableFuture<Long> pingAsync() { return typed(Request.ping()); }

    /** Exchanges a wx.login code for a session token. */
    public CompletableFuture<TokenResult> loginAsync(String appId, String code) { return typed(Request.login(appId, code)); }

    /** Checks a token and slides its idle deadline. */
    public CompletableFuture<Session> validateAsync(String token) { return typed(Request.validate(token)); }

    /** Rotates a token (never repeated by fail-over; a repeat within the server's grace window is safe). */
    public CompletableFuture<TokenResult> refreshAsync(String token) { return typed(Request.refresh(token)); }

    /** Ends one session. */
    public CompletableFuture<Void> revokeAsync(String token) { return typed(Request.revoke(token)); }

    /** Ends every live session of the user; the number there were. */
    public CompletableFuture<Long> revokeUserAsync(String appId, String openid) {
        return typed(Request.revokeUser(appId, openid));
    }

    /** The plaintext JSON of encryptedData (DECRYPT_FAILED carries a reason). */
    public CompletableFuture<String> decryptAsync(String token, String encryptedData, String iv) {
        return typed(Request.decrypt(token, encryptedData, iv));
    }

    /** Completes when signature == sha1(rawData + session_key); SIGNATURE_MISMATCH otherwise. */
    public CompletableFuture<Void> verifySignatureAsync(String token, String rawData, String signature) {
        return typed(Request.verifySignature(token, rawData, signature));
    }

    /** Exchanges a getPhoneNumber button code (single use: never repeated). */
    public CompletableFuture<PhoneNumberResult> phoneNumberAsync(String token, String code) {
        return typed(Request.phoneNumber(token, code));
    }

    /** Whether WeChat still considers the session's stored session_key current. */
    public CompletableFuture<Boolean> checkSessionKeyAsync(String token) { return typed(Request.checkSessionKey(token)); }

    /** WeChat issues a new session_key, stored in the session (never returned). */
    public CompletableFuture<Void> resetSessionKeyAsync(String token) { return typed(Request.resetSessionKey(token)); }

    // ---- blocking operations ---------------------------------------------------------------------------------

    public long ping() { return await(pingAsync()); }
    public TokenResult login(String appId, String code) { return await(loginAsync(appId, code)); }
    public Session validate(String token) { return await(validateAsync(token)); }
    public TokenResult refresh(String token) { return await(refreshAsync(token)); }
    public void revoke(String token) { await(revokeAsync(token)); }
    public long revokeUser(String appId, String openid) { return await(revokeUserAsync(appId, openid)); }
    public String decrypt(String token, String encryptedData, String iv) { return await(decryptAsync(token, encryptedData, iv)); }
    public void verifySignature(String token, String rawData, String signature) {
        await(verifySignatureAsync(token, rawData, signature));
    }
    public PhoneNumberResult phoneNumber(String token, String code) { return await(phoneNumberAsync(token, code)); }
    public boolean checkSessionKey(String token) { return await(checkSessionKeyAsync(token)); }
    public void resetSessionKey(String token) { await(resetSessionKeyAsync(token)); }
}
