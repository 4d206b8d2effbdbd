-- 0010_dte (SQLite): El Salvador DTEs (docs/dte-flow.md). One row of dtes per DTE of a billing
-- document: its signed text exactly as sent (document_text, jws), MH's answer, the transmission
-- counters of MH's retry policy; row_seq orders a tenant's rows by creation (sequences row "dte-row").
-- dte_events: the eventos de contingencia and de invalidación sent to MH. dte_history: every state
-- change of a DTE. dte_mh_tokens: MH API tokens (encrypted with the data key, associated data
-- "mh-token:<tenant>:<user>") cached until they expire. Timestamps UTC text; fec_emi/hor_emi are
-- America/El_Salvador local as MH wants them. Every row carries tenant_id.

CREATE TABLE dtes (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	document_id TEXT NOT NULL REFERENCES billing_documents (id),
	row_seq INTEGER NOT NULL DEFAULT 0,
	tipo_dte TEXT NOT NULL CHECK (tipo_dte IN ('01', '03', '05', '06', '14')),
	version INTEGER NOT NULL DEFAULT 0,
	ambiente TEXT NOT NULL CHECK (ambiente IN ('00', '01')),
	codigo_generacion TEXT NOT NULL UNIQUE,
	numero_control TEXT,
	control_year TEXT,
	fec_emi TEXT,
	hor_emi TEXT,
	status TEXT NOT NULL
		CHECK (status IN ('queued', 'pending', 'contingency', 'accepted', 'rejected', 'error', 'invalidated')),
	tipo_requested TEXT,
	tipo_modelo INTEGER NOT NULL DEFAULT 0,
	tipo_operacion INTEGER NOT NULL DEFAULT 0,
	tipo_contingencia INTEGER NOT NULL DEFAULT 0,
	document_text TEXT,
	jws TEXT,
	normal_text TEXT,
	normal_jws TEXT,
	sello TEXT,
	fh_procesamiento TEXT,
	clasifica_msg TEXT,
	codigo_msg TEXT,
	descripcion_msg TEXT,
	observaciones TEXT,
	last_error TEXT,
	attempts INTEGER NOT NULL DEFAULT 0,
	send_failures INTEGER NOT NULL DEFAULT 0,
	sent INTEGER NOT NULL DEFAULT 0 CHECK (sent IN (0, 1)),
	submit_gen INTEGER NOT NULL DEFAULT 0,
	related_codigo TEXT,
	replaces TEXT,
	replaced_by TEXT,
	contingency_event_id TEXT,
	invalidation_event_id TEXT,
	total_cents INTEGER NOT NULL DEFAULT 0,
	iva_cents INTEGER NOT NULL DEFAULT 0,
	auto_submit INTEGER NOT NULL DEFAULT 0 CHECK (auto_submit IN (0, 1)),
	created_by TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	issued_at TEXT,
	accepted_at TEXT,
	invalidated_at TEXT
);
-- numeroControl never repeats within a year for an emisor (MH Manual Funcional §XI).
CREATE UNIQUE INDEX dtes_numero_control_uq ON dtes (tenant_id, control_year, numero_control)
	WHERE numero_control IS NOT NULL;
-- At most one DTE of a document in flight: the automatic flow, a submit and a retry cannot race.
CREATE UNIQUE INDEX dtes_in_flight_uq ON dtes (tenant_id, document_id)
	WHERE status IN ('queued', 'pending', 'contingency');
CREATE INDEX dtes_document_idx ON dtes (tenant_id, document_id, row_seq);
CREATE INDEX dtes_status_idx ON dtes (tenant_id, status, created_at);
CREATE INDEX dtes_related_idx ON dtes (tenant_id, related_codigo);
CREATE INDEX dtes_work_idx ON dtes (status, updated_at);

CREATE TABLE dte_events (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	kind TEXT NOT NULL CHECK (kind IN ('contingencia', 'invalidacion')),
	status TEXT NOT NULL CHECK (status IN ('open', 'sending', 'accepted', 'rejected', 'failed')),
	codigo_generacion TEXT UNIQUE,
	dte_id TEXT,
	event_text TEXT,
	jws TEXT,
	f_inicio TEXT,
	h_inicio TEXT,
	f_fin TEXT,
	h_fin TEXT,
	tipo_anulacion INTEGER,
	codigo_generacion_r TEXT,
	sello TEXT,
	fh_procesamiento TEXT,
	codigo_msg TEXT,
	descripcion_msg TEXT,
	observaciones TEXT,
	attempts INTEGER NOT NULL DEFAULT 0,
	last_error TEXT,
	created_by TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE INDEX dte_events_tenant_idx ON dte_events (tenant_id, kind, status, created_at);
-- One collecting contingency event per tenant.
CREATE UNIQUE INDEX dte_events_open_uq ON dte_events (tenant_id) WHERE kind = 'contingencia' AND status = 'open';

CREATE TABLE dte_history (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	dte_id TEXT NOT NULL REFERENCES dtes (id),
	n INTEGER NOT NULL,
	at TEXT NOT NULL,
	from_status TEXT,
	to_status TEXT NOT NULL,
	note TEXT,
	actor TEXT
);
CREATE UNIQUE INDEX dte_history_seq_uq ON dte_history (tenant_id, dte_id, n);

CREATE TABLE dte_mh_tokens (
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	mh_user TEXT NOT NULL,
	endpoint TEXT NOT NULL,
	token_enc TEXT NOT NULL,
	expires_at INTEGER NOT NULL,
	updated_at TEXT NOT NULL,
	PRIMARY KEY (tenant_id, mh_user, endpoint)
);
