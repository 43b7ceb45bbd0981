/** The async iteration both consumers share: hand out messages until there are none, then close. */
import type { StreamMessage } from './port.js';

/** Yields what `take` returns until it returns null; closes the consumer however the loop ends. */
export async function* iterateUntilClosed(
  take: () => Promise<StreamMessage | null>,
  close: () => Promise<void>,
): AsyncGenerator<StreamMessage> {
  try {
    for (;;) {
      const message = await take();
      if (!message) return;
      yield message;
    }
  } finally {
    await close();
  }
}
