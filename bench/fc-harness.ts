/**
 * What a TypeScript user would otherwise write: fast-check `fc.commands` +
 * `fc.modelRun` over the same machine model and statement semantics
 * (src/exec/ops), one property per policy, run single-threaded.
 *
 * - `fcHarness` (the same statements): every command is one of the
 *   engine's own intents, which the generator's interpreter turns into
 *   statements in the current state (its check), executed at once. So
 *   the harness draws the engine's statement mix (sizes, devices, misuse
 *   share of `--mode all`), and the comparison is one of engines only.
 * - `toyFcHarness`: hand-written commands on one device with 64-byte
 *   transfers, a cheaper mix than the engine's; shown for reference, not
 *   compared, since statements/s of different mixes do not compare.
 */
import fc from 'fast-check';
import { Machine } from '../src/machine/machine.js';
import { DEFAULT_CONFIG } from '../src/machine/config.js';
import { ExecContext } from '../src/exec/context.js';
import { DmaLayer } from '../src/dma/mapping.js';
import { OPS } from '../src/exec/ops/index.js';
import { builtinPolicy, BUILTIN_POLICIES } from '../src/policy/registry.js';
import { Crash } from '../src/oracle/verdict.js';
import { intentArb } from '../src/program/arbitrary.js';
import { ProgramBuilder, type Intent } from '../src/program/generate.js';
import type { Statement, OpName, ArgValue, Direction } from '../src/program/ast.js';

const policies = BUILTIN_POLICIES.map((p) => p.name);

export interface HarnessRate {
  sps: number;
  pps: number;
}

// ---- the same statements: the engine's intents as commands -------------------------------

/** The machine side of one run: statements execute as the builder emits them, until the first crash. */
class Execution {
  readonly ctx: ExecContext;
  private next = 0;
  statements = 0;
  crashed = false;

  constructor(m: Machine, policy: string) {
    m.reset();
    this.ctx = new ExecContext(m, new DmaLayer(m, builtinPolicy(policy)!), false);
  }

  /** Runs the statements the builder emitted since the last call. */
  catchUp(b: ProgramBuilder): void {
    const stmts = b.emitted;
    for (; this.next < stmts.length && !this.crashed; this.next++) {
      const s = stmts[this.next]!;
      this.statements++;
      this.ctx.begin(s);
      try {
        OPS[s.op](this.ctx, s);
      } catch (e) {
        // a crash ends the run, as in the engine (a harness that failed the property would start shrinking)
        if (!(e instanceof Crash)) throw e;
        this.crashed = true;
      }
    }
  }
}

class IntentCommand implements fc.Command<ProgramBuilder, Execution> {
  constructor(readonly intent: Intent) {}
  check(): boolean {
    // the builder adapts or drops an intent that does not fit the state, as the engine's generator does
    return true;
  }
  run(b: ProgramBuilder, real: Execution): void {
    b.step(this.intent);
    real.catchUp(b);
  }
  toString(): string {
    return `intent(${this.intent.k})`;
  }
}

/** Like the engine's programs: a quarter lets driver bugs in (--mode all), 1 to 3 devices, up to 60 intents. */
const programArb = fc.record({
  misuse: fc.nat(3).map((n) => n === 0),
  devices: fc.integer({ min: 1, max: 3 }),
  commands: fc.commands([intentArb.map((i) => new IntentCommand(i))], { size: 'max', maxCommands: 60 }),
});

export function fcHarness(runs: number): HarnessRate {
  const m = new Machine(DEFAULT_CONFIG);
  let statements = 0;
  const t0 = performance.now();
  for (const pol of policies) {
    fc.assert(
      fc.property(programArb, ({ misuse, devices, commands }) => {
        const b = new ProgramBuilder({ mode: misuse ? 'misuse' : 'legal', devices });
        const real = new Execution(m, pol);
        b.probe(devices);
        real.catchUp(b);
        fc.modelRun(() => ({ model: b, real }), commands);
        b.teardown();
        real.catchUp(b);
        statements += real.statements;
      }),
      { numRuns: Math.ceil(runs / policies.length), seed: 1 },
    );
  }
  const sec = (performance.now() - t0) / 1000;
  return { sps: statements / sec, pps: runs / sec };
}

// ---- the toy harness: hand-written commands, 64-byte transfers on one device -------------


interface Model {
  bufs: string[];
  maps: Array<{ name: string; buf: string; dir: Direction; owner: 'device' | 'cpu' }>;
  n: number;
}

function stmt(op: OpName, args: Record<string, ArgValue | undefined>, bind?: string): Statement {
  return { op, bind, args, line: 0, column: 0 };
}

/** Runs one statement on the real machine through the executor's own semantics. */
function exec(ctx: ExecContext, s: Statement): void {
  ctx.begin(s);
  try {
    OPS[s.op](ctx, s);
  } catch (e) {
    if (!(e instanceof Crash)) throw e;
  }
}

class Real {
  ctx: ExecContext;
  statements = 0;
  constructor(
    readonly m: Machine,
    policy: string,
  ) {
    m.reset();
    this.ctx = new ExecContext(m, new DmaLayer(m, builtinPolicy(policy)!), false);
    exec(this.ctx, stmt('dev', { width: 64 }, 'd0'));
  }
  run(s: Statement): void {
    this.statements++;
    exec(this.ctx, s);
  }
}

const DIRS: Direction[] = ['to_device', 'from_device', 'bidirectional'];
type Cmd = fc.Command<Model, Real>;

class Kmalloc implements Cmd {
  constructor(readonly size: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real) {
    const name = `b${m.n++}`;
    r.run(stmt('kmalloc', { size: this.size }, name));
    m.bufs.push(name);
  }
  toString(): string {
    return `kmalloc ${this.size}`;
  }
}
class Map1 implements Cmd {
  constructor(
    readonly pick: number,
    readonly dir: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.bufs.some((b) => !m.maps.some((x) => x.buf === b));
  }
  run(m: Model, r: Real) {
    const free = m.bufs.filter((b) => !m.maps.some((x) => x.buf === b));
    const buf = free[this.pick % free.length]!;
    const name = `m${m.n++}`;
    r.run(stmt('map_single', { dev: 'd0', buf, off: 0, len: 64, dir: DIRS[this.dir]! }, name));
    r.run(stmt('mapping_error', { dev: 'd0', map: name }));
    m.maps.push({ name, buf, dir: DIRS[this.dir]!, owner: 'device' });
  }
  toString(): string {
    return `map`;
  }
}
class DevAccess implements Cmd {
  constructor(
    readonly pick: number,
    readonly seed: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.maps.some((x) => x.owner === 'device');
  }
  run(m: Model, r: Real) {
    const live = m.maps.filter((x) => x.owner === 'device');
    const x = live[this.pick % live.length]!;
    const write = x.dir !== 'to_device';
    r.run(stmt(write ? 'dev_write' : 'dev_read', { dev: 'd0', handle: x.name, off: 0, len: 64, seed: write ? this.seed : undefined }));
  }
  toString(): string {
    return `dev`;
  }
}
class Sync implements Cmd {
  constructor(readonly pick: number) {}
  check(m: Readonly<Model>): boolean {
    return m.maps.length > 0;
  }
  run(m: Model, r: Real) {
    const x = m.maps[this.pick % m.maps.length]!;
    const toCpu = x.owner === 'device';
    r.run(stmt(toCpu ? 'sync_for_cpu' : 'sync_for_device', { dev: 'd0', map: x.name }));
    x.owner = toCpu ? 'cpu' : 'device';
  }
  toString(): string {
    return `sync`;
  }
}
class CpuAccess implements Cmd {
  constructor(
    readonly pick: number,
    readonly seed: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.bufs.some((b) => !m.maps.some((x) => x.buf === b && x.owner === 'device'));
  }
  run(m: Model, r: Real) {
    const ok = m.bufs.filter((b) => !m.maps.some((x) => x.buf === b && x.owner === 'device'));
    const b = ok[this.pick % ok.length]!;
    r.run(this.seed % 2 ? stmt('cpu_write', { buf: b, off: 0, len: 64, seed: this.seed }) : stmt('cpu_read', { buf: b, off: 0, len: 64 }));
  }
  toString(): string {
    return `cpu`;
  }
}
class Unmap implements Cmd {
  constructor(readonly pick: number) {}
  check(m: Readonly<Model>): boolean {
    return m.maps.length > 0;
  }
  run(m: Model, r: Real) {
    const i = this.pick % m.maps.length;
    r.run(stmt('unmap_single', { dev: 'd0', map: m.maps[i]!.name }));
    m.maps.splice(i, 1);
  }
  toString(): string {
    return `unmap`;
  }
}

const commandArb = fc.commands(
  [
    fc.constantFrom(64, 4096).map((s) => new Kmalloc(s)),
    fc.tuple(fc.nat(16), fc.nat(2)).map(([p, d]) => new Map1(p, d)),
    fc.tuple(fc.nat(16), fc.nat(1000)).map(([p, s]) => new DevAccess(p, s)),
    fc.nat(16).map((p) => new Sync(p)),
    fc.tuple(fc.nat(16), fc.nat(1000)).map(([p, s]) => new CpuAccess(p, s)),
    fc.nat(16).map((p) => new Unmap(p)),
  ],
  { size: 'max', maxCommands: 200 },
);

export function toyFcHarness(runs: number): HarnessRate {
  const m = new Machine(DEFAULT_CONFIG);
  let statements = 0;
  const t0 = performance.now();
  for (const pol of policies) {
    fc.assert(
      fc.property(commandArb, (cmds) => {
        const real = new Real(m, pol);
        fc.modelRun(() => ({ model: { bufs: [], maps: [], n: 0 }, real }), cmds);
        statements += real.statements + 1;
      }),
      { numRuns: Math.ceil(runs / policies.length), seed: 1 },
    );
  }
  const sec = (performance.now() - t0) / 1000;
  return { sps: statements / sec, pps: runs / sec };
}

