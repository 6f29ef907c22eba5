// Files and pictures in conversations for tests/browser.mjs (#14, attachments): the paperclip, a paste
// and a drop; upload progress and Cancel; a refused type named in a toast with nothing queued; a picture's
// thumbnail and viewer; "Save as…"; a room of 200 pictures that reads thumbnails only as they come into
// view; the offline file cache in Settings. The fake's side is tests/fake/files.ts.

import { deflateSync } from "node:zlib";

/** A real `w`×`h` PNG (a colour gradient): what a user picks. */
function png(w, h) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = [];
  for (let y = 0; y < h; y++) {
    rows.push(0);
    for (let x = 0; x < w; x++) rows.push(Math.floor((x * 255) / w), Math.floor((y * 255) / h), 160);
  }
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(Buffer.from(rows))), chunk("IEND", Buffer.alloc(0))]);
}

const PNG = png(80, 60);
const PDF = Buffer.from("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");

export function fileTests({ test, open, ok, eq, tid, shot, until, text }) {
  const sentFiles = (fake) => fake(() => window.__tallyFake.calls.filter((c) => c.cmd === "plugin:tally|send_file").length);
  const toasts = async (page) => (await page.locator(".toast, [role=status], [role=alert]").allInnerTexts()).join(" | ");

  test("files: a picture from the paperclip goes up with progress and shows as a thumbnail that opens; a PDF is saved through the dialog; HTML named .png is refused and nothing is queued", async () => {
    const { page, fake, done } = await open({ tick: 300 });
    await page.click(tid("nav-chat"));
    await page.click(`${tid("room-item")}[data-room="7"]`);
    await page.locator(tid("message-pane")).waitFor();
    const before = await page.locator(tid("message")).count();

    await page.setInputFiles(tid("attach-input"), { name: "dinner.png", mimeType: "image/png", buffer: PNG });
    const uploading = page.locator(tid("attachment-uploading")).last();
    await uploading.waitFor();
    await until(async () => /\d+ %/.test(await uploading.innerText()), "progress in percent");
    await shot(page, "chat-uploading");
    const pic = page.locator(tid("attachment-image")).last();
    await pic.waitFor();
    await until(async () => (await pic.getAttribute("data-loaded")) === "yes", "the thumbnail is shown");
    const box = await pic.boundingBox();
    ok(Math.abs(box.width / box.height - 80 / 60) < 0.05, `in the picture's proportions: ${box.width}×${box.height}`);
    await pic.click();
    await page.locator(tid("picture-full")).waitFor();
    // The viewer is the window's, not the message list's: whole, inside the viewport, over everything.
    const vb = await page.locator(tid("picture-viewer")).boundingBox();
    const vp = page.viewportSize();
    ok(vb.y >= 0 && vb.x >= 0 && vb.y + vb.height <= vp.height && vb.x + vb.width <= vp.width, `viewer inside the window: ${JSON.stringify(vb)}`);
    await shot(page, "picture-viewer");
    await page.keyboard.press("Escape");
    await page.locator(tid("picture-viewer")).waitFor({ state: "detached" });

    await page.setInputFiles(tid("attach-input"), { name: "bill.pdf", mimeType: "application/pdf", buffer: PDF });
    const file = page.locator(tid("attachment-file")).last();
    await file.locator(tid("attachment-save")).waitFor();
    ok((await file.innerText()).includes("bill.pdf"), "the file's name");
    await file.locator(tid("attachment-save")).click();
    await until(async () => (await toasts(page)).includes("/home/you/Downloads/bill.pdf"), "saved where the dialog said");
    eq((await fake(() => window.__tallyFake.files.saved)).join(), "bill.pdf", "named as sent");

    const calls = await sentFiles(fake);
    await page.setInputFiles(tid("attach-input"), { name: "receipt.png", mimeType: "image/png", buffer: Buffer.from("<!doctype html><script>alert(1)</script>") });
    await until(async () => (await toasts(page)).includes("receipt.png was not sent"), "the refusal names the file");
    ok((await toasts(page)).includes("cannot be sent"), "and says why");
    eq(await sentFiles(fake), calls + 1, "the engine was asked once");
    eq(await page.locator(tid("message")).count(), before + 2, "nothing refused is in the conversation");
    await shot(page, "chat-files");
    await done();
  });

  test("files: the tenant's own file limit decides, as the hub announced it: over it refused in the app, under it sent", async () => {
    const { page, fake, done } = await open({ fileLimit: 1024 * 1024 });
    await page.click(tid("nav-chat"));
    await page.click(`${tid("room-item")}[data-room="7"]`);
    await page.locator(tid("message-pane")).waitFor();
    const big = Buffer.concat([PDF, Buffer.alloc(2 * 1024 * 1024 - PDF.length, 0x20)]);
    await page.setInputFiles(tid("attach-input"), { name: "scan.pdf", mimeType: "application/pdf", buffer: big });
    await until(async () => (await toasts(page)).includes("scan.pdf"), "the refusal names the file");
    ok((await toasts(page)).includes("1 MB"), `and the tenant's limit, not the default: ${await toasts(page)}`);
    eq(await sentFiles(fake), 0, "refused before the engine is asked");
    const fits = Buffer.concat([PDF, Buffer.alloc(900 * 1024, 0x20)]);
    await page.setInputFiles(tid("attach-input"), { name: "small.pdf", mimeType: "application/pdf", buffer: fits });
    await until(async () => (await sentFiles(fake)) === 1, "a file under the limit is sent");
    await page.locator(tid("attachment-file")).last().waitFor();
    await done();
  });

  test("files: a paste and a drop send too, with a drop hint; an upload cancelled half-way is gone", async () => {
    const { page, fake, done } = await open({ tick: 400 });
    await page.click(tid("nav-chat"));
    await page.click(`${tid("room-item")}[data-room="7"]`);
    await page.locator(tid("message-pane")).waitFor();
    const b64 = PNG.toString("base64");
    await page.evaluate((data) => {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], "screenshot.png", { type: "image/png" }));
      document.querySelector("[data-testid=chat-input]").dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
    }, b64);
    await until(async () => (await sentFiles(fake)) === 1, "a pasted picture is sent");
    await page.locator(tid("attachment-uploading")).last().waitFor();

    // A drop: the hint while dragging, then the file goes.
    await page.evaluate((data) => {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], "dropped.png", { type: "image/png" }));
      window.__dropData = dt;
      document.querySelector("[data-testid=message-pane]").dispatchEvent(new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, b64);
    await page.locator(".drop-hint").waitFor();
    await shot(page, "chat-drop");
    await page.evaluate(() => {
      document.querySelector("[data-testid=message-pane]").dispatchEvent(new DragEvent("drop", { dataTransfer: window.__dropData, bubbles: true, cancelable: true }));
    });
    await page.locator(".drop-hint").waitFor({ state: "detached" });
    await until(async () => (await sentFiles(fake)) === 2, "a dropped picture is sent");

    // Cancel the newest while it uploads: it leaves the conversation and never arrives.
    const cancelling = page.locator(tid("attachment-uploading")).last();
    await cancelling.locator(tid("attachment-cancel")).click();
    await until(async () => (await page.locator(tid("attachment-uploading")).count()) <= 1, "the cancelled upload is gone");
    await until(async () => (await page.locator(tid("attachment-image")).count()) === 1, "only the pasted picture arrives");
    const names = await fake(() => window.__tallyFake.rooms.find((r) => r.room.id === 7).messages.filter((m) => m.message.attachment).map((m) => m.message.attachment.name));
    eq(names.join(), "screenshot.png", "the dropped one was cancelled");
    await done();
  });

  test("files: a room of 200 pictures opens at the newest and reads thumbnails only as they come into view", async () => {
    const { page, fake, done } = await open({ pictures: 200 });
    await page.click(tid("nav-chat"));
    await page.click(`${tid("room-item")}[data-room="7"]`);
    await page.locator(tid("message-pane")).waitFor();
    const thumbs = () => fake(() => window.__tallyFake.calls.filter((c) => c.cmd === "plugin:tally|attachment_thumbnail").length);
    await until(async () => (await page.locator(`${tid("attachment-image")}[data-loaded=yes]`).count()) > 0, "the newest pictures show");
    const first = await thumbs();
    ok(first > 0 && first < 30, `only what is on screen is read: ${first} of 200`);
    ok(await page.locator(".chunk").count() >= 1, "the list is in chunks the browser skips off screen");
    // Scroll up through older pages: more thumbnails as they come into view, never all at once.
    for (let i = 0; i < 6; i++) {
      await page.locator(tid("message-list")).evaluate((el) => (el.scrollTop = 0));
      await page.waitForTimeout(250);
    }
    const later = await thumbs();
    ok(later > first, `more as they scroll into view: ${later}`);
    ok(later < 200, `still not every thumbnail: ${later}`);
    await shot(page, "chat-pictures");
    await done();
  });

  test("files: Settings shows the offline file cache, changes its cap and clears it", async () => {
    const { page, fake, done } = await open({ pictures: 3 });
    await fake(() => (window.__tallyFake.files.kept = 123_456_789));
    await page.click(tid("nav-settings"));
    await page.locator(tid("file-cache-usage")).waitFor();
    ok((await text(page, tid("file-cache-usage"))).includes("123"), `usage: ${await text(page, tid("file-cache-usage"))}`);
    await page.selectOption(tid("file-cache-cap"), "1000");
    await until(async () => (await fake(() => window.__tallyFake.prefs.file_cache_mb)) === 1000, "the cap is saved");
    await page.click(tid("file-cache-clear"));
    await until(async () => (await text(page, tid("file-cache-usage"))).startsWith("0"), "cleared");
    await done();
  });
}
