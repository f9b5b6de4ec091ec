#!/bin/sh
# Prints, in a stable sorted text form, everything role fleetops.kdump.kdump may change on a Debian guest:
# files under /etc, /boot, the kdump and crash directories and the debconf database (type, size, mode,
# owner, mtime), the installed packages, and whether the kdump and kexec units are enabled.
# prepare.yml stores it on the fresh guest; converge.yml compares it after the check-mode run.
set -u
find /etc /boot /var/lib/kdump /var/crash /var/cache/debconf /no-kexec-reboot -xdev \
    \( -type f -o -type l -o -type d \) -printf 'file %p %y %s %m %U:%G %T@\n' 2>/dev/null | sort
dpkg-query --show --showformat='package ${Package} ${Version} ${db:Status-Abbrev}\n' | sort
for unit in kdump-tools.service kexec.service kexec-load.service; do
    printf 'unit %s %s\n' "$unit" "$(systemctl is-enabled "$unit" 2>/dev/null || true)"
done
