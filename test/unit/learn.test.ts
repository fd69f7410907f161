// Arguments from the server's own answers, alone: the paths and URIs found in answers as the reference
// server-filesystem gives them (recorded from version 2026.8.31), which arguments take a path or URI, and
// answers that succeed while hiding a failed path. Pure functions: no server needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harvest, hiddenError, newOffers, slotsOf, addOffer, type Offers } from '../../src/requests/learn.js';
import { promptCall, templateCall, toolCall } from '../../src/requests/build.js';

const D = '/srv/project';
const text = (t: string) => ({ content: [{ type: 'text', text: t }], structuredContent: { content: t } });
const values = (offers: Offers) => offers.list.map((o) => [o.value, o.type ?? '?', o.from]);

test('harvest: list_allowed_directories names the folders, one absolute path a line', () => {
  const offers = newOffers();
  harvest(offers, text(`Allowed directories:\n${D}\n/srv/other dir`), 'list_allowed_directories');
  assert.deepEqual(values(offers), [[D, '?', 'list_allowed_directories'], ['/srv/other dir', '?', 'list_allowed_directories']]);
});

test('harvest: a listing\'s [FILE] and [DIR] names are joined to the directory asked about', () => {
  const offers = newOffers();
  harvest(offers, text('[FILE] data.json\n[DIR] docs\n[FILE] file1.txt\n[DIR] with space'), 'list_directory', D);
  assert.deepEqual(values(offers), [
    [`${D}/data.json`, 'file', 'list_directory'], [`${D}/docs`, 'dir', 'list_directory'],
    [`${D}/file1.txt`, 'file', 'list_directory'], [`${D}/with space`, 'dir', 'list_directory'],
  ]);
  // The sized listing pads names to 30 characters before the size, and ends with a summary.
  const sized = newOffers();
  harvest(sized, text('[DIR] lib                            \n[FILE] mod1.ts                              21 B\n\nTotal: 15 files, 1 directories\nCombined size: 327 B'),
    'list_directory_with_sizes', `${D}/src/`);
  assert.deepEqual(values(sized), [[`${D}/src/lib`, 'dir', 'list_directory_with_sizes'], [`${D}/src/mod1.ts`, 'file', 'list_directory_with_sizes']]);
  // Without the directory asked about, bare names mean nothing.
  const bare = newOffers();
  harvest(bare, text('[FILE] data.json'), 'list_directory');
  assert.deepEqual(values(bare), []);
});

test('harvest: directory_tree\'s JSON of names, search_files\' absolute paths, a media file\'s file:// URI', () => {
  const tree = newOffers();
  const json = JSON.stringify([{ name: 'lib', type: 'directory', children: [{ name: 'util1.ts', type: 'file' }] }, { name: 'mod1.ts', type: 'file' }], null, 2);
  harvest(tree, text(json), 'directory_tree', `${D}/src`);
  assert.deepEqual(values(tree), [[`${D}/src/lib`, 'dir', 'directory_tree'], [`${D}/src/lib/util1.ts`, 'file', 'directory_tree'], [`${D}/src/mod1.ts`, 'file', 'directory_tree']]);
  const found = newOffers();
  harvest(found, text(`${D}/src/lib/util1.ts\n${D}/src/mod9.ts`), 'search_files', D);
  assert.deepEqual(found.list.map((o) => o.value), [`${D}/src/lib/util1.ts`, `${D}/src/mod9.ts`]);
  harvest(found, text('No matches found'), 'search_files', D);
  assert.equal(found.list.length, 2);
  const media = newOffers();
  harvest(media, { content: [{ type: 'resource', resource: { uri: `file://${D}/images/blob.bin`, mimeType: 'application/octet-stream', blob: '/9j/4AAQSkZJRg==' } }] }, 'read_media_file');
  assert.deepEqual(values(media), [[`file://${D}/images/blob.bin`, '?', 'read_media_file'], [`${D}/images/blob.bin`, '?', 'read_media_file']]);
  // An image's base64 data may start with "/": never a path.
  const image = newOffers();
  harvest(image, { content: [{ type: 'image', data: '/9j/4AAQSkZJRgABAQ', mimeType: 'image/jpeg' }] }, 'read_media_file');
  assert.deepEqual(values(image), []);
});

test('harvest: paths and URIs in prose; web addresses only on this machine', () => {
  const offers = newOffers();
  harvest(offers, text('Saved to /var/data/out.json, see https://example.com/docs and http://localhost:8080/status or memory://knowledge-graph.'), 'tool');
  assert.deepEqual(offers.list.map((o) => [o.value, o.kind]),
    [['/var/data/out.json', 'path'], ['http://localhost:8080/status', 'uri'], ['memory://knowledge-graph', 'uri']]);
  // Each value once, and resources/list's URIs as given.
  addOffer(offers, { value: 'memory://knowledge-graph', kind: 'uri', from: 'resources/list' });
  assert.equal(offers.list.filter((o) => o.value === 'memory://knowledge-graph').length, 1);
});

test('slots: arguments that take a path or a URI, by name, format or description', () => {
  const schema = (properties: Record<string, unknown>) => ({ type: 'object', properties, required: Object.keys(properties) });
  const slots = (properties: Record<string, any>) => slotsOf(toolCall('t', Object.fromEntries(Object.keys(properties).map((k) => [k, 'x'])), schema(properties)))
    .map((s) => [s.name, s.kind, s.array]);
  assert.deepEqual(slots({ path: { type: 'string' }, pattern: { type: 'string' } }), [['path', 'path', false]]);
  assert.deepEqual(slots({ paths: { type: 'array', items: { type: 'string' }, minItems: 1 } }), [['paths', 'path', true]]);
  assert.deepEqual(slots({ filePath: { type: 'string' }, rootDir: { type: 'string' }, target: { type: 'string', description: 'Absolute file path to read' } }),
    [['filePath', 'path', false], ['rootDir', 'path', false], ['target', 'path', false]]);
  assert.deepEqual(slots({ resourceUri: { type: 'string' }, link: { type: 'string', format: 'uri' } }), [['resourceUri', 'uri', false], ['link', 'uri', false]]);
  assert.deepEqual(slots({ query: { type: 'string' }, mode: { type: 'string', enum: ['a'] }, count: { type: 'integer' } }), []);
  // Only arguments the call sends: an optional path left out stays out.
  assert.deepEqual(slotsOf(toolCall('t', {}, schema({ path: { type: 'string' } }))), []);
  // Templates' variables and prompts' arguments are strings too.
  const template = templateCall('file:///{+path}', { path: 'x' }, schema({ path: { type: 'string' } }));
  assert.equal(template.uri, 'file:///x');
  assert.deepEqual(slotsOf(template).map((s) => s.name), ['path']);
  assert.deepEqual(slotsOf(promptCall('review', { file: 'x' }, schema({ file: { type: 'string' } }))).map((s) => s.kind), ['path']);
});

test('hiddenError: a successful answer that says a path failed (read_multiple_files)', () => {
  assert.equal(hiddenError(text(`x: Error - ENOENT: no such file or directory, open '${D}/x'`)), `x: Error - ENOENT: no such file or directory, open '${D}/x'`);
  assert.equal(hiddenError(text(`${D}/file1.txt:\nline one of 1\n`)), null);
  assert.equal(hiddenError(text('No matches found')), null);
  assert.equal(hiddenError({ contents: [{ uri: 'memory://knowledge-graph', text: '{"entities":[]}' }] }), null);
});
