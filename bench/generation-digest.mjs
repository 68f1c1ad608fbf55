// A digest of the programs the engine generates (fresh programs and mutants, three modes, 4,500
// programs): speed work on the generator must leave it unchanged. Run it on two built trees:
//   node bench/generation-digest.mjs ../old && node bench/generation-digest.mjs .
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(process.argv[2] ?? '.');
const load = (p) => import(pathToFileURL(path.join(root, 'dist', 'src', p)).href);
const { programAt } = await load('engine/program-source.js');
const { printProgram } = await load('program/print.js');
const h = createHash('sha256');
let statements = 0;
for (const mode of ['legal', 'misuse', 'all']) {
  const opts = { mode, machine: [], maxIntents: 60, longIntents: 600 };
  const corpus = [];
  for (let i = 0; i < 1500; i++) {
    const s = programAt({ runSeed: 7, epoch: i >> 6, batch: 0, index: i }, corpus, opts);
    // every seventh program joins the corpus, so that later ones are mutants of it
    if (i % 7 === 0) corpus.push(s.intents);
    h.update(printProgram(s.program));
    h.update(JSON.stringify(s.intents));
    statements += s.program.statements.length;
  }
}
console.log(`${h.digest('hex').slice(0, 16)} ${statements} statements`);
