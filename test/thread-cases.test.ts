/**
 * The two cases from the 2019 thread (SPEC section 9): each must give the
 * verdict of its table under every built-in policy, both in-process and
 * through the real CLI with --json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runText } from './helpers.js';
import { dmafuzz, jsonLines, ROOT } from './cli.js';

const MASK_GAMES = path.join(ROOT, 'test/fixtures/mask-games.dmafuzz');
const SATA_NV = path.join(ROOT, 'test/fixtures/sata-nv.dmafuzz');

type Expect = { verdict: 'ok' } | { verdict: 'crash'; kind: string; blame: string; line: number };
const ok: Expect = { verdict: 'ok' };

const EXPECTED: Record<string, Record<string, Expect>> = {
  [MASK_GAMES]: {
    direct: ok,
    iommu: ok,
    'commit-on-map': ok,
    'intel-2019': { verdict: 'crash', kind: 'iommu-fault', blame: 'layer', line: 8 },
    'bypass-flag': { verdict: 'crash', kind: 'layer-error', blame: 'layer', line: 12 },
    'default-domain': { verdict: 'crash', kind: 'iommu-fault', blame: 'layer', line: 8 },
  },
  [SATA_NV]: {
    direct: ok,
    iommu: ok,
    'intel-2019': ok,
    'commit-on-map': ok,
    'bypass-flag': { verdict: 'crash', kind: 'layer-error', blame: 'layer', line: 33 },
    'default-domain': { verdict: 'crash', kind: 'iommu-fault', blame: 'layer', line: 27 },
  },
};

for (const [file, byPolicy] of Object.entries(EXPECTED)) {
  const name = path.basename(file);
  for (const [policy, want] of Object.entries(byPolicy)) {
    test(`${name} under ${policy}: ${want.verdict === 'ok' ? 'ok' : `${want.kind} at line ${want.line}`}`, () => {
      const v = runText(fs.readFileSync(file, 'utf8'), policy).verdict;
      assert.equal(v.verdict, want.verdict, v.message);
      if (want.verdict === 'crash') {
        assert.equal(v.kind, want.kind);
        assert.equal(v.blame, want.blame);
        assert.equal(v.line, want.line);
      }
    });
  }

  test(`CLI: replay ${name} --policy all --json gives the table's verdicts`, () => {
    const r = dmafuzz(['replay', path.relative(ROOT, file), '--policy', 'all', '--json']);
    const rows = jsonLines(r.stdout);
    assert.equal(rows.length, 6, r.stderr);
    const anyCrash = Object.values(byPolicy).some((e) => e.verdict === 'crash');
    assert.equal(r.code, anyCrash ? 1 : 0);
    for (const row of rows) {
      const want = byPolicy[row.policy as string]!;
      assert.equal(row.verdict, want.verdict, `${row.policy}: ${row.message}`);
      assert.equal(row.file, path.relative(ROOT, file));
      assert.deepEqual(Object.keys(row.security as object).sort(), ['contained', 'escaped', 'rogue']);
      if (want.verdict === 'crash') {
        assert.equal(row.kind, want.kind, String(row.policy));
        assert.equal(row.blame, want.blame, String(row.policy));
        assert.equal(row.statement, want.line, String(row.policy));
        assert.match(String(row.signature), new RegExp(`^${row.policy}/${want.kind}/`));
        assert.ok(String(row.message).length > 20);
      } else {
        assert.equal(row.kind, null);
        assert.equal(row.statement, null);
      }
    }
  });
}

test('the sata_nv program under direct bounces m1 through swiotlb and the data still arrives', () => {
  const r = runText(fs.readFileSync(SATA_NV, 'utf8'), 'direct');
  assert.equal(r.verdict.verdict, 'ok');
  const m1 = r.trace.find((t) => t.line === 25)!;
  assert.equal(m1.path, 'bounce');
  const read = r.trace.find((t) => t.line === 30)!;
  assert.match(read.note, /as expected/);
});

test('kernel-style messages: DMAR fault line under intel-2019, domain move explained', () => {
  const v = runText(fs.readFileSync(MASK_GAMES, 'utf8'), 'intel-2019').verdict;
  assert.match(v.message!, /^DMAR: \[DMA Write\] Request device \[00:01\.0\] fault addr 100000000 \[fault reason 05\] PTE Write access is not set/);
  assert.match(v.message!, /layer bug/);
  assert.equal(v.signature, 'intel-2019/iommu-fault/dev_write/direct>iommu*');
});

test('human replay output shows each statement with its path and the verdict', () => {
  const r = dmafuzz(['replay', 'test/fixtures/mask-games.dmafuzz', '--policy', 'bypass-flag']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /5 {2}hi = alloc_coherent d0 64K +-> \[direct\] 0x800000100000000/);
  assert.match(r.stdout, /verdict: crash layer-error \(blame: layer\) at line 12/);
  assert.match(r.stdout, /routed through the IOMMU by the masks now in force/);
});
