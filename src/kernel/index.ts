export { Simulator, Signal, Process, Watch } from "./simulator.ts";
export type { EventId, Waitable, ProcessBody } from "./simulator.ts";
export { MinHeap } from "./heap.ts";
