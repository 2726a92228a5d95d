#!/usr/bin/env python3
"""Check that QEMU's own implementation of the owned set is not compiled.

Every source in compile_commands.json and every header ninja recorded as a
dependency is hashed and compared with the upstream owned files removed by
overlay.py; every owned path must be absent or a link to our file; every C
file of ours must be compiled.  Prints TAP.
"""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overlay import OWNED, SRC, TOP, UPSTREAM_SUMS, our_files  # noqa: E402

BUILD = TOP / 'build' / 'qemu-build'


def compiled_files():
    entries = json.loads((BUILD / 'compile_commands.json').read_text())
    files = {Path(os.path.normpath(Path(e['directory']) / e['file']))
             for e in entries}
    deps = subprocess.run(['ninja', '-C', str(BUILD), '-t', 'deps'],
                          check=True, capture_output=True, text=True).stdout
    for line in deps.splitlines():
        if line.startswith('    '):
            files.add(Path(os.path.normpath(BUILD / line.strip())))
    return files


def main():
    upstream = {}
    for line in UPSTREAM_SUMS.read_text().splitlines():
        digest, rel = line.split('  ', 1)
        upstream[digest] = rel
    used = compiled_files()
    results = []

    leaked = []
    for path in sorted(used):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest in upstream:
                leaked.append('%s (upstream %s)' % (path, upstream[digest]))
    results.append(('no upstream file of the owned set is compiled',
                    leaked))

    foreign = []
    for rel in OWNED:
        dest = SRC / rel
        if dest.exists() and dest.resolve() != (TOP / rel).resolve():
            foreign.append(rel)
    results.append(('every owned path is absent or ours', foreign))

    ours = [f for f in our_files() if f.startswith('hw/') and
            f.endswith('.c')]
    missing = [f for f in ours if SRC / f not in used]
    results.append(('every C file of ours is compiled (%d)' % len(ours),
                    missing))

    print('1..%d' % len(results))
    for n, (name, problems) in enumerate(results, 1):
        for p in problems:
            print('# %s' % p)
        print('%sok %d - %s' % ('not ' if problems else '', n, name))
    return 1 if any(p for _, p in results) else 0


if __name__ == '__main__':
    sys.exit(main())
