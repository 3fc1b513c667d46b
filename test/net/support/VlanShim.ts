/**
 * The 802.1Q stand-in of the network tests (see XenCloud.ts): the kernels of our test machines have
 * no 802.1Q, so the hosts' command prefix runs every command through this script, which turns
 * exactly `ip link add link DEV name NAME type vlan id N` into a VXLAN device of that name and VNI.
 * In its own file so that code outside vitest (bench:kvm) can use it.
 */
export const SHIM = `#!/bin/bash
# vlan-as-vxlan LOCAL REMOTE CMD…: runs CMD, except that an 802.1Q device
# ("ip link add link DEV name NAME type vlan id N") becomes a VXLAN device NAME with VNI N over DEV.
local=$1 remote=$2; shift 2
if [[ $# -eq 11 && $1 == ip && $2 == link && $3 == add && $4 == link && $6 == name && $8 == type && $9 == vlan && \${10} == id ]]; then
  echo "vlan-as-vxlan: $*" >&2
  exec ip link add "$7" type vxlan id "\${11}" local "$local" remote "$remote" dstport 4789 dev "$5"
fi
exec "$@"
`
