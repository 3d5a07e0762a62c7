"""Cluster configuration: where the TaskDB and the two stores live, and task limits.

Values come from command-line options, then Bento's environment variables
(``DATABASE_URL``, ``REDIS_URL``, ``S3_URL``, ``S3_BUCKET``, ``S3_ACCESS_KEY``,
``S3_SECRET_KEY``, ``S3_REGION``, ``JOIN_STREAM``), then embedded defaults under a data
directory (SQLite TaskDB, filesystem stores) so one machine works with no services.

Prove agents make real STARK receipts (``stark_profile``, default ``default``); dev mode
(``--dev-mode`` or ``PROOFMARKET_DEV_MODE=1``) gives DEV MODE receipts that prove nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from proofmarket.cluster.storage import (
    DEFAULT_REDIS_TTL,
    DEFAULT_S3_BUCKET,
    DEFAULT_S3_REGION,
    ObjectStore,
    SegmentStore,
    open_object_store,
    open_segment_store,
)
from proofmarket.limits import DEFAULT_CYCLE_LIMIT, default_cycle_limit

DEFAULT_DATA_DIR = Path(".proofmarket/cluster")
DEV_MODE_ENV = "PROOFMARKET_DEV_MODE"
STARK_PROFILE_ENV = "PROOFMARKET_STARK_PROFILE"
DEFAULT_STARK_PROFILE = "default"
INSECURE_STARK_PROFILE = "test-insecure"  # fast, ~36 bits: tests only
# ``proofmarket.stark.params.PROFILES`` names, listed here so that reading a config does
# not import the STARK engine (numba, seconds); a test keeps the two in step.
STARK_PROFILES = (DEFAULT_STARK_PROFILE, "conservative", INSECURE_STARK_PROFILE)
DEFAULT_SEGMENT_PO2 = 20
MCYCLE = 1 << 20
# Bento's default is 100,000 Mcycles (unbounded in practice); a looping guest must not
# keep the cluster cutting segments for hours, so the cluster uses the project default.
DEFAULT_EXEC_CYCLE_LIMIT_MCYCLES = -(-DEFAULT_CYCLE_LIMIT // MCYCLE)

# Worker types (Bento's consts).
EXEC_WORK_TYPE = "exec"
PROVE_WORK_TYPE = "prove"
JOIN_WORK_TYPE = "join"
AUX_WORK_TYPE = "aux"
WORKER_TYPES = (EXEC_WORK_TYPE, PROVE_WORK_TYPE, JOIN_WORK_TYPE, AUX_WORK_TYPE)


@dataclass(frozen=True)
class TaskLimits:
    """Retries and timeouts (seconds) per task type: Bento's agent defaults, except
    ``init``: timeouts count *silence* (agents heartbeat every 2 s), so a lost exec agent
    is detected in seconds instead of Bento's 4 hours, and a re-run is idempotent, so it
    may be retried (Bento: 0 retries, 14 400 s)."""

    exec_retries: int = 3
    exec_timeout: int = 20
    prove_retries: int = 3
    prove_timeout: int = 30
    join_retries: int = 3
    join_timeout: int = 10
    resolve_retries: int = 3
    resolve_timeout: int = 120
    finalize_retries: int = 0
    finalize_timeout: int = 10


@dataclass(frozen=True)
class ClusterConfig:
    database_url: str
    segment_store_url: str
    object_store_url: str
    s3_bucket: str = DEFAULT_S3_BUCKET
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_region: str = DEFAULT_S3_REGION
    s3_create_bucket: bool = True
    redis_ttl: int = DEFAULT_REDIS_TTL
    redis_prefix: str = ""
    segment_po2: int = DEFAULT_SEGMENT_PO2
    exec_cycle_limit_mcycles: int = DEFAULT_EXEC_CYCLE_LIMIT_MCYCLES
    join_stream: bool = False  # Bento's JOIN_STREAM: joins/resolve go to `join` agents
    dev_mode: bool = False  # True: DEV MODE receipts (segments replayed, nothing proven)
    stark_profile: str = DEFAULT_STARK_PROFILE  # STARK parameter profile of segment seals
    limits: TaskLimits = field(default_factory=TaskLimits)

    def __post_init__(self) -> None:
        if self.stark_profile not in STARK_PROFILES:
            raise ValueError(
                f"unknown STARK profile {self.stark_profile!r}; choose one of "
                f"{', '.join(STARK_PROFILES)}"
            )

    @property
    def insecure_profile(self) -> bool:
        """Seals made with the test profile: finalize must allow insecure parameters."""
        return self.stark_profile == INSECURE_STARK_PROFILE

    @property
    def receipt_kind(self) -> str:
        """What this cluster's prove agents issue, for logs and reports."""
        return "DEV MODE" if self.dev_mode else f"STARK ({self.stark_profile} profile)"

    @property
    def join_worker_type(self) -> str:
        return JOIN_WORK_TYPE if self.join_stream else PROVE_WORK_TYPE

    def with_(self, **changes: object) -> ClusterConfig:
        return replace(self, **changes)  # type: ignore[arg-type]

    def open_segment_store(self) -> SegmentStore:
        return open_segment_store(
            self.segment_store_url, redis_ttl=self.redis_ttl, redis_prefix=self.redis_prefix
        )

    def open_object_store(self) -> ObjectStore:
        return open_object_store(
            self.object_store_url,
            bucket=self.s3_bucket,
            access_key=self.s3_access_key,
            secret_key=self.s3_secret_key,
            region=self.s3_region,
            create_bucket=self.s3_create_bucket,
        )


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def dev_mode_from_env() -> bool:
    """``PROOFMARKET_DEV_MODE=1`` (or true/yes) turns dev mode on; unset means real proving."""
    return os.environ.get(DEV_MODE_ENV, "").strip().lower() in ("1", "true", "yes")


def resolve_config(
    *,
    data_dir: Path | None = None,
    database_url: str | None = None,
    redis_url: str | None = None,
    s3_url: str | None = None,
    storage_dir: Path | None = None,
    s3_bucket: str | None = None,
    redis_ttl: int | None = None,
    segment_po2: int | None = None,
    join_stream: bool | None = None,
    limits: TaskLimits | None = None,
    create_dirs: bool = True,
    dev_mode: bool | None = None,
    stark_profile: str | None = None,
) -> ClusterConfig:
    """Options first, then Bento's environment variables, then the embedded defaults.

    ``dev_mode=None`` reads ``PROOFMARKET_DEV_MODE`` (off unless set); ``stark_profile=None``
    reads ``PROOFMARKET_STARK_PROFILE`` (else ``default``). ``ValueError`` on an unknown
    profile.

    ``create_dirs=False`` is for read-only commands (``cluster status``): nothing is
    created on disk for a data directory that no cluster has used.
    """
    root = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    storage_root = Path(storage_dir) if storage_dir is not None else root
    db = database_url or os.environ.get("DATABASE_URL") or f"sqlite:///{root / 'taskdb.sqlite'}"
    seg = redis_url or os.environ.get("REDIS_URL") or str(storage_root / "segments")
    obj = s3_url or os.environ.get("S3_URL") or str(storage_root / "objects")
    if not (db.startswith("sqlite:") or "://" in db):
        raise ValueError(f"database URL {db!r} must be sqlite:///PATH or postgresql://...")
    if db.startswith("sqlite:///") and create_dirs:
        Path(db[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    return ClusterConfig(
        database_url=db,
        segment_store_url=seg,
        object_store_url=obj,
        s3_bucket=s3_bucket or os.environ.get("S3_BUCKET") or DEFAULT_S3_BUCKET,
        s3_access_key=os.environ.get("S3_ACCESS_KEY"),
        s3_secret_key=os.environ.get("S3_SECRET_KEY"),
        s3_region=os.environ.get("S3_REGION") or DEFAULT_S3_REGION,
        redis_ttl=redis_ttl if redis_ttl is not None else DEFAULT_REDIS_TTL,
        segment_po2=segment_po2 if segment_po2 is not None else DEFAULT_SEGMENT_PO2,
        join_stream=join_stream if join_stream is not None else _env_flag("JOIN_STREAM"),
        dev_mode=dev_mode if dev_mode is not None else dev_mode_from_env(),
        stark_profile=(
            stark_profile or os.environ.get(STARK_PROFILE_ENV, "").strip() or DEFAULT_STARK_PROFILE
        ),
        limits=limits or TaskLimits(),
        exec_cycle_limit_mcycles=-(-default_cycle_limit() // MCYCLE),
    )
