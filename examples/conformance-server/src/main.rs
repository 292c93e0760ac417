//! The MCP conformance suite's fixture server, written with the public API of `mcp-transport`.
//!
//! `cargo run --release -p conformance-server -- --port 3300` serves
//! `http://127.0.0.1:3300/mcp`; `--stateless` serves without sessions, `--sse` answers every
//! POST with an SSE stream. Stops on SIGTERM/SIGINT.

mod fixtures;
mod modern;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use clap::Parser;
use mcp_transport::{HttpServer, ResponseMode, Transport, TransportConfig};

/// MCP conformance fixture server.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, short, default_value_t = 3300)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// No sessions: POST only.
    #[arg(long)]
    stateless: bool,
    /// Answer every POST with an SSE stream.
    #[arg(long)]
    sse: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let server = match fixtures::server() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: invalid fixture definition: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = TransportConfig::new()
        .stateless(args.stateless)
        .response_mode(if args.sse {
            ResponseMode::Sse
        } else {
            ResponseMode::Json
        })
        // DNS rebinding protection: loopback Host names only.
        .allowed_hosts(Vec::<String>::new());
    let transport = Transport::new(server, config);
    let _ = modern::TRANSPORT.set(transport.clone());
    let bound = match HttpServer::new(transport)
        .bind(SocketAddr::new(args.host, args.port))
        .await
    {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "conformance-server listening on http://{}/mcp",
        bound.local_addr()
    );
    bound.serve().await;
    ExitCode::SUCCESS
}
