"""The scripts benchpilot ships (src/, scripts/) pass bash -n and `shellcheck -S warning`, or
py_compile. The scripts dry-runs generate are checked the same way by e2e_golden (every golden
case) and e2e_hostile (every corpus case whose dry-run succeeds)."""
import pathlib
import tempfile
import unittest

from helpers import SOURCE_DIR, check_scripts, scripts_in


class ShippedScripts(unittest.TestCase):
    def test_shipped_scripts_pass_the_checkers(self):
        scripts = scripts_in(SOURCE_DIR / "src") + scripts_in(SOURCE_DIR / "scripts")
        names = {p.name for p in scripts}
        for compiled_in in ("gate_wrapper.sh", "launcher_wrapper.sh", "launcher_helper.py"):
            self.assertIn(compiled_in, names)
        self.assertIn("build.sh", names)
        check_scripts(self, scripts)

    def test_a_broken_script_is_caught(self):
        with tempfile.TemporaryDirectory() as d:
            bad = pathlib.Path(d) / "bad.sh"
            bad.write_text("#!/bin/bash\nrm -rf $DIR/\n")  # SC2115/SC2086 family: a warning
            with self.assertRaises(AssertionError):
                check_scripts(self, [bad])
            broken = pathlib.Path(d) / "broken.py"
            broken.write_text("def f(:\n")
            with self.assertRaises(AssertionError):
                check_scripts(self, [broken])


if __name__ == "__main__":
    unittest.main()
