#!/usr/bin/env python3
"""Fails, naming file and line, when code outside a plug-in's folder names that plug-in.

A workload is one folder under src/workloads/ plus one line in src/workloads/registry.cc
(README, "Adding a workload"); a scheduler is one folder under src/systems/. Everything else
(the engine, the store, the reports, the CLI, the build, their tests) must reach plug-ins only
through the registry, so a new plug-in touches nothing outside its folder.

What "names" means, for each plug-in folder src/<kind>/<folder>/:
  - its include path:               "workloads/nccl_test/..."
  - its registered name:            NcclTest  (the string its name() returns)
  - its C++ namespaces:             nccl      (bp::nccl, declared in the folder)
  - its accessor and class:         nccl_test_workload, NcclTestWorkload
  - metric names it declares:       busbw-avg (string literals of its metric_names())
matched as whole identifiers (or whole quoted strings for metric names), case-sensitively.

Tests of generic code (foo_test.cc, *_for_tests.h, test_helpers.h, a testkit/ folder) may use a
plug-in as data, the way a user's TOML names it ("MegatronBridge", "step-time" in a string);
they may not include a plug-in's headers or call into its code, so in them string literals and
// comments are not searched, but include paths, namespaces, accessors and classes are.

Scanned: src/ and the top-level CMakeLists.txt. Not scanned: bench/ and fuzz/ (they measure and
fuzz a plug-in's own parsers by design), tools/ (the test doubles), conf/, docs/, tests/.

Usage: check_plugin_names.py [--kinds workloads,systems] [ROOT]
"""

import argparse
import pathlib
import re
import sys

# Files outside plug-in folders that may name plug-ins, each with the reason. Keep it tiny.
ALLOWED = {
    "src/workloads/registry.cc": "the one registry line per workload",
}

# The scheduler kind's registry (when there is one) is allowed like the workloads' registry, and
# so is each registry's own test (it checks every row).
REGISTRIES = {"workloads": "src/workloads/registry.cc", "systems": "src/systems/registry.cc"}
REGISTRY_TESTS = {"src/workloads/registry_test.cc", "src/systems/registry_test.cc"}

# Files that may name the plug-ins of one kind only, each with the reason.
ALLOWED_FOR_KIND = {
    "systems": {
        "CMakeLists.txt": "the ctest label of tests that start a local Slurm cluster",
    },
}

SCANNED_SUFFIXES = {".cc", ".h", ".in", ".cmake", ".txt"}
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def is_test_file(rel):
    name = rel.rsplit("/", 1)[-1]
    return (name.endswith("_test.cc") or name.endswith("_for_tests.h") or
            name == "test_helpers.h" or "/testkit/" in "/" + rel)


def code_of_test_line(line):
    """The line without string literals and without a // comment."""
    code = STRING.sub('""', line)
    return code.split("//", 1)[0]


def camel(folder):
    return "".join(p[:1].upper() + p[1:] for p in folder.split("_"))


def plugin_names(folder_path):
    """Identifiers and strings that name the plug-in in folder_path."""
    folder = folder_path.name
    idents = {folder + "_workload", camel(folder) + "Workload"}
    strings = set()
    if "_" in folder:  # "sleep" or "slurm" alone are ordinary words; "nccl_test" is a name
        idents.add(folder)
    for f in sorted(folder_path.rglob("*")):
        if f.suffix not in {".h", ".cc"}:
            continue
        text = f.read_text(errors="replace")
        for m in re.finditer(r"\bname\(\)\s*const\s*override\s*\{\s*return\s*\"([^\"]+)\"", text):
            idents.add(m.group(1))
        for m in re.finditer(r"\bnamespace\s+bp::([A-Za-z_][A-Za-z0-9_]*)", text):
            idents.add(m.group(1))
        # Metric names the workload declares (metric_names() { return {"a", "b"}; }).
        for m in re.finditer(r"metric_names\(\)\s*(?:const\s*)?(?:override\s*)?\{\s*return\s*\{([^}]*)\}",
                             text):
            strings.update(s for s in STRING.findall(m.group(1)) if s != "default")
        for m in re.finditer(r"constexpr\s+(?:const\s+)?char\s+kMetric\w*\[\]\s*=\s*\"([^\"]+)\"",
                             text):
            strings.add(m.group(1))
    idents.discard("testing")
    return idents, strings


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kinds", default="workloads", help="comma-separated: workloads,systems")
    ap.add_argument("root", nargs="?", default=str(pathlib.Path(__file__).resolve().parent.parent))
    args = ap.parse_args()
    root = pathlib.Path(args.root)

    plugins = []  # (kind, folder path, idents, strings)
    for kind in args.kinds.split(","):
        base = root / "src" / kind
        for d in sorted(p for p in base.iterdir() if p.is_dir()):
            idents, strings = plugin_names(d)
            plugins.append((kind, d, idents, strings))
    if not plugins:
        print("check_plugin_names: no plug-in folders found under " + str(root / "src"))
        return 2

    files = [p for p in (root / "src").rglob("*") if p.is_file() and p.suffix in SCANNED_SUFFIXES]
    files += [root / "CMakeLists.txt"]
    hits = []
    for f in sorted(files):
        rel = f.relative_to(root).as_posix()
        if rel in ALLOWED or rel in REGISTRIES.values() or rel in REGISTRY_TESTS:
            continue
        text = f.read_text(errors="replace")
        test_file = is_test_file(rel)
        for lineno, line in enumerate(text.splitlines(), 1):
            for kind, d, idents, strings in plugins:
                if f.is_relative_to(d) or rel in ALLOWED_FOR_KIND.get(kind, {}):
                    continue
                folder = d.relative_to(root / "src").as_posix()
                named = []
                if folder + "/" in line:
                    named.append(folder + "/")
                code = code_of_test_line(line) if test_file else line
                named += sorted({t for t in IDENT.findall(code) if t in idents})
                if not test_file:
                    named += sorted({'"%s"' % s for s in STRING.findall(line) if s in strings})
                if named:
                    hits.append("%s:%d: names the %s plug-in %s (%s): %s" %
                                (rel, lineno, kind[:-1], d.name, ", ".join(named), line.strip()))
    for h in hits:
        print(h)
    if hits:
        print("\n%d line(s) outside plug-in folders name a plug-in; reach it through its registry "
              "(core/workload.h for workloads) instead, or move the code into the plug-in's "
              "folder." % len(hits))
        return 1
    print("check_plugin_names: %d plug-in(s), %d files outside them name none" %
          (len(plugins), len(files)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
