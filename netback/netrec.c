/* netback/netrec.c: lab network names and records (STATE/networks/NAME.json). */
#include "netback/labnet.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"

#define BRIDGE_PREFIX "vvbr-"

bool labnet_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > LABNET_NAME_MAX || name[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

void labnet_bridge_name(const char *name, char out[IF_NAMESIZE])
{
	uint32_t h = 2166136261U;

	if (strlen(BRIDGE_PREFIX) + strlen(name) < IF_NAMESIZE) {
		snprintf(out, IF_NAMESIZE, BRIDGE_PREFIX "%s", name);
		return;
	}
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619U;
	snprintf(out, IF_NAMESIZE, BRIDGE_PREFIX "%.5s%05x", name, h & 0xfffff);
}

static int netdir(const char *state_dir, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/networks", state_dir) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int record_path(const char *state_dir, const char *name, char *buf,
		       size_t len)
{
	if (!labnet_name_valid(name))
		return -EINVAL;
	if ((size_t)snprintf(buf, len, "%s/networks/%s.json", state_dir, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int labnet_lock(const char *state_dir)
{
	char dir[4096], path[4200];
	int fd, err;

	err = netdir(state_dir, dir, sizeof(dir));
	if (!err)
		err = fs_mkdir_p(dir);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/.lock", dir);
	fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	return fd;
}

static void put_str(struct json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

static void put_ip(struct json_object *o, const char *key, uint32_t ip)
{
	char buf[16];

	put_str(o, key, ip4_format(ip, buf, sizeof(buf)));
}

struct json_object *labnet_to_json(const struct labnet *net)
{
	struct json_object *o = json_object_new_object();
	char buf[SUBNET_STR_LEN];

	if (!o)
		return NULL;
	put_str(o, "name", net->name);
	put_str(o, "bridge", net->bridge);
	put_str(o, "subnet", subnet_format(&net->subnet, buf, sizeof(buf)));
	put_ip(o, "gateway", net->gateway);
	put_str(o, "bridge_mac", mac_format(net->bridge_mac, buf));
	json_object_object_add(o, "dhcp", json_object_new_boolean(net->dhcp));
	if (net->dhcp) {
		put_ip(o, "dhcp_first", net->dhcp_first);
		put_ip(o, "dhcp_last", net->dhcp_last);
	}
	json_object_object_add(o, "nat", json_object_new_boolean(net->nat));
	if (net->nat)
		put_str(o, "uplink", net->uplink);
	return o;
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int get_ip(struct json_object *o, const char *key, uint32_t *out)
{
	return ip4_parse(get_str(o, key), out);
}

static bool get_bool(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) &&
	       json_object_is_type(v, json_type_boolean) &&
	       json_object_get_boolean(v);
}

static int copy_ifname(const char *s, char out[IF_NAMESIZE])
{
	if (!s || !*s || strlen(s) >= IF_NAMESIZE)
		return -EINVAL;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

int labnet_from_json(struct json_object *obj, struct labnet *out)
{
	struct labnet n = { 0 };
	const char *name = get_str(obj, "name");

	if (!json_object_is_type(obj, json_type_object) || !labnet_name_valid(name))
		return -EINVAL;
	memcpy(n.name, name, strlen(name) + 1);
	if (copy_ifname(get_str(obj, "bridge"), n.bridge) ||
	    subnet_parse(get_str(obj, "subnet"), true, &n.subnet) ||
	    n.subnet.prefix > 30 || get_ip(obj, "gateway", &n.gateway) ||
	    mac_parse(get_str(obj, "bridge_mac"), n.bridge_mac))
		return -EINVAL;
	n.dhcp = get_bool(obj, "dhcp");
	if (n.dhcp && (get_ip(obj, "dhcp_first", &n.dhcp_first) ||
		       get_ip(obj, "dhcp_last", &n.dhcp_last)))
		return -EINVAL;
	n.nat = get_bool(obj, "nat");
	if (n.nat && copy_ifname(get_str(obj, "uplink"), n.uplink))
		return -EINVAL;
	*out = n;
	return 0;
}

int labnet_load(const char *state_dir, const char *name, struct labnet *out)
{
	char path[4200];
	struct json_object *obj;
	int err = record_path(state_dir, name, path, sizeof(path));

	if (err)
		return err == -EINVAL ? -ENOENT : err;
	if (access(path, F_OK))
		return -errno;
	obj = json_object_from_file(path);
	if (!obj)
		return -EINVAL;
	err = labnet_from_json(obj, out);
	json_object_put(obj);
	if (!err && strcmp(out->name, name))
		err = -EINVAL;
	return err;
}

int labnet_save(const char *state_dir, const struct labnet *net)
{
	char dir[4096], path[4200], tmp[4300];
	struct json_object *obj;
	const char *text;
	int fd, err;
	size_t len, off = 0;

	err = netdir(state_dir, dir, sizeof(dir));
	if (!err)
		err = fs_mkdir_p(dir);
	if (!err)
		err = record_path(state_dir, net->name, path, sizeof(path));
	if (err)
		return err;
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	obj = labnet_to_json(net);
	if (!obj)
		return -ENOMEM;
	text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY);
	len = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out_put;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0) {
			err = -errno;
			break;
		}
		off += n;
	}
	if (!err && (write(fd, "\n", 1) != 1 || fsync(fd)))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
out_put:
	json_object_put(obj);
	return err;
}

int labnet_unlink(const char *state_dir, const char *name)
{
	char path[4200];
	int err = record_path(state_dir, name, path, sizeof(path));

	if (err)
		return err == -EINVAL ? -ENOENT : err;
	return unlink(path) ? -errno : 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct labnet *)a)->name,
		      ((const struct labnet *)b)->name);
}

int labnet_list(const char *state_dir, struct labnet **out, size_t *n)
{
	char dir[4096];
	struct labnet *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int err = netdir(state_dir, dir, sizeof(dir));

	*out = NULL;
	*n = 0;
	if (err)
		return err;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char name[LABNET_NAME_MAX + 1];
		size_t len = strlen(de->d_name);

		if (len <= 5 || len - 5 > LABNET_NAME_MAX ||
		    strcmp(de->d_name + len - 5, ".json"))
			continue;
		memcpy(name, de->d_name, len - 5);
		name[len - 5] = '\0';
		if (cnt == cap) {
			struct labnet *nv;

			cap = cap ? 2 * cap : 8;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				err = -ENOMEM;
				break;
			}
			v = nv;
		}
		if (labnet_load(state_dir, name, &v[cnt]) == 0)
			cnt++;
	}
	closedir(d);
	if (err) {
		free(v);
		return err;
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), by_name);
	*out = v;
	*n = cnt;
	return 0;
}
