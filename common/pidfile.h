/* common/pidfile.h: the pid files of vhdvisor's long-running processes
 * (VM runtimes, dnsmasq) and whether they still live. */
#ifndef VV_COMMON_PIDFILE_H
#define VV_COMMON_PIDFILE_H

#include <stdbool.h>
#include <sys/types.h>

/* The pid stored (in decimal, optionally followed by a newline) in the file
 * at @path: > 1 and at most the kernel's largest pid; 0 when the file is
 * missing, unreadable or holds anything else. */
pid_t pidfile_read(const char *path);

/* True when a process @pid exists (signal 0 reaches it, or is refused
 * with EPERM). */
bool pid_alive(pid_t pid);

#endif
