// Shared uPlot setup: colours from the CSS theme tokens, axis formatting in the currency, and a small
// hover tooltip (text only).
import uPlot from "uplot";

export interface ChartColors {
  text: string;
  grid: string;
  accent: string;
  accentFill: string;
  pos: string;
  surface: string;
}

export function chartColors(): ChartColors {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  const accent = v("--accent-text", "#4338ca");
  return {
    text: v("--text-2", "#545c69"),
    grid: v("--border", "#dfe3e8"),
    accent,
    accentFill: v("--accent-soft", "#ecebfd"),
    pos: v("--pos", "#157a3a"),
    surface: v("--surface", "#ffffff"),
  };
}

export const AXIS_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, Ubuntu, sans-serif';

/** A tooltip following the cursor; `describe(idx)` returns the lines for the hovered data index. */
export function tooltipPlugin(describe: (u: uPlot, idx: number) => [string, string]): uPlot.Plugin {
  let tip: HTMLDivElement;
  let head: HTMLDivElement;
  let value: HTMLDivElement;
  return {
    hooks: {
      init: (u) => {
        tip = document.createElement("div");
        tip.className = "chart-tip";
        tip.setAttribute("role", "presentation");
        head = document.createElement("div");
        head.className = "chart-tip-head";
        value = document.createElement("div");
        value.className = "chart-tip-value";
        tip.append(head, value);
        tip.style.display = "none";
        u.over.appendChild(tip);
        u.over.addEventListener("mouseleave", () => (tip.style.display = "none"));
      },
      setCursor: (u) => {
        const idx = u.cursor.idx;
        if (idx === null || idx === undefined || u.cursor.left === undefined || u.cursor.left < 0) {
          tip.style.display = "none";
          return;
        }
        const [h, v] = describe(u, idx);
        head.textContent = h;
        value.textContent = v;
        tip.style.display = "block";
        const x = u.valToPos(u.data[0][idx], "x");
        const yv = u.data[1][idx];
        const y = yv === null || yv === undefined ? u.cursor.top ?? 0 : u.valToPos(yv, "y");
        const w = tip.offsetWidth;
        const left = Math.min(Math.max(0, x - w / 2), u.over.clientWidth - w);
        tip.style.transform = `translate(${left}px, ${Math.max(0, y - tip.offsetHeight - 10)}px)`;
      },
    },
  };
}
