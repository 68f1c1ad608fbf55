/**
 * A minimization whose task the pool loses (its worker was stopped because
 * a batch beside it hung, or it died) runs again: the run's corpus ends as
 * it would have without the loss. The coordinator runs in process here, with
 * the compiled worker (`npm test` builds first); the losses are made by a
 * pool whose `run` rejects every minimize task the first time it is given
 * it, as piscina does for the tasks of a terminated thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Piscina } from 'piscina';
import { Coordinator, DEFAULTS, type FuzzConfig } from '../src/engine/coordinator.js';
import { BUILTIN_POLICIES } from '../src/policy/registry.js';

async function fuzzInto(dir: string): Promise<Map<string, string>> {
  const cfg: FuzzConfig = {
    ...DEFAULTS, runs: 128, workers: 1, seed: 3, policies: BUILTIN_POLICIES.map((p) => p.name), mode: 'all', machine: [],
    corpusDir: dir, known: new Set(), knownEntries: new Map(), seedCorpus: [], fileCorpus: [], minimize: true,
  };
  await new Coordinator(cfg).run();
  const out = new Map<string, string>();
  // each file without its first-seen line (a timestamp)
  for (const f of fs.readdirSync(dir).sort()) out.set(f, fs.readFileSync(path.join(dir, f), 'utf8').replace(/^# first-seen: .*\n/m, ''));
  return out;
}

test('a minimization the pool lost is run again, and the corpus is as without the losses', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dmafuzz-minretry-'));
  const run = Piscina.prototype.run;
  try {
    const undisturbed = await fuzzInto(path.join(root, 'a'));
    // every minimization is lost once: each file must still end minimized as in the undisturbed run
    const lost = new Set<string>();
    Piscina.prototype.run = function (this: Piscina, task: unknown, options?: object) {
      const t = task as { kind?: string; policy: string; text: string };
      const key = `${t.policy}\n${t.text}`;
      if (t.kind === 'minimize' && !lost.has(key)) {
        lost.add(key);
        return Promise.reject(new Error('Terminating worker thread'));
      }
      return run.call(this, task, options);
    } as typeof run;
    const disturbed = await fuzzInto(path.join(root, 'b'));
    assert.ok(lost.size > 5, `${lost.size} minimizations lost`);
    assert.ok(undisturbed.size > 5, `${undisturbed.size} files`);
    assert.deepEqual(disturbed, undisturbed);
  } finally {
    Piscina.prototype.run = run;
    fs.rmSync(root, { recursive: true, force: true });
  }
});
