/* appliance/token.c: API tokens, stored hashed in STATE/tokens. */
#include "appliance/token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define MAX_TOKENS 1024

static int token_path(const char *state_dir, const char *suffix, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/tokens%s", state_dir, suffix);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > TOKEN_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

static int sha256_hex(const char *s, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (!EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return -EIO;
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* Decodes one line; false for anything malformed (skipped). */
static bool token_decode(const char *line, struct api_token *t)
{
	char name[TOKEN_NAME_MAX + 2], role[16], hash[66];
	long long created;

	if (sscanf(line, "%65s %15s %65s %lld", name, role, hash, &created) != 4 ||
	    !name_ok(name) || api_role_parse(role, &t->role) || t->role == API_ROLE_NONE ||
	    strlen(hash) != 64 || strspn(hash, "0123456789abcdef") != 64)
		return false;
	memcpy(t->name, name, strlen(name) + 1);	/* name_ok: fits */
	memcpy(t->hash, hash, 65);
	t->created = created;
	return true;
}

/* Loads every token into @ts (MAX_TOKENS); their count or -errno. */
static int token_load(const char *state_dir, struct api_token *ts)
{
	char path[4200], line[256];
	FILE *f;
	int n = 0;

	if (token_path(state_dir, "", path, sizeof(path)))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (n < MAX_TOKENS && fgets(line, sizeof(line), f))
		if (token_decode(line, &ts[n]))
			n++;
	fclose(f);
	return n;
}

/* Writes @ts (@n) as the new token file: temporary file, fsync, rename. */
static int token_store(const char *state_dir, const struct api_token *ts, int n)
{
	char path[4200], tmp[4200];
	FILE *f;
	int fd, r = 0;

	if (token_path(state_dir, "", path, sizeof(path)) ||
	    token_path(state_dir, ".tmp", tmp, sizeof(tmp)))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++)
		fprintf(f, "%s %s %s %lld\n", ts[i].name, api_role_name(ts[i].role), ts[i].hash,
			(long long)ts[i].created);
	if (fflush(f) || fsync(fd))
		r = -errno;
	if (fclose(f) && !r)
		r = -EIO;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

/* Takes STATE/tokens.lock (exclusive); the fd, or -errno. */
static int token_lock(const char *state_dir)
{
	char path[4200];
	int fd;

	if (token_path(state_dir, ".lock", path, sizeof(path)))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX)) {
		close(fd);
		return -errno;
	}
	return fd;
}

int api_token_create(const char *state_dir, const char *name, enum api_role role,
		     char secret[TOKEN_SECRET_LEN + 1])
{
	struct api_token *ts;
	unsigned char rnd[32];
	int n, lock, r;

	if (!name_ok(name) || role <= API_ROLE_NONE || role > API_ROLE_ADMIN)
		return -EINVAL;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	memcpy(secret, "vvt_", 4);
	for (int i = 0; i < 32; i++)
		snprintf(secret + 4 + 2 * i, 3, "%02x", rnd[i]);
	ts = calloc(MAX_TOKENS, sizeof(*ts));
	if (!ts)
		return -ENOMEM;
	lock = token_lock(state_dir);
	if (lock < 0) {
		free(ts);
		return lock;
	}
	n = token_load(state_dir, ts);
	r = n < 0 ? n : n == MAX_TOKENS ? -ENOSPC : 0;
	for (int i = 0; !r && i < n; i++)
		if (!strcmp(ts[i].name, name))
			r = -EEXIST;
	if (!r) {
		snprintf(ts[n].name, sizeof(ts[n].name), "%s", name);
		ts[n].role = role;
		ts[n].created = time(NULL);
		r = sha256_hex(secret, ts[n].hash);
	}
	if (!r)
		r = token_store(state_dir, ts, n + 1);
	close(lock);
	free(ts);
	if (r)
		explicit_bzero(secret, TOKEN_SECRET_LEN + 1);
	return r;
}

int api_token_revoke(const char *state_dir, const char *name)
{
	struct api_token *ts = calloc(MAX_TOKENS, sizeof(*ts));
	int n, k = 0, lock, r;

	if (!ts)
		return -ENOMEM;
	lock = token_lock(state_dir);
	if (lock < 0) {
		free(ts);
		return lock;
	}
	n = token_load(state_dir, ts);
	r = n < 0 ? n : 0;
	for (int i = 0; i < n; i++)
		if (strcmp(ts[i].name, name))
			ts[k++] = ts[i];
	if (!r && k == n)
		r = -ENOENT;
	if (!r)
		r = token_store(state_dir, ts, k);
	close(lock);
	free(ts);
	return r;
}

int api_token_foreach(const char *state_dir,
		      int (*fn)(void *opaque, const struct api_token *t), void *opaque)
{
	struct api_token *ts = calloc(MAX_TOKENS, sizeof(*ts));
	int n, r = 0;

	if (!ts)
		return -ENOMEM;
	n = token_load(state_dir, ts);
	if (n < 0)
		r = n;
	for (int i = 0; !r && i < n; i++)
		r = fn(opaque, &ts[i]);
	free(ts);
	return r;
}

struct check_ctx {
	char hash[65];
	struct api_token *out;
	bool found;
};

static int check_one(void *opaque, const struct api_token *t)
{
	struct check_ctx *cc = opaque;

	/* every token is compared, each in constant time */
	if (!CRYPTO_memcmp(cc->hash, t->hash, 64) && !cc->found) {
		*cc->out = *t;
		cc->found = true;
	}
	return 0;
}

int api_token_check(const char *state_dir, const char *secret, struct api_token *out)
{
	struct check_ctx cc = { .out = out };
	int r;

	if (strlen(secret) != TOKEN_SECRET_LEN || strncmp(secret, "vvt_", 4))
		return -EACCES;
	r = sha256_hex(secret, cc.hash);
	if (!r)
		r = api_token_foreach(state_dir, check_one, &cc);
	if (r)
		return r;
	return cc.found ? 0 : -EACCES;
}
