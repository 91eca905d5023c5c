/* last_good.h — the last policy that passed its tests, kept in the data directory, so that
 * an engine whose scripts/ or rules/ on disk do not pass (a refused edit, then a crash or a
 * restart) still starts: on it, loudly (issue 7).
 *
 * Layout: DATA/last-good is a symbolic link to DATA/last-good.d/<version>-<stamp>/, which
 * holds scripts/, rules/ (every file of both, as built and tested) and VERSION ("<version>
 * <epoch seconds saved>").  Saving copies into a new folder, then swaps the link with one
 * rename(), so a crash mid-save leaves the previous copy whole; the older folder is removed
 * after the swap.
 *
 * The copy is taken BEFORE the build (hl_last_good_stage) and kept only if the build and its
 * self-test pass and the files on disk still equal it (hl_last_good_commit): an edit saved
 * while the build ran is never kept as tested.  Both run off the loop (start-up, the reload
 * worker). */
#ifndef HL_LAST_GOOD_H
#define HL_LAST_GOOD_H
#include <stdbool.h>

typedef struct hl_last_good_stage {
    char dir[1024];       /* DATA/last-good.d/stage-<pid>-<n>; "" when staging failed */
} hl_last_good_stage;

/* Copies scripts_dir and rules_dir into a new staging folder under data_dir.  0, or -1
 * with err (the policy can still serve; it just is not kept). */
int  hl_last_good_stage_copy(hl_last_good_stage *st, const char *data_dir, const char *scripts_dir,
                             const char *rules_dir, char *err, int errlen);
/* After a passed build: when the files on disk still equal the staged copy, it becomes
 * the last good policy (version recorded).  0, 1 when the files changed meanwhile (not
 * kept), -1 with err. */
int  hl_last_good_commit(hl_last_good_stage *st, const char *data_dir, const char *scripts_dir,
                         const char *rules_dir, const char *version, char *err, int errlen);
/* Removes a staged copy that is not kept (a failed build). */
void hl_last_good_discard(hl_last_good_stage *st);

/* The last good policy's folders and the version it had; false when there is none. */
bool hl_last_good_find(const char *data_dir, char *scripts_dir, char *rules_dir, int dirlen,
                       char *version, int versionlen, double *saved);

/* At start-up: removes copies a crash left half made (all but the one the link names). */
void hl_last_good_sweep(const char *data_dir);

#endif
