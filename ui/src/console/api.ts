// The console's calls: the hub's own HTTP API on this origin, with the operator's session token (kept
// in this tab's sessionStorage, gone when the tab closes). A refusal comes back as the hub's message.
import type { Withdrawal } from "../bindings/protocol";

export interface OperatorSession {
  token: string;
  username: string;
  role: "admin" | "support" | "finance" | "auditor";
  tenant_id?: number | null;
}

const KEY = "tally.console.session";

export function savedSession(): OperatorSession | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    return JSON.parse(raw) as OperatorSession;
  } catch {
    return null;
  }
}

export function forget(): void {
  sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: "GET" | "POST", path: string, body?: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let r: Response;
  try {
    r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "network", "The hub can't be reached. Check the connection and try again.");
  }
  const v = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, v?.code ?? "unknown", v?.message ?? `The hub answered ${r.status}.`);
  return v as T;
}

export async function signIn(username: string, password: string, totp: string): Promise<OperatorSession> {
  const v = await call<{ token: string; role: OperatorSession["role"]; tenant_id?: number | null }>("POST", "/v1/operators/sign-in", { username, password, totp });
  const s: OperatorSession = { token: v.token, username, role: v.role, tenant_id: v.tenant_id ?? null };
  sessionStorage.setItem(KEY, JSON.stringify(s));
  return s;
}

export const get = <T>(s: OperatorSession, path: string) => call<T>("GET", path, undefined, s.token);
export const post = <T>(s: OperatorSession, path: string, body: unknown) => call<T>("POST", path, body, s.token);

export const pendingWithdrawals = (s: OperatorSession) =>
  get<{ withdrawals: Withdrawal[]; next_after: number | null }>(s, "/v1/admin/withdrawals?status=pending&limit=500");

/** The currencies the money desks offer. */
export const CURRENCIES = ["USD", "EUR", "GBP", "CHF", "JPY"] as const;

/** The currency's ISO 4217 minor-unit digits, as Intl knows them. */
function digitsOf(currency: string): number {
  return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** Minor units from what an operator typed ("1250.5" USD → 125050), by the currency's ISO 4217 digits. */
export function toMinor(text: string, currency: string): number | null {
  const digits = digitsOf(currency);
  const m = new RegExp(`^(\\d{1,15})(?:\\.(\\d{0,${digits}}))?$`).exec(text.trim().replace(/[,\s]/g, ""));
  if (!m) return null;
  const minor = Number(m[1]) * 10 ** digits + Number((m[2] ?? "").padEnd(digits, "0") || "0");
  return Number.isSafeInteger(minor) && minor > 0 ? minor : null;
}

export function money(minor: number, currency: string): string {
  return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(minor / 10 ** digitsOf(currency));
}

/** Runs `load` now and every `ms` until the returned stop is called (a desk's `$effect` cleanup). */
export function poll(load: () => Promise<void>, ms = 5_000): () => void {
  void load();
  const timer = setInterval(() => void load(), ms);
  return () => clearInterval(timer);
}

export function describe(e: unknown): string {
  return e instanceof ApiError ? e.message : e instanceof Error ? e.message : String(e);
}
