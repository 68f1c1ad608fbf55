#!/bin/bash
# The README's main job (fuzz --seconds 60, minimization on) at 1 and 2
# workers, alternating, PAIRS times: statements/s over the whole run and
# after the first 5 s (from the run's per-epoch timeline). About 2 min per pair.
#   npm run build && bash bench/main-job.sh [PAIRS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-2}
secs=${2:-60}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in $(seq 1 "$pairs"); do
  for w in 1 2; do
    # exit 1 means new signatures were found, the expected outcome with an empty corpus
    node bin/dmafuzz.js fuzz --seconds "$secs" --seed 1 --workers "$w" --json --corpus "$tmp/c$i$w" --out "$tmp/r$i$w" >"$tmp/out.json" 2>/dev/null || [ $? -eq 1 ]
    node -e "
      const j = JSON.parse(require('fs').readFileSync('$tmp/out.json', 'utf8'));
      const f = j.timeline.find((e) => e.t >= 5);
      const warm = (j.statements - f.statements) / (j.elapsedSeconds - f.t);
      console.log('pair $i, $w worker(s): ' + Math.round(j.statementsPerSecond / 1000) + 'k statements/s, ' + Math.round(warm / 1000) + 'k after the first 5 s; ' + j.programs + ' programs, ' + j.crashes.length + ' signatures');
    "
  done
done
