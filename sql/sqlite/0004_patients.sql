-- 0004_patients (SQLite): patients and their insurance policies (docs/patients.md).
-- Names and date of birth are plain (searched and sorted; *_norm columns hold
-- lower-cased, accent-folded copies from patients_name_normalize). Document
-- number, phone, email and NRC are AES-256-GCM ciphertexts ("v1:..."), with
-- HMAC-SHA256 blind indexes (*_bidx) for exact search. A document is unique
-- per tenant through its blind index (type + ':' + canonical number).
-- Anonymisation clears the personal columns and sets anonymized_at.

CREATE TABLE patients (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	first_name TEXT NOT NULL,
	last_name TEXT NOT NULL,
	middle_name TEXT,
	full_name_norm TEXT NOT NULL,
	first_name_norm TEXT NOT NULL,
	last_name_norm TEXT NOT NULL,
	date_of_birth TEXT,
	sex TEXT CHECK (sex IN ('female', 'male', 'other', 'unknown')),
	phone_enc TEXT,
	phone_bidx TEXT,
	email_enc TEXT,
	email_bidx TEXT,
	address_json TEXT,
	document_type TEXT CHECK (document_type IN ('DUI', 'NIT', 'NRC', 'RNC', 'CEDULA', 'PASSPORT', 'OTHER')),
	document_enc TEXT,
	document_bidx TEXT,
	nrc_enc TEXT,
	nrc_bidx TEXT,
	fiscal_name TEXT,
	notes TEXT,
	active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	deactivated_at TEXT,
	anonymized_at TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX patients_document_uq ON patients (tenant_id, document_bidx);
CREATE INDEX patients_list_idx ON patients (tenant_id, active, last_name_norm, first_name_norm, id);
CREATE INDEX patients_phone_idx ON patients (tenant_id, phone_bidx);
CREATE INDEX patients_email_idx ON patients (tenant_id, email_bidx);
CREATE INDEX patients_nrc_idx ON patients (tenant_id, nrc_bidx);

-- Policy and member numbers are ciphertexts bound to the policy id.
CREATE TABLE patient_insurance_policies (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id),
	patient_id TEXT NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	insurer_name TEXT NOT NULL,
	insurer_code TEXT,
	plan_name TEXT,
	policy_number_enc TEXT,
	member_number_enc TEXT,
	group_number TEXT,
	relationship TEXT CHECK (relationship IN ('self', 'spouse', 'child', 'other')),
	valid_from TEXT,
	valid_to TEXT,
	is_primary INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1)),
	active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE INDEX patient_policies_patient_idx ON patient_insurance_policies (tenant_id, patient_id, position);
