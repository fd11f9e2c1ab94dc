# images/: the catalog (SQLite), content hashes, import/export, VMs, labs.
MODULES += images
images_SRCS := $(wildcard images/*.c)
LDLIBS += -lsqlite3 -lcrypto -ljson-c -larchive -lcrypt
