use clap::Parser;
use tally_hub::Config;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_env("TALLY_LOG").unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
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
