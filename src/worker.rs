//! The training worker of α-CL Lab: one per run, started by the page (see `engine::worker`).

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("alphacl-worker runs inside the browser app (scripts/serve.sh).");
}

#[cfg(target_arch = "wasm32")]
fn main() {
    alphacl::engine::worker::start();
}
