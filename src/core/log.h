/*
 * log.h - one-line structured log records on stderr.
 *
 * Format: "2025-10-14T10:00:00Z level=info msg=\"...\" key=value ...".
 * Never log patient data, passwords, tokens or keys. Thread-safe.
 */
#ifndef CL_CORE_LOG_H
#define CL_CORE_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Minimum level written (default LOG_INFO). Set once at start-up. */
void log_set_level(enum log_level level);
/* Parse "debug|info|warn|error"; returns -1 when unknown. */
int log_level_parse(const char *s);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

#endif
