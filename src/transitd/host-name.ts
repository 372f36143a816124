// What a transitd host may be called: the name is its certificate's (xvpc
// certs), its pin root's last directory and its systemd unit's, so it is
// checked once, here, wherever it is given.
import { invalid } from '../errors.js';

/** 1-63 of [A-Za-z0-9.-], as in certificates (src/util/certs.ts), and, as it names the pin root, no '..'. */
export const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]|\.(?!\.)){0,62}$/;

/** INVALID_ARGUMENT naming `field` unless `name` is a host name. */
export function checkHostName(name: string, field: string): void {
  if (!HOST_NAME.test(name)) throw invalid(`${field}: '${name}' is not a host name (1-63 of [A-Za-z0-9.-], no '..')`);
}
