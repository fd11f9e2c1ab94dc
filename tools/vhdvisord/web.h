/* tools/vhdvisord/web.h: the web console's files (appliance/web/, built
 * into BUILD/share/vhdvisor/web) served at / beside /api/v1. */
#ifndef VV_TOOLS_VHDVISORD_WEB_H
#define VV_TOOLS_VHDVISORD_WEB_H

#include <stdbool.h>

#include <microhttpd.h>

/* The directory to serve (kept, not copied); NULL: next to the program,
 * EXE/../share/vhdvisor/web. */
void web_set_root(const char *dir);
/* Whether @url is the web console's (not under /api/): GET and HEAD of
 * /, /NAME.EXT and /assets/NAME.EXT. */
bool web_wants(const char *url);
/* Answers a request web_wants() took: the file, 404, or 405. */
enum MHD_Result web_serve(struct MHD_Connection *conn, const char *method, const char *url);

#endif
