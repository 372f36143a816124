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
