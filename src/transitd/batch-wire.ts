// PutEndpoints' request (proto EndpointBatch) encoded in one allocation, its
// values in the compact form (src/abi/batch-compact.ts: field 3, a nested
// EndpointValuesCompact of heads = 1 and backends = 2), and decoded into views
// of the received message. The generated encoder copies the packed bytes three
// times (into its growing writer, out of it, and into a Buffer) and its
// decoder copies every field out: hundreds of MB to allocate and collect per
// million records. test/unit/batch-wire.test.ts checks both against the
// generated code.
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { ENDPOINT_KEY as EK, ENDPOINT_VALUE as EV, compactEndpointValues } from '../abi/index.js';
import type { EndpointBatch, EndpointValuesCompact } from '../gen/transit.js';

const tag = (field: number) => (field << 3) | WireType.LengthDelimited;
const KEYS_TAG = tag(1);
const VALUES_TAG = tag(2);
const COMPACT_TAG = tag(3);
const HEADS_TAG = tag(1);    // in EndpointValuesCompact
const BACKENDS_TAG = tag(2); // in EndpointValuesCompact

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
function writeBytesField(b: Buffer, off: number, fieldTag: number, bytes: Uint8Array): number {
  if (bytes.length === 0) return off;
  b[off++] = fieldTag;
  off = writeVarint(b, off, bytes.length);
  b.set(bytes, off);
  return off + bytes.length;
}

const fieldSize = (bytes: Uint8Array): number => (bytes.length === 0 ? 0 : 1 + varintSize(bytes.length) + bytes.length);
const compactSize = (c: EndpointValuesCompact): number => fieldSize(c.heads) + fieldSize(c.backends);

/**
 * The wire bytes of an EndpointBatch message. Values in the kernel's layout
 * are sent compact; a message that has its compact form already, or `values`
 * of another length than the keys call for, is sent as it is (transitd
 * refuses what is wrong with its own message).
 */
export function encodeEndpointBatch(m: EndpointBatch): Buffer {
  const count = m.keys.length / EK.size;
  const compacting = !m.compact && Number.isInteger(count) && count > 0 && m.values.length === count * EV.size;
  const compact = compacting ? compactEndpointValues(m.values, count) : m.compact;
  const values = compacting ? Buffer.alloc(0) : m.values; // a message given with both forms goes with both (transitd refuses it)
  const inner = compact ? compactSize(compact) : 0;
  const b = Buffer.allocUnsafe(fieldSize(m.keys) + fieldSize(values) + (compact ? 1 + varintSize(inner) + inner : 0));
  let off = writeBytesField(b, writeBytesField(b, 0, KEYS_TAG, m.keys), VALUES_TAG, values);
  if (compact) {
    // A message field is written even when empty: its presence says which form the values are in.
    b[off++] = COMPACT_TAG;
    off = writeVarint(b, off, inner);
    writeBytesField(b, writeBytesField(b, off, HEADS_TAG, compact.heads), BACKENDS_TAG, compact.backends);
  }
  return b;
}

/**
 * Reads a message's fields as the generated decoder does (the last occurrence
 * wins, unknown and wrong-type fields are skipped, a zero tag or an end-group
 * ends it); onField gets each length-delimited one as a view. `nested`: the
 * bytes are a message field's, where the generated decoder would read a zero
 * tag or an end-group as the end of it and go on reading the outer message
 * from there: such bytes are thrown out instead (no conformant encoder writes
 * them; transitd answers INVALID_ARGUMENT).
 */
function readFields(buf: Uint8Array, onField: (fieldTag: number, bytes: Buffer) => void, nested = false): void {
  const reader = new BinaryReader(buf);
  while (reader.pos < reader.len) {
    const t = reader.uint32();
    if ((t & 7) === WireType.EndGroup || t === 0) {
      if (nested) throw new Error(`EndpointValuesCompact: ${t === 0 ? 'a zero tag' : 'an end-group'} inside the message`);
      break;
    }
    if ((t & 7) !== WireType.LengthDelimited) { reader.skip(t & 7); continue; }
    const bytes = reader.bytes();
    onField(t, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
}

/**
 * An EndpointBatch message decoded as the generated decoder does (but for the
 * malformed nested bytes readFields throws out), every bytes field a view of
 * `buf`, not a copy: the caller owns them with `buf`
 * (transitd writes hosted_ifindex into values in place). Throws on a
 * truncated or malformed message.
 */
export function decodeEndpointBatch(buf: Uint8Array): EndpointBatch {
  const m: EndpointBatch = { keys: Buffer.alloc(0), values: Buffer.alloc(0) };
  readFields(buf, (t, bytes) => {
    if (t === KEYS_TAG) m.keys = bytes;
    else if (t === VALUES_TAG) m.values = bytes;
    else if (t === COMPACT_TAG) {
      // Seen twice, the last wins whole, as in the generated decoder (the protobuf spec merges the two; no
      // conformant encoder splits a field, so the difference never meets a real client).
      const c: EndpointValuesCompact = { heads: Buffer.alloc(0), backends: Buffer.alloc(0) };
      readFields(bytes, (ti, b) => {
        if (ti === HEADS_TAG) c.heads = b;
        else if (ti === BACKENDS_TAG) c.backends = b;
      }, true);
      m.compact = c;
    }
  });
  return m;
}
