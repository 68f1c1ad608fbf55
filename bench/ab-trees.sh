#!/bin/bash
# bench/ab-trees.sh RUNS PAIRS W: an old tree (OLD=dir, default /work/old, built, node_modules linked) against this one, alternating, same seed; whole-run and after-5-s statements/s
run() { d=$(mktemp -d); (cd $1 && node bin/dmafuzz.js fuzz --runs $2 --seed 1 --workers $3 --no-minimize --json --corpus $d/c --out $d/r 2>/dev/null) | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const o=JSON.parse(s);const f=o.timeline.find(e=>e.t>=5);const w=f?(o.statements-f.statements)/(o.elapsedSeconds-f.t):NaN;console.log(Math.round(o.statementsPerSecond/1000)+" "+Math.round(w/1000))})'; rm -rf $d; }
for i in $(seq 1 $2); do
  if [ $((i % 2)) = 1 ]; then a=$(run ${OLD:-/work/old} $1 $3); b=$(run $(pwd) $1 $3); else b=$(run $(pwd) $1 $3); a=$(run ${OLD:-/work/old} $1 $3); fi
  set -- $1 $2 $3 $a $b
  echo "w=$3 old ${4}k (after 5 s ${5}k)  new ${6}k (after 5 s ${7}k)  new/old $(echo "scale=3;$6/$4"|bc), after 5 s $(echo "scale=3;$7/$5"|bc)"
done
