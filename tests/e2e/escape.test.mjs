// The widget's display escaping (www/escape.js) against the vectors the Rust core also runs
// (tests/vectors/escape.json): one named test per case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { escapeControls } from '../../www/escape.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { cases } = JSON.parse(fs.readFileSync(path.join(repo, 'tests/vectors/escape.json'), 'utf8'));

test('the shared vectors exist', () => {
  assert.ok(cases.length >= 10, `${cases.length} cases`);
});

for (const [input, want] of cases) {
  test(`escapeControls(${JSON.stringify(input)}) is ${JSON.stringify(want)}`, () => {
    assert.equal(escapeControls(input), want);
  });
}

test('every code point in the escaped ranges, and none outside them', () => {
  const unsafe = (c) => c <= 0x1f || (c >= 0x7f && c <= 0x9f) || c === 0x61c || c === 0x200e || c === 0x200f
    || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
  for (let c = 0; c <= 0x2100; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const ch = String.fromCodePoint(c);
    assert.equal(escapeControls(ch), unsafe(c) ? `\\u{${c.toString(16)}}` : ch, `U+${c.toString(16)}`);
  }
  assert.equal(escapeControls('\u{1f600} ok'), '\u{1f600} ok', 'astral characters unchanged');
});
