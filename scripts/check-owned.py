#!/usr/bin/env python3
"""Check that QEMU's own implementation of the owned set is not compiled.

    check-owned.py 7.2|10.0

Every source in compile_commands.json and every header ninja recorded as a
dependency is hashed and compared with the upstream owned files removed by
overlay.py; every owned path must be absent or a link to our file; every C
file of ours (and of the base's compat layer) must be compiled.  Prints TAP.
"""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overlay import OWNED, TOP, get_base, our_files  # noqa: E402


def compiled_files(base):
    entries = json.loads((base.build / 'compile_commands.json').read_text())
    files = {Path(os.path.normpath(Path(e['directory']) / e['file']))
             for e in entries}
    deps = subprocess.run(['ninja', '-C', str(base.build), '-t', 'deps'],
                          check=True, capture_output=True, text=True).stdout
    for line in deps.splitlines():
        if line.startswith('    '):
            files.add(Path(os.path.normpath(base.build / line.strip())))
    return files


def main():
    base = get_base(sys.argv)
    upstream = {}
    for line in base.upstream_sums.read_text().splitlines():
        digest, rel = line.split('  ', 1)
        upstream[digest] = rel
    used = compiled_files(base)
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
        dest = base.src / rel
        if dest.exists() and dest.resolve() != (TOP / rel).resolve():
            foreign.append(rel)
    results.append(('every owned path is absent or ours', foreign))

    ours = [rel for rel in our_files(base) if rel.startswith('hw/') and
            rel.endswith('.c')]
    missing = [rel for rel in ours if base.src / rel not in used]
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
