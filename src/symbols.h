/* symbols.h — address ↔ name for libpython: dladdr, then elfutils over the
 * detached debug file matched by build-id. */
#ifndef MT_SYMBOLS_H
#define MT_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

/* The symbol service is a process-wide singleton, created on first use.
 * Nothing is parsed at start-up: the debug file is opened the first time a
 * static name is needed, and then kept. */

/* Directory holding .build-id/xx/rest.debug: $MINISTRY_DEBUG_DIR, else
 * /usr/lib/debug.  Borrowed string. */
const char *mt_sym_debug_dir(void);

/* Path and hex build-id of the loaded libpython3.11.so.1.0.  Borrowed
 * strings, never NULL (empty when unknown). */
const char *mt_sym_libpython_path(void);
const char *mt_sym_libpython_build_id(void);

/* Open the debug symbols (at most once).  Returns 0 when the debug file for
 * the loaded libpython exists and its build-id matches; otherwise -1 and
 * *why (borrowed, stable) says what is missing and gives the apt-get
 * command that installs it. */
int mt_sym_debug_ready(const char **why);

/* Whether the debug file was opened (or tried) yet: nothing is parsed
 * before a static name is first needed. */
int mt_sym_debug_loaded(void);

/* Path of the matching debug file, or NULL when none.  Borrowed. */
const char *mt_sym_debug_path(void);

/* Name → address.  Exported names come from dlsym; static ones from the
 * debug file, where a name also matches its compiler-suffixed forms
 * (long_add matches long_add.lto_priv.0, foo.constprop.0 …).  Returns 0
 * and sets *addr, or -1 with *why (borrowed, until the next call) naming
 * what is missing. */
int mt_sym_lookup(const char *name, uintptr_t *addr, const char **why);

/* Address → "name+off (libfile+0xoff)" into buf, e.g.
 * "long_add (libpython3.11.so.1.0+0x…)"; compiler suffixes are
 * dropped from the name.  Returns 0 when a symbol was found, 1 when only
 * the holding file is known ("libc.so.6+0x1234"), -1 when nothing is
 * known (buf holds "0x…"). */
int mt_sym_describe(uintptr_t addr, char *buf, size_t n);

/* Just the symbol name holding addr (no offset, no file) into buf, with
 * suffixes dropped; returns 0, or -1 when there is none. */
int mt_sym_name(uintptr_t addr, char *buf, size_t n);

/* Size in bytes of the symbol starting exactly at addr, or 0 when unknown. */
size_t mt_sym_size(uintptr_t addr);

#endif
