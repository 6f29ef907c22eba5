// An in-memory stand-in for the Rust side, implementing every command of docs/IPC.md over fake data,
// and emitting `tally://event` like the engine does (changed / conn / toast). Typed against the generated
// bindings so it cannot drift from the contract. Used by vitest (via mockIPC) and by the browser tests
// (bundled as an init script, see tests/fake/entry.ts).
import type {
  AppEvent,
  OpenedLink,
  UpdateCheck,
  AppLockState,
  CommandErrorCode,
  BalancePoint,
  BalanceView,
  Change,
  CommandError,
  ConnState,
  CounterpartySpend,
  DemoInfo,
  LimitsView,
  MessageView,
  OutboxItem,
  Prefs,
  RoomView,
  AskMoney,
  SplitBill,
  WithdrawMoney,
  SearchResults,
  SendMoney,
  SessionInfo,
  SyncProgress,
  TransferView,
  TxCursor,
  TxFilter,
  TxPage,
  TxRow,
  UnreadCounts,
} from "../../src/bindings/app";
import type {
  KycLevel,
  Limits,
  Money,
  Notification,
  PresenceStatus,
  Room,
  RoomKind,
  Transaction,
  TxKind,
  UserSummary,
  Withdrawal,
} from "../../src/bindings/protocol";
import { FakeAccounts, type FakeAccount, type FakePolicy } from "./accounts";
import { FakeFiles } from "./files";
import { FakeRequests } from "./requests";

export interface FakeConfig {
  /** The tenant's compliance rule: a payment over this many minor units waits for a review. */
  reviewOver?: number;
  /** The operator's deposit instructions (default: none published yet). */
  depositInstructions?: string;
  /** The tenant's file limit the hub announces, in bytes (default 25 MiB). */
  fileLimit?: number;
  /** Generated history rows (default 2,000). */
  rows?: number;
  signedIn?: boolean;
  conn?: ConnState;
  /** "Now" for the generated data (default Date.now()). */
  now?: number;
  /** Milliseconds before state changes like transfer progress (default 250). */
  tick?: number;
  /** History download: transaction rows fetched so far and the hub's total (null: unknown). Default: complete. */
  backfill?: { fetched: number; total: number | null };
  /** The user's own transfer limits (minor units of each currency); null: not known yet (never connected). */
  limits?: { single_max: number; daily_max: number } | null;
  /** Sent today per currency, before the test starts (minor units). */
  sentToday?: Record<string, number>;
  /** Messages in the "Flatmates" group room (default 120; the typing-latency test loads 5,000). */
  roomMessages?: number;
  /** Sign-up policy per server address; any other server: open, two-factor not required, 12 characters. */
  servers?: Record<string, Partial<FakePolicy>>;
  /** Usernames with two-factor already on (code FAKE_TOTP, recovery codes FAKE_RECOVERY). */
  twoFactor?: string[];
  /** `conn_state` answers this much later than asked (default 0). */
  connStateLagMs?: number;
  /** History's reads (`transactions`, `balance_history`, `spending_by_counterparty`) answer this much later,
   * as over a million cached rows (default 0); `inFlight`/`maxInFlight` count them per command. */
  historyLagMs?: number;
  /** Servers that do not answer (as `https://unreachable.example` never does). */
  unreachable?: string[];
  /** The signed-in session's server requires two-factor and the account has none (found by `two_factor_status`). */
  mustEnrol?: boolean;
  /** The app lock is on with this PIN (and minutes, default 5). A lock that is on starts locked. */
  appLock?: { pin: string; after_minutes?: number };
  /** Payment requests to start with: bob asks the user for $12.00, the user asked carol for $5.00. */
  requests?: boolean;
  /** Pictures bob sent in the user's conversation with him, newest last (on top of its messages). */
  pictures?: number;
}

/** A 1×1 PNG: what a picture's bytes are in the fake. */
const TINY_PNG = Uint8Array.from(atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="), (c) => c.charCodeAt(0));

/** Wrong PINs in a row before the engine signs out and deletes this device's data. */
export const MAX_PIN_ATTEMPTS = 10;

/** What works while the app lock is locked (crates/client/src/engine/app_lock.rs): everything else is `locked`. */
const UNLOCKED_COMMANDS = new Set([
  "session",
  "conn_state",
  "app_lock_state",
  "unlock",
  "lock_now",
  "set_app_lock",
  "set_locale",
  // The way out (and the sign-in screen, should the lock outlive a sign-out: it is this device's).
  "sign_out",
  "demo_info",
  "sign_in",
  "registration_info",
  "sign_up",
]);

const DEFAULT_LIMITS = { single_max: 500_000, daily_max: 2_000_000 };

export const DEMO_PASSWORD = "tally-demo";
export const XSS_TEXT = "<img src=x onerror=alert(1)> is not a picture";

const U = (id: number, username: string, display_name: string): UserSummary => ({ id, username, display_name });
export const USERS: UserSummary[] = [
  U(1, "alice", "Alice Adams"),
  U(2, "bob", "Bob Brown"),
  U(3, "carol", "Carol Chen"),
  U(4, "dave", "Dave Diaz"),
  U(5, "erin", "Erin Evans"),
];
const byName = (u: string) => USERS.find((x) => x.username === u);

const MEMOS = ["Pizza 🍕", "Rent share", "Coffee", "Groceries", "Concert tickets", "Taxi home", "Dinner", "Book club", "Birthday gift", "Utilities", "Lunch", "Cinema"];
const KINDS: TxKind[] = ["transfer_in", "transfer_out", "deposit", "withdrawal"];

/** The engine's destination rule (`tally_protocol::destination`): an IBAN's check digits, grouped by four. */
function fakeDestination(input: string): string {
  const text = input.trim();
  if (!text) throw err("invalid_input", "enter where the money should go");
  const compact = text.replace(/ /g, "").toUpperCase();
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/.test(compact)) return text;
  const digits = (compact.slice(4) + compact.slice(0, 4)).replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let rest = 0;
  for (const d of digits) rest = (rest * 10 + Number(d)) % 97;
  if (rest !== 1) throw err("invalid_input", "this IBAN's check digits do not match: look for a mistyped character");
  return compact.replace(/(.{4})(?=.)/g, "$1 ");
}

function err(code: CommandErrorCode, message: string): CommandError {
  return { code, message };
}

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

export class FakeBackend {
  calls: { cmd: string; args: Record<string, unknown> }[] = [];
  emit: (ev: AppEvent) => void = () => {};
  me: UserSummary = USERS[0];
  session: SessionInfo | null;
  conn: ConnState;
  prefs: Prefs = { muted_kinds: [], quiet_hours: null, transfer_expiry_secs: 300, theme: "system", keep_chat_history: true, keep_running: true, file_cache_mb: 500 };
  loginItem = false;
  connStateLagMs = 0;
  historyLagMs = 0;
  inFlight: Record<string, number> = {};
  maxInFlight: Record<string, number> = {};
  /** What the update feed offers, and what installing does ("bad_signature": refused as the plugin refuses). */
  update: UpdateCheck = { current: "0.1.0", available: null };
  updateOutcome: "installed" | "bad_signature" = "installed";
  updatesInstalled = 0;
  /** The tally:// link the engine holds until the UI takes it (as it would after reading one). */
  pendingLink: OpenedLink | null = null;
  /** The language the engine and shell were told (set_locale). */
  shellLanguage: "en" | "de" | null = null;
  /** The money style the engine was told (set_locale). */
  moneyStyle: unknown = null;
  openLink(l: OpenedLink): void {
    this.pendingLink = l;
    this.emit({ type: "link_waiting" });
  }
  readonly now: number;
  readonly tick: number;

  // history: generated rows (index 0 newest) + rows added live (newest first)
  readonly n: number;
  private kind: Uint8Array;
  private amount: Int32Array;
  private cp: Uint8Array;
  private memo: Uint8Array;
  private bal: Float64Array;
  private step: number;
  extra: Transaction[] = [];
  private filterCache = new Map<string, number[]>();

  available = 0;
  pending = 0;
  eur = 84_250;
  /** Open transfers: in flight, queued and failed (what `transfers_open` returns). */
  transfers: TransferView[] = [];
  /** Completed transfers, still findable by `transfer_status`. */
  settled: TransferView[] = [];
  userLimits: { single_max: number; daily_max: number } | null;
  /** The tenant's file limit (welcome's `attachment_max_bytes`). */
  fileLimit: number;
  depositInstructions: string;
  reviewOver: number | null;
  private held: { tv: TransferView; id: number } | null = null;
  /** The user's identity check (welcome's `kyc_level`). */
  kycLevel: KycLevel = "none";
  /** Sent today per currency (minor units): completed outgoing transfers, as the engine counts them. */
  sentToday: Record<string, number>;
  private nextTransfer = 500;
  private nextOutbox = 1;
  rooms: { room: Room; unread: number; presence: PresenceStatus | null; lastSeen: number | null; typing: UserSummary[]; messages: MessageView[] }[] = [];
  /** Every status set with `set_presence`, in order. */
  presenceSet: PresenceStatus[] = [];
  /** Make `set_presence` fail with this code (e.g. "offline"); null: succeed. */
  presenceError: CommandErrorCode | null = null;
  /** The last CSV written through `save_history_csv`. */
  savedCsv: string | null = null;
  private nextMsg = 10_000;
  notes: Notification[] = [];
  syncState: SyncProgress;
  /** Users, passwords, two-factor, devices and each server's sign-up policy (tests/fake/accounts.ts). */
  accounts: FakeAccounts;
  /** The app lock, as the engine keeps it: the PIN (kept hashed there), minutes, locked, wrong PINs in a row. */
  lock: { pin: string | null; afterMinutes: number; locked: boolean; failures: number } = { pin: null, afterMinutes: 5, locked: false, failures: 0 };

  /** Payment requests (tests/fake/requests.ts). */
  requests = new FakeRequests({
    me: () => this.me,
    live: () => this.conn.state === "live",
    user: byName,
    pay: (to, amount, memo) => this.sendMoney({ to: to.username, amount, memo }),
    requestsChanged: () => this.changed({ topic: "requests" }),
    postCard: (room, sender, card, text) => this.postCard(room, sender, card, text),
    notify: (title, body, id) => {
      this.notify({ kind: "payment_request", priority: "normal", title, body, target: { kind: "request", id } });
      this.emit({ type: "toast", kind: "payment_request", title, body });
      this.changed({ topic: "notifications" });
    },
  });

  /** Files and pictures (tests/fake/files.ts). */
  files = new FakeFiles({
    me: () => this.me,
    live: () => this.conn.state === "live",
    tick: () => this.tick,
    cap: () => this.prefs.file_cache_mb,
    maxFile: () => this.hubLimits().attachment_max_bytes,
    messages: (room) => this.roomOf(room).messages,
    nextOutbox: () => this.nextOutbox++,
    nextSeq: (room) => Math.max(0, ...this.roomOf(room).messages.map((m) => m.message.seq)) + 1,
    changed: (room) => this.changed({ topic: "messages", room }, { topic: "rooms" }, { topic: "outbox" }),
    emit: (ev) => this.emit(ev),
  });

  constructor(cfg: FakeConfig = {}) {
    this.now = cfg.now ?? Date.now();
    this.tick = cfg.tick ?? 250;
    this.userLimits = cfg.limits === undefined ? { ...DEFAULT_LIMITS } : cfg.limits && { ...cfg.limits };
    this.sentToday = { ...(cfg.sentToday ?? {}) };
    this.fileLimit = cfg.fileLimit ?? 25 * 1024 * 1024;
    this.depositInstructions = cfg.depositInstructions ?? "";
    this.reviewOver = cfg.reviewOver ?? null;
    this.accounts = new FakeAccounts(USERS, DEMO_PASSWORD, this.now);
    for (const [server, p] of Object.entries(cfg.servers ?? {})) this.accounts.setPolicy(server, p);
    for (const u of cfg.twoFactor ?? []) this.accounts.enableTwoFactor(u);
    for (const s of cfg.unreachable ?? []) this.accounts.unreachable.add(s);
    this.connStateLagMs = cfg.connStateLagMs ?? 0;
    this.historyLagMs = cfg.historyLagMs ?? 0;
    this.session =
      cfg.signedIn === false
        ? null
        : { server: "http://127.0.0.1:8787", user: this.me, secret_store: "keychain", limits: this.hubLimits(), must_enrol_two_factor: false };
    if (this.session) {
      this.accounts.resume(this.me.username);
      if (cfg.mustEnrol) this.accounts.setPolicy(this.session.server, { require_two_factor: true });
    }
    this.conn = cfg.conn ?? (this.session ? { state: "live", latency_ms: 23 } : { state: "offline", since: null });
    if (cfg.appLock) this.lock = { pin: cfg.appLock.pin, afterMinutes: cfg.appLock.after_minutes ?? 5, locked: true, failures: 0 };
    this.n = cfg.rows ?? 2000;
    const n = this.n;
    this.kind = new Uint8Array(n);
    this.amount = new Int32Array(n);
    this.cp = new Uint8Array(n);
    this.memo = new Uint8Array(n);
    this.bal = new Float64Array(n);
    this.step = Math.max(60_000, Math.floor((400 * 86_400_000) / Math.max(1, n)));
    const rnd = prng(42);
    let balance = 250_000;
    for (let i = n - 1; i >= 0; i--) {
      const r = rnd();
      let k: number;
      if (balance < 40_000 || r < 0.06) k = 2;
      else if (r < 0.4) k = 0;
      else if (r < 0.94) k = 1;
      else k = 3;
      const amt =
        k === 2 ? 150_000 + Math.floor(rnd() * 150_000) : k === 3 ? 2_000 + Math.floor(rnd() * 30_000) : 300 + Math.floor(rnd() * 14_700);
      balance += k === 0 || k === 2 ? amt : -amt;
      this.kind[i] = k;
      this.amount[i] = amt;
      this.cp[i] = 1 + Math.floor(rnd() * 4);
      this.memo[i] = Math.floor(rnd() * MEMOS.length);
      this.bal[i] = balance;
    }
    this.available = n ? this.bal[0] : 123_456;
    this.seedRooms(cfg.roomMessages ?? 120);
    this.seedNotes();
    if (cfg.requests) {
      this.requests.incoming("bob", 1_200, "Cinema 🎬", 3 * 86_400_000);
      this.requests.ask({ key: "seed", from: "carol", amount: { minor: 500, currency: "USD" }, memo: "Coffee", expires_at: null });
    }
    if (cfg.pictures) {
      const bob = byName("bob") ?? USERS[1];
      const room = this.rooms.find((r) => r.room.kind === "direct" && r.room.members.some((u) => u.id === bob.id));
      for (let i = 0; room && i < cfg.pictures; i++) this.files.incoming(room.room.id, bob, `photo-${i + 1}.png`, TINY_PNG, 400 + (i % 3) * 100, 300);
    }
    this.syncState = this.syncOf(cfg.backfill?.fetched ?? this.n, cfg.backfill === undefined ? this.n : cfg.backfill.total);
  }

  // ---------- history download ----------

  /** Notifications and chat are complete; transactions have `fetched` of `total` (complete once all are in). */
  private syncOf(fetched: number, total: number | null): SyncProgress {
    const done = total !== null && fetched >= total;
    const parts: SyncProgress["parts"] = [
      { kind: "transactions", room: null, fetched, total, complete: done },
      { kind: "notifications", room: null, fetched: this.notes.length, total: this.notes.length, complete: true },
      ...this.rooms.map((r) => ({ kind: "messages" as const, room: r.room.id, fetched: r.messages.length, total: r.messages.length, complete: true })),
    ];
    const sum = parts.reduce((s, x) => s + x.fetched, 0);
    const all = parts.every((x) => x.total !== null) ? parts.reduce((s, x) => s + (x.total ?? 0), 0) : null;
    return { parts, fetched: sum, total: all, complete: done };
  }

  /** The download moved on: what the engine's backfill does, then a `sync` change. */
  backfill(fetched: number, total: number | null): void {
    this.syncState = this.syncOf(fetched, total);
    this.changed({ topic: "sync" });
  }

  // ---------- history ----------

  private gen(i: number): Transaction {
    const k = KINDS[this.kind[i]];
    const transfer = k === "transfer_in" || k === "transfer_out";
    const tx: Transaction = {
      id: this.n - i,
      kind: k,
      direction: k === "transfer_in" || k === "deposit" ? "in" : "out",
      amount: { minor: this.amount[i], currency: "USD" },
      balance_after: this.bal[i],
      memo: transfer ? MEMOS[this.memo[i]] : k === "deposit" ? "Salary" : "Cash withdrawal",
      status: i === 2 ? "processing" : i === 6 ? "failed" : "completed",
      created_at: this.now - 60_000 - i * this.step,
    };
    if (transfer) {
      tx.counterparty = USERS[this.cp[i]];
      tx.transfer_id = 100_000 + this.n - i;
    }
    return tx;
  }

  get total(): number {
    return this.extra.length + this.n;
  }

  rowAt(index: number): Transaction {
    return index < this.extra.length ? this.extra[index] : this.gen(index - this.extra.length);
  }

  private matches(tx: Transaction, f: TxFilter): boolean {
    if (f.from !== null && tx.created_at < f.from) return false;
    if (f.to !== null && tx.created_at > f.to) return false;
    if (f.direction !== null && tx.direction !== f.direction) return false;
    if (f.kinds.length && !f.kinds.includes(tx.kind)) return false;
    if (f.currency !== null && tx.amount.currency !== f.currency) return false;
    if (f.min_minor !== null && tx.amount.minor < f.min_minor) return false;
    if (f.max_minor !== null && tx.amount.minor > f.max_minor) return false;
    const who = tx.counterparty ? `${tx.counterparty.username} ${tx.counterparty.display_name}`.toLowerCase() : "";
    if (f.counterparty !== null && !who.includes(f.counterparty.toLowerCase())) return false;
    if (f.search !== null) {
      const q = f.search.toLowerCase();
      if (!tx.memo.toLowerCase().includes(q) && !who.includes(q)) return false;
    }
    return true;
  }

  private isEmpty(f: TxFilter): boolean {
    return (
      f.from === null &&
      f.to === null &&
      f.direction === null &&
      f.kinds.length === 0 &&
      f.counterparty === null &&
      f.min_minor === null &&
      f.max_minor === null &&
      f.currency === null &&
      f.search === null
    );
  }

  private filtered(f: TxFilter): number[] {
    const key = JSON.stringify(f);
    let idx = this.filterCache.get(key);
    if (!idx) {
      idx = [];
      for (let i = 0; i < this.total; i++) if (this.matches(this.rowAt(i), f)) idx.push(i);
      this.filterCache.set(key, idx);
    }
    return idx;
  }

  private before(tx: Transaction, c: TxCursor): boolean {
    return tx.created_at < c.created_at || (tx.created_at === c.created_at && tx.id < c.id);
  }

  transactions(filter: TxFilter, cursor: TxCursor | null, limit: number): TxPage {
    const lim = Math.max(1, Math.min(limit, 5000));
    const rows: TxRow[] = [];
    if (this.isEmpty(filter)) {
      let start = 0;
      if (cursor) {
        const k = this.extra.findIndex((t) => this.before(t, cursor));
        if (k >= 0) start = k;
        else {
          // generated row i has id n - i: the first row after the cursor
          const i = Math.max(0, this.n - cursor.id + 1);
          start = this.extra.length + Math.min(i, this.n);
          while (start < this.total && !this.before(this.rowAt(start), cursor)) start++;
        }
      }
      for (let i = start; i < Math.min(this.total, start + lim); i++) rows.push({ tx: this.rowAt(i), stale: false });
      const end = start + rows.length;
      return { rows, next: end < this.total && rows.length ? this.cursorOf(rows[rows.length - 1].tx) : null, total: this.total };
    }
    const idx = this.filtered(filter);
    let pos = 0;
    if (cursor) {
      let lo = 0;
      let hi = idx.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.before(this.rowAt(idx[mid]), cursor)) hi = mid;
        else lo = mid + 1;
      }
      pos = lo;
    }
    for (let p = pos; p < Math.min(idx.length, pos + lim); p++) rows.push({ tx: this.rowAt(idx[p]), stale: false });
    const end = pos + rows.length;
    return { rows, next: end < idx.length && rows.length ? this.cursorOf(rows[rows.length - 1].tx) : null, total: idx.length };
  }

  private cursorOf(tx: Transaction): TxCursor {
    return { created_at: tx.created_at, id: tx.id };
  }

  private matchingOldestFirst(f: TxFilter, cap = 20_000): Transaction[] {
    const out: Transaction[] = [];
    if (this.isEmpty(f)) {
      const stride = Math.max(1, Math.floor(this.total / cap));
      for (let i = this.total - 1; i >= 0; i -= stride) out.push(this.rowAt(i));
      if (this.total && out[out.length - 1] !== this.rowAt(0)) out.push(this.rowAt(0));
      return out;
    }
    const idx = this.filtered(f);
    for (let p = idx.length - 1; p >= 0; p--) out.push(this.rowAt(idx[p]));
    return out;
  }

  balanceHistory(currency: string, f: TxFilter): BalancePoint[] {
    const list = this.matchingOldestFirst(f).filter((t) => t.amount.currency === currency);
    const stride = Math.max(1, Math.ceil(list.length / 500));
    const pts: BalancePoint[] = [];
    for (let i = 0; i < list.length; i += stride) pts.push({ ts: list[i].created_at, balance_minor: list[i].balance_after });
    return pts;
  }

  spending(f: TxFilter): CounterpartySpend[] {
    const map = new Map<number, CounterpartySpend>();
    for (const t of this.matchingOldestFirst(f, 50_000)) {
      if (!t.counterparty) continue;
      let s = map.get(t.counterparty.id);
      if (!s) map.set(t.counterparty.id, (s = { counterparty: t.counterparty, out_minor: 0, in_minor: 0, count: 0 }));
      if (t.direction === "out") s.out_minor += t.amount.minor;
      else s.in_minor += t.amount.minor;
      s.count++;
    }
    return [...map.values()].sort((a, b) => b.out_minor - a.out_minor);
  }

  csv(f: TxFilter): string {
    const page = this.transactions(f, null, 5000);
    const esc = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    const lines = ["date,counterparty,memo,kind,direction,amount,currency,balance_after,status"];
    for (const { tx } of page.rows) {
      lines.push(
        [new Date(tx.created_at).toISOString(), tx.counterparty?.username ?? "", esc(tx.memo), tx.kind, tx.direction, String(tx.amount.minor), tx.amount.currency, String(tx.balance_after), tx.status].join(","),
      );
    }
    return lines.join("\n") + "\n";
  }

  balances(): BalanceView[] {
    const asOf = this.conn.state === "live" ? this.now : this.now - 10 * 60_000;
    return [
      { balance: { currency: "USD", available: this.available, pending: this.pending, as_of: asOf }, as_of: asOf },
      { balance: { currency: "EUR", available: this.eur, pending: 0, as_of: asOf }, as_of: asOf },
    ];
  }

  /** Money arrives from someone (what a hub event would cause). */
  incomingPayment(from: string, minor: number, memo: string): void {
    const who = byName(from) ?? USERS[1];
    this.available += minor;
    this.addTx({ kind: "transfer_in", direction: "in", minor, memo, counterparty: who, status: "completed" });
    this.notify({ kind: "payment", priority: "normal", title: `${who.display_name} paid you ${(minor / 100).toFixed(2)} USD`, body: memo, target: { kind: "transaction", id: this.extra[0].id } });
    this.emit({ type: "toast", kind: "payment", title: `${who.display_name} paid you ${(minor / 100).toFixed(2)} USD`, body: memo });
    this.changed({ topic: "balances" }, { topic: "transactions" }, { topic: "notifications" });
  }

  private addTx(p: { kind: TxKind; direction: "in" | "out"; minor: number; memo: string; counterparty?: UserSummary; status: Transaction["status"]; transfer_id?: number }): Transaction {
    const tx: Transaction = {
      id: this.n + this.extra.length + 1,
      kind: p.kind,
      direction: p.direction,
      amount: { minor: p.minor, currency: "USD" },
      balance_after: this.available,
      memo: p.memo,
      status: p.status,
      created_at: Math.max(Date.now(), (this.extra[0]?.created_at ?? this.now) + 1),
      counterparty: p.counterparty,
      transfer_id: p.transfer_id,
    };
    this.extra.unshift(tx);
    this.filterCache.clear();
    return tx;
  }

  // ---------- limits ----------

  /** The limits of `welcome` (the session's); before any is known the hub's defaults. */
  private hubLimits(): Limits {
    const l = this.userLimits ?? DEFAULT_LIMITS;
    return { max_frame_bytes: 65536, max_subscriptions: 256, rate_per_sec: 50, burst: 100, transfer_single_max: l.single_max, transfer_daily_max: l.daily_max, attachment_max_bytes: this.fileLimit, kyc_level: this.kycLevel };
  }

  /** What the engine's `limits` computes: the user's limits and what is left today per currency held or sent. */
  limitsView(): LimitsView {
    const l = this.userLimits;
    const sent_today: Money[] = Object.entries(this.sentToday)
      .filter(([, minor]) => minor > 0)
      .map(([currency, minor]) => ({ minor, currency }));
    const currencies = [...new Set([...this.balances().map((b) => b.balance.currency), ...sent_today.map((m) => m.currency)])].sort();
    return {
      single_max: l?.single_max ?? null,
      daily_max: l?.daily_max ?? null,
      sent_today,
      remaining_today: l ? currencies.map((currency) => ({ minor: Math.max(0, l.daily_max - (this.sentToday[currency] ?? 0)), currency })) : [],
    };
  }

  /** Why the hub would refuse this amount now (`limit_exceeded`), or null. */
  private overLimit(amount: Money): string | null {
    const l = this.userLimits;
    if (!l) return null;
    if (amount.minor > l.single_max) return `single transfer limit is ${l.single_max} minor units`;
    const left = l.daily_max - (this.sentToday[amount.currency] ?? 0);
    if (amount.minor > left) return `daily limit: ${Math.max(0, left)} ${amount.currency} minor units left today`;
    return null;
  }

  /** The user sent money from another device: it counts against today's limit here too. */
  sentFromAnotherDevice(minor: number, to = "carol", memo = "Sent from my phone"): void {
    const who = byName(to) ?? USERS[2];
    this.sentToday.USD = (this.sentToday.USD ?? 0) + minor;
    this.available -= minor;
    this.addTx({ kind: "transfer_out", direction: "out", minor, memo, counterparty: who, status: "completed" });
    this.changed({ topic: "balances" }, { topic: "transactions" });
  }

  // ---------- withdrawals ----------

  private withdrawals: Withdrawal[] = [];

  /** As the engine and hub: the IBAN rule (mod 97), then a hold and a pending line; retries by key. */
  withdraw(req: WithdrawMoney): Withdrawal {
    if (this.conn.state !== "live") throw err("offline", "you are offline");
    if (req.amount.minor <= 0) throw err("invalid_input", "the amount must be more than zero");
    const destination = fakeDestination(req.destination);
    const seen = this.withdrawals.find((w) => w.transaction_id === this.withdrawKeys.get(req.key));
    if (seen) return structuredClone(seen);
    if (req.amount.minor > this.available) throw err("insufficient_funds", `available balance is ${(this.available / 100).toFixed(2)} USD`);
    this.available -= req.amount.minor;
    this.pending += req.amount.minor;
    const line = this.addTx({ kind: "withdrawal", direction: "out", minor: req.amount.minor, memo: destination, status: "pending" });
    const t = Date.now();
    const w: Withdrawal = { id: 900 + this.withdrawals.length, user: this.me, amount: req.amount, destination, status: "pending", transaction_id: line.id, created_at: t, updated_at: t };
    this.withdrawals.push(w);
    this.withdrawKeys.set(req.key, line.id);
    this.changed({ topic: "balances" }, { topic: "transactions" });
    return structuredClone(w);
  }
  private withdrawKeys = new Map<string, number>();

  /** Finance paid the newest pending withdrawal out or rejected it (the hub's events and notification). */
  decideWithdrawal(approve: boolean, reason = ""): void {
    const w = [...this.withdrawals].reverse().find((x) => x.status === "pending");
    if (!w) throw new Error("no pending withdrawal");
    w.status = approve ? "completed" : "rejected";
    this.pending -= w.amount.minor;
    if (!approve) this.available += w.amount.minor;
    const line = this.extra.find((x) => x.id === w.transaction_id);
    if (line) Object.assign(line, { status: approve ? "completed" : "failed", balance_after: this.available });
    this.filterCache.clear();
    const amount = `${(w.amount.minor / 100).toFixed(2)} ${w.amount.currency}`;
    const title = approve ? `Withdrawal of ${amount} paid out` : `Withdrawal of ${amount} rejected`;
    const body = approve ? `Sent to ${w.destination}` : `${reason} The money is back in your balance.`;
    this.notify({ kind: "withdrawal", priority: approve ? "normal" : "high", title, body, target: { kind: "transaction", id: w.transaction_id } });
    this.emit({ type: "toast", kind: "withdrawal", title, body });
    this.changed({ topic: "balances" }, { topic: "transactions" }, { topic: "notifications" });
  }

  /** Support set the user's identity check: the hub's `limits` event with the level's limits. */
  setKyc(level: KycLevel, limits: { single_max: number; daily_max: number }): void {
    this.kycLevel = level;
    this.setLimits(limits);
  }

  /** The hub announced new limits for this user (a new `welcome`). */
  setLimits(limits: { single_max: number; daily_max: number } | null): void {
    this.userLimits = limits && { ...limits };
    if (this.session) this.session = { ...this.session, limits: this.hubLimits() };
    this.changed({ topic: "session" });
  }

  // ---------- transfers ----------

  sendMoney(req: SendMoney): TransferView {
    const to = byName(req.to);
    if (!to) throw err("not_found", `no user named ${req.to}`);
    if (to.id === this.me.id) throw err("invalid_input", "you cannot send money to yourself"); // the engine's words
    if (!Number.isInteger(req.amount.minor) || req.amount.minor <= 0) throw err("invalid", "amount must be positive");
    if (req.amount.currency !== "USD") throw err("insufficient_funds", `available balance is 0 ${req.amount.currency} minor units`);
    if (req.amount.minor > this.available) throw err("insufficient_funds", `available balance is ${this.available} USD minor units`);
    const over = this.overLimit(req.amount);
    if (over) throw err("limit_exceeded", over);
    const live = this.conn.state === "live";
    const id = this.nextTransfer++;
    const key = `idem-${id}`;
    const t = Date.now();
    const tv: TransferView = {
      transfer: { id: live ? id : 0, from: this.me, to, amount: req.amount, memo: req.memo, status: "pending", progress: 0, idempotency_key: key, created_at: t, updated_at: t },
      local: live ? { state: "sent" } : { state: "pending" },
      outbox_id: live ? null : this.nextOutbox++,
      expires_at: live ? null : t + this.prefs.transfer_expiry_secs * 1000,
    };
    this.transfers.push(tv);
    if (live) this.runTransfer(tv, id);
    if (live && req.room != null) this.postCard(req.room, this.me, { kind: "transfer", id, to, amount: req.amount }, req.memo);
    this.changed({ topic: "transfers" }, { topic: "outbox" });
    return structuredClone(tv);
  }

  private runTransfer(tv: TransferView, id: number): void {
    const amt = tv.transfer.amount.minor;
    const over = this.overLimit(tv.transfer.amount);
    if (over) {
      // A queued payment that no longer fits today's limit: the hub refuses it when it goes out.
      tv.local = { state: "failed", reason: "This is over your transfer limit.", code: "limit_exceeded" };
      this.changed({ topic: "transfers" }, { topic: "outbox" });
      return;
    }
    tv.transfer.id = id;
    tv.local = { state: "sent" };
    tv.outbox_id = null;
    tv.expires_at = null;
    this.available -= amt;
    this.pending += amt;
    if (this.reviewOver !== null && amt > this.reviewOver) {
      // The hub holds it for the operator's review: nothing moves on until `releaseReview`.
      tv.transfer.status = "review";
      this.held = { tv, id };
      this.changed({ topic: "transfers" }, { topic: "balances" }, { topic: "outbox" });
      return;
    }
    this.changed({ topic: "transfers" }, { topic: "balances" }, { topic: "outbox" });
    this.proceed(tv, id, amt);
  }

  /** The operator released the held payment: it goes on like any other. */
  releaseReview(): void {
    const h = this.held;
    if (!h) throw new Error("nothing held");
    this.held = null;
    h.tv.transfer.status = "pending";
    this.changed({ topic: "transfers" });
    this.proceed(h.tv, h.id, h.tv.transfer.amount.minor);
  }

  private proceed(tv: TransferView, id: number, amt: number): void {
    setTimeout(() => {
      tv.transfer.status = "processing";
      tv.transfer.progress = 50;
      this.changed({ topic: "transfers" });
      setTimeout(() => {
        this.pending -= amt;
        tv.transfer.status = "completed";
        tv.transfer.progress = 100;
        tv.transfer.updated_at = Date.now();
        this.transfers = this.transfers.filter((x) => x !== tv);
        this.settled.push(tv);
        this.requests.settled(id);
        // Like the engine, today's total counts the outgoing transactions (re-read on `transactions`).
        this.sentToday[tv.transfer.amount.currency] = (this.sentToday[tv.transfer.amount.currency] ?? 0) + amt;
        this.addTx({ kind: "transfer_out", direction: "out", minor: amt, memo: tv.transfer.memo, counterparty: tv.transfer.to, status: "completed", transfer_id: id });
        // The hub's text for the sender (ledger.rs): its own money format, the memo as the body.
        this.emit({ type: "toast", kind: "transfer", title: `${(amt / 100).toFixed(2)} USD sent to ${tv.transfer.to.display_name}`, body: tv.transfer.memo });
        this.changed({ topic: "transfers" }, { topic: "balances" }, { topic: "transactions" });
      }, this.tick * 2);
    }, this.tick);
  }

  outbox(): OutboxItem[] {
    const items: OutboxItem[] = [];
    for (const tv of this.transfers) {
      if (tv.outbox_id === null || tv.local.state === "sent") continue;
      items.push({
        id: tv.outbox_id,
        kind: "transfer",
        queue: "transfers",
        local: tv.local,
        created_at: tv.transfer.created_at,
        expires_at: tv.expires_at,
        attempts: 0,
        summary: `$${(tv.transfer.amount.minor / 100).toFixed(2)} to ${tv.transfer.to.username}`,
      });
    }
    for (const r of this.rooms) {
      for (const m of r.messages) {
        if (m.outbox_id === null || m.local.state === "sent") continue;
        items.push({ id: m.outbox_id, kind: "message", queue: `room:${r.room.id}`, local: m.local, created_at: m.message.sent_at, expires_at: null, attempts: 1, summary: `message in ${r.room.name}` });
      }
    }
    return items;
  }

  retryOutbox(id: number): void {
    const tv = this.transfers.find((t) => t.outbox_id === id);
    if (tv) {
      if (this.conn.state === "live") this.runTransfer(tv, this.nextTransfer++);
      else tv.local = { state: "pending" };
      this.changed({ topic: "transfers" }, { topic: "outbox" });
      return;
    }
    for (const r of this.rooms) {
      const m = r.messages.find((x) => x.outbox_id === id);
      if (m) {
        m.local = { state: "pending" };
        this.changed({ topic: "messages", room: r.room.id }, { topic: "outbox" });
        setTimeout(() => this.deliver(r.room.id, m), this.tick);
        return;
      }
    }
    throw err("not_found", "no such outbox item");
  }

  discardOutbox(id: number): void {
    this.discarding = true;
    const before = this.transfers.length;
    this.transfers = this.transfers.filter((t) => t.outbox_id !== id);
    if (this.transfers.length !== before) {
      this.changed({ topic: "transfers" }, { topic: "outbox" });
      return;
    }
    for (const r of this.rooms) {
      const k = r.messages.findIndex((x) => x.outbox_id === id);
      if (k >= 0) {
        r.messages.splice(k, 1);
        this.changed({ topic: "messages", room: r.room.id }, { topic: "rooms" }, { topic: "outbox" });
        return;
      }
    }
    this.discarding = false;
    throw err("not_found", "no such outbox item");
  }

  // ---------- chat ----------

  private seedRooms(groupSize: number): void {
    const [alice, bob, carol] = USERS;
    const day = 86_400_000;
    const mk = (room: number, seq: number, sender: UserSummary, text: string, at: number, extra: Partial<MessageView["message"]> = {}, readBy: UserSummary[] = []): MessageView => ({
      message: { id: room * 1000 + seq, room, seq, client_msg_id: `seed-${room}-${seq}`, sender, text, mentions: [], sent_at: at, deleted: false, reactions: [], ...extra },
      local: { state: "sent" },
      outbox_id: null,
      read_by: readBy,
      card: null,
    });
    const t = this.now;
    const dm: MessageView[] = [
      mk(7, 1, bob, "Hey Alice! Are we still on for pizza on Friday?", t - day - 3_600_000),
      mk(7, 2, alice, "Yes! I'll book a table for 8.", t - day - 3_500_000, {}, [bob]),
      mk(7, 3, bob, "Perfect 🍕", t - day - 3_400_000, { reactions: [{ emoji: "👍", users: [1] }] }),
      mk(7, 4, alice, "I sent you my share for last time", t - 2 * 3_600_000, { edited_at: t - 2 * 3_600_000 + 60_000 }, [bob]),
      mk(7, 5, bob, "Thanks, got it!", t - 2 * 3_500_000),
      mk(7, 6, bob, "", t - 3_000_000, { deleted: true }),
      mk(7, 7, bob, XSS_TEXT, t - 20 * 60_000),
      mk(7, 8, bob, "Also @alice can you check the rent split?", t - 10 * 60_000, { mentions: [1] }),
    ];
    const group: MessageView[] = [];
    for (let i = 1; i <= groupSize; i++) {
      const sender = USERS[i % 3];
      group.push(mk(8, i, sender, i === groupSize ? "Who's buying milk? 🥛" : `Flat chat message ${i}`, t - (groupSize + 1 - i) * 15 * 60_000, {}, sender.id === 1 ? [bob, carol] : []));
    }
    const dm2: MessageView[] = [mk(9, 1, carol, "See you at book club!", t - 3 * day)];
    this.rooms = [
      { room: { id: 7, kind: "direct", name: "Bob Brown", members: [alice, bob], created_at: t - 30 * day }, unread: 2, presence: "online", lastSeen: null, typing: [], messages: dm },
      { room: { id: 8, kind: "group", name: "Flatmates", members: [alice, bob, carol], admins: [alice.id], created_at: t - 60 * day }, unread: 0, presence: null, lastSeen: null, typing: [], messages: group },
      { room: { id: 9, kind: "direct", name: "Carol Chen", members: [alice, carol], created_at: t - 90 * day }, unread: 0, presence: "offline", lastSeen: t - 3 * 3_600_000, typing: [], messages: dm2 },
    ];
  }

  private roomOf(id: number) {
    const r = this.rooms.find((x) => x.room.id === id);
    if (!r) throw err("not_found", `no room ${id}`);
    return r;
  }

  roomViews(): RoomView[] {
    return this.rooms
      .map((r) => ({ room: r.room, unread: r.unread, last_message: r.messages[r.messages.length - 1] ?? null, presence: r.presence, last_seen: r.lastSeen, typing: r.typing }))
      .sort((a, b) => (b.last_message?.message.sent_at ?? b.room.created_at) - (a.last_message?.message.sent_at ?? a.room.created_at))
      .sort((a, b) => Number(!!b.room.pinned) - Number(!!a.room.pinned)); // pinned first, as the engine
  }

  messages(room: number, beforeSeq: number | null, limit: number): MessageView[] {
    const r = this.roomOf(room);
    const sent = r.messages.filter((m) => m.local.state === "sent");
    const local = r.messages.filter((m) => m.local.state !== "sent");
    const older = beforeSeq === null ? sent : sent.filter((m) => m.message.seq < beforeSeq);
    const page = older.slice(Math.max(0, older.length - limit));
    const out = structuredClone(beforeSeq === null ? [...page, ...local] : page);
    for (const mv of out) mv.card = this.cardState(mv.message.card);
    return out;
  }

  /** Where a card's payment or request stands, as the engine reads it from its cache. */
  private cardState(card: MessageView["message"]["card"]): MessageView["card"] {
    if (!card) return null;
    if (card.kind === "transfer") {
      const tv = [...this.transfers, ...this.settled].find((x) => x.transfer.id === card.id);
      return tv ? { kind: "transfer", status: tv.transfer.status } : null;
    }
    if (card.kind === "split") {
      // As the engine: only the requests this user is party to (the one who split it holds them all).
      const mine = (x: { requester: UserSummary; payer: UserSummary }) => x.requester.id === this.me.id || x.payer.id === this.me.id;
      const requests = this.requests.list.filter((x) => mine(x) && card.shares.some((s) => s.request === x.id));
      return requests.length ? { kind: "split", requests: structuredClone(requests) } : null;
    }
    const r = this.requests.list.find((x) => x.id === card.id);
    return r ? { kind: "request", request: structuredClone(r) } : null;
  }

  /** A payment or request card posted in `room` by `sender` (what the hub does with a `room`). */
  postCard(room: number, sender: UserSummary, card: NonNullable<MessageView["message"]["card"]>, text: string): void {
    const r = this.roomOf(room);
    const seq = Math.max(0, ...r.messages.map((m) => m.message.seq)) + 1;
    r.messages.push({
      message: { id: room * 1000 + seq, room, seq, client_msg_id: `${card.kind}:${card.kind === "split" ? card.shares[0]?.request : card.id}`, sender, text, mentions: [], sent_at: Date.now(), deleted: false, reactions: [], card },
      local: { state: "sent" },
      outbox_id: null,
      read_by: [],
      card: null,
    });
    this.changed({ topic: "messages", room }, { topic: "rooms" });
  }

  sendMessage(room: number, text: string): MessageView {
    const r = this.roomOf(room);
    if (!text.trim()) throw err("invalid_input", "empty message");
    const cid = `c-${this.nextMsg++}`;
    const mentions = r.room.members.filter((u) => text.includes(`@${u.username}`)).map((u) => u.id);
    const mv: MessageView = {
      message: { id: 0, room, seq: 0, client_msg_id: cid, sender: this.me, text, mentions, sent_at: Date.now(), deleted: false, reactions: [] },
      local: { state: "pending" },
      outbox_id: this.nextOutbox++,
      read_by: [],
      card: null,
    };
    r.messages.push(mv);
    this.changed({ topic: "messages", room }, { topic: "rooms" }, { topic: "outbox" });
    if (this.conn.state === "live") setTimeout(() => this.deliver(room, mv), this.tick);
    return structuredClone(mv);
  }

  private deliver(room: number, mv: MessageView): void {
    const r = this.roomOf(room);
    if (mv.message.text.includes("fail!")) {
      mv.local = { state: "failed", reason: "The server rejected this message.", code: "invalid" };
    } else {
      const seq = Math.max(0, ...r.messages.map((m) => m.message.seq)) + 1;
      mv.message.seq = seq;
      mv.message.id = room * 1000 + seq;
      mv.local = { state: "sent" };
      mv.outbox_id = null;
      r.messages = [...r.messages.filter((m) => m !== mv), mv];
    }
    this.changed({ topic: "messages", room }, { topic: "rooms" }, { topic: "outbox" });
  }

  incomingMessage(room: number, from: string, text: string): void {
    const r = this.roomOf(room);
    const sender = byName(from) ?? USERS[1];
    const seq = Math.max(0, ...r.messages.map((m) => m.message.seq)) + 1;
    r.messages.push({
      message: { id: room * 1000 + seq, room, seq, client_msg_id: `in-${room}-${seq}`, sender, text, mentions: [], sent_at: Date.now(), deleted: false, reactions: [] },
      local: { state: "sent" },
      outbox_id: null,
      read_by: [],
      card: null,
    });
    r.unread++;
    r.typing = r.typing.filter((u) => u.id !== sender.id);
    this.emit({ type: "toast", kind: "message", title: sender.display_name, body: text });
    this.changed({ topic: "messages", room }, { topic: "rooms" });
  }

  /** A tenant-wide announcement (the hub's `broadcast`): a notification and its toast. */
  broadcast(title: string, body: string, priority: Notification["priority"] = "critical"): void {
    this.notify({ kind: "system", priority, title, body });
    this.emit({ type: "toast", kind: "system", title, body });
    this.changed({ topic: "notifications" });
  }

  /** A `toast` event as the engine sends it (e.g. the same one delivered twice). */
  toast(kind: Notification["kind"], title: string, body: string): void {
    this.emit({ type: "toast", kind, title, body });
  }

  /** A direct room's other member changed status (what a presence ephemeral would cause). */
  setPresenceOf(room: number, presence: PresenceStatus, lastSeen: number | null = null): void {
    const r = this.roomOf(room);
    r.presence = presence;
    r.lastSeen = presence === "offline" ? lastSeen : null;
    this.changed({ topic: "presence" });
  }

  /** Someone changes their display name — any text, bidi controls included: the hub does not police it. */
  setDisplayName(username: string, displayName: string): void {
    const u = byName(username);
    if (!u) return;
    u.display_name = displayName;
    for (const r of this.rooms) if (r.room.kind === "direct" && r.room.members.some((m) => m.id === u.id)) r.room.name = displayName;
    this.filterCache.clear();
    this.changed({ topic: "rooms" }, { topic: "transactions" }, ...this.rooms.map((r) => ({ topic: "messages" as const, room: r.room.id })));
  }

  /** Something went wrong outside any command (the keychain refused the session, ...). */
  problem(code: CommandErrorCode, message: string): void {
    this.emit({ type: "problem", error: err(code, message) });
  }

  setTypingOf(room: number, from: string, active: boolean): void {
    const r = this.roomOf(room);
    const u = byName(from) ?? USERS[1];
    r.typing = active ? [...r.typing.filter((x) => x.id !== u.id), u] : r.typing.filter((x) => x.id !== u.id);
    this.changed({ topic: "typing", room });
  }

  private findMsg(room: number, id: number): MessageView {
    const m = this.roomOf(room).messages.find((x) => x.message.id === id);
    if (!m) throw err("not_found", "no such message");
    return m;
  }

  // ---------- notifications ----------

  private nextNote = 400;
  private notify(n: Omit<Notification, "id" | "read" | "created_at">): void {
    this.notes.unshift({ ...n, id: this.nextNote++, read: false, created_at: Date.now() });
  }

  private seedNotes(): void {
    const t = this.now;
    const mk = (id: number, kind: Notification["kind"], priority: Notification["priority"], title: string, body: string, ago: number, read = false, target?: Notification["target"]): Notification => ({
      id,
      kind,
      priority,
      title,
      body,
      read,
      created_at: t - ago,
      ...(target ? { target } : {}),
    });
    this.notes = [
      mk(310, "mention", "normal", "Bob mentioned you", "Also @alice can you check the rent split?", 10 * 60_000, false, { kind: "room", id: 7, message: 7008 }),
      mk(309, "payment", "normal", "Bob paid you 12.00 USD", "Rent share", 40 * 60_000, false, { kind: "transaction", id: this.n }),
      mk(308, "security", "critical", "New sign-in from Linux", "If this wasn't you, sign out everywhere and change your password.", 90 * 60_000),
      mk(307, "transfer", "low", "8.50 USD sent to Carol Chen", "Lunch", 3 * 3_600_000, true),
      mk(306, "limits", "high", "You're close to your daily limit", "You have 120.00 USD left to send today.", 26 * 3_600_000),
      mk(305, "system", "normal", "Maintenance tonight", "Transfers pause 02:00-02:10 UTC.", 28 * 3_600_000, true),
      mk(304, "deposit", "normal", "Deposit of 2400.00 USD", "Salary", 3 * 86_400_000, true),
    ];
  }

  private notesSorted(): Notification[] {
    const day = (ms: number) => new Date(ms).toDateString();
    return [...this.notes].sort((a, b) => {
      if (day(a.created_at) !== day(b.created_at)) return b.created_at - a.created_at;
      const ca = a.priority === "critical" ? 0 : 1;
      const cb = b.priority === "critical" ? 0 : 1;
      return ca - cb || b.created_at - a.created_at;
    });
  }

  unread(): UnreadCounts {
    return { notifications: this.notes.filter((n) => !n.read).length, chat: this.rooms.reduce((s, r) => s + (r.room.muted ? 0 : r.unread), 0) }; // muted rooms: not in the badge
  }

  // ---------- connection ----------

  setConn(conn: ConnState): void {
    this.conn = conn;
    this.emit({ type: "conn", conn });
    if (conn.state === "live") {
      // Queued work goes out on reconnect.
      for (const tv of this.transfers) if (tv.local.state === "pending" && tv.outbox_id !== null) this.runTransfer(tv, this.nextTransfer++);
      for (const r of this.rooms) for (const m of r.messages) if (m.local.state === "pending") setTimeout(() => this.deliver(r.room.id, m), this.tick);
    }
  }

  changed(...changes: Change[]): void {
    // Like the engine: the outbox is told by typed updates, the other topics as changes.
    if (changes.some((c) => c.topic === "outbox")) this.outboxUpdates();
    const rest = changes.filter((c) => c.topic !== "outbox");
    if (rest.length) this.emit({ type: "changed", changes: rest });
  }

  /** The outbox as the UI last heard of it, to tell it what moved since. */
  private lastOutbox = new Map<number, OutboxItem>();
  /** Set by `discardOutbox`: an item that leaves now was dropped, not sent. */
  private discarding = false;

  /** The engine's typed updates for whatever moved in the outbox since the last ones. */
  private outboxUpdates(): void {
    const now = new Map(this.outbox().map((o) => [o.id, o]));
    for (const [id, was] of this.lastOutbox) {
      const is = now.get(id);
      if (!is) this.emit({ type: "outbox", update: this.discarding ? { update: "discarded", id } : { update: "sent", id } });
      else if (is.local.state === "failed" && was.local.state !== "failed") this.emit({ type: "outbox", update: { update: "failed", id, local: is.local } });
      else if (is.local.state === "pending" && was.local.state === "failed") this.emit({ type: "outbox", update: { update: "retrying", id, expires_at: is.expires_at } });
    }
    for (const [id, item] of now) if (!this.lastOutbox.has(id)) this.emit({ type: "outbox", update: { update: "queued", item } });
    this.lastOutbox = now;
    this.discarding = false;
  }

  // ---------- accounts ----------

  /** Every `sign_out`, in order. */
  signOuts: { wipe: boolean }[] = [];

  private startSession(server: string, account: FakeAccount, mustEnrol: boolean): SessionInfo {
    this.me = account.user;
    this.session = { server, user: account.user, secret_store: "keychain", limits: this.hubLimits(), must_enrol_two_factor: mustEnrol };
    this.conn = { state: "connecting" };
    setTimeout(() => {
      this.setConn({ state: "live", latency_ms: 23 });
      this.changed({ topic: "session" }); // the hub's welcome (limits): the UI re-reads `session`
    }, this.tick);
    return structuredClone(this.session);
  }

  private serverOf(): string {
    return this.session?.server ?? "";
  }

  /** The signed-in account, for the commands that go to the hub over HTTP: they need the network. */
  private online(): FakeAccount {
    if (this.conn.state === "offline") throw err("offline", "you're offline");
    if (this.conn.state === "backing_off") throw err("network", "couldn't reach the server (connection refused)");
    const acct = this.accounts.account(this.me.username);
    if (!acct) throw err("not_signed_in", "sign in first");
    return acct;
  }

  // ---------- the app lock ----------

  appLockState(): AppLockState {
    const l = this.lock;
    return { enabled: l.pin !== null, locked: l.pin !== null && l.locked, after_minutes: l.afterMinutes, attempts_left: MAX_PIN_ATTEMPTS - Math.min(l.failures, MAX_PIN_ATTEMPTS) };
  }

  setAppLock(pin: string | null, afterMinutes: number, current: string | null): void {
    if (this.lock.pin !== null && current !== this.lock.pin) throw err("invalid_input", "the current PIN is wrong");
    if (pin === null) {
      this.lock = { pin: null, afterMinutes: 5, locked: false, failures: 0 };
      return;
    }
    if (!/^\d{4,12}$/.test(pin)) throw err("invalid_input", "the PIN is 4 to 12 digits");
    if (!Number.isInteger(afterMinutes) || afterMinutes < 1 || afterMinutes > 240) throw err("invalid_input", "lock after 1 to 240 minutes");
    this.lock = { ...this.lock, pin, afterMinutes, failures: 0 };
  }

  unlock(pin: string): void {
    const l = this.lock;
    if (l.pin === null) return;
    if (pin === l.pin) {
      l.locked = false;
      l.failures = 0;
      this.changed({ topic: "lock" });
      return;
    }
    l.failures++;
    if (l.failures >= MAX_PIN_ATTEMPTS) {
      this.signOut(true);
      l.locked = false;
      l.failures = 0;
      throw err("auth", "ten wrong PINs: you were signed out and this device's data was deleted");
    }
    throw err("locked", `wrong PIN; ${MAX_PIN_ATTEMPTS - l.failures} attempts left before this device's data is deleted`);
  }

  /** `lock_now`, or the window was out of sight for the lock's minutes (the engine locks on its return). */
  lockNow(): void {
    if (this.lock.pin === null) return;
    this.lock.locked = true;
    this.changed({ topic: "lock" });
  }

  private signOut(wipe: boolean): void {
    this.signOuts.push({ wipe });
    this.accounts.endDevice(this.accounts.account(this.me.username));
    this.session = null;
    this.setConn({ state: "offline", since: null });
    this.changed({ topic: "session" });
  }

  /** A history read's answer, `historyLagMs` later, counted while it is on its way. */
  private lagged<T>(name: string, value: T): T | Promise<T> {
    if (!this.historyLagMs) return value;
    this.inFlight[name] = (this.inFlight[name] ?? 0) + 1;
    this.maxInFlight[name] = Math.max(this.maxInFlight[name] ?? 0, this.inFlight[name]);
    return new Promise((r) =>
      setTimeout(() => {
        this.inFlight[name]--;
        r(value);
      }, this.historyLagMs),
    );
  }

  // ---------- the command table ----------

  handle(cmd: string, args: Record<string, unknown> = {}): unknown {
    this.calls.push({ cmd, args });
    const name = cmd.startsWith("plugin:tally|") ? cmd.slice("plugin:tally|".length) : cmd;
    const a = args as Record<string, never>;
    // (The app lock is this device's, not the account's: its commands work signed out too.)
    const needSession = !["demo_info", "sign_in", "registration_info", "sign_up", "session", "conn_state", "app_lock_state", "set_app_lock", "unlock", "lock_now"].includes(name);
    if (needSession && !this.session) throw err("not_signed_in", "sign in first");
    if (this.lock.pin !== null && this.lock.locked && !UNLOCKED_COMMANDS.has(name)) throw err("locked", "Tally is locked: enter your PIN");
    switch (name) {
      case "demo_info": {
        const server = a.server as string;
        if (!/^https?:\/\//.test(server)) throw err("invalid_input", "not a URL");
        if (this.accounts.unreachable.has(server.trim().replace(/\/+$/, ""))) throw err("network", "couldn't reach the server (connection refused)");
        return { demo: true, users: ["alice", "bob", "carol"], password: DEMO_PASSWORD } satisfies DemoInfo;
      }
      case "sign_in": {
        const { account, mustEnrol } = this.accounts.signIn(a.server as string, a.username as string, a.password as string, (a.code as string | null) ?? null);
        return this.startSession(a.server as string, account, mustEnrol);
      }
      case "registration_info":
        return this.accounts.registrationInfo(a.server as string);
      case "sign_up": {
        const { account, mustEnrol } = this.accounts.signUp(a.server as string, a.username as string, a.display_name as string, a.password as string, (a.invite as string | null) ?? null);
        return this.startSession(a.server as string, account, mustEnrol);
      }
      case "session":
        // The engine's `session` does not know about two-factor enrolment (docs/IPC.md): always false.
        return this.session ? { ...structuredClone(this.session), must_enrol_two_factor: false } : null;
      case "sign_out":
        this.signOut(a.wipe as boolean);
        return null;
      case "app_lock_state":
        return this.appLockState();
      case "set_app_lock":
        this.setAppLock((a.pin as string | null) ?? null, a.after_minutes as number, (a.current as string | null) ?? null);
        return null;
      case "unlock":
        this.unlock(a.pin as string);
        return null;
      case "lock_now":
        this.lockNow();
        return null;
      case "devices":
        return this.accounts.devices(this.online());
      case "sign_out_device":
        this.accounts.signOutDevice(this.online(), a.id as string);
        return null;
      case "sign_out_other_devices":
        return this.accounts.signOutOthers(this.online());
      case "change_password":
        return this.accounts.changePassword(this.online(), this.serverOf(), a.current as string, a.new as string, (a.code as string | null) ?? null);
      case "two_factor_status":
        return this.accounts.status(this.online(), this.serverOf());
      case "two_factor_setup":
        return this.accounts.setup(this.online(), a.password as string);
      case "two_factor_enable":
        return this.accounts.enable(this.online(), a.code as string);
      case "two_factor_disable":
        this.accounts.disable(this.online(), this.serverOf(), a.password as string, a.code as string);
        return null;
      case "two_factor_recovery_codes":
        return this.accounts.recoveryCodes(this.online(), a.password as string, a.code as string);
      case "conn_state": {
        // The state when asked; with `connStateLagMs` the answer arrives that much later (a busy IPC
        // bridge), after any change that happened meanwhile was already pushed as an event.
        const snap = structuredClone(this.conn);
        return this.connStateLagMs ? new Promise((r) => setTimeout(() => r(snap), this.connStateLagMs)) : snap;
      }
      case "reconnect_now":
        this.setConn({ state: "connecting" });
        setTimeout(() => this.setConn({ state: "live", latency_ms: 19 }), this.tick);
        return null;
      case "balances":
        return this.balances();
      case "transactions":
        return this.lagged(name, this.transactions(a.filter as TxFilter, a.cursor as TxCursor | null, a.limit as number));
      case "balance_history":
        return this.lagged(name, this.balanceHistory(a.currency as string, a.filter as TxFilter));
      case "spending_by_counterparty":
        return this.lagged(name, this.spending(a.filter as TxFilter));
      case "save_history_csv":
        this.savedCsv = this.csv(a.filter as TxFilter);
        return "/home/test/Downloads/tally-history.csv";
      case "show_in_folder":
        return null;
      case "export_csv":
        return this.csv(a.filter as TxFilter);
      case "transfers_open":
        // As the engine: open ones, and finished ones for a minute after they finished.
        return structuredClone([...this.transfers, ...this.settled.filter((t) => t.transfer.updated_at > Date.now() - 60_000)]);
      case "transfer_status":
        // Open or completed; discarded and expired ones are gone ("not sent").
        return structuredClone([...this.transfers, ...this.settled].find((t) => t.transfer.idempotency_key === a.key) ?? null);
      case "contacts":
        return USERS.filter((u) => u.id !== this.me.id);
      case "send_money":
        return this.sendMoney(a.req as SendMoney);
      case "payment_requests":
        return this.requests.views();
      case "request_money":
        return this.requests.ask(a.req as AskMoney);
      case "deposit_info":
        return { reference: "TLY-7K3M-Q9XD-14", instructions: this.depositInstructions };
      case "withdraw":
        return this.withdraw(a.req as WithdrawMoney);
      case "split_bill":
        return this.requests.split(a.req as SplitBill);
      case "pay_request":
        return this.requests.pay(a.request as number);
      case "decline_request":
        return this.requests.close(a.request as number, "declined");
      case "cancel_request":
        return this.requests.close(a.request as number, "cancelled");
      case "rooms":
        return structuredClone(this.roomViews());
      case "create_room": {
        if (this.conn.state !== "live") throw err("offline", "you're offline"); // rooms are made on the hub
        const members = (a.members as string[]).map((m) => byName(m)).filter((u): u is UserSummary => !!u);
        if (members.length === 0) throw err("not_found", "no such user");
        const kind = a.kind as RoomKind;
        if (kind === "direct") {
          const existing = this.rooms.find((r) => r.room.kind === "direct" && r.room.members.some((m) => m.id === members[0].id));
          if (existing) return structuredClone(this.roomViews().find((r) => r.room.id === existing.room.id));
        }
        const id = 20 + this.rooms.length;
        const room: Room = { id, kind, name: kind === "direct" ? members[0].display_name : (a.name as string), members: [this.me, ...members], admins: kind === "group" ? [this.me.id] : [], created_at: Date.now() };
        this.rooms.push({ room, unread: 0, presence: kind === "direct" ? "offline" : null, lastSeen: null, typing: [], messages: [] });
        this.changed({ topic: "rooms" });
        return structuredClone(this.roomViews().find((r) => r.room.id === id));
      }
      case "invite_member": {
        // As the hub: groups only, members only, an active user of the tenant; needs the hub.
        if (this.conn.state !== "live") throw err("offline", "you're offline");
        const r = this.rooms.find((x) => x.room.id === a.room);
        if (!r) throw err("not_found", "room");
        if (r.room.kind === "direct") throw err("invalid", "direct rooms cannot take more members");
        const u = byName((a.username as string).trim());
        if (!u) throw err("not_found", "no such user");
        if (!r.room.members.some((m) => m.id === u.id)) r.room.members.push(u);
        this.changed({ topic: "rooms" }, { topic: "messages", room: r.room.id });
        return structuredClone(this.roomViews().find((x) => x.room.id === r.room.id));
      }
      case "rename_room":
      case "remove_member": {
        // As the hub: a group's admins only; needs the hub.
        if (this.conn.state !== "live") throw err("offline", "you're offline");
        const r = this.rooms.find((x) => x.room.id === a.room);
        if (!r) throw err("not_found", "room");
        if (r.room.kind === "direct") throw err("invalid", "a direct room has no admins");
        if (!(r.room.admins ?? []).includes(this.me.id)) throw err("forbidden", "only the group's admins may do this");
        if (name === "rename_room") {
          const n = (a.name as string).trim();
          if (!n || n.length > 80) throw err("invalid", "a group needs a name of 1-80 bytes");
          r.room.name = n;
        } else {
          const gone = r.room.members.find((m) => m.username === a.username);
          if (!gone) throw err("not_found", "member");
          if (gone.id === this.me.id) throw err("invalid", "to leave a room, use room_leave");
          r.room.members = r.room.members.filter((m) => m.id !== gone.id);
          r.room.admins = (r.room.admins ?? []).filter((id) => id !== gone.id);
        }
        this.changed({ topic: "rooms" }, { topic: "messages", room: r.room.id });
        return structuredClone(this.roomViews().find((x) => x.room.id === r.room.id));
      }
      case "search_room": {
        const q = (a.query as string).trim().toLowerCase();
        const r = this.roomOf(a.room as number);
        return structuredClone(r.messages.filter((m) => !m.message.deleted && m.message.text.toLowerCase().includes(q)).reverse().slice(0, 50));
      }
      case "set_room_prefs": {
        if (this.conn.state !== "live") throw err("offline", "you're offline");
        const r = this.rooms.find((x) => x.room.id === a.room);
        if (!r) throw err("not_found", "room");
        r.room.muted = a.muted as boolean;
        r.room.pinned = a.pinned as boolean;
        this.changed({ topic: "rooms" });
        return structuredClone(this.roomViews().find((x) => x.room.id === r.room.id));
      }
      case "leave_room": {
        if (this.conn.state !== "live") throw err("offline", "you're offline");
        const i = this.rooms.findIndex((x) => x.room.id === a.room);
        if (i < 0) throw err("not_found", "room");
        this.rooms.splice(i, 1);
        this.changed({ topic: "rooms" });
        return null;
      }
      case "messages":
        if (!((a.limit as number) >= 1 && (a.limit as number) <= 500)) throw err("invalid_input", "limit must be 1-500"); // the command's words
        return this.messages(a.room as number, a.before_seq as number | null, a.limit as number);
      case "send_message":
        return this.sendMessage(a.room as number, a.text as string);
      case "send_file": {
        const h = (a.headers ?? {}) as Record<string, string>;
        return this.files.send(Number(h.room), decodeURIComponent(h.name ?? ""), a.bytes as Uint8Array, decodeURIComponent(h.caption ?? ""));
      }
      case "attachment_thumbnail":
      case "open_picture":
        return this.files.picture(a.id as string);
      case "save_attachment":
        return this.files.saveAs(a.id as string, a.name as string);
      case "cancel_download":
        return null;
      case "file_cache":
        return this.files.cache();
      case "clear_file_cache":
        this.files.kept = 0;
        return null;
      case "edit_message": {
        const m = this.findMsg(a.room as number, a.message as number);
        if (m.message.sender.id !== this.me.id) throw err("forbidden", "not the author");
        m.message.text = a.text as string;
        m.message.edited_at = Date.now();
        this.changed({ topic: "messages", room: a.room as number }, { topic: "rooms" });
        return null;
      }
      case "delete_message": {
        const m = this.findMsg(a.room as number, a.message as number);
        if (m.message.sender.id !== this.me.id) throw err("forbidden", "not the author");
        m.message.deleted = true;
        m.message.text = "";
        this.changed({ topic: "messages", room: a.room as number }, { topic: "rooms" });
        return null;
      }
      case "react": {
        const m = this.findMsg(a.room as number, a.message as number);
        const emoji = a.emoji as string;
        let r = m.message.reactions.find((x) => x.emoji === emoji);
        if (!r) m.message.reactions.push((r = { emoji, users: [] }));
        r.users = r.users.filter((u) => u !== this.me.id);
        if (a.on) r.users.push(this.me.id);
        m.message.reactions = m.message.reactions.filter((x) => x.users.length);
        this.changed({ topic: "messages", room: a.room as number });
        return null;
      }
      case "mark_read": {
        const r = this.roomOf(a.room as number);
        r.unread = 0;
        this.changed({ topic: "rooms" });
        return null;
      }
      case "set_typing":
        return null;
      case "outbox":
        return this.outbox();
      case "retry_outbox":
        this.retryOutbox(a.id as number);
        return null;
      case "discard_outbox":
        this.discardOutbox(a.id as number);
        return null;
      case "notifications": {
        if (!((a.limit as number) >= 1 && (a.limit as number) <= 500)) throw err("invalid_input", "limit must be 1-500");
        const before = a.before as number | null;
        const all = this.notesSorted().filter((n) => before === null || n.id < before);
        return structuredClone(all.slice(0, a.limit as number));
      }
      case "mark_notifications_read": {
        const ids = a.ids as number[];
        for (const n of this.notes) if (ids.includes(n.id)) n.read = true;
        this.changed({ topic: "notifications" });
        return null;
      }
      case "mark_all_read":
        for (const n of this.notes) n.read = true;
        this.changed({ topic: "notifications" });
        return null;
      case "unread_counts":
        return this.unread();
      case "search": {
        const q = (a.query as string).toLowerCase();
        const f: TxFilter = { from: null, to: null, direction: null, kinds: [], counterparty: null, min_minor: null, max_minor: null, currency: null, search: a.query as string };
        const messages = this.rooms.flatMap((r) => r.messages).filter((m) => !m.message.deleted && m.message.text.toLowerCase().includes(q));
        return { transactions: this.transactions(f, null, 20).rows, messages: structuredClone(messages.slice(0, 20)) } satisfies SearchResults;
      }
      case "set_presence":
        if (this.presenceError) throw err(this.presenceError, "You're offline.");
        this.presenceSet.push(a.status as PresenceStatus);
        return null;
      case "prefs":
        return structuredClone(this.prefs);
      case "set_prefs":
        this.prefs = structuredClone(a.prefs as Prefs);
        return null;
      case "pause_notifications": {
        const minutes = a.minutes as number;
        this.prefs.notifications_paused_until = minutes > 0 ? Date.now() + minutes * 60_000 : undefined;
        return structuredClone(this.prefs);
      }
      case "check_update":
        return structuredClone(this.update);
      case "install_update":
        if (!this.update.available) throw err("update", "There is no newer version to install.");
        this.emit({ type: "update_progress", downloaded: 512_000, total: 1_024_000 });
        if (this.updateOutcome === "bad_signature") throw err("update", "The update's signature does not match Tally's key. It was not installed.");
        this.updatesInstalled++;
        return null;
      case "set_locale": {
        // As the engine: a language Tally speaks (a region or the test locale allowed) and a money style.
        const style = a.style as { language: string; money: { decimal: string; currencies: Record<string, unknown> } };
        const base = String(style.language).split(/[-_.@]/)[0].toLowerCase();
        if (!["en", "de", "qps"].includes(base)) throw err("invalid_input", "this language is not one Tally speaks");
        if (!style.money?.decimal || !style.money.currencies?.USD) throw err("invalid_input", "the money style's separators are not valid");
        this.shellLanguage = base === "de" ? "de" : "en";
        this.moneyStyle = style.money;
        return null;
      }
      case "take_link": {
        const l = this.pendingLink;
        this.pendingLink = null;
        return l;
      }
      case "start_at_login":
        return this.loginItem;
      case "set_start_at_login":
        this.loginItem = a.on as boolean;
        return this.loginItem;
      case "set_focused_view":
        return null;
      case "sync_progress":
        return structuredClone(this.syncState);
      case "limits":
        return this.limitsView();
      default:
        throw `command ${name} not found`;
    }
  }
}
