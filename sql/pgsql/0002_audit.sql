-- 0002_audit: the append-only, hash-chained audit trail (src/mod/audit).
-- audit_log holds one row per recorded write; seq counts 1, 2, 3... per
-- tenant and hash = SHA-256(prev_hash || "\n" || canonical entry text).
-- audit_chain holds each tenant's head (last seq and hash); audit_record
-- updates it first, so concurrent writers of one tenant queue on its row lock.
CREATE TABLE audit_log (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	seq BIGINT NOT NULL,
	at TEXT NOT NULL,
	actor_type TEXT NOT NULL,
	actor_id TEXT,
	ip TEXT,
	action TEXT NOT NULL,
	entity TEXT NOT NULL,
	entity_id TEXT,
	before_json TEXT,
	after_json TEXT,
	reason TEXT,
	request_id TEXT,
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL,
	UNIQUE (tenant_id, seq)
);
CREATE INDEX audit_log_tenant_at ON audit_log (tenant_id, at);
CREATE INDEX audit_log_tenant_entity ON audit_log (tenant_id, entity, entity_id);
CREATE INDEX audit_log_tenant_actor ON audit_log (tenant_id, actor_id);
CREATE INDEX audit_log_tenant_action ON audit_log (tenant_id, action);

CREATE TABLE audit_chain (
	tenant_id TEXT PRIMARY KEY,
	last_seq BIGINT NOT NULL,
	last_hash TEXT NOT NULL
);

-- Append-only, enforced by the database (rows and TRUNCATE).
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
