// Which ARP table limits droplets write: only those below their floor, the hard limit first.
import { describe, expect, it } from 'vitest';
import { NEIGHBOUR_LIMITS, neighbourLimitWrites } from '../../src/droplet/neighbour-limits.js';

describe('neighbour table limits', () => {
  it('raises the kernel defaults, the hard limit (gc_thresh3) before the soft one', () => {
    expect(neighbourLimitWrites({ gc_thresh2: 512, gc_thresh3: 1024 })).toEqual([['gc_thresh3', 131_072], ['gc_thresh2', 65_536]]);
  });

  it('never lowers a limit someone set higher, and writes nothing at or above the floors', () => {
    expect(neighbourLimitWrites({ gc_thresh2: 1_000_000, gc_thresh3: 2_000_000 })).toEqual([]);
    expect(neighbourLimitWrites({ ...NEIGHBOUR_LIMITS })).toEqual([]);
    expect(neighbourLimitWrites({ gc_thresh2: 70_000, gc_thresh3: 1024 })).toEqual([['gc_thresh3', 131_072]]);
  });

  it('a value it cannot read as a number is raised', () => {
    expect(neighbourLimitWrites({ gc_thresh2: Number.NaN, gc_thresh3: 131_072 })).toEqual([['gc_thresh2', 65_536]]);
  });
});
