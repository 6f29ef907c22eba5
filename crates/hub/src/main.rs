use clap::Parser;
use tally_hub::Config;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_env("TALLY_LOG").unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    if std::env::args().nth(1).as_deref() == Some("audit") {
        return audit_command(AuditCli::parse_from(std::env::args().skip(1))).await;
    }
    let cfg = Config::parse();
    let running = tally_hub::start(cfg.clone()).await.map_err(|e| anyhow::anyhow!("{}", e.message))?;
    println!(
        "tally-hub listening on {}  (metrics on {}, admin token in {})",
        running.base_url(),
        running.metrics_url(),
        cfg.data_dir.join("admin.token").display()
    );
    if cfg.demo {
        println!("demo users: alice, bob, carol — password {}", tally_hub::demo::PASSWORD);
    }
    wait_for_signal(&running).await;
    tracing::info!("shutting down: telling clients to reconnect");
    running.shutdown().await;
    Ok(())
}

/// `tally-hub audit …`: the audit trail, offline.
#[derive(Debug, clap::Parser)]
#[command(name = "tally-hub audit")]
struct AuditCli {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// Checks every entry's hash and its link to the one before: exit 0 when the trail is whole, 1 with
    /// the first broken entry otherwise.
    Verify {
        /// The hub's data directory (its SQLite database, hub.db).
        #[arg(long, env = "TALLY_DATA_DIR", default_value = "./tally-data")]
        data_dir: std::path::PathBuf,
        /// A PostgreSQL URL instead (the multi-hub deployment's database).
        #[arg(long, env = "TALLY_STORE")]
        store: Option<String>,
    },
}

async fn audit_command(cli: AuditCli) -> anyhow::Result<()> {
    let AuditCommand::Verify { data_dir, store } = cli.command;
    let backend = match store {
        Some(url) => tally_hub::store::Backend::Postgres(url),
        None => tally_hub::store::Backend::Sqlite(data_dir.join("hub.db")),
    };
    match tally_hub::audit::verify_store(&backend).await.map_err(|e| anyhow::anyhow!("{}", e.message))? {
        Ok(n) => {
            println!("the audit trail is whole: {n} entries, every hash and link checked");
            Ok(())
        }
        Err(broken) => {
            eprintln!("{broken}");
            std::process::exit(1);
        }
    }
}

/// Waits for SIGTERM or Ctrl-C; SIGHUP on the way reloads the TLS certificate.
async fn wait_for_signal(running: &tally_hub::Running) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut hup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        loop {
            tokio::select! {
                _ = term.recv() => return,
                _ = tokio::signal::ctrl_c() => return,
                _ = hup.recv() => {
                    if let Err(e) = running.reload_tls() {
                        tracing::error!(error = %e.message, "SIGHUP: TLS reload failed; still serving the old certificate");
                    }
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = running;
        let _ = tokio::signal::ctrl_c().await;
    }
}
