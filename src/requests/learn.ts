// Arguments from the server's own answers. A generated path ("x") names nothing on a real file server, so
// a tool whose trial call fails with it would be left out of the load; yet the server says which paths
// exist: list_allowed_directories names its folders, list_directory the entries in them, search_files
// absolute paths, resources/list its URIs. Before a read-only call is left out, the paths and URIs found
// in such answers are tried in its path- or URI-like arguments, and a value is kept only when the call
// then succeeds. Bounded in calls and time, and only calls of the default choice are ever made.
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Connection, Outcome } from '../transport/connection.js';
import { classify, describeError } from '../transport/outcome.js';
import { withArguments, callName, type Call, type Schema } from './build.js';

export interface Offer {
  value: string;
  kind: 'path' | 'uri';
  /** What the answer said it is, when it did ([FILE], [DIR], a tree's type). */
  type?: 'file' | 'dir';
  /** The call whose answer named it: a tool's name, resources/list. */
  from: string;
}

/** Values found in answers, each once, in the order found. */
export interface Offers {
  list: Offer[];
  seen: Set<string>;
}

export const newOffers = (): Offers => ({ list: [], seen: new Set() });

const MAX_OFFERS = 500;

export function addOffer(offers: Offers, offer: Offer): void {
  const key = `${offer.kind} ${offer.value}`;
  if (offers.seen.has(key) || offers.list.length >= MAX_OFFERS) return;
  offers.seen.add(key);
  offers.list.push(offer);
  // A file URI names a path too (read_media_file answers with one).
  if (offer.kind === 'uri' && offer.value.startsWith('file://')) {
    try {
      addOffer(offers, { value: fileURLToPath(offer.value), kind: 'path', type: offer.type, from: offer.from });
    } catch {
      // not a local file URL
    }
  }
}

/**
 * The paths and URIs an answer names. `dir` is the directory the call asked about: the bare names of a
 * listing ("[FILE] a.txt", "[DIR] docs") and of a tree ([{"name": "a.txt", "type": "file"}]) are relative to it.
 */
export function harvest(offers: Offers, result: unknown, from: string, dir?: string): void {
  visit(offers, result, from, dir, 0);
}

function visit(offers: Offers, value: unknown, from: string, dir: string | undefined, depth: number): void {
  if (offers.list.length >= MAX_OFFERS || depth > 8) return;
  if (typeof value === 'string') fromText(offers, value, from, dir, depth);
  else if (Array.isArray(value)) {
    // A tree's nodes are read by fromTree, each under its own directory: not again under this one.
    const tree = dir !== undefined && fromTree(offers, value, dir, from, depth);
    for (const v of value.slice(0, 1000)) visit(offers, v, from, tree ? undefined : dir, depth + 1);
  } else if (value && typeof value === 'object') {
    // Base64 (an image's data, a blob) may start with "/" and is never a path.
    for (const [k, v] of Object.entries(value)) if (k !== 'data' && k !== 'blob') visit(offers, v, from, dir, depth + 1);
  }
}

// "[FILE] name", "[DIR] name" (server-filesystem's listings), with the padded size of a sized listing after.
const TAG = /^\[(FILE|DIR|DIRECTORY|FOLDER|F|D)\]\s+(.+)$/i;
const PATH_TOKEN = /(?:^|[\s'"`(=,])((?:\/[\w.@+~-]+)+\/?)/g;
const URI = /\b([a-z][a-z0-9+.-]*:\/\/[^\s'"`<>()[\]{}]+)/gi;

function fromText(offers: Offers, text: string, from: string, dir: string | undefined, depth: number): void {
  const trimmed = text.slice(0, 1_000_000).trim();
  if (/^[[{]/.test(trimmed)) {
    try {
      visit(offers, JSON.parse(trimmed), from, dir, depth + 1);
      return;
    } catch {
      // not JSON after all: read it as lines
    }
  }
  for (const raw of trimmed.split(/\r?\n/, 5000)) {
    const line = raw.trim();
    const tagged = TAG.exec(line);
    if (tagged) {
      const name = tagged[2].replace(/\s{2,}.*$/, '');
      const type = /^f/i.test(tagged[1]) ? 'file' : 'dir';
      const path = isAbsolute(name) ? name : dir !== undefined && isBareName(name) ? join(dir, name) : undefined;
      if (path) addOffer(offers, { value: path, kind: 'path', type, from });
      continue;
    }
    // A line that is a path, spaces and all ("/srv/with space"); prose is read for tokens instead.
    if (isAbsolute(line) && !/\t|: | - /.test(line)) {
      addOffer(offers, { value: line.replace(/[/:]$/, '') || '/', kind: 'path', from });
      continue;
    }
    for (const m of line.matchAll(PATH_TOKEN)) if (m[1].length > 1) addOffer(offers, { value: m[1].replace(/\/$/, ''), kind: 'path', from });
    for (const m of line.matchAll(URI)) {
      const uri = m[1].replace(/[.,;:]+$/, '');
      if (staysHere(uri)) addOffer(offers, { value: uri, kind: 'uri', from });
    }
  }
}

/** A tree of names under dir: [{"name": "lib", "type": "directory", "children": [...]}, {"name": "a.ts", "type": "file"}]. */
function fromTree(offers: Offers, nodes: unknown[], dir: string, from: string, depth: number): boolean {
  let found = false;
  if (depth > 8) return found;
  for (const n of nodes.slice(0, 1000) as any[]) {
    if (!n || typeof n !== 'object' || typeof n.name !== 'string' || !isBareName(n.name)) continue;
    if (!Array.isArray(n.children) && typeof n.type !== 'string') continue;
    found = true;
    const path = join(dir, n.name);
    const isDir = Array.isArray(n.children) || /^(dir|folder)/i.test(n.type);
    addOffer(offers, { value: path, kind: 'path', type: isDir ? 'dir' : 'file', from });
    if (Array.isArray(n.children)) fromTree(offers, n.children, path, from, depth + 1);
  }
  return found;
}

const isAbsolute = (p: string) => (p.startsWith('/') && !p.startsWith('//')) || /^[A-Za-z]:[\\/]/.test(p);
const isBareName = (n: string) => n.length > 0 && n.length <= 255 && !/[/\\\u0000-\u001f]/.test(n) && n !== '.' && n !== '..';

function join(dir: string, name: string): string {
  const windows = /^[A-Za-z]:\\/.test(dir) && !dir.includes('/');
  return windows ? `${dir.replace(/\\+$/, '')}\\${name}` : `${dir.replace(/\/+$/, '')}/${name}`;
}

/** A web address learnt from an answer is used only on this machine: a tool that fetches it must not leave it. */
function staysHere(uri: string): boolean {
  if (!/^(https?|wss?):/i.test(uri)) return true;
  try {
    return ['localhost', '127.0.0.1', '[::1]'].includes(new URL(uri).hostname);
  } catch {
    return false;
  }
}

/** An argument that takes a path or a URI, by its name, format or description. */
export interface Slot {
  name: string;
  kind: 'path' | 'uri';
  array: boolean;
}

const PATH_WORDS = new Set(['path', 'paths', 'file', 'files', 'filename', 'filepath', 'dir', 'dirs', 'directory', 'directories', 'folder', 'folders', 'root']);
const URI_WORDS = new Set(['uri', 'uris', 'url', 'urls']);
const words = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);

/** The arguments of a call that take a path or URI and have a value in it (generated or given). */
export function slotsOf(call: Call): Slot[] {
  const props: Record<string, Schema> = call.schema?.properties ?? {};
  const slots: Slot[] = [];
  for (const [name, schema] of Object.entries(props)) {
    if (!call.arguments || !(name in call.arguments) || !schema || typeof schema !== 'object') continue;
    const array = typeOf(schema) === 'array';
    const item: Schema = array ? schema.items ?? {} : schema;
    if (typeOf(item) !== 'string' || Array.isArray(item.enum) || 'const' in item) continue;
    const w = words(name);
    const description = String(item.description ?? schema.description ?? '');
    if (w.some((x) => URI_WORDS.has(x)) || /^(uri|url|iri|uri-reference)$/.test(item.format ?? '')) slots.push({ name, kind: 'uri', array });
    else if (w.some((x) => PATH_WORDS.has(x)) || /\b(file|directory|folder) ?path\b|\bpath (to|of) (a |the )?(file|directory|folder)\b/i.test(description)) {
      slots.push({ name, kind: 'path', array });
    }
  }
  return slots;
}

function typeOf(schema: Schema): string | undefined {
  if (Array.isArray(schema.type)) return schema.type.find((t: string) => t !== 'null');
  if (schema.type) return schema.type;
  const options = schema.anyOf ?? schema.oneOf;
  return Array.isArray(options) ? typeOf(options.find((o: Schema) => o?.type !== 'null') ?? {}) : undefined;
}

// A tool that lists or searches wants a directory; one that reads wants a file.
const DIR_VERBS = /\b(list|ls|tree|search|find|glob|walk|dir|directory|folder)\b/;
const FILE_WORDS = /\b(read|open|cat|head|tail|media|content|file|files)\b/;

function wantsOf(call: Call): 'file' | 'dir' | undefined {
  const name = words(call.tool ?? call.prompt ?? '').join(' ');
  return DIR_VERBS.test(name) ? 'dir' : FILE_WORDS.test(name) ? 'file' : undefined;
}

/** What an error says the call wanted instead: EISDIR asks for a file, ENOTDIR for a directory. */
function wantsFromError(error: string): 'file' | 'dir' | undefined {
  if (/EISDIR|is a directory|operation on a directory/i.test(error)) return 'file';
  if (/ENOTDIR|not a directory/i.test(error)) return 'dir';
  return undefined;
}

// A call that succeeds but says inside that a path failed (read_multiple_files answers "x: Error - ENOENT").
const HIDDEN_ERROR = /\b(ENOENT|ENOTDIR|EISDIR|EACCES|EPERM)\b|no such file or directory|does not exist|access denied|permission denied/i;

/** The answer of a successful call reports a failed path in its text. */
export function hiddenError(result: any): string | null {
  const content = Array.isArray(result?.content) ? result.content : Array.isArray(result?.contents) ? result.contents : [];
  const text = content.filter((c: any) => typeof c?.text === 'string').map((c: any) => c.text).join('\n').slice(0, 500);
  return HIDDEN_ERROR.test(text) ? text.split('\n').find((l: string) => HIDDEN_ERROR.test(l))!.slice(0, 200) : null;
}

/** Why a call failed, its error or the failed path its answer reports; null when it succeeded. */
function failureOf(outcome: Outcome): string | null {
  if (classify(outcome) !== null) return describeError(outcome);
  return outcome.kind === 'answer' ? hiddenError(outcome.message.result) : null;
}

/** A call that failed with its generated arguments (or whose answer hid an error), to learn arguments for. */
export interface Stuck {
  call: Call;
  error: string;
}

export interface Budget {
  /** Learning calls at most, over every stuck call. */
  calls: number;
  ms: number;
  /** A call slower than this counts as failed. */
  slowMs: number;
  now?: () => number;
}

export const LEARNING: Omit<Budget, 'slowMs'> = { calls: 40, ms: 5000 };
/** Values tried per call and round: a round's successes (a listing) bring new values for the next. */
const PER_ROUND = 2;
const ROUNDS = 4;

interface State {
  stuck: Stuck;
  slots: Slot[];
  wants?: 'file' | 'dir';
  tried: Set<string>;
  solved?: Call;
}

/**
 * Try offered values in the stuck calls' path and URI arguments, round by round, harvesting the answers of
 * those that succeed (a directory listed gives the files in it). Returns the call that succeeded, by the
 * stuck call it replaces, and how many values were tried for each.
 */
export async function learn(conn: Connection, stuck: Stuck[], offers: Offers, budget: Budget): Promise<{ solved: Map<Stuck, Call>; tried: Map<Stuck, number> }> {
  const now = budget.now ?? (() => performance.now());
  const started = now();
  let calls = 0;
  const states: State[] = stuck.map((s) => ({ stuck: s, slots: slotsOf(s.call), wants: wantsFromError(s.error) ?? wantsOf(s.call), tried: new Set() }));
  for (let round = 0; round < ROUNDS; round++) {
    let made = 0;
    for (const s of states) {
      if (s.solved || !s.slots.length) continue;
      for (const offer of candidates(s, offers).slice(0, PER_ROUND)) {
        if (calls >= budget.calls || now() - started > budget.ms) return summary(states);
        s.tried.add(`${offer.kind} ${offer.value}`);
        calls++;
        made++;
        const call = fill(s.stuck.call, s.slots, offer);
        const outcome = await timed(conn, call, budget.slowMs);
        const failure = outcome === null ? 'slow' : failureOf(outcome);
        if (failure === null && outcome?.kind === 'answer') {
          s.solved = call;
          harvest(offers, outcome.message.result, callName(call), offer.kind === 'path' ? offer.value : undefined);
          break;
        }
        s.wants = wantsFromError(failure ?? '') ?? s.wants;
      }
    }
    if (made === 0) break;
  }
  return summary(states);
}

function summary(states: State[]): { solved: Map<Stuck, Call>; tried: Map<Stuck, number> } {
  return {
    solved: new Map(states.filter((s) => s.solved).map((s) => [s.stuck, s.solved!])),
    tried: new Map(states.map((s) => [s.stuck, s.tried.size])),
  };
}

/** Offers not yet tried that fit the first slot, those of the wanted type first, then in the order found. */
function candidates(s: State, offers: Offers): Offer[] {
  const slot = s.slots[0];
  const rank = (o: Offer) => (s.wants === undefined || o.type === s.wants ? 0 : o.type === undefined ? 1 : 2);
  return offers.list
    .filter((o) => !s.tried.has(`${o.kind} ${o.value}`) && asKind(o, slot.kind) !== undefined)
    .map((o, i) => ({ o, i, r: rank(o) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.o);
}

/** The offer as a value of the slot's kind: a path as a file URI, a file URI as a path; else none. */
function asKind(o: Offer, kind: 'path' | 'uri'): string | undefined {
  if (o.kind === kind) return o.value;
  if (kind === 'uri') return o.value.startsWith('/') ? pathToFileURL(o.value).href : undefined;
  return undefined; // a file URI is offered as a path too (addOffer)
}

function fill(call: Call, slots: Slot[], offer: Offer): Call {
  const args = { ...(call.arguments ?? {}) };
  const learnt: Record<string, string> = {};
  for (const slot of slots) {
    const value = asKind(offer, slot.kind);
    if (value === undefined) continue;
    args[slot.name] = slot.array ? [value] : value;
    learnt[slot.name] = `${slot.kind === 'uri' ? 'URI' : 'path'} from ${offer.from}`;
  }
  return withArguments(call, args, learnt);
}

/** One request, or null when it takes longer than slowMs (its answer is then not waited for). */
export async function timed(conn: Connection, call: Call, slowMs: number): Promise<Outcome | null> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    conn.request(call.method, call.paramsJson),
    new Promise<null>((r) => { timer = setTimeout(r, slowMs, null); }),
  ]);
  clearTimeout(timer);
  return outcome;
}
