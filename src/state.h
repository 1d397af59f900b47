/* state.h — the learner's progress between runs: where they left off and
 * which stages they finished. */
#ifndef MT_STATE_H
#define MT_STATE_H

#include <stdint.h>

/* Stage numbers are the two digits of a lesson file name: 0..99. */
#define MT_STATE_MAX_STAGES 100

/* Exercises of one stage the state can record: K in N.K is 1..32
 * (MT_LESSON_MAX_EXERCISES). */
#define MT_STATE_MAX_EXERCISES 32

/* Plain data.  The file is a few "key value" lines:
 *
 *     # ministry-tutor learner state
 *     version 1
 *     stage 3
 *     step 2
 *     done 1 2
 *     solved 1.1 3.1
 *
 * step is 1-based like --step; 0 means the stage's opening page and
 * nsteps + 1 its closing page (the frontend clamps it to the lesson).
 * solved lists the exercises (N.K) the checker passed. */
typedef struct mt_state {
    int stage;                              /* stage number; 0: none yet */
    int step;
    unsigned char done[MT_STATE_MAX_STAGES]; /* done[n]: stage n finished */
    uint32_t solved[MT_STATE_MAX_STAGES];   /* bit K-1: exercise n.K solved */
} mt_state;

/* Whether exercise n.k is solved in st (0 for numbers out of range). */
int mt_state_solved(const mt_state *st, int n, int k);

/* The state file: $XDG_STATE_HOME/ministry-tutor/state, or
 * ~/.local/state/ministry-tutor/state when XDG_STATE_HOME is unset, empty
 * or not absolute (as the XDG spec says).  Returns a malloc'ed path, or
 * NULL with a malloc'ed *err when neither variable gives a home. */
char *mt_state_path(char **err);

/* Read the state at path into *st.  Returns 0 when it was read; -1 when
 * the file is missing, unreadable or malformed in any way, with *st reset
 * to "nothing yet" (a corrupt file is ignored, never fatal). */
int mt_state_load(const char *path, mt_state *st);

/* Write *st to path atomically (a temporary file in the same folder,
 * fsync, rename), creating the folders with mode 0700 as needed.  A solved
 * exercise is never forgotten: the ones the file already lists are kept
 * (another process may have recorded one since *st was read).  Returns
 * 0, or -1 with a malloc'ed *err naming the file and the reason. */
int mt_state_save(const char *path, const mt_state *st, char **err);

/* Record exercise n.k as solved in the state file at path (read, mark,
 * save).  Returns 0, or -1 with *err as mt_state_save. */
int mt_state_mark_solved(const char *path, int n, int k, char **err);

/* ---- where the interface is, for --notes ----------------------------------

   The interface (talk mode and lessons alike) writes where it is after
   every move, and `--notes` in another terminal follows that file:

       # ministry-tutor position
       stage 3
       step 4

   step as in the learner state (0: the opening page, nsteps + 1: the
   end).  */

/* $XDG_STATE_HOME/ministry-tutor/position (the folder of mt_state_path).
 * Returns a malloc'ed path, or NULL with a malloc'ed *err. */
char *mt_state_position_path(char **err);

/* Write the position atomically.  Returns 0, or -1 with a malloc'ed
 * *err. */
int mt_state_position_save(const char *path, int stage, int step, char **err);

/* Read the position.  Returns 0, or -1 when the file is missing or not
 * exactly in that form (path may be NULL). */
int mt_state_position_load(const char *path, int *stage, int *step);

/* Create the folders above path (mode 0700).  Returns 0, or -1 with a
 * malloc'ed *err. */
int mt_state_dir_ensure(const char *path, char **err);

#endif
