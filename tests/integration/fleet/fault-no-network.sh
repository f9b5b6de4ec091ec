#!/bin/sh
# Fault "host does not come back": on the next boot only, a unit masks systemd-networkd for that boot
# (--runtime) and takes every en* link down, so ssh never answers; it removes itself first, so a reset
# boots normally. The unit's journal in that boot (journalctl -b -1 -u fleet-fault-no-network) proves it ran.
set -eu
cat > /etc/systemd/system/fleet-fault-no-network.service <<'UNIT'
[Unit]
Description=fleet test fault: no network on this boot
After=systemd-networkd.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'rm -f /etc/systemd/system/fleet-fault-no-network.service /etc/systemd/system/multi-user.target.wants/fleet-fault-no-network.service; sync; systemctl mask --runtime --now systemd-networkd.service systemd-networkd.socket; for link in /sys/class/net/en*; do ip link set dev "$${link##*/}" down; done; echo "fleet test fault: network taken down"'

[Install]
WantedBy=multi-user.target
UNIT
systemctl enable fleet-fault-no-network.service
