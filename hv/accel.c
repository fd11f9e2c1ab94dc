/* hv/accel.c: choosing the accelerator. /dev/kvm alone proves nothing
 * (on nested PVM hosts it emulates every instruction): KVM counts only
 * when the CPU flags show hardware virtualization and /dev/kvm opens. */
#include "hv/accel.h"
#include "hv/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool cpu_has_hwvirt(void)
{
	char line[8192];
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		found = strstr(line, " vmx") || strstr(line, " svm");
	}
	fclose(f);
	return found;
}

int hv_accel_resolve(enum vm_accel want, bool *use_kvm, char *err, size_t errlen)
{
	bool hw = cpu_has_hwvirt();
	int fd = -1, e = 0;

	if (hw) {
		fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
		e = fd < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
	}
	switch (want) {
	case VM_ACCEL_TCG:
		*use_kvm = false;
		return 0;
	case VM_ACCEL_AUTO:
		*use_kvm = hw && fd >= 0;
		return 0;
	case VM_ACCEL_KVM:
		if (!hw) {
			snprintf(err, errlen, "KVM is not usable here: /proc/cpuinfo shows no "
				 "hardware virtualization (vmx/svm); use --accel tcg or auto");
			return -ENODEV;
		}
		if (fd < 0) {
			snprintf(err, errlen, "KVM is not usable here: /dev/kvm: %s", strerror(e));
			return -ENODEV;
		}
		*use_kvm = true;
		return 0;
	}
	snprintf(err, errlen, "unknown accelerator");
	return -EINVAL;
}

bool hv_kvm_usable(void)
{
	char err[256];
	bool kvm = false;

	return !hv_accel_resolve(VM_ACCEL_AUTO, &kvm, err, sizeof(err)) && kvm;
}
