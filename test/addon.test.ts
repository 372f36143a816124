// The addon against the real kernel: load, attach, map ops, test runs, errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BpfObject, bpfObjectPath, numPossibleCpus, sumPerCpuU64, tcDetach, tcQuery, xdpDetach, xdpQuery } from '../src/dataplane/bpf.js';
import { addon } from '../src/dataplane/addon.js';
import { must, run } from '../src/util/exec.js';
import { createNamespace, deleteNamespace, inNs, linkIndex } from '../src/util/netns.js';
import { uniquePrefix } from './lib/names.js';

const ZERO = Buffer.alloc(4);

function ethernetFrame(): Buffer {
  const frame = Buffer.alloc(60);
  frame.fill(0xff, 0, 6); // broadcast
  frame.set([0x02, 0, 0, 0, 0, 1], 6);
  frame.writeUInt16BE(0x0800, 12);
  return frame;
}

describe('BPF object', () => {
  it('opens, loads and lists programs and maps', () => {
    const obj = BpfObject.load(bpfObjectPath('counter'));
    try {
      expect(obj.programs()).toEqual(['xdp_count', 'tc_count']);
      expect(obj.maps()).toContain('packets');
      const info = obj.map('packets').info();
      expect(info.keySize).toBe(4);
      expect(info.valueSize).toBe(8);
      expect(info.valueBytes).toBe(8 * numPossibleCpus());
    } finally {
      obj.close();
    }
  });

  it('sets capacity before load', () => {
    const obj = BpfObject.load(bpfObjectPath('counter'), { maxEntries: { packets: 4 } });
    try {
      expect(obj.map('packets').info().maxEntries).toBe(4);
    } finally {
      obj.close();
    }
  });

  it('refuses a capacity or map flags for a map the object lacks, naming the option and the map', () => {
    expect(() => BpfObject.load(bpfObjectPath('counter'), { maxEntries: { nope: 4 } })).toThrow(/^maxEntries: no map named 'nope' in /);
    expect(() => BpfObject.load(bpfObjectPath('counter'), { mapFlags: { nope: 0 } })).toThrow(/^mapFlags: no map named 'nope' in /);
  });

  it('test-runs a program on a crafted packet: verdict, bytes, duration', () => {
    const obj = BpfObject.load(bpfObjectPath('counter'));
    try {
      const frame = ethernetFrame();
      const result = obj.program('xdp_count').testRun(frame, { repeat: 100 });
      expect(result.retval).toBe(2); // XDP_PASS
      expect(result.data.equals(frame)).toBe(true);
      expect(result.durationNs).toBeGreaterThan(0);
      expect(sumPerCpuU64(obj.map('packets').lookup(ZERO)!)).toBe(100n);
    } finally {
      obj.close();
    }
  });

  it('looks up, updates and deletes entries given as Buffers', () => {
    const obj = BpfObject.load(bpfObjectPath('counter'));
    try {
      const map = obj.map('packets');
      const value = Buffer.alloc(map.info().valueBytes);
      value.writeBigUInt64LE(41n, 0);
      map.update(ZERO, value);
      expect(sumPerCpuU64(map.lookup(ZERO)!)).toBe(41n);
      expect(map.keys().map((k) => k.readUInt32LE(0))).toEqual([0]);
      // An array map's slot cannot be deleted: the kernel's EINVAL comes back as an exception.
      expect(() => map.delete(ZERO)).toThrow(/delete in map 'packets'/);
    } finally {
      obj.close();
    }
  });
});

describe('errors become exceptions, never crashes', () => {
  it('a wrong key size throws with errno', () => {
    const obj = BpfObject.load(bpfObjectPath('counter'));
    try {
      let caught: any;
      try { obj.map('packets').lookup(Buffer.alloc(3)); } catch (e) { caught = e; }
      expect(caught?.message).toMatch(/key is 3 bytes, map 'packets' wants 4/);
      expect(caught?.errno).toBe(22);
      expect(caught?.code).toBe('EINVAL');
      expect(() => obj.map('packets').update(ZERO, Buffer.alloc(1))).toThrow(/value is 1 bytes/);
    } finally {
      obj.close();
    }
  });

  it('an unknown map or program throws', () => {
    const obj = BpfObject.load(bpfObjectPath('counter'));
    try {
      expect(() => obj.map('nope')).toThrow(/no map named 'nope'/);
      expect(() => obj.program('nope')).toThrow(/no program named 'nope'/);
    } finally {
      obj.close();
    }
  });

  it('a closed object throws', () => {
    const obj = BpfObject.load(bpfObjectPath('counter'));
    const map = obj.map('packets');
    obj.close();
    expect(() => map.lookup(ZERO)).toThrow(/is closed/);
    expect(() => obj.map('packets')).toThrow(/is closed/);
    expect(() => obj.programs()).toThrow(/is closed/);
  });

  it('a missing file, a bad fd and bad arguments throw', () => {
    expect(() => BpfObject.load('/nonexistent.o')).toThrow(/open \/nonexistent.o/);
    expect(() => addon.mapLookup(-1, ZERO)).toThrow(/invalid fd/);
    expect(() => addon.mapLookup(999_999, ZERO)).toThrow(/not a BPF map/);
    expect(() => (addon.mapLookup as any)('x', ZERO)).toThrow(TypeError);
    expect(() => addon.xdpAttach(1, 999_999, 'bogus' as any)).toThrow(/must be 'native' or 'generic'/);
  });
});

describe('XDP on a veth in a fresh namespace', () => {
  const prefix = uniquePrefix('a');
  const nsA = `${prefix}-a`;
  const nsB = `${prefix}-b`;
  let ifindex = 0;

  beforeAll(async () => {
    await createNamespace(nsA);
    await createNamespace(nsB);
    await must(['ip', '-n', nsA, 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1', 'netns', nsB]);
    await must(inNs(nsA, ['ip', 'addr', 'add', '10.250.0.1/30', 'dev', 'veth0']));
    await must(inNs(nsB, ['ip', 'addr', 'add', '10.250.0.2/30', 'dev', 'veth1']));
    await must(inNs(nsA, ['ip', 'link', 'set', 'veth0', 'up']));
    await must(inNs(nsB, ['ip', 'link', 'set', 'veth1', 'up']));
    ifindex = await linkIndex(nsA, 'veth0');
  });

  afterAll(async () => {
    await deleteNamespace(nsA);
    await deleteNamespace(nsB);
  });

  for (const mode of ['native', 'generic'] as const) {
    it(`attaches in ${mode} mode, counts real packets, detaches`, async () => {
      const obj = BpfObject.load(bpfObjectPath('counter'));
      const prog = obj.program('xdp_count');
      prog.attachXdp(ifindex, mode, nsA);
      try {
        expect(xdpQuery(ifindex, mode, nsA)).toBe(prog.id);
        const ping = await run(inNs(nsB, ['ping', '-c', '5', '-i', '0.05', '-W', '1', '10.250.0.1']));
        expect(ping.code, ping.stdout + ping.stderr).toBe(0);
        // 5 echo requests, plus any ARP: at least 5 frames crossed the program.
        expect(sumPerCpuU64(obj.map('packets').lookup(ZERO)!)).toBeGreaterThanOrEqual(5n);
      } finally {
        xdpDetach(ifindex, mode, nsA);
        obj.close();
      }
      expect(xdpQuery(ifindex, mode, nsA)).toBe(0);
    });
  }

  it('attaches a TC ingress filter, counts real packets, replaces it in place, detaches', async () => {
    const obj = BpfObject.load(bpfObjectPath('counter'));
    const again = BpfObject.load(bpfObjectPath('counter'));
    const prog = obj.program('tc_count');
    try {
      expect(tcQuery(ifindex, nsA)).toBe(0);
      prog.attachTc(ifindex, nsA);
      expect(tcQuery(ifindex, nsA)).toBe(prog.id);
      const ping = await run(inNs(nsB, ['ping', '-c', '5', '-i', '0.05', '-W', '1', '10.250.0.1']));
      expect(ping.code, ping.stdout + ping.stderr).toBe(0);
      expect(sumPerCpuU64(obj.map('packets').lookup(ZERO)!)).toBeGreaterThanOrEqual(5n);
      // Attaching again (a restarted transitd) replaces our filter: one filter, the new program.
      again.program('tc_count').attachTc(ifindex, nsA);
      expect(tcQuery(ifindex, nsA)).toBe(again.program('tc_count').id);
      const filters = await must(inNs(nsA, ['tc', 'filter', 'show', 'dev', 'veth0', 'ingress']));
      expect(filters.split('\n').filter((l) => / handle /.test(l))).toHaveLength(1);
    } finally {
      tcDetach(ifindex, nsA);
      obj.close();
      again.close();
    }
    expect(tcQuery(ifindex, nsA)).toBe(0);
    expect(() => addon.tcDetach(ifindex, `/run/netns/${nsA}`)).toThrow(/detach TC ingress/);
    tcDetach(ifindex, nsA); // the wrapper takes "nothing there" as done
  });

  it('attaching to an interface that does not exist throws', () => {
    const obj = BpfObject.load(bpfObjectPath('counter'));
    try {
      expect(() => obj.program('xdp_count').attachXdp(999_999, 'native', nsA)).toThrow(/attach XDP to ifindex 999999/);
      expect(() => obj.program('xdp_count').attachXdp(1, 'native', `${prefix}-missing`)).toThrow(/open netns/);
    } finally {
      obj.close();
    }
  });
});
