// What sticks out sideways on the page, measured in it: used by the Chromium layout tests
// (tests/browser-layout.mjs) and, as plain source evaluated in the page, by the real WebView's phone-size
// test (tests/e2e_phone.rs). Keep it one self-contained function.
/**
 * Everything that sticks out sideways, measured in the page: the document scrolling horizontally, any
 * rendered element whose visible part (after its clipping ancestors) passes the viewport's right edge (or
 * its left), and any scroll container that scrolls horizontally. Visually-hidden helpers are skipped.
 * Outermost offenders only.
 */
export function overflowProblems() {
  const vw = document.documentElement.clientWidth;
  const se = document.scrollingElement;
  const out = [];
  if (se && se.scrollWidth > se.clientWidth) out.push(`the document scrolls sideways (scrollWidth ${se.scrollWidth} > clientWidth ${se.clientWidth})`);
  const name = (el) => {
    const id = el.getAttribute("data-testid");
    const cls = typeof el.className === "string" && el.className ? `.${el.className.trim().split(/\s+/).filter((c) => !c.startsWith("svelte-")).join(".")}` : "";
    return `${el.tagName.toLowerCase()}${id ? `[data-testid="${id}"]` : ""}${cls}`;
  };
  const path = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) parts.unshift(name(e));
    return parts.join(" > ");
  };
  const hidden = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.display === "none" || cs.visibility === "hidden") return true;
      if (e.classList.contains("visually-hidden")) return true;
    }
    return false;
  };
  const reported = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (reported.some((r) => r.contains(el))) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const cs = getComputedStyle(el);
    const scrollsX = (cs.overflowX === "auto" || cs.overflowX === "scroll") && el.scrollWidth > el.clientWidth + 1;
    // What shows of it: clipped by every ancestor that clips (an ellipsis cuts text on purpose).
    let left = r.left;
    let right = r.right;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX === "visible") continue;
      const ar = a.getBoundingClientRect();
      left = Math.max(left, ar.left);
      right = Math.min(right, ar.right);
    }
    const sticksOut = right > left && (right > vw + 0.5 || left < -0.5);
    if (!scrollsX && !sticksOut) continue;
    if (hidden(el)) continue;
    reported.push(el);
    if (!scrollsX) {
      out.push(`${path(el)} spans ${Math.round(r.left)}–${Math.round(r.right)} px of a ${vw} px viewport (width ${Math.round(r.width)})`);
      continue;
    }
    // A sideways scroller: name what inside it is too wide (the outermost such element).
    const edge = r.left + el.clientLeft + el.clientWidth;
    let culprit = null;
    for (const d of el.querySelectorAll("*")) {
      const dr = d.getBoundingClientRect();
      if (dr.width > 0 && dr.right > edge + 0.5 && !hidden(d)) {
        culprit = d;
        break;
      }
    }
    const cr = culprit?.getBoundingClientRect();
    out.push(
      `${path(el)} scrolls sideways (scrollWidth ${el.scrollWidth} > clientWidth ${el.clientWidth})` +
        (culprit ? `: ${path(culprit)} is ${Math.round(cr.width)} px wide, ending at ${Math.round(cr.right)} px` : ""),
    );
  }
  return out;
}
