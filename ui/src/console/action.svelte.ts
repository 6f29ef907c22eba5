// One operator action's state on a desk: whether it runs, what went wrong (the hub's words) and what
// was done (the sentence the desk shows). Every desk's buttons go through `run`.
import { describe } from "./api";

export class Action {
  busy = $state(false);
  failure = $state<string | null>(null);
  done = $state<string | null>(null);

  /** Runs `work`, whose answer is what the desk says was done; false when it failed (said in `failure`). */
  async run(work: () => Promise<string>): Promise<boolean> {
    this.busy = true;
    this.failure = this.done = null;
    try {
      this.done = await work();
      return true;
    } catch (err) {
      this.failure = describe(err);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
