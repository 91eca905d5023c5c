/* reload_audit.h — what the audit of a reload needs besides the store (issue 10): who
 * asked, by name, and the unified diff of scripts/ and rules/ it brought.
 *
 * Who: "ctl alice (uid 1000)" (the ctl client's uid from the socket's peer credentials,
 * named from the password database), "file watch" or "SIGHUP"; several requests that one
 * build serves are joined with ", ".
 *
 * The diff compares the files of the serving version (the last good copy in the data
 * directory, app/last_good.h) with the files staged for the build, with diffutils'
 * `diff -ruN`, run as a child process from the reload worker (never from the loop).  Paths
 * read a/scripts/..., b/rules/...; the text is cut at HL_RELOAD_DIFF_MAX bytes. */
#ifndef HL_RELOAD_AUDIT_H
#define HL_RELOAD_AUDIT_H
#include <stddef.h>

/* A diff longer than this is cut (with a note saying how long it was): an audit row stays
 * readable in `hotline ctl audit`, and a generated rules file cannot fill the store. */
#define HL_RELOAD_DIFF_MAX (64 * 1024)

/* Appends one asker to who (", " between askers), bounded by whylen. */
void  hl_reload_who_add(char *who, size_t wholen, const char *asker);
/* "ctl NAME (uid N)", or "ctl uid N" when the uid has no name. */
void  hl_reload_who_ctl(unsigned uid, char *out, size_t outlen);

/* The unified diff from old_root/{scripts,rules} to new_root/{scripts,rules}: a malloc'd
 * string ("" when the files are equal), or NULL with why (diff missing or failed). */
char *hl_reload_diff(const char *old_root, const char *new_root, char *why, size_t whylen);

#endif
