// Payment requests in the fake, as the hub and engine keep them: asked by the user (open until paid,
// declined, cancelled or expired) and asked of them (paid in one step through the fake's own transfer,
// or declined). Every change is a `requests` topic, like the engine's `Change::Requests`.
import type { AskMoney, CommandError, RequestView, SplitBill, TransferView } from "../../src/bindings/app";
import type { MessageCard, Money, PaymentRequest, UserSummary } from "../../src/bindings/protocol";

export interface RequestHost {
  me(): UserSummary;
  live(): boolean;
  user(username: string): UserSummary | undefined;
  /** A transfer to `to` (the fake's `send_money`, live): what paying a request makes. */
  pay(to: UserSummary, amount: Money, memo: string): TransferView;
  requestsChanged(): void;
  /** Posts a card in a conversation (what the hub does with `room`). */
  postCard(room: number, sender: UserSummary, card: MessageCard, text: string): void;
  /** The `payment_request` notification the hub would raise. */
  notify(title: string, body: string, id: number): void;
}

const fail = (code: CommandError["code"], message: string): CommandError => ({ code, message });

export class FakeRequests {
  list: PaymentRequest[] = [];
  private nextId = 700;
  private keys = new Map<string, number>();

  constructor(private host: RequestHost) {}

  views(): RequestView[] {
    const open = (r: PaymentRequest) => (r.status === "open" || r.status === "paying" ? 1 : 0);
    const sorted = [...this.list].sort((a, b) => open(b) - open(a) || b.created_at - a.created_at);
    return structuredClone(sorted.map((request) => ({ request, incoming: request.payer.id === this.host.me().id })));
  }

  private view(r: PaymentRequest): RequestView {
    return structuredClone({ request: r, incoming: r.payer.id === this.host.me().id });
  }

  /** Someone asks the user for money (what the hub's event and notification bring). */
  incoming(from: string, minor: number, memo: string, expiresInMs: number | null = null, room: number | null = null): PaymentRequest {
    const requester = this.host.user(from);
    if (!requester) throw new Error(`no user ${from}`);
    const r = this.make(requester, this.host.me(), { minor, currency: "USD" }, memo, expiresInMs === null ? null : Date.now() + expiresInMs);
    if (room !== null) this.host.postCard(room, requester, { kind: "request", id: r.id, payer: r.payer, amount: r.amount }, memo);
    this.host.notify(`${requester.display_name} requests ${(minor / 100).toFixed(2)} USD`, memo, r.id);
    this.host.requestsChanged();
    return r;
  }

  private make(requester: UserSummary, payer: UserSummary, amount: Money, memo: string, expires_at: number | null): PaymentRequest {
    const t = Date.now();
    const r: PaymentRequest = { id: this.nextId++, requester, payer, amount, memo, status: "open", created_at: t, updated_at: t };
    if (expires_at !== null) r.expires_at = expires_at;
    this.list.push(r);
    return r;
  }

  ask(req: AskMoney): RequestView {
    const payer = this.host.user(req.from.trim().toLowerCase());
    if (!req.from.trim()) throw fail("invalid_input", "choose who to ask");
    if (payer?.id === this.host.me().id) throw fail("invalid_input", "you cannot request money from yourself");
    if (req.amount.minor <= 0) throw fail("invalid_input", "the amount must be more than zero");
    if (!this.host.live()) throw fail("offline", "you're offline");
    if (!payer) throw fail("not_found", "user not found");
    const known = this.keys.get(req.key);
    if (known !== undefined) return this.view(this.list.find((r) => r.id === known)!);
    const r = this.make(this.host.me(), payer, req.amount, req.memo.trim(), req.expires_at);
    this.keys.set(req.key, r.id);
    if (req.room != null) this.host.postCard(req.room, this.host.me(), { kind: "request", id: r.id, payer, amount: r.amount }, r.memo);
    this.host.requestsChanged();
    return this.view(r);
  }

  /** Someone else split a bill in `room`, asking the user and others (what their app and the hub do). */
  incomingSplit(from: string, room: number, minor: number, withWho: string[], memo: string): PaymentRequest[] {
    const requester = this.host.user(from);
    if (!requester) throw new Error(`no user ${from}`);
    const share = Math.floor(minor / (withWho.length + 1));
    const made = withWho.map((w) => this.make(requester, this.host.user(w)!, { minor: share, currency: "USD" }, memo, null));
    const shares = made.map((r) => ({ request: r.id, payer: r.payer, amount: r.amount }));
    this.host.postCard(room, requester, { kind: "split", total: { minor, currency: "USD" }, shares }, memo);
    this.host.requestsChanged();
    return made;
  }

  /** The other party answered a request of the user's: paid it, or declined it. */
  answered(id: number, status: "paid" | "declined"): void {
    const r = this.list.find((x) => x.id === id);
    if (r) this.set(r, status);
  }

  /** A bill split as the hub splits it: a request per member, rounded down, and one card. */
  split(bill: SplitBill): RequestView[] {
    if (!this.host.live()) throw fail("offline", "you're offline");
    if (!bill.with.length) throw fail("invalid_input", "choose who shares it");
    const share = Math.floor(bill.total.minor / (bill.with.length + 1));
    if (share <= 0) throw fail("invalid", "the total is too small to split between that many people");
    const made = bill.with.map((who) => {
      const payer = this.host.user(who);
      if (!payer) throw fail("not_found", "user not found");
      return this.make(this.host.me(), payer, { minor: share, currency: bill.total.currency }, bill.memo.trim(), bill.expires_at);
    });
    const shares = made.map((r) => ({ request: r.id, payer: r.payer, amount: r.amount }));
    this.host.postCard(bill.room, this.host.me(), { kind: "split", total: bill.total, shares }, bill.memo.trim());
    this.host.requestsChanged();
    return made.map((r) => this.view(r));
  }

  private mine(id: number, as: "payer" | "requester"): PaymentRequest {
    if (!this.host.live()) throw fail("offline", "you're offline");
    const r = this.list.find((x) => x.id === id && x[as].id === this.host.me().id);
    if (!r) throw fail("not_found", "request not found");
    if (r.expires_at !== undefined && r.expires_at <= Date.now() && r.status === "open") r.status = "expired";
    return r;
  }

  pay(id: number): TransferView {
    const r = this.mine(id, "payer");
    if (r.status !== "open") throw fail(r.status === "expired" ? "expired" : "invalid", `this request is ${r.status}`);
    const tv = this.host.pay(r.requester, r.amount, r.memo);
    this.set(r, "paying", tv.transfer.id);
    return tv;
  }

  /** The transfer paying a request completed (the hub's last step). */
  settled(transfer: number): void {
    const r = this.list.find((x) => x.transfer === transfer && x.status === "paying");
    if (r) this.set(r, "paid");
  }

  close(id: number, how: "declined" | "cancelled"): RequestView {
    const r = this.mine(id, how === "declined" ? "payer" : "requester");
    if (r.status !== "open" && r.status !== how) throw fail(r.status === "expired" ? "expired" : "invalid", `this request is ${r.status}`);
    this.set(r, how);
    return this.view(r);
  }

  private set(r: PaymentRequest, status: PaymentRequest["status"], transfer?: number): void {
    r.status = status;
    if (transfer !== undefined) r.transfer = transfer;
    r.updated_at = Date.now();
    this.host.requestsChanged();
  }
}
