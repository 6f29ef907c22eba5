// Installs the fake backend behind Tauri's IPC using @tauri-apps/api/mocks: `invoke` goes to
// FakeBackend.handle, and `listen`/`emit` are mocked so the fake can push `tally://event`.
import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { FakeBackend, type FakeConfig } from "./backend";

export function installFake(cfg: FakeConfig = {}): FakeBackend {
  const fake = new FakeBackend(cfg);
  mockIPC((cmd, args) => fake.handle(cmd, (args ?? {}) as Record<string, unknown>), { shouldMockEvents: true });
  fake.emit = (ev) => {
    void emit("tally://event", ev);
  };
  return fake;
}

export { clearMocks, FakeBackend };
export type { FakeConfig };
