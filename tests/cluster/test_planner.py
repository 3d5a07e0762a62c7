"""Planner graph shapes (Bento's binary-counter / MMR plan) for 1..9 segments."""

from __future__ import annotations

import math

import pytest

from proofmarket.cluster.planner import (
    FINALIZE_TASK_ID,
    RESOLVE_TASK_ID,
    Planner,
    PlannerError,
    TaskKind,
)
from proofmarket.cluster.tasks.defs import (
    FinalizeReq,
    InvalidTaskDef,
    JoinReq,
    ProveReq,
    ResolveReq,
    decode_task_def,
    encode_task_def,
)


def plan(n: int):
    planner = Planner()
    streamed = []
    for i in range(n):
        streamed.append(planner.enqueue_segment(i))
    return streamed, planner.finish()


def leaves_in_order(by_id, task_id):
    """Segment indices covered by a task, left to right."""
    task = by_id[task_id]
    decoded = decode_task_def(task.task_def)
    if isinstance(decoded, ProveReq):
        return [decoded.index]
    assert isinstance(decoded, JoinReq)
    return leaves_in_order(by_id, str(decoded.left)) + leaves_in_order(by_id, str(decoded.right))


def depth(by_id, task_id):
    decoded = decode_task_def(by_id[task_id].task_def)
    if isinstance(decoded, ProveReq):
        return 0
    return 1 + max(depth(by_id, str(decoded.left)), depth(by_id, str(decoded.right)))


@pytest.mark.parametrize("n", range(1, 10))
def test_plan_is_a_binary_tree_over_all_segments(n):
    streamed, tail = plan(n)
    tasks = [t for batch in streamed for t in batch] + tail
    by_id = {t.task_id: t for t in tasks}
    assert len(by_id) == len(tasks), "task ids must be unique"
    kinds = [t.kind for t in tasks]
    assert kinds.count(TaskKind.PROVE) == n
    assert kinds.count(TaskKind.JOIN) == n - 1
    assert tasks[-2].task_id == RESOLVE_TASK_ID and tasks[-1].task_id == FINALIZE_TASK_ID
    # topological order: every prerequisite was planned before its dependant
    seen: set[str] = set()
    for task in tasks:
        assert all(p in seen for p in task.prerequisites), task
        seen.add(task.task_id)
    # each receipt is consumed exactly once, except the root (consumed by resolve)
    consumed = [p for t in tasks for p in t.prerequisites]
    assert len(consumed) == len(set(consumed))
    numbered = [t.task_id for t in tasks if t.kind in (TaskKind.PROVE, TaskKind.JOIN)]
    assert all(tid.isdecimal() for tid in numbered)
    assert sorted(int(t) for t in numbered) == list(range(2 * n - 1))
    consumed_by_joins = [p for t in tasks if t.kind == TaskKind.JOIN for p in t.prerequisites]
    unconsumed = [tid for tid in numbered if tid not in consumed_by_joins]
    resolve = decode_task_def(by_id[RESOLVE_TASK_ID].task_def)
    finalize = decode_task_def(by_id[FINALIZE_TASK_ID].task_def)
    assert isinstance(resolve, ResolveReq) and isinstance(finalize, FinalizeReq)
    assert unconsumed == [str(resolve.max_idx)]
    assert finalize.max_idx == resolve.max_idx
    assert by_id[FINALIZE_TASK_ID].prerequisites == [RESOLVE_TASK_ID]
    # in-order leaves are the segments in order (join requires a.post == b.pre)
    assert leaves_in_order(by_id, str(resolve.max_idx)) == list(range(n))
    assert depth(by_id, str(resolve.max_idx)) == math.ceil(math.log2(n))
    for task in tasks:
        decoded = decode_task_def(task.task_def)
        if isinstance(decoded, JoinReq):
            assert task.task_id == str(decoded.idx)
            assert task.prerequisites == [str(decoded.left), str(decoded.right)]


@pytest.mark.parametrize("n", range(2, 10))
def test_joins_start_before_execution_ends(n):
    streamed, _ = plan(n)
    # a join for segments (0, 1) is planned as soon as segment 1 streams out
    assert [t.kind for t in streamed[1]] == [TaskKind.PROVE, TaskKind.JOIN]
    joins_while_streaming = sum(t.kind == TaskKind.JOIN for b in streamed for t in b)
    assert joins_while_streaming == n - n.bit_count()


def test_known_shape_for_four_and_three_segments():
    streamed, tail = plan(4)
    tasks = [t for b in streamed for t in b] + tail
    shape = [(t.task_id, t.task_def) for t in tasks]
    assert shape[:7] == [
        ("0", {"Prove": {"index": 0}}),
        ("1", {"Prove": {"index": 1}}),
        ("2", {"Join": {"idx": 2, "left": 0, "right": 1}}),
        ("3", {"Prove": {"index": 2}}),
        ("4", {"Prove": {"index": 3}}),
        ("5", {"Join": {"idx": 5, "left": 3, "right": 4}}),
        ("6", {"Join": {"idx": 6, "left": 2, "right": 5}}),
    ]
    assert tail[-2].task_def == {"Resolve": {"max_idx": 6, "union_max_idx": None}}
    assert tail[-1].task_def == {"Finalize": {"max_idx": 6}}
    _, tail3 = plan(3)
    assert tail3[0].task_def == {"Join": {"idx": 4, "left": 2, "right": 3}}


def test_single_segment_has_no_join():
    streamed, tail = plan(1)
    assert [t.task_id for t in streamed[0]] == ["0"]
    assert [t.task_id for t in tail] == [RESOLVE_TASK_ID, FINALIZE_TASK_ID]
    assert tail[0].prerequisites == ["0"]


def test_replanning_is_deterministic():
    assert plan(7) == plan(7)


def test_planner_misuse_is_rejected():
    planner = Planner()
    with pytest.raises(PlannerError, match="without segments"):
        planner.finish()
    with pytest.raises(PlannerError, match="in order"):
        planner.enqueue_segment(1)
    planner.enqueue_segment(0)
    planner.finish()
    with pytest.raises(PlannerError, match="after finish"):
        planner.enqueue_segment(1)
    with pytest.raises(PlannerError, match="twice"):
        planner.finish()


def test_task_def_codec_round_trip_and_errors():
    for task in (ProveReq(3), JoinReq(5, 3, 4), ResolveReq(6), FinalizeReq(6)):
        assert decode_task_def(encode_task_def(task)) == task
    with pytest.raises(InvalidTaskDef, match="unknown task type"):
        decode_task_def({"Snark": {}})
    with pytest.raises(InvalidTaskDef, match="one-key"):
        decode_task_def({"Prove": {"index": 1}, "Join": {}})
    with pytest.raises(InvalidTaskDef, match="bad Prove"):
        decode_task_def({"Prove": {"segment": 1}})
