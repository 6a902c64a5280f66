import { formatDoc } from "../scripts/format-doc.ts";
process.stdout.write(formatDoc());
