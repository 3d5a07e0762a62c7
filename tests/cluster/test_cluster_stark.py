"""The cluster proves for real: a job with two segments through the REST API and real
agents (not in dev mode) gives a STARK receipt whose segment seals verify, joined by the
join agent and finalized. The guest only halts (no other syscalls), so the circuit can
prove it; the fast TEST profile keeps it to seconds per segment."""

from __future__ import annotations

import pytest
from cluster_helpers import fs_config, running_cluster

from proofmarket.cluster.client import ClusterClient
from proofmarket.cluster.config import INSECURE_STARK_PROFILE, STARK_PROFILES, TaskLimits
from proofmarket.cluster.zkvm_api import (
    Receipt,
    VerificationError,
    compute_image_id,
    execute,
    verify,
)
from proofmarket.stark.params import PROFILES
from zkvm.programs import counting_loop, halt, make_elf

pytestmark = pytest.mark.slow
SEGMENT_PO2 = 13
EXIT_CODE = 7


def _two_segment_guest() -> bytes:
    """A loop long enough to need two segments at po2 13, then HALT with EXIT_CODE."""
    elf = make_elf([*counting_loop(3000), *halt(EXIT_CODE)])
    assert execute(elf, b"", segment_po2=SEGMENT_PO2).segment_count == 2
    return elf


def test_config_lists_the_engine_profiles() -> None:
    assert sorted(STARK_PROFILES) == sorted(PROFILES)


def test_cluster_issues_a_verified_stark_receipt(tmp_path) -> None:
    elf = _two_segment_guest()
    image_id = compute_image_id(elf)
    config = fs_config(
        tmp_path,
        segment_po2=SEGMENT_PO2,
        dev_mode=False,
        stark_profile=INSECURE_STARK_PROFILE,
        # silence limits: the agents heartbeat while they prove
        limits=TaskLimits(prove_timeout=30, join_timeout=30, finalize_timeout=30),
    )
    with running_cluster(config) as (url, ctx, _):
        with ClusterClient(url) as client:
            client.upload_img(image_id.hex(), elf)
            session = client.create_session(image_id.hex(), client.upload_input(b""))
            status = client.wait(session, poll_secs=0.2, timeout_secs=300)
            assert status.status == "SUCCEEDED", status.error_msg
            data = client.download_receipt(session)
        tasks = ctx.taskdb.get_job_tasks(session)
    receipt = Receipt.from_bytes(data)
    assert receipt.mode == "STARK" and not receipt.is_dev_mode
    assert receipt.inner.segment_count == 2
    claim = verify(receipt, image_id, allow_insecure_params=True)
    assert claim.exit_code.user == EXIT_CODE
    with pytest.raises(VerificationError, match="insecure profile"):
        verify(receipt, image_id)  # production verification refuses the test profile
    finalize = next(t for t in tasks if "Finalize" in t.task_def)
    assert finalize.output["receipt_mode"] == "STARK"
    assert finalize.output["stark_profiles"] == [INSECURE_STARK_PROFILE]
    assert [next(iter(t.task_def)) for t in tasks].count("Join") == 1


def test_bench_reports_real_proving_khz(tmp_path) -> None:
    """`cluster bench` on a cluster that is not in dev mode: the example `iter` guest
    (input READ, journal WRITE) proven for real, kHz from the job's server-side time."""
    from proofmarket.cluster.bench import run_bench

    config = fs_config(
        tmp_path,
        segment_po2=SEGMENT_PO2,
        dev_mode=False,
        stark_profile=INSECURE_STARK_PROFILE,
        limits=TaskLimits(prove_timeout=30, join_timeout=30, finalize_timeout=30),
    )
    with running_cluster(config) as (url, _ctx, _):
        result = run_bench(url, 1, timeout_secs=300)
    assert result.real_proving and result.dev_mode is False
    assert result.receipt_mode == "STARK"
    assert result.stark_profiles == [INSECURE_STARK_PROFILE]
    assert result.server_elapsed_secs is not None and result.server_elapsed_secs > 0
    expected = result.total_cycles / 1000 / result.server_elapsed_secs
    assert result.khz == pytest.approx(expected)
    assert result.to_dict()["real_proving"] is True
