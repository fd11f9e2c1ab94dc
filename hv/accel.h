/* hv/accel.h: what the accelerator choice "auto" resolves to on this host,
 * for callers outside hv/ (the API's host description). */
#ifndef VV_HV_ACCEL_H
#define VV_HV_ACCEL_H

#include <stdbool.h>

/* True when VMs started with accel "auto" use KVM here: the CPU shows
 * hardware virtualization and /dev/kvm opens; false means TCG. */
bool hv_kvm_usable(void);

#endif
