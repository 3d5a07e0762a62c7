"""PostgreSQL schema migrations, in order, each applied in one transaction.

Hot paths are PL/pgSQL functions (one round trip per operation, locks taken in one fixed
order: job row first, then task rows). Never edit a released migration: append a new one.

Custom SQLSTATEs raised by the functions: ``PMJ01`` unknown job, ``PMS01`` unknown stream,
``PMT01`` unknown prerequisite task (the message carries the id).
"""

from __future__ import annotations

SCHEMA_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS taskdb_schema_version (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""

READY_CHANNEL_PREFIX = "taskdb_ready_"  # migrations 1-3 broadcast on these
WAITER_CHANNEL_PREFIX = "taskdb_w_"

_INITIAL = r"""
CREATE TABLE streams (
    id uuid PRIMARY KEY,
    user_id text NOT NULL,
    worker_type text NOT NULL,
    reserved integer NOT NULL CHECK (reserved >= 0),
    be_mult double precision NOT NULL CHECK (be_mult > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, worker_type)
);
CREATE INDEX streams_by_worker_type ON streams (worker_type);

CREATE TABLE jobs (
    id uuid PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    state text NOT NULL CHECK (state IN ('running', 'done', 'failed', 'cancelled')),
    error text,
    user_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state <> 'running';
CREATE INDEX jobs_by_user ON jobs (user_id, seq);

CREATE TABLE tasks (
    job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    task_id text NOT NULL,
    stream_id uuid NOT NULL REFERENCES streams (id),
    worker_type text NOT NULL,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    job_seq bigint NOT NULL,
    task_def jsonb NOT NULL,
    prerequisites jsonb NOT NULL,
    state text NOT NULL CHECK (state IN
        ('pending', 'ready', 'running', 'done', 'failed', 'cancelled')),
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    updated_at timestamptz,
    waiting_on integer NOT NULL,
    progress real NOT NULL DEFAULT 0.0,
    retries integer NOT NULL DEFAULT 0,
    max_retries integer NOT NULL,
    timeout_secs integer NOT NULL,
    output jsonb,
    error text,
    PRIMARY KEY (job_id, task_id)
);
CREATE INDEX tasks_ready ON tasks (stream_id, job_seq, seq) WHERE state = 'ready';
CREATE INDEX tasks_running ON tasks (stream_id) WHERE state = 'running';
CREATE INDEX tasks_unfinished ON tasks (job_id) WHERE state <> 'done';
CREATE INDEX tasks_pending ON tasks (job_id) WHERE state = 'pending';

CREATE TABLE task_deps (
    job_id uuid NOT NULL,
    pre_task_id text NOT NULL,
    post_task_id text NOT NULL,
    PRIMARY KEY (job_id, pre_task_id, post_task_id),
    FOREIGN KEY (job_id, pre_task_id) REFERENCES tasks (job_id, task_id) ON DELETE CASCADE,
    FOREIGN KEY (job_id, post_task_id) REFERENCES tasks (job_id, task_id) ON DELETE CASCADE
);
CREATE INDEX task_deps_post ON task_deps (job_id, post_task_id);

CREATE TABLE workers (
    id text PRIMARY KEY,
    worker_type text NOT NULL,
    host text NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    last_seen timestamptz NOT NULL DEFAULT now()
);

-- Lower is served first: below the reservation in [-1, 0), above it (running-reserved)/be_mult.
CREATE FUNCTION stream_priority(p_running bigint, p_reserved integer, p_be_mult double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_running < p_reserved
                THEN (p_running - p_reserved)::double precision / p_reserved
                ELSE (p_running - p_reserved) / p_be_mult END
$$;

CREATE FUNCTION notify_ready(p_worker_type text, p_job uuid, p_task text)
RETURNS void LANGUAGE sql AS $$
    SELECT pg_notify('taskdb_ready_' || p_worker_type, p_job::text || ':' || p_task)
$$;

CREATE FUNCTION get_or_create_stream(p_user text, p_worker_type text, p_reserved integer,
                                     p_be_mult double precision)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid;
BEGIN
    SELECT s.id INTO v_id FROM streams s WHERE s.user_id = p_user AND s.worker_type = p_worker_type;
    IF FOUND THEN
        RETURN v_id;
    END IF;
    INSERT INTO streams (id, user_id, worker_type, reserved, be_mult)
    VALUES (gen_random_uuid(), p_user, p_worker_type, p_reserved, p_be_mult)
    ON CONFLICT (user_id, worker_type) DO NOTHING
    RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        SELECT s.id INTO v_id FROM streams s
        WHERE s.user_id = p_user AND s.worker_type = p_worker_type;
    END IF;
    RETURN v_id;
END $$;

CREATE FUNCTION create_job(p_stream uuid, p_task_def jsonb, p_max_retries integer,
                           p_timeout_secs integer, p_user text)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_job uuid := gen_random_uuid();
    v_worker_type text;
    v_seq bigint;
BEGIN
    SELECT s.worker_type INTO v_worker_type FROM streams s WHERE s.id = p_stream;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'PMS01', MESSAGE = p_stream::text;
    END IF;
    INSERT INTO jobs (id, state, user_id) VALUES (v_job, 'running', p_user)
    RETURNING seq INTO v_seq;
    INSERT INTO tasks (job_id, task_id, stream_id, worker_type, job_seq, task_def, prerequisites,
                       state, waiting_on, max_retries, timeout_secs)
    VALUES (v_job, 'init', p_stream, v_worker_type, v_seq, p_task_def, '[]'::jsonb,
            'ready', 0, p_max_retries, p_timeout_secs);
    PERFORM notify_ready(v_worker_type, v_job, 'init');
    RETURN v_job;
END $$;

-- Returns true when the task was inserted (false: it already existed).
CREATE FUNCTION create_task(p_job uuid, p_task text, p_stream uuid, p_task_def jsonb,
                            p_prereqs jsonb, p_max_retries integer, p_timeout_secs integer)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_job_state text;
    v_job_seq bigint;
    v_worker_type text;
    v_missing text;
    v_waiting integer;
    v_state text;
BEGIN
    -- FOR SHARE orders us against update_task_done/cancel of this job (they lock it first).
    SELECT j.state, j.seq INTO v_job_state, v_job_seq FROM jobs j WHERE j.id = p_job FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'PMJ01', MESSAGE = p_job::text;
    END IF;
    PERFORM 1 FROM tasks t WHERE t.job_id = p_job AND t.task_id = p_task;
    IF FOUND THEN
        RETURN false;
    END IF;
    SELECT s.worker_type INTO v_worker_type FROM streams s WHERE s.id = p_stream;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'PMS01', MESSAGE = p_stream::text;
    END IF;
    SELECT p.value INTO v_missing FROM jsonb_array_elements_text(p_prereqs) AS p(value)
    WHERE NOT EXISTS (SELECT 1 FROM tasks t WHERE t.job_id = p_job AND t.task_id = p.value)
    LIMIT 1;
    IF v_missing IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'PMT01', MESSAGE = v_missing;
    END IF;
    SELECT count(*) INTO v_waiting FROM tasks t
    WHERE t.job_id = p_job AND t.state <> 'done'
      AND t.task_id IN (SELECT jsonb_array_elements_text(p_prereqs));
    v_state := CASE WHEN v_job_state <> 'running' THEN 'cancelled'
                    WHEN v_waiting = 0 THEN 'ready' ELSE 'pending' END;
    INSERT INTO tasks (job_id, task_id, stream_id, worker_type, job_seq, task_def, prerequisites,
                       state, waiting_on, max_retries, timeout_secs)
    VALUES (p_job, p_task, p_stream, v_worker_type, v_job_seq, p_task_def, p_prereqs,
            v_state, v_waiting, p_max_retries, p_timeout_secs)
    ON CONFLICT (job_id, task_id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO task_deps (job_id, pre_task_id, post_task_id)
    SELECT p_job, p.value, p_task FROM jsonb_array_elements_text(p_prereqs) AS p(value);
    IF v_state = 'ready' THEN
        PERFORM notify_ready(v_worker_type, p_job, p_task);
    END IF;
    RETURN true;
END $$;

-- Claim: streams in priority order; in each the oldest job's oldest ready task that no
-- concurrent claimer holds (SKIP LOCKED); fall through to the next stream if all are held.
-- The claim commits asynchronously (no wait for the WAL flush): if the server crashes
-- right after, the claim may be lost and the task is simply ready again.
CREATE FUNCTION request_work(p_worker_type text)
RETURNS TABLE (r_job_id uuid, r_task_id text, r_task_def jsonb, r_prerequisites jsonb,
               r_max_retries integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_stream record;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    FOR v_stream IN
        SELECT st.id
        FROM streams st
        JOIN LATERAL (
            SELECT h.job_seq, h.seq FROM tasks h
            WHERE h.stream_id = st.id AND h.state = 'ready'
            ORDER BY h.job_seq, h.seq LIMIT 1) AS head ON true
        CROSS JOIN LATERAL (
            SELECT count(*) AS running FROM tasks x
            WHERE x.stream_id = st.id AND x.state = 'running') AS run
        WHERE st.worker_type = p_worker_type
        ORDER BY stream_priority(run.running, st.reserved, st.be_mult), st.reserved DESC,
                 head.job_seq, head.seq
    LOOP
        UPDATE tasks t SET state = 'running', started_at = now(), updated_at = now()
        WHERE (t.job_id, t.task_id) = (
            SELECT q.job_id, q.task_id FROM tasks q
            WHERE q.stream_id = v_stream.id AND q.state = 'ready'
            ORDER BY q.job_seq, q.seq LIMIT 1
            FOR UPDATE SKIP LOCKED)
        RETURNING t.job_id, t.task_id, t.task_def, t.prerequisites, t.max_retries
        INTO r_job_id, r_task_id, r_task_def, r_prerequisites, r_max_retries;
        IF FOUND THEN
            RETURN NEXT;
            RETURN;
        END IF;
    END LOOP;
END $$;

CREATE FUNCTION fail_job_locked(p_job uuid, p_error text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE jobs SET state = 'failed', error = p_error, finished_at = now()
    WHERE id = p_job AND state = 'running';
    IF FOUND THEN
        UPDATE tasks SET state = 'cancelled', updated_at = now()
        WHERE job_id = p_job AND state IN ('pending', 'ready');
    END IF;
END $$;

CREATE FUNCTION update_task_done(p_job uuid, p_task text, p_output jsonb)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_job_state text;
    v_dep record;
BEGIN
    -- The job lock serialises completions of one job: exactly one of two concurrent last
    -- completions sees all tasks done, and create_task sees a consistent prerequisite state.
    SELECT j.state INTO v_job_state FROM jobs j WHERE j.id = p_job FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE tasks SET state = 'done', progress = 1.0, output = p_output, updated_at = now()
    WHERE job_id = p_job AND task_id = p_task AND state IN ('ready', 'running');
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    FOR v_dep IN
        UPDATE tasks t
        SET waiting_on = t.waiting_on - 1,
            state = CASE WHEN t.waiting_on = 1 AND t.state = 'pending'
                         THEN 'ready' ELSE t.state END,
            updated_at = CASE WHEN t.waiting_on = 1 AND t.state = 'pending'
                              THEN now() ELSE t.updated_at END
        FROM task_deps d
        WHERE d.job_id = p_job AND d.pre_task_id = p_task
          AND t.job_id = p_job AND t.task_id = d.post_task_id
        RETURNING t.task_id, t.state, t.worker_type
    LOOP
        IF v_dep.state = 'ready' THEN
            PERFORM notify_ready(v_dep.worker_type, p_job, v_dep.task_id);
        END IF;
    END LOOP;
    IF v_job_state = 'running'
       AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.job_id = p_job AND t.state <> 'done') THEN
        UPDATE jobs SET state = 'done', finished_at = now() WHERE id = p_job;
    END IF;
    RETURN true;
END $$;

CREATE FUNCTION update_task_failed(p_job uuid, p_task text, p_error text)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM jobs j WHERE j.id = p_job FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE tasks SET state = 'failed', error = p_error, updated_at = now()
    WHERE job_id = p_job AND task_id = p_task AND state IN ('pending', 'ready', 'running');
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM fail_job_locked(p_job, p_error);
    RETURN true;
END $$;

-- Retry a running task: back to ready (retries+1) or, past max_retries, failed with its job.
-- p_only_timed_out re-checks the timeout under the row lock (for the requeue sweep).
-- Returns 'requeued', 'failed', 'cancelled' (job no longer running) or 'none'.
CREATE FUNCTION retry_task(p_job uuid, p_task text, p_reason text, p_only_timed_out boolean)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v_job_state text;
    v_task record;
    v_error text;
BEGIN
    SELECT j.state INTO v_job_state FROM jobs j WHERE j.id = p_job FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RETURN 'none';
    END IF;
    SELECT t.retries, t.max_retries, t.worker_type, t.timeout_secs, t.started_at, t.updated_at
    INTO v_task FROM tasks t
    WHERE t.job_id = p_job AND t.task_id = p_task AND t.state = 'running' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'none';
    END IF;
    IF p_only_timed_out AND NOT (now() - greatest(v_task.started_at, v_task.updated_at)
                                 > make_interval(secs => v_task.timeout_secs)) THEN
        RETURN 'none';
    END IF;
    IF v_job_state <> 'running' THEN
        UPDATE tasks SET state = 'cancelled', updated_at = now()
        WHERE job_id = p_job AND task_id = p_task;
        RETURN 'cancelled';
    END IF;
    IF v_task.retries + 1 > v_task.max_retries THEN
        v_error := CASE WHEN p_reason = '' THEN 'retry max hit'
                        ELSE p_reason || ': retry max hit' END;
        UPDATE tasks SET state = 'failed', error = v_error, updated_at = now()
        WHERE job_id = p_job AND task_id = p_task;
        PERFORM fail_job_locked(p_job, v_error);
        RETURN 'failed';
    END IF;
    UPDATE tasks
    SET state = 'ready', retries = retries + 1, progress = 0.0, error = NULL, started_at = NULL,
        updated_at = now()
    WHERE job_id = p_job AND task_id = p_task;
    PERFORM notify_ready(v_task.worker_type, p_job, p_task);
    RETURN 'requeued';
END $$;

-- Returns true when the job was running and is now cancelled; PMJ01 when unknown.
CREATE FUNCTION cancel_job(p_job uuid, p_user text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_state text;
    v_user text;
BEGIN
    SELECT j.state, j.user_id INTO v_state, v_user FROM jobs j WHERE j.id = p_job FOR NO KEY UPDATE;
    IF NOT FOUND OR (p_user IS NOT NULL AND v_user <> p_user) THEN
        RAISE EXCEPTION USING ERRCODE = 'PMJ01', MESSAGE = p_job::text;
    END IF;
    IF v_state <> 'running' THEN
        RETURN false;
    END IF;
    UPDATE jobs SET state = 'cancelled', finished_at = now() WHERE id = p_job;
    UPDATE tasks SET state = 'cancelled', updated_at = now()
    WHERE job_id = p_job AND state IN ('pending', 'ready');
    RETURN true;
END $$;

-- Pending tasks of running jobs whose prerequisites are all done become ready.
CREATE FUNCTION fix_stuck_pending_tasks()
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_task record;
    v_worker_type text;
    v_count integer := 0;
BEGIN
    FOR v_task IN
        SELECT t.job_id, t.task_id FROM tasks t JOIN jobs j ON j.id = t.job_id
        WHERE t.state = 'pending' AND j.state = 'running'
          AND NOT EXISTS (
              SELECT 1 FROM task_deps d JOIN tasks p
                  ON p.job_id = d.job_id AND p.task_id = d.pre_task_id
              WHERE d.job_id = t.job_id AND d.post_task_id = t.task_id AND p.state <> 'done')
        ORDER BY t.job_id
    LOOP
        PERFORM 1 FROM jobs j WHERE j.id = v_task.job_id AND j.state = 'running' FOR NO KEY UPDATE;
        CONTINUE WHEN NOT FOUND;
        UPDATE tasks t SET state = 'ready', waiting_on = 0, updated_at = now()
        WHERE t.job_id = v_task.job_id AND t.task_id = v_task.task_id AND t.state = 'pending'
          AND NOT EXISTS (
              SELECT 1 FROM task_deps d JOIN tasks p
                  ON p.job_id = d.job_id AND p.task_id = d.pre_task_id
              WHERE d.job_id = t.job_id AND d.post_task_id = t.task_id AND p.state <> 'done')
        RETURNING t.worker_type INTO v_worker_type;
        IF FOUND THEN
            v_count := v_count + 1;
            PERFORM notify_ready(v_worker_type, v_task.job_id, v_task.task_id);
        END IF;
    END LOOP;
    RETURN v_count;
END $$;
"""

_HEARTBEATS = r"""
CREATE INDEX workers_last_seen ON workers (last_seen);

-- Heartbeat / progress of a running task. Commits asynchronously: a heartbeat lost in a
-- server crash only brings the task's timeout closer.
CREATE FUNCTION task_heartbeat(p_job uuid, p_task text, p_progress real)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    UPDATE tasks
    SET updated_at = now(),
        progress = CASE WHEN p_progress IS NULL THEN progress
                        ELSE greatest(progress, p_progress) END
    WHERE job_id = p_job AND task_id = p_task AND state = 'running';
    RETURN FOUND;
END $$;
"""

_UNACKED = r"""
-- A claim whose reply never reached its agent (connection lost after the commit) is never
-- heartbeated: updated_at stays equal to started_at. Put such claims back to ready without
-- charging a retry (the task never ran); tasks of jobs no longer running are cancelled.
CREATE FUNCTION requeue_unacked_claims(p_older_than double precision, p_limit integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_task record;
    v_state text;
    v_count integer := 0;
BEGIN
    FOR v_task IN
        SELECT t.job_id, t.task_id FROM tasks t
        WHERE t.state = 'running' AND t.updated_at = t.started_at
          AND t.started_at < now() - make_interval(secs => p_older_than)
        ORDER BY t.seq LIMIT p_limit
    LOOP
        SELECT j.state INTO v_state FROM jobs j WHERE j.id = v_task.job_id FOR NO KEY UPDATE;
        CONTINUE WHEN NOT FOUND;
        UPDATE tasks t
        SET state = CASE WHEN v_state = 'running' THEN 'ready' ELSE 'cancelled' END,
            started_at = NULL, updated_at = now()
        WHERE t.job_id = v_task.job_id AND t.task_id = v_task.task_id AND t.state = 'running'
          AND t.updated_at = t.started_at
          AND t.started_at < now() - make_interval(secs => p_older_than);
        IF FOUND THEN
            v_count := v_count + 1;
            IF v_state = 'running' THEN
                PERFORM notify_ready((SELECT t.worker_type FROM tasks t
                                      WHERE t.job_id = v_task.job_id
                                        AND t.task_id = v_task.task_id),
                                     v_task.job_id, v_task.task_id);
            END IF;
        END IF;
    END LOOP;
    RETURN v_count;
END $$;
"""

_WAKE_ONE = r"""
-- Waiting request_work calls register here (one row per waiting call, refreshed about
-- every second while it waits); a task becoming ready wakes ONE of them by a NOTIFY on
-- that waiter's own channel instead of broadcasting to every listening agent.
CREATE UNLOGGED TABLE taskdb_waiters (
    id text PRIMARY KEY,
    worker_type text NOT NULL,
    channel text NOT NULL,
    since timestamptz NOT NULL
);
CREATE INDEX taskdb_waiters_by_type ON taskdb_waiters (worker_type, since);
CREATE INDEX taskdb_waiters_since ON taskdb_waiters (since);

CREATE OR REPLACE FUNCTION notify_ready(p_worker_type text, p_job uuid, p_task text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_id text;
    v_channel text;
BEGIN
    -- Rows not refreshed for 5 s belong to waiters that are gone (killed): skip them.
    DELETE FROM taskdb_waiters w WHERE w.id = (
        SELECT x.id FROM taskdb_waiters x
        WHERE x.worker_type = p_worker_type AND x.since > clock_timestamp() - interval '5 s'
        ORDER BY x.since LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING w.id, w.channel INTO v_id, v_channel;
    IF v_id IS NOT NULL THEN
        PERFORM pg_notify(v_channel, v_id);
    END IF;
END $$;

CREATE FUNCTION taskdb_wait(p_id text, p_worker_type text, p_channel text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    DELETE FROM taskdb_waiters WHERE since < clock_timestamp() - interval '60 s';
    INSERT INTO taskdb_waiters (id, worker_type, channel, since)
    VALUES (p_id, p_worker_type, p_channel, clock_timestamp())
    ON CONFLICT (id) DO UPDATE SET since = excluded.since;
END $$;

-- A waiter leaves. If a notifier had already picked it (its row is gone) the wake-up may
-- have been meant for work it did not take: pass it on to another waiter.
CREATE FUNCTION taskdb_unwait(p_id text, p_worker_type text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    DELETE FROM taskdb_waiters WHERE id = p_id;
    IF NOT FOUND AND EXISTS (SELECT 1 FROM tasks t
                             WHERE t.worker_type = p_worker_type AND t.state = 'ready') THEN
        PERFORM notify_ready(p_worker_type, NULL, '');
    END IF;
END $$;
"""

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "initial schema", _INITIAL),
    (2, "asynchronous heartbeats, workers by last_seen", _HEARTBEATS),
    (3, "requeue unacknowledged claims", _UNACKED),
    (4, "wake one waiter per ready task", _WAKE_ONE),
]
