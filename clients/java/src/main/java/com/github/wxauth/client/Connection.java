package com.github.wxauth.client;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One greeted (and, when required, authenticated) connection. Any thread may send on it; one reader thread matches
 * responses to requests by request id (the server may answer out of order) and completes their futures.
 */
final class Connection {
    /** Thrown by {@link #send} when nothing reached the socket (the connection had died or been retired). */
    static final class NotSentException extends ConnectionLostException {
        private static final long serialVersionUID = 1L;

        NotSentException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    record Sent(long requestId, Op op, CompletableFuture<Frame> future) {
    }

    final String address;
    final int addressIndex;
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    Hello hello;
    long permissions = 2047;

    private final Object lock = new Object();
    private final Map<Long, CompletableFuture<Frame>> pending = new HashMap<>();
    private long nextId = 1;
    private WxAuthException failure;
    private boolean retired;

    private Connection(String address, int addressIndex, Socket socket) throws IOException {
        this.address = address;
        this.addressIndex = addressIndex;
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream(), 32 << 10);
        this.out = socket.getOutputStream();
    }

    static InetSocketAddress parse(String address) {
        int colon = address.lastIndexOf(':');
        if (colon <= 0) throw new IllegalArgumentException("address must be host:port: " + address);
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        return new InetSocketAddress(host, Integer.parseInt(address.substring(colon + 1)));
    }

    /** Connects, reads HELLO (or the error frame sent in its place) and answers it with AUTH when required. */
    static Connection open(String address, int index, WxAuthClient.Builder o) {
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.connect(parse(address), (int) o.connectTimeout.toMillis());
            socket.setSoTimeout((int) o.connectTimeout.toMillis());
            Connection c = new Connection(address, index, socket);
            c.handshake(o);
            socket.setSoTimeout(0);
            Thread t = new Thread(c::readLoop, "wxauth-reader-" + address);
            t.setDaemon(true);
            t.start();
            return c;
        } catch (SocketTimeoutException e) {
            closeQuietly(socket);
            throw new ConnectionLostException("no HELLO/AUTH answer from " + address + " in time", e);
        } catch (IOException e) {
            closeQuietly(socket);
            throw new ConnectionLostException("cannot connect to " + address + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(socket);
            throw e;
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    /** One frame during the handshake; an error frame with request id 0 is the server refusing us. */
    private Frame readSync(String what) throws IOException {
        Frame f;
        try {
            f = Codec.readFrame(in, Codec.MAX_INCOMING_FRAME);
        } catch (DecodeException e) {
            throw new ProtocolException("undecodable " + what + " from " + address, e);
        }
        if (f == null) throw new ConnectionLostException("connection closed by " + address + " before " + what);
        if (f.version() != Codec.VERSION) throw new ProtocolException(what + " with protocol version " + f.version());
        if (f.requestId() == 0 && f.kind() != Status.OK.code) throw decodeError(f);
        return f;
    }

    private ServerException decodeError(Frame f) {
        try {
            return ServerException.decode(f.kind(), f.requestId(), f.body());
        } catch (DecodeException e) {
            throw new ProtocolException("undecodable " + Status.name(f.kind()) + " body from " + address, e);
        }
    }

    private void handshake(WxAuthClient.Builder o) throws IOException {
        Frame f = readSync("HELLO");
        if (f.requestId() != 0) throw new ProtocolException("first frame from " + address + " is not HELLO");
        try {
            hello = (Hello) Codec.decodeOk(Op.HELLO, f.body());
        } catch (DecodeException e) {
            throw new ProtocolException("undecodable HELLO from " + address, e);
        }
        if (!hello.authRequired()) return;
        if (o.callerId == null) {
            throw new ServerException(Status.NOT_AUTHORIZED,
                    "server requires authentication; configure caller(id, secret) (client side)");
        }
        byte[] proof = Codec.authProof(o.callerSecret.getBytes(StandardCharsets.UTF_8), hello.nonce());
        out.write(Codec.encodeRequest(1, Request.auth(o.callerId, proof)));
        out.flush();
        while (true) {
            Frame a = readSync("AUTH answer");
            if (a.requestId() != 1) continue;
            if (a.kind() != Status.OK.code) throw decodeError(a);
            try {
                permissions = (Long) Codec.decodeOk(Op.AUTH, a.body());
            } catch (DecodeException e) {
                throw new ProtocolException("undecodable AUTH answer from " + address, e);
            }
            return;
        }
    }

    private void readLoop() {
        while (true) {
            Frame f;
            try {
                f = Codec.readFrame(in, Codec.MAX_INCOMING_FRAME);
            } catch (DecodeException e) {
                fail(new ProtocolException("undecodable frame from " + address, e));
                return;
            } catch (EOFException e) {
                fail(new ConnectionLostException("connection closed by " + address + " inside a frame"));
                return;
            } catch (IOException e) {
                fail(new ConnectionLostException("receive from " + address + " failed: " + e.getMessage(), e));
                return;
            }
            if (f == null) {
                fail(new ConnectionLostException("connection closed by " + address));
                return;
            }
            if (f.version() != Codec.VERSION) {
                fail(new ProtocolException("response with protocol version " + f.version() + " from " + address));
                return;
            }
            if (f.requestId() == 0) {
                if (f.kind() == Status.OK.code) continue; // nothing unsolicited is defined besides HELLO
                // An error about the connection itself (framing, capacity, shutdown): the server closes it.
                WxAuthException e;
                try {
                    e = new ConnectionLostException("server ended the connection", decodeError(f));
                } catch (ProtocolException pe) {
                    e = pe;
                }
                fail(e);
                return;
            }
            CompletableFuture<Frame> fut;
            synchronized (lock) {
                fut = pending.remove(f.requestId());
                closeIfIdleLocked();
            }
            if (fut != null) fut.complete(f);
        }
    }

    /** Kills the connection: every pending request fails with {@code e}. */
    void fail(WxAuthException e) {
        List<CompletableFuture<Frame>> victims;
        synchronized (lock) {
            if (failure != null) return;
            failure = e;
            victims = new ArrayList<>(pending.values());
            pending.clear();
        }
        closeQuietly(socket);
        for (CompletableFuture<Frame> f : victims) f.completeExceptionally(e);
    }

    private void closeIfIdleLocked() {
        if (retired && pending.isEmpty() && failure == null) {
            failure = new ConnectionLostException("connection to " + address + " retired");
            closeQuietly(socket);
        }
    }

    /** No new requests; closed once nothing is pending (SHUTTING_DOWN, fail-over). */
    void retire() {
        synchronized (lock) {
            retired = true;
            closeIfIdleLocked();
        }
    }

    boolean usable() {
        synchronized (lock) {
            return failure == null && !retired;
        }
    }

    void abandon(long id) {
        synchronized (lock) {
            pending.remove(id);
            closeIfIdleLocked();
        }
    }

    /** Writes the requests in one write under fresh request ids (never 0, never one in flight). */
    List<Sent> send(List<Op> ops, List<byte[]> bodies) {
        List<Sent> sent = new ArrayList<>(ops.size());
        int total = 0;
        for (byte[] b : bodies) {
            if (Codec.HEADER_SIZE + b.length > hello.maxFrame()) {
                throw new FieldLimitException("request", "frame exceeds the server's max_frame");
            }
            total += 4 + Codec.HEADER_SIZE + b.length;
        }
        synchronized (lock) {
            if (failure != null) throw new NotSentException(failure.getMessage(), failure);
            if (retired) throw new NotSentException("connection to " + address + " retired", null);
            for (Op op : ops) {
                long id;
                do {
                    id = nextId;
                    nextId = nextId >= Codec.MAX_REQUEST_ID ? 1 : nextId + 1;
                } while (pending.containsKey(id));
                CompletableFuture<Frame> f = new CompletableFuture<>();
                pending.put(id, f);
                sent.add(new Sent(id, op, f));
            }
        }
        byte[] all = new byte[total];
        int at = 0;
        for (int i = 0; i < ops.size(); i++) {
            byte[] frame = Codec.encodeFrame(Codec.VERSION, ops.get(i).code, sent.get(i).requestId(), bodies.get(i));
            System.arraycopy(frame, 0, all, at, frame.length);
            at += frame.length;
        }
        try {
            synchronized (out) {
                out.write(all);
                out.flush();
            }
        } catch (IOException e) {
            fail(new ConnectionLostException("send to " + address + " failed: " + e.getMessage(), e));
        }
        return sent;
    }

    void close(WxAuthException why) {
        fail(why);
    }
}
