// Builds the browser tests' IPC fake (tests/fake/entry.ts) into one classic script for addInitScript.
import { defineConfig } from "vite";

export default defineConfig({
  logLevel: "warn",
  build: {
    outDir: "test-results/.fake",
    emptyOutDir: true,
    minify: false,
    lib: {
      entry: "tests/fake/entry.ts",
      formats: ["iife"],
      name: "TallyFake",
      fileName: () => "fake-ipc.js",
    },
  },
});
