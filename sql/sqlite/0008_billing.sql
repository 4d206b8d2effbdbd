-- 0008_billing (SQLite): billing documents (invoices of the billing-service
-- contract and orders of the clinic contract are one row each), their lines,
-- payments and refunds (docs/billing.md). Money in BIGINT minor units of the
-- document's currency (minor_units decimals); quantities milli-units
-- (QTY_SCALE 3); percentages PCT_SCALE 4 (13 % = 130000); dates "YYYY-MM-DD";
-- timestamps UTC "YYYY-MM-DDTHH:MM:SSZ". Every row carries tenant_id.

CREATE TABLE billing_documents (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants(id),
	number TEXT NOT NULL,
	source TEXT NOT NULL,
	patient_id TEXT,
	facility_id TEXT,
	invoice_type TEXT,
	status TEXT NOT NULL CHECK (status IN ('draft', 'pending', 'partially_paid', 'paid', 'overdue', 'cancelled', 'refunded')),
	currency TEXT NOT NULL,
	minor_units INTEGER NOT NULL CHECK (minor_units BETWEEN 0 AND 4),
	invoice_date TEXT NOT NULL,
	due_date TEXT,
	payment_terms TEXT,
	grace_period_days INTEGER NOT NULL DEFAULT 0,
	late_fee_pct INTEGER NOT NULL DEFAULT 0,
	late_fee_minor INTEGER NOT NULL DEFAULT 0,
	late_fee_applied_at TEXT,
	prices_include_tax INTEGER NOT NULL DEFAULT 0 CHECK (prices_include_tax IN (0, 1)),
	subtotal_minor INTEGER NOT NULL,
	discount_minor INTEGER NOT NULL,
	doc_discount_minor INTEGER NOT NULL DEFAULT 0,
	tax_minor INTEGER NOT NULL,
	tax_override_minor INTEGER,
	total_minor INTEGER NOT NULL,
	paid_minor INTEGER NOT NULL DEFAULT 0,
	refunded_minor INTEGER NOT NULL DEFAULT 0,
	balance_minor INTEGER NOT NULL,
	description TEXT,
	internal_notes TEXT,
	notes TEXT,
	external_ref TEXT,
	cancelled_at TEXT,
	cancel_reason TEXT,
	paid_at TEXT,
	created_by TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	tax_doc_type TEXT CHECK (tax_doc_type IS NULL OR tax_doc_type IN ('01', '03')),
	version INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX billing_documents_number_uq ON billing_documents (tenant_id, number);
CREATE UNIQUE INDEX billing_documents_ref_uq ON billing_documents (tenant_id, external_ref) WHERE external_ref IS NOT NULL;
CREATE INDEX billing_documents_list_idx ON billing_documents (tenant_id, invoice_date, created_at, number);
CREATE INDEX billing_documents_patient_idx ON billing_documents (tenant_id, patient_id, invoice_date);
CREATE INDEX billing_documents_facility_idx ON billing_documents (tenant_id, facility_id, invoice_date);
CREATE INDEX billing_documents_status_idx ON billing_documents (tenant_id, status, invoice_date, created_at, number); -- the list order: no sort
CREATE INDEX billing_documents_type_idx ON billing_documents (tenant_id, invoice_type, invoice_date);
CREATE INDEX billing_documents_source_idx ON billing_documents (tenant_id, source, invoice_date);
CREATE INDEX billing_documents_total_idx ON billing_documents (tenant_id, total_minor);
CREATE INDEX billing_documents_due_idx ON billing_documents (status, due_date);

CREATE TABLE billing_lines (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants(id),
	document_id TEXT NOT NULL REFERENCES billing_documents(id),
	line_number INTEGER NOT NULL,
	service_id TEXT,
	item_type TEXT,
	item_name TEXT NOT NULL,
	item_code TEXT,
	procedure_code TEXT,
	description TEXT,
	unit_of_measure TEXT,
	quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
	unit_price_minor INTEGER NOT NULL CHECK (unit_price_minor >= 0),
	discount_pct INTEGER NOT NULL DEFAULT 0,
	discount_minor INTEGER NOT NULL DEFAULT 0,
	tax_treatment TEXT NOT NULL CHECK (tax_treatment IN ('taxable', 'exempt', 'not_subject')),
	tax_pct INTEGER NOT NULL DEFAULT 0,
	net_minor INTEGER NOT NULL,
	tax_minor INTEGER NOT NULL,
	total_minor INTEGER NOT NULL,
	service_date TEXT,
	service_provider_id TEXT,
	diagnosis_codes TEXT,
	UNIQUE (document_id, line_number)
);
CREATE INDEX billing_lines_doc_idx ON billing_lines (tenant_id, document_id, line_number);
CREATE INDEX billing_lines_service_idx ON billing_lines (tenant_id, service_id);

CREATE TABLE payments (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants(id),
	document_id TEXT NOT NULL REFERENCES billing_documents(id),
	method TEXT NOT NULL CHECK (method IN ('cash', 'card_present', 'card_online', 'bank_transfer', 'mobile_money', 'insurance', 'other')),
	method_detail TEXT,
	amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
	currency TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'failed', 'refunded')),
	refunded_minor INTEGER NOT NULL DEFAULT 0,
	gateway TEXT NOT NULL CHECK (gateway IN ('manual', 'gateway', 'stripe')),
	gateway_payment_id TEXT,
	gateway_reference TEXT,
	stripe_charge_id TEXT,
	card_brand TEXT,
	card_last4 TEXT,
	receipt_url TEXT,
	failure_reason TEXT,
	confirmed_at TEXT,
	failed_at TEXT,
	created_by TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	CHECK (amount_minor > 0 OR status = 'failed')
);
CREATE UNIQUE INDEX payments_gateway_uq ON payments (tenant_id, gateway_payment_id) WHERE gateway_payment_id IS NOT NULL;
CREATE INDEX payments_doc_idx ON payments (tenant_id, document_id, created_at);
CREATE INDEX payments_list_idx ON payments (tenant_id, created_at);
CREATE INDEX payments_status_idx ON payments (tenant_id, status, method, created_at);
CREATE INDEX payments_confirmed_idx ON payments (tenant_id, confirmed_at); -- the payments report (cash basis)

CREATE TABLE refunds (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants(id),
	payment_id TEXT NOT NULL REFERENCES payments(id),
	document_id TEXT NOT NULL REFERENCES billing_documents(id),
	amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
	reason TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
	gateway_refund_id TEXT,
	failure_reason TEXT,
	created_by TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX refunds_gateway_uq ON refunds (tenant_id, gateway_refund_id) WHERE gateway_refund_id IS NOT NULL;
CREATE INDEX refunds_payment_idx ON refunds (tenant_id, payment_id, created_at);
CREATE INDEX refunds_doc_idx ON refunds (tenant_id, document_id, created_at);
