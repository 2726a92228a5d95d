#!/usr/bin/env python3
"""Overlay the project's sources onto Debian's QEMU 7.2 tree.

Removes QEMU's own implementation of the files this project owns, links ours
in their place (relative symlinks, so edits in the checkout rebuild at once),
and makes the few edits QEMU's build files need: the owned entries of meson
and trace-events files are replaced by ours.  Every edit starts from a
pristine copy saved on the first run, and a file is only rewritten when its
content changes, so a second run does no work and ninja sees no change.

Fails if the tree is not QEMU 7.2.x or if one of our files would replace a
QEMU file outside the owned set.
"""

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
SRC = TOP / 'build' / 'qemu-src'
PRISTINE = TOP / 'build' / 'qemu-pristine'
UPSTREAM_SUMS = TOP / 'build' / 'upstream-owned.sha256'

# QEMU 7.2's implementation of what this project owns (reference notes §10).
OWNED = [
    'hw/xen/xen-bus.c',
    'hw/xen/xen-bus-helper.c',
    'hw/xen/xen-backend.c',
    'hw/block/xen-block.c',
    'hw/block/dataplane/xen-block.c',
    'hw/block/dataplane/xen-block.h',
    'include/hw/xen/xen-bus.h',
    'include/hw/xen/xen-bus-helper.h',
    'include/hw/xen/xen-backend.h',
    'include/hw/xen/xen-block.h',
]

# trace-events sections (named by their "# file.c" header) that belong to
# owned files; ours are appended in their place.
OWNED_TRACE_SECTIONS = {
    'hw/xen/trace-events': ['xen-bus.c', 'xen-bus-helper.c'],
    'hw/block/trace-events': ['xen-block.c'],
    'hw/block/dataplane/trace-events': [],
}

# How each directory's meson.build adds our C sources.
MESON_RULES = {
    'hw/xen': "softmmu_ss.add(when: ['CONFIG_XEN', xen], if_true: files(%s))",
    'hw/block': "softmmu_ss.add(when: 'CONFIG_XEN', if_true: files(%s))",
    'hw/block/dataplane': "specific_ss.add(when: 'CONFIG_XEN', "
                          "if_true: files(%s))",
}

# Our trees that are linked into QEMU's; every tracked file under them is
# ours.  trace-events files are merged instead of linked.
OVERLAY_DIRS = ['hw', 'include', 'configs', 'tests/qtest', 'docs']

MARK = '# --- xen-pv-block series: the sections below are ours ---\n'


def die(msg):
    sys.exit('overlay: ' + msg)


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_if_changed(path, text):
    if path.exists() and not path.is_symlink() and path.read_text() == text:
        return
    if path.is_symlink():
        path.unlink()
    path.write_text(text)


def pristine(rel):
    """Content of QEMU's own file @rel, saved before we first touch it."""
    saved = PRISTINE / rel
    if not saved.exists():
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_bytes((SRC / rel).read_bytes())
    return saved.read_text()


def our_files():
    out = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others',
                          '--exclude-standard', '--'] + OVERLAY_DIRS,
                         cwd=TOP, check=True, capture_output=True).stdout
    return sorted(f for f in out.decode().split('\0') if f)


def check_version():
    version = (SRC / 'VERSION').read_text().strip()
    if not version.startswith('7.2.'):
        die('QEMU source is %s, want 7.2.x' % version)


def remove_owned():
    """Delete QEMU's owned files once, remembering their hashes."""
    sums = {}
    if UPSTREAM_SUMS.exists():
        for line in UPSTREAM_SUMS.read_text().splitlines():
            digest, rel = line.split('  ', 1)
            sums[rel] = digest
    for rel in OWNED:
        path = SRC / rel
        if path.exists() and not path.is_symlink():
            sums[rel] = sha256(path)
            path.unlink()
    if len(sums) != len(OWNED):
        die('cannot account for every owned upstream file: %s' %
            sorted(set(OWNED) - set(sums)))
    UPSTREAM_SUMS.write_text(''.join('%s  %s\n' % (sums[r], r)
                                     for r in OWNED))


def link_ours(files):
    for rel in files:
        if Path(rel).name in ('trace-events',):
            continue
        dest = SRC / rel
        target = Path(os.path.relpath(TOP / rel, dest.parent))
        if dest.is_symlink():
            if Path(os.readlink(dest)) == target:
                continue
            dest.unlink()
        elif dest.exists():
            die('%s would replace a QEMU file outside the owned set' % rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.symlink_to(target)


def prune_stale_links():
    """Drop links to files this project no longer has."""
    for dirpath, _, names in os.walk(SRC):
        for name in names:
            path = Path(dirpath) / name
            if path.is_symlink() and not path.exists():
                resolved = Path(os.path.normpath(path.parent /
                                                 os.readlink(path)))
                if TOP in resolved.parents and SRC not in resolved.parents:
                    path.unlink()


def merge_trace_events(files):
    for rel, sections in OWNED_TRACE_SECTIONS.items():
        kept = []
        skipping = False
        for line in pristine(rel).splitlines(keepends=True):
            header = re.match(r'# (\S+\.[ch])$', line.rstrip('\n'))
            if header:
                skipping = header.group(1) in sections
            if not skipping:
                kept.append(line)
        text = ''.join(kept)
        if rel in files:
            text = text.rstrip('\n') + '\n\n' + MARK + (TOP / rel).read_text()
        write_if_changed(SRC / rel, text)


def edit_meson(files):
    owned_names = {Path(r).name for r in OWNED}
    for subdir, rule in MESON_RULES.items():
        rel = subdir + '/meson.build'
        lines = []
        for line in pristine(rel).splitlines(keepends=True):
            # A whole statement adding only an owned file goes; inside a
            # multi-line files() list, the owned entry's line goes.
            names = re.findall(r"'([^']+\.c)'", line)
            if names and all(n in owned_names for n in names):
                if re.match(r"\s*'[^']+',?\s*$", line) or '.add(' in line:
                    continue
            lines.append(line)
        ours = sorted(Path(f).name for f in files
                      if str(Path(f).parent) == subdir and f.endswith('.c'))
        text = ''.join(lines)
        if ours:
            text += '\n' + MARK + rule % ', '.join("'%s'" % n
                                                   for n in ours) + '\n'
        write_if_changed(SRC / rel, text)


def edit_qtests(files):
    rel = 'tests/qtest/meson.build'
    tests = sorted(Path(f).stem for f in files
                   if re.match(r'tests/qtest/xen-[^/]*-test\.c$', f))
    helpers = sorted(Path(f).name for f in files
                     if re.match(r'tests/qtest/xen-[^/]*\.c$', f)
                     and not f.endswith('-test.c'))
    text = pristine(rel)
    anchor = 'qtests_x86_64 = qtests_i386\n'
    if anchor not in text:
        die('%s changed shape: no "%s"' % (rel, anchor.strip()))
    if tests:
        text = text.replace(anchor, MARK + 'qtests_i386 += %r\n\n' % tests +
                            anchor)
        anchor = 'qtest_executables = {}\n'
        # Our qtests talk to xenstore: they need QEMU's Xen dependency.
        extra = ', '.join("'%s': [xen, files(%s)]" %
                          (t, ', '.join("'%s'" % h for h in helpers))
                          for t in tests)
        text = text.replace(anchor, MARK + 'qtests += {%s}\n\n' % extra +
                            anchor)
    write_if_changed(SRC / rel, text)


def main():
    if not (SRC / 'VERSION').exists():
        die('no QEMU source at %s (run scripts/fetch-qemu.sh)' % SRC)
    check_version()
    files = our_files()
    remove_owned()
    prune_stale_links()
    link_ours(files)
    merge_trace_events(files)
    edit_meson(files)
    edit_qtests(files)


if __name__ == '__main__':
    main()
