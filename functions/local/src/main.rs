//! `ringhook-local`: see the library for what it runs.

// glibc's malloc spent a quarter of the runner's CPU under load (many small JSON values freed
// on other threads than allocated them); mimalloc's thread-local free lists cut that down.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    ringhook_local::main_entry()
}
