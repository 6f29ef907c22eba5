//! Access tokens: JWT HS256 with the user, tenant, session and enrolment claims, issued and verified with
//! the hub's secret.
use crate::error::{HubError, HubResult};
use crate::ids::TenantId;
use crate::store::now_ms;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tally_protocol::{ErrorCode, UserId};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: i64,
    /// Tenant id.
    pub tid: TenantId,
    /// Session id (refresh-token family).
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    /// The tenant requires two-factor and this user has not turned it on: the session may read and may
    /// enrol, but moves no money and writes to no one until it has (the claim is settled at every issue,
    /// so it clears at the first refresh after enrolment and appears at the first after a reset).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enrol: bool,
}

pub struct Keys {
    enc: EncodingKey,
    dec: DecodingKey,
    pub access_ttl_secs: u64,
    pub refresh_ttl_secs: u64,
}

impl Keys {
    pub fn new(secret: &[u8], access_ttl_secs: u64, refresh_ttl_secs: u64) -> Self {
        Keys {
            enc: EncodingKey::from_secret(secret),
            dec: DecodingKey::from_secret(secret),
            access_ttl_secs,
            refresh_ttl_secs,
        }
    }

    pub fn issue(&self, user: UserId, tenant: TenantId, sid: &str, enrol: bool) -> HubResult<String> {
        // `exp` has whole seconds: round up, so the token lives at least the `expires_in` it is issued with
        // (a client renews at ~80 % of that; rounding down would cut up to a second off).
        let now = now_ms();
        let claims = Claims {
            sub: user,
            tid: tenant,
            sid: sid.to_string(),
            iat: now / 1000,
            exp: (now + 999) / 1000 + self.access_ttl_secs as i64,
            enrol,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.enc).map_err(HubError::internal)
    }

    /// Verifies signature (HS256 only: `alg: none` and every other algorithm is refused) and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, ErrorCode> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 0;
        v.set_required_spec_claims(&["exp"]);
        match decode::<Claims>(token, &self.dec, &v) {
            Ok(d) => Ok(d.claims),
            Err(e) => match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => Err(ErrorCode::TokenExpired),
                _ => Err(ErrorCode::Unauthorized),
            },
        }
    }
}
