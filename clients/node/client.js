// Promise client for wxauthd: one socket, requests pipelined and matched by request id (answers may come back out
// of order), HELLO read on connect, AUTH when the server requires it, per-request and connect timeouts.

import net from 'node:net';
import {
  FrameDecoder, LENGTH_PREFIX_SIZE, MAX_REQUEST_ID, Op, Status, authProof, decodeErrorBody,
  decodeResponse, encodeFrame, encodeRequestBody, opCode, responseError,
} from './codec.js';
import { isSafeToRepeat, movesToAnotherNode, parseNodes } from './failover.js';
import {
  ConnectionLostError, DecodeError, NotAuthorizedError, ProtocolError, RequestTimeoutError, ShuttingDownError,
  errorForStatus,
} from './errors.js';

const MAX_INCOMING_FRAME = 4 * 1024 * 1024;

/** What the client methods resolve to for an OK body. */
export function resultValue(op, result) {
  switch (op) {
    case Op.PING: return result.serverTime;
    case Op.AUTH: return result.permissions;
    case Op.VALIDATE: return result.session;
    case Op.REVOKE: return undefined;
    case Op.REVOKE_USER: return result.revoked;
    case Op.DECRYPT: return result.data;
    case Op.VERIFY_SIGNATURE:
    case Op.RESET_SESSION_KEY: return undefined;
    case Op.CHECK_SESSION_KEY: return result.current;
    default: return result; // LOGIN, REFRESH: { token, session }
  }
}

export class Connection {
  /** Connects, reads HELLO and authenticates when asked to. */
  static open({ host, port, connectTimeout = 5000, callerId, callerSecret }) {
    return new Promise((resolve, reject) => {
      const conn = new Connection(net.createConnection({ host, port, noDelay: true }));
      let timer = null;
      let done = false;
      const finish = (err) => {
        if (done) return;
        done = true;
        conn.onHello = null;
        if (timer) clearTimeout(timer);
        timer = null;
        if (err) {
          conn.close(err);
          reject(err);
        } else {
          resolve(conn);
        }
      };
      if (connectTimeout != null) {
        timer = setTimeout(() => finish(new RequestTimeoutError(`connecting to ${host}:${port} timed out`)), connectTimeout);
      }
      conn.onHello = (err, hello) => {
        if (err) return finish(err);
        conn.onHello = null;
        if (!hello.authRequired) {
          conn.state = 'ready';
          return finish(null);
        }
        if (callerId == null || callerSecret == null) {
          return finish(new NotAuthorizedError('server requires authentication; configure callerId and callerSecret'));
        }
        const auth = { op: 'AUTH', callerId, proof: authProof(callerSecret, hello.nonce) };
        conn.send([auth], null, true)[0].then((permissions) => {
          conn.permissions = permissions;
          conn.state = 'ready';
          finish(null);
        }, finish);
      };
    });
  }

  constructor(socket) {
    this.socket = socket;
    this.state = 'hello';
    this.hello = null;
    this.permissions = null;
    this.failure = null;
    this.reusable = true;
    this.pending = new Map();
    this.nextId = 1;
    this.decoder = new FrameDecoder(MAX_INCOMING_FRAME);
    this.onHello = null;
    socket.on('data', (chunk) => this.#onData(chunk));
    socket.on('error', (err) => this.#fail(() => new ConnectionLostError(`connection error: ${err.message}`, { cause: err })));
    socket.on('end', () => this.#fail(() => new ConnectionLostError('connection closed by server')));
    socket.on('close', () => this.#fail(() => new ConnectionLostError('connection closed')));
  }

  get usable() {
    return this.failure === null && this.reusable && this.state === 'ready';
  }

  get pendingCount() {
    return this.pending.size;
  }

  #allocateId() {
    for (let i = 0; i <= this.pending.size; i++) {
      const id = this.nextId;
      this.nextId = id >= MAX_REQUEST_ID ? 1 : id + 1; // 0 is reserved for the server
      if (!this.pending.has(id)) return id;
    }
    throw new ProtocolError('no free request id');
  }

  /** Writes the requests in one go; returns one promise per request (in order). */
  send(requests, timeout, handshake = false) {
    if (this.failure) throw this.failure();
    if (this.state !== 'ready' && !handshake) throw new ProtocolError(`connection is ${this.state}, not ready`);
    const bodies = requests.map((req) => [opCode(req.op), encodeRequestBody(req)]); // FieldLimitError before any id
    const frames = [];
    const promises = bodies.map(([op, body]) => {
      const id = this.#allocateId();
      const frame = encodeFrame(op, id, body);
      if (this.hello && frame.length - LENGTH_PREFIX_SIZE > this.hello.maxFrame) {
        return Promise.reject(new ProtocolError(`request frame of ${frame.length} bytes exceeds the server's max_frame`));
      }
      frames.push(frame);
      return new Promise((resolve, reject) => {
        const entry = { op, resolve, reject, timer: null };
        if (timeout != null) {
          entry.timer = setTimeout(() => {
            this.pending.delete(id); // a late answer is dropped
            reject(new RequestTimeoutError(`no response to request ${id} in time`));
            this.#releaseIfRetired();
          }, timeout);
        }
        this.pending.set(id, entry);
      });
    });
    if (frames.length) this.socket.write(frames.length === 1 ? frames[0] : Buffer.concat(frames));
    return promises;
  }

  #settle(id, fn) {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    if (entry.timer) clearTimeout(entry.timer);
    fn(entry);
  }

  #onData(chunk) {
    if (this.failure) return;
    let frames;
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      for (const f of err.frames ?? []) this.#onFrame(f);
      this.#fail(() => new ProtocolError(`undecodable frame from server: ${err.message}`));
      return;
    }
    for (const frame of frames) {
      this.#onFrame(frame);
      if (this.failure) return;
    }
  }

  #onFrame(frame) {
    if (frame.requestId === 0) {
      this.#onServerFrame(frame);
      return;
    }
    const entry = this.pending.get(frame.requestId);
    if (!entry) return; // answer to an abandoned request
    let response;
    try {
      response = decodeResponse(frame, entry.op);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.#settle(frame.requestId, (e) => e.reject(new ProtocolError(`undecodable response: ${err.message}`)));
      return;
    }
    if (response.ok) {
      this.#settle(frame.requestId, (e) => e.resolve(resultValue(e.op, response.result)));
    } else {
      const err = responseError(response);
      if (err instanceof ShuttingDownError) this.reusable = false;
      this.#settle(frame.requestId, (e) => e.reject(err));
    }
    this.#releaseIfRetired();
  }

  #onServerFrame(frame) {
    if (frame.kind === Status.OK) {
      if (this.state !== 'hello') return; // nothing unsolicited is defined besides HELLO
      try {
        this.hello = decodeResponse(frame, Op.HELLO).result;
      } catch (err) {
        this.#fail(() => new ProtocolError(`undecodable HELLO: ${err.message}`));
        return;
      }
      this.state = this.hello.authRequired ? 'auth' : 'ready';
      this.onHello?.(null, this.hello);
      return;
    }
    // An error about the connection itself (framing, capacity, shutdown): the server closes it.
    let fields;
    try {
      fields = decodeErrorBody(frame.kind, frame.body);
    } catch {
      fields = { message: '', body: frame.body };
    }
    this.#fail(() => errorForStatus(frame.kind, fields, 0));
  }

  #fail(factory) {
    if (!this.failure) this.failure = factory;
    const wasHello = this.state === 'hello';
    this.state = 'closed';
    this.reusable = false;
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const e of entries) {
      if (e.timer) clearTimeout(e.timer);
      e.reject(this.failure());
    }
    if (wasHello && this.onHello) {
      const cb = this.onHello;
      this.onHello = null;
      cb(this.failure());
    }
    if (!this.socket.destroyed) this.socket.destroy();
  }

  #releaseIfRetired() {
    if (!this.reusable && this.pending.size === 0 && !this.socket.destroyed) this.socket.end();
  }

  /** No new requests go here: the connection closes once the requests in flight are answered (or time out). */
  retire() {
    this.reusable = false;
    this.#releaseIfRetired();
  }

  /** Closes the socket; pending requests fail with `err` (default ConnectionLostError). */
  close(err) {
    this.#fail(() => err ?? new ConnectionLostError('connection closed by client'));
  }
}

/**
 * A wxauthd client over one reused connection (reconnects when it was closed or the server is shutting down).
 * Times are milliseconds; `timeout: null` waits forever.
 *
 * `nodes` (`['10.0.0.1:7400', { host: '10.0.0.2', port: 7400 }]`, instead of `host`/`port`) names several wxauthd
 * nodes: the client uses one at a time and moves to the next when it is lost or answers a status about itself
 * (SHUTTING_DOWN, STORE_UNAVAILABLE, SERVER_FULL, INTERNAL_ERROR); the request that met the failure is sent once more
 * on the next node only when it is safe to repeat (PING, VALIDATE, DECRYPT, VERIFY_SIGNATURE, CHECK_SESSION_KEY,
 * LOGIN), never REFRESH, REVOKE, REVOKE_USER, RESET_SESSION_KEY or PHONE_NUMBER. `batch` goes to the current node
 * without fail-over.
 */
export class WxAuthClient {
  constructor({ host = '127.0.0.1', port = 7400, nodes, timeout = 5000, connectTimeout = 5000, callerId, callerSecret } = {}) {
    if (nodes === undefined && (!Number.isInteger(port) || port <= 0 || port > 65535)) throw new TypeError(`invalid port ${port}`);
    this.nodes = parseNodes(nodes ?? [{ host, port }]);
    this.nodeIndex = 0;
    this.host = this.nodes[0].host;
    this.port = this.nodes[0].port;
    this.timeout = timeout;
    this.connectTimeout = connectTimeout;
    this.callerId = callerId;
    this.callerSecret = callerSecret;
    this.conn = null;
    this.connecting = null;
    this.closed = false;
  }

  /** The node the client uses now (or connects to next): `{ host, port }`. */
  get currentNode() {
    return this.nodes[this.nodeIndex];
  }

  /** The current connection, opened (or replaced) as needed; concurrent callers share one attempt. */
  async connect() {
    if (this.closed) throw new ConnectionLostError('client is closed');
    if (this.conn && this.conn.usable) return this.conn;
    if (!this.connecting) {
      const old = this.conn;
      if (old && old.pendingCount === 0) old.close();
      // Closed by its node (graceful shutdown, idle timeout): that node is going away.
      if (old && this.nodes.length > 1) this.nodeIndex = (this.nodeIndex + 1) % this.nodes.length;
      this.conn = null;
      this.connecting = this.#connectFirstReachable().then((conn) => {
        this.conn = conn;
        if (this.closed) conn.close();
        return conn;
      }).finally(() => {
        this.connecting = null;
      });
    }
    return this.connecting;
  }

  /** Tries every node once, from the current one; rejects with the last error when none answers. */
  async #connectFirstReachable() {
    let last;
    for (let offset = 0; offset < this.nodes.length; offset++) {
      const index = (this.nodeIndex + offset) % this.nodes.length;
      const { host, port } = this.nodes[index];
      try {
        const conn = await Connection.open({
          host, port, connectTimeout: this.connectTimeout, callerId: this.callerId, callerSecret: this.callerSecret,
        });
        this.nodeIndex = index;
        this.host = host;
        this.port = port;
        return conn;
      } catch (err) {
        if (!movesToAnotherNode(err)) throw err; // NOT_AUTHORIZED and the like: the same on every node
        last = err;
      }
    }
    throw last;
  }

  /** `conn`'s node failed: leave it; the next connect starts with the next node. */
  #nodeFailed(conn) {
    if (this.conn !== conn) return; // another request already moved on
    this.conn = null;
    this.nodeIndex = (this.nodeIndex + 1) % this.nodes.length;
    conn.retire(); // requests still in flight there (a LOGIN waiting on WeChat) get their answers first
  }

  get hello() {
    return this.conn?.hello ?? null;
  }

  get permissions() {
    return this.conn?.permissions ?? null;
  }

  /** Sends one request and resolves to its result; with several nodes, fails over as the class says. */
  async request(request, { timeout = this.timeout } = {}) {
    let repeated = false;
    for (;;) {
      const conn = await this.connect();
      try {
        return await conn.send([request], timeout)[0];
      } catch (err) {
        if (this.nodes.length === 1 || !movesToAnotherNode(err)) throw err;
        this.#nodeFailed(conn);
        if (repeated || !isSafeToRepeat(request.op)) throw err;
        repeated = true;
      }
    }
  }

  /**
   * Sends many requests in one write; resolves to Promise.allSettled-style results in call order.
   */
  async batch(requests, { timeout = this.timeout } = {}) {
    if (!requests.length) return [];
    const conn = await this.connect();
    return Promise.allSettled(conn.send(requests, timeout));
  }

  ping(opts) { return this.request({ op: 'PING' }, opts); }
  login(appId, code, opts) { return this.request({ op: 'LOGIN', appId, code }, opts); }
  validate(token, opts) { return this.request({ op: 'VALIDATE', token }, opts); }
  refresh(token, opts) { return this.request({ op: 'REFRESH', token }, opts); }
  revoke(token, opts) { return this.request({ op: 'REVOKE', token }, opts); }
  revokeUser(appId, openid, opts) { return this.request({ op: 'REVOKE_USER', appId, openid }, opts); }

  // User data: the session_key stays in wxauthd.
  /** The plaintext JSON of encryptedData (rejects with DecryptFailedError carrying a `reason`). */
  decrypt(token, encryptedData, iv, opts) { return this.request({ op: 'DECRYPT', token, encryptedData, iv }, opts); }
  /** Resolves when signature == sha1(rawData + session_key); rejects with SignatureMismatchError otherwise. */
  verifySignature(token, rawData, signature, opts) {
    return this.request({ op: 'VERIFY_SIGNATURE', token, rawData, signature }, opts);
  }
  /** { phoneNumber, purePhoneNumber, countryCode } for a getPhoneNumber button code (single use). */
  phoneNumber(token, code, opts) { return this.request({ op: 'PHONE_NUMBER', token, code }, opts); }
  /** Whether WeChat still considers the session's stored session_key current. */
  checkSessionKey(token, opts) { return this.request({ op: 'CHECK_SESSION_KEY', token }, opts); }
  /** WeChat issues a new session_key; wxauthd stores it in the session (never returned). */
  resetSessionKey(token, opts) { return this.request({ op: 'RESET_SESSION_KEY', token }, opts); }

  close() {
    this.closed = true;
    if (this.conn) this.conn.close();
    this.conn = null;
  }
}
