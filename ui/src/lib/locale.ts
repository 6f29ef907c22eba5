/** The first tag Intl accepts, normalising POSIX forms ("en_GB.UTF-8" → "en-GB"); "en-US" otherwise. */
export function pickLocale(candidates: readonly (string | undefined | null)[]): string {
  for (const raw of candidates) {
    if (!raw) continue;
    const tag = raw.split(".")[0].split("@")[0].replace(/_/g, "-");
    if (!tag || tag === "C" || tag === "POSIX") continue;
    try {
      const [canonical] = Intl.getCanonicalLocales(tag);
      if (canonical) {
        new Intl.NumberFormat(canonical);
        return canonical;
      }
    } catch {
      /* not a usable tag: try the next */
    }
  }
  return "en-US";
}
