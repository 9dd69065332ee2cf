#!/usr/bin/env python3
"""Timed comparison of taskflow-ninja with ninja, both in the same run.

1. no-op: a Chromium-like fake manifest (a generator of our own, in the
   manner of ninja's misc/write_fake_manifests.py: one subninja per target,
   each with its own sources, headers as implicit inputs, archives and
   links over them), built once by each tool, then timed no-op runs;
2. 20,000 trivial edges (`touch $out`), a full build at -j2;
3. (from cmake-compare.sh) the real project's full build.

Each figure is the median of several runs, the tools' runs interleaved;
ratios are ours / ninja. With --base=BIN, the runner built at another
revision runs in the same interleaving, and ours / base is printed too (an
A/B of a change, under the same load).
Usage: bench.py [path/to/taskflow-ninja] [--quick] [--base=path/to/old/taskflow-ninja]
"""
import os, shutil, statistics, subprocess, sys, tempfile, time

here = os.path.dirname(os.path.abspath(__file__))
args = [a for a in sys.argv[1:] if not a.startswith('--')]
quick = '--quick' in sys.argv
base = next((os.path.abspath(a.split('=', 1)[1]) for a in sys.argv[1:] if a.startswith('--base=')), None)
ours = os.path.abspath(args[0] if args else os.path.join(here, '..', '..', 'target', 'release', 'taskflow-ninja'))
if shutil.which('ninja') is None:
    print('SKIPPED: bench: ninja is not installed')
    sys.exit(0)

def fake_manifest(root, targets, sources):
    """A Chromium-like tree: `targets` subninjas of `sources` C files each."""
    os.makedirs(root)
    top = ['rule cc', '  command = touch $out', '  description = CC $out',
           'rule ar', '  command = touch $out', '  description = AR $out',
           'rule link', '  command = touch $out', '  description = LINK $out', '']
    links = []
    for t in range(targets):
        d = f'src/t{t}'
        os.makedirs(os.path.join(root, d))
        lines = [f'cflags = -DT{t} -Isrc/t{t}']
        headers = [f'{d}/h{i}.h' for i in range(5)]
        for h in headers:
            open(os.path.join(root, h), 'w').close()
        objs = []
        for s in range(sources):
            src = f'{d}/s{s}.cc'
            open(os.path.join(root, src), 'w').close()
            obj = f'obj/t{t}/s{s}.o'
            objs.append(obj)
            lines.append(f'build {obj}: cc {src} | {" ".join(headers[:1 + s % 5])}')
        lines.append(f'build lib/t{t}.a: ar {" ".join(objs)}')
        prev = f' lib/t{t - 1}.a' if t else ''
        lines.append(f'build bin/t{t}: link lib/t{t}.a{prev}')
        links.append(f'bin/t{t}')
        open(os.path.join(root, f't{t}.ninja'), 'w').write('\n'.join(lines) + '\n')
        top.append(f'subninja t{t}.ninja')
    top.append('build all: phony ' + ' '.join(links))
    top.append('default all')
    open(os.path.join(root, 'build.ninja'), 'w').write('\n'.join(top) + '\n')

def trivial_manifest(root, n):
    os.makedirs(root)
    lines = ['rule touch', '  command = touch $out', '  description = TOUCH $out']
    lines += [f'build out/f{i}: touch' for i in range(n)]
    open(os.path.join(root, 'build.ninja'), 'w').write('\n'.join(lines) + '\n')

def timed(cmd, cwd):
    start = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    took = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit(f'FAILED: {cmd} in {cwd}: {r.stdout.decode()[-2000:]}')
    return took, r.stdout.decode()

tools = [('ninja', 'ninja'), ('ours', ours)] + ([('base', base)] if base else [])
results = {}
work = tempfile.mkdtemp()
try:
    # 1. no-op of a large manifest.
    targets, sources = (40, 100) if quick else (200, 100)
    for name, binary in tools:
        root = os.path.join(work, f'noop-{name}')
        fake_manifest(root, targets, sources)
        timed([binary, '-j2'], root)
        took, out = timed([binary], root)
        if 'no work to do' not in out:
            sys.exit(f'FAILED: {name}: a second run did work: {out[-500:]}')
    # Interleaved, so that both tools see the same load on a shared machine.
    runs = 15 if quick else 11
    times = {name: [] for name, _ in tools}
    for _ in range(runs):
        for name, binary in tools:
            times[name].append(timed([binary], os.path.join(work, f'noop-{name}'))[0])
    for name, _ in tools:
        results[('noop', name)] = statistics.median(times[name])
    edges = targets * (sources + 2)
    # 2. 20,000 trivial edges at -j2, each run in a fresh directory.
    n = 4000 if quick else 20000
    times = {name: [] for name, _ in tools}
    for rep in range(1 if quick else 3):
        for name, binary in tools:
            root = os.path.join(work, f'touch-{name}-{rep}')
            trivial_manifest(root, n)
            times[name].append(timed([binary, '-j2'], root)[0])
    for name, _ in tools:
        results[('touch', name)] = statistics.median(times[name])
finally:
    shutil.rmtree(work, ignore_errors=True)

cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), '?')
print(f'{os.cpu_count()} x {cpu}')
print(f'{"":40} {"ninja":>9} {"ours":>9} {"ours/ninja":>10}' + (f' {"base":>9} {"ours/base":>10}' if base else ''))
for key, label in [('noop', f'no-op, {edges} edges in {targets} subninjas'),
                   ('touch', f'full build, {n} touch edges, -j2')]:
    a, b = results[(key, 'ninja')], results[(key, 'ours')]
    line = f'{label:40} {a:8.3f}s {b:8.3f}s {b / a:10.3f}'
    if base:
        c = results[(key, 'base')]
        line += f' {c:8.3f}s {b / c:10.3f}'
    print(line)
