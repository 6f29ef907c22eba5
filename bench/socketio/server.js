// The Socket.IO peer for tally-bench: the stack the product was first sketched on (Node + Socket.IO 4.8,
// default `ws` engine, WebSocket transport only), with the same rooms as Tally's channels and a publish
// endpoint. Minimal on purpose: no auth check beyond the handshake's user name, no persistence.
"use strict";
const http = require("http");
const { Server } = require("socket.io");

const port = Number(process.env.PORT || 8790);
const seqs = new Map();

const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/healthz") {
    res.writeHead(200, { "content-type": "text/plain" });
    return res.end("ok");
  }
  if (req.method === "POST" && req.url === "/publish") {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        res.writeHead(400);
        return res.end("bad json");
      }
      for (const e of body.events) {
        // Numbered here, at emit time, as the Tally hub numbers its events: the clients check the order
        // they arrive in. After a restart the publisher's number seeds the room's counter.
        const seq = seqs.has(e.room) ? seqs.get(e.room) + 1 : e.data.seq || 1;
        seqs.set(e.room, seq);
        io.to(e.room).emit("event", { ...e.data, seq });
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ published: body.events.length }));
    });
    return;
  }
  res.writeHead(404);
  res.end();
});

const io = new Server(server, {
  transports: ["websocket"],
  serveClient: false,
  // Same heartbeat period as the Tally hub's default (15 s).
  pingInterval: 15000,
  pingTimeout: 20000,
  maxHttpBufferSize: 1e6,
});

io.on("connection", (socket) => {
  const user = socket.handshake.auth && socket.handshake.auth.user;
  socket.data.user = user;
  socket.on("subscribe", (rooms, ack) => {
    if (Array.isArray(rooms)) socket.join(rooms.map(String));
    if (typeof ack === "function") ack({ ok: true });
  });
});

server.listen(port, "127.0.0.1", () => console.error(`socket.io bench server on 127.0.0.1:${port}`));
process.on("SIGTERM", () => process.exit(0));
