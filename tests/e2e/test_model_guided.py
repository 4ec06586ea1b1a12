"""The model-guided sweep agent on the real local Slurm cluster with the Megatron-Bridge launcher
EMULATOR (a test double whose step times come from its own synthetic model, which benchpilot's
estimator does not use): with a quarter of the grid's budget it finds the grid's best point."""
import ast
import unittest

from helpers import read_csv, run_bp, tempdir
from slurm_env import SlurmWorkspace, needs_slurm

# 27 points on 8 H100s (Llama3 8B, gb 128): tp x pp x mb, 24 of them valid. The emulator runs
# out of memory where its own memory model says so, as a real GPU would.
GRID = "  tp = [1, 2, 4]\n  pp = [1, 2, 4]\n  cp = 1\n  vp = 1\n  ep = 1\n  mb = [1, 2, 4]\n"
ENFORCE_MEMORY = '  MBRIDGE_EMULATOR_ENFORCE_MEMORY = "1"\n'


def sweep_rows(ws, name, agent_lines):
    """Runs the grid with the given agent settings; returns (trajectory rows, case folder)."""
    body = ws.mb_case(name, extra=agent_lines, cmd_args=GRID, env_vars=ENFORCE_MEMORY)
    proc = ws.run(ws.scenario(name, body), timeout=900)
    case = ws.results(name) / name / "0"
    traj = case / "trajectory.csv"
    if not traj.is_file():
        raise AssertionError(f"{name}: no trajectory.csv\n{proc.stdout}\n{proc.stderr}")
    return read_csv(traj), case


def step_time(row):
    """The measured step time of a trajectory row; None for a failed run."""
    value = ast.literal_eval(row["observation"])[0]
    return value if float(row["reward"]) > 0 else None


@needs_slurm
class ModelGuidedOnSlurm(unittest.TestCase):
    def test_finds_the_grids_best_point_within_a_quarter_of_its_points(self):
        ws = SlurmWorkspace(tempdir(self))
        # The grid runs every valid point (E1 only warns), so its best point is the true best.
        grid, _ = sweep_rows(ws, "grid", 'agent_metrics = ["step-time"]\n'
                                         '  [Tests.agent_config]\n  max_in_flight = 8\n'
                                         '  [Tests.estimate]\n  oom = "warn"\n')
        measured = {int(r["step"]): step_time(r) for r in grid}
        ran = {s: t for s, t in measured.items() if t is not None}
        self.assertGreaterEqual(len(measured), 20, grid)
        self.assertGreater(len(measured) - len(ran), 0, "some points should run out of memory")
        best = min(ran, key=ran.get)

        budget = len(measured) // 4
        guided, case = sweep_rows(ws, "guided",
                                  f'agent = "model_guided"\nagent_steps = {budget}\n'
                                  'agent_metrics = ["step-time"]\n'
                                  '  [Tests.agent_config]\n  max_in_flight = 1\n')
        order = [int(r["step"]) for r in guided]
        self.assertLessEqual(len(order), budget)  # agent_steps
        self.assertIn(best, order, f"grid best {best} ({ran[best]} s) not among {order}")
        # The best-point TOML is the grid's best point.
        best_toml = (case / "guided.toml").read_text()
        grid_params = ast.literal_eval([r for r in grid if int(r["step"]) == best][0]["action"])
        for key in ("tp", "pp", "mb"):
            self.assertIn(f"{key} = {grid_params[key]}\n", best_toml)


class ListAgents(unittest.TestCase):
    def test_lists_model_guided_with_a_description(self):
        out = run_bp("list", "agents", check=True).stdout
        line = [l for l in out.splitlines() if l.startswith("model_guided")]
        self.assertEqual(len(line), 1, out)
        self.assertIn("predicted step time", line[0])


if __name__ == "__main__":
    unittest.main()
