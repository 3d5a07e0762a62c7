"""``proofmarket cluster ...``: run and operate the proving cluster (Bento's agent, REST
API and bento_cli in one command group)."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from proofmarket.cli.execution import CycleLimitOpt, cycle_limit_value
from proofmarket.cluster.config import (
    DEFAULT_DATA_DIR,
    WORKER_TYPES,
    ClusterConfig,
    TaskLimits,
    resolve_config,
)

console = Console()
cluster_app = typer.Typer(help="Proving cluster: agents, REST API, operator commands, bench.")

DataDirOpt = typer.Option(DEFAULT_DATA_DIR, "--data-dir", help="Embedded TaskDB and stores.")
DatabaseOpt = typer.Option(
    None, "--database-url", help="sqlite:///PATH or postgresql://... [env DATABASE_URL]"
)
RedisOpt = typer.Option(None, "--redis-url", help="Segment store in Redis [env REDIS_URL]")
S3Opt = typer.Option(None, "--s3-url", help="S3 endpoint for the object store [env S3_URL]")
StorageDirOpt = typer.Option(None, "--storage-dir", help="Filesystem stores (default: data dir)")
BucketOpt = typer.Option(None, "--s3-bucket", help="S3 bucket [env S3_BUCKET]")
RedisTtlOpt = typer.Option(None, "--redis-ttl", help="Segment key TTL in seconds (28800)")
CreateBucketOpt = typer.Option(
    True, "--s3-create-bucket/--no-s3-create-bucket", help="Create the S3 bucket if missing"
)
DaemonJsonOpt = typer.Option(
    False, "--json", help="JSON lines: start/stop events on stdout, log records on stderr"
)
SegmentPo2Opt = typer.Option(None, "--segment-po2", "-s", help="log2 of segment size (13..24)")
DevModeOpt = typer.Option(
    False,
    "--dev-mode",
    help="Prove agents issue DEV MODE receipts that prove nothing [env PROOFMARKET_DEV_MODE=1]",
)
StarkProfileOpt = typer.Option(
    None,
    "--stark-profile",
    help="STARK parameter profile of segment seals: default | conservative | test-insecure "
    "(tests only) [env PROOFMARKET_STARK_PROFILE]",
)


def _setup_logging(level: str, as_json: bool = False) -> None:
    from proofmarket.cli.daemon_output import setup_logging

    setup_logging(level, as_json)


def _fail(message: str, code: int = 1) -> typer.Exit:
    """Report (as JSON when the command has ``--json``); the caller raises the result."""
    from proofmarket.cli.errors import report

    report(message)
    return typer.Exit(code)


def _check_po2(segment_po2: int | None) -> None:
    from proofmarket.zkvm import MAX_SEGMENT_PO2, MIN_SEGMENT_PO2

    if segment_po2 is not None and not MIN_SEGMENT_PO2 <= segment_po2 <= MAX_SEGMENT_PO2:
        raise typer.BadParameter(
            f"--segment-po2 must be in [{MIN_SEGMENT_PO2}, {MAX_SEGMENT_PO2}], got {segment_po2}"
        )


def _config(
    data_dir: Path,
    database_url: str | None,
    redis_url: str | None,
    s3_url: str | None,
    storage_dir: Path | None = None,
    s3_bucket: str | None = None,
    redis_ttl: int | None = None,
    segment_po2: int | None = None,
    join_stream: bool | None = None,
    limits: TaskLimits | None = None,
    s3_create_bucket: bool = True,
    dev_mode: bool = False,
    stark_profile: str | None = None,
) -> ClusterConfig:
    _check_po2(segment_po2)
    try:
        config = resolve_config(
            data_dir=data_dir,
            database_url=database_url,
            redis_url=redis_url,
            s3_url=s3_url,
            storage_dir=storage_dir,
            s3_bucket=s3_bucket,
            redis_ttl=redis_ttl,
            segment_po2=segment_po2,
            join_stream=join_stream,
            limits=limits,
            dev_mode=True if dev_mode else None,  # the flag turns it on; else the env decides
            stark_profile=stark_profile,
        )
    except ValueError as exc:
        raise _fail(str(exc)) from None
    return config.with_(s3_create_bucket=s3_create_bucket)


@cluster_app.command("agent")
def agent_cmd(
    worker_type: str = typer.Option(..., "--type", "-t", help="exec | prove | join | aux"),
    segment_po2: int | None = SegmentPo2Opt,
    database_url: str | None = DatabaseOpt,
    redis_url: str | None = RedisOpt,
    s3_url: str | None = S3Opt,
    storage_dir: Path | None = StorageDirOpt,
    data_dir: Path = DataDirOpt,
    s3_bucket: str | None = BucketOpt,
    redis_ttl: int | None = RedisTtlOpt,
    s3_create_bucket: bool = CreateBucketOpt,
    poll_time: float = typer.Option(1.0, "--poll-time", "-p", help="Long-poll wait (s)"),
    join_stream: bool | None = typer.Option(
        None, "--join-stream/--no-join-stream", help="Route joins to `join` agents [JOIN_STREAM]"
    ),
    prove_retries: int = typer.Option(3, "--prove-retries"),
    prove_timeout: int = typer.Option(30, "--prove-timeout"),
    join_retries: int = typer.Option(3, "--join-retries"),
    join_timeout: int = typer.Option(10, "--join-timeout"),
    resolve_retries: int = typer.Option(3, "--resolve-retries"),
    resolve_timeout: int = typer.Option(120, "--resolve-timeout"),
    finalize_retries: int = typer.Option(0, "--finalize-retries"),
    finalize_timeout: int = typer.Option(10, "--finalize-timeout"),
    requeue_poll_interval: float = typer.Option(5.0, "--requeue-poll-interval"),
    stuck_tasks_poll_interval: float = typer.Option(60.0, "--stuck-tasks-poll-interval"),
    cleanup_poll_interval: float = typer.Option(3600.0, "--cleanup-poll-interval"),
    claim_ack_secs: float = typer.Option(
        5.0, "--claim-ack-secs", help="aux: requeue claims not heartbeated this long (s)"
    ),
    heartbeat_secs: float = typer.Option(2.0, "--heartbeat-secs"),
    warm_up: bool = typer.Option(
        True, "--warm-up/--no-warm-up", help="exec/prove: run a tiny guest before claiming"
    ),
    dev_mode: bool = DevModeOpt,
    stark_profile: str | None = StarkProfileOpt,
    log_level: str = typer.Option("info", "--log-level"),
    as_json: bool = DaemonJsonOpt,
) -> None:
    """Run an agent: claim tasks of one worker type and run them until SIGTERM/SIGINT."""
    from proofmarket.cli.daemon_output import lifecycle
    from proofmarket.cluster.agent import Agent, AgentSettings, InvalidWorkerType
    from proofmarket.cluster.tasks.aux import MaintenanceSettings

    _setup_logging(log_level, as_json)
    limits = TaskLimits(
        prove_retries=prove_retries,
        prove_timeout=prove_timeout,
        join_retries=join_retries,
        join_timeout=join_timeout,
        resolve_retries=resolve_retries,
        resolve_timeout=resolve_timeout,
        finalize_retries=finalize_retries,
        finalize_timeout=finalize_timeout,
    )
    config = _config(
        data_dir,
        database_url,
        redis_url,
        s3_url,
        storage_dir,
        s3_bucket,
        redis_ttl,
        segment_po2,
        join_stream,
        limits,
        s3_create_bucket,
        dev_mode,
        stark_profile,
    )
    try:
        settings = AgentSettings(
            worker_type=worker_type,
            poll_time=poll_time,
            task_heartbeat_secs=heartbeat_secs,
            warm_up=warm_up,
            maintenance=MaintenanceSettings(
                requeue_poll_interval=requeue_poll_interval,
                stuck_tasks_poll_interval=stuck_tasks_poll_interval,
                cleanup_poll_interval=cleanup_poll_interval,
                claim_ack_secs=claim_ack_secs,
                outage_grace_secs=max(1.0, 2.5 * heartbeat_secs),
                segment_data_age=float(config.redis_ttl),
            ),
        )
    except (InvalidWorkerType, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from None
    agent = Agent(config, settings)
    agent.install_signal_handlers()
    extra: dict[str, Any] = {}
    if worker_type == "prove":
        extra["receipts"] = config.receipt_kind
        logging.getLogger(__name__).info("prove agent issues %s receipts", config.receipt_kind)
    with lifecycle("cluster-agent", as_json, worker_type=worker_type, **extra):
        agent.run()


@cluster_app.command("api")
def api_cmd(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8081, "--port"),
    database_url: str | None = DatabaseOpt,
    redis_url: str | None = RedisOpt,
    s3_url: str | None = S3Opt,
    storage_dir: Path | None = StorageDirOpt,
    data_dir: Path = DataDirOpt,
    s3_bucket: str | None = BucketOpt,
    s3_create_bucket: bool = CreateBucketOpt,
    max_image_mib: int = typer.Option(64, "--max-image-mib", help="Image upload limit"),
    max_input_mib: int = typer.Option(64, "--max-input-mib", help="Input upload limit"),
    max_receipt_mib: int = typer.Option(256, "--max-receipt-mib", help="Receipt upload limit"),
    exec_retries: int = typer.Option(3, "--exec-retries", help="Retries of a job's init task"),
    exec_timeout: int = typer.Option(
        20, "--exec-timeout", help="Seconds of exec agent silence before init is requeued"
    ),
    fd: int | None = typer.Option(
        None, "--fd", help="Serve on this listening socket (inherited from `cluster up`)"
    ),
    log_level: str = typer.Option("info", "--log-level"),
    as_json: bool = DaemonJsonOpt,
) -> None:
    """Serve the Bonsai-compatible REST API."""
    from proofmarket.cli.daemon_output import lifecycle
    from proofmarket.cluster.api import ApiSettings
    from proofmarket.cluster.api.server import serve

    _setup_logging(log_level, as_json)
    del redis_url  # the API reads only the object store and the TaskDB
    config = _config(
        data_dir,
        database_url,
        None,
        s3_url,
        storage_dir,
        s3_bucket,
        limits=TaskLimits(exec_retries=exec_retries, exec_timeout=exec_timeout),
        s3_create_bucket=s3_create_bucket,
    )
    mib = 1 << 20
    settings = ApiSettings(
        max_image_bytes=max_image_mib * mib,
        max_input_bytes=max_input_mib * mib,
        max_receipt_bytes=max_receipt_mib * mib,
        exec_cycle_limit_mcycles=config.exec_cycle_limit_mcycles,
        limits=config.limits,
    )
    with lifecycle("cluster-api", as_json, url=f"http://{host}:{port}"):
        serve(config, host, port, settings, fd=fd)


@cluster_app.command("up")
def up_cmd(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8081, "--port"),
    database_url: str | None = DatabaseOpt,
    redis_url: str | None = RedisOpt,
    s3_url: str | None = S3Opt,
    data_dir: Path = DataDirOpt,
    segment_po2: int | None = SegmentPo2Opt,
    detach: bool = typer.Option(False, "--detach", "-d", help="Run in the background"),
    cycle_limit: CycleLimitOpt = None,
    dev_mode: bool = DevModeOpt,
    stark_profile: str | None = StarkProfileOpt,
    log_level: str = typer.Option("info", "--log-level"),
    as_json: bool = typer.Option(False, "--json", help="With --detach: print the result as JSON"),
) -> None:
    """Start the API and one agent of each type (supervised, restarted if they die)."""
    from proofmarket.cluster.supervisor import (
        PortInUse,
        Supervisor,
        UpOptions,
        check_bindable,
        read_state,
    )
    from proofmarket.limits import CYCLE_LIMIT_ENV

    _check_po2(segment_po2)
    if cycle_limit is not None:  # sessions' default limit, inherited by API and agents
        os.environ[CYCLE_LIMIT_ENV] = str(cycle_limit_value(cycle_limit))
    data_dir = data_dir.resolve()
    existing = read_state(data_dir)
    if existing is not None:
        raise _fail(f"cluster already running at {existing['endpoint']} (pid {existing['pid']})")
    try:
        check_bindable(host, port)
    except PortInUse as exc:
        raise _fail(str(exc)) from None
    try:  # the agents read the environment too: resolve it once, pass it on explicitly
        receipts = resolve_config(
            data_dir=data_dir,
            dev_mode=True if dev_mode else None,
            stark_profile=stark_profile,
            create_dirs=False,
        )
    except ValueError as exc:
        raise _fail(str(exc)) from None
    opts = UpOptions(
        data_dir,
        host,
        port,
        database_url,
        redis_url,
        s3_url,
        segment_po2,
        dev_mode=receipts.dev_mode,
        stark_profile=receipts.stark_profile,
    )
    endpoint = f"http://{host}:{port}"
    if detach:
        pid = _up_detached(opts, endpoint, log_level)
        if as_json:
            print(
                json.dumps(
                    {
                        "ok": True,
                        "endpoint": endpoint,
                        "pid": pid,
                        "dev_mode": receipts.dev_mode,
                        "stark_profile": receipts.stark_profile,
                        "receipts": receipts.receipt_kind,
                    }
                )
            )
        else:
            console.print(
                f"cluster up at {endpoint} (pid {pid}); {receipts.receipt_kind} receipts; "
                f"logs in {data_dir / 'logs'}"
            )
        return
    _setup_logging(log_level)
    supervisor = Supervisor(opts, run_cli=_run_cli)
    console.print(
        f"cluster starting at {endpoint}; {receipts.receipt_kind} receipts; data in {data_dir}; "
        "Ctrl-C stops it"
    )
    try:
        supervisor.run()
    except RuntimeError as exc:
        raise _fail(str(exc)) from None


def _run_cli(args: list[str]) -> int:
    from proofmarket.cli.main import run

    return run(args)


def _up_detached(opts: Any, endpoint: str, log_level: str) -> int:
    """Fork the supervisor into its own session and return once it owns the API's socket.

    Forking (rather than starting ``cluster up`` again in a new interpreter) saves one
    interpreter start-up. The supervisor says "ready" through a pipe as soon as the socket
    is bound and its state file written, before the API and agents have started (they
    take seconds to import on a busy machine): requests sent meanwhile wait in the
    socket's backlog, and ``cluster status`` lists the agents still starting. A supervisor
    that fails before that closes the pipe unsaid, and ``up`` reports its log's error.
    """
    from proofmarket.cluster.supervisor import Supervisor

    log_path = opts.data_dir / "logs" / "supervisor.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the supervisor: detach from the terminal and run until stopped
        code = 1
        try:
            os.close(read_end)
            os.setsid()
            null = os.open(os.devnull, os.O_RDONLY)
            log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(null, 0)
            os.dup2(log_fd, 1)
            os.dup2(log_fd, 2)
            _setup_logging(log_level)

            def ready() -> None:
                os.write(write_end, b"ready\n")
                os.close(write_end)

            Supervisor(opts, run_cli=_run_cli).run(ready)
            code = 0
        except BaseException:
            logging.getLogger(__name__).exception("supervisor failed")
        finally:
            os._exit(code)
    os.close(write_end)
    if not _wait_ready(read_end, 90):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        tail = _last_error_line(log_path)
        raise _fail(f"cluster did not start at {endpoint}: {tail}; see {log_path}")
    return pid


def _wait_ready(read_end: int, timeout: float) -> bool:
    """True once the supervisor writes "ready"; False when it exits first or on timeout."""
    import select

    try:
        readable, _, _ = select.select([read_end], [], [], timeout)
        return bool(readable) and os.read(read_end, 16).startswith(b"ready")
    finally:
        os.close(read_end)


def _last_error_line(log_path: Path) -> str:
    """The last line of a log that looks like an error, for a one-line failure message."""
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return "no log"
    for line in reversed(lines):
        if "error" in line.lower():
            return line.strip()[-300:]
    return lines[-1].strip()[-300:] if lines else "no log output"


@cluster_app.command("down")
def down_cmd(
    data_dir: Path = DataDirOpt,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Stop a cluster started with `cluster up` from this data directory."""
    from proofmarket.cluster.supervisor import stop_cluster

    stopped = stop_cluster(data_dir.resolve())
    if as_json:
        print(json.dumps({"ok": True, "stopped": stopped, "data_dir": str(data_dir)}))
    elif stopped:
        console.print("cluster stopped")
    else:
        console.print("no cluster running from " + str(data_dir))


def _sqlite_file(database_url: str) -> Path | None:
    """The file of an embedded SQLite TaskDB URL; None for other databases."""
    from proofmarket.cluster.taskdb.factory import SQLITE_PREFIX

    if not database_url.startswith(SQLITE_PREFIX):
        return None
    return Path(database_url[len(SQLITE_PREFIX) :].partition("?")[0])


def _open_db(data_dir: Path, database_url: str | None) -> Any:
    from proofmarket.cluster.taskdb import TaskDBError, open_taskdb

    config = _config(data_dir, database_url, None, None)
    try:
        return open_taskdb(config.database_url)
    except TaskDBError as exc:
        raise _fail(f"cannot open the TaskDB {config.database_url}: {exc}") from None


@cluster_app.command("prune")
def prune_cmd(
    older_than: float = typer.Option(
        86_400.0, "--older-than", help="Delete finished jobs that ended this many seconds ago"
    ),
    data_dir: Path = DataDirOpt,
    database_url: str | None = DatabaseOpt,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Delete old finished (done/failed/cancelled) jobs and their tasks from the TaskDB.

    Running jobs are never touched; stored receipts stay in the object store (a pruned
    session still answers SUCCEEDED). Deletes in small batches, so claims go on."""
    from proofmarket.cluster.taskdb import DatabaseUnavailable, InvalidArgument

    db = _open_db(data_dir, database_url)
    try:
        removed = db.clear_completed_jobs(older_than)
    except InvalidArgument as exc:
        raise typer.BadParameter(str(exc), param_hint="--older-than") from None
    except DatabaseUnavailable as exc:
        raise _fail(f"TaskDB unavailable: {exc}") from None
    finally:
        db.close()
    if as_json:
        print(json.dumps({"removed_jobs": removed, "older_than_secs": older_than}))
    else:
        console.print(f"removed {removed} finished job(s) older than {older_than:g} s")


@cluster_app.command("status")
def status_cmd(
    data_dir: Path = DataDirOpt,
    database_url: str | None = DatabaseOpt,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Agents alive, queue depth per worker type, streams and running jobs."""
    from proofmarket.cluster.status import cluster_status, empty_status
    from proofmarket.cluster.supervisor import read_state
    from proofmarket.cluster.taskdb import DatabaseUnavailable

    try:
        config = resolve_config(data_dir=data_dir, database_url=database_url, create_dirs=False)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    db_file = _sqlite_file(config.database_url)
    if db_file is not None and not db_file.exists():
        report = empty_status()  # no cluster has used this data directory: create nothing
    else:
        db = _open_db(data_dir, database_url)
        try:
            report = cluster_status(db)
        except DatabaseUnavailable as exc:
            raise _fail(f"TaskDB unavailable: {exc}") from None
        finally:
            db.close()
    state = read_state(data_dir.resolve())
    report["supervisor"] = state
    report["starting"] = _starting_agents(state, report)
    if as_json:
        print(json.dumps(report, indent=2, default=str))
        return
    if db_file is not None and not db_file.exists():
        console.print(f"no cluster has run from {data_dir} (no TaskDB at {db_file})")
        return
    if state:
        console.print(f"supervisor pid {state['pid']}, API {state['endpoint']}")
        if "dev_mode" in state:
            receipts = (
                "DEV MODE (nothing proven)"
                if state["dev_mode"]
                else f"STARK ({state.get('stark_profile') or 'default'} profile)"
            )
            console.print(f"receipts: {receipts}")
        if report["starting"]:
            console.print("still starting: " + ", ".join(report["starting"]))
    else:
        console.print("no supervisor running from this data directory")
    queues = Table(title="queues")
    for col in ("worker type", "ready", "running", "agents alive"):
        queues.add_column(col)
    for worker_type, q in report["queues"].items():
        queues.add_row(worker_type, str(q["ready"]), str(q["running"]), str(q["agents_alive"]))
    console.print(queues)
    agents = Table(title="agents")
    for col in ("id", "type", "host", "last seen (s ago)", "alive"):
        agents.add_column(col)
    for a in report["agents"]:
        agents.add_row(
            str(a["id"]),
            str(a["type"]),
            str(a["host"]),
            str(a["last_seen_secs_ago"]),
            "yes" if a["alive"] else "no",
        )
    console.print(agents)
    console.print(f"running jobs: {len(report['running_jobs'])}")
    for job in report["running_jobs"]:
        console.print(f"  {job['job_id']}  user={job['user_id']}")


def _starting_agents(state: dict[str, Any] | None, report: dict[str, Any]) -> list[str]:
    """Agents the supervisor runs (or is about to start) that have not registered yet:
    ``cluster up`` returns before they have, so a fresh cluster shows them here."""
    if state is None:
        return []
    alive = {str(a["type"]) for a in report["agents"] if a["alive"]}
    return [
        name
        for name in state.get("children", {})
        if name.startswith("agent-") and name.removeprefix("agent-") not in alive
    ]


def _default_endpoint(data_dir: Path) -> str:
    from proofmarket.cluster.client import DEFAULT_ENDPOINT
    from proofmarket.cluster.supervisor import read_state

    env = os.environ.get("BONSAI_API_URL")
    if env:
        return env
    state = read_state(data_dir.resolve())
    return str(state["endpoint"]) if state else DEFAULT_ENDPOINT


@cluster_app.command("bench")
def bench_cmd(
    iter_count: int = typer.Option(..., "--iter-count", "-c", help="iter guest input N"),
    endpoint: str | None = typer.Option(None, "--endpoint", "-t", help="API URL"),
    exec_only: bool = typer.Option(False, "--exec-only", "-e"),
    reserved: int | None = typer.Option(None, "--reserved", "-r", help="API key v1:reserved:N"),
    timeout: float | None = typer.Option(None, "--timeout", help="Give up after (s)"),
    cycle_limit: CycleLimitOpt = None,
    data_dir: Path = DataDirOpt,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Prove the `iter` guest (N*1024 iterations) through the API and report kHz."""
    from proofmarket.cluster.bench import BenchFailed, run_bench
    from proofmarket.cluster.client import ClusterApiError

    limit = None if cycle_limit is None else cycle_limit_value(cycle_limit)

    url = endpoint or _default_endpoint(data_dir)
    bench = functools.partial(
        run_bench,
        url,
        iter_count,
        execute_only=exec_only,
        reserved=reserved,
        timeout_secs=timeout,
        cycle_limit=limit,
    )
    try:
        if as_json:
            result = bench()
        else:
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as progress:
                bar = progress.add_task(f"iter -c {iter_count} on {url}: submitting", total=None)
                result = bench(
                    on_status=lambda st: progress.update(
                        bar, description=f"iter -c {iter_count}: {st.status} {st.state or ''}"
                    ),
                )
    except (BenchFailed, ClusterApiError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
        return
    table = Table(title=f"cluster bench -c {iter_count}" + (" (exec only)" if exec_only else ""))
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("session", result.session_id)
    table.add_row("segments", str(result.segments))
    table.add_row("total cycles", f"{result.total_cycles:,}")
    table.add_row("user cycles", f"{result.user_cycles:,}")
    if result.server_elapsed_secs is not None:
        table.add_row("job time, server (s)", f"{result.server_elapsed_secs:.3f}")
    table.add_row("client wall time (s)", f"{result.wall_secs:.2f}")
    table.add_row("throughput (kHz, job time)", f"{result.khz:.1f}")
    if result.receipt_mode:
        profiles = f" ({', '.join(result.stark_profiles)} profile)" if result.stark_profiles else ""
        table.add_row(
            "receipt",
            f"{result.receipt_mode}{profiles}, {result.receipt_bytes:,} bytes, verified",
        )
    table.add_row("journal", result.journal_hex)
    console.print(table)
    if result.real_proving:
        console.print(
            "kHz from real proving: every segment got a STARK seal"
            + (f" ({', '.join(result.stark_profiles)} profile)" if result.stark_profiles else "")
            + ", verified here."
        )
        if "test-insecure" in result.stark_profiles:
            console.print(
                "[yellow]test-insecure[/yellow]: the cluster proves with the fast, insecure "
                "test profile; production verification refuses these seals."
            )
    elif result.receipt_mode:
        console.print(
            f"[yellow]{result.receipt_mode}[/yellow]: the cluster runs in dev mode (segments "
            "re-executed, nothing proven); kHz measures the pipeline, not a prover. Start it "
            "without --dev-mode / PROOFMARKET_DEV_MODE for real proving."
        )


@cluster_app.command("job-status")
def job_status_cmd(
    job_id: str = typer.Argument(..., help="Job (session) id"),
    data_dir: Path = DataDirOpt,
    database_url: str | None = DatabaseOpt,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Per-task-type counts and wall times, and the job's kHz (Bento's job_status.sh)."""
    from dataclasses import asdict

    from proofmarket.cluster.progress import job_report
    from proofmarket.cluster.taskdb import TaskDBError, UnknownJob

    db = _open_db(data_dir, database_url)
    try:
        job = db.get_job_state(job_id)
        if job is None:
            raise _fail(f"unknown job {job_id}")
        report = job_report(job_id, str(job.state), job.error, db.get_job_tasks(job_id))
    except UnknownJob:
        raise _fail(f"unknown job {job_id}") from None
    except TaskDBError as exc:
        raise _fail(str(exc)) from None
    finally:
        db.close()
    if as_json:
        print(json.dumps(asdict(report), indent=2))
        return
    console.print(
        f"job {report.job_id}: {report.state}" + (f" ({report.error})" if report.error else "")
    )
    if report.stats:
        console.print(
            f"segments {report.stats.segments}, total cycles {report.stats.total_cycles:,}, "
            f"user cycles {report.stats.user_cycles:,}"
        )
    if report.khz is not None:
        console.print(f"elapsed {report.elapsed_secs:.2f} s → {report.khz:.1f} kHz")
    table = Table()
    for col in ("task type", "count", "avg (s)", "min (s)", "max (s)"):
        table.add_column(col)

    def fmt(v: float | None) -> str:
        return "-" if v is None else f"{v:.3f}"

    for row in report.task_types:
        table.add_row(
            row.task_type, str(row.count), fmt(row.avg_secs), fmt(row.min_secs), fmt(row.max_secs)
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Attach the `cluster` command group to the root app."""
    app.add_typer(cluster_app, name="cluster")


__all__ = ["WORKER_TYPES", "cluster_app", "register"]
