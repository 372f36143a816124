// Capture files: pcapng (one interface description per capture point, e.g.
// one per XDP action, nanosecond timestamps, a comment per packet) and classic
// pcap (nanosecond variant). Both read back with `tcpdump -r` and Wireshark.
// The encoders only make bytes; where they go (a file, stdout) is the caller's.

export type CaptureFormat = 'pcapng' | 'pcap';

export interface CaptureInterface {
  name: string;
  description?: string;
  /** DLT_* link type (1: Ethernet) */
  linktype: number;
  snaplen: number;
}

export interface PacketRecord {
  /** index into the interfaces the file was started with */
  interfaceId: number;
  /** wall clock, ns since the epoch */
  timestampNs: bigint;
  /** length on the wire; data may be shorter (snaplen) */
  length: number;
  data: Buffer;
  comment?: string;
}

export interface CaptureEncoder {
  header(): Buffer;
  packet(rec: PacketRecord): Buffer;
}

const pad4 = (n: number) => (n + 3) & ~3;

function option(code: number, value: Buffer): Buffer {
  const b = Buffer.alloc(4 + pad4(value.length));
  b.writeUInt16LE(code, 0);
  b.writeUInt16LE(value.length, 2);
  value.copy(b, 4);
  return b;
}
const END_OF_OPTIONS = Buffer.alloc(4);

/** A pcapng block: type, total length, body, total length again. */
function block(type: number, body: Buffer): Buffer {
  const len = 12 + body.length;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(len, 4);
  body.copy(b, 8);
  b.writeUInt32LE(len, len - 4);
  return b;
}

export class PcapngEncoder implements CaptureEncoder {
  constructor(private readonly interfaces: CaptureInterface[], private readonly application = 'xvpc capture') {}

  header(): Buffer {
    const shb = Buffer.alloc(16);
    shb.writeUInt32LE(0x1a2b3c4d, 0); // byte-order magic
    shb.writeUInt16LE(1, 4);
    shb.writeUInt16LE(0, 6);
    shb.writeBigInt64LE(-1n, 8); // section length unknown
    const blocks = [block(0x0a0d0d0a, Buffer.concat([shb, option(4, Buffer.from(this.application)), END_OF_OPTIONS]))];
    for (const ifc of this.interfaces) {
      const idb = Buffer.alloc(8);
      idb.writeUInt16LE(ifc.linktype, 0);
      idb.writeUInt32LE(ifc.snaplen, 4);
      const opts = [option(2, Buffer.from(ifc.name))];
      if (ifc.description) opts.push(option(3, Buffer.from(ifc.description)));
      opts.push(option(9, Buffer.from([9]))); // if_tsresol: nanoseconds
      blocks.push(block(1, Buffer.concat([idb, ...opts, END_OF_OPTIONS])));
    }
    return Buffer.concat(blocks);
  }

  packet(rec: PacketRecord): Buffer {
    const fixed = Buffer.alloc(20);
    fixed.writeUInt32LE(rec.interfaceId, 0);
    fixed.writeUInt32LE(Number(rec.timestampNs >> 32n) >>> 0, 4);
    fixed.writeUInt32LE(Number(rec.timestampNs & 0xffffffffn) >>> 0, 8);
    fixed.writeUInt32LE(rec.data.length, 12);
    fixed.writeUInt32LE(rec.length, 16);
    const data = Buffer.alloc(pad4(rec.data.length));
    rec.data.copy(data);
    const opts = rec.comment ? [option(1, Buffer.from(rec.comment)), END_OF_OPTIONS] : [];
    return block(6, Buffer.concat([fixed, data, ...opts]));
  }
}

export class PcapEncoder implements CaptureEncoder {
  constructor(private readonly linktype: number, private readonly snaplen: number) {}

  header(): Buffer {
    const b = Buffer.alloc(24);
    b.writeUInt32LE(0xa1b23c4d, 0); // nanosecond timestamps
    b.writeUInt16LE(2, 4);
    b.writeUInt16LE(4, 6);
    b.writeUInt32LE(this.snaplen, 16);
    b.writeUInt32LE(this.linktype, 20);
    return b;
  }

  packet(rec: PacketRecord): Buffer {
    const b = Buffer.alloc(16 + rec.data.length);
    b.writeUInt32LE(Number(rec.timestampNs / 1_000_000_000n) >>> 0, 0);
    b.writeUInt32LE(Number(rec.timestampNs % 1_000_000_000n), 4);
    b.writeUInt32LE(rec.data.length, 8);
    b.writeUInt32LE(rec.length, 12);
    rec.data.copy(b, 16);
    return b;
  }
}

export function createEncoder(format: CaptureFormat, interfaces: CaptureInterface[]): CaptureEncoder {
  if (format === 'pcap') {
    const linktypes = new Set(interfaces.map((i) => i.linktype));
    if (linktypes.size > 1) throw new Error('pcap holds one link type; use pcapng for this capture');
    return new PcapEncoder(interfaces[0]?.linktype ?? 1, Math.max(...interfaces.map((i) => i.snaplen), 0));
  }
  return new PcapngEncoder(interfaces);
}
