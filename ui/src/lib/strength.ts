// The password strength meter's estimate: zxcvbn (the @zxcvbn-ts port, with the common-password and
// English dictionaries) — the same estimator the hub uses to accept or refuse a new password, so what the
// meter says is what the hub will say. Loaded on first use only (its dictionaries are about 2 MB), so the
// app's main bundle stays small. Advisory: the hub makes the final decision.

import { t } from "./i18n.svelte";

export type Score = 0 | 1 | 2 | 3 | 4;

export interface Strength {
  score: Score;
  /** zxcvbn's warning ("This is a commonly used password."), or "". */
  warning: string;
  suggestions: string[];
}

/** The score the hub requires of a new password (zxcvbn's 3: more than 10^8 guesses). */
export const HUB_MIN_SCORE: Score = 3;

type Estimator = (password: string, userInputs: string[]) => Strength;
let loading: Promise<Estimator> | null = null;

/** Loads zxcvbn and its dictionaries (once). */
export function loadStrength(): Promise<Estimator> {
  loading ??= (async () => {
    const [{ ZxcvbnFactory }, common, en] = await Promise.all([
      import("@zxcvbn-ts/core"),
      import("@zxcvbn-ts/language-common"),
      import("@zxcvbn-ts/language-en"),
    ]);
    const z = new ZxcvbnFactory({
      dictionary: { ...common.dictionary, ...en.dictionary },
      graphs: common.adjacencyGraphs,
      translations: en.translations,
      // Off, as in the hub's zxcvbn: with it a check takes 200-600 ms instead of 5-30 ms.
      useLevenshteinDistance: false,
    });
    return (password: string, userInputs: string[]) => {
      const r = z.check(password.slice(0, 256), userInputs.filter((s) => s.trim()));
      return { score: r.score as Score, warning: r.feedback.warning ?? "", suggestions: r.feedback.suggestions };
    };
  })();
  // A failed load (a missing chunk) may be retried later.
  loading.catch(() => (loading = null));
  return loading;
}

export interface MeterView {
  /** 0-4 bars filled. */
  bars: number;
  label: string;
  tone: "none" | "weak" | "fair" | "good" | "strong";
}

/** What the meter shows for an estimate (null: not known yet) of a password of `length` characters. */
export function meterView(strength: Strength | null, length: number, minChars: number): MeterView {
  if (length === 0) return { bars: 0, label: "", tone: "none" };
  if (length < minChars) return { bars: Math.min(1, strength?.score ?? 1), label: t("strength.too_short", { min: minChars }), tone: "weak" };
  if (!strength) return { bars: 0, label: t("common.checking"), tone: "none" };
  switch (strength.score) {
    case 0:
    case 1:
      return { bars: 1, label: t("strength.weak"), tone: "weak" };
    case 2:
      return { bars: 2, label: t("strength.fair"), tone: "fair" };
    case 3:
      return { bars: 3, label: t("strength.good"), tone: "good" };
    default:
      return { bars: 4, label: t("strength.strong"), tone: "strong" };
  }
}
