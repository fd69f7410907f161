// Text that must never be shown or written: the random part of the inspector's WebSocket address (--heap).
// Whoever knows it can run code inside the server, with the server's environment (its API keys), so it is
// kept out of every output: the report, the results file, --json and a bug's stack. The server's stderr
// lines that hold it are dropped where they are read (heap/inspectors.ts); this is the last net, for a server or
// an error message quoting it anywhere else.
const secrets = new Set<string>();

const HIDDEN = '<hidden>';

/** From now on, replace this text wherever it would be shown or written. */
export function keepSecret(secret: string): void {
  // Too short a secret would blank out ordinary text.
  if (secret.length >= 16) secrets.add(secret);
}

/** The text with every secret kept so far replaced. */
export function redact(text: string): string {
  for (const s of secrets) if (text.includes(s)) text = text.split(s).join(HIDDEN);
  return text;
}
