// Other people's text — names, memos, messages, room names, notification text — is shown in direction
// isolates: `<bdi>` (dir="auto" with `unicode-bidi: isolate`), or `dir="auto"` on the element holding it,
// so a right-to-left name cannot reorder the words and amounts around it.
//
// The explicit bidi formatting controls are stripped before display: the embeddings and overrides
// U+202A–U+202E (LRE, RLE, PDF, LRO, RLO) and the isolates U+2066–U+2069 (LRI, RLI, FSI, PDI). An
// isolate keeps them from leaking out, but inside it they still reverse what they enclose: "\u202Eevil"
// reads "live", a memo can make "$10" look like "$01". Stripping was chosen over showing them (as ⟨RLO⟩
// or similar) because no name, memo or chat line needs them — the isolate already gives each run its
// own direction from its first strong character — and a visible marker in every place a name appears
// is noise a person cannot act on. The implicit marks LRM, RLM and ALM (U+200E, U+200F, U+061C) are
// kept: they only nudge neutral characters and cannot reorder letters. The stored text is not changed;
// only what is displayed (and the accessible names built from it). `components/UserText.svelte` is the rule
// as a component; `displayName` (lib/people.ts) applies it to names. A Chromium test scans every view's
// text and accessible names for a leaked control.

const CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

/** `s` without bidi embedding, override and isolate controls, for display. */
export function bidiSafe(s: string): string {
  return s.replace(CONTROLS, "");
}

/** Whether `s` carries any of the controls `bidiSafe` strips. */
export function hasBidiControls(s: string): boolean {
  CONTROLS.lastIndex = 0;
  const found = CONTROLS.test(s);
  CONTROLS.lastIndex = 0;
  return found;
}
