#!/usr/bin/env python3
"""Overlay the project's sources onto one of Debian's QEMU trees.

    overlay.py 7.2     build/qemu-7.2/qemu-src (Debian 12's QEMU 7.2)
    overlay.py 10.0    build/qemu-10.0/qemu-src (Debian 13's QEMU 10.0)

Removes QEMU's own implementation of the files this project owns, links ours
in their place (relative symlinks, so edits in the checkout rebuild at once),
together with the base's compat layer (compat/qemu-<base>/, linked as if it
sat at the top of our tree), and makes the few edits QEMU's build files
need: the owned entries of meson and trace-events files are replaced by
ours.  Every edit starts from a pristine copy saved on the first run, and a
file is only rewritten when its content changes, so a second run does no
work and ninja sees no change.

Fails if the tree is not the base's QEMU or if one of our files would
replace a QEMU file outside the owned set.
"""

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent

# QEMU's implementation of what this project owns, the same paths in both
# bases (reference notes §10, §11).
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
}


class Base:
    """What differs between the two QEMU trees we build into."""

    def __init__(self, version, meson_rules):
        self.version = version
        self.dir = TOP / 'build' / ('qemu-' + version)
        self.src = self.dir / 'qemu-src'
        self.build = self.dir / 'qemu-build'
        self.pristine = self.dir / 'qemu-pristine'
        self.upstream_sums = self.dir / 'upstream-owned.sha256'
        self.compat = 'compat/qemu-' + version
        # How each directory's meson.build adds our C sources.
        self.meson_rules = meson_rules


BASES = {
    '7.2': Base('7.2', {
        'hw/xen': "softmmu_ss.add(when: ['CONFIG_XEN', xen], "
                  "if_true: files(%s))",
        'hw/block': "softmmu_ss.add(when: 'CONFIG_XEN', if_true: files(%s))",
        'hw/block/dataplane': "specific_ss.add(when: 'CONFIG_XEN', "
                              "if_true: files(%s))",
    }),
    '10.0': Base('10.0', {
        'hw/xen': "system_ss.add(when: ['CONFIG_XEN_BUS'], "
                  "if_true: files(%s))",
        'hw/block': "system_ss.add(when: 'CONFIG_XEN_BUS', "
                    "if_true: files(%s))",
        'hw/block/dataplane': "specific_ss.add(when: 'CONFIG_XEN_BUS', "
                              "if_true: files(%s))",
    }),
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


def pristine(base, rel):
    """Content of QEMU's own file @rel, saved before we first touch it."""
    saved = base.pristine / rel
    if not saved.exists():
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_bytes((base.src / rel).read_bytes())
    return saved.read_text()


def our_files(base):
    """Our files for @base: {path in QEMU's tree: path in our checkout}."""
    out = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others',
                          '--exclude-standard', '--'] + OVERLAY_DIRS +
                         [base.compat],
                         cwd=TOP, check=True, capture_output=True).stdout
    files = {}
    for f in sorted(f for f in out.decode().split('\0') if f):
        rel = f[len(base.compat) + 1:] if f.startswith(base.compat + '/') \
            else f
        if rel in files:
            die('%s is both ours and the compat layer\'s' % rel)
        files[rel] = f
    return files


def check_version(base):
    version = (base.src / 'VERSION').read_text().strip()
    if not version.startswith(base.version + '.'):
        die('QEMU source is %s, want %s.x' % (version, base.version))


def remove_owned(base):
    """Delete QEMU's owned files once, remembering their hashes."""
    sums = {}
    if base.upstream_sums.exists():
        for line in base.upstream_sums.read_text().splitlines():
            digest, rel = line.split('  ', 1)
            sums[rel] = digest
    for rel in OWNED:
        path = base.src / rel
        if path.exists() and not path.is_symlink():
            sums[rel] = sha256(path)
            path.unlink()
    if len(sums) != len(OWNED):
        die('cannot account for every owned upstream file: %s' %
            sorted(set(OWNED) - set(sums)))
    base.upstream_sums.write_text(''.join('%s  %s\n' % (sums[r], r)
                                          for r in OWNED))


def link_ours(base, files):
    for rel, ours in files.items():
        if Path(rel).name in ('trace-events',):
            continue
        dest = base.src / rel
        target = Path(os.path.relpath(TOP / ours, dest.parent))
        if dest.is_symlink():
            if Path(os.readlink(dest)) == target:
                continue
            dest.unlink()
        elif dest.exists():
            die('%s would replace a QEMU file outside the owned set' % rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.symlink_to(target)


def prune_stale_links(base, files):
    """Drop links to files this project no longer has for this base."""
    wanted = {base.src / rel for rel in files}
    for dirpath, _, names in os.walk(base.src):
        for name in names:
            path = Path(dirpath) / name
            if not path.is_symlink() or path in wanted:
                continue
            resolved = Path(os.path.normpath(path.parent /
                                             os.readlink(path)))
            if TOP in resolved.parents and \
                    TOP / 'build' not in resolved.parents:
                path.unlink()


def merge_trace_events(base, files):
    for rel, sections in OWNED_TRACE_SECTIONS.items():
        kept = []
        skipping = False
        for line in pristine(base, rel).splitlines(keepends=True):
            header = re.match(r'# (\S+\.[ch])$', line.rstrip('\n'))
            if header:
                skipping = header.group(1) in sections
            if not skipping:
                kept.append(line)
        text = ''.join(kept)
        if rel in files:
            text = text.rstrip('\n') + '\n\n' + MARK + \
                (TOP / files[rel]).read_text()
        write_if_changed(base.src / rel, text)


def edit_meson(base, files):
    owned_names = {Path(r).name for r in OWNED}
    for subdir, rule in base.meson_rules.items():
        rel = subdir + '/meson.build'
        lines = []
        for line in pristine(base, rel).splitlines(keepends=True):
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
        write_if_changed(base.src / rel, text)


def edit_qtests(base, files):
    rel = 'tests/qtest/meson.build'
    tests = sorted(Path(f).stem for f in files
                   if re.match(r'tests/qtest/xen-[^/]*-test\.c$', f))
    helpers = sorted(Path(f).name for f in files
                     if re.match(r'tests/qtest/xen-[^/]*\.c$', f)
                     and not f.endswith('-test.c'))
    text = pristine(base, rel)
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
    write_if_changed(base.src / rel, text)


def get_base(argv):
    if len(argv) != 2 or argv[1] not in BASES:
        sys.exit('usage: %s %s' % (argv[0], '|'.join(BASES)))
    return BASES[argv[1]]


def main():
    base = get_base(sys.argv)
    if not (base.src / 'VERSION').exists():
        die('no QEMU source at %s (run scripts/fetch-qemu.sh %s)' %
            (base.src, base.version))
    check_version(base)
    files = our_files(base)
    remove_owned(base)
    prune_stale_links(base, files)
    link_ours(base, files)
    merge_trace_events(base, files)
    edit_meson(base, files)
    edit_qtests(base, files)


if __name__ == '__main__':
    main()
