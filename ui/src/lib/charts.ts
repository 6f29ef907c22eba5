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

/**
 * A plot built when its options change (width, theme, currency) and given new rows in place otherwise:
 * uPlot's setData redraws the canvas with no new DOM, where building a plot costs a style read and a
 * layout (History gives its charts new rows after each search key). `shown` is what it draws, for the
 * options' axis labels and tooltips to read.
 */
export class LivePlot<T> {
  shown: T[] = [];
  private plot: uPlot | undefined;

  constructor(private data: (rows: T[]) => uPlot.AlignedData) {}

  build(opts: uPlot.Options, rows: T[], host: HTMLElement): void {
    this.shown = rows;
    this.plot = new uPlot(opts, this.data(rows), host);
  }

  update(rows: T[]): void {
    if (!this.plot || rows === this.shown) return;
    this.shown = rows;
    this.plot.setData(this.data(rows));
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = undefined;
  }
}
