// PROTOCOL.md "Clients and several nodes", without I/O: when a client leaves a node, and whether the request that
// made it leave may be sent once more to the next node.

import { Op, Status } from './codec.js';
import { ConnectionLostError, RequestTimeoutError, ServerError } from './errors.js';

/**
 * Requests that change nothing, and LOGIN (the same code again: the code's outcome is remembered and WeChat refuses a
 * code twice, so no second session appears). Never REFRESH, REVOKE, REVOKE_USER, RESET_SESSION_KEY (they may have
 * changed state), PHONE_NUMBER (single-use code) or AUTH (it belongs to its connection).
 */
export const SAFE_TO_REPEAT = Object.freeze(new Set([
  Op.PING, Op.VALIDATE, Op.DECRYPT, Op.VERIFY_SIGNATURE, Op.CHECK_SESSION_KEY, Op.LOGIN,
]));

/**
 * Retryable statuses about the node itself. WECHAT_UNAVAILABLE and RATE_LIMITED are retryable too but concern WeChat
 * or the caller: another node would not help (and a LOGIN's late WeChat answer is kept by the node that asked).
 */
export const NODE_STATUSES = Object.freeze(new Set([
  Status.SHUTTING_DOWN, Status.STORE_UNAVAILABLE, Status.SERVER_FULL, Status.INTERNAL_ERROR,
]));

/** Whether a request with opcode `op` (number or name) may be sent once more to another node. */
export function isSafeToRepeat(op) {
  return SAFE_TO_REPEAT.has(typeof op === 'string' ? Op[op] : op);
}

/** Whether `err` says the node failed: connection lost or timed out, or a status about the node. */
export function movesToAnotherNode(err) {
  if (err instanceof ServerError) return NODE_STATUSES.has(err.status);
  return err instanceof ConnectionLostError || err instanceof RequestTimeoutError;
}

/** `['10.0.0.1:7400', { host, port }, '[::1]:7400']` -> `[{ host, port }, ...]`. */
export function parseNodes(nodes) {
  if (!Array.isArray(nodes) || nodes.length === 0) throw new TypeError('nodes: at least one node');
  return nodes.map((node) => {
    let host;
    let port;
    if (typeof node === 'string') {
      const colon = node.lastIndexOf(':');
      host = colon > 0 ? node.slice(0, colon) : '';
      port = colon > 0 && /^\d+$/.test(node.slice(colon + 1)) ? Number(node.slice(colon + 1)) : NaN;
      if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    } else {
      ({ host, port } = node ?? {});
    }
    if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new TypeError(`node ${JSON.stringify(node)} is not host:port`);
    }
    return { host, port };
  });
}
