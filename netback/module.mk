MODULES += netback
netback_SRCS := $(wildcard netback/*.c)
LDLIBS += -lmnl -ljson-c
