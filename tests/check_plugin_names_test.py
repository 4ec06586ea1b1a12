#!/usr/bin/env python3
"""The plug-in name check fails, naming file and line, on a tree where generic code names a
plug-in, and passes where only the plug-in's folder, the registry and test data do."""

import pathlib
import subprocess
import sys
import tempfile
import unittest

CHECK = pathlib.Path(__file__).resolve().parent / "check_plugin_names.py"


def tree(root, files):
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    (root / "CMakeLists.txt").write_text("project(x)\n")


PLUGIN = {
    "src/workloads/fancy_bench/workload.h":
        'namespace bp::fancy {\nclass FancyBenchWorkload {\n'
        '  std::string_view name() const override { return "FancyBench"; }\n'
        '  std::vector<std::string> metric_names() const override { return {"default", '
        '"speed-ups"}; }\n};\n}  // namespace bp::fancy\n',
    "src/workloads/registry.cc": "const Workload& fancy_bench_workload();\n",
    "src/core/engine.cc": "// generic\nint x = 1;\n",
    "src/store/store_test.cc": 'r.workload = "FancyBench";\nr.metrics["speed-ups"] = 1;\n',
}


class CheckPluginNames(unittest.TestCase):
    def run_check(self, files, kinds="workloads"):
        with tempfile.TemporaryDirectory() as d:
            tree(pathlib.Path(d), files)
            return subprocess.run([sys.executable, str(CHECK), "--kinds", kinds, d],
                                  capture_output=True, text=True)

    def test_clean_tree_passes(self):
        r = self.run_check(PLUGIN)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_each_kind_of_name_is_found_with_file_and_line(self):
        bad = dict(PLUGIN)
        bad["src/core/engine.cc"] = (
            "// generic\n"
            '#include "workloads/fancy_bench/workload.h"\n'
            'if (w == "FancyBench") {}\n'
            "fancy::helper();\n"
            'auto m = metrics["speed-ups"];\n'
            "auto& w = fancy_bench_workload();\n")
        bad["src/store/store_test.cc"] = "fancy::FancyBenchWorkload w;\n"
        r = self.run_check(bad)
        self.assertEqual(r.returncode, 1, r.stdout)
        for where in ("src/core/engine.cc:2:", "src/core/engine.cc:3:", "src/core/engine.cc:4:",
                      "src/core/engine.cc:5:", "src/core/engine.cc:6:",
                      "src/store/store_test.cc:1:"):
            self.assertIn(where, r.stdout)
        self.assertNotIn("src/core/engine.cc:1:", r.stdout)
        self.assertIn("6 line(s)", r.stdout)

    def test_a_scheduler_is_named_only_by_its_folder_its_registry_and_their_tests(self):
        files = dict(PLUGIN)
        files["src/systems/batchy/batchy.cc"] = (
            'std::string_view name() const override { return "batchy"; }\n')
        files["src/systems/registry.cc"] = "const Scheduler& batchy_scheduler();\n"
        files["src/systems/registry_test.cc"] = 'auto& batchy = *find_scheduler("batchy");\n'
        self.assertEqual(self.run_check(files, "workloads,systems").returncode, 0)
        files["src/engine/engine.cc"] = "// runs a batchy job\n"
        r = self.run_check(files, "workloads,systems")
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("src/engine/engine.cc:1: names the system plug-in batchy", r.stdout)


if __name__ == "__main__":
    unittest.main()
