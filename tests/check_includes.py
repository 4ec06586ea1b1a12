#!/usr/bin/env python3
"""Includes point down: the layering of ARCHITECTURE.md, checked on every #include in src/.

A file in src/<folder>/ may include its own folder and folders of a lower layer, never one of
its own layer or above. Plug-ins (workloads/<name>/, systems/<name>/) are named only from
inside their own folder and from their registry file. Prints every breach as
"src/<file>:<line>: ..." and exits 1 when there is one.

Usage: check_includes.py [SRC_DIR]   (default: the src/ beside this script's folder)
       check_includes.py --self-test
"""
import os
import re
import sys

# Lowest first; folders on one line share a layer and may not include each other.
# Keep in step with ARCHITECTURE.md.
LAYERS = [
    ["util"],
    ["config"],
    ["core"],
    ["loaders"],
    ["sweep"],
    ["workloads", "systems"],
    ["campaign"],
    ["store"],
    ["report"],
    ["engine"],
    ["cli"],
]

# Plug-in folders: src/<kind>/<name>/ is named only from inside itself and from the registry.
PLUGIN_KINDS = {"workloads": "workloads/registry.cc", "systems": "systems/registry.cc"}

# Known breaches being removed elsewhere (file -> included headers). ARCHITECTURE.md lists them;
# an entry that no longer matches anything is reported too, so the list only shrinks.
EXCEPTIONS = {
}

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def rank_of():
    ranks = {}
    for rank, folders in enumerate(LAYERS):
        for folder in folders:
            ranks[folder] = rank
    return ranks


def plugin_of(path):
    """'workloads/nccl_test' for workloads/nccl_test/x.h; None outside plug-in folders."""
    parts = path.split("/")
    if len(parts) >= 3 and parts[0] in PLUGIN_KINDS:
        return "/".join(parts[:2])
    return None


def check(src):
    ranks = rank_of()
    breaches = []
    used_exceptions = set()
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith((".h", ".cc")):
                continue
            path = os.path.relpath(os.path.join(root, name), src).replace(os.sep, "/")
            folder = path.split("/")[0]
            if folder not in ranks:
                breaches.append(f"src/{path}:1: folder '{folder}' has no layer in "
                                "tests/check_includes.py (and ARCHITECTURE.md)")
                continue
            with open(os.path.join(root, name), encoding="utf-8", errors="replace") as f:
                for line_no, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = m.group(1)
                    target_folder = target.split("/")[0]
                    if "/" not in target or target_folder not in ranks:
                        continue  # a sibling header or a generated/system one
                    if target in EXCEPTIONS.get(path, ()):
                        used_exceptions.add((path, target))
                        continue
                    where = f"src/{path}:{line_no}"
                    if target_folder != folder and ranks[target_folder] >= ranks[folder]:
                        relation = "the same layer as" if ranks[target_folder] == ranks[
                            folder] else "a layer above"
                        breaches.append(f"{where}: {folder}/ includes \"{target}\", "
                                        f"{relation} {folder}/ (see ARCHITECTURE.md)")
                        continue
                    plugin = plugin_of(target)
                    registry = PLUGIN_KINDS.get(target_folder, "")
                    # The registry and its own test (which checks every row) name the plug-ins.
                    if plugin and plugin_of(path) != plugin and \
                            path not in (registry, registry.replace(".cc", "_test.cc")):
                        breaches.append(f"{where}: includes \"{target}\" of the plug-in "
                                        f"{plugin}/; only that folder and "
                                        f"{PLUGIN_KINDS[target_folder]} name it (and its _test.cc)")
    for path, targets in sorted(EXCEPTIONS.items()):
        for target in sorted(targets):
            if (path, target) not in used_exceptions:
                breaches.append(f"src/{path}:1: no longer includes \"{target}\": remove it from "
                                "EXCEPTIONS in tests/check_includes.py and ARCHITECTURE.md")
    return breaches


def self_test():
    """The check catches what it should: an upward include, a same-layer one, a plug-in named
    from outside, an unknown folder; and passes a clean tree."""
    import tempfile
    cases = {
        "util/a.h": '#include "config/value.h"\n',  # upward
        "workloads/x/w.cc": '#include "systems/slurm/s.h"\n',  # same layer
        "report/r.cc": '#include "workloads/x/w.h"\n',  # plug-in from outside
        "mystery/m.cc": "",  # no layer
        "core/ok.cc": '#include "config/value.h"\n#include "core/ok.h"\n#include <vector>\n',
        "workloads/registry.cc": '#include "workloads/x/w.h"\n',
    }
    expected = ["src/mystery/m.cc:1:", "src/report/r.cc:1: includes \"workloads/x/w.h\"",
                "src/util/a.h:1: util/ includes \"config/value.h\", a layer above",
                "src/workloads/x/w.cc:1: workloads/ includes \"systems/slurm/s.h\", the same layer"]
    with tempfile.TemporaryDirectory() as tmp:
        for path, text in cases.items():
            os.makedirs(os.path.join(tmp, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(tmp, path), "w", encoding="utf-8") as f:
                f.write(text)
        saved = dict(EXCEPTIONS)
        EXCEPTIONS.clear()
        try:
            got = check(tmp)
        finally:
            EXCEPTIONS.update(saved)
    ok = len(got) == len(expected) and all(
        any(g.startswith(e) for g in got) for e in expected)
    print("\n".join(got))
    print("check_includes self-test: " + ("ok" if ok else "FAILED, expected " + repr(expected)))
    return 0 if ok else 1


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "src")
    if not os.path.isdir(src):
        print(f"check_includes: {src} is not a directory", file=sys.stderr)
        return 2
    breaches = check(src)
    for b in breaches:
        print(b)
    if breaches:
        print(f"check_includes: {len(breaches)} include(s) break the layering", file=sys.stderr)
        return 1
    print("check_includes: every include points down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
