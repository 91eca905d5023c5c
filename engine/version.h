/* version.h — the engine's version, shown by `hotline version`, ctl status and SIP User-Agent. */
#ifndef HL_VERSION_H
#define HL_VERSION_H
#define HL_VERSION "0.1.0"
#endif
