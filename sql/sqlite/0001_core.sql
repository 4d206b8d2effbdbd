-- 0001_core (SQLite): tenants, users, refresh sessions, API keys and
-- per-tenant sequences. schema_migrations is created by db_migrate itself.
-- Dialect: TEXT ids, timestamps TEXT UTC "YYYY-MM-DDTHH:MM:SSZ", flags INTEGER 0/1.

CREATE TABLE tenants (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	slug TEXT NOT NULL UNIQUE,
	kind TEXT NOT NULL CHECK (kind IN ('clinic', 'hospital', 'lab')),
	time_zone TEXT NOT NULL DEFAULT 'UTC',
	currency TEXT NOT NULL,
	country TEXT NOT NULL,
	settings TEXT NOT NULL DEFAULT '{}',
	active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);

CREATE TABLE users (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	email TEXT NOT NULL,
	email_norm TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	full_name TEXT NOT NULL DEFAULT '',
	role TEXT NOT NULL,
	active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	failed_logins INTEGER NOT NULL DEFAULT 0,
	locked_until TEXT,
	last_login_at TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	UNIQUE (email_norm)
);
CREATE INDEX users_tenant_idx ON users (tenant_id, created_at);

CREATE TABLE sessions (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	refresh_hash TEXT NOT NULL UNIQUE,
	expires_at TEXT NOT NULL,
	revoked_at TEXT,
	created_at TEXT NOT NULL,
	ip TEXT,
	user_agent TEXT
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE api_keys (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	name TEXT NOT NULL,
	prefix TEXT NOT NULL,
	key_hash TEXT NOT NULL UNIQUE,
	permissions TEXT NOT NULL DEFAULT '',
	created_by TEXT,
	created_at TEXT NOT NULL,
	revoked_at TEXT,
	last_used_at TEXT
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, created_at);
CREATE INDEX api_keys_prefix_idx ON api_keys (prefix);

CREATE TABLE api_key_tenants (
	api_key_id TEXT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	PRIMARY KEY (api_key_id, tenant_id)
);
CREATE INDEX api_key_tenants_tenant_idx ON api_key_tenants (tenant_id);

CREATE TABLE sequences (
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	name TEXT NOT NULL,
	next_value INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant_id, name)
);
