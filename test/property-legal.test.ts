/**
 * The property behind the whole product, checked with fast-check over random
 * LEGAL programs (several devices, masks changing between mappings): designs
 * that decide the path safely (`direct`, `iommu`, `commit-on-map`) never give
 * a layer-blamed crash; the designs the thread argued about (`intel-2019`,
 * `bypass-flag`, `default-domain`) do, and fast-check shrinks the program
 * that shows it (printed in the v1 text format).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { programArb } from '../src/program/arbitrary.js';
import { printProgram } from '../src/program/print.js';
import { parseProgram } from '../src/program/parse.js';
import { validateProgram } from '../src/program/validate.js';
import { Machine } from '../src/machine/machine.js';
import { DEFAULT_CONFIG, type MachineConfig } from '../src/machine/config.js';
import { builtinPolicy } from '../src/policy/registry.js';
import { runProgram } from '../src/exec/executor.js';
import type { Program } from '../src/program/ast.js';
import type { Verdict } from '../src/oracle/verdict.js';

const LEGAL = programArb({ mode: 'legal', devices: 2, maxIntents: 60 });

function verdictOf(program: Program, machine: Machine, policy: string): Verdict {
  return runProgram(program, machine, builtinPolicy(policy)!).verdict;
}

/** The property: a legal program never crashes; every crash blames the layer by construction. */
function neverCrashes(machine: Machine, policy: string) {
  return fc.property(LEGAL, ({ program }) => {
    const v = verdictOf(program, machine, policy);
    if (v.verdict === 'crash') {
      throw new Error(`${v.kind} (blame ${v.blame}) at statement ${v.statementIndex! + 1}\n${v.message}\n${printProgram(program)}`);
    }
  });
}

const MACHINES: Array<[string, MachineConfig, number]> = [
  ['default machine', DEFAULT_CONFIG, 1000],
  ['lazy invalidation, short flush queue', { ...DEFAULT_CONFIG, inval: 'lazy', fq: 4 }, 300],
  ['all RAM below 4G, small swiotlb', { ...DEFAULT_CONFIG, ram: [{ start: 0, end: 3 * 2 ** 30 }], swiotlbBytes: 256 * 1024 }, 300],
];

for (const policy of ['direct', 'iommu', 'commit-on-map']) {
  for (const [name, cfg, runs] of MACHINES) {
    test(`${policy}: no crash on ${runs} random legal programs (${name})`, () => {
      fc.assert(neverCrashes(new Machine(cfg), policy), { numRuns: runs, seed: 20191120 });
    });
  }
}

for (const policy of ['intel-2019', 'bypass-flag', 'default-domain']) {
  test(`${policy}: fast-check finds a legal program that crashes the layer, and shrinks it`, () => {
    const machine = new Machine(DEFAULT_CONFIG);
    const out = fc.check(neverCrashes(machine, policy), { numRuns: 2000, seed: 20191120 });
    assert.equal(out.failed, true, `${policy} should fail on some legal program`);
    const { program } = out.counterexample![0];
    const text = printProgram(program);
    // the shrunk program is a real, readable v1 program that replays to a layer-blamed crash
    const replayed = parseProgram(text, 'shrunk.dmafuzz');
    validateProgram(replayed, 'shrunk.dmafuzz');
    const v = verdictOf(replayed, machine, policy);
    assert.equal(v.verdict, 'crash');
    assert.equal(v.blame, 'layer', v.message);
    assert.ok(program.statements.length <= 25, `shrunk to ${program.statements.length} statements`);
    console.log(`${policy}: shrunk counterexample (${v.kind}, ${program.statements.length} statements) after ${out.numRuns} runs:\n${text}`);
  });
}
