// The bench's direct-path pieces (bench/path-evidence.ts, first-packet.ts,
// paired.ts, report.ts): which way the counters say a run went, the
// first-packet summary and target, the alternating rounds.
import { describe, expect, it } from 'vitest';
import { firstRttMs, summarizeFirstPacket } from '../../bench/first-packet.js';
import { pairedSummary } from '../../bench/paired.js';
import { pathSentence, pathTaken } from '../../bench/path-evidence.js';
import { firstPacketReport, pairedFinding } from '../../bench/report.js';

describe('bench: which path a run took', () => {
  it('direct: every encapsulated packet went straight, the switch forwarded none', () => {
    const p = pathTaken({ left: { encap: 1000, direct_tx: 1000 }, right: { encap: 500, direct_tx: 500 }, switch: {} }, 'switch');
    expect(p).toEqual({ encap: 1500, directTx: 1500, switchFwd: 0, stale: 0, path: 'direct' });
    expect(pathSentence('(at) TCP 1 stream', p)).toBe('(at) TCP 1 stream: 1,500 packets encapsulated, 1,500 sent straight to the peer\'s host (direct_tx), '
      + '0 forwarded by the switch host (switch_fwd): the traffic went straight between the endpoints\' hosts');
  });

  it('switch: none went straight, the switch forwarded them all', () => {
    expect(pathTaken({ left: { encap: 900 }, right: { encap: 100 }, switch: { switch_fwd: 1000 } }, 'switch').path).toBe('switch');
  });

  it('mixed beyond 1% either way; none without encapsulation; stale entries are told', () => {
    expect(pathTaken({ left: { encap: 1000, direct_tx: 900 }, switch: { switch_fwd: 100 } }, 'switch').path).toBe('mixed');
    expect(pathTaken({ left: {}, switch: {} }, 'switch').path).toBe('none');
    const st = pathTaken({ left: { encap: 10, direct_tx: 10, direct_stale: 3 }, switch: {} }, 'switch');
    expect(pathSentence('x', st)).toMatch(/3 stale \(direct_stale\)/);
  });
});

describe('bench: the first packet', () => {
  it('reads the RTT of the one reply, none when lost', () => {
    expect(firstRttMs('64 bytes from 10.0.2.10: icmp_seq=1 ttl=64 time=0.189 ms\n')).toBe(0.189);
    expect(firstRttMs('1 packets transmitted, 0 received, 100% packet loss')).toBeUndefined();
  });

  it('summarizes per side and per round, leaving lost rounds out of the ratio', () => {
    const r = summarizeFirstPacket([{ onMs: 0.1, offMs: 0.2 }, { onMs: 0.2, offMs: 0.2 }, { offMs: 0.3 }, { onMs: 0.3, offMs: 0.3 }],
      { switch: { switch_fwd: 3 }, right: { encap: 3, direct_tx: 3 }, left: { encap: 3 } }, { switch: { switch_fwd: 8 }, left: { encap: 8 } }, 'switch');
    expect(r.on.lost).toBe(1);
    expect(r.off.lost).toBe(0);
    expect(r.ratio?.rounds).toBe(3);
    expect(r.ratio?.median).toBe(1);
    expect(r.on.path.path).toBe('mixed'); // requests through the switch, replies straight
    expect(r.off.path.path).toBe('switch');
  });

  it('judges on ≤ 1.0× when the rounds are tight, not judged when 1.0 is inside the median\'s 95% interval, not measured without replies', () => {
    const tight = summarizeFirstPacket([0.8, 0.82, 0.79, 0.81, 0.8, 0.8, 0.81].map((x) => ({ onMs: x, offMs: 1 })), {}, {}, 'switch');
    const t = firstPacketReport('tc', tight).target;
    expect(t).toMatchObject({ id: 'first_packet_tc_direct_on_vs_off', status: 'met', measured: 0.8 });
    const worse = summarizeFirstPacket([1.3, 1.31, 1.29, 1.3, 1.3, 1.32, 1.28].map((x) => ({ onMs: x, offMs: 1 })), {}, {}, 'switch');
    expect(firstPacketReport('native', worse).target).toMatchObject({ id: 'first_packet_xdp_direct_on_vs_off', status: 'missed' });
    const noisy = summarizeFirstPacket([0.9, 1.05, 0.95, 1.1, 1.0, 0.97, 1.02].map((x) => ({ onMs: x, offMs: 1 })), {}, {}, 'switch');
    expect(firstPacketReport('tc', noisy).target.status).toBe('not judged');
    const lost = summarizeFirstPacket([{}, { onMs: 1 }], {}, {}, 'switch');
    expect(firstPacketReport('tc', lost).target.status).toBe('not measured');
  });
});

describe('bench: alternating rounds, direct path on vs off', () => {
  it('gives the per-round ratio and says whether it leaves the spread', () => {
    const p = pairedSummary([12, 11, 13, 10, 12], [10, 10, 10, 10, 10]);
    expect(p.ratio.median).toBe(1.2);
    expect(pairedFinding('(at) vs (at-off)', p)).toMatch(/direct path on was faster in more than three quarters of the rounds/);
    const same = pairedSummary([9, 11, 10, 12, 8], [10, 10, 10, 10, 10]);
    expect(pairedFinding('(at) vs (at-off)', same)).toMatch(/no difference beyond the spread of the rounds/);
    const slow = pairedSummary([8, 8, 9, 8, 7], [10, 10, 10, 10, 10]);
    expect(pairedFinding('x', slow)).toMatch(/slower/);
  });

  it('refuses rounds that do not pair up or a rate that is not positive', () => {
    expect(() => pairedSummary([1, 2], [1])).toThrow(/2 on vs 1 off/);
    expect(() => pairedSummary([0], [1])).toThrow(/not positive/);
  });
});
