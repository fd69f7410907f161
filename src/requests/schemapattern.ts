// Strings that match a JSON Schema `pattern`, a different one for every counter value: the cache test
// must send values a validating server accepts. Covers the regular expressions schemas use in practice
// (literals, classes, \d \w \s, ., groups, alternation, quantifiers); anything else (lookaround,
// backreferences, \b) gives null and the caller says the property cannot be generated.
//
// How a counter becomes a string: the pattern is flattened to a list of slots (one per character atom, with
// its alphabet and repetition range). Slots with a choice of characters carry digits of the counter in their
// alphabet's radix at their minimum length, and one slot that may grow carries the rest, getting longer as
// the counter grows. Only one slot changes length, so the same string cannot come from two counters.

interface Slot {
  chars: string;
  min: number;
  max: number;
}

type Node = { chars: string } | { alternatives: Item[][] };

interface Item {
  node: Node;
  min: number;
  max: number;
}

/** Alphabets for escapes and negated classes; printable ASCII, letters and digits first. */
const DIGITS = '0123456789';
const WORD = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ' + DIGITS + '_';
const PRINTABLE = WORD + '-.~!#$%&*+=?@^|:;,/ ';

class Unsupported extends Error {}

function parse(src: string): Item[][] {
  let at = 0;
  const peek = () => src[at];

  const escape = (inClass: boolean): string => {
    const c = src[at++];
    if (c === undefined) throw new Unsupported();
    switch (c) {
      case 'd': return DIGITS;
      case 'w': return WORD;
      case 's': return ' ';
      case 'D': return WORD.replace(/\d/g, '');
      case 'W': return '-.~ ';
      case 'S': return WORD;
      case 'n': return '\n';
      case 't': return '\t';
      case 'r': return '\r';
      case 'x': case 'u': {
        const hex = c === 'x' ? src.slice(at, at + 2) : src.slice(at, at + 4);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== (c === 'x' ? 2 : 4)) throw new Unsupported();
        at += hex.length;
        return String.fromCharCode(parseInt(hex, 16));
      }
      case 'b': if (inClass) return '\b'; throw new Unsupported();
      default:
        // \B, \1, \k<name>, \p{…}: assertions, backreferences, Unicode properties, beyond this generator.
        if (/[B1-9kpP]/.test(c)) throw new Unsupported();
        return c;
    }
  };

  const charClass = (): string => {
    const negated = peek() === '^';
    if (negated) at++;
    let set = '';
    while (at < src.length && peek() !== ']') {
      let from = src[at++];
      if (from === '\\') from = escape(true);
      if (peek() === '-' && src[at + 1] !== ']' && from.length === 1) {
        at++;
        let to = src[at++];
        if (to === '\\') to = escape(true);
        if (to.length !== 1 || to < from) throw new Unsupported();
        for (let code = from.charCodeAt(0); code <= to.charCodeAt(0) && code - from.charCodeAt(0) < 512; code++) {
          set += String.fromCharCode(code);
        }
      } else {
        set += from;
      }
    }
    if (peek() !== ']') throw new Unsupported();
    at++;
    const unique = [...new Set(set)].join('');
    return negated ? [...PRINTABLE].filter((c) => !unique.includes(c)).join('') : unique;
  };

  const quantifier = (): [number, number] => {
    const c = peek();
    let range: [number, number] = [1, 1];
    if (c === '*') range = [0, Infinity];
    else if (c === '+') range = [1, Infinity];
    else if (c === '?') range = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(at));
      if (!m) return range;
      at += m[0].length - 1;
      range = [Number(m[1]), m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3])];
    } else {
      return range;
    }
    at++;
    if (peek() === '?' || peek() === '+') at++; // lazy or possessive: the same strings match
    return range;
  };

  const sequence = (): Item[][] => {
    const alternatives: Item[][] = [[]];
    while (at < src.length && peek() !== ')') {
      const c = src[at++];
      let node: Node;
      if (c === '|') {
        alternatives.push([]);
        continue;
      } else if (c === '^' || c === '$') {
        continue; // anchors: the generated string is the whole value anyway
      } else if (c === '(') {
        if (peek() === '?') {
          if (src[at + 1] === ':') at += 2;
          else if (src[at + 1] === '<' && src[at + 2] !== '=' && src[at + 2] !== '!') at = src.indexOf('>', at) + 1;
          else throw new Unsupported();
        }
        node = { alternatives: sequence() };
        if (src[at++] !== ')') throw new Unsupported();
      } else if (c === '[') {
        node = { chars: charClass() };
      } else if (c === '\\') {
        node = { chars: escape(false) };
      } else if (c === '.') {
        node = { chars: WORD };
      } else {
        node = { chars: c };
      }
      const [min, max] = quantifier();
      alternatives.at(-1)!.push({ node, min, max });
    }
    return alternatives;
  };

  const top = sequence();
  if (at < src.length) throw new Unsupported();
  return top;
}

const pow = (b: number, e: number) => (e === Infinity ? (b > 1 ? Infinity : 1) : Math.min(Infinity, b ** e));

/** How many different strings an alternative can yield (fixed slots at their minimum, plus the best growing one). */
function capacity(items: Item[]): number {
  return slotsCapacity(flatten(items));
}

function slotsCapacity(slots: Slot[]): number {
  const grower = pickGrower(slots);
  return slots.reduce((total, s) => total * pow(s.chars.length, s === grower ? s.max : s.min), 1);
}

/** Groups expanded (their richest alternative, repeated their minimum number of times) into character slots. */
function flatten(items: Item[]): Slot[] {
  const slots: Slot[] = [];
  for (const item of items) {
    if ('chars' in item.node) {
      if (item.node.chars.length === 0) throw new Unsupported();
      slots.push({ chars: item.node.chars, min: item.min, max: item.max });
      continue;
    }
    const best = richest(item.node.alternatives);
    const times = Math.max(item.min, 0);
    for (let i = 0; i < times; i++) slots.push(...flatten(best));
  }
  return slots;
}

function richest(alternatives: Item[][]): Item[] {
  let best = alternatives[0];
  let most = -1;
  for (const alt of alternatives) {
    const c = capacity(alt);
    if (c > most) {
      most = c;
      best = alt;
    }
  }
  return best;
}

function pickGrower(slots: Slot[]): Slot | undefined {
  let best: Slot | undefined;
  for (const s of slots) {
    if (s.max <= s.min || s.chars.length < 2) continue;
    if (!best || s.max > best.max || (s.max === best.max && s.chars.length > best.chars.length)) best = s;
  }
  return best;
}

/** n in base chars.length, at least `width` digits, never more than `max` (it wraps beyond capacity). */
function digits(n: number, chars: string, width: number, max: number): string {
  const b = chars.length;
  let out = '';
  for (let v = n; v > 0 && out.length < max; v = Math.floor(v / b)) out = chars[v % b] + out;
  return out.padStart(Math.min(width, max), chars[0]);
}

interface Compiled {
  slots: Slot[];
  grower?: Slot;
  capacity: number;
  /** No $ at the end: the pattern needs only to occur in the value, so anything may follow it. */
  openEnd: boolean;
}

const compiled = new Map<string, Compiled | null>();

function compile(pattern: string): Compiled | null {
  if (compiled.has(pattern)) return compiled.get(pattern)!;
  let result: Compiled | null = null;
  try {
    const slots = flatten(richest(parse(pattern)));
    result = { slots, grower: pickGrower(slots), capacity: slotsCapacity(slots), openEnd: !/(^|[^\\])\$$/.test(pattern) };
  } catch (err) {
    if (!(err instanceof Unsupported)) throw err;
  }
  compiled.set(pattern, result);
  return result;
}

/** A string matching the pattern, different for every counter below the pattern's capacity; null if unsupported. */
export function matching(pattern: string, counter: number): string | null {
  const c = compile(pattern);
  if (!c) return null;
  let rest = counter;
  const parts: string[] = [];
  // Fixed slots take the low digits, the growing slot the rest.
  for (let i = c.slots.length - 1; i >= 0; i--) {
    const s = c.slots[i];
    if (s === c.grower) continue;
    const size = pow(s.chars.length, s.min);
    parts[i] = digits(rest % size, s.chars, s.min, s.min);
    rest = Math.floor(rest / size);
  }
  if (c.grower) {
    const i = c.slots.indexOf(c.grower);
    parts[i] = digits(rest, c.grower.chars, c.grower.min, c.grower.max);
  }
  // The counter after the last '~' tells values apart however small the pattern's own capacity.
  return c.openEnd ? `${parts.join('')}~${counter}` : parts.join('');
}

const regexps = new Map<string, RegExp | null>();

/** Whether text matches a JSON Schema pattern (unanchored, as the spec says); true when the pattern is not a valid regex here. */
export function matches(pattern: string, text: string): boolean {
  let re = regexps.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern, 'u');
    } catch {
      try {
        re = new RegExp(pattern);
      } catch {
        re = null;
      }
    }
    regexps.set(pattern, re);
  }
  return re === null || re.test(text);
}
