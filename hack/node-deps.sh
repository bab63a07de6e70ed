#!/usr/bin/env bash
# Installs what the e2e tier (a real single-node cluster, tests/cluster/node.py) needs on
# Debian 12: a container runtime, CNI plugins, and the tools that build images without
# Docker or a registry. Idempotent: packages already present are not fetched again.
# Nothing is started here; the pytest fixture starts and stops every daemon itself.
set -euo pipefail

packages=(
  containerd                  # CRI runtime the kubelet talks to
  runc                        # OCI runtime containerd starts containers with
  containernetworking-plugins # bridge, host-local, portmap, loopback (in /usr/lib/cni)
  buildah                     # builds and exports images without a daemon
  debootstrap                 # the Debian root filesystem of the trial image
  iptables                    # the bridge plugin's ipMasq and portmap rules
  conntrack                   # kubelet and portmap clean up NAT state with it
  gcc libc6-dev               # the static pause binary (hack/pause/pause.c)
  ca-certificates
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "node dependencies already installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# No recommends: buildah would otherwise pull in podman-era extras nothing here uses.
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "installed: ${missing[*]}"
