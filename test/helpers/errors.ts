// Asserting on refusals: the typed error a call rejected with.
import * as assert from "uvu/assert";
import { BerthError } from "../../src/model/errors.js";

export async function rejection(call: Promise<unknown>): Promise<BerthError> {
  try {
    await call;
  } catch (err) {
    assert.instance(err, BerthError);
    return err as BerthError;
  }
  throw new Error("expected the call to fail");
}
