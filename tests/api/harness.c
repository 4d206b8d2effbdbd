/*
 * harness.c - start the real clinicledger binary and drive it over HTTP.
 *
 * Each API test program gets its own server and its own database, so test
 * programs can run in parallel and never see each other's data.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct harness {
	pid_t pid;
	int port;
	char base[64];
	char bin[512];
	char dir[256];        /* temporary directory: database, keys, log */
	char db_url[1024];
	char jwt_secret[80];
	char data_key[80];
	char *extra_env[32];
	char *admin_token;
	char tenants_made[16][64];
	int ntenants;
	int user_seq;
	char tls_cert[512]; /* trusted CA file when the server speaks TLS */
};

static struct harness H;

struct growbuf {
	char *p;
	size_t len;
};
static size_t on_data(char *ptr, size_t size, size_t n, void *ud);

static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void random_hex(char *out, size_t nbytes)
{
	unsigned char b[64];
	FILE *f = fopen("/dev/urandom", "rb");

	if (!f || fread(b, 1, nbytes, f) != nbytes)
		abort();
	fclose(f);
	for (size_t i = 0; i < nbytes; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* Run a command (argv) and wait; returns the exit status or -1. */
static int run_wait(char *const argv[], int quiet)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		if (quiet) {
			int fd = open("/dev/null", O_WRONLY);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* For PostgreSQL: create a database for this program on the test server. */
static int make_pg_database(const char *base_url)
{
	char name[64], sql[128];
	const char *q = strchr(base_url, '?');
	char host[512] = "", port[16] = "5432";

	snprintf(name, sizeof(name), "cl_api_%d_%ld", (int)getpid(), (long)time(NULL));
	/* base_url looks like postgresql://postgres@/postgres?host=DIR&port=N */
	if (q) {
		const char *h = strstr(q, "host="), *p = strstr(q, "port=");
		if (h)
			snprintf(host, sizeof(host), "%.*s", (int)strcspn(h + 5, "&"), h + 5);
		if (p)
			snprintf(port, sizeof(port), "%.*s", (int)strcspn(p + 5, "&"), p + 5);
	}
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	char *argv[] = { "psql", "-q", "-h", host, "-p", port, "-U", "postgres", "-d", "postgres", "-c", sql, NULL };
	if (run_wait(argv, 1) != 0)
		return -1;
	snprintf(H.db_url, sizeof(H.db_url), "postgresql://postgres@/%s?host=%s&port=%s", name, host, port);
	return 0;
}

static void child_env(void)
{
	char listen[64];

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", H.port);
	setenv("CLINICLEDGER_LISTEN", listen, 1);
	setenv("CLINICLEDGER_DB", H.db_url, 1);
	setenv("CLINICLEDGER_DATA_DIR", H.dir, 1);
	setenv("CLINICLEDGER_JWT_SECRET", H.jwt_secret, 1);
	setenv("CLINICLEDGER_DATA_KEY", H.data_key, 1);
	setenv("CLINICLEDGER_BOOTSTRAP_EMAIL", API_ADMIN_EMAIL, 1);
	setenv("CLINICLEDGER_BOOTSTRAP_PASSWORD", API_ADMIN_PASSWORD, 1);
	setenv("CLINICLEDGER_ARGON2_MEMORY_KIB", "8192", 1);
	setenv("CLINICLEDGER_HTTP_THREADS", "4", 0);
	setenv("CLINICLEDGER_LOG_LEVEL", "warn", 0);
	setenv("CLINICLEDGER_RATE_LIMIT", "0", 0);
	for (int i = 0; H.extra_env[i]; i++)
		putenv(H.extra_env[i]);
}

static int spawn_server(void)
{
	char log_path[512];

	snprintf(log_path, sizeof(log_path), "%s/server.log", H.dir);
	H.pid = fork();
	if (H.pid < 0)
		return -1;
	if (H.pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		child_env();
		execl(H.bin, H.bin, "serve", (char *)NULL);
		_exit(127);
	}
	/* wait until /health answers (up to 30 s: sanitizer builds start slowly) */
	for (int i = 0; i < 300; i++) {
		struct api_resp *r;
		int st;
		if (waitpid(H.pid, &st, WNOHANG) == H.pid) {
			fprintf(stderr, "harness: server exited during start; see %s\n", log_path);
			H.pid = 0;
			return -1;
		}
		r = api_req("GET", "/health", NULL, NULL, NULL);
		if (r->status == 200) {
			api_resp_free(r);
			return 0;
		}
		api_resp_free(r);
		usleep(100000);
	}
	fprintf(stderr, "harness: server did not answer /health; see %s\n", log_path);
	return -1;
}

int api_server_start(const char *const *extra_env)
{
	const char *bin = getenv("CLINICLEDGER_TEST_BIN");
	const char *pg = getenv("CLINICLEDGER_TEST_PG");
	char tmpl[] = "/tmp/clinicledger-api-XXXXXX";

	memset(&H, 0, sizeof(H));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(H.bin, sizeof(H.bin), "%s", bin && *bin ? bin : "build/clinicledger");
	if (!mkdtemp(tmpl))
		return -1;
	snprintf(H.dir, sizeof(H.dir), "%s", tmpl);
	random_hex(H.jwt_secret, 32);
	random_hex(H.data_key, 32);
	for (int i = 0; extra_env && extra_env[i] && i < 31; i++) {
		H.extra_env[i] = strdup(extra_env[i]);
		if (strncmp(extra_env[i], "CLINICLEDGER_TLS_CERT=", 22) == 0)
			snprintf(H.tls_cert, sizeof(H.tls_cert), "%s", extra_env[i] + 22);
	}
	if (pg && *pg) {
		if (make_pg_database(pg) != 0) {
			fprintf(stderr, "harness: cannot create a PostgreSQL database on %s\n", pg);
			return -1;
		}
	} else {
		snprintf(H.db_url, sizeof(H.db_url), "%s/clinicledger.db", H.dir);
	}
	H.port = free_port();
	snprintf(H.base, sizeof(H.base), "%s://127.0.0.1:%d", H.tls_cert[0] ? "https" : "http", H.port);
	return spawn_server();
}

static void stop_pid(int sig)
{
	int st;

	if (H.pid <= 0)
		return;
	kill(H.pid, sig);
	for (int i = 0; i < 100; i++) {
		if (waitpid(H.pid, &st, WNOHANG) == H.pid) {
			H.pid = 0;
			return;
		}
		usleep(100000);
	}
	kill(H.pid, SIGKILL);
	waitpid(H.pid, &st, 0);
	H.pid = 0;
}

void api_server_stop(void)
{
	char log_path[512];

	stop_pid(SIGTERM);
	snprintf(log_path, sizeof(log_path), "%s/server.log", H.dir);
	/* surface sanitizer reports and errors the server logged */
	FILE *f = fopen(log_path, "r");
	if (f) {
		char line[1024];
		while (fgets(line, sizeof(line), f))
			if (strstr(line, "ERROR: AddressSanitizer") || strstr(line, "runtime error:") ||
			    strstr(line, "LeakSanitizer"))
				fprintf(stderr, "server: %s", line);
		fclose(f);
	}
	free(H.admin_token);
	H.admin_token = NULL;
	for (int i = 0; H.extra_env[i]; i++)
		free(H.extra_env[i]);
	if (!getenv("CLINICLEDGER_TEST_KEEP")) {
		char *argv[] = { "rm", "-rf", H.dir, NULL };
		run_wait(argv, 1);
	}
}

int api_server_restart_hard(void)
{
	stop_pid(SIGKILL);
	free(H.admin_token);
	H.admin_token = NULL;
	return spawn_server();
}

void api_server_halt(void)
{
	stop_pid(SIGTERM);
	free(H.admin_token);
	H.admin_token = NULL;
}

int api_server_resume(void)
{
	return spawn_server();
}

const char *api_data_dir(void)
{
	return H.dir;
}

int api_is_pg(void)
{
	return strncmp(H.db_url, "postgres", 8) == 0;
}

int api_sql(char **out, const char *sql)
{
	char *argv[12];
	int n = 0, pipefd[2], st;
	pid_t pid;
	struct growbuf b = { 0 };
	char chunk[4096];
	ssize_t got;

	if (api_is_pg()) {
		argv[n++] = "psql";
		argv[n++] = "-X";
		argv[n++] = "-q";
		argv[n++] = "-At";
		argv[n++] = "-v";
		argv[n++] = "ON_ERROR_STOP=1";
		argv[n++] = H.db_url;
		argv[n++] = "-c";
		argv[n++] = (char *)sql;
	} else {
		argv[n++] = "sqlite3";
		argv[n++] = "-bail";
		argv[n++] = H.db_url;
		argv[n++] = (char *)sql;
	}
	argv[n] = NULL;
	if (pipe(pipefd) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	while ((got = read(pipefd[0], chunk, sizeof(chunk))) > 0)
		on_data(chunk, 1, (size_t)got, &b);
	close(pipefd[0]);
	waitpid(pid, &st, 0);
	if (out)
		*out = b.p ? b.p : strdup("");
	else
		free(b.p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char *api_base_url(void)
{
	return H.base;
}

const char *api_db_url(void)
{
	return H.db_url;
}

static size_t on_data(char *ptr, size_t size, size_t n, void *ud)
{
	struct growbuf *b = ud;
	size_t add = size * n;

	b->p = realloc(b->p, b->len + add + 1);
	if (!b->p)
		abort();
	memcpy(b->p + b->len, ptr, add);
	b->len += add;
	b->p[b->len] = '\0';
	return add;
}

static void header_value(const char *headers, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);

	out[0] = '\0';
	for (const char *line = headers; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1;
			while (*v == ' ')
				v++;
			size_t len = strcspn(v, "\r\n");
			snprintf(out, n, "%.*s", (int)len, v);
			return;
		}
	}
}

struct api_resp *api_reqv(const char *method, const char *path, const char *token, const char *body,
			  const char *const *headers)
{
	struct api_resp *r = calloc(1, sizeof(*r));
	struct growbuf data = { 0 }, hdrs = { 0 };
	struct curl_slist *list = NULL;
	char url[2048], auth[4096];
	CURL *c = curl_easy_init();

	snprintf(url, sizeof(url), "%s%s", H.base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &data);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdrs);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (H.tls_cert[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, H.tls_cert);
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		list = curl_slist_append(list, auth);
	}
	if (body) {
		list = curl_slist_append(list, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	for (int i = 0; headers && headers[i]; i++)
		list = curl_slist_append(list, headers[i]);
	list = curl_slist_append(list, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(list);
	curl_easy_cleanup(c);
	r->body = data.p ? data.p : strdup("");
	r->len = data.len;
	r->headers = hdrs.p ? hdrs.p : strdup("");
	header_value(r->headers, "Content-Type", r->content_type, sizeof(r->content_type));
	header_value(r->headers, "Retry-After", r->retry_after, sizeof(r->retry_after));
	header_value(r->headers, "X-Request-Id", r->request_id, sizeof(r->request_id));
	if (r->len)
		r->json = json_loads(r->body, 0, NULL);
	return r;
}

struct api_resp *api_req(const char *method, const char *path, const char *token, const char *body, ...)
{
	const char *headers[16];
	va_list ap;
	int n = 0;

	va_start(ap, body);
	for (const char *h = va_arg(ap, const char *); h && n < 15; h = va_arg(ap, const char *))
		headers[n++] = h;
	va_end(ap);
	headers[n] = NULL;
	return api_reqv(method, path, token, body, headers);
}

void api_resp_free(struct api_resp *r)
{
	if (!r)
		return;
	json_decref(r->json);
	free(r->body);
	free(r->headers);
	free(r);
}

char *api_login(const char *email, const char *password)
{
	json_t *b = json_pack("{s:s, s:s}", "email", email, "password", password);
	char *body = json_dumps(b, 0), *token = NULL;
	struct api_resp *r = api_req("POST", "/api/v1/auth/login", NULL, body, NULL);
	const char *t = api_str(r, "data.accessToken");

	if (r->status == 200 && t)
		token = strdup(t);
	api_resp_free(r);
	free(body);
	json_decref(b);
	return token;
}

const char *api_admin_token(void)
{
	if (!H.admin_token)
		H.admin_token = api_login(API_ADMIN_EMAIL, API_ADMIN_PASSWORD);
	if (!H.admin_token)
		fail_msg("admin login failed");
	return H.admin_token;
}

int api_cli(char **out, const char *const *args)
{
	int pipefd[2], st;
	char *argv[32];
	int n = 0;
	pid_t pid;
	struct growbuf b = { 0 };
	char chunk[4096];
	ssize_t got;

	argv[n++] = H.bin;
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	if (pipe(pipefd) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		char log_path[512];
		snprintf(log_path, sizeof(log_path), "%s/cli.log", H.dir);
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(pipefd[1], 1);
		if (fd >= 0)
			dup2(fd, 2);
		close(pipefd[0]);
		child_env();
		execv(H.bin, argv);
		_exit(127);
	}
	close(pipefd[1]);
	while ((got = read(pipefd[0], chunk, sizeof(chunk))) > 0)
		on_data(chunk, 1, (size_t)got, &b);
	close(pipefd[0]);
	waitpid(pid, &st, 0);
	if (out)
		*out = b.p ? b.p : strdup("");
	else
		free(b.p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

char *api_user_token(const char *tenant_slug, const char *role, char *email_out)
{
	char email[128], name[80];
	int known = 0;

	for (int i = 0; i < H.ntenants; i++)
		if (strcmp(H.tenants_made[i], tenant_slug) == 0)
			known = 1;
	if (!known && strcmp(tenant_slug, "demo") != 0) {
		snprintf(name, sizeof(name), "Tenant %s", tenant_slug);
		const char *args[] = { "tenant", "add", "--name", name, "--slug", tenant_slug, NULL };
		if (api_cli(NULL, args) != 0)
			fail_msg("tenant add %s failed", tenant_slug);
		if (H.ntenants < 16)
			snprintf(H.tenants_made[H.ntenants++], 64, "%s", tenant_slug);
	}
	snprintf(email, sizeof(email), "%s.%d.%s@test.local", role, ++H.user_seq, tenant_slug);
	const char *args[] = { "user",     "add",  "--tenant", tenant_slug,      "--email", email, "--role",
			       role,       "--password", API_USER_PASSWORD, NULL };
	if (api_cli(NULL, args) != 0)
		fail_msg("user add %s failed", email);
	if (email_out)
		snprintf(email_out, 128, "%s", email);
	char *token = api_login(email, API_USER_PASSWORD);
	if (!token)
		fail_msg("login of %s failed", email);
	return token;
}

json_t *api_path(const struct api_resp *r, const char *path)
{
	json_t *cur = r->json;
	char part[128];

	while (cur && *path) {
		size_t n = strcspn(path, ".");
		snprintf(part, sizeof(part), "%.*s", (int)n, path);
		if (json_is_array(cur)) {
			char *end;
			long idx = strtol(part, &end, 10);
			cur = *end ? NULL : json_array_get(cur, (size_t)idx);
		} else {
			cur = json_object_get(cur, part);
		}
		path += n;
		if (*path == '.')
			path++;
	}
	return cur;
}

const char *api_str(const struct api_resp *r, const char *path)
{
	return json_string_value(api_path(r, path));
}

long long api_int(const struct api_resp *r, const char *path)
{
	return (long long)json_integer_value(api_path(r, path));
}

int api_setup(void **state)
{
	(void)state;
	return api_server_start(NULL);
}

int api_teardown(void **state)
{
	(void)state;
	api_server_stop();
	return 0;
}

void api_expect_error(const struct api_resp *r, long status, const char *code, const char *field)
{
	const char *got;

	assert_status(r, status);
	assert_true(json_is_false(api_path(r, "success")));
	if (code && (!api_str(r, "error.code") || strcmp(api_str(r, "error.code"), code) != 0))
		fail_msg("error code %s, wanted %s: %.300s", api_str(r, "error.code") ? api_str(r, "error.code") : "(none)",
			 code, r->body);
	if (field) {
		got = api_str(r, "error.details.field");
		if (!got || strcmp(got, field) != 0)
			fail_msg("error names field %s, wanted %s: %.300s", got ? got : "(none)", field, r->body);
	}
}

char *api_sql_text(const char *sql)
{
	char *out = NULL;

	if (api_sql(&out, sql) != 0)
		fail_msg("database client failed on: %s -> %s", sql, out ? out : "");
	return out;
}

void api_sql_ok(const char *sql)
{
	free(api_sql_text(sql));
}

long long api_sql_int(const char *sql)
{
	char *out = api_sql_text(sql);
	long long v = atoll(out);

	free(out);
	return v;
}
