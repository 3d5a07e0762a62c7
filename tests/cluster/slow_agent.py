"""A prove agent process whose handler stalls before proving (fault injection for the
'agent killed mid-task' test): it claims a task, reports that it holds it, then hangs
until it is killed. Usage: python slow_agent.py DATABASE_URL STORAGE_DIR MARKER_FILE"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from proofmarket.cluster.agent import Agent, AgentSettings
from proofmarket.cluster.config import resolve_config


def main() -> None:
    database_url, storage_dir, marker = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    config = resolve_config(database_url=database_url, storage_dir=storage_dir, dev_mode=True)

    def stall(ctx):
        marker.write_text(f"{ctx.job_id} {ctx.task_id}")
        while True:
            time.sleep(1)

    agent = Agent(
        config,
        AgentSettings(worker_type="prove", poll_time=0.5, task_heartbeat_secs=0.5),
        handler=stall,
    )
    agent.run()


if __name__ == "__main__":
    main()
