import test from "ava";
import { Arena } from "../src/core/arena.ts";

test("an arena's arrays are zeroed, 8-byte aligned, and never overlap, across buffers", (t) => {
  const arena = new Arena(1000);
  const arrays = [arena.float64(20), arena.uint8(70), arena.int32(30), arena.float64(50), arena.uint32(40), arena.uint8(200), arena.float64(300)];
  const lengths = [20, 70, 30, 50, 40, 200, 300];
  t.deepEqual(
    arrays.map((a) => a.length),
    lengths,
  );
  for (const a of arrays) {
    t.is(a.byteOffset % 8, 0);
    t.true(a.every((v) => v === 0));
  }
  // write a distinct value everywhere, then read every array back whole
  arrays.forEach((a, i) => a.fill(i + 1));
  arrays.forEach((a, i) =>
    t.true(
      a.every((v) => v === i + 1),
      `array ${i} was overwritten`,
    ),
  );
  // arrays beyond the first buffer's room come from a new one; one larger than a chunk gets its own
  t.true(new Set(arrays.map((a) => a.buffer)).size >= 2);
  t.is(arrays[6]!.buffer.byteLength, 300 * 8);
});

test("arrays of 64 bytes or less are arrays of their own (V8 keeps them in its heap)", (t) => {
  const arena = new Arena(4096);
  const small = [arena.float64(8), arena.int32(16), arena.uint32(16), arena.uint8(64)];
  for (const a of small) t.is(a.buffer.byteLength, a.byteLength);
  const shared = [arena.float64(9), arena.uint8(65)];
  t.is(shared[0]!.buffer, shared[1]!.buffer);
  t.is(shared[0]!.buffer.byteLength, 4096);
});
