// The allocation-free IPv4 and MAC scanners (src/util/addr.ts) accept exactly
// the text their reference patterns accept, and parse it to the same bytes.
import { describe, expect, it } from 'vitest';
import { isIpv4, parseIpv4, parseMac, writeMac } from '../../src/util/addr.js';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** A deterministic generator (no Math.random: a failure must replay). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function ipv4Candidates(): string[] {
  const rnd = lcg(14);
  const pick = <T>(a: readonly T[]) => a[Math.floor(rnd() * a.length)];
  const octets = ['0', '1', '9', '10', '01', '00', '000', '99', '100', '199', '200', '249', '250', '255', '256', '260', '300', '999', '1000', '', '-1', '+1', ' 1', 'a', '1e2', '0x1', '٣'];
  const out = ['', '.', '...', '1.2.3', '1.2.3.4.', '.1.2.3.4', '1.2.3.4.5', '1..2.3', '1.2.3.4 ', ' 1.2.3.4', '1,2,3,4', '255.255.255.255', '0.0.0.0', '10.0.0.1'];
  for (let i = 0; i < 20_000; i++) {
    const n = rnd() < 0.9 ? 4 : pick([2, 3, 5]);
    out.push(Array.from({ length: n }, () => pick(octets)).join(rnd() < 0.97 ? '.' : pick([',', ':', '..'])));
  }
  return out;
}

function macCandidates(): string[] {
  const rnd = lcg(8);
  const pick = <T>(a: readonly T[]) => a[Math.floor(rnd() * a.length)];
  const groups = ['00', 'ff', 'FF', 'aB', '0e', '9f', 'g0', '0g', 'f', 'fff', '', ' f', '-1', '0x', '/0', ':0', '@A', '`a'];
  const out = ['', '00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', '0e:07:0a:00:00:01', '0e-07-0a-00-00-01', '0e:07:0a:00:00:01:', '0e:07:0a:00:00'];
  for (let i = 0; i < 20_000; i++) {
    const n = rnd() < 0.9 ? 6 : pick([5, 7]);
    out.push(Array.from({ length: n }, () => (rnd() < 0.9 ? Math.floor(rnd() * 256).toString(16).padStart(2, '0') : pick(groups))).join(rnd() < 0.97 ? ':' : pick(['-', '.', '::'])));
  }
  return out;
}

describe('IPv4 scanner', () => {
  it('accepts exactly what the reference pattern accepts, with the same value', () => {
    let accepted = 0;
    for (const s of ipv4Candidates()) {
      expect(isIpv4(s), s).toBe(IPV4.test(s));
      if (IPV4.test(s)) {
        accepted++;
        expect(parseIpv4(s, 'ip'), s).toBe(s.split('.').reduce((acc, p) => acc * 256 + Number(p), 0));
      } else {
        expect(() => parseIpv4(s, 'f.ip'), s).toThrow(`f.ip: '${s}' is not an IPv4 address`);
      }
    }
    expect(accepted).toBeGreaterThan(300); // both sides of the pattern are exercised
  });

  it('refuses what is not a string', () => {
    for (const v of [undefined, null, 167772161, {}, ['1.2.3.4']]) {
      expect(isIpv4(v)).toBe(false);
      expect(() => parseIpv4(v, 'ip')).toThrow('is not an IPv4 address');
    }
  });
});

describe('MAC scanner', () => {
  it('accepts exactly what the reference pattern accepts, with the same bytes', () => {
    let accepted = 0;
    for (const s of macCandidates()) {
      if (MAC.test(s)) {
        accepted++;
        const want = Buffer.from(s.split(':').map((h) => parseInt(h, 16)));
        expect(parseMac(s, 'mac'), s).toEqual(want);
        const b = Buffer.alloc(10, 0xaa);
        writeMac(b, 2, s, 'mac');
        expect(b, s).toEqual(Buffer.concat([Buffer.from([0xaa, 0xaa]), want, Buffer.from([0xaa, 0xaa])]));
      } else {
        expect(() => parseMac(s, 'x.mac'), s).toThrow(`x.mac: '${s}' is not a MAC address`);
      }
    }
    expect(accepted).toBeGreaterThan(1000);
  });

  it('refuses what is not a string', () => {
    for (const v of [undefined, null, 5, {}]) expect(() => parseMac(v, 'mac')).toThrow('is not a MAC address');
  });
});
