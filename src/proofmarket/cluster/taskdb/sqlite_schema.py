"""SQLite schema migrations, in order; each is a list of statements applied in one transaction.

Never edit a released migration: append a new one.
"""

from __future__ import annotations

SCHEMA_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS taskdb_schema_version (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at REAL NOT NULL
)
"""

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "initial schema",
        [
            """
            CREATE TABLE streams (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL,
                worker_type TEXT NOT NULL,
                reserved INTEGER NOT NULL CHECK (reserved >= 0),
                be_mult REAL NOT NULL CHECK (be_mult > 0),
                created_at REAL NOT NULL,
                UNIQUE (user_id, worker_type)
            )
            """,
            "CREATE INDEX streams_by_worker_type ON streams (worker_type)",
            """
            CREATE TABLE jobs (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                state TEXT NOT NULL
                    CHECK (state IN ('running', 'done', 'failed', 'cancelled')),
                error TEXT,
                user_id TEXT NOT NULL,
                created_at REAL NOT NULL,
                finished_at REAL
            )
            """,
            "CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state <> 'running'",
            "CREATE INDEX jobs_by_user ON jobs (user_id, seq)",
            """
            CREATE TABLE tasks (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                job_id TEXT NOT NULL REFERENCES jobs (id),
                task_id TEXT NOT NULL,
                stream_id TEXT NOT NULL REFERENCES streams (id),
                worker_type TEXT NOT NULL,
                job_seq INTEGER NOT NULL,
                task_def TEXT NOT NULL,
                prerequisites TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN
                    ('pending', 'ready', 'running', 'done', 'failed', 'cancelled')),
                created_at REAL NOT NULL,
                started_at REAL,
                updated_at REAL,
                waiting_on INTEGER NOT NULL,
                progress REAL NOT NULL DEFAULT 0.0,
                retries INTEGER NOT NULL DEFAULT 0,
                max_retries INTEGER NOT NULL,
                timeout_secs INTEGER NOT NULL,
                output TEXT,
                error TEXT,
                UNIQUE (job_id, task_id)
            )
            """,
            "CREATE INDEX tasks_ready ON tasks (stream_id, job_seq, seq) WHERE state = 'ready'",
            "CREATE INDEX tasks_ready_by_type ON tasks (worker_type) WHERE state = 'ready'",
            "CREATE INDEX tasks_running ON tasks (stream_id) WHERE state = 'running'",
            "CREATE INDEX tasks_unfinished ON tasks (job_id) WHERE state <> 'done'",
            "CREATE INDEX tasks_by_stream ON tasks (stream_id)",
            """
            CREATE TABLE task_deps (
                job_id TEXT NOT NULL,
                pre_task_id TEXT NOT NULL,
                post_task_id TEXT NOT NULL,
                PRIMARY KEY (job_id, pre_task_id, post_task_id),
                FOREIGN KEY (job_id, pre_task_id) REFERENCES tasks (job_id, task_id),
                FOREIGN KEY (job_id, post_task_id) REFERENCES tasks (job_id, task_id)
            )
            """,
            "CREATE INDEX task_deps_post ON task_deps (job_id, post_task_id)",
            """
            CREATE TABLE workers (
                id TEXT PRIMARY KEY,
                worker_type TEXT NOT NULL,
                host TEXT NOT NULL,
                registered_at REAL NOT NULL,
                last_seen REAL NOT NULL
            )
            """,
        ],
    ),
    (
        2,
        "asynchronous heartbeats, workers by last_seen",
        ["CREATE INDEX workers_last_seen ON workers (last_seen)"],
    ),
    (
        3,
        "pending tasks index for maintenance",
        ["CREATE INDEX tasks_pending ON tasks (job_id) WHERE state = 'pending'"],
    ),
    (
        4,
        "waiting request_work calls, so only as many claim as there is ready work",
        [
            """
            CREATE TABLE taskdb_waiters (
                id TEXT PRIMARY KEY,
                worker_type TEXT NOT NULL,
                since REAL NOT NULL
            )
            """,
            "CREATE INDEX taskdb_waiters_by_type ON taskdb_waiters (worker_type, since, id)",
        ],
    ),
]
