/** A wake-up call many waiters can await: `fire()` resolves every pending `wait()`. */
export class Signal {
  private resolve: () => void = () => {};
  private current = this.renew();

  /** Resolves at the next `fire()`. */
  wait(): Promise<void> {
    return this.current;
  }

  /** Wakes everyone waiting now; later waiters wait for the next fire. */
  fire(): void {
    this.resolve();
    this.current = this.renew();
  }

  private renew(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.resolve = resolve;
    });
  }
}
