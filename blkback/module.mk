MODULES += blkback
blkback_SRCS := $(wildcard blkback/*.c)
LDLIBS += -lfuse3
LDLIBS += -lgnutls
