"""Several processes logging to one store at once: nothing lost, nothing duplicated."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import func, select

from mlsteward import Project
from mlsteward.store.database import open_store
from mlsteward.store.schema import metrics, params, runs

WORKERS = 4
STEPS = 1000  # two keys: 2,000 points per worker
PARAMS = 20

WORKER = textwrap.dedent(
    f"""
    import sys
    from mlsteward.tracking.run import start_run

    index = int(sys.argv[1])
    run = start_run(f"worker-{{index}}")
    print(run.id, flush=True)
    sys.stdin.readline()  # start together
    for step in range({STEPS}):
        run.log_metric("loss", 1.0 / (step + 1))
        run.log_metric("acc", index + step / {STEPS})
        if step % {STEPS // PARAMS} == 0:  # params interleaved with metric flushes
            run.log_param(f"p{{step // {STEPS // PARAMS}}}", index)
    run.end()
    """
)


def test_processes_log_to_one_store_at_once(project_dir: Path, tmp_path: Path) -> None:
    store = open_store(Project.open())
    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    with ExitStack() as stack:
        procs = [
            stack.enter_context(
                subprocess.Popen(
                    [sys.executable, str(script), str(i)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
            for i in range(WORKERS)
        ]
        ids = []
        for proc in procs:
            assert proc.stdout is not None
            ids.append(proc.stdout.readline().strip())
        for proc in procs:  # all four have started their runs: let them go
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = [proc.communicate(timeout=300) for proc in procs]
        codes = [proc.returncode for proc in procs]
    assert codes == [0] * WORKERS, [err for _, err in results]

    with store.read() as conn:
        assert conn.execute(select(func.count()).select_from(metrics)).scalar() == 8_000
        assert conn.execute(select(func.count()).select_from(params)).scalar() == 80
        per_key = conn.execute(
            select(
                metrics.c.run_id,
                metrics.c.key,
                func.count(),
                func.count(metrics.c.step.distinct()),
                func.max(metrics.c.step),
            ).group_by(metrics.c.run_id, metrics.c.key)
        ).all()
        assert sorted(per_key) == sorted(
            (run_id, key, STEPS, STEPS, STEPS - 1) for run_id in ids for key in ("acc", "loss")
        )
        statuses = conn.execute(select(runs.c.id, runs.c.status)).all()
        assert sorted(statuses) == sorted((run_id, "finished") for run_id in ids)
        for index, run_id in enumerate(ids):
            values = conn.execute(
                select(params.c.key, params.c.value).where(params.c.run_id == run_id)
            ).all()
            assert dict(values) == {f"p{i}": str(index) for i in range(PARAMS)}
            accs = conn.execute(
                select(metrics.c.value).where(metrics.c.run_id == run_id, metrics.c.key == "acc")
            ).scalars()
            assert all(index <= v < index + 1 for v in accs)  # no point in the wrong run
