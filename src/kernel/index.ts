export { Simulator, Signal, Process, Watch } from "./simulator.ts";
export type { Callback, EventId, Yieldable, Waitable, ProcessBody } from "./simulator.ts";
export { MinHeap } from "./heap.ts";
