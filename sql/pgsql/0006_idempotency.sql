-- 0006 idempotency: Idempotency-Key reservations and stored responses.
CREATE TABLE idempotency_keys (
	tenant_id TEXT NOT NULL,
	idem_key TEXT NOT NULL,
	method TEXT NOT NULL,
	path TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	state TEXT NOT NULL CHECK (state IN ('processing', 'committed', 'done')),
	status BIGINT,
	response TEXT,
	entity TEXT,
	entity_id TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	PRIMARY KEY (tenant_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
