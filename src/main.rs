//! Web entry point of α-CL Lab (built by trunk for wasm32 with `--features app`).

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "alphacl-web is the browser build: run `scripts/serve.sh`. For native use, see `alphacl --help`."
    );
}

#[cfg(target_arch = "wasm32")]
fn main() {
    alphacl::app::web::start();
}
