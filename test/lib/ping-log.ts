// The output of `ping -n -D -O`: when each reply came (and so when its request
// left), and which requests got none, placed in time by ping's own "no answer
// yet" line (printed as the next request leaves, so at or after the lost one
// left). Pure: unit-tested in test/unit/ping-log.test.ts.

export interface PingLog {
  transmitted: number;
  /** icmp_seq -> when its request left (reply time - RTT), unix seconds */
  sent: Map<number, number>;
  /** icmp_seq -> when ping said it had no answer yet, unix seconds */
  noAnswer: Map<number, number>;
}

export function parsePingLog(out: string): PingLog {
  const sent = new Map<number, number>();
  const noAnswer = new Map<number, number>();
  for (const line of out.split('\n')) {
    const reply = /^\[(\d+\.\d+)\] \d+ bytes from [\d.]+: icmp_seq=(\d+) .*time=([\d.]+) ms/.exec(line);
    if (reply) sent.set(Number(reply[2]), Number(reply[1]) - Number(reply[3]) / 1000);
    const none = /^\[(\d+\.\d+)\] no answer yet for icmp_seq=(\d+)/.exec(line);
    if (none) noAnswer.set(Number(none[2]), Number(none[1]));
  }
  const counts = /(\d+) packets transmitted/.exec(out);
  if (!counts) throw new Error(`ping printed no statistics: ${out.slice(-300)}`);
  return { transmitted: Number(counts[1]), sent, noAnswer };
}

export interface LossAroundGap {
  /** lost requests that left before the gap began: never expected */
  before: number[];
  /** lost requests that left during the gap (or ping said so within one interval after it): expected */
  during: number[];
  /** lost requests that left after the gap, or whose loss ping never placed: the ones the gap is to blame for */
  after: number[];
  /** requests answered that left after the gap ended */
  answeredAfter: number;
}

/**
 * Splits the lost requests around a gap [start, end] (unix seconds) in which
 * the destination did not exist. A "no answer yet" line comes as the next
 * request leaves, at least one interval after the lost one; so a loss reported
 * up to one interval after the gap may have left inside it.
 */
export function lossAroundGap(log: PingLog, start: number, end: number, intervalSeconds: number): LossAroundGap {
  const r: LossAroundGap = { before: [], during: [], after: [], answeredAfter: 0 };
  for (let seq = 1; seq <= log.transmitted; seq++) {
    const sent = log.sent.get(seq);
    if (sent !== undefined) {
      if (sent > end) r.answeredAfter++;
      continue;
    }
    const said = log.noAnswer.get(seq);
    if (said === undefined || said > end + intervalSeconds) r.after.push(seq);
    else if (said < start) r.before.push(seq);
    else r.during.push(seq);
  }
  return r;
}
