/**
 * A function of one number that remembers its last argument and result. A host brings all its
 * VMs up to now at once, mostly over the same interval, so each VM's exponentials come up with
 * the same argument many times in a row. +0 and -0 compare equal but are told apart:
 * `Math.expm1` keeps their sign.
 */
export class LastResultCache {
  readonly #f: (x: number) => number;
  /** NaN equals nothing, so the first call works it out. */
  #argument = NaN;
  #result = 0;

  constructor(f: (x: number) => number) {
    this.#f = f;
  }

  of(x: number): number {
    if (x !== this.#argument || (x === 0 && 1 / x !== 1 / this.#argument)) {
      this.#argument = x;
      this.#result = this.#f(x);
    }
    return this.#result;
  }
}
