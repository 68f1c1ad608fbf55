/** Every shipped corpus entry still gives the verdicts its header records (the regression corpus). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './cli.js';
import { loadProgramFile } from '../src/exec/load.js';
import { parseHeader, matches, formatExpectation, expectationOf } from '../src/corpus/header.js';
import { Machine } from '../src/machine/machine.js';
import { builtinPolicy } from '../src/policy/registry.js';
import { runProgram } from '../src/exec/executor.js';

const CORPUS = path.join(ROOT, 'corpus');
const entries = fs.readdirSync(CORPUS).filter((f) => f.endsWith('.dmafuzz'));

test('the corpus ships the two thread cases', () => {
  assert.ok(entries.includes('thread-mask-games.dmafuzz'));
  assert.ok(entries.includes('thread-sata-nv.dmafuzz'));
});

for (const name of entries) {
  test(`corpus/${name} gives its recorded verdicts`, () => {
    const lp = loadProgramFile(path.join(CORPUS, name));
    const header = parseHeader(lp.program.header);
    assert.ok(header.expectations.length > 0, 'an entry records at least one expectation');
    const machine = new Machine(lp.config);
    for (const e of header.expectations) {
      const policy = builtinPolicy(e.policy);
      assert.ok(policy, `unknown policy ${e.policy}`);
      const v = runProgram(lp.program, machine, policy).verdict;
      assert.ok(matches(e, v), `${formatExpectation(e)} but got ${formatExpectation(expectationOf(e.policy, v))}\n${v.message ?? ''}`);
    }
  });
}
