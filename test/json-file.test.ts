/** readJsonFile / parseJsonText: JSON errors with the line and column they are at. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineOfKey, parseJsonText } from '../src/util/json-file.js';
import { UserError } from '../src/util/errors.js';

function placeOf(text: string): { line?: number; column?: number; message: string } {
  try {
    parseJsonText(text, 'f.json', 'table');
  } catch (e) {
    assert.ok(e instanceof UserError);
    return { line: e.line, column: e.column, message: e.message };
  }
  assert.fail('parsed');
}

test('valid JSON parses', () => {
  assert.deepEqual(parseJsonText('{"a": [1, 2]}', 'f.json', 'table'), { a: [1, 2] });
});

test('an error V8 gives a position for: the line and column of that character', () => {
  assert.deepEqual(placeOf('{\n  "a": 1,\n}'), { line: 3, column: 1, message: 'table is not valid JSON: Expected double-quoted property name' });
  assert.deepEqual(placeOf('{\n  "a": 1\n  "b": 2\n}'), { line: 3, column: 3, message: "table is not valid JSON: Expected ',' or '}' after property value" });
});

test('an unexpected token, which V8 quotes instead of placing: found in the text', () => {
  // a long text: V8 quotes ten characters either side of the token
  const long = '{\n' + Array.from({ length: 20 }, (_, i) => `  "k${i}": ${i === 12 ? 'tru' : i},`).join('\n') + '\n  "z": 0\n}';
  const p = placeOf(long);
  assert.equal(p.line, 14);
  assert.equal(p.column, long.split('\n')[13]!.indexOf(',') + 1, 'at the comma after "tru"');
  assert.equal(p.message, "table is not valid JSON: Unexpected token ','");
  // a short text: V8 quotes all of it
  assert.deepEqual(placeOf('\n  vm'), { line: 2, column: 3, message: "table is not valid JSON: Unexpected token 'v'" });
});

test('a text cut short: the place is its end', () => {
  assert.deepEqual(placeOf('{"a":\n [1,'), { line: 2, column: 5, message: 'table is not valid JSON: Unexpected end of JSON input' });
});

test('lineOfKey finds a key of the object, not the same word in a value', () => {
  const text = '{\n  "b": "a",\n  "a": 1\n}';
  assert.equal(lineOfKey(text, 'a'), 3);
  assert.equal(lineOfKey(text, 'b'), 2);
  assert.equal(lineOfKey(text, 'c'), undefined);
  assert.equal(lineOfKey('{"x.y": 1}', 'x.y'), 1);
});

test('a byte-order mark before the JSON is skipped', () => {
  assert.deepEqual(parseJsonText('\ufeff{"a": 1}', 'f.json', 'table'), { a: 1 });
});
