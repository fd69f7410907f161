// The README says what is true: its library example runs as written (through the package's own name, as a
// user's test imports it), and its options are those of --help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HELP } from '../../src/options.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const README = readFileSync(`${ROOT}README.md`, 'utf8');

/** The first fenced block of a language after a heading. */
function blockAfter(heading: string, language: string): string {
  const at = README.indexOf(heading);
  assert.ok(at >= 0, `README has no "${heading}"`);
  const m = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(README.slice(at));
  assert.ok(m, `no ${language} block after "${heading}"`);
  return m[1];
}

test('readme: the library example runs as written and passes', async () => {
  // Inside the package, so that `import ... from 'mcp-hammer'` resolves to this checkout, as it would in a
  // project that installed it.
  const file = fileURLToPath(new URL('./readme-example.test.mjs', import.meta.url));
  writeFileSync(file, blockAfter('## Use it from your tests', 'js'));
  try {
    // As a user runs it, not as a test inside this test run (node:test marks its children in the environment).
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(process.execPath, ['--test', file], { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT, env });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { output += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { output += d; });
    const limit = setTimeout(() => child.kill('SIGKILL'), 180_000);
    const code = await new Promise((resolve) => child.on('close', resolve));
    clearTimeout(limit);
    assert.equal(code, 0, output);
    assert.match(output, /# pass 1/);
  } finally {
    rmSync(file, { force: true });
  }
});

test('readme: the options are those of --help', () => {
  const help = HELP.slice(HELP.indexOf('Options:\n') + 'Options:\n'.length, HELP.indexOf('\n\n', HELP.indexOf('Options:\n')));
  const readme = blockAfter('## Options', '');
  assert.equal(readme.split('\n').slice(1).join('\n').trimEnd(), help.trimEnd());
});
