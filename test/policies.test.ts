/**
 * The built-in bypass policies (SPEC section 5, linux-dma-reference.md 3.3
 * and 4.1) called directly on tables of masks, a few of their effects through
 * the mapping layer, and the policy registry (built-in names, user modules,
 * the interface check).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { BypassPolicy, CallKind, DomainKind, PolicyDevice, PolicyFacts } from '../src/policy/policy.js';
import { maskFor, NO_CHANGE, smallerMask } from '../src/policy/policy.js';
import {
  BUILTIN_POLICIES,
  BUILTIN_POLICY_NAMES,
  builtinPolicy,
  checkPolicyShape,
  isPolicyPath,
  resolvePolicy,
} from '../src/policy/registry.js';
import { directPolicy } from '../src/policy/direct.js';
import { iommuPolicy } from '../src/policy/iommu.js';
import { intel2019Policy } from '../src/policy/intel-2019.js';
import { bypassFlagPolicy } from '../src/policy/bypass-flag.js';
import { defaultDomainPolicy } from '../src/policy/default-domain.js';
import { commitOnMapPolicy } from '../src/policy/commit-on-map.js';
import { applyMachineWords, DEFAULT_CONFIG } from '../src/machine/config.js';
import { Machine } from '../src/machine/machine.js';
import { ExtentKind } from '../src/machine/page-allocator.js';
import { DmaLayer, EIO } from '../src/dma/mapping.js';
import { UserError } from '../src/util/errors.js';
import { ModelPanic } from '../src/util/assert.js';

/** The default machine: RAM top 6G -> 33 bits; through the 2^59 window -> 60 bits. */
const FACTS: PolicyFacts = { requiredMaskBits: 33, windowRequiredMaskBits: 60 };
const CALLS: CallKind[] = ['map', 'unmap', 'sync', 'alloc', 'free'];

function dev(maskBits: number, coherentBits: number, domain: DomainKind, extra: { window?: boolean; state?: number } = {}): PolicyDevice {
  return { maskBits, coherentBits, domain, window: extra.window ?? false, state: extra.state ?? 0 };
}

describe('policy helpers', () => {
  // intel-iommu 5.4 takes the smaller mask, ignoring an unset (0) coherent mask.
  it('smallerMask and maskFor', () => {
    assert.equal(smallerMask(dev(64, 32, 'identity')), 32);
    assert.equal(smallerMask(dev(32, 64, 'identity')), 32);
    assert.equal(smallerMask(dev(40, 0, 'identity')), 40);
    // dma_map_direct judges streaming calls by dma_mask, dma_alloc_direct alloc/free by the coherent mask
    const d = dev(64, 32, 'translated');
    assert.deepEqual(CALLS.map((c) => maskFor(c, d)), [64, 64, 64, 32, 32]);
  });
});

describe('policy intel-2019 (iommu_need_mapping, v5.4)', () => {
  const p = intel2019Policy;

  // Devices start in the static identity domain; setting a mask decides nothing.
  it('probe attaches identity; maskChanged never changes anything', () => {
    assert.deepEqual(p.probe(dev(32, 32, 'none'), FACTS), { attach: 'identity' });
    for (const d of [dev(32, 32, 'identity'), dev(64, 64, 'translated'), dev(24, 64, 'identity')]) {
      assert.deepEqual(p.maskChanged(d, FACTS), {});
    }
  });

  // min(streaming, coherent) < required -> a fresh private DMA domain, and the call goes through the IOMMU.
  it('route from identity, on a table of masks', () => {
    const table: Array<[number, number, object]> = [
      [64, 64, { path: 'direct' }],
      [33, 33, { path: 'direct' }], // exactly the required mask
      [64, 33, { path: 'direct' }],
      [40, 0, { path: 'direct' }], // unset coherent mask ignored
      [64, 32, { path: 'iommu', attach: 'fresh-translated' }], // Robin's case: small coherent mask
      [32, 64, { path: 'iommu', attach: 'fresh-translated' }],
      [32, 32, { path: 'iommu', attach: 'fresh-translated' }],
      [24, 24, { path: 'iommu', attach: 'fresh-translated' }],
      [32, 0, { path: 'iommu', attach: 'fresh-translated' }],
    ];
    for (const call of CALLS) {
      for (const [mask, coh, want] of table) {
        assert.deepEqual(p.route(call, dev(mask, coh, 'identity'), FACTS), want, `${call} ${mask}/${coh}`);
      }
    }
  });

  // One way: "once a 32-bit mask is set we can't ever go back".
  it('a translated device always goes through the IOMMU, whatever its masks', () => {
    for (const call of CALLS) {
      for (const [mask, coh] of [[64, 64], [32, 32], [64, 32]] as const) {
        assert.deepEqual(p.route(call, dev(mask, coh, 'translated'), FACTS), { path: 'iommu' }, `${call} ${mask}/${coh}`);
      }
    }
  });

  // The decision follows the machine's required mask.
  it('uses the facts: 32-bit masks bypass on a machine with RAM below 4G', () => {
    const small: PolicyFacts = { requiredMaskBits: 32, windowRequiredMaskBits: 60 };
    assert.deepEqual(p.route('map', dev(32, 32, 'identity'), small), { path: 'direct' });
    assert.deepEqual(p.route('map', dev(31, 32, 'identity'), small), { path: 'iommu', attach: 'fresh-translated' });
  });
});

describe('policy bypass-flag (dma_go_direct, 5.9)', () => {
  const p = bypassFlagPolicy;

  // The device sits in one translated domain with the bypass window for life; set_mask only recomputes the flag.
  it('probe attaches a windowed translated domain; masks change no domain', () => {
    assert.deepEqual(p.probe(dev(32, 32, 'none'), FACTS), { attach: 'fresh-translated-window' });
    assert.deepEqual(p.maskChanged(dev(64, 64, 'translated', { window: true }), FACTS), {});
    assert.deepEqual(p.maskChanged(dev(32, 32, 'translated', { window: true }), FACTS), {});
  });

  // Streaming calls judged by the streaming mask, alloc/free by the coherent mask, against the window's 60 bits.
  it('route on a table of masks', () => {
    const table: Array<[CallKind, number, number, string]> = [
      ['map', 64, 32, 'direct'],
      ['unmap', 64, 32, 'direct'],
      ['sync', 64, 32, 'direct'],
      ['alloc', 64, 32, 'iommu'],
      ['free', 64, 32, 'iommu'],
      ['alloc', 32, 64, 'direct'],
      ['free', 32, 64, 'direct'],
      ['map', 32, 64, 'iommu'],
      ['map', 40, 64, 'iommu'], // 40 bits cover all RAM but not the window
      ['map', 59, 64, 'iommu'],
      ['map', 60, 64, 'direct'], // exactly the window's required mask
      ['alloc', 64, 60, 'direct'],
      ['alloc', 64, 59, 'iommu'],
    ];
    for (const [call, mask, coh, path] of table) {
      assert.deepEqual(p.route(call, dev(mask, coh, 'translated', { window: true }), FACTS), { path }, `${call} ${mask}/${coh}`);
    }
  });

  // Decided afresh at every call: no attach, no state, whatever happened before.
  it('never changes the domain or the state from route', () => {
    for (const call of CALLS) {
      const d = p.route(call, dev(64, 64, 'translated', { window: true, state: 5 }), FACTS);
      assert.equal(d.attach, undefined);
      assert.equal(d.state, undefined);
    }
  });
});

describe('policy default-domain (decide at set_*mask)', () => {
  const p = defaultDomainPolicy;

  // Robin's sketch: each successful set_*mask decides from min(streaming, coherent), both directions.
  it('maskChanged switches both ways, only when the kind of domain is wrong', () => {
    const table: Array<[PolicyDevice, object]> = [
      [dev(64, 64, 'translated'), { attach: 'identity' }],
      [dev(33, 40, 'translated'), { attach: 'identity' }],
      [dev(64, 32, 'identity'), { attach: 'fresh-translated' }],
      [dev(32, 64, 'identity'), { attach: 'fresh-translated' }],
      [dev(64, 64, 'identity'), {}],
      [dev(32, 32, 'translated'), {}],
      [dev(64, 32, 'translated'), {}],
      [dev(64, 64, 'none'), { attach: 'identity' }],
      [dev(32, 32, 'none'), { attach: 'fresh-translated' }],
      [dev(40, 0, 'translated'), { attach: 'identity' }], // unset coherent mask ignored
    ];
    for (const [d, want] of table) {
      assert.deepEqual(p.maskChanged(d, FACTS), want, JSON.stringify(d));
    }
  });

  // A new device has 32-bit masks: it starts in a translated domain.
  it('probe decides like maskChanged', () => {
    assert.deepEqual(p.probe(dev(32, 32, 'none'), FACTS), { attach: 'fresh-translated' });
    assert.deepEqual(p.probe(dev(64, 64, 'none'), FACTS), { attach: 'identity' });
  });

  // Ops follow the domain: identity -> direct, translated -> iommu; route never moves the device.
  it('route follows the current domain only', () => {
    for (const call of CALLS) {
      assert.deepEqual(p.route(call, dev(32, 32, 'identity'), FACTS), { path: 'direct' });
      assert.deepEqual(p.route(call, dev(64, 64, 'translated'), FACTS), { path: 'iommu' });
    }
  });
});

describe('policy commit-on-map (decide at the first map/alloc)', () => {
  const p = commitOnMapPolicy;
  const UNCOMMITTED = 0;
  const DIRECT = 1;
  const IOMMU = 2;

  // Before the commit the device is in an empty translated domain (stray DMA blocked).
  it('probe: an empty translated domain, uncommitted; masks change nothing', () => {
    assert.deepEqual(p.probe(dev(32, 32, 'none'), FACTS), { attach: 'fresh-translated', state: UNCOMMITTED });
    assert.deepEqual(p.maskChanged(dev(64, 64, 'translated'), FACTS), {});
    assert.deepEqual(p.maskChanged(dev(32, 32, 'identity', { state: DIRECT }), FACTS), {});
  });

  // The committed mask: the first map/alloc decides from min(streaming, coherent), and records it.
  it('the first map or alloc commits from the smaller mask', () => {
    assert.deepEqual(p.route('map', dev(32, 32, 'translated'), FACTS), { path: 'iommu', state: IOMMU });
    assert.deepEqual(p.route('map', dev(64, 32, 'translated'), FACTS), { path: 'iommu', state: IOMMU });
    assert.deepEqual(p.route('alloc', dev(64, 64, 'translated'), FACTS), { path: 'direct', attach: 'identity', state: DIRECT });
    assert.deepEqual(p.route('map', dev(33, 64, 'translated'), FACTS), { path: 'direct', attach: 'identity', state: DIRECT });
    assert.deepEqual(p.route('alloc', dev(64, 0, 'translated'), FACTS), { path: 'direct', attach: 'identity', state: DIRECT });
  });

  // Before the commit, unmap/sync/free go to the (empty) IOMMU domain and do not commit.
  it('unmap, sync and free do not commit', () => {
    for (const call of ['unmap', 'sync', 'free'] as const) {
      assert.deepEqual(p.route(call, dev(64, 64, 'translated'), FACTS), { path: 'iommu' }, call);
    }
  });

  // After the commit later masks do not change the path.
  it('a committed device keeps its path whatever the masks', () => {
    for (const call of CALLS) {
      assert.deepEqual(p.route(call, dev(64, 64, 'translated', { state: IOMMU }), FACTS), { path: 'iommu' });
      assert.deepEqual(p.route(call, dev(32, 32, 'identity', { state: DIRECT }), FACTS), { path: 'direct' });
    }
  });
});

describe('policies direct and iommu', () => {
  // A machine without an IOMMU: dma-direct + swiotlb for every call.
  it('direct: always direct, no IOMMU', () => {
    assert.deepEqual(directPolicy.probe(dev(32, 32, 'none'), FACTS), { attach: 'none' });
    assert.deepEqual(directPolicy.maskChanged(dev(24, 24, 'none'), FACTS), {});
    for (const call of CALLS) {
      for (const [m, c] of [[24, 24], [32, 64], [64, 64]] as const) {
        assert.deepEqual(directPolicy.route(call, dev(m, c, 'none'), FACTS), { path: 'direct' });
      }
    }
  });

  // Every device in its own translated domain; never bypass.
  it('iommu: always iommu, a fresh translated domain at probe', () => {
    assert.deepEqual(iommuPolicy.probe(dev(32, 32, 'none'), FACTS), { attach: 'fresh-translated' });
    assert.deepEqual(iommuPolicy.maskChanged(dev(64, 64, 'translated'), FACTS), {});
    for (const call of CALLS) {
      for (const [m, c] of [[24, 24], [32, 64], [64, 64]] as const) {
        assert.deepEqual(iommuPolicy.route(call, dev(m, c, 'translated'), FACTS), { path: 'iommu' });
      }
    }
  });

  // The shared "no domain change" value cannot be mutated by a policy.
  it('NO_CHANGE is an empty frozen object', () => {
    assert.deepEqual(NO_CHANGE, {});
    assert.equal(Object.isFrozen(NO_CHANGE), true);
  });
});

describe('policies through the mapping layer', () => {
  const G = 2 ** 30;

  function layerFor(policy: BypassPolicy) {
    const m = new Machine(applyMachineWords(DEFAULT_CONFIG, []));
    const layer = new DmaLayer(m, policy);
    const d = layer.addDevice(64, false);
    return { m, layer, d, buf: m.pages.alloc(4096, 'normal', ExtentKind.Kmalloc) };
  }

  // intel-2019: the downgrade happens at the call, once, and is never undone (3.3).
  it('intel-2019: identity until a call sees a small mask; then translated for good', () => {
    const { layer, d, buf } = layerFor(intel2019Policy);
    assert.equal(layer.domainName(d), 'identity');
    layer.setMask(d, 64, false);
    layer.setMask(d, 64, true);
    assert.equal(layer.map(d, buf, 4096, 'to_device'), BigInt(4 * G));
    assert.equal(layer.out.path, 'direct');
    layer.setMask(d, 32, true); // setting a mask decides nothing ...
    assert.equal(layer.domainName(d), 'identity');
    assert.equal(layer.map(d, buf, 4096, 'to_device'), 0xfffff000n); // ... the next call does
    assert.equal(layer.out.path, 'iommu');
    assert.equal(layer.out.domainChange, 'domain identity -> translated #1');
    layer.setMask(d, 64, true);
    assert.equal(layer.map(d, buf, 4096, 'to_device'), 0xffffe000n); // one way
    assert.equal(layer.domainName(d), 'translated #1');
  });

  // default-domain: every successful set_*mask decides; a switch to translated is a fresh domain.
  it('default-domain: switches at set_mask, both ways, fresh domain each time', () => {
    const { layer, d } = layerFor(defaultDomainPolicy);
    assert.equal(layer.domainName(d), 'translated #1');
    layer.setMask(d, 64, false);
    assert.equal(layer.domainName(d), 'translated #1'); // coherent still 32
    layer.setMask(d, 64, true);
    assert.equal(layer.domainName(d), 'identity');
    assert.equal(layer.out.domainChange, 'domain translated #1 -> identity');
    layer.setMask(d, 32, true);
    assert.equal(layer.domainName(d), 'translated #2');
    assert.equal(layer.setMask(d, 16, false), EIO); // a refused mask changes nothing
    assert.equal(layer.domainName(d), 'translated #2');
  });

  // bypass-flag: one windowed domain for life; the direct path adds 2^59.
  it('bypass-flag: direct through the window iff the call mask is 64-bit', () => {
    const { layer, d, buf } = layerFor(bypassFlagPolicy);
    assert.equal(layer.domainName(d), 'translated #1 (with bypass window)');
    assert.equal(layer.map(d, buf, 4096, 'to_device'), 0xfffff000n); // 32-bit mask: IOMMU
    layer.setMask(d, 64, false);
    assert.equal(layer.map(d, buf, 4096, 'to_device'), (1n << 59n) + BigInt(4 * G));
    assert.equal(layer.out.path, 'direct');
    assert.equal(layer.domainName(d), 'translated #1 (with bypass window)');
  });

  // commit-on-map: the first map commits; later masks do not move the device.
  it('commit-on-map: the first map with 32-bit masks commits to the IOMMU', () => {
    const { m, layer, d, buf } = layerFor(commitOnMapPolicy);
    assert.equal(m.v.devPolicyState[d], 0);
    assert.equal(layer.map(d, buf, 4096, 'to_device'), 0xfffff000n);
    assert.equal(m.v.devPolicyState[d], 2);
    layer.setMask(d, 64, false);
    layer.setMask(d, 64, true);
    assert.equal(layer.map(d, buf, 4096, 'to_device'), 0xffffe000n);
    assert.equal(layer.out.path, 'iommu');

    const c = layerFor(commitOnMapPolicy);
    c.layer.setMask(c.d, 64, false);
    c.layer.setMask(c.d, 64, true);
    const h = c.layer.allocCoherent(c.d, 4096);
    assert.equal(c.layer.out.path, 'direct');
    assert.equal(h, BigInt(c.layer.lastPhys));
    assert.equal(c.layer.domainName(c.d), 'identity');
    assert.equal(c.m.v.devPolicyState[c.d], 1);
  });

  // The layer refuses a decision that is not {path: 'direct' | 'iommu'}: a model panic, not a silent default.
  it('a policy returning a bad decision is a ModelPanic', () => {
    const bad = checkPolicyShape({ name: 'bad', route: () => ({ path: 'sideways' }) }, 'bad.mjs');
    const { layer, d, buf } = layerFor(bad);
    assert.throws(() => layer.map(d, buf, 4096, 'to_device'), ModelPanic);
  });
});

describe('policy registry', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dmafuzz-policy-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  function writeModule(name: string, text: string): string {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, text);
    return file;
  }

  async function rejectsUserError(p: Promise<unknown>, re: RegExp): Promise<void> {
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
      assert.match(e.message, re);
      return true;
    });
  }

  // SPEC 5's six built-in policies, each with a description for --help.
  it('lists the six built-ins in order', () => {
    assert.deepEqual(BUILTIN_POLICY_NAMES, ['direct', 'iommu', 'intel-2019', 'bypass-flag', 'default-domain', 'commit-on-map']);
    assert.equal(BUILTIN_POLICIES.length, 6);
    for (const p of BUILTIN_POLICIES) {
      assert.ok(p.description.length > 0, p.name);
      assert.equal(builtinPolicy(p.name), p);
    }
    assert.equal(builtinPolicy('nope'), undefined);
  });

  // A built-in name resolves to the built-in object itself.
  it('resolvePolicy returns a built-in by name', async () => {
    assert.equal(await resolvePolicy('intel-2019'), intel2019Policy);
    assert.equal(await resolvePolicy('bypass-flag'), bypassFlagPolicy);
  });

  // A typo gets a one-line UserError listing the valid names (with the caller's location).
  it('an unknown name is a UserError listing the built-ins', async () => {
    await rejectsUserError(
      resolvePolicy('nope'),
      /^unknown policy 'nope' \(expected one of: direct, iommu, intel-2019, bypass-flag, default-domain, commit-on-map, or a path to a policy module like \.\/my-policy\.js\)$/,
    );
    await rejectsUserError(resolvePolicy('nope', process.cwd(), 'prog.dmafuzz:2'), /^prog\.dmafuzz:2: unknown policy 'nope'/);
  });

  // Anything with a slash or a .js/.mjs/.ts ending is a module path, not a name.
  it('isPolicyPath', () => {
    assert.equal(isPolicyPath('./p.js'), true);
    assert.equal(isPolicyPath('p.mjs'), true);
    assert.equal(isPolicyPath('p.ts'), true);
    assert.equal(isPolicyPath('/abs/p'), true);
    assert.equal(isPolicyPath('intel-2019'), false);
  });

  // SPEC 5: policy=./my-policy.js loads a user's module implementing the same interface.
  it('loads a user module (default export), relative to baseDir, filling in optional parts', async () => {
    writeModule(
      'my-policy.mjs',
      [
        '// a user policy: direct iff the streaming mask reaches all RAM',
        'export default {',
        "  name: 'mine',",
        '  route(call, dev, facts) {',
        "    return { path: dev.maskBits >= facts.requiredMaskBits ? 'direct' : 'iommu' };",
        '  },',
        '};',
        '',
      ].join('\n'),
    );
    const p = await resolvePolicy('./my-policy.mjs', tmp);
    const file = path.join(tmp, 'my-policy.mjs');
    assert.equal(p.name, 'mine');
    assert.equal(p.description, `user policy from ${file}`);
    assert.deepEqual(p.route('map', dev(64, 32, 'translated'), FACTS), { path: 'direct' });
    assert.deepEqual(p.route('map', dev(32, 64, 'translated'), FACTS), { path: 'iommu' });
    assert.deepEqual(p.probe(dev(32, 32, 'none'), FACTS), { attach: 'fresh-translated' });
    assert.deepEqual(p.maskChanged(dev(32, 32, 'translated'), FACTS), {});
    // the same file resolves to the same (cached) object, by absolute path too
    assert.equal(await resolvePolicy(file), p);
  });

  // A module may export `policy` instead of default; given probe/description are kept.
  it('loads a module that exports `policy` with its own probe and description', async () => {
    const file = writeModule(
      'named.mjs',
      "export const policy = { name: 'named', description: 'mine too', probe: () => ({ attach: 'identity' }), route: () => ({ path: 'direct' }) };\n",
    );
    const p = await resolvePolicy(file);
    assert.equal(p.name, 'named');
    assert.equal(p.description, 'mine too');
    assert.deepEqual(p.probe(dev(32, 32, 'none'), FACTS), { attach: 'identity' });
  });

  // route is the one required function; its absence is named.
  it('a module without route is a UserError mentioning route', async () => {
    const file = writeModule('no-route.mjs', "export default { name: 'half' };\n");
    await rejectsUserError(resolvePolicy(file), /does not implement the interface: missing route\(call, device, facts\) \(a function\)/);
  });

  // Missing or broken modules are UserErrors, not crashes.
  it('a missing file or a module that does not load is a UserError', async () => {
    await rejectsUserError(resolvePolicy('./absent.mjs', tmp), /policy module '\.\/absent\.mjs' not found/);
    const broken = writeModule('broken.mjs', 'export default {{{\n');
    await rejectsUserError(resolvePolicy(broken), /cannot load policy module/);
  });

  // The interface check names every problem; optional parts get defaults.
  it('checkPolicyShape names every missing or ill-typed part', () => {
    const throwsShape = (candidate: unknown, re: RegExp): void => {
      assert.throws(
        () => checkPolicyShape(candidate, 'x.mjs'),
        (e: unknown) => e instanceof UserError && re.test(e.message),
      );
    };
    throwsShape(undefined, /^x\.mjs: a policy module must export default an object .* \(found undefined\)$/);
    throwsShape(null, /\(found null\)/);
    throwsShape(42, /\(found number\)/);
    throwsShape({}, /missing name \(a string\), route\(call, device, facts\) \(a function\)/);
    throwsShape({ name: '', route: () => ({ path: 'direct' }) }, /missing name \(a string\)$/);
    throwsShape({ name: 'p', route: 'direct' }, /missing route/);
    throwsShape({ name: 'p', route: () => ({ path: 'direct' }), probe: 1, maskChanged: 'x' }, /missing probe \(a function, if given\), maskChanged \(a function, if given\)/);
    const ok = checkPolicyShape({ name: 'p', route: () => ({ path: 'iommu' }), maskChanged: () => ({ attach: 'identity' }) }, 'x.mjs');
    assert.equal(ok.name, 'p');
    assert.deepEqual(ok.maskChanged(dev(64, 64, 'translated'), FACTS), { attach: 'identity' });
    assert.deepEqual(ok.route('map', dev(64, 64, 'translated'), FACTS), { path: 'iommu' });
  });
});
