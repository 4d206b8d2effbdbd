-- 0003_jobs: the durable job queue (src/jobs, documented in src/jobs/jobs.h).
-- One row per job. tenant_id is the tenant the job concerns, or '-' for
-- global maintenance; never ''. state moves queued -> running ->
-- succeeded | failed (retried at run_at) | dead. A running row whose
-- locked_until has passed is claimed again (its worker died).
-- dedupe_key is UNIQUE (NULLs allowed, any number of them): enqueuing with a
-- key that exists inserts nothing; the scheduler uses "sched:<name>:<slot>".
CREATE TABLE jobs (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL CHECK (tenant_id <> ''),
	kind TEXT NOT NULL CHECK (kind <> ''),
	payload TEXT NOT NULL DEFAULT '{}',
	state TEXT NOT NULL DEFAULT 'queued'
		CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
	attempts BIGINT NOT NULL DEFAULT 0,
	max_attempts BIGINT NOT NULL DEFAULT 5,
	run_at TEXT NOT NULL,
	locked_by TEXT,
	locked_until TEXT,
	last_error TEXT,
	dedupe_key TEXT UNIQUE,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	finished_at TEXT
);
-- The claim: due queued/failed rows by run_at, expired running rows.
CREATE INDEX jobs_state_run_at ON jobs (state, run_at);
-- GET /api/jobs: a tenant's jobs by state, newest first.
CREATE INDEX jobs_tenant_state ON jobs (tenant_id, state, created_at);
