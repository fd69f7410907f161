// The state of one HTTP connection to an MCP server, for Streamable HTTP and legacy HTTP+SSE alike: its
// sessions, the requests in flight and waiting, what each transport does its own way (its flavour), and
// what the clients did. post.ts sends and reads back; the flavours (streamable.ts, sse.ts, stateless.ts)
// open and end sessions.
import type http from 'node:http';
import type https from 'node:https';
import type { ConnectionStats, Done, InFlight, Message } from './connection.js';
import type { ClientEvents } from '../clients/mix.js';
import type { SessionStats } from '../results.js';

export interface Session {
  id?: string;
  /** Options for POSTing a message: the path (legacy: the one the endpoint event named) and the headers. */
  post: http.RequestOptions;
  used: number;
  inFlight: number;
  /** Its initialize was answered. */
  opened: boolean;
  /** The server ended it (404 for its id, or its stream closed): the next request opens another. */
  lost: boolean;
  /** No new requests (its budget is spent, or it could not be opened); ended when its last one is answered. */
  retired: boolean;
  ended: boolean;
  /** HTTP+SSE: the GET request whose answer is the session's event stream; Streamable HTTP: its GET stream. */
  stream?: http.ClientRequest;
  /** Its event stream is open: the server has answered it (only an open one is dropped). */
  streaming?: boolean;
  /** With a client mix: long-lived or short, and left without DELETE when it ends. */
  kind?: 'long' | 'short';
  abandoned?: boolean;
}

export interface Pending {
  done: Done;
  sentAt: number;
  session: Session;
  req?: http.ClientRequest;
  init: boolean;
}

export interface Waiting {
  method: string;
  paramsJson?: string;
  done: Done;
}

/** What a transport does its own way. */
export interface Flavour {
  sse: boolean;
  /** 2026-07-28: no sessions, nothing to open or end; churn is by connection (http.ts). */
  stateless?: boolean;
  /**
   * 2026-07-28: the params (the envelope spliced in) and the request options (the headers naming the
   * method) of a call, built once per call rather than per request.
   */
  frame?(h: Http, s: Session, method: string, paramsJson: string | undefined): { params: string | undefined; options: http.RequestOptions };
  /** A new session, ready for its initialize (legacy: once its event stream has said where to post). */
  open(h: Http): Session | Promise<Session>;
  /** Streamable HTTP: the session id an answer to initialize carries. */
  sessionId?(res: http.IncomingMessage): string | undefined;
  /** Legacy: answers come on the session's event stream, the POST only says it was accepted. */
  answersOnStream: boolean;
  /** The initialize of session s was answered. */
  started(h: Http, s: Session, msg: Message): void;
  /** End a session that has been taken out of use (DELETE, or close its stream). */
  end(h: Http, s: Session): void;
}

/** One HTTP connection's state, shared by the functions below and the flavour's. */
export interface Http {
  url: URL;
  flavour: Flavour;
  lib: typeof http | typeof https;
  agent: http.Agent;
  base: { agent: http.Agent; hostname: string; port: string | number };
  userHeaders: Record<string, string>;
  headerNames: string[];
  now: () => number;
  onServerRequest: (method: string) => unknown;
  pending: InFlight<Pending>;
  stats: ConnectionStats;
  sessions: SessionStats;
  statusInfo: Map<number, { status: number }>;
  live: Set<Session>;
  /** DELETEs on their way: end() waits for them (briefly). */
  ending: Set<Promise<void>>;
  waiting: Waiting[];
  opening: Promise<void> | null;
  initParams?: string;
  firstProblem?: string;
  /** With a client mix: what the clients did, and the ids of cancelled calls whose answers may still come. */
  events?: ClientEvents;
  cancelled: Set<number>;
  /** Initialize requests in flight (sessions being opened, some ahead of need): not calls, so not waited for at a block's end. */
  initsInFlight: number;
  /** Cancelled calls' requests still open, by id, waiting for an answer that may come; and requests besides the calls on their way. */
  lingering: Map<number, http.ClientRequest>;
  sideways: Set<Promise<void>>;
  nextId: number;
  timeoutMs: number;
  requestsPerSession?: number;
  current: Session;
}

export const ACCEPT = 'application/json, text/event-stream';

export function newSession(h: Http, path: string): Session {
  const s: Session = {
    post: { ...h.base, path, method: 'POST', headers: { ...h.userHeaders, 'content-type': 'application/json', accept: ACCEPT } },
    used: 0, inFlight: 0, opened: false, lost: false, retired: false, ended: false,
  };
  h.live.add(s);
  return s;
}

export function problem(h: Http, text: string): void {
  h.firstProblem ??= text;
}
