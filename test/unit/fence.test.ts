// The host's fence (src/transitd/fence.ts) as pure logic over a file in a
// temporary directory: which terms are taken, which changes are admitted,
// what is kept, and which files are refused.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { HostFence, parseTerm } from '../../src/transitd/fence.js';

const dirs: string[] = [];
const fencePath = () => {
  const dir = mkdtempSync(`${tmpdir()}/xvpc-fence-`);
  dirs.push(dir);
  return `${dir}/t.fence`;
};
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe('parseTerm', () => {
  it('takes a positive decimal integer JavaScript counts exactly', () => {
    expect(parseTerm('1')).toBe(1);
    expect(parseTerm('9007199254740991')).toBe(2 ** 53 - 1);
  });
  it('refuses anything else with INVALID_ARGUMENT', () => {
    for (const bad of ['', '0', '-1', '01', '1.5', '1e3', ' 7', '7 ', 'NaN', '9007199254740992', '12345678901234567', 'x'.repeat(100)]) {
      expect(() => parseTerm(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});

describe('HostFence', () => {
  it('starts at 0 with no file; a higher term is kept on disk (0600), a lower one changes nothing', () => {
    const path = fencePath();
    const f = new HostFence(path);
    expect(f.term).toBe(0);
    f.admit(3, 'createVpc'); // nothing heard yet: any term may change the host
    f.heard(7);
    expect(f.term).toBe(7);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ format: 'xvpc-fence/1', term: 7 });
    f.heard(5);
    expect(f.term).toBe(7);
    expect(new HostFence(path).term).toBe(7); // what a restarted transitd reads
  });

  it('admits the same or a later term and a call without one; refuses an older one, naming both', () => {
    const f = new HostFence(fencePath());
    f.heard(10);
    f.admit(10, 'createVpc');
    f.admit(11, 'createVpc');
    f.admit(undefined, 'createVpc');
    expect(() => f.admit(9, 'deleteEndpoint')).toThrow(expect.objectContaining({
      code: 'FAILED_PRECONDITION',
      message: 'deleteEndpoint refused: its controller\'s leadership (term 9) has ended; a later leader (term 10) programs this host',
    }));
  });

  it('refuses a file it did not write: unreadable, another format, or not private', () => {
    const cases: [string, number, RegExp][] = [
      ['not json', 0o600, /not readable/],
      [JSON.stringify({ format: 'other', term: 3 }), 0o600, /not a xvpc-fence\/1 file/],
      [JSON.stringify({ format: 'xvpc-fence/1', term: -1 }), 0o600, /not a xvpc-fence\/1 file/],
      [JSON.stringify({ format: 'xvpc-fence/1', term: 3 }), 0o644, /not a private file of this user/],
    ];
    for (const [text, mode, why] of cases) {
      const path = fencePath();
      writeFileSync(path, text);
      chmodSync(path, mode);
      expect(() => new HostFence(path), text).toThrow(expect.objectContaining({ code: 'FAILED_PRECONDITION', message: expect.stringMatching(why) }));
    }
  });
});
