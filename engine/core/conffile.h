/* conffile.h — the engine's config file (/etc/hotline/hotline.conf): `name = value` lines.
 *
 * One setting a line, `#` starts a comment, blank lines are skipped, spaces around the name
 * and the value are dropped.  What the names mean is the caller's business (`hotline run`
 * takes its long options without the dashes); this reader only splits lines and says where a
 * line is wrong.  A folder given relative in the file is relative to the file's own folder,
 * so a config file and the folders beside it move together. */
#ifndef HL_CONFFILE_H
#define HL_CONFFILE_H
#include <stddef.h>

/* Called for each setting; returns 0, or -1 with the reason (no file or line) in err. */
typedef int (*hl_conffile_fn)(void *arg, const char *name, const char *value,
                              char *err, int errlen);

/* Reads path and calls fn for each `name = value` in order.  0, or -1 with
 * "PATH:LINE: reason" (or "PATH: reason" when it cannot be read) in err. */
int hl_conffile_read(const char *path, hl_conffile_fn fn, void *arg, char *err, int errlen);

/* value as a folder: kept when absolute, else joined to the folder of conf_path ("."
 * when it has none).  0, or -1 when it does not fit in outlen. */
int hl_conffile_path(const char *conf_path, const char *value, char *out, size_t outlen);
#endif
