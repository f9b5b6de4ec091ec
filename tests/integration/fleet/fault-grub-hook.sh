#!/bin/sh
# Fault "bootloader update fails": a grub.d script that makes grub-mkconfig (update-grub) exit non-zero
# once the kernel arguments include $1 (the planned crashkernel= argument), so the package's own update-grub
# still works and kernel_cmdline's does not. Remove with: rm /etc/grub.d/01_fleet_fault
set -eu
cat > /etc/grub.d/01_fleet_fault <<HOOK
#!/bin/sh
case " \$GRUB_CMDLINE_LINUX \$GRUB_CMDLINE_LINUX_DEFAULT " in
  *" $1 "*) echo "fleet test fault: this grub hook refuses $1" >&2; exit 1 ;;
esac
exit 0
HOOK
chmod 0755 /etc/grub.d/01_fleet_fault
