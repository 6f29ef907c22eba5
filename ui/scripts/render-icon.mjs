#!/usr/bin/env node
// Renders icons/app-icon.svg to icons/app-icon.png (1024×1024, transparent corners) with headless
// Chromium, then `npx tauri icon ../icons/app-icon.png -o ../icons` makes the platform icon set.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const icons = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "icons");
const svg = readFileSync(join(icons, "app-icon.svg"), "utf8");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1024, height: 1024 }, deviceScaleFactor: 1 });
await page.setContent(`<html><body style="margin:0;background:transparent">${svg}</body></html>`);
await page.locator("svg").screenshot({ path: join(icons, "app-icon.png"), omitBackground: true });
await browser.close();
console.log("wrote icons/app-icon.png");
