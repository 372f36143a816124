// A link in this process's own network namespace, read through `ip -j`
// (sysfs would show the namespace it was mounted in, not ours, under nsenter).
import { must } from './exec.js';

export interface LinkInfo { name: string; ifindex: number; mac: string; mtu: number; ipv4?: string; prefixLen?: number }

export async function linkInfo(dev: string): Promise<LinkInfo> {
  const [link] = JSON.parse(await must(['ip', '-j', 'addr', 'show', 'dev', dev])) as any[];
  if (!link) throw new Error(`no interface named ${dev}`);
  const inet = (link.addr_info ?? []).find((a: any) => a.family === 'inet');
  return { name: link.ifname, ifindex: link.ifindex, mac: link.address, mtu: link.mtu, ipv4: inet?.local, prefixLen: inet?.prefixlen };
}
