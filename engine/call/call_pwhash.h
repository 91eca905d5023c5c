/* call_pwhash.h — hl.pin_hash / hl.pin_verify (call_pwhash.c): the engine's PIN hash.
 * issue 6: registered from hl_call_lua_open until the declared API table takes it over. */
#ifndef HL_CALL_PWHASH_H
#define HL_CALL_PWHASH_H

typedef struct lua_State lua_State;

/* Registers hl.pin_hash and hl.pin_verify in the policy state L (called by hl_call_lua_open). */
void hl_call_pwhash_open(lua_State *L);

#endif
