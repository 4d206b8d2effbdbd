-- 0009 stripe: Stripe webhook events received, one row per event id (de-duplication
-- and a record of what each event did). tenant_id is the tenant the event concerned,
-- or '-' when it could not be tied to one (acknowledged and recorded, nothing changed).
CREATE TABLE stripe_events (
	event_id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	type TEXT NOT NULL,
	object_id TEXT,
	outcome TEXT NOT NULL CHECK (outcome IN ('processed', 'ignored')),
	note TEXT,
	livemode BIGINT NOT NULL DEFAULT 0,
	event_created BIGINT,
	received_at TEXT NOT NULL
);
CREATE INDEX stripe_events_tenant ON stripe_events (tenant_id, received_at);
CREATE INDEX stripe_events_object ON stripe_events (tenant_id, object_id);
