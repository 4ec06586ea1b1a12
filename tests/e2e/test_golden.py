"""Golden tests: CloudAI-format folders through `benchpilot dry-run`, compared with CloudAI.

Each folder of tests/golden/ holds system.toml, test/*.toml and scenario.toml as CloudAI reads
them, and README.md (one line: what it covers). Then either

  expected_commands.txt  the launcher command of every run ("# <run dir>" then the command,
                         continued with trailing backslashes), derived by hand from CloudAI's
                         slurm_command_gen_strategy.py for a test referenced by test_name;
                         {case} stands for the folder (install_path is {case}/install), and
                         where benchpilot deliberately differs (the HF token comes from the
                         environment) the file shows benchpilot's form
  expected_points.txt    "run <run dir> k=v ..." per run and "pruned <case>/<iter>/<step> k=v ...
                         <rule ids>" per pruned sweep point

or expected_error.txt (lines that must appear in stderr; nothing may be generated). An
install/ folder inside a case is a fake Megatron-Bridge clone (only argument_parser.py, a test
double), so the pinned launcher's flag set is checked. The command is compared flag by flag,
then as text (quoting included). The part before the interpreter (NEMORUN_HOME=...) is covered
by the unit tests.

Secrets: the wrapper never puts `-hf "$HF_TOKEN"` / `-wdk "$WANDB_API_KEY"` on a command line.
Its helper (mbridge-launch.py) appends them to the launcher's argv inside the launcher's own
Python process; the launch line names them as `-hf=HF_TOKEN`. argparse does not care where a
flag stands, so the comparison takes the secret flags out of the expected command and checks
that the helper is told to add exactly those.
"""
import csv
import json
import re
import shlex
import shutil
import unittest

from helpers import (SOURCE_DIR, all_files, check_scripts, results_root, run_bp, scripts_in,
                     summary, tempdir)

GOLDEN = SOURCE_DIR / "tests" / "golden"
HF_TOKEN = "hf_golden_secret_value"
SECRETS = (HF_TOKEN, "wk_golden_secret_value", "hf_golden_toml_token_value")
# The wrapper's interpreter and its launch line (secret flags, then the launcher's argv), without
# the output redirection.
PYTHON_LINE = re.compile(r"^PYTHON=(.*)$")
LAUNCH_LINE = re.compile(r'^"\$PYTHON" "\$HELPER" launch((?: -[\w-]+=\w+)*) -- '
                         r'(\S*setup_experiment\.py.*?)(?:\s+\d?>{1,2}\s*"?\$.*)?$')
# CloudAI's secret flags and the environment variable each one reads.
SECRET_FLAGS = (("-hf", "HF_TOKEN"), ("-wdk", "WANDB_API_KEY"))
HYDRA = re.compile(r"^[\w.]+(=|$)")


def read_expected_commands(path):
    commands, run, lines = {}, None, []
    for raw in path.read_text().splitlines():
        if raw.startswith("# "):
            if run:
                commands[run] = " ".join(lines)
            run, lines = raw[2:].strip(), []
        elif raw.strip():
            lines.append(raw.strip().rstrip("\\").strip())
    if run:
        commands[run] = " ".join(lines)
    return commands


def flag_items(command):
    """[(flag, values...)] in order; Hydra overrides are items of their own."""
    items = []
    for tok in shlex.split(command)[2:]:  # after the interpreter and setup_experiment.py
        starts_flag = tok.startswith("-") and not re.match(r"^-\d", tok)
        if starts_flag or (HYDRA.match(tok) and "=" in tok and items and len(items[-1]) > 1):
            items.append([tok])
        elif items:
            items[-1].append(tok)
        else:
            items.append([tok])
    return [tuple(i) for i in items]


def flag_diff(expected, actual):
    exp, act = flag_items(expected), flag_items(actual)
    out = []
    for i in range(max(len(exp), len(act))):
        e = exp[i] if i < len(exp) else None
        a = act[i] if i < len(act) else None
        if e != a:
            out.append(f"  #{i}: expected {' '.join(e) if e else '(nothing)'}"
                       f" | got {' '.join(a) if a else '(nothing)'}")
    return "\n".join(out)


def without_secret_flags(command):
    """(command without `-hf "$HF_TOKEN"`-style pairs, sorted 'flag=VAR' of those removed)."""
    removed = []
    for flag, var in SECRET_FLAGS:
        pair = f' {flag} "${var}"'
        if pair in command:
            command = command.replace(pair, "", 1)
            removed.append(f"{flag}={var}")
    return command, sorted(removed)


def generated_commands(root, case_dir):
    """{run: (launcher command as CloudAI would write it, less secrets; secret flags added)}"""
    commands = {}
    for wrapper in sorted(root.rglob("mbridge-launcher.sh")):
        text = wrapper.read_text().splitlines()
        pythons = [shlex.split(m.group(1))[0] for m in map(PYTHON_LINE.match, text) if m]
        launches = [m for m in map(LAUNCH_LINE.match, text) if m]
        assert len(pythons) == 1 and len(launches) == 1, f"{wrapper}: expected one launch line"
        secrets = sorted(launches[0].group(1).split())
        command = pythons[0] + " " + launches[0].group(2)
        run = str(wrapper.parent.relative_to(root))
        commands[run] = (command.replace(str(case_dir), "{case}"), secrets)
    return commands


def generated_points(root):
    points = []
    for r in summary(root)["runs"]:
        params = " ".join(f"{k}={json.dumps(v)}" for k, v in sorted(r.get("parameters", {}).items()))
        points.append(f"run {r['run_dir']} {params}".rstrip())
    for pruned in root.rglob("pruned.csv"):
        rows = pruned.read_text().splitlines()
        header = rows[0].split(",")
        for row in rows[1:]:
            cells = next(csv.reader([row]))
            rec = dict(zip(header, cells))
            params = " ".join(f"{k}={rec[k]}" for k in sorted(header[1:-2]))
            run = pruned.parent.relative_to(root) / rec["step"]
            points.append(f"pruned {run} {params} {rec['rule_ids']}")
    return sorted(points)


class GoldenTest(unittest.TestCase):
    def test_there_are_enough_varied_cases(self):
        cases = [d for d in GOLDEN.iterdir() if d.is_dir()]
        self.assertGreaterEqual(len(cases), 15)
        for d in cases:
            readme = (d / "README.md").read_text().strip()
            self.assertTrue(readme and "\n" not in readme, f"{d.name}: README.md is one line")

    def test_golden_cases(self):
        for case in sorted(d for d in GOLDEN.iterdir() if d.is_dir()):
            with self.subTest(case=case.name):
                self.check_case(case)

    def check_case(self, source):
        work = tempdir(self) / source.name
        shutil.copytree(source, work)
        (work / "test").mkdir(exist_ok=True)
        env = {} if (work / "unset_hf_token").exists() else {"HF_TOKEN": HF_TOKEN}
        proc = run_bp("dry-run", "--system-config", "system.toml", "--tests-dir", "test",
                      "--test-scenario", "scenario.toml", cwd=work, env=env)
        if (work / "expected_error.txt").exists():
            self.assertNotEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            for line in (work / "expected_error.txt").read_text().splitlines():
                self.assertIn(line.replace("{case}", str(work)), proc.stderr)
            results = work / "results"
            wrappers = list(results.rglob("mbridge-launcher.sh")) if results.exists() else []
            self.assertEqual(wrappers, [], "nothing may be generated")
            return
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        root = results_root(work / "results")
        expected = read_expected_commands(work / "expected_commands.txt")
        actual = generated_commands(root, work)
        self.assertEqual(sorted(actual), sorted(expected), "run folders with a launcher command")
        for run, cloudai_command in expected.items():
            command, secrets = without_secret_flags(cloudai_command)
            got, got_secrets = actual[run]
            self.assertEqual(got_secrets, secrets, f"{run}: secret flags the helper adds")
            diff = flag_diff(command, got)
            self.assertEqual(diff, "", f"{run}: flags differ from CloudAI's command:\n{diff}")
            self.assertEqual(got, command, f"{run}: same flags, different text")
        want = sorted(l.strip() for l in (work / "expected_points.txt").read_text().splitlines()
                      if l.strip())
        self.assertEqual(generated_points(root), want)
        for f in all_files(work / "results"):
            text = f.read_text(errors="replace")
            for secret in SECRETS:
                self.assertNotIn(secret, text, f"{f} holds a secret")
        check_scripts(self, scripts_in(work / "results"))


if __name__ == "__main__":
    unittest.main()
