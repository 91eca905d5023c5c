/* bounded.h — the parts of the standard library a script could use to hold the loop from
 * inside C, where the instruction budget's count hook never fires, replaced by bounded ones:
 *  - pattern.c: string.find, match, gmatch and gsub with every matcher step charged to the
 *    budget (Lua's own matcher backtracks in C: ('a'):rep(65536):find('a-b') ran 10 s);
 *  - metatable.c: setmetatable that refuses __gc (Lua runs finalizers with hooks off, at
 *    any allocation, in whichever call allocates, and at lua_close: an endless one froze
 *    the engine for good);
 *  - scan.c: utf8 scans and table.sort's default order, charged by the bytes they compare.
 * Installed in every policy snapshot (sandbox.c) and in the scenario files' own states
 * (sim.c). */
#ifndef HL_LUA_BOUNDED_H
#define HL_LUA_BOUNDED_H
#include <lua.h>

/* Steps one pattern call may take in a state that is not a policy snapshot's (a scenario
 * file's; or a snapshot's with no script running): about a tenth of a second of
 * matching, far beyond any honest pattern on a short string. */
#define HL_PATTERN_FREE_STEPS 5000000L

/* Replaces find, match, gmatch and gsub in the string table at index strtab.  In a policy
 * snapshot's state they also refuse subjects over script_pattern_max (rules/engine.lua). */
void hl_pattern_open(lua_State *L, int strtab);
/* Replaces the global setmetatable by one that refuses a metatable with a __gc field. */
void hl_metatable_open(lua_State *L);
/* Makes utf8.len/codepoint/offset and table.sort's default order pay for the strings they
 * scan (scan.c; policy snapshots only: it charges the running script). */
void hl_scan_open(lua_State *L);

#endif
