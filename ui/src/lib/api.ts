// The only door to the Rust side: one typed function per command of docs/IPC.md, plus the event stream.
// Argument keys are snake_case exactly as the contract says. Every rejection is normalised into a
// CommandError-shaped TallyError so callers can switch on `code`.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import { t } from "./i18n.svelte";
import type {
  OpenedLink,
  DisplayStyle,
  UpdateCheck,
  AppEvent,
  AppLockState,
  BalancePoint,
  BalanceView,
  CommandErrorCode,
  CounterpartySpend,
  DemoInfo,
  DepositInfo,
  DeviceSession,
  FileCache,
  MessageView,
  OutboxItem,
  Prefs,
  RoomView,
  AskMoney,
  RequestView,
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
  LimitsView,
  RegistrationInfo,
  TwoFactorSetup,
  TwoFactorStatus,
  UnreadCounts,
  ConnState,
} from "../bindings/app";
import type { Notification, PresenceStatus, RoomKind, UserSummary, Withdrawal } from "../bindings/protocol";
import { app } from "./store.svelte";
import { rememberSentPayment } from "./toasts";

export const EVENT_NAME = "tally://event";

/**
 * A rejected command's code: the engine's typed `CommandErrorCode`, or one of the bridge's own when the
 * rejection did not come from the engine (`ipc`: Tauri refused or failed the call; `unknown`).
 */
export type UiErrorCode = CommandErrorCode | "two_factor_required" | "ipc" | "unknown";

/** A rejected command: `{code, message}` like a `CommandError`, and an Error for stack traces. */
export class TallyError extends Error {
  code: UiErrorCode;
  constructor(code: UiErrorCode, message: string) {
    super(message);
    this.name = "TallyError";
    this.code = code;
  }
}

/**
 * Anything a rejected `invoke` may produce → `{code, message}`: the Rust `CommandError` object as is, a
 * bare string (Tauri's own errors: unknown command, permission denied), an Error, or anything else.
 */
export function toCommandError(e: unknown): TallyError {
  if (e instanceof TallyError) return e;
  if (typeof e === "object" && e !== null) {
    const o = e as Record<string, unknown>;
    // A string `code` on a rejection is the engine's CommandErrorCode (the Rust side only sends those).
    if (typeof o.code === "string" && typeof o.message === "string") return new TallyError(o.code as UiErrorCode, o.message);
    if (typeof o.code === "string") return new TallyError(o.code as UiErrorCode, typeof o.error === "string" ? o.error : o.code);
    if (e instanceof Error) return new TallyError("ipc", e.message || e.name);
    if (typeof o.message === "string") return new TallyError("unknown", o.message);
    try {
      return new TallyError("unknown", JSON.stringify(e));
    } catch {
      return new TallyError("unknown", String(e));
    }
  }
  if (typeof e === "string") {
    // Some layers serialise the error as JSON text.
    const text = e.trim();
    if (text.startsWith("{")) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed === "object" && parsed !== null && typeof (parsed as { code?: unknown }).code === "string") {
          return toCommandError(parsed);
        }
      } catch {
        /* not JSON: fall through */
      }
    }
    return new TallyError("ipc", e || t("errors.no_answer"));
  }
  if (e === undefined || e === null) return new TallyError("unknown", t("errors.unknown"));
  return new TallyError("unknown", String(e));
}

/** Told when a command was refused because the app lock is locked (lib/lock.svelte.ts shows the lock screen). */
let lockedHook: ((command: string) => void) | null = null;
export function onLockedError(hook: ((command: string) => void) | null): void {
  lockedHook = hook;
}

/**
 * Whether a read failed only because the session ended (signing out, or the hub ended it): the sign-in
 * screen is on its way, so a screen that was loading says nothing rather than "Couldn't load …".
 */
export function isSignedOut(e: unknown): boolean {
  return toCommandError(e).code === "not_signed_in";
}

async function call<T>(
  command: string,
  args: Record<string, unknown> | Uint8Array = {},
  options?: { headers: Record<string, string> },
): Promise<T> {
  try {
    return await invoke<T>(`plugin:tally|${command}`, args, options);
  } catch (e) {
    const err = toCommandError(e);
    // Any read or write refused as `locked`: the app locked (maybe before its `lock` event arrived).
    if (err.code === "locked" && command !== "unlock") {
      try {
        lockedHook?.(command);
      } catch {
        /* the hook must not change what the caller sees */
      }
    }
    throw err;
  }
}

export const demoInfo = (server: string) => call<DemoInfo>("demo_info", { server });
/** Signs in. With two-factor on and no `code`, rejects with `two_factor_required`: ask for the code (or a
 * recovery code) and call again with the same credentials and it. */
export const signIn = (server: string, username: string, password: string, code: string | null = null) =>
  call<SessionInfo>("sign_in", { server, username, password, code });
/** Who may sign up on `server` (open, with an invite, or closed) and its password rules. */
export const registrationInfo = (server: string) => call<RegistrationInfo>("registration_info", { server });
/** Creates an account (as the server's policy allows) and signs this device in with it. */
export const signUp = (server: string, username: string, displayName: string, password: string, invite: string | null) =>
  call<SessionInfo>("sign_up", { server, username, display_name: displayName, password, invite });
export const session = () => call<SessionInfo | null>("session");
/** `wipe`: also delete this account's cached data and keys from this device (the default in Settings). */
export const signOut = (wipe: boolean) => call<null>("sign_out", { wipe });
// The signed-in account's security (these need the network: `offline` / `network` otherwise).
export const devices = () => call<DeviceSession[]>("devices");
export const signOutDevice = (id: string) => call<null>("sign_out_device", { id });
/** Resolves to how many devices were signed out. */
export const signOutOtherDevices = () => call<number>("sign_out_other_devices");
// Security changes ask for the user again: the current password, and a code while two-factor is on.
/** Resolves to how many other devices were signed out. `code`: needed while two-factor is on. */
export const changePassword = (current: string, next: string, code: string | null) =>
  call<number>("change_password", { current, new: next, code });
export const twoFactorStatus = () => call<TwoFactorStatus>("two_factor_status");
export const twoFactorSetup = (password: string) => call<TwoFactorSetup>("two_factor_setup", { password });
/** Finishes turning two-factor on; resolves to the ten recovery codes, shown once. */
export const twoFactorEnable = (code: string) => call<string[]>("two_factor_enable", { code });
export const twoFactorDisable = (password: string, code: string) => call<null>("two_factor_disable", { password, code });
/** Ten new recovery codes, shown once; the old ones stop working. */
export const twoFactorRecoveryCodes = (password: string, code: string) =>
  call<string[]>("two_factor_recovery_codes", { password, code });
// The app lock (Settings → Security, the lock screen). These work while locked.
export const appLockState = () => call<AppLockState>("app_lock_state");
/** Turns the lock on, changes its PIN or minutes (`pin`), or turns it off (`pin` null). With a lock on,
 * `current` must be its PIN (else `invalid_input`). PIN: 4–12 digits; minutes: 1–240. */
export const setAppLock = (pin: string | null, afterMinutes: number, current: string | null) =>
  call<null>("set_app_lock", { pin, after_minutes: afterMinutes, current });
/** A wrong PIN rejects with `locked` (how many attempts are left in the message); the tenth wrong PIN in a
 * row signs the account out and deletes this device's data, and rejects with `auth`. */
export const unlock = (pin: string) => call<null>("unlock", { pin });
export const lockNow = () => call<null>("lock_now");
export const connState = () => call<ConnState>("conn_state");
export const reconnectNow = () => call<null>("reconnect_now");
export const balances = () => call<BalanceView[]>("balances");
export const transactions = (filter: TxFilter, cursor: TxCursor | null, limit: number) =>
  call<TxPage>("transactions", { filter, cursor, limit });
export const balanceHistory = (currency: string, filter: TxFilter) =>
  call<BalancePoint[]>("balance_history", { currency, filter });
export const spendingByCounterparty = (filter: TxFilter) =>
  call<CounterpartySpend[]>("spending_by_counterparty", { filter });
export const exportCsv = (filter: TxFilter) => call<string>("export_csv", { filter });
/** Opens the OS save dialog and writes the CSV there: the path, or null when the user cancelled. */
export const saveHistoryCsv = (filter: TxFilter) => call<string | null>("save_history_csv", { filter });
export const showInFolder = (path: string) => call<null>("show_in_folder", { path });
export const transfersOpen = () => call<TransferView[]>("transfers_open");
export const contacts = () => call<UserSummary[]>("contacts");
/** Sends (or queues, offline) a payment. A payment that went out live is remembered so the hub's echo of
 * it ("… sent to …") is not a second toast after Send's own (see lib/toasts.ts). */
export async function sendMoney(req: SendMoney): Promise<TransferView> {
  const tv = await call<TransferView>("send_money", { req });
  // (Guarded: a mocked bridge may answer nothing.)
  if (tv?.transfer) rememberSentPayment(tv, tv.local.state === "pending" && app.conn.state !== "live");
  return tv;
}
/** The user's payment requests, asked and asked of them: open ones first. */
export const paymentRequests = () => call<RequestView[]>("payment_requests");
/** Asks someone for money. `req.key` is the form's own: a retry of the same form finds the same request. Needs the hub. */
export const requestMoney = (req: AskMoney) => call<RequestView>("request_money", { req });
export const withdraw = (req: WithdrawMoney) => call<Withdrawal>("withdraw", { req });
export const depositInfo = () => call<DepositInfo>("deposit_info");
/** Splits a bill in a group: one request per member chosen, one card in the conversation. Needs the hub. */
export const splitBill = (req: SplitBill) => call<RequestView[]>("split_bill", { req });
/** Pays a request made of the user: the transfer, followed like any payment. Needs the hub. */
export const payRequest = (request: number) => call<TransferView>("pay_request", { request });
export const declineRequest = (request: number) => call<RequestView>("decline_request", { request });
export const cancelRequest = (request: number) => call<RequestView>("cancel_request", { request });
export const rooms = () => call<RoomView[]>("rooms");
export const createRoom = (kind: RoomKind, name: string, members: string[]) =>
  call<RoomView>("create_room", { kind, name, members });
/** Adds a person to a group (any member may). Needs the hub. */
export const inviteMember = (room: number, username: string) => call<RoomView>("invite_member", { room, username });
/** Leaves a room: out of the list, its history kept on this device. Needs the hub. */
export const leaveRoom = (room: number) => call<null>("leave_room", { room });
/** Renames a group (its admins only). Needs the hub. */
export const renameRoom = (room: number, name: string) => call<RoomView>("rename_room", { room, name });
/** Removes someone from a group (its admins only). Needs the hub. */
export const removeMember = (room: number, username: string) => call<RoomView>("remove_member", { room, username });
/** Your own choices for a room (muted: no popups, not in the badge; pinned: first). Needs the hub. */
/** One room's cached messages matching `query`, newest first (works offline). */
export const searchRoom = (room: number, query: string) => call<MessageView[]>("search_room", { room, query });
export const setRoomPrefs = (room: number, muted: boolean, pinned: boolean) => call<RoomView>("set_room_prefs", { room, muted, pinned });
/** The most a `messages` or `notifications` page may hold (the commands refuse more). */
export const MAX_PAGE = 500;
export const messages = (room: number, beforeSeq: number | null, limit: number) =>
  call<MessageView[]>("messages", { room, before_seq: beforeSeq, limit });
export const sendMessage = (room: number, text: string) => call<MessageView>("send_message", { room, text });
/** Sends a file: its bytes as the raw body, room, name and caption in headers (docs/IPC.md). */
export const sendFile = (room: number, name: string, bytes: Uint8Array, caption: string) =>
  call<MessageView>("send_file", bytes, {
    headers: { room: String(room), name: encodeURIComponent(name), caption: encodeURIComponent(caption) },
  });
/** A picture's thumbnail as a data: URL (kept on this device once fetched). */
export const attachmentThumbnail = (room: number, id: string) => call<string>("attachment_thumbnail", { room, id });
/** A whole picture as a data: URL, for the viewer. */
export const openPicture = (room: number, id: string) => call<string>("open_picture", { room, id });
/** Saves a file through the OS save dialog: where it went, or null when cancelled. */
export const saveAttachment = (room: number, id: string, name: string) =>
  call<string | null>("save_attachment", { room, id, name });
export const cancelDownload = (id: string) => call<null>("cancel_download", { id });
export const fileCache = () => call<FileCache>("file_cache");
export const clearFileCache = () => call<null>("clear_file_cache");
export const editMessage = (room: number, message: number, text: string) =>
  call<null>("edit_message", { room, message, text });
export const deleteMessage = (room: number, message: number) => call<null>("delete_message", { room, message });
export const react = (room: number, message: number, emoji: string, on: boolean) =>
  call<null>("react", { room, message, emoji, on });
export const markRead = (room: number, upTo: number) => call<null>("mark_read", { room, up_to: upTo });
export const setTyping = (room: number, active: boolean) => call<null>("set_typing", { room, active });
export const outbox = () => call<OutboxItem[]>("outbox");
export const retryOutbox = (id: number) => call<null>("retry_outbox", { id });
export const discardOutbox = (id: number) => call<null>("discard_outbox", { id });
export const notifications = (before: number | null, limit: number) =>
  call<Notification[]>("notifications", { before, limit });
export const markNotificationsRead = (ids: number[]) => call<null>("mark_notifications_read", { ids });
export const markAllRead = () => call<null>("mark_all_read");
export const unreadCounts = () => call<UnreadCounts>("unread_counts");
export const search = (query: string) => call<SearchResults>("search", { query });
export const setPresence = (status: PresenceStatus) => call<null>("set_presence", { status });
export const prefs = () => call<Prefs>("prefs");
export const setPrefs = (p: Prefs) => call<null>("set_prefs", { prefs: p });
/** Holds native notifications back for `minutes` (0 resumes them); the prefs as they are now. */
export const pauseNotifications = (minutes: number) => call<Prefs>("pause_notifications", { minutes });
/** Whether Tally starts, in the background, when the user logs in (desktop). */
export const startAtLogin = () => call<boolean>("start_at_login");
export const setStartAtLogin = (on: boolean) => call<boolean>("set_start_at_login", { on });
/** The tally:// link opened last, once; null when there is none. */
export const setLocale = (style: DisplayStyle) => call<null>("set_locale", { style });
export const takeLink = () => call<OpenedLink | null>("take_link");
/** Asks the update feed for a newer, signed version. */
export const checkUpdate = () => call<UpdateCheck>("check_update");
/** Downloads, verifies and installs the newer version; the app restarts into it. */
export const installUpdate = () => call<null>("install_update");
export const setFocusedView = (view: string, room: number | null) => call<null>("set_focused_view", { view, room });
export const syncProgress = () => call<SyncProgress>("sync_progress");
export const limits = () => call<LimitsView>("limits");
export const transferStatus = (key: string) => call<TransferView | null>("transfer_status", { key });

/** Subscribes to `tally://event`. Resolves to the unlisten function. */
export function onAppEvent(handler: (event: AppEvent) => void): Promise<UnlistenFn> {
  return listen<AppEvent>(EVENT_NAME, (e) => handler(e.payload));
}

/** The codes with a sentence of their own in the language files (errors.*). */
const HINTED = [
  "offline", "not_signed_in", "network", "insecure_server", "auth", "two_factor_required", "unauthorized",
  "keychain_unavailable", "storage", "insufficient_funds", "limit_exceeded", "not_found", "rate_limited",
  "forbidden", "conflict", "unavailable", "internal", "locked",
] as const;
type Hinted = (typeof HINTED)[number];

/** What to tell a person for an error code: what happened and what to do. */
export function describeError(e: unknown): string {
  const err = toCommandError(e);
  // Sign-in asks for the code itself; anywhere else two_factor_required means the tenant requires it first.
  const base = (HINTED as readonly string[]).includes(err.code) ? t(`errors.${err.code as Hinted}`) : null;
  // An untrusted certificate is not "couldn't reach": the engine says which check failed.
  if (err.code === "network" && /certificate/i.test(err.message)) return t("errors.certificate", { detail: err.message });
  if (err.code === "invalid" || err.code === "invalid_input") return err.message || t("errors.invalid");
  // Too many wrong passwords or codes in a row: the hub makes this device wait.
  if (err.code === "auth" && /too many/i.test(err.message)) return t("errors.too_many_attempts");
  if (!base) return err.message || t("errors.unknown");
  return base;
}
