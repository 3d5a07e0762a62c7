"""``proofmarket prover``: measure the proving cluster and write a broker.toml for it.

``benchmark --request-ids ID,ID`` proves real market requests on the cluster and reports
kHz and the recommended ``peak_prove_khz`` (0.75 × the worst). ``generate-config`` is the
setup wizard: hardware detection, benchmark, concurrency, broker.toml; ``--yes`` makes it
non-interactive for scripts.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer

from proofmarket.cli.chain_options import MarketAddressOpt, RpcUrlOpt, cli_errors

P = ParamSpec("P")
R = TypeVar("R")

prover_app = typer.Typer(help="Benchmark the proving cluster and generate a broker.toml.")

ClusterUrlOpt = Annotated[
    str | None,
    typer.Option("--cluster-url", help="proving cluster API (env BONSAI_API_URL)"),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="print machine-readable JSON")]
DEFAULT_CLUSTER = "http://127.0.0.1:8081"


def _operator_errors(func: Callable[P, R]) -> Callable[P, R]:
    """:func:`cli_errors` plus the cluster's and the benchmark's own errors."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from proofmarket.broker.benchmark import BenchmarkError
        from proofmarket.cluster.client import ClusterApiError

        try:
            return func(*args, **kwargs)
        except (BenchmarkError, ClusterApiError) as exc:
            raise ValueError(str(exc)) from exc  # rendered by cli_errors (text or --json)

    return cli_errors(wrapper)


def _cluster(url: str | None) -> Any:
    from proofmarket.cluster.client import ClusterClient

    return ClusterClient(url or os.environ.get("BONSAI_API_URL") or DEFAULT_CLUSTER, timeout=60)


def _market(rpc_url: str | None, market_address: str | None) -> Any:
    from proofmarket.cli.chain_options import connect

    return connect(rpc_url, None, market_address, None, need_key=False)


def _request_benchmark(
    request_ids: str,
    rpc_url: str | None,
    market_address: str | None,
    cluster_url: str | None,
    from_block: int,
    timeout: float | None,
    quiet: bool,
) -> dict[str, Any]:
    from proofmarket.broker.benchmark import benchmark_requests, parse_request_ids

    ids = parse_request_ids(request_ids)
    market = _market(rpc_url, market_address)

    def show(result: Any) -> None:
        if not quiet:
            typer.echo(
                f"request {result.request_id}: {result.total_cycles} cycles, "
                f"{result.segments} segment(s), {result.wall_secs:.2f} s, {result.khz:.1f} kHz"
            )

    with _cluster(cluster_url) as cluster:
        report = benchmark_requests(
            market, cluster, ids, from_block=from_block, timeout_secs=timeout, on_result=show
        )
    return report.to_dict()


def _iter_benchmark(cluster_url: str | None, iter_count: int, quiet: bool) -> dict[str, Any]:
    """The cluster's ``iter`` guest when no market request is given."""
    from proofmarket.broker.benchmark import BenchReport, prove_and_time
    from proofmarket.zkvm.guests import example_elf

    with _cluster(cluster_url) as cluster:
        result = prove_and_time(
            cluster,
            example_elf("iter"),
            iter_count.to_bytes(4, "little"),
            label=f"iter N={iter_count}",
        )
    if not quiet:
        typer.echo(f"{result.request_id}: {result.total_cycles} cycles, {result.khz:.1f} kHz")
    return BenchReport([result]).to_dict()


@prover_app.command("benchmark")
@_operator_errors
def benchmark(
    request_ids: Annotated[
        str, typer.Option("--request-ids", help="comma-separated request IDs (0x… or decimal)")
    ],
    rpc_url: RpcUrlOpt = None,
    market_address: MarketAddressOpt = None,
    cluster_url: ClusterUrlOpt = None,
    from_block: Annotated[
        int, typer.Option("--from-block", help="first block to search for the requests")
    ] = 0,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="give up on one proof after (s)")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Prove requests on the cluster; print kHz and a recommended peak_prove_khz."""
    report = _request_benchmark(
        request_ids, rpc_url, market_address, cluster_url, from_block, timeout, as_json
    )
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    typer.echo(
        f"worst case: {report['worst_khz']:.1f} kHz -> recommended peak_prove_khz = "
        f"{report['recommended_peak_prove_khz']} (0.75 x worst)"
    )


@prover_app.command("generate-config")
@_operator_errors
def generate_config(
    output: Annotated[Path, typer.Option("--output", "-o", help="broker.toml to write")] = Path(
        "broker.toml"
    ),
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing file")] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="non-interactive: accept every value")
    ] = False,
    request_ids: Annotated[
        str | None, typer.Option("--request-ids", help="benchmark these market requests")
    ] = None,
    iter_count: Annotated[
        int, typer.Option("--iter-count", help="else benchmark the iter guest with this N")
    ] = 4,
    peak_prove_khz: Annotated[
        int | None, typer.Option("--peak-prove-khz", help="skip the benchmark; use this")
    ] = None,
    cpu_threads: Annotated[int | None, typer.Option("--cpu-threads", min=1)] = None,
    memory_gib: Annotated[float | None, typer.Option("--memory-gib", min=0)] = None,
    gpu_memory_gib: Annotated[
        list[float] | None,
        typer.Option("--gpu-memory-gib", help="one per GPU (overrides detection)"),
    ] = None,
    rpc_url: RpcUrlOpt = None,
    market_address: MarketAddressOpt = None,
    cluster_url: ClusterUrlOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Detect the hardware, benchmark the cluster and write a broker.toml for it."""
    from proofmarket.broker import wizard
    from proofmarket.cli.output import check_output_path, write_output

    check_output_path(output, what="config")
    if output.exists() and not force:
        raise ValueError(f"{output} exists; pass --force to overwrite it")
    interactive = not yes and sys.stdin.isatty()
    say = (lambda _text: None) if as_json else typer.echo
    detected = wizard.detect_hardware()
    gpus = detected.gpus
    if gpu_memory_gib is not None:
        gpus = [wizard.Gpu(f"GPU {i}", gib) for i, gib in enumerate(gpu_memory_gib)]
    hw = wizard.Hardware(
        cpu_threads=cpu_threads or detected.cpu_threads,
        memory_gib=memory_gib if memory_gib is not None else detected.memory_gib,
        gpus=gpus,
    )
    say(
        f"[1/4] hardware: {hw.cpu_threads} CPU threads, {hw.memory_gib:.1f} GiB RAM, "
        f"{len(hw.gpus)} GPU(s) {[f'{g.memory_gib:.0f} GiB' for g in hw.gpus]}"
    )
    if interactive:
        hw = wizard.Hardware(
            cpu_threads=typer.prompt("CPU threads", default=hw.cpu_threads, type=int),
            memory_gib=typer.prompt("memory (GiB)", default=hw.memory_gib, type=float),
            gpus=hw.gpus,
        )
    bench: dict[str, Any] | None = None
    if peak_prove_khz is None:
        say("[2/4] benchmark on the cluster …")
        if request_ids:
            bench = _request_benchmark(
                request_ids, rpc_url, market_address, cluster_url, 0, None, as_json
            )
        else:
            bench = _iter_benchmark(cluster_url, iter_count, as_json)
        peak_prove_khz = int(bench["recommended_peak_prove_khz"])
        say(f"      worst {bench['worst_khz']:.1f} kHz -> peak_prove_khz = {peak_prove_khz}")
    else:
        say(f"[2/4] benchmark skipped: peak_prove_khz = {peak_prove_khz}")
    if peak_prove_khz < 0:
        raise ValueError("--peak-prove-khz must not be negative")
    plan = wizard.plan(hw, peak_prove_khz, bench)
    say(
        f"[3/4] segment po2 {plan.segment_po2}, max_concurrent_proofs "
        f"{plan.max_concurrent_proofs}, max_concurrent_preflights {plan.max_concurrent_preflights}"
    )
    if interactive and not typer.confirm(f"write {output}?", default=True):
        raise typer.Exit(1)
    write_output(output, wizard.render_config(plan), what="config")
    say(f"[4/4] wrote {output}")
    if as_json:
        typer.echo(json.dumps({**plan.to_dict(), "output": str(output)}, indent=2))


def register(app: typer.Typer) -> None:
    app.add_typer(prover_app, name="prover")
