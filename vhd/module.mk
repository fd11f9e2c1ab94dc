# vhd/: the VHD format library (libc and pthreads only, nothing of ours).
MODULES += vhd
vhd_SRCS := $(wildcard vhd/*.c)
