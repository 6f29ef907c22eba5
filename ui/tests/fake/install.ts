// Installs the fake backend behind Tauri's IPC using @tauri-apps/api/mocks: `invoke` goes to
// FakeBackend.handle, and `listen`/`emit` are mocked so the fake can push `tally://event`.
import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { FakeBackend, type FakeConfig } from "./backend";

export function installFake(cfg: FakeConfig = {}): FakeBackend {
  const fake = new FakeBackend(cfg);
  mockIPC((cmd, args) => fake.handle(cmd, (args ?? {}) as Record<string, unknown>), { shouldMockEvents: true });
  // `send_file` carries raw bytes and its arguments in headers, which the mock drops: hand both over.
  const internals = (window as unknown as { __TAURI_INTERNALS__: { invoke: (c: string, a: unknown, o?: { headers?: Record<string, string> }) => Promise<unknown> } }).__TAURI_INTERNALS__;
  const mocked = internals.invoke;
  internals.invoke = async (cmd, args, options) => {
    if (cmd.endsWith("|send_file")) return fake.handle(cmd, { bytes: args, headers: options?.headers ?? {} });
    return mocked(cmd, args, options);
  };
  fake.emit = (ev) => {
    void emit("tally://event", ev);
  };
  return fake;
}

export { clearMocks, FakeBackend };
export type { FakeConfig };
