// Imported first by main.ts, before any library evaluates. WebKitGTK reports the POSIX locale verbatim,
// so a system running with LANG=C has navigator.language === "C", which Intl rejects with a RangeError.
// Some libraries (uPlot) build an Intl.NumberFormat from navigator.language at module load, which would
// stop the whole app from starting. Replace an unusable value with the validated locale.
import { pickLocale } from "./lib/locale";

const nav = typeof navigator !== "undefined" ? navigator : undefined;
if (nav) {
  const good = pickLocale([...(nav.languages ?? []), nav.language]);
  let usable = true;
  try {
    new Intl.NumberFormat(nav.language);
  } catch {
    usable = false;
  }
  if (!usable) {
    Object.defineProperty(nav, "language", { configurable: true, get: () => good });
    Object.defineProperty(nav, "languages", { configurable: true, get: () => [good] });
  }
}
