// transitd's own fence (src/transitd/fence.ts): a change carrying a leader
// term older than one the host has heard, or another store's epoch, is
// refused and changes nothing; reads and calls without a fence are served;
// the fence survives a restart of transitd; a malformed one is INVALID_ARGUMENT.
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Droplet } from '../../src/droplet/index.js';
import { runDir } from '../../src/droplet/names.js';
import { connectTransitd, type TransitdClient } from '../../src/transitd/client.js';
import { destroyDroplets, expectFailedCalls, makeDroplets } from './lib.js';

describe('transitd refuses a deposed leader\'s changes (fence)', () => {
  let droplets: Record<string, Droplet>;
  let d: Droplet;
  let t: TransitdClient;
  const fencePath = () => `${runDir(d.prefix)}/${d.id}.fence`;
  const at = (term: number, epoch = 'e1') => ({ fence: { epoch, term } });
  const vnis = async () => (await t.dump({})).vpcs.map((v) => v.vni).sort((x, y) => x - y);

  beforeAll(async () => {
    droplets = await makeDroplets(['fh'], 'fe');
    d = droplets.fh;
    t = connectTransitd(d.id, d.transitdAddress);
  });
  afterAll(async () => {
    t?.close();
    if (droplets) await destroyDroplets(droplets);
  });

  it('an older term\'s change is refused and changes nothing; reads and unfenced calls are served', async () => {
    expectFailedCalls(d, 4);
    expect(existsSync(fencePath())).toBe(false); // no term heard yet
    await t.createVpc({ vni: 101, routers: [], directPath: false }, at(9));
    expect(JSON.parse(readFileSync(fencePath(), 'utf8'))).toEqual({ format: 'xvpc-fence/1', epoch: 'e1', term: 9 });
    expect(statSync(fencePath()).mode & 0o777).toBe(0o600);

    await expect(t.createVpc({ vni: 102, routers: [], directPath: false }, at(5))).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: expect.stringMatching(/createVpc refused: its controller's leadership \(term 5\) has ended; a later leader \(term 9\) programs this host/),
    });
    await expect(t.deleteVpc({ vni: 101 }, at(8))).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(await vnis()).toEqual([101]);

    // A read with the old term is served (and lowers nothing).
    expect((await t.getVpc({ vni: 101 }, at(5))).vni).toBe(101);
    // The same term goes on; a call with no term (one controller, the CLI) is not fenced.
    await t.createVpc({ vni: 103, routers: [], directPath: false }, at(9));
    await t.createVpc({ vni: 104, routers: [], directPath: false });
    expect(await vnis()).toEqual([101, 103, 104]);

    // A later leader's first read raises the fence: the term before it is refused from then on.
    await t.dumpPacked({}, at(12));
    await expect(t.deleteVpc({ vni: 103 }, at(9))).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', message: expect.stringMatching(/term 12/) });
    expect(await vnis()).toEqual([101, 103, 104]);

    // Another store's leader (an etcd replaced by an empty one: its terms start again) is refused whatever its term.
    await expect(t.deleteVpc({ vni: 101 }, at(99, 'e2'))).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION', message: expect.stringMatching(/programmed by the controllers of another store \(epoch e1; this call's is e2.*remove .*\.fence, start it/),
    });
    await t.dumpPacked({}, at(100, 'e2')); // its reads are served and change the fence not
    expect(JSON.parse(readFileSync(fencePath(), 'utf8'))).toMatchObject({ epoch: 'e1', term: 12 });
    expect(await vnis()).toEqual([101, 103, 104]);
  });

  it('a fence that is not <epoch>/<term> is INVALID_ARGUMENT and changes nothing', async () => {
    const bad = [[0, 'e1'], [-3, 'e1'], [1.5, 'e1'], [Number.NaN, 'e1'], [2 ** 60, 'e1'], [13, ''], [13, 'a/b'], [13, 'x'.repeat(65)], [13, 'e 1']] as const;
    for (const [term, epoch] of bad) {
      await expect(t.deleteVpc({ vni: 104 }, at(term, epoch)), `${epoch}/${term}`).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT', message: expect.stringMatching(/xvpc-fence: '.*' is not <epoch>\/<term>/),
      });
    }
    expect(await vnis()).toEqual([101, 103, 104]);
    expect(JSON.parse(readFileSync(fencePath(), 'utf8')).term).toBe(12);
  });

  it('the highest term survives a restart of transitd', async () => {
    await d.restartTransitd();
    expectFailedCalls(d, 1);
    await expect(t.createVpc({ vni: 105, routers: [], directPath: false }, at(11))).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    await t.deleteVpc({ vni: 103 }, at(12));
    expect(await vnis()).toEqual([101, 104]);
  });

  it('a fence file transitd did not write stops its start with a clear error', async () => {
    await d.stopTransitd();
    writeFileSync(fencePath(), 'not json');
    chmodSync(fencePath(), 0o600);
    await expect(d.startTransitd()).rejects.toThrow(/fence .*\.fence: not readable .*remove it to start anyway/);
    writeFileSync(fencePath(), JSON.stringify({ format: 'xvpc-fence/1', epoch: 'e1', term: 12 }));
    await d.startTransitd();
    expectFailedCalls(d, 1);
    await expect(t.deleteVpc({ vni: 104 }, at(11))).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
  });
});
