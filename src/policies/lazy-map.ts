/**
 * A read-only map over a fixed list of keys whose values are built on first read, then kept. An
 * MTD set-up draws key material for every one of up to thousands of holders (the draws must all
 * happen, in order, for the run to be reproducible), but a decision reads the values of a few:
 * the source's key point and the K holders it asks. Iterating builds every value.
 */
export class LazyMap<V> implements ReadonlyMap<string, V> {
  readonly #keys: readonly string[];
  readonly #positions: ReadonlyMap<string, number>;
  readonly #build: (index: number) => V;
  readonly #values: Array<V | undefined>;

  /** `positions` maps each of `keys` to its index there (shared by the maps over the same keys) */
  constructor(keys: readonly string[], positions: ReadonlyMap<string, number>, build: (index: number) => V) {
    this.#keys = keys;
    this.#positions = positions;
    this.#build = build;
    this.#values = new Array<V | undefined>(keys.length);
  }

  get size(): number {
    return this.#keys.length;
  }

  has(key: string): boolean {
    return this.#positions.has(key);
  }

  get(key: string): V | undefined {
    const i = this.#positions.get(key);
    return i === undefined ? undefined : this.#at(i);
  }

  #at(i: number): V {
    return (this.#values[i] ??= this.#build(i));
  }

  *entries(): MapIterator<[string, V]> {
    for (let i = 0; i < this.#keys.length; i++) yield [this.#keys[i]!, this.#at(i)];
  }

  keys(): MapIterator<string> {
    return this.#keys.values();
  }

  *values(): MapIterator<V> {
    for (let i = 0; i < this.#keys.length; i++) yield this.#at(i);
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: string, map: ReadonlyMap<string, V>) => void): void {
    for (let i = 0; i < this.#keys.length; i++) fn(this.#at(i), this.#keys[i]!, this);
  }
}
