"""Output paths the user names (--junit, --html, --store) and the files of a results folder:
links to /dev/null and /dev/full are written through (never replaced by a rename), a failed
write exits 74 naming the path and the cause while the runs stay recorded, and a journal.bpj
that is not a regular file stops a resume at once. No root and no cluster needed: the devices
are reached through links in a temp dir, and the runs use the standalone scheduler."""
import hashlib
import os
import sqlite3
import stat
import subprocess
import threading
import unittest

from helpers import BINARY, CONF, results_root, run_bp, summary, tempdir

EXIT_OUTPUT_FAILED = 74


def assert_devices_intact(test):
    for dev in ("/dev/null", "/dev/full"):
        test.assertTrue(stat.S_ISCHR(os.lstat(dev).st_mode), f"{dev} is no longer a device")


class UserOutputs(unittest.TestCase):
    def setUp(self):
        self.d = tempdir(self)
        (self.d / "system.toml").write_text(
            f'name = "s"\nscheduler = "standalone"\ninstall_path = "{self.d}/install"\n'
            f'output_path = "{self.d}/results"\n')
        (self.d / "scenario.toml").write_text(
            'name = "local"\n[[Tests]]\nid = "nap"\ntest_name = "sleep"\n'
            '  [Tests.cmd_args]\n  seconds = 0\n')

    def tearDown(self):
        assert_devices_intact(self)

    def bp(self, command, *extra):
        return run_bp(command, "--system-config", self.d / "system.toml", "--tests-dir",
                      CONF / "test", "--test-scenario", self.d / "scenario.toml", *extra)

    def link(self, name, target):
        path = self.d / name
        os.symlink(target, path)
        return path

    def test_junit_through_a_link_to_dev_null_is_written_through(self):
        out = self.link("out.xml", "/dev/null")
        proc = self.bp("dry-run", "--junit", out)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertTrue(out.is_symlink())
        self.assertEqual(os.readlink(out), "/dev/null")

    def test_junit_to_dev_full_exits_74_and_keeps_the_journal_and_summary(self):
        out = self.link("out.xml", "/dev/full")
        proc = self.bp("run", "--junit", out)
        self.assertEqual(proc.returncode, EXIT_OUTPUT_FAILED, proc.stdout + proc.stderr)
        self.assertIn(f"cannot write {out}: No space left on device", proc.stderr)
        self.assertTrue(out.is_symlink())
        root = results_root(self.d / "results")
        self.assertEqual(summary(root)["passed"], 1)
        journal = (root / "journal.bpj").read_text()
        self.assertIn('"done"', journal)
        self.assertTrue((root / "report.html").is_file())

    def test_junit_to_dev_stdout_sent_to_a_file_lands_after_the_table(self):
        with open(self.d / "out.txt", "w") as out:
            proc = subprocess.run(
                [os.path.abspath(BINARY), "--log-file", "", "dry-run", "--system-config",
                 self.d / "system.toml", "--tests-dir", CONF / "test", "--test-scenario",
                 self.d / "scenario.toml", "--junit", "/dev/stdout"],
                stdout=out, stderr=subprocess.PIPE, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        text = (self.d / "out.txt").read_text()
        self.assertIn("<testsuites", text)
        self.assertIn("Results: ", text)  # printed after the XML, still in the file

    def test_junit_to_a_fifo_reaches_its_reader(self):
        fifo = self.d / "pipe"
        os.mkfifo(fifo)
        got = []
        reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
        reader.start()
        proc = self.bp("dry-run", "--junit", fifo)
        reader.join(timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("<testsuites", got[0])
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode))

    def test_junit_to_a_directory_is_refused_after_the_run(self):
        (self.d / "xmldir").mkdir()
        link = self.link("dirlink.xml", self.d / "xmldir")
        for path in (self.d / "xmldir", link):
            proc = self.bp("dry-run", "--junit", path)
            self.assertEqual(proc.returncode, EXIT_OUTPUT_FAILED, proc.stdout + proc.stderr)
            self.assertIn(f"cannot write {path}: it is a directory", proc.stderr)
        self.assertEqual(list((self.d / "xmldir").iterdir()), [])

    def test_history_and_compare_html_to_dev_full_exit_74(self):
        self.assertEqual(self.bp("run").returncode, 0)
        root = results_root(self.d / "results")
        page = self.link("page.html", "/dev/full")
        store = self.d / "results" / "benchpilot.db"
        for args in (("history", "--store", store), ("compare", root, root, "--store", store)):
            proc = run_bp(*args, "--html", page)
            self.assertEqual(proc.returncode, EXIT_OUTPUT_FAILED, proc.stdout + proc.stderr)
            self.assertIn("No space left on device", proc.stderr)
            self.assertTrue(page.is_symlink())
        null_page = self.link("null.html", "/dev/null")
        self.assertEqual(run_bp("history", "--store", store, "--html", null_page).returncode, 0)

    def test_run_records_in_the_store_named_by_benchpilot_store(self):
        # One rule for every command: --store, else $BENCHPILOT_STORE, else the default; so the
        # store `run` writes is the one history and estimate read.
        named = self.d / "named.db"
        env = {"BENCHPILOT_STORE": str(named)}
        proc = run_bp("run", "--system-config", self.d / "system.toml", "--tests-dir",
                      CONF / "test", "--test-scenario", self.d / "scenario.toml", env=env)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertTrue(named.exists())
        self.assertFalse((self.d / "results" / "benchpilot.db").exists())
        history = run_bp("history", "--json", env=env)
        self.assertEqual(history.returncode, 0, history.stdout + history.stderr)
        self.assertIn('"nap"', history.stdout)

    def test_a_foreign_sqlite_store_is_refused_untouched(self):
        foreign = self.d / "other.db"
        with sqlite3.connect(foreign) as db:
            db.execute("CREATE TABLE runs(x TEXT)")
        before = hashlib.sha256(foreign.read_bytes()).hexdigest()
        proc = run_bp("history", "--store", foreign)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("another program", proc.stderr)
        proc = self.bp("run", "--store", foreign)  # the run goes on; the store is an index
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("another program", proc.stderr)
        self.assertEqual(hashlib.sha256(foreign.read_bytes()).hexdigest(), before)
        self.assertFalse((self.d / "other.db-wal").exists())


class LogFile(unittest.TestCase):
    def tearDown(self):
        assert_devices_intact(self)

    def bp_with_log(self, log_file, cwd):
        return subprocess.run([os.path.abspath(BINARY), "--log-file", str(log_file), "list", "workloads"],
                              capture_output=True, text=True, cwd=cwd, timeout=60)

    def test_a_log_file_that_cannot_be_written_stops_before_anything_runs(self):
        d = tempdir(self)
        (d / "logdir").mkdir()
        proc = self.bp_with_log(d / "logdir", d)
        self.assertEqual(proc.returncode, EXIT_OUTPUT_FAILED, proc.stdout + proc.stderr)
        self.assertIn(f"cannot write {d / 'logdir'}: it is a directory", proc.stderr)
        self.assertEqual(proc.stdout, "")
        log = d / "debug.log"
        os.symlink("/dev/null", log)
        proc = self.bp_with_log(log, d)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertTrue(log.is_symlink())


class Journal(unittest.TestCase):
    def tearDown(self):
        assert_devices_intact(self)

    def test_resume_refuses_a_journal_that_is_not_a_regular_file(self):
        d = tempdir(self)
        os.symlink("/dev/zero", d / "journal.bpj")
        proc = run_bp("resume", d, timeout=30)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn(f"the journal {d / 'journal.bpj'}", proc.stderr)
        self.assertIn("symbolic link", proc.stderr)
        os.unlink(d / "journal.bpj")
        os.mkfifo(d / "journal.bpj")
        proc = run_bp("resume", d, timeout=30)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("FIFO", proc.stderr)


if __name__ == "__main__":
    unittest.main()
