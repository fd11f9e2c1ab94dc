/* Unit tests of hv/boot_cfg.c: the default entry of grub.cfg and
 * extlinux.conf. */
#include <criterion/criterion.h>
#include <errno.h>

#include "hv/boot_cfg.h"

static struct boot_entry e;

Test(grub, first_entry_by_default)
{
	const char *cfg =
		"set timeout=5\n"
		"menuentry 'Debian GNU/Linux' --class debian {\n"
		"\tinsmod ext2\n"
		"\tlinux\t/boot/vmlinuz-6.1 root=UUID=abc ro quiet\n"
		"\tinitrd\t/boot/initrd.img-6.1\n"
		"}\n"
		"menuentry 'Other' {\n\tlinux /other\n}\n";

	cr_assert_eq(boot_cfg_grub(cfg, &e), 0);
	cr_assert_str_eq(e.title, "Debian GNU/Linux");
	cr_assert_str_eq(e.kernel, "/boot/vmlinuz-6.1");
	cr_assert_str_eq(e.initrd, "/boot/initrd.img-6.1");
	cr_assert_str_eq(e.append, "root=UUID=abc ro quiet");
}

Test(grub, default_by_index_and_title)
{
	const char *cfg =
		"set default=\"1\"\n"
		"menuentry 'A' { linux /a\n}\n"
		"menuentry \"B\" {\n linux (hd0,msdos1)/b x=1 \"y z\"\n initrd /ib\n}\n";
	const char *cfg2 =
		"set default='B'\n"
		"menuentry 'A' {\n linux /a\n}\n"
		"menuentry 'B' {\n linux /b\n}\n";

	cr_assert_eq(boot_cfg_grub(cfg, &e), 0);
	cr_assert_str_eq(e.kernel, "/b");
	cr_assert_str_eq(e.append, "x=1 y z");
	cr_assert_str_eq(e.initrd, "/ib");
	cr_assert_eq(boot_cfg_grub(cfg2, &e), 0);
	cr_assert_str_eq(e.kernel, "/b");
}

Test(grub, submenu_counts_as_one_entry)
{
	const char *cfg =
		"set default=2\n"
		"menuentry 'A' {\n linux /a\n}\n"
		"submenu 'Advanced' {\n"
		"  menuentry 'A-rescue' {\n    linux /a-rescue\n  }\n"
		"}\n"
		"menuentry 'C' {\n linux /c\n}\n";

	cr_assert_eq(boot_cfg_grub(cfg, &e), 0);
	cr_assert_str_eq(e.kernel, "/c");
}

Test(grub, saved_entry_and_unknown_default_fall_back_to_first)
{
	const char *cfg = "set default=\"${saved_entry}\"\nmenuentry 'A' {\n linux /a\n}\n";
	const char *cfg2 = "set default=7\nmenuentry 'A' {\n linux /a\n}\n";

	cr_assert_eq(boot_cfg_grub(cfg, &e), 0);
	cr_assert_str_eq(e.kernel, "/a");
	cr_assert_eq(boot_cfg_grub(cfg2, &e), 0);
	cr_assert_str_eq(e.kernel, "/a");
}

Test(grub, no_kernel)
{
	cr_assert_eq(boot_cfg_grub("", &e), -ENOENT);
	cr_assert_eq(boot_cfg_grub("# nothing\nset timeout=0\n", &e), -ENOENT);
	cr_assert_eq(boot_cfg_grub("menuentry 'x' {\n echo hi\n}\n", &e), -ENOENT);
	cr_assert_eq(boot_cfg_grub("menuentry 'a' {\n linux /a\n}\nmenuentry 'b' {\n}\n"
				   "set default=1\n", &e), -EINVAL);
}

Test(grub, comments_and_unbalanced_input_do_not_crash)
{
	cr_assert_eq(boot_cfg_grub("menuentry 'a' { # {\n linux /a # x\n}}}}\n", &e), 0);
	cr_assert_str_eq(e.kernel, "/a");
	cr_assert_str_eq(e.append, "");
	boot_cfg_grub("menuentry 'a' {\n linux /a\n", &e);
	boot_cfg_grub("menuentry\n{\n}\n\"unterminated", &e);
}

Test(extlinux, default_label)
{
	const char *cfg =
		"DEFAULT two\n"
		"LABEL one\n  KERNEL /one\n"
		"label two\n  linux /boot/vmlinuz\n  append initrd=/boot/initrd.img root=/dev/vda1 quiet\n";

	cr_assert_eq(boot_cfg_extlinux(cfg, &e), 0);
	cr_assert_str_eq(e.title, "two");
	cr_assert_str_eq(e.kernel, "/boot/vmlinuz");
	cr_assert_str_eq(e.initrd, "/boot/initrd.img");
	cr_assert_str_eq(e.append, "root=/dev/vda1 quiet");
}

Test(extlinux, menu_default_and_first)
{
	const char *cfg =
		"LABEL a\n KERNEL /a\nLABEL b\n MENU DEFAULT\n KERNEL /b\n INITRD /ib\n";
	const char *cfg2 = "LABEL a\n KERNEL vmlinuz\n APPEND console=ttyS0\n";

	cr_assert_eq(boot_cfg_extlinux(cfg, &e), 0);
	cr_assert_str_eq(e.kernel, "/b");
	cr_assert_str_eq(e.initrd, "/ib");
	cr_assert_eq(boot_cfg_extlinux(cfg2, &e), 0);
	cr_assert_str_eq(e.kernel, "vmlinuz");
	cr_assert_str_eq(e.append, "console=ttyS0");
}

Test(extlinux, errors)
{
	cr_assert_eq(boot_cfg_extlinux("", &e), -ENOENT);
	cr_assert_eq(boot_cfg_extlinux("LABEL a\n APPEND x\n", &e), -ENOENT);
	cr_assert_eq(boot_cfg_extlinux("DEFAULT z\nLABEL a\n KERNEL /a\n", &e), -EINVAL);
}
