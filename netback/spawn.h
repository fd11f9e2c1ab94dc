/* netback/spawn.h: running the helper programs netback drives (dnsmasq,
 * nft) from argv vectors, never through a shell. */
#ifndef VV_NETBACK_SPAWN_H
#define VV_NETBACK_SPAWN_H

#include <stddef.h>

/* Runs @argv (NULL-terminated; argv[0] is looked up in $PATH, then in
 * /usr/sbin and /sbin) with @input (NULL: empty) on its stdin and waits for
 * it to exit. Its stdout and stderr go to a memory file, not a pipe, so a
 * daemon that keeps them open cannot block us; up to @outlen - 1 bytes of
 * that output, trailing newlines removed, are copied to @out (may be NULL).
 * Returns the exit status (0..255), 128 + N when killed by signal N, or
 * -errno when the program could not be started (-ENOENT: not installed). */
int spawn_run(const char *const argv[], const char *input, char *out,
	      size_t outlen);

#endif
