"""The commented ``broker.toml`` template written by ``proofmarket broker config-template``.

Every key of :class:`~proofmarket.broker.config.BrokerConfig` appears here with its meaning;
optional keys are commented out. A test parses the template and checks that no key is
missing, so the template cannot drift from the model.
"""

from __future__ import annotations

TEMPLATE = """\
# broker.toml: settings of `proofmarket broker run --config broker.toml`.
# The file is re-read while the broker runs (hot reload); an unknown key is an error.
# Amounts are decimal text: ETH for prices, whole collateral tokens (HP) for stake.

[market]
# Minimum price, in ETH per million cycles, for a request to be worth locking.
mcycle_price = "0.00001"
# Minimum reward, in collateral tokens per million cycles, for fulfilling a request whose
# lock another prover let lapse (the reward is half that prover's collateral).
mcycle_price_collateral_token = "0.001"
# Accepted for compatibility with older guides; unused.
# assumption_price = "0"
# Sustained proving throughput of the cluster share this broker may use, in kHz
# (1 kHz = 1000 cycles/s). Drives the deadline math before each lock. Unset: no check.
# Several brokers on one cluster: give each a share, the shares summing to the benchmark.
peak_prove_khz = 100
# Skip requests that expire in fewer than this many seconds.
min_deadline = 300
# On start, scan this many past blocks for requests still open.
lookback_blocks = 300
# Largest lock collateral (whole collateral tokens) this broker will post for one request.
# `max_collateral` is accepted as another name.
max_stake = "25"
# Image IDs (hex) whose preflight is skipped; their cycles are priced as 0 (use with care).
# skip_preflight_ids = []
# Largest program or input download, bytes.
max_file_size = 50_000_000
# Retries of a failed program/input download.
max_fetch_retries = 2
# Only take requests from these requestors (unset: anyone).
# allow_client_addresses = ["0x..."]
# Never take requests from these requestors.
# deny_requestor_addresses = ["0x..."]
# Requestors priced and locked first; they bypass max_mcycle_limit and max_file_size.
# priority_requestor_addresses = ["0x..."]
# Extra wei per gas added to the lock transaction's fees, to win lock races.
# lockin_priority_gas = 100
# Most orders committed at once (locked or being fulfilled). 0 stops new locks while
# committed orders finish (safe stop). Unset: unlimited. `max_concurrent_locks` also works.
max_concurrent_proofs = 2
# Most preflights (execute-only cluster sessions) running at once.
max_concurrent_preflights = 4
# Skip requests above this many million cycles (priority requestors exempt).
max_mcycle_limit = 8000
# Skip requests whose preflight journal is larger than this (the contract caps 2048 bytes).
max_journal_bytes = 10_000
# Refuse requests whose callback gas limit is above this.
max_callback_gas = 1_000_000
# Gas estimates used in pricing and in the wallet-balance check.
lockin_gas_estimate = 200_000
fulfill_gas_estimate = 750_000
# Cycles added to every order in the capacity math (aggregation work per order).
additional_proof_cycles = 0
# Order in which discovered requests are priced: observation_time | shortest_expiry | random.
order_pricing_priority = "observation_time"
# Order in which priced requests are locked: shortest_expiry | random.
order_commitment_priority = "shortest_expiry"
# How long a preflight result is reused for the same image and input, seconds.
preflight_cache_secs = 10_800

[prover]
# Cluster session status poll interval, milliseconds.
status_poll_ms = 1000
# Retries of a failed status poll before the session is considered lost.
status_poll_retry_count = 3
# Retries (and pause, ms) of a failed cluster REST call.
req_retry_count = 3
req_retry_sleep_ms = 500
# Retries (and pause, ms) of a whole proof that failed on the cluster.
proof_retry_count = 1
proof_retry_sleep_ms = 500
# Restarts of a failing service before the broker exits (unset: forever).
# max_critical_task_retries = 10
# Every this many seconds, committed orders past their expiry (+ grace) are failed.
reaper_interval_secs = 60
reaper_grace_period_secs = 10_800
# Longest preflight, seconds.
preflight_timeout_secs = 120

[batcher]
# Close a batch this many seconds after it was opened (unset: no age limit).
batch_max_time = 1000
# Close a batch once it holds this many proofs (`batch_size` also works).
min_batch_size = 1
# Close a batch once its journals total this many bytes.
batch_max_journal_bytes = 10_000
# Close a batch once its lock prices total this many ETH (unset: no fee trigger).
# batch_max_fees = "0.1"
# Close a batch when its earliest deadline is this close, seconds; also the safety margin
# added to the proving-time estimate before a lock.
block_deadline_buffer_secs = 180
# Seconds to wait for a transaction's confirmation.
txn_timeout = 45
# Aggregator loop interval, milliseconds.
batch_poll_time_ms = 1000
# Attempts to submit a batch (and pause between them, ms) before it is marked Failed.
max_submission_attempts = 2
submit_retry_delay_ms = 1500
"""


def write_template(path: str) -> None:
    """Write the template (refusing to overwrite is the caller's choice)."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(TEMPLATE)
