// A one-purpose TCP peer for client tests: greets, then hands every request frame to `onRequest(req, send)`.
import net from 'node:net';
import { FrameDecoder, decodeRequest, encodeResponse } from '../codec.js';

export function helloFrame({ flags = 0, nonce = Buffer.alloc(32, 7), maxFrame = 65536 } = {}) {
  return encodeResponse(0, 'HELLO', { flags, nonce, maxFrame });
}

export async function startScripted(onRequest = () => {}, { greeting = helloFrame() } = {}) {
  const sockets = new Set();
  const state = { accepted: 0, received: [] };
  const server = net.createServer((sock) => {
    state.accepted += 1;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    const send = (data, close = false) => {
      if (sock.destroyed) return;
      if (data?.length) sock.write(data);
      if (close) sock.end();
    };
    if (greeting) sock.write(greeting);
    const dec = new FrameDecoder();
    sock.on('data', (chunk) => {
      for (const frame of dec.push(chunk)) {
        const req = decodeRequest(frame);
        state.received.push(req);
        onRequest(req, send);
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = server.address().port;
  state.close = () => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  return state;
}
