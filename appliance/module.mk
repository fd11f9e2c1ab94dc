# appliance/: the management API (handlers, route table, OpenAPI), tokens
# and TLS material of vhdvisord; later the console and the installer.
MODULES += appliance
appliance_SRCS := $(wildcard appliance/*.c)
LDLIBS += -lcurl -lgnutls -ljson-c -lcrypto -lblkid -lsqlite3
