-- 0011 fiscal (PostgreSQL): the fiscal-engine contract (docs/fiscal.md).
--   fiscal_receptores   buyers' fiscal identities; num_documento, nrc, telefono, correo encrypted
--                       (field_encrypt, aad = id); num_documento_bidx = blind index of
--                       "receptor:<tipoDocumento>:<canonical number>", unique per tenant (the upsert key)
--   fiscal_facturas     one row per factura = billing document (source 'factura'): the caller's
--                       referenciaExterna (unique per tenant), the request fingerprint, and a projection
--                       of its DTE's state kept by fiscal_on_dte_state in the DTE's own transactions
--   webhook_endpoints   a tenant's receivers; secret encrypted (aad = id); deleted_at = deactivated
--   webhook_events      each event once (payload without pdfUrl, added at delivery)
--   webhook_deliveries  one row per delivery ATTEMPT (the delivery log)
CREATE TABLE fiscal_receptores (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants(id),
	tipo_documento TEXT NOT NULL CHECK (tipo_documento IN ('13', '36', '02', '03', '37')),
	num_documento_enc TEXT NOT NULL,
	num_documento_bidx TEXT NOT NULL,
	nrc_enc TEXT,
	nombre TEXT NOT NULL,
	cod_actividad TEXT,
	desc_actividad TEXT,
	direccion_json TEXT,
	telefono_enc TEXT,
	correo_enc TEXT,
	patient_id TEXT REFERENCES patients(id),
	created_by TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX fiscal_receptores_doc_uq ON fiscal_receptores (tenant_id, num_documento_bidx);
CREATE INDEX fiscal_receptores_list_idx ON fiscal_receptores (tenant_id, created_at);
CREATE INDEX fiscal_receptores_patient_idx ON fiscal_receptores (tenant_id, patient_id);

CREATE TABLE fiscal_facturas (
	document_id TEXT PRIMARY KEY REFERENCES billing_documents(id),
	tenant_id TEXT NOT NULL REFERENCES tenants(id),
	referencia_externa TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	receptor_id TEXT REFERENCES fiscal_receptores(id),
	tipo_dte TEXT,
	codigo_generacion TEXT,
	numero_control TEXT,
	estado TEXT NOT NULL,
	sello TEXT,
	fh_procesamiento TEXT,
	codigo_msg TEXT,
	descripcion_msg TEXT,
	observaciones_json TEXT,
	estado_at TEXT NOT NULL,
	created_by TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX fiscal_facturas_ref_uq ON fiscal_facturas (tenant_id, referencia_externa);
CREATE INDEX fiscal_facturas_list_idx ON fiscal_facturas (tenant_id, created_at);
CREATE INDEX fiscal_facturas_estado_idx ON fiscal_facturas (tenant_id, estado, created_at);
CREATE INDEX fiscal_facturas_codigo_idx ON fiscal_facturas (tenant_id, codigo_generacion);

CREATE TABLE webhook_endpoints (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants(id),
	url TEXT NOT NULL,
	description TEXT,
	events_json TEXT NOT NULL,
	secret_enc TEXT NOT NULL,
	active BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	created_by TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	deleted_at TEXT
);
CREATE INDEX webhook_endpoints_tenant_idx ON webhook_endpoints (tenant_id, active, created_at);

CREATE TABLE webhook_events (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants(id),
	type TEXT NOT NULL,
	payload TEXT NOT NULL,
	created_at TEXT NOT NULL
);
CREATE INDEX webhook_events_tenant_idx ON webhook_events (tenant_id, created_at);

CREATE TABLE webhook_deliveries (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants(id),
	endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id),
	delivery_id TEXT NOT NULL,
	event_id TEXT NOT NULL REFERENCES webhook_events(id),
	event_type TEXT NOT NULL,
	attempt BIGINT NOT NULL,
	status_code BIGINT,
	duration_ms BIGINT NOT NULL,
	error TEXT,
	outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'retrying', 'dead')),
	next_retry_at TEXT,
	job_id TEXT,
	created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX webhook_deliveries_attempt_uq ON webhook_deliveries (delivery_id, attempt);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (tenant_id, endpoint_id, created_at);
