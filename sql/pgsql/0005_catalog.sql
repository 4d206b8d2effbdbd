-- 0005_catalog: the service catalog and its price history (docs/catalog.md).
-- Money in minor units of the row's currency; tax_rate_bp in basis points
-- (1300 = El Salvador IVA 13 %); timestamps UTC "YYYY-MM-DDTHH:MM:SSZ".
-- Codes are unique per tenant case-insensitively (codes are ASCII, so
-- lower() is exact). Rows are never deleted: "delete" sets active = 0.
-- code, name and category use the "C" collation so that sorting and lower()
-- behave as in SQLite (byte order, ASCII case folding).

CREATE TABLE services (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants(id),
	code TEXT COLLATE "C" NOT NULL,
	name TEXT COLLATE "C" NOT NULL,
	description TEXT,
	category TEXT COLLATE "C" NOT NULL,
	price_minor BIGINT NOT NULL CHECK (price_minor >= 0),
	currency TEXT NOT NULL,
	tax_treatment TEXT NOT NULL CHECK (tax_treatment IN ('taxable', 'exempt', 'not_subject')),
	tax_rate_bp BIGINT NOT NULL CHECK (tax_rate_bp >= 0),
	item_type TEXT NOT NULL CHECK (item_type IN ('good', 'service')),
	procedure_code TEXT,
	unit_of_measure BIGINT NOT NULL DEFAULT 59,
	active BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX services_tenant_code ON services (tenant_id, lower(code));
CREATE INDEX services_tenant_list ON services (tenant_id, active, category, name);

-- One row per period during which a price, currency and tax treatment held:
-- [valid_from, valid_to), valid_to NULL for the current row. seq orders a
-- service's rows (several changes can share one second).
CREATE TABLE service_prices (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants(id),
	service_id TEXT NOT NULL REFERENCES services(id),
	seq BIGINT NOT NULL,
	price_minor BIGINT NOT NULL CHECK (price_minor >= 0),
	currency TEXT NOT NULL,
	tax_treatment TEXT NOT NULL CHECK (tax_treatment IN ('taxable', 'exempt', 'not_subject')),
	tax_rate_bp BIGINT NOT NULL CHECK (tax_rate_bp >= 0),
	valid_from TEXT NOT NULL,
	valid_to TEXT,
	changed_by TEXT,
	reason TEXT,
	UNIQUE (service_id, seq)
);
CREATE INDEX service_prices_lookup ON service_prices (tenant_id, service_id, valid_from);
