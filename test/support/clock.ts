/**
 * A clock for the local stack that runs with real time but can be moved forward, so tests
 * can stand at any point of a stay while pacing and timeouts keep working.
 */
export class TestClock {
  private offsetMs = 0;
  constructor(start?: string) {
    if (start) this.offsetMs = Date.parse(start) - Date.now();
  }
  readonly now = (): number => Date.now() + this.offsetMs;
  /** Moves the clock to an instant (forward only: pacing state never goes backwards). */
  set(instant: string): void {
    const target = Date.parse(instant);
    if (Number.isNaN(target)) throw new Error(`bad instant ${instant}`);
    if (target < this.now()) throw new Error(`the test clock only moves forward (to ${instant})`);
    this.offsetMs = target - Date.now();
  }
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    if (ms < 0) throw new Error('the test clock only moves forward');
    this.offsetMs += ms;
  }
}
