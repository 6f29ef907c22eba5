import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { svelteTesting } from "@testing-library/svelte/vite";

// The app runs inside Tauri's WebView with a strict CSP (no eval, no remote content): everything is
// bundled from this package, and asset URLs are relative so `ui/dist` works from any origin.
export default defineConfig({
  plugins: process.env.VITEST ? [svelte(), svelteTesting()] : [svelte()],
  base: "./",
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
    host: "localhost",
    watch: { ignored: ["**/test-results/**"] },
  },
  preview: { port: 4173, strictPort: false },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // The one chunk over 800 kB is zxcvbn's English dictionaries (@zxcvbn-ts/language-en, 1.2 MB), loaded
    // only when someone types a new password (lib/strength.ts); the main bundle stays far below.
    chunkSizeWarningLimit: 1300,
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts", "tests/unit/**/*.test.ts"],
    setupFiles: ["tests/unit/setup.ts"],
    restoreMocks: true,
  },
});
