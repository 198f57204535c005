import { rpcError, type RateLimiter } from '@parley/platform';

/** One rate limit that failed password checks spend, and what the caller is told once it is empty. */
export interface FailureBudget {
  limiter: RateLimiter;
  subject: string;
  /** e.g. "too many failed logins for this username"; the wait is appended. */
  exhausted: string;
}

/**
 * Runs a password check that only failures pay for: `check` answers null for a failure. A token
 * is taken from every budget before the check, so concurrent guesses can't overspend one, and
 * given back unless the check fails. An empty budget refuses with RESOURCE_EXHAUSTED before any
 * check is made.
 */
export async function checkWithinBudgets<T>(budgets: FailureBudget[], check: () => Promise<T | null>): Promise<T | null> {
  const taken: FailureBudget[] = [];
  const refund = () => Promise.all(taken.map((b) => b.limiter.refund(b.subject)));
  for (const budget of budgets) {
    const decision = await budget.limiter.take(budget.subject);
    if (!decision.allowed) {
      await refund();
      throw rpcError.resourceExhausted(`${budget.exhausted}; retry in ${decision.retryAfterSeconds} s`);
    }
    taken.push(budget);
  }
  const result = await check().catch(async (err: unknown) => {
    await refund();
    throw err;
  });
  if (result !== null) await refund();
  return result;
}
