// "Message this person" from anywhere a person is shown (a payment's details, a group's people): the direct
// room with them, opened from the cache when there is one (offline too), made on the hub otherwise.
import type { UserSummary } from "../bindings/protocol";
import * as api from "./api";
import { t } from "./i18n.svelte";
import { navigate, toast } from "./store.svelte";

export async function messagePerson(u: UserSummary): Promise<boolean> {
  try {
    const known = (await api.rooms()).find((r) => r.room.kind === "direct" && r.room.members.some((m) => m.id === u.id));
    const id = known ? known.room.id : (await api.createRoom("direct", "", [u.username])).room.id;
    navigate({ view: "chat", room: id });
    return true;
  } catch (e) {
    toast("error", t("chat.start_failed"), api.describeError(e));
    return false;
  }
}
