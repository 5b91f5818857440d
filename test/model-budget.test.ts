// The timeout budget (src/model/budget.ts): every deadline of an operation comes from the one
// budget its request carries, and each inner wait ends before the one around it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FORCE_DELETE_BUDGET, LIFECYCLE_BUDGET, MAX_STOP_GRACE_SECONDS, MAX_TIMER_MS, stopBudget, UNSIZED_STOP } from "../src/model/budget.js";

const STOP_ORDER = ["graceMs", "killMs", "teardownMs", "outcomeMs", "routeDeadlineMs", "clientMs"] as const;

for (const grace of [0, 5, 30, 600, MAX_STOP_GRACE_SECONDS]) {
  test(`a stop with a ${grace} s grace nests each wait inside the next`, () => {
    const budget = stopBudget(grace);
    assert.is(budget.graceMs, grace * 1000, "the grace is the request's, to the ms");
    for (let i = 1; i < STOP_ORDER.length; i++) {
      const inner = STOP_ORDER[i - 1]!;
      const outer = STOP_ORDER[i]!;
      assert.ok(budget[inner] < budget[outer], `${inner} (${budget[inner]}) ends before ${outer} (${budget[outer]})`);
    }
    assert.ok(budget.clientMs <= MAX_TIMER_MS, "every deadline fits one timer");
  });
}

test("a longer grace moves every deadline by the same amount", () => {
  const short = stopBudget(5);
  const long = stopBudget(30);
  for (const key of STOP_ORDER) assert.is(long[key] - short[key], 25_000, key);
});

test("a stop the route cannot size yet is covered by the longest grace the decider allows", () => {
  for (const grace of [0, 5, 30, 600, MAX_STOP_GRACE_SECONDS]) {
    for (const key of STOP_ORDER) assert.ok(stopBudget(grace)[key] <= UNSIZED_STOP[key], `${key} for ${grace} s`);
  }
});

test("a forced delete settles, then stops with SIGKILL, within its route's deadline", () => {
  const kill = stopBudget(0);
  assert.ok(FORCE_DELETE_BUDGET.settleMs < FORCE_DELETE_BUDGET.outcomeMs);
  assert.ok(FORCE_DELETE_BUDGET.outcomeMs - FORCE_DELETE_BUDGET.settleMs >= kill.outcomeMs, "the SIGKILL stop gets its whole budget after the settle");
  assert.ok(FORCE_DELETE_BUDGET.outcomeMs < FORCE_DELETE_BUDGET.routeDeadlineMs);
  assert.ok(FORCE_DELETE_BUDGET.routeDeadlineMs < FORCE_DELETE_BUDGET.clientMs);
});

test("the operations without a grace wait for their outcome within their route's deadline", () => {
  assert.ok(LIFECYCLE_BUDGET.outcomeMs < LIFECYCLE_BUDGET.routeDeadlineMs);
});

test.run();
