// Bundles the AudioWorklet (src/lib/audio/worklet.ts + the pure pcm module) into public/pcm-worklet.js.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
await build({
  entryPoints: [`${root}src/lib/audio/worklet.ts`],
  outfile: `${root}public/pcm-worklet.js`,
  bundle: true,
  format: "iife",
  target: "es2020",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
});
