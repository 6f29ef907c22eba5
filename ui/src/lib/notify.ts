import type { Notification, Priority } from "../bindings/protocol";
import { dayKey } from "./dates";

const RANK: Record<Priority, number> = { critical: 0, high: 1, normal: 2, low: 3 };

export interface NotificationGroup {
  key: string;
  day: number;
  items: Notification[];
}

/** Groups by local day (newest day first); within a day critical first, then newest first. */
export function groupNotifications(list: Notification[]): NotificationGroup[] {
  const groups = new Map<string, NotificationGroup>();
  for (const n of list) {
    const key = dayKey(n.created_at);
    let g = groups.get(key);
    if (!g) {
      g = { key, day: n.created_at, items: [] };
      groups.set(key, g);
    }
    g.items.push(n);
    if (n.created_at > g.day) g.day = n.created_at;
  }
  const out = [...groups.values()].sort((a, b) => b.day - a.day);
  for (const g of out) {
    g.items.sort((a, b) => {
      const ca = a.priority === "critical" ? 0 : 1;
      const cb = b.priority === "critical" ? 0 : 1;
      return ca - cb || b.created_at - a.created_at || RANK[a.priority] - RANK[b.priority];
    });
  }
  return out;
}
