// The string that names a record in maps kept beside the kernel's (desired
// state, applied state, hosted veths): "vni/ip" for an endpoint, "vni/cidr"
// for a network. Built here only, so every such map agrees.

export const endpointRecordKey = (k: { vni: number; ip: string }): string => `${k.vni}/${k.ip}`;

export const networkRecordKey = (k: { vni: number; cidr: string }): string => `${k.vni}/${k.cidr}`;

/** endpointRecordKey read back: "vni/ip" -> { vni, ip }. */
export function parseEndpointRecordKey(key: string): { vni: number; ip: string } {
  const slash = key.indexOf('/');
  return { vni: Number(key.slice(0, slash)), ip: key.slice(slash + 1) };
}
