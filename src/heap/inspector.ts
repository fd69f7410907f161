// A client for the Node.js inspector (Chrome DevTools protocol over a WebSocket), on loopback only.
//
// The WebSocket is written by hand (~100 lines) rather than taken from a package: Node 20 has no stable
// WebSocket client, and the only peer is Node's own inspector on this machine, which speaks plain text
// frames without extensions or TLS. That keeps mcp-hammer at its two dependencies for a flag most runs
// never use. Fragmented frames, ping and close are handled all the same.
//
// The address's path is the inspector's only secret (the port can be seen by anyone on the machine), so no
// message here quotes it: they name the host and port.
import { connect, type Socket } from 'node:net';
import { get } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';

export interface Inspector {
  /** Send a protocol command; resolves with its result, rejects with its error or after timeoutMs. */
  send(method: string, params?: object, timeoutMs?: number): Promise<any>;
  /** Listen to a protocol event; returns the function that stops listening. */
  on(event: string, listener: (params: any) => void): () => void;
  close(): void;
  /** Resolves when the connection is gone, whoever closed it. */
  closed: Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The host, port and path of a ws:// address, or null when it is not on loopback. */
export function loopbackAddress(url: string): { host: string; port: number; path: string } | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'ws:' || !LOOPBACK.has(u.hostname) || !u.port) return null;
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port), path: u.pathname + u.search };
}

export function connectInspector(url: string, timeoutMs = 5000): Promise<Inspector> {
  const address = loopbackAddress(url);
  if (!address) return Promise.reject(new Error('not a loopback inspector address'));
  const where = `${address.host}:${address.port}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.host, port: address.port });
    const key = randomBytes(16).toString('base64');
    const timer = setTimeout(() => fail(new Error(`no answer from the inspector at ${where}`)), timeoutMs);
    let head = Buffer.alloc(0);
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.write(`GET ${address.path} HTTP/1.1\r\nHost: ${address.host}:${address.port}\r\nUpgrade: websocket\r\n`
        + `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    const onHead = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onHead);
      const text = head.subarray(0, end).toString('latin1');
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      if (!/^HTTP\/1\.1 101/.test(text) || !text.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) {
        fail(new Error(`the inspector at ${where} refused the WebSocket: ${text.split('\r\n')[0]}`));
        return;
      }
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(session(socket, head.subarray(end + 4)));
    };
    socket.on('data', onHead);
  });
}

/**
 * Whether the inspector at this address hands its address to anyone who asks over HTTP (GET /json/list
 * answers), as it does unless started with --inspect-publish-uid=stderr. The answer is not kept.
 */
export function listedOverHttp(url: string, timeoutMs = 1000): Promise<boolean> {
  const address = loopbackAddress(url);
  if (!address) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = get({ host: address.host, port: address.port, path: '/json/list', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function session(socket: Socket, rest: Buffer): Inspector {
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  const listeners = new Map<string, Set<(p: any) => void>>();
  let done!: () => void;
  const closed = new Promise<void>((r) => { done = r; });

  const onMessage = (text: string) => {
    const msg = JSON.parse(text);
    if (typeof msg.id === 'number') {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error) p.reject(new Error(`${msg.error.message} (${msg.error.code})`));
      else p.resolve(msg.result);
    } else if (msg.method) {
      for (const l of listeners.get(msg.method) ?? []) l(msg.params);
    }
  };

  // Frames: collect bytes until a whole frame is there, then take it out. Messages split over several
  // frames (opcode 0, continuation) are joined before they are parsed.
  let buffered: Buffer[] = rest.length ? [rest] : [];
  let size = rest.length;
  let message: Buffer[] = [];
  let needed = 2;
  const read = () => {
    while (size >= needed) {
      // Only the header is looked at until the whole frame has arrived: joining every chunk of a large
      // frame on each arrival would copy it over and over.
      const head = buffered[0].length >= 14 || buffered.length === 1 ? buffered[0] : firstBytes(buffered, 14);
      const fin = (head[0] & 0x80) !== 0;
      const opcode = head[0] & 0x0f;
      const masked = (head[1] & 0x80) !== 0;
      let length = head[1] & 0x7f;
      let offset = 2;
      if (length === 126) offset = 4;
      else if (length === 127) offset = 10;
      if (size < offset) {
        needed = offset;
        return;
      }
      if (length === 126) length = head.readUInt16BE(2);
      else if (length === 127) length = Number(head.readBigUInt64BE(2));
      const maskAt = offset;
      if (masked) offset += 4;
      if (size < offset + length) {
        needed = offset + length;
        return;
      }
      const data = buffered.length === 1 ? buffered[0] : Buffer.concat(buffered, size);
      const payload = Buffer.from(data.subarray(offset, offset + length));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i] ^= data[maskAt + (i & 3)];
      const left = data.subarray(offset + length);
      buffered = left.length ? [left] : [];
      size = left.length;
      needed = 2;
      if (opcode === 0x8) {
        socket.end();
        return;
      }
      if (opcode === 0x9) {
        write(0xa, payload);
        continue;
      }
      if (opcode === 0xa) continue;
      message.push(payload);
      if (fin) {
        const text = Buffer.concat(message).toString('utf8');
        message = [];
        onMessage(text);
      }
    }
  };
  socket.on('data', (chunk: Buffer) => {
    buffered.push(chunk);
    size += chunk.length;
    read();
  });
  const end = () => {
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('the inspector connection closed'));
    }
    pending.clear();
    done();
  };
  socket.on('close', end);
  socket.on('error', () => socket.destroy());

  // Client frames must be masked (RFC 6455 5.3).
  const write = (opcode: number, payload: Buffer) => {
    if (socket.destroyed) return;
    const mask = randomBytes(4);
    const len = payload.length;
    const header = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len])
      : len < 65536 ? Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 255])
        : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 127]), bigEndian64(len)]);
    const body = Buffer.from(payload);
    for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
    socket.write(Buffer.concat([header, mask, body]));
  };
  read();

  return {
    send(method, params = {}, timeoutMs = 10_000) {
      if (socket.destroyed) return Promise.reject(new Error('the inspector connection closed'));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${method} got no answer within ${Math.round(timeoutMs / 1000)} s`));
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        write(0x1, Buffer.from(JSON.stringify({ id, method, params })));
      });
    },
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener);
      return () => set.delete(listener);
    },
    close() {
      if (socket.destroyed) return;
      write(0x8, Buffer.alloc(0));
      socket.end();
      // A peer that does not answer the close is not waited for.
      setTimeout(() => socket.destroy(), 500).unref();
    },
    closed,
  };
}

/** The first n bytes (or fewer) of a list of chunks. */
function firstBytes(chunks: Buffer[], n: number): Buffer {
  const out: Buffer[] = [];
  let got = 0;
  for (const c of chunks) {
    if (got >= n) break;
    out.push(c);
    got += c.length;
  }
  return Buffer.concat(out).subarray(0, n);
}

function bigEndian64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}
