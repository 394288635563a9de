//! `ringhook-local`: see the library for what it runs.

fn main() -> anyhow::Result<()> {
    ringhook_local::main_entry()
}
