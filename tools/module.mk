# The programs. Each links every library of the tree (see LIB_ORDER).
PROGRAMS += vhd vhdvisor
vhd_PROG_SRCS := $(wildcard tools/vhd/*.c) $(wildcard tools/common/*.c)
vhdvisor_PROG_SRCS := $(wildcard tools/vhdvisor/*.c) $(wildcard tools/common/*.c)
PROGRAMS += vhdvisord
vhdvisord_PROG_SRCS := $(wildcard tools/vhdvisord/*.c)
LDLIBS += -lmicrohttpd
PROGRAMS += vhdvisor-installer
vhdvisor-installer_PROG_SRCS := $(wildcard tools/installer/*.c) tools/common/cli_json.c
