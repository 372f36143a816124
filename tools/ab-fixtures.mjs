// What the side-by-side cost tools (switch-cost-ab.mjs, sg-cost-ab.mjs) share:
// their NAME=path build arguments and the hosts and endpoints their packets name.
import { readFileSync } from 'node:fs';

/** NAME=path arguments, or one build named `built` at `defaultPath`. */
export function buildsFromArgs(positionals, defaultPath) {
  return (positionals.length ? positionals : [`built=${defaultPath}`]).map((a) => {
    const i = a.indexOf('=');
    if (i < 1) throw new Error(`argument ${a}: want NAME=path`);
    return { name: a.slice(0, i), path: a.slice(i + 1) };
  });
}

// Underlay hosts: this one, the sender's, a switch.
export const me = { ip: '172.30.0.2', mac: '0a:58:ac:1e:00:02' };
export const peer = { ip: '172.30.0.3', mac: '0a:58:ac:1e:00:03' };
export const sw = { ip: '172.30.0.4', mac: '0a:58:ac:1e:00:04' };
// Endpoints of VNI 3.
export const VNI = 3;
export const client = { ip: '10.0.0.2', mac: '0e:03:0a:00:00:02' };
export const server = { ip: '10.0.0.3', mac: '0e:03:0a:00:00:03' };

/** lo's ifindex: the one device a test run can name. */
export const loIfindex = () => Number(readFileSync('/sys/class/net/lo/ifindex', 'utf8').trim());
