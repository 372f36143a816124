// The host's fence (src/transitd/fence.ts) as pure logic over a file in a
// temporary directory: which terms are taken, which changes are admitted,
// what is kept, and which files are refused.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { HostFence, fenceText, parseFence } from '../../src/transitd/fence.js';

const dirs: string[] = [];
const fencePath = () => {
  const dir = mkdtempSync(`${tmpdir()}/xvpc-fence-`);
  dirs.push(dir);
  return `${dir}/t.fence`;
};
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe('parseFence', () => {
  it('takes <epoch>/<term>: an id of letters, digits and -, and a positive integer JavaScript counts exactly', () => {
    expect(parseFence('e1/1')).toEqual({ epoch: 'e1', term: 1 });
    const epoch = '0f4c2a9e-5a1b-4c7d-9e8f-123456789abc';
    expect(parseFence(`${epoch}/9007199254740991`)).toEqual({ epoch, term: 2 ** 53 - 1 });
    expect(parseFence(fenceText({ epoch, term: 42 }))).toEqual({ epoch, term: 42 });
  });
  it('refuses anything else with INVALID_ARGUMENT', () => {
    for (const bad of ['', '7', 'e1', 'e1/', '/7', 'e1/0', 'e1/-1', 'e1/01', 'e1/1.5', 'e1/1e3', 'e1/ 7', 'e1/7 ', 'e1/NaN', 'e1/9007199254740992',
      'a/b/7', 'e 1/7', `${'x'.repeat(65)}/7`, 'x'.repeat(100)]) {
      expect(() => parseFence(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});

describe('HostFence', () => {
  const at = (term: number, epoch = 'e1') => ({ epoch, term });

  it('starts with none and no file; the first admitted change claims the host, then a higher term of its epoch is kept on disk, nothing else is', () => {
    const path = fencePath();
    const f = new HostFence(path);
    expect(f.token).toBeUndefined();
    f.heard(at(3)); // a read claims nothing (a mistyped --store must not take the hosts)
    expect(f.token).toBeUndefined();
    expect(existsSync(path)).toBe(false);
    f.admit(at(7), 'createVpc');
    expect(f.token).toEqual(at(7));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ format: 'xvpc-fence/1', epoch: 'e1', term: 7 });
    f.heard(at(5));
    f.heard(at(50, 'e2')); // another store's read: kept not
    expect(f.token).toEqual(at(7));
    f.heard(at(9)); // a later leader's read raises the term
    expect(f.token).toEqual(at(9));
    expect(new HostFence(path).token).toEqual(at(9)); // what a restarted transitd reads
  });

  it('admits the same or a later term and a call without a fence; refuses an older term or another epoch, naming both and the way out', () => {
    const f = new HostFence(fencePath());
    f.admit(at(10), 'createVpc');
    f.admit(at(10), 'createVpc');
    f.admit(at(11), 'createVpc');
    expect(f.token).toEqual(at(11));
    f.admit(undefined, 'createVpc');
    expect(() => f.admit(at(9), 'deleteEndpoint')).toThrow(expect.objectContaining({
      code: 'FAILED_PRECONDITION',
      message: expect.stringMatching(/^deleteEndpoint refused: its controller's leadership \(term 9\) has ended; a later leader \(term 11\) programs this host \(an etcd restored from a snapshot .*--bump-revision\)$/),
    }));
    expect(() => f.admit(at(99, 'e2'), 'deleteVpc')).toThrow(expect.objectContaining({
      code: 'FAILED_PRECONDITION',
      message: expect.stringMatching(/^deleteVpc refused: this host is programmed by the controllers of another store \(epoch e1; this call's is e2\): a --store other than .* remove .*t\.fence, start it$/),
    }));
    expect(f.token).toEqual(at(11));
  });

  it('a fence that cannot be written: a change is not started (UNAVAILABLE), a read goes on', () => {
    const path = fencePath();
    const f = new HostFence(path);
    f.admit(at(1), 'createVpc');
    rmSync(path.slice(0, path.lastIndexOf('/')), { recursive: true, force: true }); // its directory gone
    expect(() => f.admit(at(2), 'createVpc')).toThrow(expect.objectContaining({ code: 'UNAVAILABLE', message: expect.stringMatching(/^createVpc not started: fence .* could not be written/) }));
    expect(() => f.heard(at(3))).not.toThrow();
    expect(f.token).toEqual(at(1));
  });

  it('refuses a file it did not write: unreadable, another format, or not private', () => {
    const cases: [string, number, RegExp][] = [
      ['not json', 0o600, /not readable/],
      [JSON.stringify({ format: 'other', epoch: 'e1', term: 3 }), 0o600, /not a xvpc-fence\/1 file/],
      [JSON.stringify({ format: 'xvpc-fence/1', epoch: 'e1', term: 0 }), 0o600, /not a xvpc-fence\/1 file/],
      [JSON.stringify({ format: 'xvpc-fence/1', epoch: 'a/b', term: 3 }), 0o600, /not a xvpc-fence\/1 file/],
      [JSON.stringify({ format: 'xvpc-fence/1', term: 3 }), 0o600, /not a xvpc-fence\/1 file/],
      [JSON.stringify({ format: 'xvpc-fence/1', epoch: 'e1', term: 3 }), 0o644, /not a private file of this user/],
    ];
    for (const [text, mode, why] of cases) {
      const path = fencePath();
      writeFileSync(path, text);
      chmodSync(path, mode);
      expect(() => new HostFence(path), text).toThrow(expect.objectContaining({ code: 'FAILED_PRECONDITION', message: expect.stringMatching(why) }));
    }
  });
});
