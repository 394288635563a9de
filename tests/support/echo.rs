//! `ringhook-echo`: a webhook receiver for trying Ringhook by hand. Prints every request it
//! gets (method, path, headers, body) and answers 200.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use clap::Parser;

#[derive(Parser)]
#[command(about = "Prints every webhook it receives and answers 200")]
struct Opts {
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: std::net::SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let opts = Opts::parse();
    let app = axum::Router::new().fallback(|method: Method, uri: Uri, headers: HeaderMap, body: Bytes| async move {
        println!("--- {method} {uri}");
        for (k, v) in &headers {
            println!("{k}: {}", v.to_str().unwrap_or("<binary>"));
        }
        println!("\n{}\n", String::from_utf8_lossy(&body));
        "ok"
    });
    let listener = tokio::net::TcpListener::bind(opts.listen).await?;
    println!("ringhook-echo listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
