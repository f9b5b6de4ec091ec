#!/bin/sh
# sha256 of every boot configuration file kernel_cmdline may touch, one "sha256  path" line each, sorted.
set -u
find /etc/default/grub /etc/default/grub.d /boot/grub/grub.cfg -xdev -type f 2>/dev/null | sort | xargs -r sha256sum
