#!/usr/bin/env python3
# Every thread of a fuzz run over its whole life, sampled from /proc every 4 ms: its CPU time
# (schedstat) and how often it was runnable (R) or asleep, and on what (wchan: futex_do_wait is a
# lock or Atomics.wait, do_epoll_wait the event loop). Linux only.
#   npm run build && python3 bench/thread-states.py [RUNS=8192] [WORKERS=2]
import collections, os, subprocess, sys, time

runs = sys.argv[1] if len(sys.argv) > 1 else '8192'
workers = sys.argv[2] if len(sys.argv) > 2 else '2'
here = os.path.dirname(os.path.abspath(__file__))
p = subprocess.Popen(['node', os.path.join(here, 'coordinator-run.mjs'), runs, workers], stdout=subprocess.PIPE, text=True)
states = collections.defaultdict(collections.Counter)
cpu = {}
t0 = time.time()
while p.poll() is None:
    try:
        tids = os.listdir(f'/proc/{p.pid}/task')
    except OSError:
        break
    for tid in tids:
        try:
            stat = open(f'/proc/{p.pid}/task/{tid}/stat').read()
            state = stat[stat.rindex(')') + 2]
            wchan = open(f'/proc/{p.pid}/task/{tid}/wchan').read() if state != 'R' else ''
            cpu[tid] = int(open(f'/proc/{p.pid}/task/{tid}/schedstat').read().split()[0])
            states[tid][state + (':' + wchan if wchan and wchan != '0' else '')] += 1
        except OSError:
            pass  # the thread ended between listing and reading
    time.sleep(0.004)
print(p.stdout.read().strip())
print(f'{time.time() - t0:.1f} s; the busiest threads (workers first, then V8 platform threads and the coordinator):')
for tid, c in sorted(states.items(), key=lambda kv: -cpu.get(kv[0], 0))[:8]:
    total = sum(c.values())
    print(f'  thread {tid}: {cpu[tid] / 1e9:5.2f} s of CPU; ' + ', '.join(f'{k} {100.0 * v / total:.1f}%' for k, v in c.most_common(3)))
