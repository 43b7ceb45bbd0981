/**
 * The demo's distribution shift, applied halfway through the predictions: the action mix moves from
 * views to refunds (the categorical field) and refund amounts triple (the numeric field), while the
 * share and amounts of purchases stay as they were. Every model input is built from `amount`, so the
 * shift is chosen where only one of them can see it: `user_activity:amount` carries the sign and size
 * of a refund, but `user_spend:clipped_amount` clips views and refunds alike to 0 and
 * `user_spend:is_large_purchase` only looks at purchases, so those two keep their distribution.
 *
 * The events after the shift are the training set's own amounts, dealt rather than drawn (evenly
 * spaced ranks of its sorted values, shuffled over the users), then shifted: 3 in 7 views become
 * refunds (of log-normal amounts dealt at evenly spaced quantiles, tripled) and every refund
 * triples. So what the model inputs blind to refunds see after the shift is the training set's own
 * distribution to within one rank, and what the monitor finds comes from the shift, not from how a
 * few hundred draws of a heavy-tailed amount happen to fall (enough, now and then, to cross the
 * default drift threshold on their own).
 */
import { normSf } from '../monitoring/stats/special.js';
import { ACTIONS, type ActivityEvent, ActivityGenerator, AMOUNT_MEDIAN, AMOUNT_SIGMA } from './generator.js';
import { seededRandom } from './random.js';

/** The action mix after the shift: views give way to refunds, purchases keep their share. */
export const SHIFTED_ACTIONS = { view: 40, purchase: 25, refund: 35 } as const;
/** Refund amounts are multiplied by this after the shift. */
export const REFUND_FACTOR = 3;

/** What the shift does, in the summary's words, and which model inputs it moves. */
export const SHIFT = {
  categorical: `action: 3 in 7 views become refunds (${mix(ACTIONS)} -> ${mix(SHIFTED_ACTIONS)})`,
  numeric: `amount: refunds x${REFUND_FACTOR}`,
  drifting: ['user_activity:amount'],
  stable: ['user_spend:clipped_amount', 'user_spend:is_large_purchase'],
} as const;

function mix(weights: Readonly<Record<string, number>>): string {
  return Object.entries(weights)
    .map(([action, w]) => `${action} ${w}%`)
    .join(' / ');
}

/**
 * One shifted event for each of users 1..users, stamped `nowMs`, from the training set's non-null
 * `amount` values; the same amounts and seed deal the same events.
 */
export function shiftedEvents(
  trainingAmounts: readonly number[],
  users: number,
  seed: number,
  nowMs: number,
): ActivityEvent[] {
  const sorted = Float64Array.from(trainingAmounts).sort();
  const dealt = Array.from({ length: users }, (_, k) => {
    const amount = sorted[Math.floor(((k + 0.5) * sorted.length) / users)]!;
    const action = amount > 0 ? 'purchase' : amount < 0 ? 'refund' : 'view';
    return { action, amount: action === 'refund' ? cents(amount * REFUND_FACTOR) : amount };
  });
  const views = dealt.filter((d) => d.action === 'view');
  const converted = Math.round((views.length * (ACTIONS.view - SHIFTED_ACTIONS.view)) / ACTIONS.view);
  views.slice(0, converted).forEach((view, k) => {
    const value = AMOUNT_MEDIAN * Math.exp(AMOUNT_SIGMA * normalQuantile((k + 0.5) / converted));
    view.action = 'refund';
    view.amount = -cents(cents(value) * REFUND_FACTOR);
  });
  const random = seededRandom(seed + 4_000_037);
  for (let i = dealt.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [dealt[i], dealt[j]] = [dealt[j]!, dealt[i]!];
  }
  // The generator gives each event the rest of its fields (a country) as the traffic has them.
  const generator = new ActivityGenerator({ users, seed: seed + 4_000_037 });
  const ts = new Date(nowMs).toISOString();
  return dealt.map((d, i) => ({ ...generator.event(nowMs), user_id: i + 1, ...d, ts }));
}

/** The values the model inputs take for an event, as the churn example's views compute them. */
export function inputsOf(event: ActivityEvent): Record<string, number> {
  return {
    'user_activity:amount': event.amount,
    'user_spend:clipped_amount': Math.min(Math.max(event.amount, 0), 1000),
    'user_spend:is_large_purchase': event.action === 'purchase' && event.amount >= 500 ? 1 : 0,
  };
}

/** The standard normal quantile, by bisection on the survival function (plenty fast for a few thousand). */
export function normalQuantile(q: number): number {
  let lo = -10;
  let hi = 10;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (1 - normSf(mid) < q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function cents(value: number): number {
  return Math.round(value * 100) / 100;
}
