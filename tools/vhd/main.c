/* tools/vhd/main.c: the vhd image tool; one file per subcommand. */
#include <sys/stat.h>

#include "tools/common/cli.h"
#include "tools/vhd/cmds.h"

static const struct cli_cmd vhd_cmds[] = {
	{ "create", cmd_create, "create a fixed, dynamic or differencing image" },
	{ "snapshot", cmd_snapshot, "create a differencing child (create --parent)" },
	{ "info", cmd_info, "describe an image and its chain" },
	{ "check", cmd_check, "check (and --repair) the structure of an image" },
	{ "read", cmd_read, "copy bytes of the virtual disk to stdout" },
	{ "write", cmd_write, "write a pattern or a file into the virtual disk" },
	{ "map", cmd_map, "list allocated ranges and the layer holding each" },
	{ "convert", cmd_convert, "convert between raw, dynamic and fixed VHD" },
	{ "commit", cmd_commit, "merge a differencing disk into its parent" },
	{ "flatten", cmd_flatten, "pull all parents' data into a child, drop the link" },
	{ "resize", cmd_resize, "change the virtual size of an image" },
	{ "compact", cmd_compact, "drop zero (or parent-equal) blocks, shorten the file" },
	{ "serve", cmd_serve, "serve images over NBD (Unix socket or TCP)" },
	{ "mount", cmd_mount, "mount an image's raw view with FUSE" },
	{ "umount", cmd_umount, "flush and unmount a 'vhd mount'" },
	{ 0 },
};

int main(int argc, char **argv)
{
	/* What we create (images, the catalog, consoles, logs, sockets, and
	 * the files of the programs we start: QEMU, qemu-img, SQLite's
	 * journals) is private to the user who runs us, whatever the
	 * caller's umask; our own open()/mkdir() calls say 0600/0700 too. */
	umask(077);
	return cli_dispatch("vhd", vhd_cmds, 0, argc, argv);
}
