// Unique, short names so concurrent runs never collide (interface names are
// limited to 15 characters).
import { randomBytes } from 'node:crypto';

export function uniquePrefix(tag = 't'): string {
  return `x${tag}${randomBytes(3).toString('hex')}`;
}
