/* ipaddr.h — IP addresses as 16 bytes (IPv4 as ::ffff:a.b.c.d), the one form the SIP edge
 * (per-source limits, bans) and rules/trunks.lua's networks (core/trunks.c) compare. */
#ifndef HL_IPADDR_H
#define HL_IPADDR_H
#include <stdint.h>

/* "127.0.0.1", "::1" (no prefix, no brackets) into ip: 0, or -1 when not an address. */
int hl_ip16_from_text(const char *s, uint8_t ip[16]);

#endif
