//! The local runner, built by the tests crate so end-to-end tests always run this checkout.

fn main() -> anyhow::Result<()> {
    ringhook_local::main_entry()
}
