/*
 * test_billing.c - unit tests of the billing module's rules (billing.c):
 * THE rounding rule on many lines (tax-exclusive and tax-inclusive,
 * percent and amount discounts, fractional quantities, currencies with 0, 2
 * and 3 decimals), document totals with adjustments and late fee, exact
 * conversion of client amounts, the status machine (every pair), status
 * after money movements, names, numbering; then, on a temporary migrated
 * SQLite database, the operations: create with catalog and free lines and
 * gap-free numbers, partial / full payment, refunds, cancel refused with a
 * confirmed payment, illegal transitions, and the overdue job applying the
 * late fee once. The HTTP contract is covered on both databases by
 * tests/api/test_invoices.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "db/db.h"
#include "mod/billing/billing.h"
#include "mod/catalog/catalog.h"

/* assert_int_equal that prints the err on mismatch */
#define CHECK(call, want)                                                                                              \
	do {                                                                                                           \
		int rc_ = (call);                                                                                      \
		if (rc_ != (want))                                                                                     \
			fail_msg("%s = %d, want %d: %s [%s] (%s)", #call, rc_, (int)(want), e.message, e.field,        \
				 e.detail);                                                                            \
	} while (0)

#define PCT(x) ((int64_t)((x)*10000 + 0.5)) /* percent literal -> PCT_SCALE (test literals only) */

/* One line of the rounding table. */
struct rcase {
	const char *name;
	bool inclusive;
	int64_t qty_milli, price_minor, disc_pct, disc_minor, tax_pct;
	int64_t ext, disc, tax, total, net; /* expected */
};

static const struct rcase rcases[] = {
    /* USD (2 decimals), prices exclude tax */
    {"plain", false, 1000, 15000, 0, 0, 0, 15000, 0, 0, 15000, 15000},
    {"qty 0.333 exact", false, 333, 1000, 0, 0, 0, 333, 0, 0, 333, 333},
    {"qty 0.333 x 0.05 = 1.665 -> 2", false, 333, 5, 0, 0, 0, 2, 0, 0, 2, 2},
    {"qty 2.5 x 0.03 = 7.5 -> 8", false, 2500, 3, 0, 0, 0, 8, 0, 0, 8, 8},
    {"qty 2.5 x 19.99, 13%", false, 2500, 1999, 0, 0, PCT(13), 4998, 0, 650, 5648, 4998},
    {"10% discount then 13%", false, 2500, 1999, PCT(10), 0, PCT(13), 4998, 500, 585, 5083, 4498},
    {"12.5% of 0.15 = 1.875c -> 2", false, 3000, 5, PCT(12.5), 0, PCT(13), 15, 2, 2, 15, 13},
    {"amount discount 1.00", false, 1000, 1500, 0, 100, PCT(13), 1500, 100, 182, 1582, 1400},
    {"half cent up: 0.5 x 0.01", false, 500, 1, 0, 0, 0, 1, 0, 0, 1, 1},
    {"below half: 0.499 x 0.01", false, 499, 1, 0, 0, 0, 0, 0, 0, 0, 0},
    {"100% discount", false, 1000, 5000, PCT(100), 0, PCT(13), 5000, 5000, 0, 0, 0},
    {"tax half up: 0.50 at 13% = 6.5c", false, 1000, 50, 0, 0, PCT(13), 50, 0, 7, 57, 50},
    {"zero price", false, 1000, 0, 0, 0, PCT(13), 0, 0, 0, 0, 0},
    /* prices include tax (El Salvador Factura) */
    {"incl 11.30 at 13%", true, 1000, 1130, 0, 0, PCT(13), 1130, 0, 130, 1130, 1000},
    {"incl 10.00 at 13% = 1.1504 -> 1.15", true, 1000, 1000, 0, 0, PCT(13), 1000, 0, 115, 1000, 885},
    {"incl 2 x 5.65, 10% off", true, 2000, 565, PCT(10), 0, PCT(13), 1130, 113, 117, 1017, 900},
    {"incl 0.333 x 35.00 at 13%", true, 333, 3500, 0, 0, PCT(13), 1166, 0, 134, 1166, 1032},
    {"incl exempt", true, 1000, 3500, 0, 0, 0, 3500, 0, 0, 3500, 3500},
    /* JPY (0 decimals): minor unit = 1 yen */
    {"JPY 0.333 x 1000", false, 333, 1000, 0, 0, 0, 333, 0, 0, 333, 333},
    {"JPY 2.5 x 333 = 832.5 -> 833, 10%", false, 2500, 333, 0, 0, PCT(10), 833, 0, 83, 916, 833},
    {"JPY incl 1100 at 10%", true, 1000, 1100, 0, 0, PCT(10), 1100, 0, 100, 1100, 1000},
    /* KWD (3 decimals): minor unit = 1 fils */
    {"KWD 2.5 x 1.234, 5%", false, 2500, 1234, 0, 0, PCT(5), 3085, 0, 154, 3239, 3085},
    {"KWD incl 1.050 at 5%", true, 1000, 1050, 0, 0, PCT(5), 1050, 0, 50, 1050, 1000},
    {"KWD 0.333 x 0.001 -> 0", false, 333, 1, 0, 0, 0, 0, 0, 0, 0, 0},
    {"KWD 1.5 x 0.001 = 1.5 -> 2", false, 1500, 1, 0, 0, 0, 2, 0, 0, 2, 2},
};

static void test_rounding_table(void **state)
{
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof(rcases) / sizeof(rcases[0]); i++) {
		const struct rcase *c = &rcases[i];
		struct bill_line l;

		memset(&l, 0, sizeof(l));
		l.quantity_milli = c->qty_milli;
		l.unit_price_minor = c->price_minor;
		l.discount_pct = c->disc_pct;
		l.discount_minor = c->disc_minor;
		l.tax_pct = c->tax_pct;
		assert_int_equal(billing_compute_line(&l, c->inclusive, &e), 0);
		if (l.extended_minor != c->ext || l.discount_minor != c->disc || l.tax_minor != c->tax ||
		    l.total_minor != c->total || l.net_minor != c->net)
			fail_msg("%s: got ext %lld disc %lld tax %lld total %lld net %lld", c->name,
				 (long long)l.extended_minor, (long long)l.discount_minor, (long long)l.tax_minor,
				 (long long)l.total_minor, (long long)l.net_minor);
		/* invariants of the rule */
		assert_int_equal(l.net_minor + l.tax_minor, l.total_minor);
		assert_true(l.discount_minor <= l.extended_minor);
	}
}

static void test_rounding_properties(void **state)
{
	struct err e;

	(void)state;
	/* Sweep: tax-inclusive lines always split total exactly into net + tax,
	 * and tax is the nearest cent to base * t / (100 + t). */
	for (int64_t price = 1; price < 3000; price += 7) {
		for (int64_t qty = 1; qty <= 5000; qty += 333) {
			struct bill_line l;
			memset(&l, 0, sizeof(l));
			l.quantity_milli = qty;
			l.unit_price_minor = price;
			l.tax_pct = PCT(13);
			assert_int_equal(billing_compute_line(&l, true, &e), 0);
			assert_int_equal(l.net_minor + l.tax_minor, l.total_minor);
			/* |tax * 1.13 - total * 0.13| <= half a cent * 1.13 */
			{
				int64_t diff = l.tax_minor * 113 - l.total_minor * 13;
				if (diff < 0)
					diff = -diff;
				assert_true(2 * diff <= 113);
			}
			memset(&l, 0, sizeof(l));
			l.quantity_milli = qty;
			l.unit_price_minor = price;
			l.tax_pct = PCT(13);
			assert_int_equal(billing_compute_line(&l, false, &e), 0);
			assert_int_equal(l.total_minor, l.extended_minor + l.tax_minor);
		}
	}
	/* Overflow is refused, never wrapped. */
	{
		struct bill_line l;
		memset(&l, 0, sizeof(l));
		l.quantity_milli = 1000000000LL;
		l.unit_price_minor = INT64_MAX / 10;
		assert_int_equal(billing_compute_line(&l, false, &e), ERR_INVALID);
	}
}

static void test_document_totals(void **state)
{
	struct bill_line lines[2];
	struct bill_document d;
	struct err e;

	(void)state;
	memset(lines, 0, sizeof(lines));
	memset(&d, 0, sizeof(d));
	lines[0].quantity_milli = 2500;
	lines[0].unit_price_minor = 1999;
	lines[0].tax_pct = PCT(13);
	lines[1].quantity_milli = 2500;
	lines[1].unit_price_minor = 1999;
	lines[1].discount_pct = PCT(10);
	lines[1].tax_pct = PCT(13);
	d.lines = lines;
	d.nlines = 2;
	d.minor_units = 2;
	assert_int_equal(billing_compute(&d, &e), 0);
	assert_int_equal(d.subtotal_minor, 4998 + 4498 + 500);
	assert_int_equal(d.discount_minor, 500);
	assert_int_equal(d.tax_minor, 650 + 585);
	assert_int_equal(d.total_minor, 5648 + 5083);
	assert_int_equal(d.balance_minor, d.total_minor);

	d.doc_discount_minor = 100;
	d.paid_minor = 631;
	assert_int_equal(billing_compute(&d, &e), 0);
	assert_int_equal(d.discount_minor, 600);
	assert_int_equal(d.total_minor, 9996 - 600 + 1235);
	assert_int_equal(d.balance_minor, 10631 - 631);

	d.has_tax_override = true;
	d.tax_override_minor = 1000;
	d.late_fee_minor = 50;
	assert_int_equal(billing_compute(&d, &e), 0);
	assert_int_equal(d.tax_minor, 1000);
	assert_int_equal(d.total_minor, 9996 - 600 + 1000 + 50);

	/* The billing-service example: 150.00 + 80.00, no tax = 230.00. */
	memset(lines, 0, sizeof(lines));
	memset(&d, 0, sizeof(d));
	lines[0].quantity_milli = 1000;
	lines[0].unit_price_minor = 15000;
	lines[1].quantity_milli = 1000;
	lines[1].unit_price_minor = 8000;
	d.lines = lines;
	d.nlines = 2;
	assert_int_equal(billing_compute(&d, &e), 0);
	assert_int_equal(d.subtotal_minor, 23000);
	assert_int_equal(d.tax_minor, 0);
	assert_int_equal(d.total_minor, 23000);
	assert_int_equal(d.balance_minor, 23000);

	/* Inclusive document: total = sum of line totals, subtotal excludes tax. */
	memset(lines, 0, sizeof(lines));
	memset(&d, 0, sizeof(d));
	lines[0].quantity_milli = 1000;
	lines[0].unit_price_minor = 1130;
	lines[0].tax_pct = PCT(13);
	lines[1].quantity_milli = 1000;
	lines[1].unit_price_minor = 1000;
	lines[1].tax_pct = PCT(13);
	d.lines = lines;
	d.nlines = 2;
	d.prices_include_tax = true;
	assert_int_equal(billing_compute(&d, &e), 0);
	assert_int_equal(d.total_minor, 2130);
	assert_int_equal(d.tax_minor, 245);
	assert_int_equal(d.subtotal_minor, 1885);
}

static void test_late_fee(void **state)
{
	(void)state;
	assert_int_equal(billing_late_fee(23000, PCT(2)), 460);
	assert_int_equal(billing_late_fee(333, PCT(1.5)), 5); /* 4.995 -> 5 */
	assert_int_equal(billing_late_fee(100, PCT(0.4)), 0); /* 0.4 -> 0 */
	assert_int_equal(billing_late_fee(125, PCT(2)), 3);   /* 2.5 -> 3 */
	assert_int_equal(billing_late_fee(0, PCT(2)), 0);
	assert_int_equal(billing_late_fee(-500, PCT(2)), 0);
	assert_int_equal(billing_late_fee(10000, 0), 0);
}

static void test_amount_in(void **state)
{
	struct err e;
	int64_t v;

	(void)state;
	assert_int_equal(billing_amount_in("USD", 150000000, "unitPrice", &v, &e), 0); /* 150.000000 */
	assert_int_equal(v, 15000);
	assert_int_equal(billing_amount_in("SDG", 230010000, "amount", &v, &e), 0); /* 230.01 */
	assert_int_equal(v, 23001);
	assert_int_equal(billing_amount_in("SDG", 230001000, "amount", &v, &e), ERR_INVALID); /* 230.001 */
	assert_string_equal(e.field, "amount");
	assert_non_null(strstr(e.message, "2 decimals"));
	assert_int_equal(billing_amount_in("JPY", 1000000000, "x", &v, &e), 0); /* 1000 yen */
	assert_int_equal(v, 1000);
	assert_int_equal(billing_amount_in("JPY", 1500000, "x", &v, &e), ERR_INVALID); /* 1.5 yen */
	assert_int_equal(billing_amount_in("KWD", 1234000, "x", &v, &e), 0);	       /* 1.234 */
	assert_int_equal(v, 1234);
	assert_int_equal(billing_amount_in("KWD", 1234500, "x", &v, &e), ERR_INVALID); /* 1.2345 */
	assert_int_equal(billing_amount_in("MAD", 0, "x", &v, &e), 0);
	assert_int_equal(billing_amount_in("DOP", 99990000, "x", &v, &e), 0);
	assert_int_equal(v, 9999);
	assert_int_equal(billing_amount_in("EUR", 10000, "x", &v, &e), 0); /* 0.01 */
	assert_int_equal(v, 1);
	assert_int_equal(billing_amount_in("XXX", 1, "x", &v, &e), ERR_INVALID);
	assert_string_equal(e.field, "currency");
}

static void test_status_machine(void **state)
{
	/* expected[from] = the states it may reach */
	static const char *const expected[BILL_STATUS_COUNT] = {
	    [BILL_DRAFT] = "pending partially_paid paid cancelled",
	    [BILL_PENDING] = "partially_paid paid overdue cancelled",
	    [BILL_PARTIALLY_PAID] = "paid overdue cancelled refunded",
	    [BILL_PAID] = "partially_paid refunded",
	    [BILL_OVERDUE] = "pending partially_paid paid cancelled",
	    [BILL_CANCELLED] = "",
	    [BILL_REFUNDED] = "",
	};
	struct err e;

	(void)state;
	for (int from = 0; from < BILL_STATUS_COUNT; from++)
		for (int to = 0; to < BILL_STATUS_COUNT; to++) {
			char word[32];
			bool want;
			snprintf(word, sizeof(word), "%s", billing_status_name((enum bill_status)to));
			want = false;
			for (const char *p = expected[from]; (p = strstr(p, word)) != NULL; p += strlen(word)) {
				bool start = p == expected[from] || p[-1] == ' ';
				bool end = p[strlen(word)] == '\0' || p[strlen(word)] == ' ';
				if (start && end)
					want = true;
			}
			if (billing_transition_allowed((enum bill_status)from, (enum bill_status)to) != want)
				fail_msg("%s -> %s: expected %s", billing_status_name((enum bill_status)from), word,
					 want ? "allowed" : "refused");
		}
	/* the 409 names the current state, in each contract's spelling */
	err_clear(&e);
	assert_int_equal(billing_invalid_state(&e, "invoice", BILL_PAID, "cancel"), ERR_CONFLICT);
	assert_string_equal(e.name, "INVALID_STATE");
	assert_string_equal(e.message, "cannot cancel: invoice is paid");
	err_clear(&e);
	billing_invalid_state(&e, "order", BILL_PENDING, "change status to paid");
	assert_string_equal(e.message, "cannot change status to paid: order is pending_payment");
}

static void test_status_after_money(void **state)
{
	struct bill_document d;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.total_minor = 23000;
	d.status = BILL_PENDING;
	d.paid_minor = 10000;
	d.balance_minor = 13000;
	assert_int_equal(billing_status_after_money(&d), BILL_PARTIALLY_PAID);
	d.status = BILL_OVERDUE;
	assert_int_equal(billing_status_after_money(&d), BILL_PARTIALLY_PAID);
	d.paid_minor = 23000;
	d.balance_minor = 0;
	assert_int_equal(billing_status_after_money(&d), BILL_PAID);
	d.status = BILL_PAID; /* partial refund */
	d.paid_minor = 20000;
	d.refunded_minor = 3000;
	d.balance_minor = 3000;
	assert_int_equal(billing_status_after_money(&d), BILL_PARTIALLY_PAID);
	d.paid_minor = 0; /* everything refunded */
	d.refunded_minor = 23000;
	d.balance_minor = 23000;
	assert_int_equal(billing_status_after_money(&d), BILL_REFUNDED);
	d.status = BILL_REFUNDED; /* final */
	d.paid_minor = 5000;
	assert_int_equal(billing_status_after_money(&d), BILL_REFUNDED);
	d.status = BILL_CANCELLED; /* stays cancelled, awaiting a refund */
	assert_int_equal(billing_status_after_money(&d), BILL_CANCELLED);
	d.status = BILL_OVERDUE; /* nothing paid: stays overdue */
	d.paid_minor = 0;
	d.refunded_minor = 0;
	assert_int_equal(billing_status_after_money(&d), BILL_OVERDUE);
}

static void test_names(void **state)
{
	const char *detail;

	(void)state;
	for (int s = 0; s < BILL_STATUS_COUNT; s++) {
		assert_int_equal(billing_status_parse(billing_status_name((enum bill_status)s)), s);
		assert_int_equal(billing_status_parse(billing_status_clinic_name((enum bill_status)s)), s);
	}
	assert_string_equal(billing_status_clinic_name(BILL_PENDING), "pending_payment");
	assert_string_equal(billing_status_name(BILL_PENDING), "pending");
	assert_int_equal(billing_status_parse("bogus"), -1);
	assert_int_equal(billing_status_parse(NULL), -1);
	for (int m = 0; m <= BILL_PAY_OTHER; m++)
		assert_int_equal(billing_pay_method_parse(billing_pay_method_name((enum bill_pay_method)m)), m);
	assert_int_equal(billing_pay_method_from_gateway("zain_cash", &detail), BILL_PAY_MOBILE_MONEY);
	assert_string_equal(detail, "zain_cash");
	assert_int_equal(billing_pay_method_from_gateway("cash", &detail), BILL_PAY_CASH);
	assert_null(detail);
	assert_int_equal(billing_pay_method_from_gateway("card", &detail), BILL_PAY_CARD_ONLINE);
	assert_int_equal(billing_pay_method_from_gateway("crypto_x", &detail), BILL_PAY_OTHER);
	assert_string_equal(detail, "crypto_x");
	assert_int_equal(billing_pay_method_from_gateway(NULL, &detail), BILL_PAY_OTHER);
	assert_int_equal(billing_tax_parse("not_subject"), BILL_TAX_NOT_SUBJECT);
	assert_int_equal(billing_tax_parse("zero"), -1);
	assert_int_equal(billing_gateway_parse("stripe"), BILL_GATEWAY_STRIPE);
	assert_int_equal(billing_pay_status_parse("refunded"), BILL_PAYMENT_REFUNDED);
	assert_string_equal(billing_refund_status_name(BILL_REFUND_SUCCEEDED), "succeeded");
}

static void test_number_format(void **state)
{
	char n[BILL_NUMBER_LEN + 8];

	(void)state;
	billing_number_format("2025-10-14", 1, n, sizeof(n));
	assert_string_equal(n, "INV-20251014-000001");
	billing_number_format("2025-10-14", 999999, n, sizeof(n));
	assert_string_equal(n, "INV-20251014-999999");
	billing_number_format("2026-01-02", 1000, n, sizeof(n));
	assert_string_equal(n, "INV-20260102-001000");
}

/* ---- on a database ---- */

#define TENANT "11111111-1111-4111-8111-111111111111"
#define OTHER  "22222222-2222-4222-8222-222222222222"

struct fixture {
	char dir[64];
	char url[128];
	struct db *db;
	struct arena *a;
};

static int exec_sql(struct db *db, const char *sql)
{
	struct db_conn *c = NULL;
	struct err e;
	int rc = db_acquire(db, DB_WRITE, &c, &e);

	if (rc == 0) {
		rc = db_exec(c, sql, NULL, 0, NULL, &e);
		db_release(c);
	}
	if (rc)
		fprintf(stderr, "%s: %s (%s)\n", sql, e.message, e.detail);
	return rc;
}

static int64_t query_int(struct db *db, const char *sql)
{
	struct db_conn *c = NULL;
	struct err e;
	int64_t v = -1;

	assert_int_equal(db_acquire(db, DB_READ, &c, &e), 0);
	if (db_query_int(c, sql, NULL, 0, &v, &e))
		fprintf(stderr, "%s: %s (%s)\n", sql, e.message, e.detail);
	db_release(c);
	return v;
}

static int db_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct err e;

	log_set_level(LOG_WARN);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_billing.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->url, sizeof(f->url), "%s/billing.db", f->dir);
	if (db_open(f->url, NULL, &f->db, &e) || db_migrate(f->db, NULL, &e)) {
		fprintf(stderr, "db: %s (%s)\n", e.message, e.detail);
		return -1;
	}
	if (exec_sql(f->db, "INSERT INTO tenants (id, name, slug, kind, time_zone, currency, country, created_at, "
			    "updated_at) VALUES ('" TENANT "', 'T', 't', 'clinic', 'America/El_Salvador', 'USD', 'SV', "
			    "'2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')") ||
	    exec_sql(f->db, "INSERT INTO tenants (id, name, slug, kind, time_zone, currency, country, created_at, "
			    "updated_at) VALUES ('" OTHER "', 'O', 'o', 'clinic', 'Asia/Tokyo', 'JPY', 'JP', "
			    "'2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')"))
		return -1;
	f->a = arena_new(0);
	*state = f;
	return 0;
}

static int db_teardown(void **state)
{
	struct fixture *f = *state;

	db_close(f->db);
	arena_free(f->a);
	for (size_t i = 0; i < 3; i++) {
		static const char *const suffix[] = {"", "-wal", "-shm"};
		char p[200];
		snprintf(p, sizeof(p), "%s%s", f->url, suffix[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static const struct actor WHO = {.tenant_id = TENANT, .kind = "user", .id = "test-user"};

/* A free line of qty x price (micro units). */
static struct bill_line_input free_line(const char *name, int64_t qty_milli, int64_t price_micro)
{
	struct bill_line_input l;

	memset(&l, 0, sizeof(l));
	l.item_name = name;
	l.quantity_milli = qty_milli;
	l.has_unit_price = true;
	l.unit_price_micro = price_micro;
	return l;
}

static struct bill_input doc_input(const struct bill_line_input *lines, size_t n)
{
	struct bill_input in;

	memset(&in, 0, sizeof(in));
	in.source = "invoice";
	in.initial_status = -1;
	in.lines = lines;
	in.nlines = n;
	return in;
}

static void test_create_and_numbers(void **state)
{
	struct fixture *f = *state;
	struct bill_line_input lines[3];
	struct bill_input in;
	struct bill_document *d, *g;
	struct catalog_input ci;
	struct catalog_service *svc;
	json_t *price = json_string("35.00");
	char first[BILL_NUMBER_LEN + 1];
	struct err e;

	/* a catalog service: taxable at 13 % */
	memset(&ci, 0, sizeof(ci));
	ci.set = CATALOG_F_CODE | CATALOG_F_NAME | CATALOG_F_CATEGORY | CATALOG_F_PRICE;
	ci.code = "CONS";
	ci.name = "Consulta";
	ci.category = "consultas";
	ci.price = price;
	CHECK(catalog_create(f->db, &WHO, &ci, f->a, &svc, &e), 0);

	lines[0] = free_line("General Consultation", 1000, 150000000);
	lines[1] = free_line("CBC", 1000, 80000000);
	in = doc_input(lines, 2);
	in.currency = "SDG";
	CHECK(billing_create(f->db, &WHO, &in, f->a, &d, &e), 0);
	assert_int_equal(d->total_minor, 23000);
	assert_int_equal(d->balance_minor, 23000);
	assert_int_equal(d->status, BILL_PENDING);
	assert_string_equal(d->currency, "SDG");
	assert_int_equal(strlen(d->number), BILL_NUMBER_LEN);
	assert_true(strncmp(d->number, "INV-", 4) == 0);
	assert_string_equal(d->number + 12, "-000001");
	snprintf(first, sizeof(first), "%s", d->number);
	assert_int_equal(d->lines[0].tax_treatment, BILL_TAX_EXEMPT); /* free line, no tax */

	/* catalog line: price and 13 % copied; default currency = tenant's USD */
	memset(&lines[0], 0, sizeof(lines[0]));
	lines[0].service_id = svc->id;
	lines[0].quantity_milli = 2000;
	in = doc_input(lines, 1);
	CHECK(billing_create(f->db, &WHO, &in, f->a, &d, &e), 0);
	assert_string_equal(d->currency, "USD");
	assert_int_equal(d->lines[0].unit_price_minor, 3500);
	assert_int_equal(d->lines[0].tax_pct, PCT(13));
	assert_int_equal(d->lines[0].tax_minor, 910);
	assert_int_equal(d->total_minor, 7910);
	assert_string_equal(d->lines[0].item_name, "Consulta");
	assert_string_equal(d->lines[0].item_code, "CONS");
	assert_string_equal(d->number + 12, "-000002");
	assert_int_equal(strncmp(d->number, first, 12), 0);

	/* bad input: nothing written, the number is not consumed */
	lines[0] = free_line(NULL, 1000, 100);
	in = doc_input(lines, 1);
	CHECK(billing_create(f->db, &WHO, &in, f->a, &d, &e), ERR_INVALID);
	assert_string_equal(e.field, "lineItems[0].itemName");
	lines[0] = free_line("x", 1000, 1000); /* 0.001 USD */
	in = doc_input(lines, 1);
	CHECK(billing_create(f->db, &WHO, &in, f->a, &d, &e), ERR_INVALID);
	assert_string_equal(e.field, "lineItems[0].unitPrice");
	lines[0] = free_line("x", 1000, 1000000);
	lines[0].has_discount_amount = true;
	lines[0].discount_amount_micro = 2000000;
	in = doc_input(lines, 1);
	CHECK(billing_create(f->db, &WHO, &in, f->a, &d, &e), ERR_INVALID);
	assert_string_equal(e.field, "lineItems[0].discountAmount");
	memset(&lines[0], 0, sizeof(lines[0]));
	lines[0].service_id = svc->id;
	lines[0].quantity_milli = 1000;
	in = doc_input(lines, 1);
	in.currency = "EUR"; /* service priced in USD */
	CHECK(billing_create(f->db, &WHO, &in, f->a, &d, &e), ERR_INVALID);
	assert_string_equal(e.field, "lineItems[0].serviceId");
	lines[0] = free_line("x", 1000, 1000000);
	in = doc_input(lines, 1);
	in.invoice_date = "2025-10-14";
	in.due_date = "2025-10-13";
	CHECK(billing_create(f->db, &WHO, &in, f->a, &d, &e), ERR_INVALID);
	assert_string_equal(e.field, "dueDate");
	in = doc_input(lines, 1);
	in.patient_id = "33333333-3333-4333-8333-333333333333"; /* no such patient */
	CHECK(billing_create(f->db, &WHO, &in, f->a, &d, &e), ERR_INVALID);
	assert_string_equal(e.field, "patientId");
	assert_int_equal(query_int(f->db, "SELECT COUNT(*) FROM billing_documents"), 2);

	/* next good one continues without a gap */
	in = doc_input(lines, 1);
	CHECK(billing_create(f->db, &WHO, &in, f->a, &d, &e), 0);
	assert_string_equal(d->number + 12, "-000003");
	/* tenant-scoped get */
	CHECK(billing_get(f->db, TENANT, d->id, BILL_WITH_LINES, f->a, &g, &e), 0);
	assert_int_equal(g->nlines, 1);
	CHECK(billing_get(f->db, OTHER, d->id, 0, f->a, &g, &e), ERR_NOT_FOUND);
	assert_int_equal(query_int(f->db, "SELECT COUNT(*) FROM audit_log WHERE action = 'invoice.create'"), 3);
	json_decref(price);
}

static void test_payments_refunds(void **state)
{
	struct fixture *f = *state;
	struct bill_line_input lines[1] = {free_line("Consultation", 1000, 230000000)};
	struct bill_input in = doc_input(lines, 1);
	struct bill_payment_input pi;
	struct bill_document *d, *x;
	char p1[UUID_LEN + 1], p2[UUID_LEN + 1], r1[UUID_LEN + 1];
	bool changed;
	struct err e;

	CHECK(billing_create(f->db, &WHO, &in, f->a, &d, &e), 0);
	memset(&pi, 0, sizeof(pi));
	pi.method = BILL_PAY_CASH;
	pi.status = BILL_PAYMENT_CONFIRMED;
	pi.gateway = BILL_GATEWAY_MANUAL;
	pi.amount_minor = 30000; /* more than 230.00 */
	CHECK(billing_payment_record_tx(f->db, &WHO, d->id, &pi, p1, &e), ERR_INVALID);
	assert_string_equal(e.field, "amount");
	pi.amount_minor = 10000;
	pi.currency = "EUR";
	CHECK(billing_payment_record_tx(f->db, &WHO, d->id, &pi, p1, &e), ERR_INVALID);
	assert_string_equal(e.field, "currency");
	pi.currency = NULL;
	CHECK(billing_payment_record_tx(f->db, &WHO, d->id, &pi, p1, &e), 0);
	CHECK(billing_get(f->db, TENANT, d->id, BILL_WITH_PAYMENTS, f->a, &d, &e), 0);
	assert_int_equal(d->status, BILL_PARTIALLY_PAID);
	assert_int_equal(d->paid_minor, 10000);
	assert_int_equal(d->balance_minor, 13000);

	/* cancel refused while a payment is confirmed */
	CHECK(billing_cancel(f->db, &WHO, d->id, "patient left", f->a, &x, &e), ERR_CONFLICT);
	assert_string_equal(e.name, "INVALID_STATE");
	assert_non_null(strstr(e.message, "partially_paid"));

	/* a pending gateway payment for the rest, then confirmed: paid */
	pi.method = BILL_PAY_MOBILE_MONEY;
	pi.method_detail = "zain_cash";
	pi.status = BILL_PAYMENT_PENDING;
	pi.gateway = BILL_GATEWAY_GATEWAY;
	pi.gateway_payment_id = "gw-1";
	pi.amount_minor = 13000;
	CHECK(billing_payment_record_tx(f->db, &WHO, d->id, &pi, p2, &e), 0);
	CHECK(billing_payment_record_tx(f->db, &WHO, d->id, &pi, NULL, &e), ERR_CONFLICT);
	assert_string_equal(e.field, "gatewayPaymentId");
	CHECK(billing_payment_confirm_tx(f->db, &WHO, p2, NULL, &changed, &e), 0);
	assert_true(changed);
	CHECK(billing_payment_confirm_tx(f->db, &WHO, p2, NULL, &changed, &e), 0);
	assert_false(changed); /* replay */
	CHECK(billing_payment_fail_tx(f->db, &WHO, p2, "late", &changed, &e), ERR_CONFLICT);
	CHECK(billing_get(f->db, TENANT, d->id, BILL_WITH_PAYMENTS, f->a, &d, &e), 0);
	assert_int_equal(d->status, BILL_PAID);
	assert_int_equal(d->balance_minor, 0);
	assert_true(d->paid_at[0] != '\0');
	assert_int_equal(d->npayments, 2);

	/* desk payment on a paid document: 409 */
	pi.gateway = BILL_GATEWAY_MANUAL;
	pi.gateway_payment_id = NULL;
	pi.status = BILL_PAYMENT_CONFIRMED;
	pi.amount_minor = 100;
	CHECK(billing_payment_record_tx(f->db, &WHO, d->id, &pi, NULL, &e), ERR_CONFLICT);
	assert_string_equal(e.name, "INVALID_STATE");

	/* refunds: too much, partial (-> partially_paid), the rest (-> refunded) */
	CHECK(billing_refund_record_tx(f->db, &WHO, p1, 10001, "overcharge", BILL_REFUND_SUCCEEDED, NULL, r1, &e),
	      ERR_INVALID);
	CHECK(billing_refund_record_tx(f->db, &WHO, p1, 4000, "overcharge", BILL_REFUND_SUCCEEDED, NULL, r1, &e), 0);
	CHECK(billing_get(f->db, TENANT, d->id, BILL_WITH_PAYMENTS, f->a, &d, &e), 0);
	assert_int_equal(d->status, BILL_PARTIALLY_PAID);
	assert_int_equal(d->paid_minor, 19000);
	assert_int_equal(d->refunded_minor, 4000);
	CHECK(billing_refund_record_tx(f->db, &WHO, p1, 6000, "all", BILL_REFUND_SUCCEEDED, NULL, r1, &e), 0);
	CHECK(billing_refund_record_tx(f->db, &WHO, p1, 1, "again", BILL_REFUND_SUCCEEDED, NULL, r1, &e),
	      ERR_CONFLICT); /* payment now refunded */
	/* a pending (gateway) refund for the other payment, then succeeded */
	{
		struct db_conn *c = NULL;
		CHECK(billing_refund_record_tx(f->db, &WHO, p2, 13000, "all", BILL_REFUND_PENDING, "re_1", r1, &e), 0);
		CHECK(billing_get(f->db, TENANT, d->id, 0, f->a, &d, &e), 0);
		assert_int_equal(d->status, BILL_PARTIALLY_PAID); /* pending refunds move no money */
		assert_int_equal(db_acquire(f->db, DB_WRITE, &c, &e), 0);
		assert_int_equal(db_begin(c, &e), 0);
		CHECK(billing_refund_succeed(c, &WHO, r1, NULL, &changed, &e), 0);
		assert_true(changed);
		CHECK(billing_refund_succeed(c, &WHO, r1, NULL, &changed, &e), 0);
		assert_false(changed);
		assert_int_equal(db_commit(c, &e), 0);
		db_release(c);
	}
	CHECK(billing_get(f->db, TENANT, d->id, BILL_WITH_PAYMENTS, f->a, &d, &e), 0);
	assert_int_equal(d->status, BILL_REFUNDED);
	assert_int_equal(d->paid_minor, 0);
	assert_int_equal(d->refunded_minor, 23000);
	assert_int_equal(d->payments[0].status, BILL_PAYMENT_REFUNDED);
	assert_int_equal(d->payments[1].status, BILL_PAYMENT_REFUNDED);
	assert_int_equal(d->nrefunds, 3);
	/* refunded is final */
	CHECK(billing_cancel(f->db, &WHO, d->id, "x", f->a, &x, &e), ERR_CONFLICT);
	assert_non_null(strstr(e.message, "refunded"));
	assert_true(query_int(f->db, "SELECT COUNT(*) FROM audit_log WHERE action = 'invoice.status'") >= 4);
}

static void test_update_cancel(void **state)
{
	struct fixture *f = *state;
	struct bill_line_input lines[1] = {free_line("Consultation", 1000, 100000000)};
	struct bill_input in = doc_input(lines, 1);
	struct bill_update up;
	struct bill_document *d, *x;
	struct err e;

	in.initial_status = BILL_DRAFT;
	in.internal_notes = "walk-in";
	CHECK(billing_create(f->db, &WHO, &in, f->a, &d, &e), 0);
	assert_int_equal(d->status, BILL_DRAFT);
	/* draft -> paid refused, draft -> pending allowed */
	memset(&up, 0, sizeof(up));
	up.set = BILL_U_STATUS;
	up.status = BILL_PAID;
	CHECK(billing_update(f->db, &WHO, d->id, &up, f->a, &x, &e), ERR_CONFLICT);
	assert_string_equal(e.message, "cannot change status to paid: invoice is draft");
	up.status = BILL_PENDING;
	CHECK(billing_update(f->db, &WHO, d->id, &up, f->a, &d, &e), 0);
	assert_int_equal(d->status, BILL_PENDING);
	up.status = BILL_DRAFT;
	CHECK(billing_update(f->db, &WHO, d->id, &up, f->a, &x, &e), ERR_CONFLICT);
	assert_non_null(strstr(e.message, "invoice is pending"));
	/* document adjustments */
	memset(&up, 0, sizeof(up));
	up.set = BILL_U_TAX_AMOUNT | BILL_U_DISCOUNT_AMOUNT | BILL_U_DUE_DATE;
	up.has_tax_amount = true;
	up.tax_amount_micro = 10000000;	     /* 10.00 */
	up.discount_amount_micro = 20000000; /* 20.00 */
	up.due_date = "2099-12-31";
	CHECK(billing_update(f->db, &WHO, d->id, &up, f->a, &d, &e), 0);
	assert_int_equal(d->tax_minor, 1000);
	assert_int_equal(d->discount_minor, 2000);
	assert_int_equal(d->total_minor, 10000 - 2000 + 1000);
	up.discount_amount_micro = 200000000; /* 200.00 > total */
	CHECK(billing_update(f->db, &WHO, d->id, &up, f->a, &x, &e), ERR_INVALID);
	assert_string_equal(e.field, "discountAmount");
	/* cancel: reason required; notes appended */
	CHECK(billing_cancel(f->db, &WHO, d->id, "", f->a, &x, &e), ERR_INVALID);
	assert_string_equal(e.field, "reason");
	CHECK(billing_cancel(f->db, &WHO, d->id, "Appointment cancelled by patient", f->a, &d, &e), 0);
	assert_int_equal(d->status, BILL_CANCELLED);
	assert_string_equal(d->internal_notes, "walk-in [CANCELLED] Appointment cancelled by patient");
	CHECK(billing_cancel(f->db, &WHO, d->id, "again", f->a, &x, &e), ERR_CONFLICT);
	assert_string_equal(e.message, "cannot cancel: invoice is cancelled");
	memset(&up, 0, sizeof(up));
	up.set = BILL_U_INTERNAL_NOTES;
	up.internal_notes = "x";
	CHECK(billing_update(f->db, &WHO, d->id, &up, f->a, &x, &e), ERR_CONFLICT);
}

static void test_overdue_job(void **state)
{
	struct fixture *f = *state;
	struct bill_line_input lines[1] = {free_line("Consultation", 1000, 230000000)};
	struct bill_input in = doc_input(lines, 1);
	struct bill_document *late, *grace, *current;
	struct bill_payment_input pi;
	int64_t marked = -1;
	struct err e;

	in.invoice_date = "2020-01-01";
	in.due_date = "2020-01-31";
	in.has_late_fee_pct = true;
	in.late_fee_pct = PCT(2);
	CHECK(billing_create(f->db, &WHO, &in, f->a, &late, &e), 0);
	in.due_date = "2099-01-01";
	CHECK(billing_create(f->db, &WHO, &in, f->a, &current, &e), 0);
	/* due yesterday but 30 days of grace */
	{
		char today[DATE_LEN + 1], iso[TIME_ISO_LEN + 1];
		static char yesterday[DATE_LEN + 1];
		time_now_iso(iso);
		snprintf(today, sizeof(today), "%.10s", iso);
		date_add_days(today, -1, yesterday);
		in.due_date = yesterday;
		in.has_grace_period = true;
		in.grace_period_days = 30;
		CHECK(billing_create(f->db, &WHO, &in, f->a, &grace, &e), 0);
	}
	/* a partial payment first: the fee is on the balance */
	memset(&pi, 0, sizeof(pi));
	pi.method = BILL_PAY_CASH;
	pi.status = BILL_PAYMENT_CONFIRMED;
	pi.amount_minor = 3000;
	CHECK(billing_payment_record_tx(f->db, &WHO, late->id, &pi, NULL, &e), 0);

	CHECK(billing_overdue_run(f->db, time_now_s(), &marked, &e), 0);
	assert_true(marked >= 1);
	CHECK(billing_get(f->db, TENANT, late->id, 0, f->a, &late, &e), 0);
	assert_int_equal(late->status, BILL_OVERDUE);
	assert_int_equal(late->late_fee_minor, 400); /* 2 % of 200.00 */
	assert_int_equal(late->total_minor, 23400);
	assert_int_equal(late->balance_minor, 20400);
	assert_true(late->late_fee_applied_at[0] != '\0');
	CHECK(billing_get(f->db, TENANT, grace->id, 0, f->a, &grace, &e), 0);
	assert_int_equal(grace->status, BILL_PENDING);
	CHECK(billing_get(f->db, TENANT, current->id, 0, f->a, &current, &e), 0);
	assert_int_equal(current->status, BILL_PENDING);

	/* second run: nothing */
	CHECK(billing_overdue_run(f->db, time_now_s(), &marked, &e), 0);
	assert_int_equal(marked, 0);
	/* a payment brings it back to partially_paid; the next run marks it
	 * overdue again but never charges the fee twice */
	CHECK(billing_payment_record_tx(f->db, &WHO, late->id, &pi, NULL, &e), 0);
	CHECK(billing_get(f->db, TENANT, late->id, 0, f->a, &late, &e), 0);
	assert_int_equal(late->status, BILL_PARTIALLY_PAID);
	CHECK(billing_overdue_run(f->db, time_now_s(), &marked, &e), 0);
	assert_int_equal(marked, 1);
	CHECK(billing_get(f->db, TENANT, late->id, 0, f->a, &late, &e), 0);
	assert_int_equal(late->status, BILL_OVERDUE);
	assert_int_equal(late->late_fee_minor, 400);
	assert_int_equal(late->total_minor, 23400);
	assert_int_equal(query_int(f->db, "SELECT COUNT(*) FROM audit_log WHERE action = 'invoice.overdue'"), 2);
	/* moving the due date into the future ends the overdue state */
	{
		struct bill_update up;
		memset(&up, 0, sizeof(up));
		up.set = BILL_U_DUE_DATE;
		up.due_date = "2099-12-31";
		CHECK(billing_update(f->db, &WHO, late->id, &up, f->a, &late, &e), 0);
		assert_int_equal(late->status, BILL_PARTIALLY_PAID);
	}
	/* statistics */
	{
		struct bill_stats st;
		struct bill_stats_filter sf;
		memset(&sf, 0, sizeof(sf));
		CHECK(billing_statistics(f->db, TENANT, &sf, &st, &e), 0);
		assert_string_equal(st.currency, "USD");
		assert_true(st.total_invoices >= 3);
		assert_true(st.count[BILL_PARTIALLY_PAID] >= 1);
	}
}

int main(void)
{
	const struct CMUnitTest pure[] = {
	    cmocka_unit_test(test_rounding_table),     cmocka_unit_test(test_rounding_properties),
	    cmocka_unit_test(test_document_totals),    cmocka_unit_test(test_late_fee),
	    cmocka_unit_test(test_amount_in),	       cmocka_unit_test(test_status_machine),
	    cmocka_unit_test(test_status_after_money), cmocka_unit_test(test_names),
	    cmocka_unit_test(test_number_format),
	};
	const struct CMUnitTest withdb[] = {
	    cmocka_unit_test(test_create_and_numbers),
	    cmocka_unit_test(test_payments_refunds),
	    cmocka_unit_test(test_update_cancel),
	    cmocka_unit_test(test_overdue_job),
	};
	int failed = cmocka_run_group_tests_name("billing rules", pure, NULL, NULL);

	failed += cmocka_run_group_tests_name("billing on SQLite", withdb, db_setup, db_teardown);
	return failed;
}
