"""Key layout shared by every backend (mirrors Bento's Redis and S3 layout).

Segment store (short-lived, per job): ``job:{job_id}:segments:{index}``,
``job:{job_id}:recursion_receipts:{task_id}``, ``job:{job_id}:journal``.
Object store (long-lived): ``elfs/{image_id}``, ``inputs/{uuid}``,
``receipts/stark/{id}.bin``, ``preflight_journals/{job_id}.bin``, ``exec_logs/{job_id}.log``.
"""

from __future__ import annotations


def job_prefix(job_id: str) -> str:
    return f"job:{job_id}:"


def segment_key(job_id: str, index: int) -> str:
    return f"job:{job_id}:segments:{index}"


def recursion_receipt_key(job_id: str, task_id: str) -> str:
    return f"job:{job_id}:recursion_receipts:{task_id}"


def image_id_key(job_id: str) -> str:
    return f"job:{job_id}:image_id"


def journal_key(job_id: str) -> str:
    return f"job:{job_id}:journal"


ELF_BUCKET_DIR = "elfs"
INPUT_BUCKET_DIR = "inputs"
RECEIPT_BUCKET_DIR = "receipts"
STARK_BUCKET_DIR = "stark"
PREFLIGHT_JOURNALS_BUCKET_DIR = "preflight_journals"
EXEC_LOGS_BUCKET_DIR = "exec_logs"


def elf_key(image_id: str) -> str:
    return f"{ELF_BUCKET_DIR}/{image_id}"


def input_key(input_id: str) -> str:
    return f"{INPUT_BUCKET_DIR}/{input_id}"


def stark_receipt_key(receipt_id: str) -> str:
    return f"{RECEIPT_BUCKET_DIR}/{STARK_BUCKET_DIR}/{receipt_id}.bin"


def preflight_journal_key(job_id: str) -> str:
    return f"{PREFLIGHT_JOURNALS_BUCKET_DIR}/{job_id}.bin"


def exec_log_key(job_id: str) -> str:
    return f"{EXEC_LOGS_BUCKET_DIR}/{job_id}.log"
