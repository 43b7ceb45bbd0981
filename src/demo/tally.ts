/** What the demo's producers sent and what the server answered, counted per ingestion path. */

export type IngestPath = 'push' | 'file';

/** Counts of one ingestion path. */
export interface PathTally {
  /** Events sent, including retries and the deliberately bad ones. */
  sent: number;
  /** Events the server stored (its `accepted`). */
  accepted: number;
  /** Events the server dropped because an identical event was already stored. */
  duplicates: number;
  /** Events in requests the server refused with 400. */
  rejected: number;
  /** Events in requests that failed otherwise (server busy, network): neither stored nor refused. */
  failed: number;
  /** Requests answered 200. */
  requests: number;
}

/** One kind of refusal: the field the server named, one of its messages, and how many events got it. */
export interface Rejection {
  field: string;
  example: string;
  count: number;
}

/** The running totals every producer adds to. */
export class Tally {
  readonly paths: Record<IngestPath, PathTally> = { push: emptyPath(), file: emptyPath() };
  private readonly rejections = new Map<string, Rejection>();
  private readonly failures = new Map<string, number>();

  /** Records a 200 answer (a file's quarantined rows go to `rejected` instead). */
  ok(path: IngestPath, sent: number, accepted: number, duplicates: number): void {
    const p = this.paths[path];
    p.sent += sent;
    p.accepted += accepted;
    p.duplicates += duplicates;
    p.requests += 1;
  }

  /** Records refused events, grouped by the field named (messages quote the bad value, so differ). */
  rejected(path: IngestPath, sent: number, field: string, message: string): void {
    this.paths[path].sent += sent;
    this.paths[path].rejected += sent;
    const known = this.rejections.get(field) ?? { field, example: message, count: 0 };
    known.count += sent;
    this.rejections.set(field, known);
  }

  /** Records any other failure, grouped by its reason. */
  failed(path: IngestPath, sent: number, reason: string): void {
    this.paths[path].sent += sent;
    this.paths[path].failed += sent;
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + sent);
  }

  /** Totals over every path. */
  total(): PathTally {
    const sum = emptyPath();
    for (const p of Object.values(this.paths)) {
      for (const key of Object.keys(sum) as (keyof PathTally)[]) sum[key] += p[key];
    }
    return sum;
  }

  /** Refusals, most frequent first. */
  rejectionList(): Rejection[] {
    return [...this.rejections.values()].sort((a, b) => b.count - a.count);
  }

  /** Other failures, by reason. */
  failureList(): { reason: string; count: number }[] {
    return [...this.failures].map(([reason, count]) => ({ reason, count }));
  }
}

function emptyPath(): PathTally {
  return { sent: 0, accepted: 0, duplicates: 0, rejected: 0, failed: 0, requests: 0 };
}
