// Packet capture: the XDP capture hook (xdpcap style) and libpcap on ordinary
// interfaces, decoded packets, and pcap/pcapng files.
export { Capture, XdpCapture, PcapCapture, hookPath } from './session.js';
export type { CapturedPacket, XdpCaptureOptions, PcapCaptureOptions } from './session.js';
export { XDP_ACTIONS, DEFAULT_SNAPLEN, MAX_SNAPLEN, type XdpAction } from './program.js';
export { decodeFrame, summarizeFrame, type Frame } from './decode.js';
export { createEncoder, PcapEncoder, PcapngEncoder } from './pcap.js';
export type { CaptureFormat, CaptureInterface, PacketRecord, CaptureEncoder } from './pcap.js';
export { compileFilter } from './cbpf.js';
