"""The results store's pages: `compare --html` and `history --html` opened in headless Chromium
(screenshot, no console errors, the DOM holds the rows, the charts and the regression mark).
Built from CloudAI-layout results folders made by hand; no cluster needed."""
import unittest

from helpers import run_bp, tempdir
from test_campaign import cloudai_folder
from test_reports import BrowserChecks, Dom, needs_chromium


class CellClasses(Dom):
    """Dom that also keeps each body cell's CSS class: {table id: [[(class, text), ...], ...]}."""

    def __init__(self, text):
        self.classed = {}
        self._td_class = None
        super().__init__(text)

    def handle_starttag(self, tag, attrs):
        if tag == "td":
            self._td_class = dict(attrs).get("class") or ""
        elif tag == "tr" and self._in_body:
            self.classed.setdefault(self._table, []).append([])
        super().handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None and self._table in self.classed:
            self.classed[self._table][-1].append((self._td_class, self._cell.strip()))
        super().handle_endtag(tag)


def mean_step(step_time):
    """The mean step time of a cloudai_folder run as the pages print it: its jitter sums to
    +0.001 over 10 steps."""
    return f"{step_time * 1.0001:.3f}"


def with_tp(folder, tp):
    """Changes the tensor-parallel size of the run in a cloudai_folder."""
    toml = folder / "llama8b" / "0" / "test-run.toml"
    toml.write_text(toml.read_text().replace("tp = 2\n", f"tp = {tp}\n"))
    return folder


@needs_chromium
class StorePagesInChromium(BrowserChecks, unittest.TestCase):
    def setUp(self):
        self.tmp = tempdir(self)
        self.cloudai = self.tmp / "cloudai"

    def test_compare_page_marks_the_regression(self):
        old = cloudai_folder(self.cloudai / "old_2026-11-20_10-00-00", 9.0, "nemo:25.11",
                             "2026-11-20T10:20:00")
        new = cloudai_folder(self.cloudai / "new_2026-11-21_10-00-00", 9.45, "nemo:26.02",
                             "2026-11-21T10:20:00")
        page = self.tmp / "out" / "compare.html"
        page.parent.mkdir()
        proc = run_bp("compare", old, new, "--html", page)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("slower", proc.stdout, "the table still goes to stdout")
        dom = self.render(page, tempdir(self))
        rows = dom.rows["compare-table"]
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual(rows[0][0], "llama3_8b")
        self.assertEqual(rows[0][3:5], [mean_step(9.0), mean_step(9.45)])
        self.assertIn("+5.0%", rows[0][5])
        self.assertEqual(rows[0][8], "REGRESSION (slower)")
        self.assertIn("compare-step-time-chart", dom.charts)
        cells = CellClasses(page.read_text()).classed["compare-table"][0]
        self.assertEqual(cells[8], ("regression", "REGRESSION (slower)"))

        same = cloudai_folder(self.cloudai / "again_2026-11-22_10-00-00", 9.0, "nemo:26.02",
                              "2026-11-22T10:20:00")
        quiet = run_bp("compare", old, same, "--html", page)
        self.assertEqual(quiet.returncode, 0, quiet.stderr)
        text = page.read_text()
        self.assertNotIn("REGRESSION", text)
        self.assertNotIn('class="regression"', text)
        self.assertEqual(Dom(text).rows["compare-table"][0][8], "no change")

    def test_history_page_charts_each_configuration_over_time(self):
        for i, (step, tp) in enumerate([(9.0, 2), (9.45, 2), (9.1, 2), (6.0, 4), (6.1, 4)]):
            with_tp(cloudai_folder(self.cloudai / f"c{i}_2026-11-2{i}_10-00-00", step,
                                   "nemo:26.02", f"2026-11-2{i}T10:20:00"), tp)
        store = self.tmp / "bp.db"
        idx = run_bp("index", "--store", store, "--system", "eos", self.cloudai)
        self.assertEqual(idx.returncode, 0, idx.stderr)
        page = self.tmp / "history.html"
        proc = run_bp("history", "--store", store, "--model", "llama3_8b", "--html", page)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("5 run(s)", proc.stdout)
        dom = self.render(page, tempdir(self))
        rows = dom.rows["history-table"]
        self.assertEqual([r[4] for r in rows], ["tp=4", "tp=4", "tp=2", "tp=2", "tp=2"],
                         "newest first, labelled by the parameter that varies")
        self.assertEqual([r[8] for r in rows], [mean_step(s) for s in (6.1, 6.0, 9.1, 9.45, 9.0)])
        chart = dom.charts["history-step-time"]
        self.assertEqual(chart["series"], ["tp=2", "tp=4"])
        self.assertIn("model=llama3_8b", page.read_text())

        # An empty selection still writes a page that says so.
        empty = run_bp("history", "--store", store, "--model", "nope", "--html", page)
        self.assertEqual(empty.returncode, 0, empty.stderr)
        self.assertIn("no passing run with a compared metric", page.read_text())
        self.assertEqual(Dom(page.read_text()).rows.get("history-table"), None)

    def test_unwritable_page_is_an_error(self):
        old = cloudai_folder(self.cloudai / "old_2026-11-20_10-00-00", 9.0, "nemo:25.11",
                             "2026-11-20T10:20:00")
        page = self.tmp / "missing" / "compare.html"
        proc = run_bp("compare", old, old, "--html", page)
        self.assertEqual(proc.returncode, 74)  # util/error.h kExitOutputFailed
        self.assertIn(f"cannot write {page}", proc.stderr)


if __name__ == "__main__":
    unittest.main()
