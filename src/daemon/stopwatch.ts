// Budgets (src/model/budget.ts) give deadlines from an operation's start; a stopwatch turns one
// into the time a wait that begins now may still take.

/** Ms left until `untilMs` after the stopwatch started; at least 1, so a spent budget times out instead of waiting unbounded. */
export function stopwatch(): (untilMs: number) => number {
  const started = performance.now();
  return (untilMs) => Math.max(1, Math.ceil(untilMs - (performance.now() - started)));
}
