/* check-libs.h — the library versions the engine is written for, checked by
 * contrib/check-libs.sh before the first compile so that a wrong version is one clear line
 * ("hotline: ...") instead of a page of compiler errors.  Each #error's text is that line.
 * The versions are Debian 12's; a newer minor release of the same API is accepted. */
#include <lua.h>
#include <uv.h>
#include <osipparser2/osip_parser.h>
#include <ortp/ortp.h>
#include <sqlite3.h>
#include <jansson.h>
#include <spandsp.h>
#include <spandsp/version.h>
#include <tiffio.h>
#include <curl/curl.h>

#if LUA_VERSION_NUM != 504
#error "hotline needs Lua 5.4 (liblua5.4-dev); the lua.h found is another version"
#endif
#if UV_VERSION_MAJOR != 1 || UV_VERSION_MINOR < 44
#error "hotline needs libuv 1.44 or newer 1.x (libuv1-dev); the uv.h found is older"
#endif
#if SQLITE_VERSION_NUMBER < 3040000
#error "hotline needs SQLite 3.40 or newer (libsqlite3-dev): it uses RETURNING and STRICT-era features"
#endif
#if JANSSON_MAJOR_VERSION != 2 || JANSSON_MINOR_VERSION < 13
#error "hotline needs jansson 2.13 or newer 2.x (libjansson-dev)"
#endif
/* spandsp 0.0.6 (Debian's libspandsp-dev) carries release date 2011-01-22; the 3.x line from
 * git changed the T.30 and logging calls the fax module uses. */
#if !defined(SPANDSP_RELEASE_DATE) || SPANDSP_RELEASE_DATE >= 20150101
#error "hotline needs spandsp 0.0.6 (Debian's libspandsp-dev); the spandsp.h found is another line (a spandsp 3 in /usr/local? remove it or put Debian's first)"
#endif
#if LIBCURL_VERSION_NUM < 0x074400
#error "hotline needs libcurl 7.68 or newer (libcurl4-openssl-dev)"
#endif
