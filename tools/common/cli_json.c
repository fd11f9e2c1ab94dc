/* tools/common/cli_json.c: fields of JSON replies. */
#include "tools/common/cli_json.h"

static json_object *field(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

const char *cli_jstr(json_object *o, const char *key)
{
	json_object *v = field(o, key);

	return v ? json_object_get_string(v) : NULL;
}

int64_t cli_jint(json_object *o, const char *key)
{
	json_object *v = field(o, key);

	return v ? json_object_get_int64(v) : 0;
}

bool cli_jbool(json_object *o, const char *key)
{
	json_object *v = field(o, key);

	return v && json_object_get_boolean(v);
}
