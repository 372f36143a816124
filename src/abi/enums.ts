// Enums and flag words of native/bpf/xvpc.h (test/btf.test.ts checks the enums).

/** enum xvpc_ep_type */
export enum EndpointType { SIMPLE = 0, SCALED = 1, HOST = 2, GATEWAY = 3 }

/** The EndpointType a number names, or undefined (numbers from the wire or a packed batch). */
export function endpointTypeOf(n: number): EndpointType | undefined {
  switch (n) {
    case 0: return EndpointType.SIMPLE;
    case 1: return EndpointType.SCALED;
    case 2: return EndpointType.HOST;
    case 3: return EndpointType.GATEWAY;
    default: return undefined;
  }
}

/** vpc_value.flags: XVPC_VPC_F_* */
export const VPC_F_DIRECT_PATH = 0x1;
/** agent_meta_value.flags: XVPC_AGENT_F_* (set by the data plane itself) */
export const AGENT_F_SCALED_BACKEND = 0x1;

/** enum xvpc_sg_dir */
export enum SgDir { INGRESS = 0, EGRESS = 1 }
/** enum xvpc_sg_proto: the IP protocol a rule allows (0: any) */
export enum SgProto { ANY = 0, ICMP = 1, TCP = 6, UDP = 17 }
/** sg_cidr_value.protos: XVPC_SG_PB_* */
export const SG_PROTO_BIT: Record<SgProto, number> = { [SgProto.ANY]: 0x1, [SgProto.ICMP]: 0x2, [SgProto.TCP]: 0x4, [SgProto.UDP]: 0x8 };
/** enum xvpc_ct_state */
export enum CtState { NEW = 0, ESTABLISHED = 1, CLOSING = 2, CLOSED = 3 }
