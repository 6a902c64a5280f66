import { PythonRandom } from "../src/experiment/mt19937.ts";
const r = new PythonRandom(42);
console.log([r.random(), r.random()], r.randbelow(32), r.randbelow(1000), r.randint(1000000, 100000000), r.expovariate(250.0));
