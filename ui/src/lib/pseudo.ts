// The pseudo-locale's text: every English string accented and bracketed ("Send" → "⟦Šéñð⟧"), its
// {{placeholders}} and $t() nestings untouched. Text on screen without the brackets skipped `t`.
const ACCENTS: Record<string, string> = {
  a: "á", e: "é", i: "í", o: "ó", u: "ú", n: "ñ", c: "ç", d: "ð", s: "š", y: "ý", z: "ž",
  A: "Á", E: "É", I: "Í", O: "Ó", U: "Ú", N: "Ñ", C: "Ç", D: "Ð", S: "Š", Y: "Ý", Z: "Ž",
};

export function pseudoText(s: string): string {
  const parts = s.split(/(\{\{[^}]*\}\}|\$t\([^)]*\))/);
  const out = parts.map((p, i) => (i % 2 === 1 ? p : [...p].map((ch) => ACCENTS[ch] ?? ch).join(""))).join("");
  return `⟦${out}⟧`;
}

type Tree = { [key: string]: string | Tree };

/** The pseudo-locale's resources, built from English's. */
export function pseudoResources(tree: Tree): Tree {
  const out: Tree = {};
  for (const [k, v] of Object.entries(tree)) out[k] = typeof v === "string" ? pseudoText(v) : pseudoResources(v);
  return out;
}
