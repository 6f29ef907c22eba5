// Browser-test init script (bundled to an IIFE by vite.fake.config.ts and injected with Playwright's
// addInitScript before the app loads). Config comes from `window.__TALLY_FAKE_CONFIG__` or the
// `?fake=<json>` query parameter. The fake is exposed as `window.__tallyFake` for tests to drive.
import type { FakeBackend, FakeConfig } from "./backend";
import { installFake } from "./install";

declare global {
  interface Window {
    __TALLY_FAKE_CONFIG__?: FakeConfig;
    __tallyFake?: FakeBackend;
  }
}

function config(): FakeConfig {
  const q = new URLSearchParams(location.search).get("fake");
  if (q) {
    try {
      return JSON.parse(q) as FakeConfig;
    } catch {
      /* ignore */
    }
  }
  return window.__TALLY_FAKE_CONFIG__ ?? {};
}

window.__tallyFake = installFake(config());
