// PutEndpoints' request (proto EndpointBatch: bytes keys = 1, bytes values = 2)
// encoded in one allocation and one copy of each field. The generated encoder
// copies the packed bytes three times (into its growing writer, out of it, and
// into a Buffer): 300 MB of copies and their garbage collections for a million
// records. The bytes are the same (test/unit/batch-wire.test.ts checks them
// against the generated encoder). transitd decodes it into views of the
// received message (decodeEndpointBatch): the generated decoder copies both
// fields out, 100 MB more to allocate and collect per million records.
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { EndpointBatch } from '../gen/transit.js';

const KEYS_TAG = (1 << 3) | 2;   // field 1, length-delimited
const VALUES_TAG = (2 << 3) | 2; // field 2, length-delimited

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) { n = Math.floor(n / 128); size++; }
  return size;
}

function writeVarint(b: Buffer, off: number, n: number): number {
  while (n >= 0x80) { b[off++] = (n % 128) | 0x80; n = Math.floor(n / 128); }
  b[off++] = n;
  return off;
}

/** A field's tag, length and bytes at off; proto3 leaves an empty one out. Returns the offset after it. */
function writeBytesField(b: Buffer, off: number, tag: number, bytes: Uint8Array): number {
  if (bytes.length === 0) return off;
  b[off++] = tag;
  off = writeVarint(b, off, bytes.length);
  b.set(bytes, off);
  return off + bytes.length;
}

const fieldSize = (bytes: Uint8Array): number => (bytes.length === 0 ? 0 : 1 + varintSize(bytes.length) + bytes.length);

/** The wire bytes of an EndpointBatch message. */
export function encodeEndpointBatch(m: EndpointBatch): Buffer {
  const b = Buffer.allocUnsafe(fieldSize(m.keys) + fieldSize(m.values));
  writeBytesField(b, writeBytesField(b, 0, KEYS_TAG, m.keys), VALUES_TAG, m.values);
  return b;
}

/**
 * An EndpointBatch message decoded as the generated decoder does (the same
 * loop: the last occurrence of a field wins, unknown fields and fields of the
 * wrong wire type are skipped, a zero tag or an end-group ends the message),
 * but keys and values are views of `buf`, not
 * copies: the caller owns them with `buf` (transitd writes hosted_ifindex into
 * values in place). Throws on a truncated or malformed message.
 */
export function decodeEndpointBatch(buf: Uint8Array): { keys: Buffer; values: Buffer } {
  const reader = new BinaryReader(buf);
  const view = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  let keys: Buffer = Buffer.alloc(0);
  let values: Buffer = Buffer.alloc(0);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === KEYS_TAG) keys = view(reader.bytes());
    else if (tag === VALUES_TAG) values = view(reader.bytes());
    else if ((tag & 7) === WireType.EndGroup || tag === 0) break;
    else reader.skip(tag & 7);
  }
  return { keys, values };
}
