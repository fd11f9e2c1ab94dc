# appliance/: the management API (handlers, route table, OpenAPI), tokens
# and TLS material of vhdvisord; later the console and the installer.
MODULES += appliance
appliance_SRCS := $(wildcard appliance/*.c)
LDLIBS += -lcurl -lgnutls -ljson-c -lcrypto -lblkid -lsqlite3

# The web console (appliance/web/): npm packages from its lockfile, bundled
# by esbuild into BUILD/share/vhdvisor/web, where vhdvisord (BUILD/bin)
# finds it by default (EXE/../share/vhdvisor/web).
WEB_OUT := $(BUILD)/share/vhdvisor/web
all: $(WEB_OUT)/app.js
$(WEB_OUT)/app.js: $(wildcard appliance/web/src/*) appliance/web/package-lock.json appliance/web/build.sh
	@$(if $(Q),echo "  WEB     $(WEB_OUT)")
	$(Q)appliance/web/build.sh $(WEB_OUT)
