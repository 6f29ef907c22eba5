"""The PROTOCOL.md example, run against a demo hub: log in as alice and bob, send a transfer, see both
parties' events. Exits non-zero unless both see a balance and a transaction event."""
import asyncio, json, os, sys, uuid
import requests, websockets

HUB = os.environ.get("TALLY_HUB", "127.0.0.1:8787")

def login(user):
    r = requests.post(f"http://{HUB}/v1/auth/login", json={"username": user, "password": "tally-demo"}, timeout=10)
    r.raise_for_status()
    return r.json()

async def main():
    alice, bob = login("alice"), login("bob")
    async with websockets.connect(f"ws://{HUB}/v1/ws") as a, websockets.connect(f"ws://{HUB}/v1/ws") as b:
        for ws, s in ((a, alice), (b, bob)):
            uid = s["user"]["id"]
            await ws.send(json.dumps({"type": "hello", "v": 1, "token": s["access_token"],
                "subscriptions": [{"channel": f"balance:{uid}"}, {"channel": f"transactions:{uid}"}]}))
        await a.send(json.dumps({"type": "transfer_create", "id": 1, "idempotency_key": str(uuid.uuid4()),
            "to": "bob", "amount": {"minor": 500, "currency": "USD"}, "memo": "from python"}))
        seen = {"alice": set(), "bob": set()}
        async def show(name, ws):
            while not {"balance", "transaction"} <= seen[name]:
                f = json.loads(await asyncio.wait_for(ws.recv(), 10))
                kind = f.get("data", {}).get("kind", "")
                print(name, f["type"], f.get("channel", ""), kind)
                if f["type"] == "event":
                    seen[name].add(kind)
        await asyncio.gather(show("alice", a), show("bob", b))
    print("1 passed, 0 failed")

asyncio.run(main())
