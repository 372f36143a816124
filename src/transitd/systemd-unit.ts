// The systemd unit that runs transitd on a real host (`xvpc transitd
// --print-systemd-unit`). The run directory is kept across restarts
// (RuntimeDirectoryPreserve): the goal-state journal there is what a
// restarted transitd rolls back; like the pinned maps it goes at reboot.
import { invalid } from '../errors.js';
import { checkBindAddress } from '../util/addr.js';
import { interfaceName } from '../util/check.js';
import { checkHostName } from './host-name.js';

export interface UnitOptions {
  host: string; iface: string; mode: 'native' | 'generic' | 'tc';
  node: string; transitdMain: string;
  listen?: string; tlsDir?: string; metrics?: string;
}

const SAFE = /^[\w./:@=+-]+$/;

/** The unit's text; each value is checked as transitd will check it, so a unit that prints is one that starts. */
export function systemdUnit(o: UnitOptions): string {
  for (const [field, v] of Object.entries(o)) {
    if (v !== undefined && !SAFE.test(String(v))) throw invalid(`${field}: '${v}' has characters a unit's command line cannot hold plainly`);
  }
  checkHostName(o.host, 'host');
  interfaceName(o.iface, 'iface');
  if (o.listen !== undefined) checkBindAddress(o.listen, '--listen');
  if (o.metrics !== undefined) checkBindAddress(o.metrics, '--metrics');
  const args = [
    o.node, o.transitdMain, '--host', o.host, '--socket', '/run/xvpc/transitd.sock', '--iface', o.iface, '--mode', o.mode,
    '--pin-root', `/sys/fs/bpf/xvpc/${o.host}`,
    ...(o.listen ? ['--listen', o.listen, '--tls-ca', `${o.tlsDir}/ca.crt`, '--tls-cert', `${o.tlsDir}/${o.host}.crt`, '--tls-key', `${o.tlsDir}/${o.host}.key`] : []),
    ...(o.metrics ? ['--metrics', o.metrics] : []),
  ];
  return `# xvpc transitd for host ${o.host} (made by: xvpc transitd --print-systemd-unit)
# Install: this file as /etc/systemd/system/xvpc-transitd.service, then
#   systemctl daemon-reload && systemctl enable --now xvpc-transitd
[Unit]
Description=xvpc transitd (${o.host} on ${o.iface})
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
ExecStart=${args.join(' ')}
Restart=always
RestartSec=1
# Programs stay attached and maps pinned when transitd stops: traffic flows on.
KillSignal=SIGTERM
TimeoutStopSec=10
UMask=0077
RuntimeDirectory=xvpc
RuntimeDirectoryMode=0700
RuntimeDirectoryPreserve=yes
LimitMEMLOCK=infinity
LimitNOFILE=65536
# Hardening that leaves what transitd needs (root's capabilities for BPF and
# netlink, /sys/fs/bpf, /run) as it is.
NoNewPrivileges=yes
ProtectSystem=full
ProtectHome=read-only
RestrictSUIDSGID=yes
LockPersonality=yes

[Install]
WantedBy=multi-user.target
`;
}
