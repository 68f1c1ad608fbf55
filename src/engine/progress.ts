/**
 * Live progress. On a terminal: a status block redrawn about once a second
 * (log-update, so the block is rewritten in place rather than scrolled). Not
 * on a terminal (CI, nightly cron): one plain line every 10 s.
 */
import logUpdate from 'log-update';
import type { RunState } from './coordinator.js';

export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private lastPrograms = 0;
  private lastStatements = 0;
  private lastAt = Date.now();

  constructor(
    private readonly state: RunState,
    private readonly totalSeconds: number | undefined,
    private readonly tty: boolean,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), this.tty ? 1000 : 10_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.tty) logUpdate.done();
  }

  private tick(): void {
    const now = Date.now();
    const dt = Math.max(0.001, (now - this.lastAt) / 1000);
    const s = this.state;
    const pps = (s.programs - this.lastPrograms) / dt;
    const sps = (s.statements - this.lastStatements) / dt;
    this.lastPrograms = s.programs;
    this.lastStatements = s.statements;
    this.lastAt = now;
    const elapsed = (now - s.startedMs) / 1000;
    const remaining = this.totalSeconds !== undefined ? Math.max(0, this.totalSeconds - elapsed) : undefined;
    if (!this.tty) {
      this.out.write(
        `[${elapsed.toFixed(0)}s] programs ${s.programs} (${pps.toFixed(0)}/s), statements/s ${sps.toFixed(0)}, coverage ${s.coverageBits} bits, corpus ${s.corpusSize}, crashes ${s.crashes.size}, workers ${s.workersAlive}\n`,
      );
      return;
    }
    const byPolicy = new Map<string, Map<string, number>>();
    for (const e of s.crashes.values()) {
      const kinds = byPolicy.get(e.crash.policy) ?? new Map<string, number>();
      kinds.set(e.crash.kind, (kinds.get(e.crash.kind) ?? 0) + 1);
      byPolicy.set(e.crash.policy, kinds);
    }
    const lines = [
      `dmafuzz  elapsed ${elapsed.toFixed(0)}s${remaining !== undefined ? `  remaining ${remaining.toFixed(0)}s` : ''}  workers ${s.workersAlive}`,
      `programs ${s.programs} (${pps.toFixed(0)}/s)  statements ${(sps / 1000).toFixed(0)}k/s  coverage ${s.coverageBits} bits  corpus ${s.corpusSize}`,
      `unique crashes ${s.crashes.size}${s.hangs ? `  hangs ${s.hangs}` : ''}`,
      ...[...byPolicy].sort().map(([p, kinds]) => `  ${p.padEnd(16)} ${[...kinds].map(([k, n]) => `${k} x${n}`).join(', ')}`),
    ];
    logUpdate(lines.join('\n'));
  }
}
