/* Unit tests for appliance/client.c: fingerprints as users type them, path
 * segments percent-encoded, bad host URLs and tokens refused before any
 * connection, and the embedded door (no daemon on the run directory). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "appliance/api.h"
#include "appliance/client.h"

#define FP "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:" \
	   "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"

Test(client, fingerprint_forms)
{
	char out[TLS_FP_LEN + 1], bad[] = FP;

	cr_assert_eq(api_fp_normalize(FP, out), 0);
	cr_assert_str_eq(out, FP);
	cr_assert_eq(api_fp_normalize("abcdef0123456789abcdef0123456789"
				      "abcdef0123456789abcdef0123456789", out), 0);
	cr_assert_str_eq(out, FP);
	cr_assert_eq(api_fp_normalize("SHA256:" FP, out), 0);
	cr_assert_str_eq(out, FP);
	/* one byte short, one too many, not hex, empty */
	cr_assert_eq(api_fp_normalize(FP + 3, out), -EINVAL);
	cr_assert_eq(api_fp_normalize(FP ":00", out), -EINVAL);
	bad[0] = 'Z';
	cr_assert_eq(api_fp_normalize(bad, out), -EINVAL);
	cr_assert_eq(api_fp_normalize("", out), -EINVAL);
}

Test(client, path_segments)
{
	char p[64] = "/api/v1/vms/";

	cr_assert_eq(api_path_append(p, sizeof(p), "web-1_a.b:c@d~"), 0);
	cr_assert_str_eq(p, "/api/v1/vms/web-1_a.b:c@d~");
	strcpy(p, "/x/");
	cr_assert_eq(api_path_append(p, sizeof(p), "a/../b c%"), 0);
	cr_assert_str_eq(p, "/x/a%2F..%2Fb%20c%25");
	strcpy(p, "/x/");
	cr_assert_eq(api_path_append(p, 8, "abcd"), 0);
	cr_assert_eq(api_path_append(p, 8, "e"), -ENAMETOOLONG);
}

static int open_err(const char *host, const char *token, const char *fp, char *err)
{
	struct api_client_opts o = { .host = host, .token = token, .fingerprint = fp,
				     .known_hosts = "/nonexistent/known_hosts" };
	struct api_client *cl = NULL;
	int r = api_client_open(&o, &cl, err, 512);

	api_client_close(cl);
	return r;
}

Test(client, remote_refused_before_connecting)
{
	char err[512];

	cr_assert_eq(open_err("http://127.0.0.1:1", "t", NULL, err), -EINVAL);
	cr_assert(strstr(err, "only https://"), "%s", err);
	cr_assert_eq(open_err("https://127.0.0.1:1/api", "t", NULL, err), -EINVAL);
	cr_assert_eq(open_err("https://", "t", NULL, err), -EINVAL);
	cr_assert_eq(open_err("https://127.0.0.1:1", NULL, NULL, err), -EINVAL);
	cr_assert(strstr(err, "needs a token"), "%s", err);
	cr_assert_eq(open_err("https://127.0.0.1:1", "a\r\nX: y", NULL, err), -EINVAL);
	cr_assert_eq(open_err("https://127.0.0.1:1", "t", "AB:CD", err), -EINVAL);
	cr_assert(strstr(err, "bad --fingerprint"), "%s", err);
	/* nothing listens on port 1 */
	cr_assert_eq(open_err("127.0.0.1:1", "t", FP, err), -EHOSTUNREACH);
}

Test(client, embedded_without_a_daemon)
{
	char dir[] = "/tmp/vv-client-XXXXXX", run[64], cmd[96], err[512] = "";
	struct api_client_opts o = { 0 };
	struct api_client *cl;
	json_object *rep, *v;
	int status;

	cr_assert(mkdtemp(dir));
	snprintf(run, sizeof(run), "%s/run", dir);
	setenv("VHDVISOR_RUN", run, 1);
	o.state_dir = dir;
	cr_assert_eq(api_client_open(&o, &cl, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cl->door, API_DOOR_EMBEDDED);
	cr_assert_eq(api_client_call(cl, "GET", API_PREFIX "/vms", NULL, &status, &rep, err,
				     sizeof(err)), 0);
	cr_assert_eq(status, 200);
	cr_assert(json_object_is_type(rep, json_type_array));
	json_object_put(rep);
	cr_assert_eq(api_client_call(cl, "GET", API_PREFIX "/vms/nosuch", NULL, &status, &rep,
				     err, sizeof(err)), 0);
	cr_assert_eq(status, 404);
	cr_assert(json_object_object_get_ex(rep, "error", &v));
	cr_assert_str_eq(json_object_get_string(v), "no VM 'nosuch'");
	json_object_put(rep);
	api_client_close(cl);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}
