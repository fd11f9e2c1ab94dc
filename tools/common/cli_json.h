/* tools/common/cli_json.h: reading fields of the JSON replies the
 * programs format (the API's, the installer's reports). */
#ifndef VV_TOOLS_CLI_JSON_H
#define VV_TOOLS_CLI_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

/* Field @key of object @o (which may be NULL) as a string; NULL when it
 * is absent or null. */
const char *cli_jstr(json_object *o, const char *key);
/* ... as an integer; 0 when absent or null. */
int64_t cli_jint(json_object *o, const char *key);
/* ... as a boolean; false when absent or null. */
bool cli_jbool(json_object *o, const char *key);

#endif
