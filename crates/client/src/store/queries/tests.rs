//! Tests of what the UI reads.
use super::export::csv_field;
use super::*;
use crate::store::Store;

#[test]
fn iso_dates() {
    assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
    assert_eq!(iso8601(1_763_860_000_000), "2025-11-23T01:06:40Z");
    assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00Z");
}

#[test]
fn csv_amounts_are_decimals_in_each_currencys_digits_with_the_balance_after() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("c.db"), 1).unwrap();
    let bob = UserSummary { id: 2, username: "bob".into(), display_name: "Bob, \"the\" Builder".into() };
    let tx = |id, kind, direction, minor, cur: &str, after, memo: &str| Transaction {
        id,
        kind,
        direction,
        amount: Money::new(minor, Currency::parse(cur).unwrap()),
        balance_after: after,
        counterparty: Some(bob.clone()),
        memo: memo.into(),
        transfer_id: None,
        status: TransferStatus::Completed,
        created_at: 1_763_860_000_000 + id,
    };
    s.upsert_transactions(&[
        tx(1, TxKind::Deposit, Direction::In, 250_000, "USD", 250_000, "Salary"),
        tx(2, TxKind::TransferOut, Direction::Out, 1_234, "USD", 248_766, "Pizza, \"large\""),
        tx(3, TxKind::TransferIn, Direction::In, 5_000, "JPY", 5_000, "ramen"),
        tx(4, TxKind::TransferOut, Direction::Out, 1_250, "BHD", 8_750, "tea"),
    ])
    .unwrap();
    let csv = s.export_csv(&TxFilter::default()).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,date_utc,type,direction,counterparty,memo,amount,currency,status,balance_after");
    assert_eq!(lines[1], "4,2025-11-23T01:06:40Z,transfer_out,out,\"bob\",\"tea\",-1.250,BHD,completed,8.750");
    assert_eq!(lines[2], "3,2025-11-23T01:06:40Z,transfer_in,in,\"bob\",\"ramen\",5000,JPY,completed,5000");
    assert_eq!(
        lines[3],
        "2,2025-11-23T01:06:40Z,transfer_out,out,\"bob\",\"Pizza, \"\"large\"\"\",-12.34,USD,completed,2487.66"
    );
    assert_eq!(lines[4], "1,2025-11-23T01:06:40Z,deposit,in,\"bob\",\"Salary\",2500.00,USD,completed,2500.00");
    // The filtered range only.
    let usd = s.export_csv(&TxFilter { currency: Some("JPY".into()), ..Default::default() }).unwrap();
    assert_eq!(usd.lines().count(), 2);
}

#[test]
fn search_text_never_becomes_fts_syntax() {
    assert_eq!(fts_query("pizza NEAR\"x"), Some("\"pizza\"* \"NEAR\"* \"x\"*".into()));
    assert_eq!(fts_query("  ** ( "), None);
}

#[test]
fn search_returns_the_newest_matches_of_each_kind() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("c.db"), 1).unwrap();
    let bob = UserSummary { id: 2, username: "bob".into(), display_name: "Bob Brown".into() };
    let txs: Vec<Transaction> = (1..=50)
        .map(|id| Transaction {
            id,
            kind: TxKind::TransferIn,
            direction: Direction::In,
            amount: Money::new(100, Currency::USD),
            balance_after: id,
            counterparty: (id % 2 == 0).then(|| bob.clone()),
            memo: if id % 5 == 0 { format!("coffee {id}") } else { format!("pizza night {id}") },
            transfer_id: None,
            status: TransferStatus::Completed,
            created_at: 1_000 + id,
        })
        .collect();
    s.upsert_transactions(&txs).unwrap();
    let events: Vec<Event> = (1..=40u64)
        .map(|i| Event {
            channel: Channel::Room(1),
            epoch: "e".into(),
            seq: i,
            ts: i as i64,
            data: EventData::Message {
                message: Message {
                    id: i as i64,
                    room: 1,
                    seq: i,
                    client_msg_id: format!("c{i}"),
                    sender: bob.clone(),
                    text: if i % 4 == 0 { format!("rent {i}") } else { format!("pizzas for {i}") },
                    mentions: vec![],
                    sent_at: i as i64,
                    edited_at: None,
                    deleted: false,
                    reactions: vec![],
                    card: None,
                    attachment: None,
                },
            },
        })
        .collect();
    s.upsert_messages(&events).unwrap();

    let r = s.search("piz").unwrap();
    let ids: Vec<i64> = r.transactions.iter().map(|t| t.tx.id).collect();
    let want: Vec<i64> = (1..=50).rev().filter(|i| i % 5 != 0).take(20).collect();
    assert_eq!(ids, want);
    let ids: Vec<i64> = r.messages.iter().map(|m| m.message.id).collect();
    let want: Vec<i64> = (1..=40).rev().filter(|i| i % 4 != 0).take(20).collect();
    assert_eq!(ids, want);
    // All terms must match (memo or counterparty); fewer matches than the limit come back whole.
    let r = s.search("coffee bob").unwrap();
    assert_eq!(r.transactions.iter().map(|t| t.tx.id).collect::<Vec<_>>(), vec![50, 40, 30, 20, 10]);
    assert!(r.messages.is_empty());
    let r = s.search("rent 3").unwrap();
    assert_eq!(r.messages.iter().map(|m| m.message.id).collect::<Vec<_>>(), vec![36, 32]);
    assert!(s.search("nothing").unwrap().transactions.is_empty());
    // One room's own search: its messages only, newest first.
    let hits: Vec<i64> = s.search_room(1, "rent").unwrap().iter().map(|m| m.message.id).collect();
    assert_eq!(hits, (1..=40).rev().filter(|i| i % 4 == 0).collect::<Vec<_>>());
    assert!(s.search_room(2, "rent").unwrap().is_empty(), "another room has none of them");
    assert!(s.search_room(1, " ** ").unwrap().is_empty());
}

#[test]
fn csv_fields_are_quoted_and_defused() {
    assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
    assert_eq!(csv_field("=SUM(A1)"), "\"'=SUM(A1)\"");
    assert_eq!(csv_field("\t=1+1"), "\"'\t=1+1\"", "a leading TAB");
    assert_eq!(csv_field("\r=1+1"), "\"'\r=1+1\"", "a leading CR");
    assert_eq!(csv_field("lunch"), "\"lunch\"");
}

/// A cached row this build cannot read is an error naming what, never a guessed value (a deposit, USD).
#[test]
fn unreadable_cached_rows_are_errors_not_guesses() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("c.db"), 1).unwrap();
    s.writer()
        .execute(
            "INSERT INTO transactions (id, kind, direction, amount, currency, balance_after, memo, status, created_at)
             VALUES (1, 'teleport', 'in', 100, 'USD', 100, '', 'completed', 1)",
            [],
        )
        .unwrap();
    let e = s.transactions(&TxFilter::default(), None, 10).unwrap_err();
    assert!(e.to_string().contains("transaction kind"), "{e}");
    s.writer().execute("UPDATE transactions SET kind = 'deposit', currency = 'XYZ' WHERE id = 1", []).unwrap();
    assert!(s.transactions(&TxFilter::default(), None, 10).unwrap_err().to_string().contains("currency"));
    s.writer()
        .execute(
            "INSERT INTO balances (currency, available, pending, as_of, confirmed_at) VALUES ('ZZZ', 1, 0, 1, 1)",
            [],
        )
        .unwrap();
    assert!(s.balances().unwrap_err().to_string().contains("currency"));
    s.writer().execute("INSERT INTO contacts (id, json) VALUES (1, '{not json')", []).unwrap();
    assert!(s.contacts().unwrap_err().to_string().contains("contact"));
    s.writer()
        .execute(
            "INSERT INTO transfers (key, id, json, status, local_state, updated_at) VALUES ('k', 5, '{}', 'pending', 'sent', 1)",
            [],
        )
        .unwrap();
    assert!(s.transfers_open().unwrap_err().to_string().contains("transfer"));
    assert!(s.transfer_by_key("k").unwrap_err().to_string().contains("transfer"));
}

/// A member who leaves is no admin any more in the cached room (a group made before roles had several).
#[test]
fn an_admin_who_leaves_is_no_admin_any_more() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("c.db"), 1).unwrap();
    let u = |id: i64, n: &str| UserSummary { id, username: n.into(), display_name: n.into() };
    let room = Room {
        id: 7,
        kind: RoomKind::Group,
        name: "Trip".into(),
        created_at: 1,
        members: vec![u(1, "amy"), u(2, "bea"), u(3, "cai")],
        admins: vec![1, 2],
        muted: false,
        pinned: false,
    };
    s.upsert_room(&room).unwrap();
    let left = Event {
        channel: Channel::Room(7),
        epoch: "e".into(),
        seq: 1,
        ts: 2,
        data: EventData::Member { user: u(2, "bea"), change: MemberChange::Left },
    };
    s.apply_events(&Channel::Room(7), &[left]).unwrap();
    let cached = s.room(7).unwrap().unwrap();
    assert_eq!(cached.admins, vec![1]);
    assert_eq!(cached.members.len(), 2);
}
