// A textarea that grows with what is typed, up to a maximum height, without laying out the page on every
// key. The old way (height = "auto", then read scrollHeight) shrinks the field, which resizes everything
// around it, forces a synchronous layout of the whole page (the chat pane with thousands of messages), and
// then grows it back for a second layout at the next frame: ~170 ms a key in a long room.
//
// Where the engine has CSS `field-sizing: content` (Chromium 123+, Safari/WebKit 26.2+) the browser sizes
// the field itself and this does nothing. Elsewhere a hidden mirror of the text, with the field's font,
// padding and width, is measured inside a `contain: strict` box outside the app's layout: reading its
// height lays out only the mirror, and the field's height is written only when the number of lines
// changes.

/** Whether the engine sizes form fields to their content (`field-sizing: content`). */
export function hasFieldSizing(): boolean {
  return typeof CSS !== "undefined" && typeof CSS.supports === "function" && CSS.supports("field-sizing", "content");
}

const COPIED = [
  "font-family",
  "font-size",
  "font-weight",
  "font-style",
  "letter-spacing",
  "line-height",
  "text-transform",
  "word-spacing",
  "tab-size",
  "padding-top",
  "padding-bottom",
  "padding-left",
  "padding-right",
  "border-top-width",
  "border-bottom-width",
  "border-left-width",
  "border-right-width",
  "box-sizing",
] as const;

/**
 * Svelte action: `<textarea use:autosize={{ value: text, max: 160 }}>`. Pass the bound value so a change
 * made by code (cleared after sending, filled to edit) resizes the field too.
 */
export function autosize(node: HTMLTextAreaElement, params: { value: string; max?: number }) {
  let max = params.max ?? 160;
  if (hasFieldSizing()) {
    node.style.setProperty("field-sizing", "content");
    node.style.maxHeight = `${max}px`;
    return {
      update(p: { value: string; max?: number }) {
        if ((p.max ?? 160) === max) return; // nothing to do per key: the engine sizes the field
        max = p.max ?? 160;
        node.style.maxHeight = `${max}px`;
      },
      destroy() {},
    };
  }

  // The box is fixed, zero-sized and strictly contained: laying out the mirror never touches the app.
  const box = document.createElement("div");
  box.setAttribute("aria-hidden", "true");
  box.style.cssText =
    "position:fixed;left:0;top:0;width:0;height:0;overflow:hidden;visibility:hidden;contain:strict;pointer-events:none";
  const mirror = document.createElement("div");
  box.appendChild(mirror);
  document.body.appendChild(box);

  let width = 0;
  let last = -1;
  const copyStyle = () => {
    const cs = getComputedStyle(node);
    let css = "position:absolute;left:0;top:0;white-space:pre-wrap;overflow-wrap:break-word;word-break:normal;border-style:solid;";
    for (const p of COPIED) css += `${p}:${cs.getPropertyValue(p)};`;
    mirror.style.cssText = css + `width:${width}px`;
  };

  const measure = (value: string) => {
    if (width <= 0) return;
    // A trailing newline needs a character after it to take up a line.
    mirror.textContent = value.endsWith("\n") || value === "" ? value + "\u200b" : value;
    const h = mirror.offsetHeight;
    if (h === last) return;
    last = h;
    node.style.height = `${Math.min(h, max)}px`;
    node.style.overflowY = h > max ? "auto" : "hidden";
  };

  // The field's width (border box) comes from a ResizeObserver, which never forces a layout.
  const ro = new ResizeObserver((entries) => {
    const e = entries[entries.length - 1];
    const w = e.borderBoxSize?.[0]?.inlineSize ?? node.offsetWidth;
    if (w === width) return;
    width = w;
    copyStyle();
    last = -1;
    measure(node.value);
  });
  ro.observe(node);

  return {
    update(p: { value: string; max?: number }) {
      max = p.max ?? 160;
      measure(p.value);
    },
    destroy() {
      ro.disconnect();
      box.remove();
    },
  };
}
