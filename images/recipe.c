/* images/recipe.c: finding template recipes and reading their metadata. */
#include "images/recipe.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

#define RECIPE_DIRS_MAX 3   /* the source tree, then share_dirs */

static const char *const share_dirs[] = {
	"/usr/local/share/vhdvisor/recipes",
	"/usr/share/vhdvisor/recipes",
};

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The search path into @dirs; returns how many folders it holds. */
static int search_path(char dirs[RECIPE_DIRS_MAX][PATH_MAX])
{
	const char *env = getenv("VHDVISOR_RECIPES");
	char exe[PATH_MAX], *d;
	ssize_t n;
	int cnt = 0;

	if (env && env[0]) {
		snprintf(dirs[0], PATH_MAX, "%s", env);
		return 1;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		d = dirname(exe);
		for (int up = 0; up < 4 && strcmp(d, "/"); up++, d = dirname(d)) {
			if (snprintf(dirs[0], PATH_MAX, "%s/images/recipes", d) < PATH_MAX &&
			    is_dir(dirs[0])) {
				cnt = 1;
				break;
			}
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(share_dirs); i++)
		snprintf(dirs[cnt++], PATH_MAX, "%s", share_dirs[i]);
	return cnt;
}

/* "tiny, debian" of every recipe on the search path into @buf. */
static void known_names(char dirs[RECIPE_DIRS_MAX][PATH_MAX], int ndirs, char *buf, size_t len)
{
	char path[PATH_MAX + 300];
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < ndirs; i++) {
		DIR *dh = opendir(dirs[i]);
		struct dirent *de;

		if (!dh)
			continue;
		while ((de = readdir(dh))) {
			if (de->d_name[0] == '.')
				continue;
			if (snprintf(path, sizeof(path), "%s/%s/build.sh", dirs[i],
				     de->d_name) >= (int)sizeof(path) ||
			    access(path, X_OK) || used + strlen(de->d_name) + 3 >= len)
				continue;
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
						 de->d_name);
		}
		closedir(dh);
	}
}

static char *trim(char *s)
{
	char *e;

	s += strspn(s, " \t");
	e = s + strlen(s);
	while (e > s && strchr(" \t\r\n", e[-1]))
		*--e = '\0';
	if (e - s >= 2 && (*s == '"' || *s == '\'') && e[-1] == *s) {
		e[-1] = '\0';
		s++;
	}
	return s;
}

static int meta_set(struct recipe *rc, const char *key, const char *val)
{
	if (!strcmp(key, "OS"))
		snprintf(rc->os, sizeof(rc->os), "%s", val);
	else if (!strcmp(key, "ARCH"))
		snprintf(rc->arch, sizeof(rc->arch), "%s", val);
	else if (!strcmp(key, "BOOT"))
		snprintf(rc->boot, sizeof(rc->boot), "%s", val);
	else if (!strcmp(key, "MIN_MEM"))
		return size_parse(val, &rc->min_mem);
	else if (!strcmp(key, "MIN_DISK"))
		return size_parse(val, &rc->min_disk);
	return 0;   /* keys of later versions are ignored */
}

/* Reads DIR/recipe.env; a missing file leaves the metadata empty. */
static int meta_load(struct recipe *rc)
{
	char path[PATH_MAX + 16], line[512], *eq, *key;
	unsigned lineno = 0;
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "%s/recipe.env", rc->dir);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : img_fail(-errno, "%s: %s", path, strerror(errno));
	while (!r && fgets(line, sizeof(line), f)) {
		lineno++;
		key = trim(line);
		if (!key[0] || key[0] == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			r = -EINVAL;
			break;
		}
		*eq = '\0';
		r = meta_set(rc, trim(key), trim(eq + 1));
	}
	fclose(f);
	return r ? img_fail(-EINVAL, "%s:%u: bad line (KEY=VALUE; sizes like 512M)", path,
			    lineno) : 0;
}

int recipe_find(const char *name, struct recipe *out)
{
	char dirs[RECIPE_DIRS_MAX][PATH_MAX], ver[CAT_NAME_MAX + 1], known[300];
	char build[PATH_MAX + 16];
	int ndirs;

	memset(out, 0, sizeof(*out));
	if (cat_ref_split(name, out->name, ver) || ver[0])
		return img_fail(-EINVAL, "bad recipe name '%s'", name);
	ndirs = search_path(dirs);
	for (int i = 0; i < ndirs; i++) {
		if (snprintf(out->dir, sizeof(out->dir), "%s/%s", dirs[i], name) >=
		    (int)sizeof(out->dir))
			continue;
		snprintf(build, sizeof(build), "%s/build.sh", out->dir);
		if (access(build, X_OK) == 0)
			return meta_load(out);
	}
	known_names(dirs, ndirs, known, sizeof(known));
	out->dir[0] = '\0';
	return img_fail(-ENOENT, "no recipe '%s' (known: %s; searched %s%s)", name,
			known[0] ? known : "none", dirs[0],
			ndirs > 1 ? " and the share folders" : "");
}
