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
        "tally-hub listening on http://{}  (admin token in {})",
        running.addr,
        cfg.data_dir.join("admin.token").display()
    );
    if cfg.demo {
        println!("demo users: alice, bob, carol — password {}", tally_hub::demo::PASSWORD);
    }
    wait_for_signal().await;
    tracing::info!("shutting down: telling clients to reconnect");
    running.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
