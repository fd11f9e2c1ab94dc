/* images/bundle_check.c: judging every field of a bundle's manifest before
 * any of it is used, with the rules the command line applies to the same
 * values (names, CPU and memory ranges, MAC and UUID syntax, snapshot
 * tags). A manifest comes from another host: nothing in it is trusted. */
#include "images/bundle_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hv/vm_config.h"
#include "images/img_store.h"
#include "netback/mac.h"
#include "vhd/vhd.h"

static json_object *field(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* @key is an integer in [lo, hi]; @optional: absent is fine. */
static int int_ok(json_object *o, const char *what, const char *key, int64_t lo, int64_t hi,
		  bool optional)
{
	json_object *v = field(o, key);
	int64_t n;

	if (!v && optional)
		return 0;
	if (!v || !json_object_is_type(v, json_type_int))
		return img_fail(-EINVAL, "bundle: %s: \"%s\" is missing or not an integer", what,
				key);
	n = json_object_get_int64(v);
	if (n < lo || n > hi)
		return img_fail(-EINVAL, "bundle: %s: \"%s\" %lld is out of range (%lld-%lld)",
				what, key, (long long)n, (long long)lo, (long long)hi);
	return 0;
}

static bool printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* @key is a string shorter than @cap without control characters. */
static int str_ok(json_object *o, const char *what, const char *key, size_t cap,
		  bool optional, const char **out)
{
	json_object *v = field(o, key);
	const char *s;

	if (!v && optional) {
		if (out)
			*out = "";
		return 0;
	}
	if (!v || !json_object_is_type(v, json_type_string))
		return img_fail(-EINVAL, "bundle: %s: \"%s\" is missing or not a string", what,
				key);
	s = json_object_get_string(v);
	if (strlen(s) >= cap || !printable(s))
		return img_fail(-EINVAL, "bundle: %s: bad \"%s\" (control characters or"
				" longer than %zu)", what, key, cap - 1);
	if (out)
		*out = s;
	return 0;
}

static int bool_ok(json_object *o, const char *what, const char *key)
{
	json_object *v = field(o, key);

	if (v && !json_object_is_type(v, json_type_boolean))
		return img_fail(-EINVAL, "bundle: %s: \"%s\" is not true or false", what, key);
	return 0;
}

static bool hex_ok(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (; *s; s++)
		if (!strchr("0123456789abcdef", *s))
			return false;
	return true;
}

bool bundle_id_valid(const char *s)
{
	return hex_ok(s, CAT_ID_LEN);
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", hex in either case. */
static bool uuid_ok(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	}
	return true;
}

/* A catalog name (images, VMs): NAME, or NAME:VERSION when @version. */
static bool name_ok(const char *s, bool version)
{
	char n[CAT_NAME_MAX + 1], v[CAT_NAME_MAX + 1];

	return !cat_ref_split(s, n, v) && (version || !v[0]);
}

static int image_check(json_object *o)
{
	const char *id, *boot, *arch, *parent;
	json_object *names;
	char what[96];
	int r;

	if (!json_object_is_type(o, json_type_object))
		return img_fail(-EINVAL, "bundle: an image entry is not an object");
	r = str_ok(o, "image", "id", CAT_ID_LEN + 1, false, &id);
	if (!r && !bundle_id_valid(id))
		r = img_fail(-EINVAL, "bundle: bad image id '%.80s' (64 hex digits)", id);
	if (r)
		return r;
	snprintf(what, sizeof(what), "image %.12s", id);
	r = int_ok(o, what, "virtual_size", VHD_SECTOR_SIZE, INT64_MAX, false) ?:
	    str_ok(o, what, "os", sizeof(((struct cat_image *)0)->os), true, NULL) ?:
	    str_ok(o, what, "arch", sizeof(((struct cat_image *)0)->arch), true, &arch) ?:
	    str_ok(o, what, "boot", sizeof(((struct cat_image *)0)->boot), true, &boot) ?:
	    int_ok(o, what, "min_mem", 0, (int64_t)VM_MAX_MEM, true) ?:
	    int_ok(o, what, "min_disk", 0, INT64_MAX, true) ?:
	    str_ok(o, what, "source", sizeof(((struct cat_image *)0)->source), true, NULL) ?:
	    int_ok(o, what, "created", 0, INT64_MAX, true) ?:
	    str_ok(o, what, "parent", CAT_ID_LEN + 1, true, &parent) ?:
	    bool_ok(o, what, "cloud_init");
	if (r)
		return r;
	if (strspn(boot, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(boot) ||
	    strspn(arch, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
	    strlen(arch))
		return img_fail(-EINVAL, "bundle: %s: bad boot '%.20s' or arch '%.20s'", what, boot,
				arch);
	if (parent[0] && !bundle_id_valid(parent))
		return img_fail(-EINVAL, "bundle: %s: bad parent id", what);
	names = field(o, "names");
	if (names && !json_object_is_type(names, json_type_array))
		return img_fail(-EINVAL, "bundle: %s: \"names\" is not a list", what);
	for (size_t i = 0; names && i < json_object_array_length(names); i++) {
		json_object *n = json_object_array_get_idx(names, i);

		if (!json_object_is_type(n, json_type_string) ||
		    !name_ok(json_object_get_string(n), true))
			return img_fail(-EINVAL, "bundle: %s: bad name (NAME[:VERSION] of"
					" [A-Za-z0-9._-])", what);
	}
	return 0;
}

/* Each element of array @key of @vmj is an object passing @fn. */
static int each(json_object *vmj, const char *key, bool optional,
		int (*fn)(json_object *o, size_t i))
{
	json_object *arr = field(vmj, key);
	int r;

	if (!arr && optional)
		return 0;
	if (!arr || !json_object_is_type(arr, json_type_array))
		return img_fail(-EINVAL, "bundle: VM: \"%s\" is missing or not a list", key);
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(o, json_type_object))
			return img_fail(-EINVAL, "bundle: VM: an entry of \"%s\" is not an object",
					key);
		r = fn(o, i);
		if (r)
			return r;
	}
	return 0;
}

static int layer_check(json_object *o, size_t i)
{
	(void)i;
	return int_ok(o, "VM layer", "id", 1, INT64_MAX, false) ?:
	       int_ok(o, "VM layer", "parent", 0, INT64_MAX, true) ?:
	       str_ok(o, "VM layer", "file", 192, false, NULL) ?:
	       bool_ok(o, "VM layer", "standalone");
}

static int snap_check(json_object *o, size_t i)
{
	const char *tag;
	int r;

	(void)i;
	r = str_ok(o, "VM snapshot", "tag", CAT_NAME_MAX + 1, false, &tag) ?:
	    int_ok(o, "VM snapshot", "layer", 1, INT64_MAX, false) ?:
	    int_ok(o, "VM snapshot", "created", 0, INT64_MAX, true);
	if (!r && !name_ok(tag, false))
		r = img_fail(-EINVAL, "bundle: VM snapshot: bad tag '%.64s' (1-%d of"
			     " [A-Za-z0-9._-])", tag, CAT_NAME_MAX);
	return r;
}

static int disk_check(json_object *o, size_t i)
{
	(void)i;
	return int_ok(o, "VM data disk", "idx", 1, INT32_MAX, false) ?:
	       str_ok(o, "VM data disk", "file", 192, false, NULL) ?:
	       int_ok(o, "VM data disk", "size", VHD_SECTOR_SIZE, INT64_MAX, false);
}

static int vm_check(json_object *vmj)
{
	const char *name, *image, *mac, *uuid, *mid;
	uint8_t m[MAC_LEN];
	int r;

	if (!json_object_is_type(vmj, json_type_object))
		return img_fail(-EINVAL, "bundle: \"vm\" is not an object");
	r = str_ok(vmj, "VM", "name", CAT_NAME_MAX + 1, false, &name) ?:
	    str_ok(vmj, "VM", "image", CAT_ID_LEN + 1, false, &image) ?:
	    int_ok(vmj, "VM", "cpus", 1, VM_MAX_CPUS, false) ?:
	    int_ok(vmj, "VM", "mem", (int64_t)VM_MIN_MEM, (int64_t)VM_MAX_MEM, false) ?:
	    str_ok(vmj, "VM", "mac", 18, false, &mac) ?:
	    str_ok(vmj, "VM", "uuid", 37, false, &uuid) ?:
	    str_ok(vmj, "VM", "machine_id", 33, false, &mid) ?:
	    bool_ok(vmj, "VM", "cloud_init") ?:
	    int_ok(vmj, "VM", "top", 1, INT64_MAX, false);
	if (r)
		return r;
	if (!name_ok(name, false))
		return img_fail(-EINVAL, "bundle: bad VM name '%.64s' (1-%d of [A-Za-z0-9._-])",
				name, CAT_NAME_MAX);
	if (!bundle_id_valid(image))
		return img_fail(-EINVAL, "bundle: VM: bad image id '%.80s'", image);
	if (json_object_get_int64(field(vmj, "mem")) % (1 << 20))
		return img_fail(-EINVAL, "bundle: VM: memory is not a whole number of MiB");
	if (mac_parse(mac, m))
		return img_fail(-EINVAL, "bundle: VM: bad MAC '%.17s'", mac);
	if (!uuid_ok(uuid))
		return img_fail(-EINVAL, "bundle: VM: bad UUID '%.36s'", uuid);
	if (!hex_ok(mid, 32))
		return img_fail(-EINVAL, "bundle: VM: bad machine-id '%.32s' (32 hex digits)",
				mid);
	return each(vmj, "layers", false, layer_check) ?:
	       each(vmj, "snapshots", false, snap_check) ?:
	       each(vmj, "disks", true, disk_check);
}

int bundle_manifest_check(json_object *man)
{
	json_object *imgs = field(man, "images"), *vmj = field(man, "vm");
	int r;

	if (!imgs || !json_object_is_type(imgs, json_type_array))
		return img_fail(-EINVAL, "bundle: manifest lists no images");
	for (size_t i = 0; i < json_object_array_length(imgs); i++) {
		r = image_check(json_object_array_get_idx(imgs, i));
		if (r)
			return r;
	}
	return vmj ? vm_check(vmj) : 0;
}
