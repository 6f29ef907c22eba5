use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;

/// tally-hub: the Tally real-time wallet server. Every flag can also be set with a TALLY_* variable.
#[derive(Debug, Clone, Parser)]
#[command(name = "tally-hub", version, about)]
pub struct Config {
    /// Address to listen on. Anything but loopback needs --tls-cert/--tls-key, or --insecure-plaintext
    /// behind a proxy that terminates TLS.
    #[arg(long, env = "TALLY_BIND", default_value = "127.0.0.1:8787")]
    pub bind: SocketAddr,
    /// PEM file with the certificate chain to serve (https:// and wss://). Reloaded on SIGHUP.
    #[arg(long, env = "TALLY_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM file with the certificate's private key (PKCS#8, PKCS#1 or SEC1). Reloaded on SIGHUP.
    #[arg(long, env = "TALLY_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP on a non-loopback address: only behind a proxy that terminates TLS (name it with
    /// --trusted-proxy). Without it the hub refuses to start unencrypted on anything but loopback.
    #[arg(long, env = "TALLY_INSECURE_PLAINTEXT", default_value_t = false)]
    pub insecure_plaintext: bool,
    /// Address ranges of proxies whose X-Forwarded-For header is believed (e.g. 10.0.0.0/8,127.0.0.1/32).
    /// Requests from anywhere else are taken at their socket's address.
    #[arg(long, env = "TALLY_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxy: Vec<ipnet::IpNet>,
    /// Where /metrics is served (Prometheus text), apart from the public listener. Non-loopback follows
    /// the same TLS rule as --bind.
    #[arg(long, env = "TALLY_METRICS_BIND", default_value = "127.0.0.1:9787")]
    pub metrics_bind: SocketAddr,
    /// Also serve /metrics on the public listener to `Authorization: Bearer TOKEN`.
    #[arg(long, env = "TALLY_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Where the database, the JWT secret and the admin token live (created if missing).
    #[arg(long, env = "TALLY_DATA_DIR", default_value = "./tally-data")]
    pub data_dir: PathBuf,
    /// The database: unset for the embedded SQLite file in DATA_DIR (zero setup), or a PostgreSQL URL
    /// (`postgres://user@host:port/db`) shared by several hubs.
    #[arg(long, env = "TALLY_STORE", hide_env_values = true)]
    pub store: Option<String>,
    /// Redis between several hubs (`redis://host:port`): events committed on one hub reach the
    /// subscribers on every other, and revoked sessions close everywhere. Unset: this hub alone.
    #[arg(long, env = "TALLY_BROKER", hide_env_values = true)]
    pub broker: Option<String>,
    /// HS256 secret for access tokens. Default: generated once and kept in DATA_DIR/jwt.secret.
    #[arg(long, env = "TALLY_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// File holding the HS256 secret (alternative to --jwt-secret).
    #[arg(long, env = "TALLY_JWT_SECRET_FILE")]
    pub jwt_secret_file: Option<PathBuf>,
    /// Who may sign up in the `default` tenant: open, invite (single-use codes from
    /// POST /v1/admin/invites) or closed. Unset: closed for a new tenant (open with --demo), and an existing
    /// tenant keeps what an operator set. Other tenants: POST /v1/admin/tenants.
    #[arg(long, env = "TALLY_REGISTRATION", value_parser = registration())]
    pub registration: Option<crate::store::repo::Registration>,
    /// Serve the app's update feed from this directory at /updates/ (`latest.json` and the signed
    /// bundles it names; any static server does the same). Unset: no /updates/.
    #[arg(long, env = "TALLY_UPDATES_DIR")]
    pub updates_dir: Option<PathBuf>,
    /// Serve the operators' console (the built `ui/dist-console`) at /console/. Unset: no console; the
    /// admin API works without it.
    #[arg(long, env = "TALLY_CONSOLE_DIR")]
    pub console_dir: Option<PathBuf>,
    /// Where attachments are kept (content-addressed, one directory per tenant). Unset: DATA_DIR/blobs.
    /// Several hubs on one PostgreSQL database must share it (a network file system), see docs/SCALING.md.
    #[arg(long, env = "TALLY_BLOB_DIR")]
    pub blob_dir: Option<PathBuf>,
    /// The largest attachment, in bytes, for a tenant whose operator set no limit of its own.
    #[arg(long, env = "TALLY_ATTACHMENT_MAX_BYTES", default_value_t = tally_protocol::attachment::DEFAULT_MAX_ATTACHMENT_BYTES)]
    pub attachment_max_bytes: u64,
    /// How many bytes of attachments a tenant may keep, unless its operator set another quota.
    #[arg(long, env = "TALLY_ATTACHMENT_QUOTA_BYTES", default_value_t = 10 * 1024 * 1024 * 1024)]
    pub attachment_quota_bytes: u64,
    /// Seed a demo tenant (alice, bob, carol) and run a bot that pays and messages them.
    #[arg(long, env = "TALLY_DEMO", default_value_t = false)]
    pub demo: bool,
    /// Milliseconds between demo bot actions (0 disables the bot).
    #[arg(long, env = "TALLY_DEMO_BOT_MS", default_value_t = 12_000)]
    pub demo_bot_ms: u64,
    /// Origins allowed to open the WebSocket ("*" allows any). Requests without an Origin header
    /// (native clients) are always allowed.
    #[arg(
        long,
        env = "TALLY_ALLOWED_ORIGINS",
        value_delimiter = ',',
        default_value = "tauri://localhost,http://tauri.localhost,https://tauri.localhost,http://localhost:1420,http://127.0.0.1:1420"
    )]
    pub allowed_origins: Vec<String>,
    /// Access token lifetime in seconds.
    #[arg(long, env = "TALLY_ACCESS_TTL", default_value_t = 900)]
    pub access_ttl_secs: u64,
    /// A session not refreshed for this many seconds ends (its refresh token expires; default 14 days).
    #[arg(long, env = "TALLY_REFRESH_TTL", default_value_t = 14 * 24 * 3600)]
    pub refresh_ttl_secs: u64,
    /// No session lasts longer than this many seconds from its sign-in, however often it refreshes
    /// (default 30 days); then the device signs in again.
    #[arg(long, env = "TALLY_SESSION_MAX_AGE", default_value_t = 30 * 24 * 3600)]
    pub session_max_age_secs: u64,
    /// Seconds a just-rotated refresh token may be presented once more (its answer was lost) before reuse
    /// counts as theft and revokes the session.
    #[arg(long, env = "TALLY_REFRESH_GRACE", default_value_t = 30)]
    pub refresh_grace_secs: u64,
    /// Events kept per channel for recovery.
    #[arg(long, env = "TALLY_RETENTION_EVENTS", default_value_t = 10_000)]
    pub retention_events: u64,
    /// Maximum age of kept events, in seconds (default 7 days).
    #[arg(long, env = "TALLY_RETENTION_SECS", default_value_t = 7 * 24 * 3600)]
    pub retention_secs: u64,
    /// Heartbeat interval in milliseconds.
    #[arg(long, env = "TALLY_HEARTBEAT_MS", default_value_t = 15_000)]
    pub heartbeat_ms: u64,
    /// Milliseconds a new connection has to send `hello`.
    #[arg(long, env = "TALLY_AUTH_TIMEOUT_MS", default_value_t = 10_000)]
    pub auth_timeout_ms: u64,
    /// Largest accepted frame, bytes.
    #[arg(long, env = "TALLY_MAX_FRAME_BYTES", default_value_t = 64 * 1024)]
    pub max_frame_bytes: u32,
    #[arg(long, env = "TALLY_MAX_SUBSCRIPTIONS", default_value_t = 256)]
    pub max_subscriptions: u32,
    /// Sustained frames per second per connection.
    #[arg(long, env = "TALLY_RATE_PER_SEC", default_value_t = 50)]
    pub rate_per_sec: u32,
    #[arg(long, env = "TALLY_RATE_BURST", default_value_t = 100)]
    pub rate_burst: u32,
    /// Sustained frames per second per user, across all of the user's connections.
    #[arg(long, env = "TALLY_USER_RATE_PER_SEC", default_value_t = 100)]
    pub user_rate_per_sec: u32,
    /// Frames queued for one connection before it is dropped as a slow consumer.
    #[arg(long, env = "TALLY_OUT_QUEUE", default_value_t = 4096)]
    pub out_queue: usize,
    /// Milliseconds before a transfer left open (pending or processing: by an earlier version, or a job
    /// that failed) is finished; a new payment is posted in the job that accepts it.
    #[arg(long, env = "TALLY_TRANSFER_STEP_MS", default_value_t = 400)]
    pub transfer_step_ms: u64,
    /// Seconds a user stays "online" after the last connection closes.
    #[arg(long, env = "TALLY_PRESENCE_GRACE_SECS", default_value_t = 30)]
    pub presence_grace_secs: u64,
    /// Default single-transfer limit, in hundredths of a major unit, the same in every currency (500000:
    /// 5,000.00 USD, 5,000 JPY, 5,000.000 BHD).
    #[arg(long, env = "TALLY_LIMIT_SINGLE", default_value_t = 500_000)]
    pub limit_single: i64,
    /// Default daily transfer limit per currency, in hundredths of a major unit like --limit-single.
    #[arg(long, env = "TALLY_LIMIT_DAILY", default_value_t = 2_000_000)]
    pub limit_daily: i64,
    /// Failed logins per username (and per client address) within 5 minutes before logins are refused.
    #[arg(long, env = "TALLY_LOGIN_MAX_FAILURES", default_value_t = 5)]
    pub login_max_failures: u32,
    /// WebSocket connections one client address (an IPv6 /64) may hold open; 0: no cap.
    #[arg(long, env = "TALLY_MAX_CONNS_PER_ADDRESS", default_value_t = 512)]
    pub max_conns_per_address: u32,
    /// Of those, how many may be waiting to say `hello`; 0: no cap.
    #[arg(long, env = "TALLY_MAX_UNAUTHENTICATED_PER_ADDRESS", default_value_t = 64)]
    pub max_unauthenticated_per_address: u32,
    /// Password hashes and checks (argon2, 19 MiB each) run at once at most; 0: one per core.
    #[arg(long, env = "TALLY_PASSWORD_WORK_PARALLEL", default_value_t = 0)]
    pub password_work_parallel: usize,
    /// Password hashes and checks waiting for their turn before more are answered 429 with Retry-After.
    #[arg(long, env = "TALLY_PASSWORD_WORK_QUEUE", default_value_t = 32)]
    pub password_work_queue: usize,
    /// On SIGTERM: /readyz answers 503 at once, every socket is told to reconnect elsewhere and closed
    /// with 1012, and the process exits when they all are, or after this many seconds at most.
    #[arg(long, env = "TALLY_DRAIN_SECS", default_value_t = 10)]
    pub drain_secs: u64,
}

impl Config {
    /// The database this configuration names.
    pub fn backend(&self) -> crate::store::Backend {
        match &self.store {
            Some(url) => crate::store::Backend::Postgres(url.clone()),
            None => crate::store::Backend::Sqlite(self.data_dir.join("hub.db")),
        }
    }

    /// Where attachments are kept.
    pub fn blob_dir(&self) -> PathBuf {
        self.blob_dir.clone().unwrap_or_else(|| self.data_dir.join("blobs"))
    }

    /// A configuration for tests and embedding: loopback on free ports, everything else default.
    pub fn for_dir(data_dir: impl Into<PathBuf>) -> Self {
        let mut c = Config::parse_from(["tally-hub"]);
        c.bind = "127.0.0.1:0".parse().expect("static address");
        c.metrics_bind = "127.0.0.1:0".parse().expect("static address");
        c.data_dir = data_dir.into();
        c.demo_bot_ms = 0;
        c
    }
}

/// `--registration`: one of the protocol's names, listed in `--help` and in the error for any other.
fn registration() -> impl clap::builder::TypedValueParser<Value = crate::store::repo::Registration> {
    use clap::builder::TypedValueParser;
    let names = crate::store::repo::Registration::ALL.map(|r| r.as_str());
    clap::builder::PossibleValuesParser::new(names).try_map(|s| s.parse::<crate::store::repo::Registration>())
}
