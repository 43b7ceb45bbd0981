/**
 * Deliveries of a durable consumer's messages that reached the client but no caller. JetStream
 * counts every delivery, including one that arrives for a consumer being closed and is released
 * again; subtracting these keeps `deliveryCount` and dead-lettering to what callers actually saw.
 * The ledger lives in the process, so a release just before the process exits still counts there.
 */
export class UnseenDeliveries {
  private readonly counts = new Map<number, number>();

  /** Notes that the delivery of `seq` now in hand will never reach a caller. */
  record(seq: number): void {
    this.counts.set(seq, (this.counts.get(seq) ?? 0) + 1);
  }

  /** Deliveries a caller saw, given the server's count for the delivery in hand. */
  seenByCaller(seq: number, serverDeliveries: number): number {
    return serverDeliveries - (this.counts.get(seq) ?? 0);
  }

  /** Forgets a message that is done (acked or dead-lettered). */
  forget(seq: number): void {
    this.counts.delete(seq);
  }
}
