// node bench/minimize-corpus.mjs TREE DIR OUT: minimizes every crash file of DIR with the built tree TREE, 3 passes; prints time and predicate evaluations per pass, writes the results (to compare two trees byte for byte)
import fs from 'node:fs'; import path from 'node:path'; import { pathToFileURL } from 'node:url';
const from = (root, rel) => pathToFileURL(path.resolve(root, rel)).href;
const root = process.argv[2]; const dir = process.argv[3];
const { loadProgramText } = await import(from(root, 'dist/src/exec/load.js'));
const { minimizeCrash } = await import(from(root, 'dist/src/engine/reproduce.js'));
const { builtinPolicy } = await import(from(root, 'dist/src/policy/registry.js'));
const { printProgram } = await import(from(root, 'dist/src/program/print.js'));
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.dmafuzz')).sort();
const items = files.map((f) => { const t = fs.readFileSync(path.join(dir, f), 'utf8'); const lp = loadProgramText(t, f); const pol = /^# policy: (\S+)/m.exec(t)[1]; return { f, lp, pol }; });
for (let rep = 0; rep < 3; rep++) {
  let ms = 0, ev = 0; const out = [];
  const t0 = performance.now();
  for (const { lp, pol } of items) { try { const r = minimizeCrash(lp.program, lp.config, builtinPolicy(pol)); ev += r.evaluations; out.push(printProgram({ ...r.program, header: [] })); } catch (e) { out.push('ERR ' + e.message); } }
  ms = performance.now() - t0;
  if (rep === 2) fs.writeFileSync(process.argv[4], out.join('\n=====\n'));
  console.log(`${items.length} crashes: ${ms.toFixed(0)} ms, ${ev} evaluations`);
}
