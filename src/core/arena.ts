/**
 * Typed arrays that live as long as one run, carved out of shared buffers.
 *
 * V8 gives every typed array of more than 64 bytes a backing store of its own outside its heap:
 * an allocation, and an extension that the GC tracks and sweeps, whose external bytes also bring
 * collections forward. Made and dropped in a loop (Node 20 on a 2-vCPU machine)
 * such an array costs about 2.3 µs, a view of a shared buffer 0.35 µs, and an array of 64 bytes
 * or less, which V8 keeps inside its heap, 0.03 µs. A network model makes some twenty per run,
 * which a sweep of 10,000 runs of a few hundred microseconds each would pay in full.
 */

/** the largest typed array V8 keeps inside its heap (V8_TYPED_ARRAY_MAX_SIZE_IN_HEAP) */
const IN_HEAP_BYTES = 64;

export class Arena {
  private buffer = new ArrayBuffer(0);
  private used = 0;

  /** `chunkBytes`: the size of each shared buffer, made when the first array needs it */
  constructor(private readonly chunkBytes: number) {}

  float64(n: number): Float64Array {
    if (n * 8 <= IN_HEAP_BYTES) return new Float64Array(n);
    const at = this.carve(n * 8);
    return new Float64Array(this.buffer, at, n);
  }

  int32(n: number): Int32Array {
    if (n * 4 <= IN_HEAP_BYTES) return new Int32Array(n);
    const at = this.carve(n * 4);
    return new Int32Array(this.buffer, at, n);
  }

  uint32(n: number): Uint32Array {
    if (n * 4 <= IN_HEAP_BYTES) return new Uint32Array(n);
    const at = this.carve(n * 4);
    return new Uint32Array(this.buffer, at, n);
  }

  uint8(n: number): Uint8Array {
    if (n <= IN_HEAP_BYTES) return new Uint8Array(n);
    const at = this.carve(n);
    return new Uint8Array(this.buffer, at, n);
  }

  /**
   * The offset in `this.buffer` of `bytes` free bytes at an 8-byte boundary, which then count as
   * used; the buffer is replaced by a new one when it has no room (so read it after this call).
   */
  private carve(bytes: number): number {
    const start = (this.used + 7) & ~7;
    if (start + bytes <= this.buffer.byteLength) {
      this.used = start + bytes;
      return start;
    }
    this.buffer = new ArrayBuffer(Math.max(this.chunkBytes, bytes));
    this.used = bytes;
    return 0;
  }
}
