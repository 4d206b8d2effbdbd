/*
 * mem.h - allocation: aborting wrappers and the per-request arena.
 *
 * xmalloc and friends abort the process on out-of-memory (as Redis's zmalloc
 * does): a server cannot do anything useful without memory, and callers are
 * spared a NULL check on every allocation.
 *
 * An arena hands out memory that is released all at once by arena_free().
 * Every request owns one; anything a function returns "in the arena" lives
 * until the request's response has been sent. An arena has a byte cap: going
 * past it aborts, because every input that fills an arena is itself capped
 * (body size, list limits), so reaching it is a programming error.
 */
#ifndef CL_CORE_MEM_H
#define CL_CORE_MEM_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);                  /* owned; never NULL */
void *xcalloc(size_t count, size_t size); /* owned; zeroed; never NULL */
void *xrealloc(void *p, size_t n);        /* owned; never NULL */
char *xstrdup(const char *s);             /* owned copy of s; never NULL */
char *xstrndup(const char *s, size_t n);  /* owned copy of at most n bytes */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* owned */

/* Overwrite n bytes with zeros in a way the compiler keeps (for secrets). */
void mem_wipe(void *p, size_t n);

struct arena;

/* New arena with a total cap in bytes (0 = 64 MiB). Owned: release with arena_free. */
struct arena *arena_new(size_t cap_bytes);
void arena_free(struct arena *a);

void *arena_alloc(struct arena *a, size_t n); /* in the arena, 16-byte aligned, zeroed */
char *arena_strdup(struct arena *a, const char *s);           /* NULL in, NULL out */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap);
size_t arena_used(const struct arena *a);

#endif
