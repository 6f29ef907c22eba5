//! Every ```json http:Type example in docs/PROTOCOL.md must parse as the HTTP body type it names, and
//! nothing it says may be lost when the type writes it back; every body type in `tally_protocol::http`
//! needs an example.
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;
use tally_protocol::http::*;
use tally_protocol::live::{LiveFrame, LiveRequest};

/// (type name, example) for every ```json http:Type block.
fn examples() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/PROTOCOL.md")).unwrap();
    let mut out = Vec::new();
    let mut cur: Option<(String, String)> = None;
    for line in doc.lines() {
        match &mut cur {
            None => {
                if let Some(name) = line.trim().strip_prefix("```json http:") {
                    cur = Some((name.to_string(), String::new()));
                }
            }
            Some(_) if line.trim() == "```" => out.extend(cur.take()),
            Some((_, buf)) => {
                buf.push_str(line);
                buf.push('\n');
            }
        }
    }
    out
}

/// Every field of `original` is in `written`, with the same value (recursively); `written` may add the
/// defaults the example left out.
fn kept(original: &Value, written: &Value) -> Result<(), String> {
    match (original, written) {
        (Value::Object(a), Value::Object(b)) => a.iter().try_for_each(|(k, v)| match b.get(k) {
            Some(w) => kept(v, w).map_err(|e| format!("{k}.{e}")),
            None => Err(format!("{k}: dropped")),
        }),
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            a.iter().zip(b).enumerate().try_for_each(|(i, (v, w))| kept(v, w).map_err(|e| format!("[{i}]{e}")))
        }
        (a, b) if a == b => Ok(()),
        (a, b) => Err(format!(" {a} became {b}")),
    }
}

fn check<T: Serialize + DeserializeOwned>(name: &str, example: &str) {
    let parsed: T = serde_json::from_str(example).unwrap_or_else(|e| panic!("{name}: {e}\n{example}"));
    let original: Value = serde_json::from_str(example).unwrap();
    let written = serde_json::to_value(&parsed).unwrap();
    if let Err(e) = kept(&original, &written) {
        panic!("{name} loses part of its example: {e}\n{example}");
    }
}

macro_rules! types {
    ($($t:ident),* $(,)?) => {
        fn check_by_name(name: &str, example: &str) -> bool {
            match name {
                $(stringify!($t) => { check::<$t>(name, example); true })*
                _ => false,
            }
        }
        const ALL: &[&str] = &[$(stringify!($t)),*];
    };
}

types!(
    ErrorBody,
    DeviceInfo,
    SignUpRequest,
    SignInRequest,
    RefreshRequest,
    TokenResponse,
    RegistrationInfo,
    DemoInfo,
    DeviceSession,
    SessionList,
    SessionRef,
    Revoked,
    PasswordChange,
    SignedOut,
    TwoFactorStatus,
    Proof,
    TwoFactorSetup,
    CodeRequest,
    RecoveryCodes,
    TenantRequest,
    TenantInfo,
    InvitesRequest,
    InviteCodes,
    PasswordReset,
    ActiveRequest,
    ActiveChanged,
    UserRef,
    MoneyRequest,
    MoneyMoved,
    DepositsRequest,
    DepositsMade,
    BroadcastRequest,
    Done,
    InvariantsReport,
    AuditEntry,
    AuditPage,
    OperatorRequest,
    OperatorCreated,
    OperatorSignIn,
    OperatorSession,
    KycRequest,
    KycChanged,
    KycLimitsRequest,
    UserLimitsRequest,
    WithdrawalDecision,
    ComplianceRules,
    AdjustmentRequest,
    UserSearch,
    UserDetail,
    ReviewDecision,
    ReviewsPage,
    HeldTransfer,
    DepositInfo,
    DepositInstructionsRequest,
    WithdrawalsPage,
    NewUser,
    UsersRequest,
    UsersCreated,
    TokensRequest,
    AccessToken,
    AccessTokens,
    RoomRequest,
    RoomCreated,
    PublishItem,
    PublishRequest,
    PublishCount,
    Uploaded,
    AttachmentLimitsRequest,
    AttachmentLimits,
    LiveRequest,
    LiveFrame,
);

#[test]
fn http_examples_parse_as_their_types_and_cover_every_body() {
    let mut seen = BTreeSet::new();
    for (name, example) in examples() {
        assert!(check_by_name(&name, &example), "PROTOCOL.md names an unknown HTTP body type `{name}`");
        seen.insert(name);
    }
    let all: BTreeSet<String> = ALL.iter().map(|s| s.to_string()).collect();
    assert_eq!(seen, all, "every HTTP body type needs a ```json http:Type example in PROTOCOL.md");
}

#[test]
fn an_example_that_drops_or_mistypes_a_field_fails() {
    let lost = std::panic::catch_unwind(|| check::<SessionRef>("SessionRef", r#"{"id":"f","extra":1}"#));
    assert!(lost.is_err(), "an unknown field is lost on the way back, so the example is wrong");
    let bad = std::panic::catch_unwind(|| check::<Revoked>("Revoked", r#"{"revoked":"two"}"#));
    assert!(bad.is_err());
}

#[test]
fn registration_names_round_trip() {
    for r in Registration::ALL {
        assert_eq!(r.as_str().parse::<Registration>().unwrap(), r);
        assert_eq!(serde_json::to_value(r).unwrap(), Value::String(r.as_str().into()));
    }
    assert!("public".parse::<Registration>().is_err());
}
