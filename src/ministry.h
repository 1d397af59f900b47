/* ministry.h — the `ministry` Python module offered to lessons and --run
 * scripts (see docs/python-api.md). */
#ifndef MT_MINISTRY_H
#define MT_MINISTRY_H

#include <stdint.h>

struct _object;   /* PyObject, without pulling Python.h into this header */

/* The module's init function, registered with PyImport_AppendInittab.
 * Returns a new reference. */
struct _object *mt_ministry_init(void);

/* The `doublescript` module's init function: the talk's package name for
 * ministry's two_plus_two_equals.  Returns a new reference. */
struct _object *mt_ministry_doublescript_init(void);

/* The static libpython function where this version folds `2 + 2`
 * (_PyAST_Optimize up to 3.13, optimize_basic_block from 3.14).  A
 * string constant. */
const char *mt_ministry_fold_site(void);

/* Turn constant folding off (on == 0) or back on (on == 1) with the
 * trampoline over mt_ministry_fold_site(); nests (off twice needs on twice).
 * Returns 0, or -1 with a malloc'ed *err (missing debug symbols: the
 * command that installs them). */
int mt_ministry_fold(int on, char **err);

/* Whether the fold trampoline is installed now. */
int mt_ministry_fold_off(void);

#endif
