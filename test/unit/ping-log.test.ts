// test/lib/ping-log.ts: ping -D -O output, and lost requests placed around a gap.
import { describe, expect, it } from 'vitest';
import { lossAroundGap, parsePingLog } from '../lib/ping-log.js';

const OUT = `PING 10.70.1.3 (10.70.1.3) 56(84) bytes of data.
[100.000500] 64 bytes from 10.70.1.3: icmp_seq=1 ttl=64 time=0.500 ms
[100.050300] 64 bytes from 10.70.1.3: icmp_seq=2 ttl=64 time=0.300 ms
[100.150000] no answer yet for icmp_seq=3
[100.200000] no answer yet for icmp_seq=4
[100.250000] no answer yet for icmp_seq=5
[100.300000] no answer yet for icmp_seq=6
[100.350000] no answer yet for icmp_seq=7
[100.400400] 64 bytes from 10.70.1.3: icmp_seq=8 ttl=64 time=0.400 ms
[100.500000] no answer yet for icmp_seq=9
[100.500400] 64 bytes from 10.70.1.3: icmp_seq=10 ttl=64 time=0.400 ms

--- 10.70.1.3 ping statistics ---
11 packets transmitted, 4 received, 63.6364% packet loss, time 500ms
`;

describe('ping log', () => {
  it('reads when each answered request left and when ping reported the unanswered ones', () => {
    const log = parsePingLog(OUT);
    expect(log.transmitted).toBe(11);
    expect([...log.sent.keys()]).toEqual([1, 2, 8, 10]);
    expect(log.sent.get(1)).toBeCloseTo(100.0, 6);
    expect(log.sent.get(8)).toBeCloseTo(100.4, 6);
    expect([...log.noAnswer.keys()]).toEqual([3, 4, 5, 6, 7, 9]);
    expect(log.noAnswer.get(9)).toBe(100.5);
  });

  it('splits the losses around the gap: before, during (one interval of grace), after, and the never-placed tail', () => {
    const log = parsePingLog(OUT);
    // gap 100.16-100.30: seq 3 was reported before it, 4-7 within it plus one interval, 9 later, 11 never
    const r = lossAroundGap(log, 100.16, 100.30, 0.05);
    expect(r).toEqual({ before: [3], during: [4, 5, 6, 7], after: [9, 11], answeredAfter: 2 });
  });

  it('says so when ping printed no statistics', () => {
    expect(() => parsePingLog('ping: unknown host')).toThrow(/no statistics/);
  });
});
