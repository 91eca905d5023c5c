/* config.h — the engine's settings: command-line options plus the tunables of
 * rules/engine.lua (timeouts, limits, budgets), each there with the rule-book section or
 * the reason it comes from.  Loaded once per policy snapshot; read-only after. */
#ifndef HL_CONFIG_H
#define HL_CONFIG_H
#include <stdbool.h>

typedef struct hl_config {
    /* command line */
    char sip_addr[64];      int sip_port;
    int  rtp_port_lo, rtp_port_hi;
    char data_dir[512], scripts_dir[512], rules_dir[512], prompts_dir[512];
    char http_addr[64];     int http_port;   /* http_port 0 = no HTTP */
    double start_clock;     /* wall time to start at, <0 = now */

    /* rules/engine.lua (defaults in config.c, same values as the shipped file) */
    int  rtp_timeout_ms;          /* no RTP for this long ends an active call */
    int  rtp_hold_timeout_ms;     /* ... and this long while on hold */
    int  ring_timeout_ms;         /* an outbound leg unanswered for this long fails (408) */
    int  max_calls;               /* more concurrent calls get 503 */
    int  script_instructions;     /* Lua instruction budget per resume of a call's script */
    int  script_memory_kb;        /* Lua memory a call may hold */
    int  record_max_ms;           /* upper bound on any recording */
    int  silence_level;           /* mean |sample| under which a 20 ms frame is silence */
    int  reload_debounce_ms;      /* file saves closer than this are one reload */
    int  sip_rate_per_sec;        /* requests per source per second before it is refused */
    int  sip_max_message;         /* bytes; larger SIP messages are refused */
    int  dtmf_duration_ms;        /* DTMF we send */
    /* fax on demand (engine/fax/; added by the fax engineer) */
    char fax_dir[512];            /* documents call:fax_send may send (default build/fax) */
    int  fax_max_ms;              /* one T.30 session ends after this long */
} hl_config;

void hl_config_defaults(hl_config *cfg);
/* Reads rules/engine.lua (a sandboxed chunk returning a table) over the defaults.
 * Returns 0, or -1 with a message naming the file, line and key in err. */
int  hl_config_load_rules(hl_config *cfg, const char *rules_dir, char *err, int errlen);
/* "127.0.0.1:5060" -> addr, port.  Returns 0 or -1. */
int  hl_config_parse_hostport(const char *s, char *addr, int addrlen, int *port);

#endif
