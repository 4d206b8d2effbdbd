-- 0012_claims (PostgreSQL): a tenant's facilities (hospitals and their departments),
-- clinical activities (encounters recorded by clinical systems), insurance
-- claims with their lines and payments, insurers' remittances and how each was
-- allocated over claims, and the columns that make a billing document an
-- "expense" of the dashboard contract (docs/claims.md, docs/dashboard.md).
-- Money in BIGINT minor units (minor_units decimals); units milli (QTY_SCALE 3);
-- dates "YYYY-MM-DD"; timestamps UTC "YYYY-MM-DDTHH:MM:SSZ". Every row carries tenant_id.

CREATE TABLE facilities (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	kind TEXT NOT NULL CHECK (kind IN ('hospital', 'department')),
	parent_id TEXT REFERENCES facilities (id),
	name TEXT NOT NULL,
	name_norm TEXT NOT NULL,
	code TEXT,
	city TEXT,
	active BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	CHECK ((kind = 'hospital' AND parent_id IS NULL) OR (kind = 'department' AND parent_id IS NOT NULL))
);
CREATE UNIQUE INDEX facilities_name_uq ON facilities (tenant_id, kind, COALESCE(parent_id, ''), name_norm);
CREATE INDEX facilities_parent_idx ON facilities (tenant_id, parent_id, name_norm);

CREATE TABLE clinical_activities (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	caid BIGINT NOT NULL CHECK (caid > 0),
	patient_id TEXT NOT NULL REFERENCES patients (id),
	hospital_id TEXT NOT NULL REFERENCES facilities (id),
	department_id TEXT REFERENCES facilities (id),
	staff TEXT NOT NULL,
	activity_date TEXT NOT NULL,
	kind TEXT NOT NULL,
	notes TEXT,
	created_by TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	UNIQUE (tenant_id, caid)
);
CREATE INDEX clinical_activities_date_idx ON clinical_activities (tenant_id, activity_date);
CREATE INDEX clinical_activities_hospital_idx ON clinical_activities (tenant_id, hospital_id, activity_date);
CREATE INDEX clinical_activities_patient_idx ON clinical_activities (tenant_id, patient_id, activity_date);

-- An expense (dashboard contract) is a billing document of source 'expense'
-- linked 1:1 to its clinical activity; these columns are NULL on other documents.
ALTER TABLE billing_documents ADD COLUMN clinical_activity_id TEXT REFERENCES clinical_activities (id);
ALTER TABLE billing_documents ADD COLUMN expense_number BIGINT;
ALTER TABLE billing_documents ADD COLUMN expense_status TEXT CHECK (expense_status IS NULL OR expense_status IN ('awaiting_reimbursement', 'reimbursed', 'flagged', 'self_paid'));
ALTER TABLE billing_documents ADD COLUMN payer TEXT;
ALTER TABLE billing_documents ADD COLUMN department_id TEXT REFERENCES facilities (id);
ALTER TABLE billing_documents ADD COLUMN staff TEXT;
-- insurers' contractual adjustments (charges above the allowed amount), written off: balance = total - paid - adjustment
ALTER TABLE billing_documents ADD COLUMN insurance_adjustment_minor BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX billing_documents_activity_uq ON billing_documents (tenant_id, clinical_activity_id) WHERE clinical_activity_id IS NOT NULL;
CREATE UNIQUE INDEX billing_documents_expense_uq ON billing_documents (tenant_id, expense_number) WHERE expense_number IS NOT NULL;

CREATE TABLE claims (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	number TEXT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'pending', 'approved', 'paid', 'denied', 'appealed')),
	patient_id TEXT NOT NULL REFERENCES patients (id),
	policy_id TEXT REFERENCES patient_insurance_policies (id),
	insurer TEXT NOT NULL,
	insurer_norm TEXT NOT NULL,
	facility_id TEXT REFERENCES facilities (id),
	document_id TEXT REFERENCES billing_documents (id),
	clinical_activity_id TEXT REFERENCES clinical_activities (id),
	billing_account_id TEXT,
	claim_type TEXT NOT NULL CHECK (claim_type IN ('professional', 'institutional')),
	claim_format TEXT CHECK (claim_format IS NULL OR claim_format IN ('CMS1500', 'UB04')),
	service_date_from TEXT NOT NULL,
	service_date_to TEXT NOT NULL,
	rendering_provider_id TEXT,
	notes TEXT,
	currency TEXT NOT NULL,
	minor_units BIGINT NOT NULL CHECK (minor_units BETWEEN 0 AND 4),
	total_charges_minor BIGINT NOT NULL CHECK (total_charges_minor >= 0),
	allowed_minor BIGINT,
	paid_minor BIGINT NOT NULL DEFAULT 0 CHECK (paid_minor >= 0),
	adjustment_minor BIGINT NOT NULL DEFAULT 0 CHECK (adjustment_minor >= 0),
	patient_responsibility_minor BIGINT,
	outstanding_minor BIGINT NOT NULL CHECK (outstanding_minor >= 0),
	submitted_at TEXT,
	submitted_by TEXT,
	paid_at TEXT,
	denied_at TEXT,
	denial_code TEXT,
	denial_reason TEXT,
	appealed_at TEXT,
	appeal_notes TEXT,
	remittance TEXT,
	created_by TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	version BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX claims_number_uq ON claims (tenant_id, number);
CREATE INDEX claims_status_idx ON claims (tenant_id, status, created_at);
-- FIFO allocation of an insurer's payment: its open claims, oldest submission first
CREATE INDEX claims_insurer_open_idx ON claims (tenant_id, insurer_norm, submitted_at, number) WHERE outstanding_minor > 0;
CREATE INDEX claims_submitted_idx ON claims (tenant_id, submitted_at);
CREATE INDEX claims_document_idx ON claims (tenant_id, document_id);
CREATE INDEX claims_patient_idx ON claims (tenant_id, patient_id, created_at);

CREATE TABLE claim_lines (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	claim_id TEXT NOT NULL REFERENCES claims (id),
	line_number BIGINT NOT NULL,
	service_date TEXT NOT NULL,
	procedure_code TEXT NOT NULL,
	procedure_description TEXT,
	diagnosis_codes TEXT NOT NULL, -- JSON array of ICD-10-CM codes
	modifiers TEXT,                -- up to four 2-character modifiers, as given ("25", "25,59")
	units_milli BIGINT NOT NULL CHECK (units_milli > 0),
	charge_minor BIGINT NOT NULL CHECK (charge_minor >= 0),
	place_of_service TEXT,
	revenue_code TEXT,
	rendering_provider_id TEXT,
	billing_line_id TEXT,
	UNIQUE (claim_id, line_number)
);
CREATE INDEX claim_lines_claim_idx ON claim_lines (tenant_id, claim_id, line_number);

-- Insurers' remittances as received (POST /api/billing/insurance-payment):
-- unallocated_minor is the insurer's credit left after FIFO allocation.
CREATE TABLE insurer_payments (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	insurer TEXT NOT NULL,
	insurer_norm TEXT NOT NULL,
	amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
	currency TEXT NOT NULL,
	minor_units BIGINT NOT NULL CHECK (minor_units BETWEEN 0 AND 4),
	reference TEXT NOT NULL,
	notes TEXT,
	allocated_minor BIGINT NOT NULL CHECK (allocated_minor >= 0),
	unallocated_minor BIGINT NOT NULL CHECK (unallocated_minor >= 0),
	recorded_at TEXT NOT NULL,
	created_by TEXT,
	created_at TEXT NOT NULL,
	CHECK (allocated_minor + unallocated_minor = amount_minor)
);
CREATE UNIQUE INDEX insurer_payments_reference_uq ON insurer_payments (tenant_id, insurer_norm, reference);
CREATE INDEX insurer_payments_recorded_idx ON insurer_payments (tenant_id, recorded_at);

-- Every amount paid on a claim: a remittance posted on the claim itself
-- (POST /api/v1/claims/:id/payment) or a share of an insurer payment.
CREATE TABLE claim_payments (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	claim_id TEXT NOT NULL REFERENCES claims (id),
	insurer_payment_id TEXT REFERENCES insurer_payments (id),
	amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
	advice_number TEXT,
	check_number TEXT,
	check_date TEXT,
	recorded_at TEXT NOT NULL,
	created_by TEXT
);
CREATE INDEX claim_payments_claim_idx ON claim_payments (tenant_id, claim_id, recorded_at);
CREATE INDEX claim_payments_recorded_idx ON claim_payments (tenant_id, recorded_at);
CREATE INDEX claim_payments_insurer_payment_idx ON claim_payments (tenant_id, insurer_payment_id);
