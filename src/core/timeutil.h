/*
 * timeutil.h - clocks, ISO-8601 text, calendar dates and IANA time zones.
 *
 * Stored timestamps are UTC text "YYYY-MM-DDTHH:MM:SSZ" (lexicographic order
 * = time order). Dates are "YYYY-MM-DD". Time zones are read from the
 * system's TZif files (/usr/share/zoneinfo, override with TZDIR) by our own
 * parser, including the POSIX TZ footer for times past the last
 * transition: no setenv("TZ")/localtime, so it is thread-safe.
 */
#ifndef CL_CORE_TIMEUTIL_H
#define CL_CORE_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define TIME_ISO_LEN 20 /* "2025-10-14T10:00:00Z" */
#define DATE_LEN 10     /* "2025-10-14" */

int64_t time_now_s(void);  /* UTC epoch seconds */
int64_t time_now_ms(void); /* UTC epoch milliseconds */
int64_t time_mono_ms(void);/* monotonic milliseconds (durations) */

/* Epoch seconds -> "YYYY-MM-DDTHH:MM:SSZ" into out[21]. */
void time_iso(int64_t epoch_s, char out[TIME_ISO_LEN + 1]);
void time_now_iso(char out[TIME_ISO_LEN + 1]);
/* Parse "YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)" or "YYYY-MM-DD" (midnight UTC). */
int time_parse_iso(const char *s, int64_t *epoch_s, const char *field, struct err *e);

/* A real calendar date "YYYY-MM-DD" (leap years checked). */
bool date_valid(const char *s);
/* Days since 1970-01-01 for a valid date; days -> date text into out[11]. */
int64_t date_to_days(const char *s);
void date_from_days(int64_t days, char out[DATE_LEN + 1]);
/* Add n days to a date. */
void date_add_days(const char *s, int n, char out[DATE_LEN + 1]);

/* IANA zone name exists and is safe ("America/El_Salvador"; no "..", no leading "/"). */
bool tz_valid(const char *name);
/* UTC offset in seconds of zone `name` at epoch_s. Unknown zone -> ERR_INVALID. */
int tz_offset(const char *name, int64_t epoch_s, int32_t *offset_s, struct err *e);
/* Local calendar date and time in zone: date "YYYY-MM-DD" out[11], time "HH:MM:SS" out[9]. */
int tz_local(const char *name, int64_t epoch_s, char date[DATE_LEN + 1], char time_of_day[9],
	     struct err *e);

#endif
