/* ipaddr.c — IP addresses as 16 bytes (see ipaddr.h). */
#include "core/ipaddr.h"
#include <arpa/inet.h>
#include <string.h>

int hl_ip16_from_text(const char *s, uint8_t ip[16])
{
    struct in_addr a4;
    if (inet_pton(AF_INET, s, &a4) == 1) {
        memset(ip, 0, 10);
        ip[10] = ip[11] = 0xff;
        memcpy(ip + 12, &a4, 4);
        return 0;
    }
    return inet_pton(AF_INET6, s, ip) == 1 ? 0 : -1;
}
