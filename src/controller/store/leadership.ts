// Leadership among controllers that share one store: only the leader writes
// the store and programs hosts; the others stand by until it goes.
import type { FenceToken } from '../../transitd/client.js';

export interface Leadership {
  /** this controller's id (what the leader key holds while it leads) */
  readonly id: string;
  /** the lease's time to live: a leader that dies loses it within this */
  readonly leaseMs: number;
  /** true while this controller holds the lease */
  readonly leading: boolean;
  /**
   * This controller's latest leadership, the fencing token its calls carry to
   * hosts (src/transitd/fence.ts): the store's epoch (an id its first leader
   * drew) and a term every later leadership of the store exceeds. Undefined
   * before it first leads.
   */
  readonly fence: FenceToken | undefined;
  /** Called with true when this controller becomes leader, false when it stops. */
  onChange(fn: (leading: boolean) => void): void;
  /** Whether this controller leads within `ms`. */
  whenLeading(ms: number): Promise<boolean>;
  /** the id of the controller that leads now, if any */
  leader(): Promise<string | undefined>;
}
