/*
 * test_invoice_numbers.c - invoice numbers under concurrency, on the running
 * server: 1,000 invoices created by 32 concurrent clients (libcurl in
 * pthreads, one CURL handle per request, which is how harness.c's api_req
 * works) must give zero errors, zero duplicate numbers and zero gaps:
 * INV-<day>-000001 .. INV-<day>-001000, the day in the tenant's time zone
 * (per day, should the run cross the tenant's midnight). Runs on either
 * database (CLINICLEDGER_TEST_PG). The full 1,000 also run under the
 * AddressSanitizer build: they take about two seconds there, so no scaling
 * down is needed.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"

#define CLIENTS	 32
#define INVOICES 1000

struct run {
	pthread_mutex_t mu;
	const char *token;
	int total; /* invoices to create */
	int next;  /* next request index to claim */
	int errors;
	char (*numbers)[32];
	int count;
	char first_error[512];
};

static void *client(void *arg)
{
	struct run *run = arg;
	char body[256];

	for (;;) {
		struct api_resp *r;
		const char *n;
		int i;

		pthread_mutex_lock(&run->mu);
		i = run->next < run->total ? run->next++ : -1;
		pthread_mutex_unlock(&run->mu);
		if (i < 0)
			return NULL;
		snprintf(body, sizeof(body),
			 "{\"invoiceType\":\"load\",\"externalRef\":\"numbers-%d\","
			 "\"lineItems\":[{\"itemName\":\"Consultation\",\"quantity\":1,\"unitPrice\":\"%d.%02d\"}]}",
			 i, 10 + i % 90, i % 100);
		r = api_req("POST", "/api/v1/invoices", run->token, body, NULL);
		n = r->status == 201 ? api_str(r, "data.invoiceNumber") : NULL;
		pthread_mutex_lock(&run->mu);
		if (!n) {
			if (run->errors++ == 0)
				snprintf(run->first_error, sizeof(run->first_error), "HTTP %ld: %.400s", r->status,
					 r->body);
		} else {
			snprintf(run->numbers[run->count++], 32, "%s", n);
		}
		pthread_mutex_unlock(&run->mu);
		api_resp_free(r);
	}
}

static int cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static void test_concurrent_numbers(void **state)
{
	pthread_t threads[CLIENTS];
	struct run run;
	struct timespec t0, t1;
	int seq = 0;
	char day[16] = "";
	double secs;

	(void)state;
	memset(&run, 0, sizeof(run));
	pthread_mutex_init(&run.mu, NULL);
	run.total = INVOICES;
	run.numbers = calloc((size_t)run.total, sizeof(*run.numbers));
	run.token = api_admin_token(); /* logged in once, before the threads */
	assert_non_null(run.token);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < CLIENTS; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, client, &run), 0);
	for (int i = 0; i < CLIENTS; i++)
		pthread_join(threads[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("%d invoices from %d clients in %.2f s (%.0f/s) on %s\n", run.total, CLIENTS, secs,
		      run.total / secs, api_is_pg() ? "PostgreSQL" : "SQLite");

	if (run.errors)
		fail_msg("%d errors; first: %s", run.errors, run.first_error);
	assert_int_equal(run.count, run.total);

	/* sorted, numbers of each day run 000001, 000002, ... with no gap and no duplicate */
	qsort(run.numbers, (size_t)run.count, sizeof(*run.numbers), cmp);
	for (int i = 0; i < run.count; i++) {
		const char *n = run.numbers[i];
		char d[16];
		int v;

		assert_int_equal(strlen(n), 19);
		assert_memory_equal(n, "INV-", 4);
		snprintf(d, sizeof(d), "%.8s", n + 4);
		if (strcmp(d, day) != 0) { /* a new day (first, or the run crossed midnight) */
			snprintf(day, sizeof(day), "%s", d);
			seq = 0;
		}
		v = atoi(n + 13);
		if (v != seq + 1)
			fail_msg("after %s: expected number %06d of day %s, got %s (duplicate or gap)",
				 i ? run.numbers[i - 1] : "(start)", seq + 1, day, n);
		seq = v;
	}

	/* the database agrees */
	assert_int_equal(api_sql_int("SELECT COUNT(*) FROM billing_documents WHERE invoice_type = 'load'"), run.total);
	assert_int_equal(
	    api_sql_int("SELECT COUNT(DISTINCT number) FROM billing_documents WHERE invoice_type = 'load'"), run.total);
	assert_int_equal(api_sql_int("SELECT SUM(next_value) FROM sequences WHERE name LIKE 'INV-%'"), run.total);
	assert_int_equal(api_sql_int("SELECT COUNT(*) FROM audit_log WHERE action = 'invoice.create'"), run.total);
	free(run.numbers);
	pthread_mutex_destroy(&run.mu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_concurrent_numbers),
	};
	return cmocka_run_group_tests_name("api_invoice_numbers", tests, api_setup, api_teardown);
}
