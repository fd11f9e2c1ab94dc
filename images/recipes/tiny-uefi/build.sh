#!/bin/bash
# The tiny template for UEFI firmware (GPT, EFI System Partition with
# GRUB2 x86_64-efi): the tiny recipe with --uefi, see ../tiny/build.sh.
#
#   images/recipes/tiny-uefi/build.sh [--print] [OUT]
#     -> $VHDVISOR_CACHE/images/tiny-uefi.vhd
exec bash "$(dirname "$0")/../tiny/build.sh" --uefi "$@"
