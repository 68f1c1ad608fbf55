/**
 * `dmafuzz replay FILE... [--policy P]... [--json]`: run programs and print
 * what happened, statement by statement, with the verdict; or one JSON
 * object per program x policy. Exit 1 if any run crashed.
 */
import type { Argv } from 'yargs';
import { loadProgramFile, policySource } from '../exec/load.js';
import { Machine } from '../machine/machine.js';
import { resolvePolicy } from '../policy/registry.js';
import { runProgram, type RunResult } from '../exec/executor.js';
import { printStatement } from '../program/print.js';
import { configWords } from '../machine/config.js';
import { machineOverrides, withMachineFlags } from './machine-flags.js';
import { policySpecs } from './policies.js';
import type { LoadedProgram } from '../exec/load.js';
import type { BypassPolicy } from '../policy/policy.js';
import { loadCostFile } from '../machine/cost-file.js';
import { ReplayHistograms, writeReplayReport, type ReplayRecord } from '../report/replay-report.js';
import { prepareDir } from '../engine/corpus-store.js';

interface ReplayArgs {
  files: string[];
  policy?: string[];
  json?: boolean;
  report?: string;
  costs?: string;
  [flag: string]: unknown;
}

export const replayCommand = {
  command: 'replay <files..>',
  describe: 'run programs and print the annotated trace and verdict',
  builder: (y: Argv) =>
    withMachineFlags(
      y
        .positional('files', { type: 'string', array: true, describe: 'program files (v1 text format)' })
        .option('policy', { type: 'string', array: true, describe: 'bypass policy (repeatable; "all" = every built-in); default: the program\'s machine line' })
        .option('json', { type: 'boolean', default: false, describe: 'one JSON object per program x policy' })
        .option('report', { type: 'string', describe: 'also write a report (summary.json, latency histograms, index.html) of these replays to this directory' })
        .option('costs', { type: 'string', describe: 'JSON file overriding the cost table of the modelled latency' }),
    ),
  handler: async (argv: ReplayArgs) => {
    process.exitCode = await replay(argv);
  },
};

export async function replay(argv: ReplayArgs): Promise<number> {
  const overrides = machineOverrides(argv);
  // load everything first: a bad file fails the command before anything runs
  const loaded = argv.files.map((f) => loadProgramFile(f, overrides));
  const jobs: Array<{ lp: LoadedProgram; policy: BypassPolicy }> = [];
  for (const lp of loaded) {
    for (const spec of policySpecs(argv.policy, lp.config.policy)) {
      jobs.push({ lp, policy: await resolvePolicy(spec, process.cwd(), argv.policy?.length ? '--policy' : policySource(lp)) });
    }
  }
  let crashed = false;
  const machines = new Map<string, Machine>();
  const costs = argv.costs ? loadCostFile(argv.costs) : undefined;
  // the report directory is checked before anything runs, as fuzz checks its own: a clear usage error, not a stack
  if (argv.report) prepareDir(argv.report, 'report directory');
  const hists = argv.report ? new ReplayHistograms() : undefined;
  const records: ReplayRecord[] = [];
  for (const { lp, policy } of jobs) {
    const key = configWords({ ...lp.config, policy: '' });
    let machine = machines.get(key);
    if (!machine) machines.set(key, (machine = new Machine(lp.config, costs)));
    const result = runProgram(lp.program, machine, policy, { trace: !argv.json, onStatement: hists?.recorder(policy.name) });
    if (argv.report) records.push({ file: lp.file, policy: policy.name, config: lp.config, program: lp.program, result });
    crashed ||= result.verdict.verdict === 'crash';
    process.stdout.write(argv.json ? JSON.stringify(jsonLine(lp, policy, result)) + '\n' : humanReport(lp, policy, result));
  }
  if (argv.report && hists) {
    const page = writeReplayReport(argv.report, records, hists);
    process.stderr.write(`dmafuzz: report written: ${page}\n`);
  }
  return crashed ? 1 : 0;
}

function jsonLine(lp: LoadedProgram, policy: BypassPolicy, r: RunResult): Record<string, unknown> {
  const v = r.verdict;
  return {
    file: lp.file,
    policy: policy.name,
    verdict: v.verdict,
    kind: v.kind ?? null,
    blame: v.blame ?? null,
    statement: v.verdict === 'crash' ? v.line : null,
    signature: v.signature ?? null,
    message: v.message ?? null,
    security: v.security,
    steps: r.steps,
  };
}

function humanReport(lp: LoadedProgram, policy: BypassPolicy, r: RunResult): string {
  const lines: string[] = [];
  lines.push(`== ${lp.file} under ${policy.name} (${configWords({ ...lp.config, policy: policy.name })})`);
  // a loop, not Math.max(...lengths): a spread of 130k statements overflowed the stack
  let width = 0;
  for (const s of lp.program.statements) width = Math.max(width, printStatement({ ...s, comment: undefined }).length);
  width = Math.min(44, width);
  for (const t of r.trace) {
    const s = lp.program.statements[t.index]!;
    const text = printStatement({ ...s, comment: undefined }).padEnd(width);
    const path = t.path ? `[${t.path}] ` : '';
    lines.push(`${String(t.line).padStart(4)}  ${text}  -> ${path}${t.note}`);
  }
  const v = r.verdict;
  if (v.verdict === 'ok') {
    lines.push(`verdict: ok`);
  } else {
    lines.push(`verdict: crash ${v.kind} (blame: ${v.blame}) at line ${v.line}`);
    for (const m of (v.message ?? '').split('\n')) lines.push(`  ${m}`);
    lines.push(`signature: ${v.signature}`);
  }
  lines.push(`security: ${v.security.rogue} rogue device accesses, ${v.security.contained} contained, ${v.security.escaped} escaped`, '');
  return lines.join('\n') + '\n';
}
